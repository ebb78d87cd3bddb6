//! One config value as a template (minijinja), through the one load step: it renders
//! to a value or an error naming the key; never a panic, and the work and the output
//! stay bounded (libFuzzer's -timeout and -rss_limit_mb catch either).
#![no_main]

use std::{collections::BTreeMap, path::PathBuf};

use connect_sentinel::manifest::{Inputs, load};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let manifest = serde_json::json!({
        "name": "fuzz",
        "config": {"connector.class": "FileStreamSink", "topics": "t", "fuzzed": value},
    });
    let documents = [(PathBuf::from("fuzz.json"), manifest.to_string())];
    let env = BTreeMap::from([("HOME".to_string(), "/home/fuzz".to_string())]);
    let _ = load(Inputs::Documents(&documents), None, env);
});
