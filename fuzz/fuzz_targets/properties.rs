//! `--vars` files in Java's properties format (escapes, continuations, `:` and `=`
//! separators, comments): parsed into keys and values or refused with a reason; never
//! a panic.
#![no_main]

use connect_sentinel::manifest::properties;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = properties(text);
    }
});
