//! Duration flags (`--poll-interval 10s`) and restart schedules (`10s,1m,5m`): a value
//! or a message for the flag; never a panic or an overflow.
#![no_main]

use connect_sentinel::{cli::duration, remediate::Schedule};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = duration(text);
        let _ = text.parse::<Schedule>();
    }
});
