//! Entra ID bearer tokens on Event Grid deliveries, an option on top of the webhook secret:
//! with `REALTIME_ENTRA_TENANT_ID` and `REALTIME_ENTRA_AUDIENCE` set, every delivery must carry
//! a token signed by one of the tenant's keys (RS256), issued by that tenant, for that audience,
//! and current. The keys come from the tenant's JWKS document, fetched on first use and again
//! when a token names a key not yet known (Entra rotates them), at most once a minute.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::config::EntraSettings;

/// Leeway for clocks that disagree, in seconds.
const SKEW: i64 = 300;
/// The shortest time between two fetches of the keys.
const REFETCH: Duration = Duration::from_secs(60);

/// Why a delivery's token is refused, or could not be checked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EntraError {
    #[error("no Entra ID bearer token")]
    Missing,
    #[error("the bearer token is not a signed JWT")]
    Malformed,
    #[error("the token is signed with a key the tenant does not list")]
    UnknownKey,
    #[error("the token's signature is not valid")]
    BadSignature,
    #[error("the token is from another issuer")]
    WrongIssuer,
    #[error("the token is for another audience")]
    WrongAudience,
    #[error("the token has expired or is not yet valid")]
    NotCurrent,
    /// The tenant's keys could not be read: worth Event Grid's retry.
    #[error("the tenant's signing keys are unavailable: {0}")]
    KeysUnavailable(String),
}

/// One tenant's signing keys, by key id.
pub type Keys = HashMap<String, RsaPublicKeyComponents<Vec<u8>>>;

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    #[serde(default)]
    kty: String,
    #[serde(default)]
    kid: String,
    #[serde(default)]
    n: String,
    #[serde(default)]
    e: String,
}

/// The RSA keys of a JWKS document; others are left out.
pub fn read_keys(jwks: &[u8]) -> Result<Keys, EntraError> {
    let jwks: Jwks = serde_json::from_slice(jwks)
        .map_err(|_| EntraError::KeysUnavailable("not a JWKS document".into()))?;
    Ok(jwks
        .keys
        .into_iter()
        .filter(|key| key.kty == "RSA")
        .filter_map(|key| {
            let n = URL_SAFE_NO_PAD.decode(&key.n).ok()?;
            let e = URL_SAFE_NO_PAD.decode(&key.e).ok()?;
            Some((key.kid, RsaPublicKeyComponents { n, e }))
        })
        .collect())
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: String,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    iss: String,
    #[serde(default)]
    aud: String,
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
}

fn part<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, EntraError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| EntraError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| EntraError::Malformed)
}

/// The key id `token` names, to look it up before [`verify`].
fn key_id(token: &str) -> Result<String, EntraError> {
    let header = token.split('.').next().ok_or(EntraError::Malformed)?;
    Ok(part::<Header>(header)?.kid)
}

/// Checks `token` against the tenant's `keys`, issuer, `audience` and the time `now` (epoch
/// seconds). Pure, so every refusal is a unit test.
pub fn verify(
    token: &str,
    keys: &Keys,
    tenant: &str,
    audience: &str,
    now: i64,
) -> Result<(), EntraError> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(EntraError::Malformed);
    };
    let head: Header = part(header)?;
    if head.alg != "RS256" {
        return Err(EntraError::Malformed);
    }
    let key = keys.get(&head.kid).ok_or(EntraError::UnknownKey)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| EntraError::Malformed)?;
    let signed = &token[..header.len() + 1 + claims.len()];
    key.verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature)
        .map_err(|_| EntraError::BadSignature)?;
    let claims: Claims = part(claims)?;
    let issuers = [
        format!("https://login.microsoftonline.com/{tenant}/v2.0"),
        format!("https://sts.windows.net/{tenant}/"),
    ];
    if !issuers.contains(&claims.iss) {
        return Err(EntraError::WrongIssuer);
    }
    if claims.aud != audience {
        return Err(EntraError::WrongAudience);
    }
    if claims.exp + SKEW < now || claims.nbf.is_some_and(|nbf| nbf - SKEW > now) {
        return Err(EntraError::NotCurrent);
    }
    Ok(())
}

/// The check as a webhook runs it: the tenant's keys fetched and kept.
#[derive(Debug)]
pub struct Entra {
    settings: EntraSettings,
    http: reqwest::Client,
    keys: Mutex<(Keys, Option<Instant>)>,
}

/// How long a fetch of the keys may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

impl Entra {
    /// The check `settings` describe, fetching keys through the container's client.
    pub fn new(settings: EntraSettings, http: reqwest::Client) -> Self {
        Self {
            settings,
            http,
            keys: Mutex::new((Keys::new(), None)),
        }
    }

