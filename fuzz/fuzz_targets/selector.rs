//! `--selector` label selectors as users write them (`destination=connect`,
//! `env in (prod,stage)`, `!legacy`, …): parsed or refused with a reason, and a parsed
//! one matched against labels drawn from the same input; never a panic.
#![no_main]

use std::collections::BTreeMap;

use connect_sentinel::manifest::Selector;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (selector, labels) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(selector) = Selector::parse(selector) else {
        return;
    };
    let labels: BTreeMap<String, String> = labels
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let _ = selector.matches(&labels);
});
