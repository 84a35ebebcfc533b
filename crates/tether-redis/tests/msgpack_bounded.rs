//! A message that declares more than it holds costs memory for what it holds, not for what it
//! declares: every one of 256 nested arrays of a 1 MiB message may claim nearly all the bytes
//! left, and reserving that would ask for about 8 GiB of values.
//!
//! The heap is counted with a counting allocator, so this binary holds this one test.

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tether_redis::msgpack::{MAX_DEPTH, read};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn declared_lengths_do_not_reserve_memory_the_message_does_not_back() {
    const SIZE: usize = 1 << 20;
    let mut message = Vec::with_capacity(SIZE);
    // MAX_DEPTH arrays, each claiming every byte left after its header, then a nil and filler
    // of nils: the innermost array is cut short, so the whole message is refused.
    for _ in 0..MAX_DEPTH {
        let left = u32::try_from(SIZE - message.len() - 5).expect("fits");
        message.push(0xdd);
        message.extend(left.to_be_bytes());
    }
    message.resize(SIZE, 0xc0);
    // The same for maps, which claim half the bytes left.
    let mut maps = Vec::with_capacity(SIZE);
    for _ in 0..MAX_DEPTH {
        let left = u32::try_from((SIZE - maps.len() - 5) / 2).expect("fits");
        maps.push(0xdf);
        maps.extend(left.to_be_bytes());
        maps.push(0xc0); // each map's first key; its value is the next map
    }
    maps.resize(SIZE, 0xc0);

    for (what, bytes) in [("arrays", &message), ("maps", &maps)] {
        let region = Region::new(GLOBAL);
        let outcome = read(bytes);
        let allocated = region.change().bytes_allocated;
        assert!(
            outcome.is_err(),
            "{what}: the message holds less than it claims"
        );
        // What the message really holds: about a million nils, 32 bytes each, in lists that
        // grow by doubling.
        assert!(
            allocated < 128 << 20,
            "{what}: {allocated} bytes allocated to read a message of {SIZE} bytes"
        );
    }
}
