//! What ACS identifiers look like, and how they travel in a URL path.
//!
//! Checked before any call so that a malformed id is the caller's 400, not an ACS round trip.

/// Longest id we accept; real ones are under 100 characters.
pub const MAX_ID_LEN: usize = 256;

/// Raw-id prefixes of ACS communication users (public, DoD and GCCH clouds, and Spool).
const USER_PREFIXES: [&str; 4] = ["8:acs:", "8:spool:", "8:dod-acs:", "8:gcch-acs:"];

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// `8:acs:<resource guid>_<id>` and its sovereign-cloud variants.
pub fn is_user_id(id: &str) -> bool {
    id.len() <= MAX_ID_LEN
        && USER_PREFIXES.iter().any(|prefix| {
            id.strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty() && rest.chars().all(is_id_char))
        })
}

/// `19:<opaque>@thread.v2`, the only thread id form ACS hands out.
pub fn is_thread_id(id: &str) -> bool {
    id.len() <= MAX_ID_LEN
        && id
            .strip_prefix("19:")
            .and_then(|rest| rest.strip_suffix("@thread.v2"))
            .is_some_and(|opaque| !opaque.is_empty() && opaque.chars().all(is_id_char))
}

/// Percent-encodes a path segment leaving only RFC 3986 unreserved characters, as the SDKs do
/// (`8:acs:x` is sent, and signed, as `8%3Aacs%3Ax`).
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len() * 3);
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
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
            assert!(is_user_id(id), "{id}");
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
            assert!(!is_user_id(id), "{id}");
        }
    }

    #[test]
    fn accepts_thread_ids_and_rejects_the_rest() {
        assert!(is_thread_id(
            "19:4jxDHMi_lovtl0ZKlnnrcSykInqbZJPCLIKLze9hj0s1@thread.v2"
        ));
        assert!(is_thread_id(
            "19:acsV1_foL-mUK9P66jE9T-ZxMBTfvWBH3ae7HOxCS__D4TtrA1@thread.v2"
        ));
        for id in [
            "",
            "thread_id_123",
            "19:@thread.v2",
            "19:a/b@thread.v2",
            "19:abc@thread.v1",
        ] {
            assert!(!is_thread_id(id), "{id}");
        }
    }

    #[test]
    fn encodes_everything_but_unreserved_characters() {
        assert_eq!(encode_segment("8:acs:a_b-c.d"), "8%3Aacs%3Aa_b-c.d");
        assert_eq!(encode_segment("19:x@thread.v2"), "19%3Ax%40thread.v2");
        assert_eq!(encode_segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
    }
}
