//! ACS identifiers as types: a [`UserId`], a [`ThreadId`] and a [`MessageId`] are made only by
//! parsing, so a malformed id is the caller's 400 before any round trip, and one kind of id
//! can never be passed where another goes. Also how an id travels in a URL path.

use std::fmt;
use std::str::FromStr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest id we accept; real ones are under 100 characters.
pub const MAX_ID_LEN: usize = 256;

/// Raw-id prefixes of ACS communication users (public, DoD and GCCH clouds, and Spool).
const USER_PREFIXES: [&str; 4] = ["8:acs:", "8:spool:", "8:dod-acs:", "8:gcch-acs:"];

/// A string that is not an id of the kind asked for; says which form was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("is not {0}")]
pub struct IdError(pub &'static str);

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

fn is_user_id(id: &str) -> bool {
    id.len() <= MAX_ID_LEN
        && USER_PREFIXES.iter().any(|prefix| {
            id.strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty() && rest.chars().all(is_id_char))
        })
}

fn is_thread_id(id: &str) -> bool {
    id.len() <= MAX_ID_LEN
        && id
            .strip_prefix("19:")
            .and_then(|rest| rest.strip_suffix("@thread.v2"))
            .is_some_and(|opaque| !opaque.is_empty() && opaque.chars().all(is_id_char))
}

/// At most 19 digits, so that every message id fits a `u64`.
fn is_message_id(id: &str) -> bool {
    (1..=19).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $is_valid:ident, $form:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The form this id takes, for error messages.
            pub const FORM: &'static str = $form;

            /// The id, if `raw` has this kind's form.
            pub fn parse(raw: impl Into<String> + AsRef<str>) -> Result<Self, IdError> {
                if $is_valid(raw.as_ref()) {
                    Ok(Self(raw.into()))
                } else {
                    Err(IdError(Self::FORM))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(raw: &str) -> Result<Self, IdError> {
                Self::parse(raw)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// An ACS communication user: `8:acs:<resource guid>_<id>`, or a sovereign-cloud variant.
    UserId,
    is_user_id,
    "an ACS user id (8:acs:...)"
);

id_type!(
    /// A chat thread: `19:<opaque>@thread.v2`, the only form ACS hands out.
    ThreadId,
    is_thread_id,
    "an ACS thread id (19:...@thread.v2)"
);

id_type!(
    /// A chat message: ACS's ids are its creation time in epoch milliseconds, as a string.
    MessageId,
    is_message_id,
    "an ACS message id (digits)"
);

impl MessageId {
    /// The id as a number; message ids order by creation time.
    pub fn number(&self) -> u64 {
        self.0.parse().unwrap_or(u64::MAX)
    }
}

/// Everything but RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a path segment leaving only unreserved characters, as the SDKs do
/// (`8:acs:x` is sent, and signed, as `8%3Aacs%3Ax`).
pub fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_user_ids_of_every_acs_cloud() {
        for id in [
            "8:acs:2dee53b4-368b-45b4-ab52-8493fb117652_00000005-14a2-493b-8a72-5a3a0d000081",
            "8:spool:abc_def",
            "8:gcch-acs:x",
            "8:dod-acs:x",
        ] {
            assert_eq!(UserId::parse(id).map(|u| u.to_string()), Ok(id.to_owned()));
        }
    }

    #[test]
    fn rejects_user_ids_that_are_not_acs_users() {
        for id in [
            "",
            "8:acs:",
            "user_id_1",
            "4:+14255550123",
            "8:orgid:abc",
            "8:acs:abc/../x",
            "8:acs:a b",
            &format!("8:acs:{}", "a".repeat(300)),
        ] {
            assert_eq!(UserId::parse(id), Err(IdError(UserId::FORM)), "{id}");
        }
    }

    #[test]
    fn accepts_thread_ids_and_rejects_the_rest() {
        for id in [
            "19:4jxDHMi_lovtl0ZKlnnrcSykInqbZJPCLIKLze9hj0s1@thread.v2",
            "19:acsV1_foL-mUK9P66jE9T-ZxMBTfvWBH3ae7HOxCS__D4TtrA1@thread.v2",
        ] {
            assert!(ThreadId::parse(id).is_ok(), "{id}");
        }
        for id in [
            "",
            "thread_id_123",
            "19:@thread.v2",
            "19:a/b@thread.v2",
            "19:abc@thread.v1",
        ] {
            assert!(ThreadId::parse(id).is_err(), "{id}");
        }
    }

    #[test]
    fn message_ids_are_digits_that_fit_a_number() {
        assert_eq!(
            MessageId::parse("1708127231096").map(|m| m.number()),
            Ok(1708127231096)
        );
        for id in ["", "12a", "-1", "1 2", &"9".repeat(20)] {
            assert!(MessageId::parse(id).is_err(), "{id}");
        }
    }

    #[test]
    fn ids_decode_from_json_only_when_well_formed() {
        let thread: ThreadId = serde_json::from_str(r#""19:abc@thread.v2""#).unwrap();
        assert_eq!(
            serde_json::to_string(&thread).unwrap(),
            r#""19:abc@thread.v2""#
        );
        assert!(serde_json::from_str::<UserId>(r#""19:abc@thread.v2""#).is_err());
    }

    #[test]
    fn encodes_everything_but_unreserved_characters() {
        assert_eq!(encode_segment("8:acs:a_b-c.d"), "8%3Aacs%3Aa_b-c.d");
        assert_eq!(encode_segment("19:x@thread.v2"), "19%3Ax%40thread.v2");
        assert_eq!(encode_segment("a/b?c#d e~"), "a%2Fb%3Fc%23d%20e~");
    }
}
