//! User access tokens: JWT-shaped like ACS's, signed with the emulator's key so they can be
//! checked without a lookup, and refusable after revocation by a per-token serial number.
//!
//! The official Python SDK decodes the payload with the standard base64 alphabet and silently
//! drops `-` and `_`, so a payload must encode to neither. For ASCII JSON that only happens when
//! `>`, `?`, `~` or DEL ends a 3-byte group, and our claims never contain them (a test holds it).

use acs_core::AccessKey;
use acs_core::auth;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

const HEADER: &str = r#"{"alg":"HS256","kid":"emulator","typ":"JWT"}"#;

/// What an emulator token carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    /// The identity without its `8:` prefix, as ACS writes it.
    pub skypeid: String,
    #[serde(rename = "scp")]
    pub scp: u32,
    /// Issue time as a string, as ACS writes it.
    pub csi: String,
    pub exp: i64,
    pub acs_scope: String,
    pub resource_id: String,
    pub iat: i64,
    /// Emulator-only: orders tokens so that revocation can refuse all issued before it.
    pub serial: u64,
}

impl Claims {
    /// The identity's raw id.
    pub fn user_id(&self) -> String {
        format!("8:{}", self.skypeid)
    }

    /// The scopes the token grants.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.acs_scope.split(',').map(str::trim)
    }
}

/// Signs claims into a token.
pub fn encode(key: &AccessKey, claims: &Claims) -> String {
    let header = URL_SAFE_NO_PAD.encode(HEADER);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let signature = auth::signature(key, &signing_input);
    let signature = URL_SAFE_NO_PAD.encode(
        base64::engine::general_purpose::STANDARD
            .decode(signature)
            .unwrap_or_default(),
    );
    format!("{signing_input}.{signature}")
}

/// Checks the signature and returns the claims; expiry and revocation are the caller's call.
pub fn decode(key: &AccessKey, token: &str) -> Option<Claims> {
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (_, payload) = signing_input.split_once('.')?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let signature = base64::engine::general_purpose::STANDARD.encode(signature);
    if !auth::verify_signature(key, signing_input, &signature) {
        return None;
    }
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(skypeid: &str) -> Claims {
        Claims {
            skypeid: skypeid.into(),
            scp: 1792,
            csi: "1700000000".into(),
            exp: 1_700_086_400,
            acs_scope: "chat,voip".into(),
            resource_id: "00000000-1111-2222-3333-444444444444".into(),
            iat: 1_700_000_000,
            serial: 7,
        }
    }

    fn key() -> AccessKey {
        AccessKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap()
    }

    #[test]
    fn round_trips_and_is_readable_by_the_core() {
        let claims = claims("acs:00000000-1111-2222-3333-444444444444_0000-ab");
        let token = encode(&key(), &claims);
        assert_eq!(decode(&key(), &token), Some(claims.clone()));
        let read = acs_core::token::read_claims(&token).unwrap();
        assert_eq!(read.user_id.as_str(), claims.user_id());
        assert_eq!(read.expires_at.unix_timestamp(), claims.exp);
        assert_eq!(claims.scopes().collect::<Vec<_>>(), ["chat", "voip"]);
    }

    #[test]
    fn refuses_a_token_signed_with_another_key_or_altered() {
        let token = encode(&key(), &claims("acs:x_1"));
        let other = AccessKey::from_base64("YWJjZA==").unwrap();
        assert_eq!(decode(&other, &token), None);
        let forged = encode(&other, &claims("acs:x_1"));
        assert_eq!(decode(&key(), &forged), None);
        assert_eq!(decode(&key(), "a.b"), None);
    }

    #[test]
    fn payload_never_uses_the_characters_the_python_sdk_drops() {
        for n in 0..200u32 {
            let mut claims = claims(&format!("acs:{}_{}", "r".repeat(n as usize % 7), n));
            claims.serial = u64::from(n) * 7919;
            claims.exp += i64::from(n);
            let token = encode(&key(), &claims);
            let payload = token.split('.').nth(1).unwrap();
            assert!(!payload.contains(['-', '_']), "{payload}");
        }
    }
}
