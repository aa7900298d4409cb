//! How the stand-in push service judges a push, written apart from the product's sender (which
//! seals with an HKDF and signs with its own JWT code), so that a fault both sides shared could
//! not pass: an `aes128gcm` body opened as a browser opens it (RFC 8291 3.4, RFC 8188 2), each
//! HMAC-SHA-256 of the derivation spelled out; and a VAPID header checked as a push service
//! checks it (RFC 8292). Both are held to the RFCs' own examples.

use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::agreement::{self, ECDH_P256, PrivateKey, UnparsedPublicKey};
use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, ECDSA_P256_SHA256_FIXED};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

/// The longest a VAPID JWT may live (RFC 8292 2).
const MAX_VAPID_SECONDS: i64 = 24 * 3600;

/// An uncompressed P-256 point: the sender's key in the body's header.
const POINT_LEN: usize = 65;

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> hmac::Tag {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut context = hmac::Context::with_key(&key);
    for part in parts {
        context.update(part);
    }
    context.sign()
}

/// The plaintext of `body`, a push sealed to the subscription whose keys are `private` and
/// `auth`; `None` when it does not open, whatever the reason.
pub fn open(private: &PrivateKey, auth: &[u8; 16], body: &[u8]) -> Option<Vec<u8>> {
    // The header: salt (16), record size (4), key id length (1), key id (the sender's key).
    let salt = body.get(..16)?;
    let record_size = u32::from_be_bytes(body.get(16..20)?.try_into().ok()?) as usize;
    let id_len = usize::from(*body.get(20)?);
    if id_len != POINT_LEN {
        return None;
    }
    let sender = body.get(21..21 + id_len)?;
    let record = body.get(21 + id_len..)?;
    // One record only: a push is at most 4096 bytes, and the sender writes one.
    if record.len() < 17 || record.len() > record_size {
        return None;
    }
    let receiver = private.compute_public_key().ok()?;
    let ecdh = agreement::agree(
        private,
        UnparsedPublicKey::new(&ECDH_P256, sender),
        (),
        |shared| Ok(shared.to_vec()),
    )
    .ok()?;
    let prk_key = hmac_sha256(auth, &[&ecdh]);
    let ikm = hmac_sha256(
        prk_key.as_ref(),
        &[b"WebPush: info\0", receiver.as_ref(), sender, &[1]],
    );
    let prk = hmac_sha256(salt, &[ikm.as_ref()]);
    let cek = hmac_sha256(prk.as_ref(), &[b"Content-Encoding: aes128gcm\0", &[1]]);
    let nonce = hmac_sha256(prk.as_ref(), &[b"Content-Encoding: nonce\0", &[1]]);
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &cek.as_ref()[..16]).ok()?);
    let nonce = Nonce::try_assume_unique_for_key(&nonce.as_ref()[..12]).ok()?;
    let mut sealed = record.to_vec();
    let plain = key.open_in_place(nonce, Aad::empty(), &mut sealed).ok()?;
    // The last record's padding: its delimiter, 2, then zeros.
    let delimiter = plain.iter().rposition(|&byte| byte != 0)?;
    (plain[delimiter] == 2).then(|| plain[..delimiter].to_vec())
}

/// What a VAPID header that verified says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vapid {
    /// `k`, the key that signed it, base64url without padding.
    pub public_key: String,
    pub audience: String,
    pub subject: String,
}

#[derive(Deserialize)]
struct JwtHeader {
    alg: String,
}

#[derive(Deserialize)]
struct JwtClaims {
    aud: String,
    exp: i64,
    sub: String,
}

