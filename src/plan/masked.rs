//! Masked secrets are not drift. Connect itself returns stored values as they are, but
//! vendors and proxies in front of it (Confluent Cloud's `****`/`****************`,
//! UIs' `********` and `•••`, Kafka's `[hidden]`) replace secrets with a mask on read.
//! A masked live value says nothing about the secret behind it, so it compares as
//! *unknown*, never as a change; and since an unknown value cannot show a rotated
//! secret either, every config this tool writes carries [`FINGERPRINT_KEY`], a keyed
//! hash (HMAC-SHA256) of the whole config as written. When a live value is masked the
//! fingerprint decides: the one stored equals the desired config's → unchanged;
//! different or absent → update (the secret was rotated, or the connector was never
//! fingerprinted). The fingerprint key itself is left out of every comparison.
//!
//! Pure: no IO; [`ring`]'s HMAC is the only primitive.

use std::fmt;

use ring::hmac;

use super::{Config, KeyChange};

/// The config key holding the fingerprint of the config as written.
pub const FINGERPRINT_KEY: &str = "connect-sentinel.fingerprint";

/// The fingerprint format's version, its value's prefix (`v1:` and 64 hex digits).
const VERSION: &str = "v1";

/// The key used without `--fingerprint-key`: public, so the fingerprint is then an
/// unkeyed (but salted by the connector's name and whole config) hash.
const BUILTIN_KEY: &[u8] = b"connect-sentinel fingerprint v1 (no --fingerprint-key set)";

/// Words that stand for a hidden value: Kafka's `Password.toString()` (`[hidden]`,
/// also what Connect's validate shows) and the common bracketed forms.
const MASK_WORDS: &[&str] = &["[hidden]", "<hidden>", "[redacted]", "<redacted>"];

/// Characters whose runs (3 or more) mask a value: `*` (Confluent Cloud, kafka-ui,
/// AKHQ), `•` and `●` (web consoles).
const MASK_CHARS: &[char] = &['*', '•', '●'];

/// Whether a live value is a mask rather than the value: a run of 3 or more of one
/// mask character, or a mask word (any case), surrounding spaces ignored.
pub fn is_masked(value: &str) -> bool {
    let value = value.trim();
    let mut chars = value.chars();
    let run = match chars.next() {
        Some(first) if MASK_CHARS.contains(&first) => {
            value.chars().count() >= 3 && chars.all(|c| c == first)
        }
        _ => false,
    };
    run || MASK_WORDS.iter().any(|w| value.eq_ignore_ascii_case(w))
}

/// The HMAC key of fingerprints (`--fingerprint-key`, or the built-in one). `Debug`
/// never shows it.
#[derive(Clone)]
pub struct FingerprintKey {
    key: hmac::Key,
    configured: bool,
}

impl FingerprintKey {
    /// A key from secret bytes (`--fingerprint-key`).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            configured: true,
        }
    }
}

impl Default for FingerprintKey {
    /// The built-in, public key.
    fn default() -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, BUILTIN_KEY),
            configured: false,
        }
    }
}

impl fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.configured {
            true => f.write_str("FingerprintKey(configured)"),
            false => f.write_str("FingerprintKey(built-in)"),
        }
    }
}

/// The fingerprint of `config` (every key but [`FINGERPRINT_KEY`], in key order, each
/// key and value length-prefixed so no two configs encode alike): `v1:` and the
/// HMAC-SHA256 in hex.
pub fn fingerprint(key: &FingerprintKey, config: &Config) -> String {
    let mut mac = hmac::Context::with_key(&key.key);
    mac.update(VERSION.as_bytes());
    for (k, v) in config.iter().filter(|(k, _)| *k != FINGERPRINT_KEY) {
        for part in [k, v] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
    }
    let tag = mac.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("{VERSION}:{hex}")
}

/// `config` with its fingerprint set.
pub fn fingerprinted(mut config: Config, key: &FingerprintKey) -> Config {
    let value = fingerprint(key, &config);
    config.insert(FINGERPRINT_KEY.into(), value);
    config
}

/// Whether `change` compares a masked live value (an unknown, not a change).
pub fn unknown(change: &KeyChange) -> bool {
    matches!(change, KeyChange::Changed { old, .. } if is_masked(old))
}

