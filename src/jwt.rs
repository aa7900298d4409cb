//! JSON Web Tokens from an OpenID Connect issuer, checked here: the signature against the
//! issuer's published keys (RS256 and ES256 only, so `none` and HMAC with a public key as the
//! secret are refused by construction), then who issued it, for whom, when, and for what.
//!
//! The keys come from the issuer's JWKS document, fetched on first use and again when a token
//! names a key not yet known (issuers rotate them), at most once a minute: a flood of tokens
//! naming made-up keys costs the issuer one fetch a minute. Used for people signing in (the
//! app's identity provider, Cognito by default) and for Event Grid's Entra ID tokens.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use tokio::sync::Mutex;

/// Leeway for clocks that disagree, in seconds.
const SKEW: i64 = 300;
/// The shortest time between two fetches of the keys.
pub const REFETCH: Duration = Duration::from_secs(60);
/// How long a fetch of the keys may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a token is refused, or could not be checked.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("no bearer token")]
    Missing,
    #[error("the bearer token is not a signed JWT")]
    Malformed,
    #[error("the token is signed with an algorithm other than RS256 or ES256")]
    Algorithm,
    #[error("the token is signed with a key the issuer does not list")]
    UnknownKey,
    #[error("the token's signature is not valid")]
    BadSignature,
    #[error("the token is from another issuer")]
    WrongIssuer,
    #[error("the token is for another audience")]
    WrongAudience,
    #[error("the token has expired or is not yet valid")]
    NotCurrent,
    #[error("the token is not an ID or access token")]
    WrongUse,
    /// The issuer's keys could not be read: worth a retry, not the caller's fault.
    #[error("the issuer's signing keys are unavailable: {0}")]
    KeysUnavailable(String),
}

/// A public key of the issuer's.
#[derive(Debug, Clone)]
pub enum Key {
    Rsa(RsaPublicKeyComponents<Vec<u8>>),
    /// A P-256 point, uncompressed (`04 || x || y`).
    P256(Vec<u8>),
}

/// An issuer's signing keys, by key id.
pub type Keys = HashMap<String, Key>;

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Jwk {
    kty: String,
    kid: String,
    #[serde(rename = "use")]
    usage: Option<String>,
    n: String,
    e: String,
    crv: String,
    x: String,
    y: String,
}

impl Jwk {
    fn key(&self) -> Option<Key> {
        if self.usage.as_deref().is_some_and(|usage| usage != "sig") {
            return None;
        }
        let decode = |text: &str| URL_SAFE_NO_PAD.decode(text).ok();
        match (self.kty.as_str(), self.crv.as_str()) {
            ("RSA", _) => Some(Key::Rsa(RsaPublicKeyComponents {
                n: decode(&self.n)?,
                e: decode(&self.e)?,
            })),
            ("EC", "P-256") => {
                let (x, y) = (decode(&self.x)?, decode(&self.y)?);
                (x.len() == 32 && y.len() == 32)
                    .then(|| [&[4u8][..], &x, &y].concat())
                    .map(Key::P256)
            }
            _ => None,
        }
    }
}

/// The signing keys of a JWKS document; keys of other kinds are left out.
pub fn read_keys(jwks: &[u8]) -> Result<Keys, JwtError> {
    let jwks: Jwks = serde_json::from_slice(jwks)
        .map_err(|_| JwtError::KeysUnavailable("not a JWKS document".into()))?;
    Ok(jwks
        .keys
        .iter()
        .filter_map(|jwk| Some((jwk.kid.clone(), jwk.key()?)))
        .collect())
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

/// `aud` as tokens write it: one audience or several.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// What a verified token says of its holder.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    /// The holder, unique and never reassigned within the issuer.
    #[serde(default)]
    pub sub: String,
    #[serde(default)]
    aud: Option<Audience>,
    /// Cognito's access tokens name their app client here instead of in `aud`.
    #[serde(default)]
    client_id: Option<String>,
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    token_use: Option<String>,
    /// The holder's name, if the issuer gives one (an ID token's `name`).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "cognito:username")]
    pub username: Option<String>,
}

impl Claims {
    fn names(&self, audience: &str) -> bool {
        let in_aud = match &self.aud {
            Some(Audience::One(aud)) => aud == audience,
            Some(Audience::Many(auds)) => auds.iter().any(|aud| aud == audience),
            None => false,
        };
        in_aud || self.client_id.as_deref() == Some(audience)
    }
}

/// What a token must be to pass: from one of `issuers`, for `audience` (in `aud`, or
/// `client_id`), and, where the issuer writes `token_use` (Cognito does), one of `uses`.
#[derive(Debug, Clone)]
pub struct Rules {
    pub issuers: Vec<String>,
    pub audience: String,
    pub uses: &'static [&'static str],
}

fn part<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

/// The key id `token` names, to look it up before [`verify`].
fn key_id(token: &str) -> Result<String, JwtError> {
    let header = token.split('.').next().ok_or(JwtError::Malformed)?;
    part::<Header>(header)?.kid.ok_or(JwtError::UnknownKey)
}

