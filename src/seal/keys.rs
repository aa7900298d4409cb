//! The seal itself: its format, the keys that make and open it, and what is inside.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::acs::{BearerToken, Scope, UserId};
use crate::secrets::SecretError;

/// What every seal begins with; a raw ACS token (a JWT) never does.
pub const PREFIX: &str = "seal1.";

/// Bytes of the key id at the start of a seal.
const KEY_ID_LEN: usize = 4;

/// Fewest characters of a sealing key's text: 256 bits of base64 or hex-like randomness.
const MIN_KEY_CHARS: usize = 32;

/// Why a seal is refused. None of them says anything of what the seal holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the token is not one this service issued")]
    Malformed,
    #[error("the seal was made with a key this service does not hold")]
    UnknownKey,
    #[error("the seal was altered")]
    Tampered,
    #[error("the seal is for another deployment")]
    OtherAudience,
    #[error("the token has expired")]
    Expired,
}

/// What a seal holds.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// The ACS endpoint of the deployment the seal is for.
    #[serde(rename = "a")]
    pub audience: String,
    #[serde(rename = "t", serialize_with = "expose")]
    pub token: BearerToken,
    #[serde(rename = "u")]
    pub user_id: UserId,
    #[serde(rename = "s")]
    pub scopes: Vec<Scope>,
    /// When the ACS token inside expires, seconds since the epoch: written in the clear
    /// before the sealed part (bound in as associated data), so that a client holding only the
    /// seal knows when to refresh it, as it would read a JWT's `exp`.
    #[serde(skip)]
    pub token_expires: i64,
    /// The session this seal belongs to, and when it ends (seconds since the epoch).
    #[serde(rename = "sid")]
    pub session_id: String,
    #[serde(rename = "se")]
    pub session_ends: i64,
}

/// The ACS token's text, inside the seal only.
fn expose<S: serde::Serializer>(token: &BearerToken, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(token.expose())
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed")
            .field("audience", &self.audience)
            .field("user_id", &self.user_id)
            .field("scopes", &self.scopes)
            .field("token_expires", &self.token_expires)
            .field("session_ends", &self.session_ends)
            .finish_non_exhaustive()
    }
}

/// One sealing key: its id, and the AEAD key derived from its text.
struct Key {
    id: [u8; KEY_ID_LEN],
    aead: LessSafeKey,
}

impl Key {
    fn derive(text: &str) -> Result<Self, SecretError> {
        if text.len() < MIN_KEY_CHARS {
            return Err(SecretError::Malformed(format!(
                "a sealing key needs at least {MIN_KEY_CHARS} characters"
            )));
        }
        let derive = |purpose: &[u8]| {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(text.as_bytes())
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
            mac.update(purpose);
            mac.finalize().into_bytes()
        };
        let secret = derive(b"acs-chat-api seal key v1");
        let name = derive(b"acs-chat-api seal key id v1");
        let mut id = [0; KEY_ID_LEN];
        id.copy_from_slice(&name[..KEY_ID_LEN]);
        let unbound = UnboundKey::new(&AES_256_GCM, &secret)
            .map_err(|_| SecretError::Malformed("the sealing key could not be used".into()))?;
        Ok(Self {
            id,
            aead: LessSafeKey::new(unbound),
        })
    }
}

/// The sealing keys: the current one seals and opens, the previous one (while rotating) opens.
pub struct SealKeys {
    current: Key,
    previous: Option<Key>,
}

