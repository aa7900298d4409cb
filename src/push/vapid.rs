//! VAPID (RFC 8292): who sends a push, proved to the push service by a short JWT signed with
//! ES256 under the deployment's P-256 key, whose public half the page subscribes with. A push
//! service takes only pushes signed by the key a subscription was made for.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::secrets::SecretError;

/// How long a JWT lasts: RFC 8292 allows up to 24 hours; push services take 12 comfortably.
pub const LIFETIME_SECONDS: i64 = 12 * 3600;

/// Why a key or a signature failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VapidError {
    #[error("the VAPID key is not a P-256 private key with its public key")]
    BadKey,
    #[error("the JWT could not be signed")]
    Signing,
}

/// The deployment's VAPID key pair.
pub struct VapidKey {
    key: EcdsaKeyPair,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// The secret as `web-push generate-vapid-keys --json` (and `scripts/vapid_keys.py`) print it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyPairText {
    public_key: String,
    private_key: String,
}

fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(text.trim().trim_end_matches('='))
        .ok()
}

impl VapidKey {
    /// The key from its private scalar and public point, each base64url.
    pub fn new(private_key: &str, public_key: &str) -> Result<Self, VapidError> {
        let (private, public) = decode(private_key)
            .zip(decode(public_key))
            .ok_or(VapidError::BadKey)?;
        let key = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &private,
            &public,
        )
        .map_err(|_| VapidError::BadKey)?;
        Ok(Self { key })
    }

    /// The key from its secret: `{"publicKey": ..., "privateKey": ...}`.
    pub fn from_secret(raw: &str) -> Result<Self, SecretError> {
        let text: KeyPairText = serde_json::from_str(raw).map_err(|_| {
            SecretError::Malformed("the VAPID secret is not {\"publicKey\", \"privateKey\"}".into())
        })?;
        Self::new(&text.private_key, &text.public_key)
            .map_err(|e| SecretError::Malformed(e.to_string()))
    }

    /// The public key, base64url: the page's `applicationServerKey` and the header's `k`.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.public_key().as_ref())
    }

    /// The `Authorization` header for a push to `audience` (the origin of the subscription's
    /// endpoint) from `subject` (a `mailto:` or `https:` contact), valid from `now` (epoch
    /// seconds) for [`LIFETIME_SECONDS`].
    pub fn authorization(
        &self,
        audience: &str,
        subject: &str,
        now: i64,
    ) -> Result<String, VapidError> {
        let signed = signing_input(audience, now + LIFETIME_SECONDS, subject);
        let signature = self
            .key
            .sign(&SystemRandom::new(), signed.as_bytes())
            .map_err(|_| VapidError::Signing)?;
        let signature = URL_SAFE_NO_PAD.encode(signature.as_ref());
        Ok(format!(
            "vapid t={signed}.{signature}, k={}",
            self.public_key()
        ))
    }
}

/// The JWT's header and claims, encoded, as they are signed.
fn signing_input(audience: &str, expires: i64, subject: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
    // serde_json writes the keys sorted: aud, exp, sub, as RFC 8292's example does.
    let claims = serde_json::json!({"aud": audience, "exp": expires, "sub": subject});
    format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The application server's key pair of RFC 8291's example, as a VAPID key.
    const PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    const PUBLIC: &str =
        "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";

    /// RFC 8292's example (2.4): its JWT's header and claims, as they are signed.
    const RFC_SIGNED: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJodHRwczovL3B1c2guZXhhbXBsZS5uZXQiLCJleHAiOjE0NTM1MjM3NjgsInN1YiI6Im1haWx0bzpwdXNoQGV4YW1wbGUuY29tIn0";
    const RFC_EXP: i64 = 1_453_523_768;

    #[test]
    fn the_claims_of_rfc_8292_s_example_are_encoded_exactly_as_the_rfc_signs_them() {
        let ours = signing_input(
            "https://push.example.net",
            RFC_EXP,
            "mailto:push@example.com",
        );
        assert_eq!(ours, RFC_SIGNED);
    }

    #[test]
    fn our_header_is_signed_by_our_public_key_over_the_audience_the_contact_and_its_end() {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
        let key = VapidKey::new(PRIVATE, PUBLIC).unwrap();
        let now = 1_800_000_000;
        let header = key
            .authorization("https://push.example.net", "mailto:ops@example.com", now)
            .unwrap();
        let (token, k) = header
            .strip_prefix("vapid t=")
            .unwrap()
            .split_once(", k=")
            .unwrap();
        assert_eq!(k, PUBLIC);
        let (signed, signature) = token.rsplit_once('.').unwrap();
        assert_eq!(
            signed,
            signing_input(
                "https://push.example.net",
                now + LIFETIME_SECONDS,
                "mailto:ops@example.com"
            )
        );
        let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, decode(PUBLIC).unwrap());
        let signature = decode(signature).unwrap();
        assert!(public.verify(signed.as_bytes(), &signature).is_ok());
        assert!(public.verify(b"something else", &signature).is_err());
    }

    #[test]
    fn a_private_key_that_does_not_match_its_public_key_is_refused() {
        let other = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
        assert_eq!(
            VapidKey::new(other, PUBLIC).unwrap_err(),
            VapidError::BadKey
        );
        assert_eq!(
            VapidKey::new("not base64!", PUBLIC).unwrap_err(),
            VapidError::BadKey
        );
        let secret = format!(r#"{{"publicKey": "{PUBLIC}", "privateKey": "{PRIVATE}"}}"#);
        assert_eq!(VapidKey::from_secret(&secret).unwrap().public_key(), PUBLIC);
        assert!(VapidKey::from_secret(PRIVATE).is_err());
    }
}