/// The changes that count, from every key-level change between the live and the
/// desired config (`expected`: the desired config's fingerprint). Masked live values
/// count only when the fingerprint Connect stores (`stored`) differs from `expected`
/// or is absent: then a secret was rotated (or never fingerprinted) and they are all
/// listed, since which one changed cannot be seen.
pub fn counted(changes: Vec<KeyChange>, stored: Option<&str>, expected: &str) -> Vec<KeyChange> {
    let rotated = stored != Some(expected);
    changes
        .into_iter()
        .filter(|change| rotated || !unknown(change))
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn vendor_masks_are_masked_and_values_are_not() {
        for masked in [
            "******",
            "****************",
            "****",
            "***",
            " ******** ",
            "•••••",
            "[hidden]",
            "[HIDDEN]",
            "<redacted>",
        ] {
            assert!(is_masked(masked), "{masked:?}");
        }
        for plain in [
            "",
            "*",
            "**",
            "*a*",
            "pa**word",
            "hidden",
            "${file:/s:pw}",
            "*•*",
        ] {
            assert!(!is_masked(plain), "{plain:?}");
        }
    }

    #[test]
    fn the_fingerprint_is_stable_keyed_and_leaves_itself_out() {
        let c = config(&[("name", "a"), ("db.password", "CANARY-pw-1")]);
        let key = FingerprintKey::default();
        let fp = fingerprint(&key, &c);
        assert!(fp.starts_with("v1:") && fp.len() == 3 + 64, "{fp}");
        assert!(!fp.contains("CANARY"));
        assert_eq!(fingerprint(&key, &fingerprinted(c.clone(), &key)), fp);
        assert_ne!(
            fingerprint(&FingerprintKey::new(b"0123456789abcdef"), &c),
            fp
        );
        let rotated = config(&[("name", "a"), ("db.password", "CANARY-pw-2")]);
        assert_ne!(fingerprint(&key, &rotated), fp);
        // Length prefixes: moving a character between key and value changes it.
        assert_ne!(
            fingerprint(&key, &config(&[("ab", "c")])),
            fingerprint(&key, &config(&[("a", "bc")]))
        );
        assert_eq!(
            format!("{:?}", FingerprintKey::new(b"secret")),
            "FingerprintKey(configured)"
        );
    }

    #[test]
    fn masked_changes_count_only_when_the_fingerprint_differs() {
        let masked = KeyChange::Changed {
            key: "db.password".into(),
            old: "****".into(),
            new: "pw".into(),
        };
        let real = KeyChange::Changed {
            key: "topics".into(),
            old: "a".into(),
            new: "b".into(),
        };
        let both = vec![masked.clone(), real.clone()];
        assert_eq!(counted(both.clone(), Some("v1:x"), "v1:x"), [real]);
        assert_eq!(counted(both.clone(), Some("v1:y"), "v1:x"), both);
        assert_eq!(counted(both.clone(), None, "v1:x"), both);
        assert_eq!(counted(vec![masked], Some("v1:x"), "v1:x"), []);
    }

    fn configs() -> impl Strategy<Value = Config> {
        prop::collection::btree_map("[a-d.]{1,4}", "[ -~]{0,6}", 0..6)
    }

    proptest! {
        /// Any run of 3+ of one mask character is masked; any value with a letter or
        /// digit that is not a mask word is not.
        #[test]
        fn runs_are_masks(c in prop::sample::select(MASK_CHARS.to_vec()), n in 3usize..40) {
            prop_assert!(is_masked(&c.to_string().repeat(n)));
        }

        #[test]
        fn values_with_a_letter_are_not_masks(v in "[*•]{0,5}[a-zA-Z0-9][*•a-z]{0,5}") {
            prop_assert!(!is_masked(&v));
        }

        /// Equal configs fingerprint alike, and changing any one value changes the
        /// fingerprint (no collision among small edits).
        #[test]
        fn a_changed_value_changes_the_fingerprint(c in configs(), v in "[ -~]{0,6}") {
            let key = FingerprintKey::default();
            prop_assert_eq!(fingerprint(&key, &c), fingerprint(&key, &c.clone()));
            if let Some(first) = c.keys().next().cloned() {
                let mut edited = c.clone();
                let changed = edited.insert(first, v.clone()) != Some(v);
                prop_assert_eq!(changed, fingerprint(&key, &edited) != fingerprint(&key, &c));
            }
        }
    }
}