impl std::fmt::Debug for SealKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealKeys")
            .field("current", &URL_SAFE_NO_PAD.encode(self.current.id))
            .field("rotating", &self.previous.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct KeysSecret {
    current: String,
    #[serde(default)]
    previous: Option<String>,
}

/// Reads the sealing secret: `{"current": "<key>", "previous": "<key>"}` (previous optional or
/// empty), or a bare key. A key is any text of 32 characters or more (the template's generated
/// password is one); the AEAD key is derived from it.
pub fn parse_keys(raw: &str) -> Result<SealKeys, SecretError> {
    let raw = raw.trim();
    let secret = if raw.starts_with('{') {
        serde_json::from_str(raw).map_err(|_| {
            SecretError::Malformed("the sealing secret needs a current key string".into())
        })?
    } else {
        KeysSecret {
            current: raw.to_owned(),
            previous: None,
        }
    };
    let previous = secret.previous.filter(|text| !text.trim().is_empty());
    Ok(SealKeys {
        current: Key::derive(secret.current.trim())?,
        previous: previous
            .as_deref()
            .map(str::trim)
            .map(Key::derive)
            .transpose()?,
    })
}

impl SealKeys {
    /// Seals `contents` under the current key.
    pub fn seal(&self, contents: &Sealed) -> String {
        let mut nonce = [0; NONCE_LEN];
        // The system's generator fails only where nothing cryptographic could work at all.
        aws_lc_rs::rand::fill(&mut nonce)
            .unwrap_or_else(|_| unreachable!("the system random generator is unavailable"));
        // Strings and numbers always serialise.
        let mut body = serde_json::to_vec(contents).unwrap_or_default();
        let key = &self.current;
        let tag = key
            .aead
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(associated(contents.token_expires, &key.id)),
                &mut body,
            )
            .unwrap_or_else(|_| unreachable!("AES-GCM seals any message under 64 GiB"));
        let mut bytes = Vec::with_capacity(KEY_ID_LEN + NONCE_LEN + body.len() + 16);
        bytes.extend_from_slice(&key.id);
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(tag.as_ref());
        let expires = contents.token_expires;
        format!("{PREFIX}{expires}.{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Opens a seal made for `audience` whose ACS token has not expired at `now`.
    pub fn open(
        &self,
        seal: &str,
        audience: &str,
        now: OffsetDateTime,
    ) -> Result<Sealed, SealError> {
        let (expires, encoded) = seal
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('.'))
            .ok_or(SealError::Malformed)?;
        let expires: i64 = expires.parse().map_err(|_| SealError::Malformed)?;
        let mut bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| SealError::Malformed)?;
        if bytes.len() < KEY_ID_LEN + NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(SealError::Malformed);
        }
        let key = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|key| bytes[..KEY_ID_LEN] == key.id)
            .ok_or(SealError::UnknownKey)?;
        let nonce = Nonce::try_assume_unique_for_key(&bytes[KEY_ID_LEN..KEY_ID_LEN + NONCE_LEN])
            .map_err(|_| SealError::Malformed)?;
        let body = key
            .aead
            .open_in_place(
                nonce,
                Aad::from(associated(expires, &key.id)),
                &mut bytes[KEY_ID_LEN + NONCE_LEN..],
            )
            .map_err(|_| SealError::Tampered)?;
        let mut sealed: Sealed = serde_json::from_slice(body).map_err(|_| SealError::Tampered)?;
        sealed.token_expires = expires;
        if sealed.audience != audience {
            return Err(SealError::OtherAudience);
        }
        if sealed.token_expires <= now.unix_timestamp() {
            return Err(SealError::Expired);
        }
        Ok(sealed)
    }
}

/// What each seal's tag also covers: its version, its clear expiry and its key id.
fn associated(expires: i64, id: &[u8; KEY_ID_LEN]) -> Vec<u8> {
    let mut aad = format!("{PREFIX}{expires}.").into_bytes();
    aad.extend_from_slice(id);
    aad
}

