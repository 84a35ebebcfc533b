//! Socket.IO arguments to and from msgpack values, as Node's adapters exchange them: the
//! notepack.io 3.0.1 dialect.
//!
//! To msgpack ([`args_to_values`]): each argument's JSON is read in its own key order (maps
//! keep it); a JSON number that is a whole number in range becomes the smallest int form (as
//! `Number.isInteger` decides in JavaScript), any other number a float64; strings are msgpack
//! str; a binary placeholder `{"_placeholder":true,"num":n}` becomes a bin holding attachment
//! `n`, so the receiving node decides whether its packet is binary.
//!
//! From msgpack ([`values_to_args`]), on values as [`crate::msgpack::read`] leaves them (Dates
//! already ISO strings, ArrayBuffers bins, `undefined` gone): nil is `null`; NaN and
//! infinities are `null` (as `JSON.stringify` writes them); bin becomes an attachment and its
//! placeholder; an ext is `[type, bin]`, as notepack 3 reads one; a map key that is not a
//! string is written as its JSON text.

use bytes::Bytes;
use bytestring::ByteString;
use rmpv::Value;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Why arguments could not be converted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArgsError {
    /// An argument is not valid JSON.
    #[error("an argument is not valid JSON: {0}")]
    Json(String),
}

/// 2^64 and 2^63: the ends of the integer forms msgpack has.
const TWO_64: f64 = 18_446_744_073_709_551_616.0;
const TWO_63: f64 = 9_223_372_036_854_775_808.0;

/// One JSON value as a msgpack value, keys in order, numbers in notepack's forms.
struct Msg(Value);

impl<'de> de::Deserialize<'de> for Msg {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Msg, D::Error> {
        deserializer.deserialize_any(MsgVisitor)
    }
}

struct MsgVisitor;

