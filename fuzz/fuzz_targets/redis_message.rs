//! The Redis adapter's decoders on arbitrary bytes: what another node (Node's adapter, the
//! emitter, another tether) publishes on the channels a node subscribes to.
//!
//! Every decoder must refuse or accept without panicking, and `msgpack::read` (which they all
//! start from) must leave values that write back as plain msgpack and read back unchanged: no
//! extension is left in them for a later step to misread.
//!
//! `FUZZ_TARGETS=redis_message scripts/fuzz 600` runs it alone (see `fuzz/README.md`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tether_redis::{broadcast, msgpack, requests, responses, sharded};

fuzz_target!(|data: &[u8]| {
    let _ = broadcast::decode(data);
    let _ = requests::decode_request(data);
    let _ = responses::decode_response(data);
    let _ = sharded::decode(data);
    let Ok(value) = msgpack::read(data) else {
        return;
    };
    assert!(!has_ext(&value), "an extension is left in {value:?}");
    let mut written = Vec::new();
    rmpv::encode::write_value(&mut written, &value).expect("writes to a Vec");
    let again = msgpack::read(&written)
        .unwrap_or_else(|err| panic!("{value:?} written back does not read: {err}"));
    let mut rewritten = Vec::new();
    rmpv::encode::write_value(&mut rewritten, &again).expect("writes to a Vec");
    // Bytes, not values: a NaN float is not equal to itself.
    assert_eq!(written, rewritten, "{value:?} reads back as {again:?}");
});

fn has_ext(value: &rmpv::Value) -> bool {
    match value {
        rmpv::Value::Ext(..) => true,
        rmpv::Value::Array(items) => items.iter().any(has_ext),
        rmpv::Value::Map(entries) => entries.iter().any(|(k, v)| has_ext(k) || has_ext(v)),
        _ => false,
    }
}
