//! What a thread holds beside its messages and people: its metadata, a small string map an app
//! keeps its own references in (a ticket, a team), and how long ACS keeps it.
//!
//! ACS documents no limits for a thread's metadata; these are ours, small enough that a
//! thread's properties stay a small read: at most [`MAX_METADATA_KEYS`] keys of letters,
//! digits, `_`, `-` and `.`, each value at most [`MAX_METADATA_VALUE_CHARS`] characters with no
//! control characters.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use serde_json::Value;

use crate::acs::chat::RetentionPolicy;

/// Most keys a thread's metadata may hold, and a request may name.
pub const MAX_METADATA_KEYS: usize = 16;
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
        Ok(Self(metadata))
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }
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