fn base64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// Checks `Authorization: vapid t=<JWT>, k=<key>` at `now` (Unix seconds): an ES256 JWT signed
/// by `k`, alive and living no more than 24 hours, with a `mailto:` or `https:` contact.
pub fn verify(header: &str, now: i64) -> Result<Vapid, &'static str> {
    let params = header
        .strip_prefix("vapid ")
        .ok_or("not the vapid scheme")?;
    let mut token = None;
    let mut key = None;
    for param in params.split(',') {
        match param.trim().split_once('=') {
            Some(("t", value)) => token = Some(value.trim()),
            Some(("k", value)) => key = Some(value.trim()),
            _ => {}
        }
    }
    let token = token.ok_or("no t")?;
    let key = key.ok_or("no k")?;
    let mut parts = token.split('.');
    let (Some(head), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("t is not a JWT");
    };
    let signed = &token[..head.len() + 1 + claims.len()];
    let head: JwtHeader = base64url(head)
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or("unreadable header")?;
    if head.alg != "ES256" {
        return Err("not ES256");
    }
    let public = base64url(key).ok_or("k is not base64url")?;
    let signature = base64url(signature).ok_or("unreadable signature")?;
    signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| "the signature does not verify with k")?;
    let claims: JwtClaims = base64url(claims)
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or("unreadable claims")?;
    if claims.exp <= now {
        return Err("expired");
    }
    if claims.exp - now > MAX_VAPID_SECONDS {
        return Err("lives past 24 hours");
    }
    if !["mailto:", "https:"]
        .iter()
        .any(|scheme| claims.sub.starts_with(scheme))
    {
        return Err("sub is not a mailto: or https: contact");
    }
    Ok(Vapid {
        public_key: URL_SAFE_NO_PAD.encode(public),
        audience: claims.aud,
        subject: claims.sub,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).unwrap()
    }

    /// RFC 8291 Appendix A: the user agent's private key, its auth secret, and the body sent.
    const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const BODY: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    /// RFC 8292 2.4 and 3.1: the example JWT and the key that signed it.
    const JWT: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJodHRwczovL3B1c2guZXhhbXBsZS5uZXQiLCJleHAiOjE0NTM1MjM3NjgsInN1YiI6Im1haWx0bzpwdXNoQGV4YW1wbGUuY29tIn0.i3CYb7t4xfxCDquptFOepC9GAu_HLGkMlMuCGSK2rpiUfnK9ojFwDXb1JrErtmysazNjjvW2L9OkSSHzvoD1oA";
    const JWT_KEY: &str =
        "BA1Hxzyi1RUM1b5wjxsn7nGxAszw2u61m164i3MrAIxHF6YK5h4SDYic-dRuU_RCPCfA5aq9ojSwk5Y2EmClBPs";
    const JWT_EXP: i64 = 1_453_523_768;

    fn ua() -> (PrivateKey, [u8; 16]) {
        let private = PrivateKey::from_private_key(&ECDH_P256, &bytes(UA_PRIVATE)).unwrap();
        (private, bytes(AUTH).try_into().unwrap())
    }

    #[test]
    fn the_body_of_rfc_8291_s_example_opens_to_its_plaintext() {
        let (private, auth) = ua();
        assert_eq!(
            open(&private, &auth, &bytes(BODY)).unwrap(),
            b"When I grow up, I want to be a watermelon"
        );
    }

    #[test]
    fn a_body_changed_cut_or_sealed_to_other_keys_does_not_open() {
        let (private, auth) = ua();
        let body = bytes(BODY);
        let mut flipped = body.clone();
        *flipped.last_mut().unwrap() ^= 1;
        let mut other_salt = body.clone();
        other_salt[0] ^= 1;
        for (what, body) in [
            ("a flipped tag", flipped.as_slice()),
            ("another salt", &other_salt),
            ("a cut body", &body[..40]),
            ("an empty body", &[]),
        ] {
            assert_eq!(open(&private, &auth, body), None, "{what}");
        }
        assert_eq!(open(&private, &[0; 16], &body), None, "another auth secret");
        let stranger = PrivateKey::generate(&ECDH_P256).unwrap();
        assert_eq!(open(&stranger, &auth, &body), None, "another private key");
    }

    #[test]
    fn rfc_8292_s_example_verifies_while_it_lives_and_names_its_audience_and_contact() {
        let header = format!("vapid t={JWT}, k={JWT_KEY}");
        assert_eq!(
            verify(&header, JWT_EXP - 3600),
            Ok(Vapid {
                public_key: JWT_KEY.into(),
                audience: "https://push.example.net".into(),
                subject: "mailto:push@example.com".into(),
            })
        );
        assert_eq!(verify(&header, JWT_EXP), Err("expired"));
        assert_eq!(
            verify(&header, JWT_EXP - 25 * 3600),
            Err("lives past 24 hours")
        );
    }

    #[test]
    fn a_vapid_header_with_another_key_a_changed_claim_or_no_scheme_is_refused() {
        let other_key = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
        let now = JWT_EXP - 3600;
        assert_eq!(
            verify(&format!("vapid t={JWT}, k={other_key}"), now),
            Err("the signature does not verify with k")
        );
        let changed = JWT.replacen(
            ".eyJhdWQiOiJodHRwczovL3B1c2",
            ".eyJhdWQiOiJodHRwczovL3B1c3",
            1,
        );
        assert_eq!(
            verify(&format!("vapid t={changed}, k={JWT_KEY}"), now),
            Err("the signature does not verify with k")
        );
        assert_eq!(
            verify(&format!("WebPush {JWT}"), now),
            Err("not the vapid scheme")
        );
        assert_eq!(verify(&format!("vapid k={JWT_KEY}"), now), Err("no t"));
    }
}
