//! VAPID (RFC 8292): who sends a push, proved to the push service by a short JWT signed with
//! ES256 under the deployment's P-256 key, whose public half the page subscribes with. A push
//! service takes only pushes signed by the key a subscription was made for.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::secrets::SecretError;

/// How long a JWT lasts: RFC 8292 allows up to 24 hours; push services take 12 comfortably.
pub const LIFETIME_SECONDS: i64 = 12 * 3600;
/// The longest life a push service accepts (RFC 8292 2).
pub const MAX_LIFETIME_SECONDS: i64 = 24 * 3600;

/// Why a key, a signature or a presented header failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VapidError {
    #[error("the VAPID key is not a P-256 private key with its public key")]
    BadKey,
    #[error("the JWT could not be signed")]
    Signing,
    #[error("the VAPID header is refused: {0}")]
    Refused(&'static str),
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

/// What a verified header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// `k`: the key that signed it, base64url.
    pub public_key: String,
    pub audience: String,
    pub subject: String,
    pub expires: i64,
}

#[derive(Deserialize)]
struct Claims {
    aud: String,
    exp: i64,
    sub: String,
}

/// Checks an `Authorization: vapid t=<jwt>, k=<key>` header as a push service does: ES256 by
/// `k`, not expired at `now` and not living past RFC 8292's 24 hours, with a contact.
pub fn verify(header: &str, now: i64) -> Result<Verified, VapidError> {
    let params = header
        .strip_prefix("vapid ")
        .ok_or(VapidError::Refused("not the vapid scheme"))?;
    let param = |name: &str| {
        params
            .split(',')
            .filter_map(|part| part.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.trim())
    };
    let token = param("t").ok_or(VapidError::Refused("no t"))?;
    let key = param("k").ok_or(VapidError::Refused("no k"))?;
    let (signed, signature) = token
        .rsplit_once('.')
        .ok_or(VapidError::Refused("t is not a JWT"))?;
    let (head, claims) = signed
        .split_once('.')
        .ok_or(VapidError::Refused("t is not a JWT"))?;
    let head: serde_json::Value = decode(head)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(VapidError::Refused("unreadable header"))?;
    if head["alg"] != "ES256" {
        return Err(VapidError::Refused("not ES256"));
    }
    let public = decode(key).ok_or(VapidError::Refused("k is not base64url"))?;
    let signature = decode(signature).ok_or(VapidError::Refused("unreadable signature"))?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| VapidError::Refused("the signature does not verify with k"))?;
    let claims: Claims = decode(claims)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(VapidError::Refused("unreadable claims"))?;
    if claims.exp <= now {
        return Err(VapidError::Refused("expired"));
    }
    if claims.exp > now + MAX_LIFETIME_SECONDS {
        return Err(VapidError::Refused("lives past 24 hours"));
    }
    if !(claims.sub.starts_with("mailto:") || claims.sub.starts_with("https:")) {
        return Err(VapidError::Refused(
            "sub is not a mailto: or https: contact",
        ));
    }
    Ok(Verified {
        public_key: URL_SAFE_NO_PAD.encode(public),
        audience: claims.aud,
        subject: claims.sub,
        expires: claims.exp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The application server's key pair of RFC 8291's example, as a VAPID key.
    const PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    const PUBLIC: &str =
        "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";

    /// RFC 8292's example (2.4 and 3.1): its JWT, split where it is signed, and its key.
    const RFC_SIGNED: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJodHRwczovL3B1c2guZXhhbXBsZS5uZXQiLCJleHAiOjE0NTM1MjM3NjgsInN1YiI6Im1haWx0bzpwdXNoQGV4YW1wbGUuY29tIn0";
    const RFC_SIGNATURE: &str =
        "i3CYb7t4xfxCDquptFOepC9GAu_HLGkMlMuCGSK2rpiUfnK9ojFwDXb1JrErtmysazNjjvW2L9OkSSHzvoD1oA";
    const RFC_KEY: &str =
        "BA1Hxzyi1RUM1b5wjxsn7nGxAszw2u61m164i3MrAIxHF6YK5h4SDYic-dRuU_RCPCfA5aq9ojSwk5Y2EmClBPs";
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
    fn rfc_8292_s_example_header_verifies_while_it_lives_and_not_after() {
        let header = format!("vapid t={RFC_SIGNED}.{RFC_SIGNATURE}, k={RFC_KEY}");
        let verified = verify(&header, RFC_EXP - 3600).unwrap();
        assert_eq!(
            verified,
            Verified {
                public_key: RFC_KEY.into(),
                audience: "https://push.example.net".into(),
                subject: "mailto:push@example.com".into(),
                expires: RFC_EXP,
            }
        );
        assert_eq!(
            verify(&header, RFC_EXP),
            Err(VapidError::Refused("expired"))
        );
        assert_eq!(
            verify(&header, RFC_EXP - 25 * 3600),
            Err(VapidError::Refused("lives past 24 hours"))
        );
        let other_key = format!("vapid t={RFC_SIGNED}.{RFC_SIGNATURE}, k={PUBLIC}");
        assert_eq!(
            verify(&other_key, RFC_EXP - 3600),
            Err(VapidError::Refused("the signature does not verify with k"))
        );
    }

    #[test]
    fn our_header_verifies_with_our_public_key_and_names_the_audience_and_contact() {
        let key = VapidKey::new(PRIVATE, PUBLIC).unwrap();
        let now = 1_800_000_000;
        let header = key
            .authorization("https://push.example.net", "mailto:ops@example.com", now)
            .unwrap();
        assert_eq!(
            verify(&header, now).unwrap(),
            Verified {
                public_key: PUBLIC.into(),
                audience: "https://push.example.net".into(),
                subject: "mailto:ops@example.com".into(),
                expires: now + LIFETIME_SECONDS,
            }
        );
        let forged = header.replacen("eyJ", "eyK", 2);
        assert!(verify(&forged, now).is_err());
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