/// A fresh session id: 16 random bytes, base64url.
pub fn new_session_id() -> String {
    let mut bytes = [0; 16];
    aws_lc_rs::rand::fill(&mut bytes)
        .unwrap_or_else(|_| unreachable!("the system random generator is unavailable"));
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-07 10:00 UTC);
    const AUDIENCE: &str = "https://x.communication.azure.com/";
    const KEY_A: &str = "test-sealing-key-a-0123456789abcdef";
    const KEY_B: &str = "test-sealing-key-b-0123456789abcdef";

    fn contents() -> Sealed {
        Sealed {
            audience: AUDIENCE.into(),
            token: BearerToken::new("eyJhbGciOiJSUzI1NiJ9.acs-token-inside.sig"),
            user_id: UserId::parse("8:acs:res_alice").unwrap(),
            scopes: vec![Scope::Chat],
            token_expires: (NOW + time::Duration::hours(24)).unix_timestamp(),
            session_id: new_session_id(),
            session_ends: (NOW + time::Duration::days(7)).unix_timestamp(),
        }
    }

    fn keys(raw: &str) -> SealKeys {
        parse_keys(raw).unwrap()
    }

    #[test]
    fn a_seal_opens_to_what_was_sealed_and_shows_none_of_it() {
        let keys = keys(KEY_A);
        let sealed = contents();
        let seal = keys.seal(&sealed);
        assert!(seal.starts_with(PREFIX));
        assert!(!seal.contains("acs-token-inside") && !seal.contains("res_alice"));
        assert_eq!(keys.open(&seal, AUDIENCE, NOW), Ok(sealed.clone()));
        // Two seals of the same contents differ: each has a nonce of its own.
        assert_ne!(keys.seal(&sealed), keys.seal(&sealed));
    }

    /// A seal's clear part (`seal1.<expiry>.`) and its sealed bytes.
    fn parts(seal: &str) -> (String, Vec<u8>) {
        let at = seal.rfind('.').unwrap() + 1;
        (
            seal[..at].to_owned(),
            URL_SAFE_NO_PAD.decode(&seal[at..]).unwrap(),
        )
    }

    #[test]
    fn a_seal_with_any_byte_changed_or_cut_short_is_refused() {
        let keys = keys(KEY_A);
        let seal = keys.seal(&contents());
        let (clear, mut bytes) = parts(&seal);
        for at in 0..bytes.len() {
            bytes[at] ^= 0x01;
            let altered = format!("{clear}{}", URL_SAFE_NO_PAD.encode(&bytes));
            let refused = keys.open(&altered, AUDIENCE, NOW).unwrap_err();
            let expected = if at < KEY_ID_LEN {
                SealError::UnknownKey
            } else {
                SealError::Tampered
            };
            assert_eq!(refused, expected, "byte {at}");
            bytes[at] ^= 0x01;
        }
        for cut in [0, 10, KEY_ID_LEN + NONCE_LEN + 15] {
            let short = format!("{clear}{}", URL_SAFE_NO_PAD.encode(&bytes[..cut]));
            assert_eq!(keys.open(&short, AUDIENCE, NOW), Err(SealError::Malformed));
        }
        let tampered_end = format!(
            "{clear}{}",
            URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() - 1])
        );
        assert_eq!(
            keys.open(&tampered_end, AUDIENCE, NOW),
            Err(SealError::Tampered)
        );
        // The clear expiry is covered by the tag: a later one does not open.
        let later = seal.replacen(&contents().token_expires.to_string(), "99999999999", 1);
        assert_eq!(keys.open(&later, AUDIENCE, NOW), Err(SealError::Tampered));
        for odd in [
            "",
            "seal1.",
            "seal1.***",
            "seal1.x.AAAA",
            "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
        ] {
            assert_eq!(
                keys.open(odd, AUDIENCE, NOW),
                Err(SealError::Malformed),
                "{odd}"
            );
        }
    }

    #[test]
    fn another_key_another_audience_or_an_expired_token_is_refused() {
        let seal = keys(KEY_A).seal(&contents());
        assert_eq!(
            keys(KEY_B).open(&seal, AUDIENCE, NOW),
            Err(SealError::UnknownKey)
        );
        assert_eq!(
            keys(KEY_A).open(&seal, "https://y.communication.azure.com/", NOW),
            Err(SealError::OtherAudience)
        );
        assert_eq!(
            keys(KEY_A).open(&seal, AUDIENCE, NOW + time::Duration::hours(24)),
            Err(SealError::Expired)
        );
    }

    #[test]
    fn while_rotating_the_previous_key_opens_and_only_the_current_one_seals() {
        let old = keys(KEY_A).seal(&contents());
        let rotating = keys(&format!(r#"{{"current":"{KEY_B}","previous":"{KEY_A}"}}"#));
        assert!(rotating.open(&old, AUDIENCE, NOW).is_ok());
        let new = rotating.seal(&contents());
        assert!(keys(KEY_B).open(&new, AUDIENCE, NOW).is_ok());
        assert_eq!(
            keys(KEY_A).open(&new, AUDIENCE, NOW),
            Err(SealError::UnknownKey)
        );
        let rotated = keys(&format!(r#"{{"current":"{KEY_B}","previous":""}}"#));
        assert_eq!(
            rotated.open(&old, AUDIENCE, NOW),
            Err(SealError::UnknownKey)
        );
    }

    #[test]
    fn a_sealing_secret_too_short_or_without_a_current_key_is_refused_unechoed() {
        for raw in [
            "",
            "short-key",
            "{}",
            r#"{"current": 7}"#,
            r#"{"current":"k"}"#,
        ] {
            let refused = parse_keys(raw).unwrap_err();
            assert!(matches!(refused, SecretError::Malformed(_)), "{raw}");
            assert!(!refused.to_string().contains("short-key"), "{refused}");
        }
    }

    #[test]
    fn a_seal_of_a_real_sized_acs_token_stays_under_two_kilobytes() {
        let mut long = contents();
        long.token = BearerToken::new("x".repeat(1000));
        assert!(keys(KEY_A).seal(&long).len() <= 2048);
    }

    #[test]
    fn formatting_keys_or_contents_shows_no_token_and_no_key() {
        let keys = keys(KEY_A);
        for text in [format!("{keys:?}"), format!("{:?}", contents())] {
            assert!(
                !text.contains(KEY_A) && !text.contains("acs-token-inside"),
                "{text}"
            );
        }
    }
}