impl<'de> Visitor<'de> for MsgVisitor {
    type Value = Msg;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Msg, E> {
        Ok(Msg(Value::Boolean(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Msg, E> {
        Ok(Msg(Value::from(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Msg, E> {
        Ok(Msg(Value::from(v)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Msg, E> {
        // JavaScript has one number type: a whole float is an integer to notepack.
        // (2^64 and -2^63 are exact in a float64, so the casts below cannot saturate.)
        if v.fract() == 0.0 {
            if (0.0..TWO_64).contains(&v) {
                return Ok(Msg(Value::from(v as u64)));
            }
            if (-TWO_63..0.0).contains(&v) {
                return Ok(Msg(Value::from(v as i64)));
            }
        }
        Ok(Msg(Value::F64(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Msg, E> {
        Ok(Msg(Value::from(v)))
    }

    fn visit_string<E>(self, v: String) -> Result<Msg, E> {
        Ok(Msg(Value::from(v)))
    }

    fn visit_unit<E>(self) -> Result<Msg, E> {
        Ok(Msg(Value::Nil))
    }

    fn visit_none<E>(self) -> Result<Msg, E> {
        Ok(Msg(Value::Nil))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Msg, A::Error> {
        let mut items = Vec::new();
        while let Some(Msg(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Msg(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Msg, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, Msg(value))) = map.next_entry::<String, Msg>()? {
            entries.push((Value::from(key), value));
        }
        Ok(Msg(Value::Map(entries)))
    }
}

/// The attachment index a placeholder map names, if `value` is one that fits `count`
/// attachments (socket.io-parser's rule: `_placeholder` true and `num` a number in range).
fn placeholder(value: &Value, count: usize) -> Option<usize> {
    let Value::Map(entries) = value else {
        return None;
    };
    let get = |name: &str| {
        entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(name))
            .map(|(_, v)| v)
    };
    if get("_placeholder") != Some(&Value::Boolean(true)) {
        return None;
    }
    let num = get("num")?.as_u64()?;
    usize::try_from(num).ok().filter(|n| *n < count)
}

/// Puts attachments back where their placeholders are.
fn reconstruct(value: Value, attachments: &[Bytes]) -> Value {
    if let Some(n) = placeholder(&value, attachments.len()) {
        return Value::Binary(attachments[n].to_vec());
    }
    match value {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| reconstruct(v, attachments))
                .collect(),
        ),
        Value::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k, reconstruct(v, attachments)))
                .collect(),
        ),
        other => other,
    }
}

/// Arguments (raw JSON each, placeholders for `attachments`) as msgpack values.
pub fn args_to_values(args: &[ByteString], attachments: &[Bytes]) -> Result<Vec<Value>, ArgsError> {
    args.iter()
        .map(|arg| {
            let mut de = serde_json::Deserializer::from_str(arg);
            let Msg(value) = de::Deserialize::deserialize(&mut de)
                .map_err(|e| ArgsError::Json(e.to_string()))?;
            de.end().map_err(|e| ArgsError::Json(e.to_string()))?;
            Ok(reconstruct(value, attachments))
        })
        .collect()
}

/// Writes `value` as JSON, binaries as placeholders appended to `attachments`.
fn write_json(value: &Value, out: &mut String, attachments: &mut Vec<Bytes>) {
    use std::fmt::Write as _;
    match value {
        Value::Nil => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Integer(n) => {
            let _ = write!(out, "{n}");
        }
        Value::F32(f) => write_float(f64::from(*f), out),
        Value::F64(f) => write_float(*f, out),
        Value::String(s) => {
            let text = String::from_utf8_lossy(s.as_bytes());
            out.push_str(&serde_json::Value::String(text.into_owned()).to_string());
        }
        Value::Binary(bytes) => {
            let _ = write!(
                out,
                r#"{{"_placeholder":true,"num":{}}}"#,
                attachments.len()
            );
            attachments.push(Bytes::copy_from_slice(bytes));
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out, attachments);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let key = match key {
                    Value::String(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
                    other => {
                        let mut text = String::new();
                        write_json(other, &mut text, &mut Vec::new());
                        text
                    }
                };
                out.push_str(&serde_json::Value::String(key).to_string());
                out.push(':');
                write_json(item, out, attachments);
            }
            out.push('}');
        }
        Value::Ext(kind, data) => write_ext(*kind, data, out, attachments),
    }
}

fn write_float(f: f64, out: &mut String) {
    match serde_json::Number::from_f64(f) {
        Some(n) => out.push_str(&n.to_string()),
        // NaN and infinities: JSON.stringify writes null.
        None => out.push_str("null"),
    }
}

/// An extension as notepack 3 hands over one it has no meaning for: `[type, Buffer]`. The
/// decoder ([`crate::msgpack`]) settles Dates, ArrayBuffers and `undefined` itself, so only a
/// value built by hand gets here with one of those.
fn write_ext(kind: i8, data: &[u8], out: &mut String, attachments: &mut Vec<Bytes>) {
    let _ = std::fmt::Write::write_fmt(out, format_args!("[{kind},"));
    write_json(&Value::Binary(data.to_vec()), out, attachments);
    out.push(']');
}

/// A whole JSON document as one msgpack value, in the same forms as [`args_to_values`] (no
/// placeholders are resolved: there are no attachments).
pub(crate) fn json_to_value(json: &[u8]) -> Result<Value, ArgsError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let Msg(value) =
        de::Deserialize::deserialize(&mut de).map_err(|e| ArgsError::Json(e.to_string()))?;
    de.end().map_err(|e| ArgsError::Json(e.to_string()))?;
    Ok(value)
}

/// A msgpack value as JSON text, as `JSON.stringify` writes what notepack decoded (a bin, if
/// any, as a placeholder: check [`has_binary`] first).
pub(crate) fn value_to_json(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out, &mut Vec::new());
    out
}

/// Whether `value` holds a bin anywhere (socket.io's `hasBinary`).
pub(crate) fn has_binary(value: &Value) -> bool {
    match value {
        Value::Binary(_) => true,
        Value::Array(items) => items.iter().any(has_binary),
        Value::Map(entries) => entries.iter().any(|(_, v)| has_binary(v)),
        _ => false,
    }
}

/// Msgpack values as arguments: raw JSON each, binaries as attachments behind placeholders (in
/// the order they appear, as socket.io-parser numbers them).
pub fn values_to_args(values: &[Value]) -> (Vec<ByteString>, Vec<Bytes>) {
    let mut attachments = Vec::new();
    let args = values
        .iter()
        .map(|value| {
            let mut text = String::new();
            write_json(value, &mut text, &mut attachments);
            ByteString::from(text)
        })
        .collect();
    (args, attachments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<ByteString> {
        list.iter().map(|a| ByteString::from(*a)).collect()
    }

    #[test]
    fn numbers_take_javascript_s_forms() {
        let values = args_to_values(
            &args(&[
                "1",
                "1.0",
                "-0.0",
                "2.5",
                "-3",
                "1e300",
                "18446744073709551615",
            ]),
            &[],
        )
        .expect("valid JSON");
        assert_eq!(
            values,
            [
                Value::from(1u64),
                Value::from(1u64),
                Value::from(0u64),
                Value::F64(2.5),
                Value::from(-3i64),
                Value::F64(1e300),
                Value::from(u64::MAX)
            ]
        );
    }

    #[test]
    fn maps_keep_their_key_order_and_placeholders_become_bin() {
        let attachments = [Bytes::from_static(&[1, 2, 3])];
        let values = args_to_values(
            &args(&[
                r#"{"z":1,"a":{"_placeholder":true,"num":0},"m":[{"_placeholder":true,"num":7}]}"#,
            ]),
            &attachments,
        )
        .expect("valid JSON");
        let Value::Map(entries) = &values[0] else {
            panic!("a map")
        };
        let keys: Vec<&str> = entries.iter().filter_map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["z", "a", "m"]);
        assert_eq!(entries[1].1, Value::Binary(vec![1, 2, 3]));
        // A placeholder past the attachments is left as the object it is.
        assert!(matches!(&entries[2].1, Value::Array(items) if matches!(items[0], Value::Map(_))));
    }

    #[test]
    fn bad_json_is_an_error_not_a_panic() {
        assert!(args_to_values(&args(&["{"]), &[]).is_err());
        assert!(args_to_values(&args(&["1 2"]), &[]).is_err());
    }

    #[test]
    fn values_read_back_as_node_sends_them() {
        let values = vec![
            Value::Nil,
            Value::F64(f64::NAN),
            Value::F32(1.5),
            Value::from("é\"q"),
            Value::Binary(vec![9]),
            Value::Map(vec![
                (Value::from(1), Value::Binary(vec![8])),
                (Value::from("k"), Value::Boolean(false)),
            ]),
            Value::Ext(5, vec![1]),
        ];
        let (args, attachments) = values_to_args(&values);
        let text: Vec<&str> = args.iter().map(|a| &**a).collect();
        assert_eq!(
            text,
            [
                "null",
                "null",
                "1.5",
                r#""é\"q""#,
                r#"{"_placeholder":true,"num":0}"#,
                r#"{"1":{"_placeholder":true,"num":1},"k":false}"#,
                r#"[5,{"_placeholder":true,"num":2}]"#,
            ]
        );
        let bins: Vec<&[u8]> = attachments.iter().map(|b| &b[..]).collect();
        assert_eq!(bins, [&[9][..], &[8], &[1]]);
    }
}
