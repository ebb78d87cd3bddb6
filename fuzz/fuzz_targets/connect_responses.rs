//! What Connect answers and we parse: the `expand=status` and `expand=info` listings
//! (typed, one bad entry does not sink the rest), the validate report and error
//! bodies. Any bytes give a value or an error; never a panic.
#![no_main]

use connect_sentinel::connect::{
    ConnectorStatus,
    types::{Expanded, StoredConnector},
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<Expanded<ConnectorStatus>>(data);
    let _ = serde_json::from_slice::<Expanded<StoredConnector>>(data);
});