/// Checks `token` against `keys`, `rules` and the time `now` (epoch seconds). Pure, so every
/// refusal is a unit test.
pub fn verify(token: &str, keys: &Keys, rules: &Rules, now: i64) -> Result<Claims, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let head: Header = part(header)?;
    let key = keys
        .get(head.kid.as_deref().ok_or(JwtError::UnknownKey)?)
        .ok_or(JwtError::UnknownKey)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| JwtError::Malformed)?;
    let signed = &token.as_bytes()[..header.len() + 1 + claims.len()];
    let checked = match (head.alg.as_str(), key) {
        ("RS256", Key::Rsa(key)) => key.verify(&RSA_PKCS1_2048_8192_SHA256, signed, &signature),
        ("ES256", Key::P256(point)) => {
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(signed, &signature)
        }
        ("RS256" | "ES256", _) => return Err(JwtError::BadSignature),
        _ => return Err(JwtError::Algorithm),
    };
    checked.map_err(|_| JwtError::BadSignature)?;
    let claims: Claims = part(claims)?;
    // A token about nobody vouches for nobody.
    if claims.sub.is_empty() {
        return Err(JwtError::Malformed);
    }
    if !rules.issuers.contains(&claims.iss) {
        return Err(JwtError::WrongIssuer);
    }
    if !claims.names(&rules.audience) {
        return Err(JwtError::WrongAudience);
    }
    if claims.exp + SKEW < now || claims.nbf.is_some_and(|nbf| nbf - SKEW > now) {
        return Err(JwtError::NotCurrent);
    }
    if let Some(token_use) = &claims.token_use
        && !rules.uses.contains(&token_use.as_str())
    {
        return Err(JwtError::WrongUse);
    }
    Ok(claims)
}

/// The bearer token of an `Authorization` header's value.
pub fn bearer(authorization: Option<&str>) -> Result<&str, JwtError> {
    authorization
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or(JwtError::Missing)
}

/// The keys held, when they were last fetched, and why that fetch failed, if it did.
#[derive(Debug, Default)]
struct Held {
    keys: Keys,
    fetched: Option<Instant>,
    failure: Option<JwtError>,
}

/// An issuer's keys as a function uses them: fetched and kept for the container's life.
#[derive(Debug)]
pub struct KeySet {
    url: reqwest::Url,
    http: reqwest::Client,
    held: Mutex<Held>,
}

impl KeySet {
    /// The keys published at `url`, fetched through the container's client when first needed.
    pub fn new(url: reqwest::Url, http: reqwest::Client) -> Self {
        Self {
            url,
            http,
            held: Mutex::new(Held::default()),
        }
    }

    /// Checks `token`, fetching the keys first if it names one not yet known and the last
    /// fetch is a minute old.
    pub async fn verify(&self, token: &str, rules: &Rules) -> Result<Claims, JwtError> {
        let kid = key_id(token)?;
        let mut held = self.held.lock().await;
        if !held.keys.contains_key(&kid) {
            if held.fetched.is_none_or(|at| at.elapsed() >= REFETCH) {
                // A failed fetch counts too: an unreachable issuer is asked once a minute,
                // and meanwhile an unknown key is "unavailable", not "refused".
                held.fetched = Some(Instant::now());
                match self.fetch().await {
                    Ok(keys) => (held.keys, held.failure) = (keys, None),
                    Err(error) => held.failure = Some(error),
                }
            }
            if let Some(failure) = &held.failure {
                return Err(failure.clone());
            }
        }
        verify(
            token,
            &held.keys,
            rules,
            time::OffsetDateTime::now_utc().unix_timestamp(),
        )
    }

