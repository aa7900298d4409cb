//! Web Push message encryption (RFC 8291): the payload sealed for one subscription with
//! `aes128gcm` (RFC 8188), in one record, with `aws-lc-rs` (P-256 ECDH, HKDF-SHA256,
//! AES-128-GCM), our one crypto library.

use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::agreement::{self, ECDH_P256, ParsedPublicKey, PrivateKey, UnparsedPublicKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Salt};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// The record size written in the header: one record holds any payload we send.
const RECORD_SIZE: u32 = 4096;
/// The largest plaintext one record holds: the record less its tag and padding delimiter.
pub const MAX_PLAINTEXT: usize = RECORD_SIZE as usize - 16 - 1;

/// Why a payload could not be sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the subscription's p256dh is not a P-256 public key")]
    BadPublicKey,
    #[error("the payload is larger than one record")]
    TooLarge,
    #[error("the cryptography failed")]
    Crypto,
}

impl From<aws_lc_rs::error::Unspecified> for SealError {
    fn from(_: aws_lc_rs::error::Unspecified) -> Self {
        Self::Crypto
    }
}

/// The keys of one subscription, as the browser gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receiver {
    /// `p256dh`: the browser's P-256 public key, uncompressed (65 bytes).
    pub public_key: Vec<u8>,
    /// `auth`: the 16-byte authentication secret.
    pub auth: [u8; 16],
}

/// Seals `plaintext` for `receiver` with a fresh key pair and salt: the request body.
pub fn seal(receiver: &Receiver, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
    let mut salt = [0u8; 16];
    SystemRandom::new().fill(&mut salt)?;
    let private = PrivateKey::generate(&ECDH_P256)?;
    seal_with(receiver, plaintext, &private, salt)
}

/// [`seal`] with the sender's key and salt given, as RFC 8291's example gives them.
pub fn seal_with(
    receiver: &Receiver,
    plaintext: &[u8],
    private: &PrivateKey,
    salt: [u8; 16],
) -> Result<Vec<u8>, SealError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(SealError::TooLarge);
    }
    let public = private.compute_public_key()?;
    let public = public.as_ref();
    let peer = UnparsedPublicKey::new(&ECDH_P256, &receiver.public_key);
    let shared = agreement::agree(private, peer, SealError::BadPublicKey, |secret| {
        Ok(secret.to_vec())
    })?;
    let (cek, nonce) = content_keys(&salt, &receiver.auth, &shared, &receiver.public_key, public)?;
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &cek)?);
    let nonce = Nonce::try_assume_unique_for_key(&nonce)?;
    let mut record = [plaintext, &[2]].concat();
    key.seal_in_place_append_tag(nonce, Aad::empty(), &mut record)?;

    let mut body = Vec::with_capacity(16 + 4 + 1 + public.len() + record.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(u8::try_from(public.len()).map_err(|_| SealError::Crypto)?);
    body.extend_from_slice(public);
    body.extend_from_slice(&record);
    Ok(body)
}

/// Whether `key` is a P-256 point a payload can be sealed for: parsed as a key agreement
/// parses it, which refuses a point off the curve.
pub fn is_public_key(key: &[u8]) -> bool {
    ParsedPublicKey::try_from(&UnparsedPublicKey::new(&ECDH_P256, key)).is_ok()
}

/// The content key and nonce of a record: the ECDH secret bound to both public keys and the
/// receiver's auth secret (RFC 8291 3.3), then RFC 8188's derivations (2.2, 2.3).
fn content_keys(
    salt: &[u8],
    auth: &[u8],
    shared: &[u8],
    receiver: &[u8],
    sender: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), SealError> {
    let key_info = [b"WebPush: info\0".as_slice(), receiver, sender].concat();
    let ikm = expand(auth, shared, &key_info, 32)?;
    Ok((
        expand(salt, &ikm, b"Content-Encoding: aes128gcm\0", 16)?,
        expand(salt, &ikm, b"Content-Encoding: nonce\0", 12)?,
    ))
}

struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-SHA256 of `ikm` with `salt`, expanded with `info` to `len` bytes.
fn expand(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Result<Vec<u8>, SealError> {
    let prk = Salt::new(HKDF_SHA256, salt).extract(ikm);
    let info = [info];
    let okm = prk.expand(&info, Len(len))?;
    let mut out = vec![0u8; len];
    okm.fill(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    /// The request body of RFC 8291's Appendix A.
    const RFC_BODY: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    fn bytes(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).unwrap()
    }

    #[test]
    fn the_example_of_rfc_8291_is_sealed_to_the_byte() {
        let receiver = Receiver {
            public_key: bytes(
                "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            ),
            auth: bytes("BTBZMqHH6r4Tts7J_aSIgg").try_into().unwrap(),
        };
        let private = PrivateKey::from_private_key(
            &ECDH_P256,
            &bytes("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"),
        )
        .unwrap();
        let salt = bytes("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let body = seal_with(
            &receiver,
            b"When I grow up, I want to be a watermelon",
            &private,
            salt,
        )
        .unwrap();
        assert_eq!(URL_SAFE_NO_PAD.encode(body), RFC_BODY);
    }

    #[test]
    fn a_key_that_is_not_on_the_curve_or_a_payload_past_one_record_is_refused() {
        let receiver = Receiver {
            public_key: vec![4; 65],
            auth: [0; 16],
        };
        assert_eq!(seal(&receiver, b"x"), Err(SealError::BadPublicKey));
        let private = PrivateKey::generate(&ECDH_P256).unwrap();
        let good = Receiver {
            public_key: private.compute_public_key().unwrap().as_ref().to_vec(),
            auth: [1; 16],
        };
        assert_eq!(
            seal(&good, &[0; MAX_PLAINTEXT + 1]),
            Err(SealError::TooLarge)
        );
        assert!(seal(&good, &[0; MAX_PLAINTEXT]).is_ok());
    }
}