    /// Checks a delivery's `Authorization` header.
    pub async fn check(&self, authorization: Option<&str>) -> Result<(), EntraError> {
        let token = authorization
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(EntraError::Missing)?;
        let kid = key_id(token)?;
        let mut keys = self.keys.lock().await;
        let stale = keys.1.is_none_or(|at| at.elapsed() >= REFETCH);
        if !keys.0.contains_key(&kid) && stale {
            *keys = (self.fetch().await?, Some(Instant::now()));
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        verify(
            token,
            &keys.0,
            &self.settings.tenant,
            &self.settings.audience,
            now,
        )
    }

    async fn fetch(&self) -> Result<Keys, EntraError> {
        let unavailable =
            |e: reqwest::Error| EntraError::KeysUnavailable(e.without_url().to_string());
        let response = self
            .http
            .get(self.settings.keys_url.clone())
            .timeout(FETCH_TIMEOUT)
            .send()
            .await
            .map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(EntraError::KeysUnavailable(format!(
                "the keys answered {}",
                response.status()
            )));
        }
        read_keys(&response.bytes().await.map_err(unavailable)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
    use serde_json::json;

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const AUDIENCE: &str = "api://acs-chat-api-webhook";
    const NOW: i64 = 1_795_600_800;

    struct Signer {
        key: RsaKeyPair,
        kid: &'static str,
    }

    impl Signer {
        fn new(kid: &'static str) -> Self {
            Self {
                key: RsaKeyPair::generate(KeySize::Rsa2048).unwrap(),
                kid,
            }
        }

        fn jwk(&self) -> serde_json::Value {
            let public = self.key.public_key();
            json!({
                "kty": "RSA", "kid": self.kid, "use": "sig",
                "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
                "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
            })
        }

        fn token(&self, claims: serde_json::Value) -> String {
            let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
            let signed = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            );
            let mut signature = vec![0; self.key.public_modulus_len()];
            self.key
                .sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    signed.as_bytes(),
                    &mut signature,
                )
                .unwrap();
            format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
        }
    }

    fn claims() -> serde_json::Value {
        json!({
            "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
            "aud": AUDIENCE, "exp": NOW + 3600, "nbf": NOW - 60, "iat": NOW - 60,
        })
    }

    fn keys(signers: &[&Signer]) -> Keys {
        let jwks = json!({"keys": signers.iter().map(|s| s.jwk()).collect::<Vec<_>>()});
        read_keys(jwks.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_token_signed_by_a_tenant_key_for_the_audience_passes() {
        let signer = Signer::new("k1");
        let keys = keys(&[&signer]);
        assert_eq!(
            verify(&signer.token(claims()), &keys, TENANT, AUDIENCE, NOW),
            Ok(())
        );
        let mut v1 = claims();
        v1["iss"] = json!(format!("https://sts.windows.net/{TENANT}/"));
        assert_eq!(
            verify(&signer.token(v1), &keys, TENANT, AUDIENCE, NOW),
            Ok(())
        );
    }

    #[test]
    fn forged_foreign_stale_and_misdirected_tokens_are_refused() {
        let signer = Signer::new("k1");
        let stranger = Signer::new("k1");
        let unlisted = Signer::new("k2");
        let keys = keys(&[&signer]);
        let check = |token: &str| verify(token, &keys, TENANT, AUDIENCE, NOW);
        assert_eq!(
            check(&stranger.token(claims())),
            Err(EntraError::BadSignature)
        );
        assert_eq!(
            check(&unlisted.token(claims())),
            Err(EntraError::UnknownKey)
        );
        let with = |key: &str, value: serde_json::Value| {
            let mut claims = claims();
            claims[key] = value;
            signer.token(claims)
        };
        assert_eq!(
            check(&with(
                "iss",
                json!("https://login.microsoftonline.com/other/v2.0")
            )),
            Err(EntraError::WrongIssuer)
        );
        assert_eq!(
            check(&with("aud", json!("api://else"))),
            Err(EntraError::WrongAudience)
        );
        assert_eq!(
            check(&with("exp", json!(NOW - 3600))),
            Err(EntraError::NotCurrent)
        );
        assert_eq!(
            check(&with("nbf", json!(NOW + 3600))),
            Err(EntraError::NotCurrent)
        );
        let token = signer.token(claims());
        let (signed, _) = token.rsplit_once('.').unwrap();
        let tampered = signed.replacen('.', ".e", 1);
        assert!(check(&format!("{tampered}.{}", token.rsplit('.').next().unwrap())).is_err());
        assert_eq!(check("a.b"), Err(EntraError::Malformed));
        assert_eq!(check(""), Err(EntraError::Malformed));
    }

    /// A JWKS endpoint serving whatever `jwks` holds, counting its fetches.
    async fn jwks_server(
        jwks: std::sync::Arc<std::sync::Mutex<String>>,
    ) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/keys", listener.local_addr().unwrap());
        let fetches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = fetches.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let body = jwks.lock().unwrap().clone();
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        (url, fetches)
    }

    #[tokio::test]
    async fn the_tenant_s_keys_are_fetched_once_and_again_for_a_key_rotated_in() {
        let old = Signer::new("old");
        let new = Signer::new("new");
        let jwks = std::sync::Arc::new(std::sync::Mutex::new(
            json!({"keys": [old.jwk()]}).to_string(),
        ));
        let (url, fetches) = jwks_server(jwks.clone()).await;
        let settings = EntraSettings {
            tenant: TENANT.into(),
            audience: AUDIENCE.into(),
            keys_url: url.parse().unwrap(),
        };
        let entra = Entra::new(settings, reqwest::Client::new());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let current = || {
            let mut claims = claims();
            claims["exp"] = json!(now + 600);
            claims["nbf"] = json!(now - 60);
            claims
        };
        let bearer = |signer: &Signer| format!("Bearer {}", signer.token(current()));
        assert_eq!(entra.check(None).await, Err(EntraError::Missing));
        assert_eq!(entra.check(Some(&bearer(&old))).await, Ok(()));
        assert_eq!(entra.check(Some(&bearer(&old))).await, Ok(()));
        assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 1, "kept");
        *jwks.lock().unwrap() = json!({"keys": [old.jwk(), new.jwk()]}).to_string();
        // Within a minute of the last fetch, an unknown key is refused without another.
        assert_eq!(
            entra.check(Some(&bearer(&new))).await,
            Err(EntraError::UnknownKey)
        );
        entra.keys.lock().await.1 = Some(Instant::now() - REFETCH);
        assert_eq!(entra.check(Some(&bearer(&new))).await, Ok(()));
        assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
