//! Manifest documents as users write them, through the one load step `diff`, `apply`
//! and `reconcile` share: the first byte picks JSON or YAML, the rest is the document.
//! Loading gives the connectors or a ManifestError; never a panic.
#![no_main]

use std::{collections::BTreeMap, path::PathBuf};

use connect_sentinel::manifest::{Inputs, load};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let name = if kind % 2 == 0 { "fuzz.json" } else { "fuzz.yaml" };
    let documents = [(PathBuf::from(name), text.to_string())];
    let _ = load(Inputs::Documents(&documents), None, BTreeMap::new());
});
