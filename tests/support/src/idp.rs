//! A stand-in OpenID Connect issuer for the tests: keys of its own (RS256 and ES256, made per
//! test), the tokens it signs with them, and its JWKS document served on loopback, which a test
//! can rotate, break, or count the fetches of. The bad-token cases sign with keys of their own
//! too, so nothing here is a fixed test secret.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::stub::{Received, Stub};

/// The audience (app client id) the stand-in's tokens are for.
pub const CLIENT_ID: &str = "acs-chat-api-tests";

enum Pair {
    Rsa(RsaKeyPair),
    Es(EcdsaKeyPair),
}

/// A signing key and its key id.
pub struct Signer {
    pair: Pair,
    pub kid: String,
}

fn encode(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

impl Signer {
    pub fn rsa(kid: &str) -> Self {
        Self {
            pair: Pair::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).unwrap()),
            kid: kid.to_owned(),
        }
    }

    pub fn es256(kid: &str) -> Self {
        let document =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, document.as_ref()).unwrap();
        Self {
            pair: Pair::Es(pair),
            kid: kid.to_owned(),
        }
    }

    /// The algorithm its tokens name.
    pub fn alg(&self) -> &'static str {
        match self.pair {
            Pair::Rsa(_) => "RS256",
            Pair::Es(_) => "ES256",
        }
    }

    /// Its public key as a JWKS lists it.
    pub fn jwk(&self) -> Value {
        match &self.pair {
            Pair::Rsa(pair) => {
                let public = pair.public_key();
                json!({
                    "kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                    "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
                    "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
                })
            }
            Pair::Es(pair) => {
                let point = pair.public_key().as_ref();
                json!({
                    "kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig", "alg": "ES256",
                    "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                    "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
                })
            }
        }
    }

    /// A token of `claims`, its header naming this key and algorithm.
    pub fn token(&self, claims: &Value) -> String {
        self.token_with_header(
            &json!({"alg": self.alg(), "typ": "JWT", "kid": self.kid}),
            claims,
        )
    }

    /// A token of `claims` under any `header`, signed with this key.
    pub fn token_with_header(&self, header: &Value, claims: &Value) -> String {
        let signed = format!("{}.{}", encode(header), encode(claims));
        let signature = match &self.pair {
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    signed.as_bytes(),
                    &mut signature,
                )
                .unwrap();
                signature
            }
            Pair::Es(pair) => pair
                .sign(&SystemRandom::new(), signed.as_bytes())
                .unwrap()
                .as_ref()
                .to_vec(),
        };
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// A token with no signature, as `alg: none` writes it.
pub fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        encode(&json!({"alg": "none", "typ": "JWT"})),
        encode(claims)
    )
}

/// An HS256 token whose secret is `secret` (the attack: the issuer's public key as the secret).
pub fn hs256(kid: &str, secret: &[u8], claims: &Value) -> String {
    use aws_lc_rs::hmac;
    let signed = format!(
        "{}.{}",
        encode(&json!({"alg": "HS256", "typ": "JWT", "kid": kid})),
        encode(claims)
    );
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, secret),
        signed.as_bytes(),
    );
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// The stand-in issuer: its keys, served as `<url>/.well-known/jwks.json`.
pub struct IdentityProvider {
    pub rsa: Signer,
    pub es: Signer,
    stub: Stub,
    published: Arc<Mutex<Value>>,
    down: Arc<Mutex<bool>>,
    fetches: Arc<AtomicUsize>,
}

impl IdentityProvider {
    /// An issuer publishing one RSA and one P-256 key.
    pub async fn start() -> Self {
        let (rsa, es) = (Signer::rsa("rsa-1"), Signer::es256("es-1"));
        let published = Arc::new(Mutex::new(json!({"keys": [rsa.jwk(), es.jwk()]})));
        let down = Arc::new(Mutex::new(false));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (keys, is_down, counted) = (published.clone(), down.clone(), fetches.clone());
        let stub = Stub::start(Arc::new(move |received: Received| {
            let (keys, is_down, counted) = (keys.clone(), is_down.clone(), counted.clone());
            Box::pin(async move {
                counted.fetch_add(1, Ordering::SeqCst);
                if *is_down.lock().unwrap() {
                    return (503, json!({"message": "down"}).to_string());
                }
                match received.target.as_str() {
                    "/.well-known/jwks.json" => (200, keys.lock().unwrap().to_string()),
                    _ => (404, "{}".to_owned()),
                }
            })
        }))
        .await;
        Self {
            rsa,
            es,
            stub,
            published,
            down,
            fetches,
        }
    }

    /// Its `iss`.
    pub fn issuer(&self) -> String {
        self.stub.url()
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.stub.url())
    }

    /// Publishes `signers`' keys instead, as a rotation does.
    pub fn publish(&self, signers: &[&Signer]) {
        *self.published.lock().unwrap() =
            json!({"keys": signers.iter().map(|s| s.jwk()).collect::<Vec<_>>()});
    }

    /// Makes the JWKS answer 503 (or serve again).
    pub fn set_down(&self, down: bool) {
        *self.down.lock().unwrap() = down;
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// The claims of a current ID token for `subject`, as Cognito writes them.
    pub fn claims(&self, subject: &str) -> Value {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        json!({
            "iss": self.issuer(), "sub": subject, "aud": CLIENT_ID, "token_use": "id",
            "exp": now + 3600, "iat": now, "auth_time": now, "cognito:username": subject,
        })
    }

    /// A current ID token for `subject`, signed with the RSA key.
    pub fn id_token(&self, subject: &str) -> String {
        self.rsa.token(&self.claims(subject))
    }
}
