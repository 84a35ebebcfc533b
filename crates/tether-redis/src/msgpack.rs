//! Reads msgpack as notepack.io 3.0.1 (Node's Redis adapter and emitter) decodes it, into plain
//! msgpack values that hold what JavaScript would then see.
//!
//! A generic decoder cannot do this: notepack gives an extension a meaning by the *marker* it
//! came in, which a decoded value no longer knows (`d7 00` is notepack 2's Date, `c7 08 00` an
//! ArrayBuffer of eight bytes; both are an 8-byte extension of type 0). So the extensions are
//! settled here, once, as notepack settles them:
//!
//! | bytes | notepack 3 | here |
//! |---|---|---|
//! | `d6 ff`, `d7 ff`, `c7 0c ff` (timestamp 32, 64, 96) | a `Date` | its ISO string, or nil for an invalid Date |
//! | `d7 00` + 8 bytes (notepack 2: big-endian ms) | a `Date` | the same |
//! | `c7`/`c8`/`c9` of type 0 (notepack 2) | an `ArrayBuffer` | a bin |
//! | `d4 00` + 1 byte (notepack 2) | `undefined` | nil in an array or alone; in a map, no entry (as `JSON.stringify` drops it) |
//! | any other extension | `[type, Buffer]` | an array of the type and a bin |
//! | `c7` of type -1 that is not 12 bytes | reads 12 bytes anyway and loses its place | refused |
//!
//! A Date is invalid, as in JavaScript, past ±8.64e15 ms; its time is computed in the same
//! float64 steps as notepack's and then truncated, so a fraction of a millisecond falls the same
//! way. The values this returns hold no extension, and strings are UTF-8 (invalid bytes are
//! replaced, as Node's `Buffer.toString` does).
//!
//! Input comes from the network: every length is checked against the bytes left, a list
//! reserves room only for what it holds (a few elements ahead), and nesting deeper than
//! [`MAX_DEPTH`] is refused.
//!
//! ```
//! use tether_redis::msgpack::read;
//! // [d7 00 <i64 ms>]: a Date as socket.io-redis 5 and 6 (notepack 2) write it.
//! let bytes = [0x91, 0xd7, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b];
//! let value = read(&bytes).expect("one value");
//! assert_eq!(value, rmpv::Value::Array(vec!["2023-11-14T22:13:20.123Z".into()]));
//! ```

use rmp::Marker;
use rmpv::Value;
use tether_core::adapter::js_iso_string;

/// Why bytes are not one msgpack value this reader takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReadError(String);

/// How deep a message may nest (arrays and maps): past it, the message is refused.
pub const MAX_DEPTH: usize = 256;

/// Elements an array or map reserves room for ahead of reading them. A declared length is only
/// bounded by the bytes left, and each of [`MAX_DEPTH`] nested arrays could declare nearly all
/// of them: reserving it all would make a message of N bytes ask for 256 × N values at once.
/// Past this, a list grows with what it really holds.
const PREALLOCATE: usize = 64;

/// JavaScript's largest valid Date, in ms either side of the epoch.
const MAX_DATE_MS: f64 = 8.64e15;

/// Reads one msgpack value that is the whole input, nested at most [`MAX_DEPTH`].
pub fn read(bytes: &[u8]) -> Result<Value, ReadError> {
    let mut reader = Reader { rest: bytes };
    let value = reader.value(0)?.unwrap_or(Value::Nil);
    if !reader.rest.is_empty() {
        return Err(ReadError(format!(
            "{} bytes after the value",
            reader.rest.len()
        )));
    }
    Ok(value)
}

struct Reader<'a> {
    rest: &'a [u8],
}