    async fn fetch(&self) -> Result<Keys, JwtError> {
        let unavailable =
            |e: reqwest::Error| JwtError::KeysUnavailable(e.without_url().to_string());
        let response = self
            .http
            .get(self.url.clone())
            .timeout(FETCH_TIMEOUT)
            .send()
            .await
            .map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(JwtError::KeysUnavailable(format!(
                "the keys answered {}",
                response.status()
            )));
        }
        read_keys(&response.bytes().await.map_err(unavailable)?)
    }

    /// Makes the last fetch a minute old, as if time had passed.
    #[cfg(test)]
    pub(crate) async fn age_keys(&self) {
        self.held.lock().await.fetched = Some(Instant::now() - REFETCH);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::json;

    use super::*;

    fn b64(value: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn token(header: serde_json::Value, claims: serde_json::Value) -> String {
        format!(
            "{}.{}.{}",
            b64(&header),
            b64(&claims),
            URL_SAFE_NO_PAD.encode(b"sig")
        )
    }

    fn rsa_jwk(kid: &str) -> serde_json::Value {
        json!({"kty": "RSA", "kid": kid, "use": "sig", "n": "AQAB", "e": "AQAB"})
    }

    fn rules() -> Rules {
        Rules {
            issuers: vec!["https://issuer".into()],
            audience: "client".into(),
            uses: &["id", "access"],
        }
    }

    #[test]
    fn a_jwks_gives_its_rsa_and_p256_signing_keys_and_leaves_out_the_rest() {
        let point = URL_SAFE_NO_PAD.encode([7u8; 32]);
        let jwks = json!({"keys": [
            rsa_jwk("r"),
            {"kty": "EC", "crv": "P-256", "kid": "e", "x": point, "y": point},
            {"kty": "EC", "crv": "P-384", "kid": "p384", "x": point, "y": point},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        ]});
        let keys = read_keys(jwks.to_string().as_bytes()).unwrap();
        let mut kids: Vec<&str> = keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        assert_eq!(kids, ["e", "r"]);
        assert!(matches!(&keys["e"], Key::P256(point) if point.len() == 65 && point[0] == 4));
        assert!(matches!(
            read_keys(b"[]"),
            Err(JwtError::KeysUnavailable(_))
        ));
    }

    #[test]
    fn only_rs256_and_es256_are_ever_checked_and_a_token_must_name_its_key() {
        let keys = read_keys(json!({"keys": [rsa_jwk("k")]}).to_string().as_bytes()).unwrap();
        let claims = json!({"iss": "https://issuer", "aud": "client", "sub": "s", "exp": 2});
        for alg in ["none", "HS256", "RS512", "PS256"] {
            assert_eq!(
                verify(
                    &token(json!({"alg": alg, "kid": "k"}), claims.clone()),
                    &keys,
                    &rules(),
                    0
                ),
                Err(JwtError::Algorithm),
                "{alg}"
            );
        }
        assert_eq!(
            verify(
                &token(json!({"alg": "ES256", "kid": "k"}), claims.clone()),
                &keys,
                &rules(),
                0
            ),
            Err(JwtError::BadSignature),
            "an RSA key never checks an ES256 signature"
        );
        assert_eq!(
            verify(
                &token(json!({"alg": "RS256"}), claims.clone()),
                &keys,
                &rules(),
                0
            ),
            Err(JwtError::UnknownKey)
        );
        assert_eq!(verify("a.b", &keys, &rules(), 0), Err(JwtError::Malformed));
        assert_eq!(bearer(Some("Basic x")), Err(JwtError::Missing));
        assert_eq!(bearer(Some("Bearer  ")), Err(JwtError::Missing));
        assert_eq!(bearer(Some("Bearer a.b.c")), Ok("a.b.c"));
    }

    #[test]
    fn the_audience_is_in_aud_as_one_or_many_or_in_cognito_s_client_id() {
        let claims = |extra: serde_json::Value| {
            let mut claims = json!({"iss": "i", "sub": "s", "exp": 1});
            claims
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            serde_json::from_value::<Claims>(claims).unwrap()
        };
        assert!(claims(json!({"aud": "client"})).names("client"));
        assert!(claims(json!({"aud": ["other", "client"]})).names("client"));
        assert!(claims(json!({"client_id": "client"})).names("client"));
        assert!(!claims(json!({"aud": "other"})).names("client"));
        assert!(!claims(json!({})).names("client"));
    }

    /// A JWKS endpoint answering `status` with one RSA key, counting its fetches.
    async fn jwks_server(status: u16) -> (reqwest::Url, Arc<AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        let fetches = Arc::new(AtomicUsize::new(0));
        let counted = fetches.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                counted.fetch_add(1, Ordering::SeqCst);
                let body = json!({"keys": [rsa_jwk("known")]}).to_string();
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        (url.parse().unwrap(), fetches)
    }

    #[tokio::test]
    async fn unknown_keys_fetch_the_jwks_at_most_once_a_minute() {
        let (url, fetches) = jwks_server(200).await;
        let keys = KeySet::new(url, reqwest::Client::new());
        let unknown = token(json!({"alg": "RS256", "kid": "made-up"}), json!({}));
        for _ in 0..5 {
            assert_eq!(
                keys.verify(&unknown, &rules()).await,
                Err(JwtError::UnknownKey)
            );
        }
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            1,
            "one fetch for five made-up keys"
        );
        keys.age_keys().await;
        assert_eq!(
            keys.verify(&unknown, &rules()).await,
            Err(JwtError::UnknownKey)
        );
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "again a minute later");
        let known = token(json!({"alg": "RS256", "kid": "known"}), json!({}));
        assert_eq!(
            keys.verify(&known, &rules()).await,
            Err(JwtError::BadSignature)
        );
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            2,
            "a known key needs no fetch"
        );
    }

    #[tokio::test]
    async fn an_issuer_whose_keys_cannot_be_read_is_unavailable_not_a_refusal() {
        let (url, fetches) = jwks_server(503).await;
        let keys = KeySet::new(url, reqwest::Client::new());
        let any = token(json!({"alg": "RS256", "kid": "known"}), json!({}));
        for _ in 0..3 {
            assert!(matches!(
                keys.verify(&any, &rules()).await,
                Err(JwtError::KeysUnavailable(_))
            ));
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1, "asked once a minute");
    }
}
