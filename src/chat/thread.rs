//! What a thread holds beside its messages and people: its metadata, a small string map an app
//! keeps its own references in (a ticket, a team), and how long ACS keeps it.
//!
//! ACS documents no limits for a thread's metadata, and merges what each update names into what
//! the thread holds: without a bound on the merged whole, a member's updates grow it without
//! end (420 updates of 16 new keys each left 6,720, and reading the thread then took over a
//! minute for everyone). These limits are ours, small enough that a thread's properties stay
//! a small read: at most [`MAX_METADATA_KEYS`] keys of letters, digits, `_`, `-` and `.`, each
//! value at most [`MAX_METADATA_VALUE_CHARS`] characters with no control characters, and at
//! most [`MAX_METADATA_BYTES`] of keys and values together, for a request and for the thread
//! once it is merged.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use serde_json::Value;

use crate::acs::chat::RetentionPolicy;

/// Most keys a thread's metadata may hold, and a request may name.
pub const MAX_METADATA_KEYS: usize = 16;
/// Most bytes (UTF-8) of a thread's metadata keys and values together.
pub const MAX_METADATA_BYTES: usize = 8 * 1024;
/// Longest metadata key, in characters.
pub const MAX_METADATA_KEY_CHARS: usize = 64;
/// Longest metadata value, in characters.
pub const MAX_METADATA_VALUE_CHARS: usize = 1024;
/// The days a retention policy may keep a thread: ACS's range.
pub const RETENTION_DAYS: RangeInclusive<u32> = 30..=90;

/// Metadata as a request gives it. In a change, a key with an empty value is removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata(BTreeMap<String, String>);

/// Whether a metadata map makes a thread or changes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataUse {
    /// A new thread's: every value has something in it.
    New,
    /// A change: an empty value removes its key.
    Change,
}

impl Metadata {
    /// Reads a JSON object of strings, or says what is wrong with it.
    pub fn parse(value: &Value, usage: MetadataUse) -> Result<Self, &'static str> {
        let Value::Object(map) = value else {
            return Err("must be an object of strings");
        };
        if map.len() > MAX_METADATA_KEYS {
            return Err("may hold at most 16 keys");
        }
        let mut metadata = BTreeMap::new();
        for (key, value) in map {
            let valid_key = (1..=MAX_METADATA_KEY_CHARS).contains(&key.chars().count())
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !valid_key {
                return Err("keys must be 1 to 64 letters, digits, '_', '-' or '.'");
            }
            let Value::String(text) = value else {
                return Err("must be an object of strings");
            };
            if text.chars().count() > MAX_METADATA_VALUE_CHARS || text.chars().any(char::is_control)
            {
                return Err("values must be at most 1024 characters, with no control characters");
            }
            if text.is_empty() && usage == MetadataUse::New {
                return Err(
                    "values must not be empty (an empty value removes a key in update_thread)",
                );
            }
            metadata.insert(key.clone(), text.clone());
        }
        if bytes(&metadata) > MAX_METADATA_BYTES {
            return Err("may hold at most 8 KiB of keys and values");
        }
        Ok(Self(metadata))
    }

    /// Whether merging it can make a thread's metadata larger: it sets some key.
    pub fn adds(&self) -> bool {
        self.0.values().any(|value| !value.is_empty())
    }

    /// Checks that merged into `current`, a thread's metadata, it stays within the bounds.
    pub fn fits_into(&self, current: &BTreeMap<String, String>) -> Result<(), &'static str> {
        let mut merged = current.clone();
        for (key, value) in &self.0 {
            if value.is_empty() {
                merged.remove(key);
            } else {
                merged.insert(key.clone(), value.clone());
            }
        }
        if merged.len() > MAX_METADATA_KEYS {
            return Err("would leave the thread more than 16 keys (an empty value removes one)");
        }
        if bytes(&merged) > MAX_METADATA_BYTES {
            return Err("would leave the thread more than 8 KiB of keys and values");
        }
        Ok(())
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }
}

/// The bytes of a map's keys and values together.
fn bytes(map: &BTreeMap<String, String>) -> usize {
    map.iter().map(|(key, value)| key.len() + value.len()).sum()
}

/// A retention policy from the days a request gives: `None` (JSON `null`) for none.
pub fn retention(days: Option<u32>) -> RetentionPolicy {
    match days {
        Some(days) => RetentionPolicy::ThreadCreationDate {
            delete_thread_after_days: days,
        },
        None => RetentionPolicy::None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn metadata_merged_into_a_thread_s_stays_within_16_keys_and_8_kib() {
        let change = |pairs: &[(&str, String)]| {
            let map: serde_json::Map<_, _> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            Metadata::parse(&Value::Object(map), MetadataUse::Change).unwrap()
        };
        let full: BTreeMap<String, String> =
            (0..16).map(|n| (format!("k{n}"), "v".into())).collect();
        let one_more = change(&[("new", "v".into())]);
        assert!(one_more.adds());
        assert!(one_more.fits_into(&full).is_err(), "a 17th key");
        assert!(
            change(&[("k3", "w".into())]).fits_into(&full).is_ok(),
            "a key replaced"
        );
        let swap = change(&[("k3", String::new()), ("new", "v".into())]);
        assert!(swap.fits_into(&full).is_ok(), "one removed, one added");
        let removal = change(&[("k3", String::new())]);
        assert!(!removal.adds());
        let big: BTreeMap<String, String> = (0..8)
            .map(|n| (format!("k{n}"), "x".repeat(1000)))
            .collect();
        assert!(
            change(&[("k9", "x".repeat(300))]).fits_into(&big).is_err(),
            "past 8 KiB"
        );
        let too_big: serde_json::Map<_, _> = (0..9)
            .map(|n| (format!("k{n}"), json!("x".repeat(1000))))
            .collect();
        assert!(Metadata::parse(&Value::Object(too_big), MetadataUse::New).is_err());
    }

    #[test]
    fn metadata_is_a_small_map_of_plain_keys_and_strings() {
        let parsed = Metadata::parse(
            &json!({"ticket": "T-7", "team.name": "blue"}),
            MetadataUse::New,
        );
        assert_eq!(parsed.unwrap().into_map().len(), 2);
        let too_many: serde_json::Map<String, Value> =
            (0..17).map(|i| (format!("k{i}"), json!("v"))).collect();
        for (what, value, usage) in [
            ("not an object", json!(["a"]), MetadataUse::New),
            ("a number value", json!({"a": 1}), MetadataUse::New),
            ("an empty key", json!({"": "v"}), MetadataUse::New),
            ("a key with a slash", json!({"a/b": "v"}), MetadataUse::New),
            (
                "a key of 65",
                json!({"k".repeat(65): "v"}),
                MetadataUse::New,
            ),
            (
                "a value of 1025",
                json!({"a": "v".repeat(1025)}),
                MetadataUse::New,
            ),
            (
                "a control character",
                json!({"a": "x\u{0007}"}),
                MetadataUse::New,
            ),
            (
                "an empty value in a new thread",
                json!({"a": ""}),
                MetadataUse::New,
            ),
            (
                "17 keys",
                Value::Object(too_many.clone()),
                MetadataUse::Change,
            ),
        ] {
            assert!(Metadata::parse(&value, usage).is_err(), "{what}");
        }
        let removal = Metadata::parse(&json!({"a": ""}), MetadataUse::Change).unwrap();
        assert_eq!(removal.into_map()["a"], "");
    }
}