fn short() -> ReadError {
    ReadError("the message ends inside a value".to_owned())
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ReadError> {
        if self.rest.len() < n {
            return Err(short());
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ReadError> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, ReadError> {
        Ok(self.array::<1>()?[0])
    }

    fn len(&mut self, width: usize) -> Result<usize, ReadError> {
        let n = match width {
            1 => u32::from(self.u8()?),
            2 => u32::from(u16::from_be_bytes(self.array()?)),
            _ => u32::from_be_bytes(self.array()?),
        };
        usize::try_from(n).map_err(|_| short())
    }

    /// The next value; `None` for notepack 2's `undefined`, which the caller places.
    fn value(&mut self, depth: usize) -> Result<Option<Value>, ReadError> {
        let marker = Marker::from_u8(self.u8()?);
        let value = match marker {
            Marker::FixPos(n) => Value::from(n),
            Marker::FixNeg(n) => Value::from(n),
            Marker::Null => Value::Nil,
            Marker::False => Value::Boolean(false),
            Marker::True => Value::Boolean(true),
            Marker::U8 => Value::from(self.u8()?),
            Marker::U16 => Value::from(u16::from_be_bytes(self.array()?)),
            Marker::U32 => Value::from(u32::from_be_bytes(self.array()?)),
            Marker::U64 => Value::from(u64::from_be_bytes(self.array()?)),
            Marker::I8 => Value::from(i8::from_be_bytes(self.array()?)),
            Marker::I16 => Value::from(i16::from_be_bytes(self.array()?)),
            Marker::I32 => Value::from(i32::from_be_bytes(self.array()?)),
            Marker::I64 => Value::from(i64::from_be_bytes(self.array()?)),
            Marker::F32 => Value::F32(f32::from_be_bytes(self.array()?)),
            Marker::F64 => Value::F64(f64::from_be_bytes(self.array()?)),
            Marker::FixStr(n) => self.str(usize::from(n))?,
            Marker::Str8 => self.sized(1, Self::str)?,
            Marker::Str16 => self.sized(2, Self::str)?,
            Marker::Str32 => self.sized(4, Self::str)?,
            Marker::Bin8 => self.sized(1, Self::bin)?,
            Marker::Bin16 => self.sized(2, Self::bin)?,
            Marker::Bin32 => self.sized(4, Self::bin)?,
            Marker::FixArray(n) => self.list(usize::from(n), depth)?,
            Marker::Array16 => {
                let n = self.len(2)?;
                self.list(n, depth)?
            }
            Marker::Array32 => {
                let n = self.len(4)?;
                self.list(n, depth)?
            }
            Marker::FixMap(n) => self.map(usize::from(n), depth)?,
            Marker::Map16 => {
                let n = self.len(2)?;
                self.map(n, depth)?
            }
            Marker::Map32 => {
                let n = self.len(4)?;
                self.map(n, depth)?
            }
            Marker::FixExt1 => return self.fixext(1),
            Marker::FixExt2 => return self.fixext(2),
            Marker::FixExt4 => return self.fixext(4),
            Marker::FixExt8 => return self.fixext(8),
            Marker::FixExt16 => return self.fixext(16),
            Marker::Ext8 => return self.ext(1),
            Marker::Ext16 => return self.ext(2),
            Marker::Ext32 => return self.ext(4),
            Marker::Reserved => {
                return Err(ReadError("the reserved marker 0xc1".to_owned()));
            }
        };
        Ok(Some(value))
    }

    fn sized(
        &mut self,
        width: usize,
        read: fn(&mut Self, usize) -> Result<Value, ReadError>,
    ) -> Result<Value, ReadError> {
        let n = self.len(width)?;
        read(self, n)
    }

    fn str(&mut self, n: usize) -> Result<Value, ReadError> {
        Ok(Value::from(
            String::from_utf8_lossy(self.take(n)?).into_owned(),
        ))
    }

    fn bin(&mut self, n: usize) -> Result<Value, ReadError> {
        Ok(Value::Binary(self.take(n)?.to_vec()))
    }

    fn nested(depth: usize) -> Result<usize, ReadError> {
        if depth >= MAX_DEPTH {
            return Err(ReadError(format!("nested deeper than {MAX_DEPTH}")));
        }
        Ok(depth + 1)
    }

    fn list(&mut self, n: usize, depth: usize) -> Result<Value, ReadError> {
        let depth = Self::nested(depth)?;
        // Each element takes at least a byte: a length past the input is refused.
        if n > self.rest.len() {
            return Err(short());
        }
        let mut items = Vec::with_capacity(n.min(PREALLOCATE));
        for _ in 0..n {
            // `[undefined]` is `[null]` to JSON.stringify.
            items.push(self.value(depth)?.unwrap_or(Value::Nil));
        }
        Ok(Value::Array(items))
    }

    fn map(&mut self, n: usize, depth: usize) -> Result<Value, ReadError> {
        let depth = Self::nested(depth)?;
        if n > self.rest.len() / 2 {
            return Err(short());
        }
        let mut entries = Vec::with_capacity(n.min(PREALLOCATE));
        for _ in 0..n {
            // A JavaScript object's key is a string: `undefined` is "undefined".
            let key = self
                .value(depth)?
                .unwrap_or_else(|| Value::from("undefined"));
            // An entry whose value is `undefined` is one JSON.stringify leaves out.
            if let Some(value) = self.value(depth)? {
                entries.push((key, value));
            }
        }
        Ok(Value::Map(entries))
    }

    /// `d4`..`d8`: a type byte, then 1, 2, 4, 8 or 16 bytes.
    fn fixext(&mut self, n: usize) -> Result<Option<Value>, ReadError> {
        let kind = i8::from_be_bytes(self.array()?);
        let data = self.take(n)?;
        Ok(match (kind, n) {
            (0, 1) => None,
            (-1, 4) => Some(date(f64::from(u32::from_be_bytes(to_array(data))) * 1e3)),
            (-1, 8) => {
                let hi = u32::from_be_bytes(to_array(&data[..4]));
                let lo = u32::from_be_bytes(to_array(&data[4..]));
                let secs = f64::from(hi & 0x3) * 4_294_967_296.0 + f64::from(lo);
                Some(date(secs * 1e3 + f64::from(hi >> 2) / 1e6))
            }
            (0, 8) => {
                let hi = f64::from(i32::from_be_bytes(to_array(&data[..4]))) * 4_294_967_296.0;
                let lo = f64::from(u32::from_be_bytes(to_array(&data[4..])));
                Some(date(hi + lo))
            }
            _ => Some(tagged(kind, data)),
        })
    }

    /// `c7`, `c8`, `c9`: a length of 1, 2 or 4 bytes, a type byte, then the data.
    fn ext(&mut self, width: usize) -> Result<Option<Value>, ReadError> {
        let n = self.len(width)?;
        let kind = i8::from_be_bytes(self.array()?);
        // Only ext 8 carries the 96-bit timestamp to notepack; ext 16 and 32 of type -1 are
        // `[type, Buffer]` like any other.
        if width == 1 && kind == -1 {
            if n != 12 {
                return Err(ReadError(format!("a timestamp of {n} bytes")));
            }
            let data = self.take(12)?;
            let ns = f64::from(u32::from_be_bytes(to_array(&data[..4])));
            let hi = f64::from(i32::from_be_bytes(to_array(&data[4..8])));
            let lo = f64::from(u32::from_be_bytes(to_array(&data[8..])));
            return Ok(Some(date((hi * 4_294_967_296.0 + lo) * 1e3 + ns / 1e6)));
        }
        let data = self.take(n)?;
        Ok(Some(match kind {
            0 => Value::Binary(data.to_vec()),
            _ => tagged(kind, data),
        }))
    }
}

fn to_array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

/// notepack's `[type, Buffer]` for an extension it has no meaning for.
fn tagged(kind: i8, data: &[u8]) -> Value {
    Value::Array(vec![Value::from(kind), Value::Binary(data.to_vec())])
}

/// A `Date` of `ms` as JSON.stringify writes it: its ISO string, or nil if it is invalid
/// (JavaScript's TimeClip: finite, within ±8.64e15, then truncated toward zero).
fn date(ms: f64) -> Value {
    if !ms.is_finite() || ms.abs() > MAX_DATE_MS {
        return Value::Nil;
    }
    // Within ±8.64e15 the cast is exact after the truncation.
    Value::from(js_iso_string(ms.trunc() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
            .collect()
    }

    fn one(text: &str) -> Result<Value, ReadError> {
        read(&hex(text))
    }

    #[test]
    fn dates_in_every_form_notepack_reads() {
        let iso = |s: &str| Ok(Value::from(s));
        // timestamp 32: 1700000000 s
        assert_eq!(one("d6ff6553f100"), iso("2023-11-14T22:13:20.000Z"));
        // timestamp 64: 123 ms of nanoseconds on 1700000000 s
        assert_eq!(one("d7ff1d5353006553f100"), iso("2023-11-14T22:13:20.123Z"));
        // notepack 2: i64 ms 1700000000123, and -1 ms
        assert_eq!(one("d7000000018bcfe5687b"), iso("2023-11-14T22:13:20.123Z"));
        assert_eq!(one("d700ffffffffffffffff"), iso("1969-12-31T23:59:59.999Z"));
        // timestamp 96: -2 s + 1.5 ms is -1998.5 ms, truncated toward zero as a Date is
        assert_eq!(
            one("c70cff0016e360fffffffffffffffe"),
            iso("1969-12-31T23:59:58.002Z")
        );
        // the last valid Date, 8.64e12 s, and one second past it
        assert_eq!(
            one("c70cff00000000000007dba8218000"),
            iso("+275760-09-13T00:00:00.000Z")
        );
        assert_eq!(one("c70cff00000000000007dba8218001"), Ok(Value::Nil));
        // notepack 2's Date past the range
        assert_eq!(one("d7000020000000000000"), Ok(Value::Nil));
    }

    #[test]
    fn notepack_2_forms_and_unknown_extensions() {
        // ArrayBuffers of 8 and of 1 byte: bins, not a Date and not undefined
        assert_eq!(
            one("c708000102030405060708"),
            Ok(Value::Binary(vec![1, 2, 3, 4, 5, 6, 7, 8]))
        );
        assert_eq!(one("c7010000"), Ok(Value::Binary(vec![0])));
        assert_eq!(one("c8000200aabb"), Ok(Value::Binary(vec![0xaa, 0xbb])));
        // undefined, whatever its byte: null alone and in an array, no entry in a map
        assert_eq!(one("d40000"), Ok(Value::Nil));
        assert_eq!(
            one("92d40007c3"),
            Ok(Value::Array(vec![Value::Nil, true.into()]))
        );
        assert_eq!(
            one("82a161d40000a16201"),
            Ok(Value::Map(vec![("b".into(), 1.into())]))
        );
        assert_eq!(
            one("81d4000001"),
            Ok(Value::Map(vec![("undefined".into(), 1.into())]))
        );
        // any other extension is [type, bin], also type 0 in fixext 2/4/16 and type -1 in
        // fixext 1 and in ext 16
        let tagged = |kind: i64, data: &[u8]| {
            Ok(Value::Array(vec![
                kind.into(),
                Value::Binary(data.to_vec()),
            ]))
        };
        assert_eq!(one("d5050102"), tagged(5, &[1, 2]));
        assert_eq!(one("d60001020304"), tagged(0, &[1, 2, 3, 4]));
        assert_eq!(one("d4ff09"), tagged(-1, &[9]));
        assert_eq!(one("c80001ff09"), tagged(-1, &[9]));
        assert_eq!(one("c7020a0102"), tagged(10, &[1, 2]));
    }

    #[test]
    fn plain_values() {
        assert_eq!(
            one("9ac0c2c37fe0cc80d1ff00ca3fc00000a2c3a9c40101"),
            Ok(Value::Array(vec![
                Value::Nil,
                false.into(),
                true.into(),
                127.into(),
                (-32).into(),
                128.into(),
                (-256).into(),
                Value::F32(1.5),
                "é".into(),
                Value::Binary(vec![1]),
            ]))
        );
        // invalid UTF-8 is replaced, as Buffer.toString does
        assert_eq!(one("a2ff61"), Ok(Value::from("\u{fffd}a")));
        assert_eq!(one("cf0000000100000000"), Ok(Value::from(1u64 << 32)));
        assert_eq!(one("d3ffffffffffffffff"), Ok(Value::from(-1i64)));
    }

    #[test]
    fn every_width_of_the_plain_forms_reads_as_rmpv_wrote_it() {
        // rmpv writes each value in its smallest form: these reach every marker this reader
        // handles without an extension (u8..u64, i8..i64, f32/f64, str8/16/32, bin8/16/32,
        // array16/32, map16/32, and the fix forms).
        let long = |n: usize| "x".repeat(n);
        let values = vec![
            Value::from(200u8),
            Value::from(60_000u16),
            Value::from(4_000_000_000u32),
            Value::from(u64::MAX),
            Value::from(-100i8),
            Value::from(-30_000i16),
            Value::from(-2_000_000_000i32),
            Value::from(i64::MIN),
            Value::F32(-0.25),
            Value::F64(1e300),
            Value::from(long(40)),
            Value::from(long(300)),
            Value::from(long(70_000)),
            Value::Binary(vec![7; 300]),
            Value::Binary(vec![8; 70_000]),
            Value::Array(vec![Value::Nil; 20]),
            Value::Array(vec![Value::from(1); 70_000]),
            Value::Map((0..20).map(|i| (Value::from(i), Value::Nil)).collect()),
            Value::Map(
                (0..70_000)
                    .map(|i| (Value::from(format!("k{i}")), Value::from(i)))
                    .collect(),
            ),
        ];
        for value in values {
            let mut bytes = Vec::new();
            rmpv::encode::write_value(&mut bytes, &value).expect("writes to a Vec");
            assert_eq!(
                read(&bytes),
                Ok(value),
                "{:02x?}",
                &bytes[..bytes.len().min(6)]
            );
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        for text in [
            "",                                 // nothing
            "c1",                               // reserved
            "92c0",                             // an array that ends early
            "dc0010",                           // its 16-bit length past the input
            "ddffffffff", // a length of 2^32-1 and no bytes: refused before allocating
            "dfffffffff", // the same for a map
            "a3616263c0", // a value and a byte after it
            "c70dff00000000000000000000000000", // a 13-byte timestamp
            "d7ff0102",   // an extension cut short
            "c4ff00",     // a bin cut short
        ] {
            assert!(one(text).is_err(), "{text:?} is refused");
        }
        let deep = |n: usize| {
            let mut bytes = vec![0x91; n];
            bytes.push(0xc0);
            read(&bytes)
        };
        assert!(deep(MAX_DEPTH).is_ok());
        assert!(deep(MAX_DEPTH + 1).is_err());
    }
}
