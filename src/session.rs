//! Sessions: how long a chain of refreshed tokens may last.
//!
//! An ACS token can be refreshed into a new one while it is valid, and ACS cannot revoke one
//! token alone; without a bound, one token would be a credential for ever. So whoever is given
//! a first token is also given a session, which we sign: who it is for, with which scopes,
//! and when it ends, a fixed time after that first token. `refresh_token` takes the session
//! with the token, and never issues a token that outlives it. The key is derived from the ACS
//! access key, which only the functions that issue tokens read; regenerating that key ends
//! every session.
//!
//! A session is `<payload>.<mac>`, both base64url: the payload is JSON
//! `{"u": user id, "iat": start, "exp": end}` (seconds since the epoch), and the MAC is
//! HMAC-SHA256 over the payload's text with the derived key. What a refreshed token may do is
//! what the token refreshed could: its scopes, read from it once ACS has accepted it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::acs::{AccessKey, UserId};

/// What the derived key is derived for: changing it ends every session.
const PURPOSE: &[u8] = b"acs-chat-api session v1";

/// Why a session is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the session is not one this service signed")]
    Forged,
    #[error("the session has ended; sign in again")]
    Ended,
    #[error("the session belongs to another user")]
    OtherUser,
}

/// A signed session, as its holder presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: UserId,
    pub started: OffsetDateTime,
    pub ends: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    u: UserId,
    iat: i64,
    exp: i64,
}

fn mac(key: &AccessKey) -> Hmac<Sha256> {
    let mut derive = <Hmac<Sha256> as Mac>::new_from_slice(key.bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    derive.update(PURPOSE);
    let derived = derive.finalize().into_bytes();
    <Hmac<Sha256> as Mac>::new_from_slice(&derived)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
}

impl Session {
    /// A session for `user_id` starting `now`, lasting `hours`.
    pub fn start(user_id: UserId, now: OffsetDateTime, hours: u32) -> Self {
        let now = now.replace_nanosecond(0).unwrap_or(now);
        Self {
            user_id,
            started: now,
            ends: now + time::Duration::hours(i64::from(hours)),
        }
    }

    /// The session as its holder is given it, signed with `key`.
    pub fn sign(&self, key: &AccessKey) -> String {
        let payload = Payload {
            u: self.user_id.clone(),
            iat: self.started.unix_timestamp(),
            exp: self.ends.unix_timestamp(),
        };
        // A struct of an id and two numbers always serialises.
        let text = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap_or_default());
        let mut mac = mac(key);
        mac.update(text.as_bytes());
        format!(
            "{text}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    /// Reads a session `key` signed, for `user_id`, not ended at `now`.
    pub fn verify(
        signed: &str,
        key: &AccessKey,
        user_id: &UserId,
        now: OffsetDateTime,
    ) -> Result<Self, SessionError> {
        let (text, signature) = signed.split_once('.').ok_or(SessionError::Forged)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| SessionError::Forged)?;
        let mut mac = mac(key);
        mac.update(text.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| SessionError::Forged)?;
        let payload: Payload = URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(SessionError::Forged)?;
        let at = |seconds| {
            OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| SessionError::Forged)
        };
        let session = Self {
            user_id: payload.u,
            started: at(payload.iat)?,
            ends: at(payload.exp)?,
        };
        if session.user_id != *user_id {
            return Err(SessionError::OtherUser);
        }
        if session.ends <= now {
            return Err(SessionError::Ended);
        }
        Ok(session)
    }

    /// Whole minutes left at `now`.
    pub fn minutes_left(&self, now: OffsetDateTime) -> i64 {
        (self.ends - now).whole_minutes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn key(byte: u8) -> AccessKey {
        AccessKey::from_base64(&base64::engine::general_purpose::STANDARD.encode([byte; 32]))
            .unwrap()
    }

    const NOW: OffsetDateTime = datetime!(2026-12-01 10:00 UTC);

    fn alice() -> UserId {
        UserId::parse("8:acs:res_alice").unwrap()
    }

    #[test]
    fn a_session_signed_with_the_key_reads_back_for_its_user_until_it_ends() {
        let session = Session::start(alice(), NOW, 24);
        let signed = session.sign(&key(1));
        let read = Session::verify(&signed, &key(1), &alice(), NOW + time::Duration::hours(23));
        assert_eq!(read, Ok(session.clone()));
        assert_eq!(
            Session::verify(&signed, &key(1), &alice(), NOW + time::Duration::hours(24)),
            Err(SessionError::Ended)
        );
        let bob = UserId::parse("8:acs:res_bob").unwrap();
        assert_eq!(
            Session::verify(&signed, &key(1), &bob, NOW),
            Err(SessionError::OtherUser)
        );
        assert_eq!(session.minutes_left(NOW + time::Duration::hours(23)), 60);
    }

    #[test]
    fn a_session_from_another_key_or_altered_is_forged() {
        let signed = Session::start(alice(), NOW, 24).sign(&key(1));
        assert_eq!(
            Session::verify(&signed, &key(2), &alice(), NOW),
            Err(SessionError::Forged)
        );
        let (payload, mac) = signed.split_once('.').unwrap();
        let longer = URL_SAFE_NO_PAD.encode(
            String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap())
                .unwrap()
                .replace(&NOW.unix_timestamp().to_string(), "0"),
        );
        for altered in [
            format!("{longer}.{mac}"),
            format!("{payload}."),
            payload.to_owned(),
            String::new(),
        ] {
            assert_eq!(
                Session::verify(&altered, &key(1), &alice(), NOW),
                Err(SessionError::Forged),
                "{altered}"
            );
        }
    }
}
