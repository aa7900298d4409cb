//! A person's channels: `/users/<who>/<hour>`, one an hour, where `<who>` is the first 128 bits
//! of the SHA-256 of their ACS user id in hex (a channel segment allows only letters, digits and
//! dashes, 50 at most) and `<hour>` is the hour since the Unix epoch.
//!
//! Everything for one person goes to their channel of the hour it happens in, and a
//! subscription is admitted only for the hour before, the one now and the one after. AppSync
//! Events cannot end a subscription whose token has since expired, so the hour is what ends it:
//! a socket whose token has expired receives what happens until the end of the next hour at the
//! latest, and nothing after, unless a valid token subscribes it again.

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::acs::UserId;

/// The namespace every person's channel lives in.
pub const NAMESPACE: &str = "users";

/// How many hours around now a subscription may be for: the last (a clock slightly behind),
/// this one, and the next (subscribed a little before it begins).
pub const HOURS_ADMITTED: i64 = 1;

/// The hour `at` is in, counted from the Unix epoch.
pub fn hour(at: OffsetDateTime) -> i64 {
    at.unix_timestamp().div_euclid(3600)
}

/// The segment that names `user`.
fn who(user: &UserId) -> String {
    let digest = Sha256::digest(user.as_str().as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The channel of `user` for `hour`.
pub fn of(user: &UserId, hour: i64) -> String {
    format!("/{NAMESPACE}/{}/{hour}", who(user))
}

/// Whether `channel` is one of `user`'s that a subscription made at `now` may be for.
pub fn admits(channel: &str, user: &UserId, now: OffsetDateTime) -> bool {
    let current = hour(now);
    (current - HOURS_ADMITTED..=current + HOURS_ADMITTED).any(|h| of(user, h) == channel)
}

/// Whether `channel` is a person's channel at all, as a publish must be.
pub fn is_personal(channel: &str) -> bool {
    let mut segments = channel.strip_prefix('/').unwrap_or("").split('/');
    let (Some(NAMESPACE), Some(who), Some(hour), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return false;
    };
    who.len() == 32
        && who
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && hour.parse::<u32>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const ALICE: &str =
        "8:acs:2dee53b4-368b-45b4-ab52-8493fb117652_00000005-14a2-493b-8a72-5a3a0d000081";

    #[test]
    fn a_person_s_channel_is_three_short_segments_of_allowed_characters() {
        let alice = UserId::parse(ALICE).unwrap();
        let channel = of(&alice, 493_222);
        let segments: Vec<&str> = channel.trim_start_matches('/').split('/').collect();
        assert_eq!(segments.len(), 3, "{channel}");
        assert!(segments.iter().all(|s| {
            (1..=50).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }));
        assert!(is_personal(&channel));
        let bob = UserId::parse("8:acs:res_bob").unwrap();
        assert_ne!(of(&bob, 493_222), channel, "another person's");
    }

    #[test]
    fn a_subscription_is_admitted_for_its_own_person_and_only_around_now() {
        let alice = UserId::parse(ALICE).unwrap();
        let bob = UserId::parse("8:acs:res_bob").unwrap();
        let now = datetime!(2026-12-01 10:30 UTC);
        let current = hour(now);
        for h in [current - 1, current, current + 1] {
            assert!(admits(&of(&alice, h), &alice, now), "{h}");
        }
        for h in [current - 2, current + 2, 0] {
            assert!(!admits(&of(&alice, h), &alice, now), "{h}");
        }
        assert!(!admits(&of(&bob, current), &alice, now));
        for channel in ["/users/*", "/users", "/threads/313a", ""] {
            assert!(!admits(channel, &alice, now), "{channel}");
            assert!(!is_personal(channel), "{channel}");
        }
    }
}
