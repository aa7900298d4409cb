//! Everything a function reads from its environment, read once per container at init, in one
//! place: no other module reads the process environment.
//!
//! A missing or malformed setting fails the init (Lambda reports it and retries a cold start)
//! rather than every request. A setting a function has no use for is not required of it:
//! [`AppState::init`](crate::api::AppState::init) asks for what its endpoint needs.

use std::fmt;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::time::Duration;

use crate::acs::connection_string::parse_endpoint;
use crate::acs::{RetryPolicy, Url};
use crate::push::subscription::{DEFAULT_SERVICES, Services};

/// Who may call the chat endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Callers present their own ACS token (`Authorization: Bearer`); the default.
    Token,
    /// The original app's behaviour: no header, the function mints a token for the user id it
    /// is given. Anyone who can reach the API can act as anyone: trusted networks only.
    Trusted,
}

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} must be set")]
    Missing(&'static str),
    #[error("{0} is invalid: {1}")]
    Invalid(&'static str, String),
}

/// How the functions log (Lambda's advanced logging controls set these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSettings {
    /// `AWS_LAMBDA_LOG_LEVEL` (TRACE to FATAL), else `RUST_LOG` (a plain level), else info.
    pub level: tracing::Level,
    /// `AWS_LAMBDA_LOG_FORMAT=Text`: plain lines instead of JSON.
    pub text: bool,
}

/// Where and as whom the AWS SDKs call: what Lambda puts in every function's environment.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsSettings {
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    pub region: String,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`: the execution
    /// role's credentials.
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// `AWS_ENDPOINT_URL_SECRETS_MANAGER`, else `AWS_ENDPOINT_URL`: another Secrets Manager
    /// (moto, ministack), as every AWS SDK allows.
    pub secrets_manager_endpoint: Option<String>,
    /// `AWS_ENDPOINT_URL_DYNAMODB`, else `AWS_ENDPOINT_URL`: another DynamoDB.
    pub dynamodb_endpoint: Option<String>,
    /// `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`: another S3, which serves buckets by path.
    pub s3_endpoint: Option<String>,
}

impl fmt::Debug for AwsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsSettings")
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"REDACTED")
            .field("secrets_manager_endpoint", &self.secrets_manager_endpoint)
            .field("dynamodb_endpoint", &self.dynamodb_endpoint)
            .field("s3_endpoint", &self.s3_endpoint)
            .finish_non_exhaustive()
    }
}

/// The real-time channel's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RealtimeSettings {
    /// `REALTIME_PUBLISH_KEY_SECRET_ID`: the secret holding the key our functions publish with
    /// (read by every publisher, and by the authorizer).
    pub publish_key_secret_id: Option<String>,
    /// `REALTIME_WEBHOOK_SECRET_ID`: the secret holding the `code` Event Grid's deliveries
    /// carry (read by `acs_events` alone).
    pub webhook_secret_id: Option<String>,
    /// `REALTIME_PUBLISH_URL`: AppSync Events' HTTP endpoint,
    /// `https://{id}.appsync-api.{region}.amazonaws.com/event`.
    pub publish_url: Option<Url>,
    /// `REALTIME_CONNECT_ADDR`, the local stack only: the address its host name is reached at,
    /// as a local AppSync Events serves every API on one port and tells them apart by host.
    pub connect_addr: Option<SocketAddr>,
    /// `REALTIME_ENTRA_TENANT_ID` with `REALTIME_ENTRA_AUDIENCE` (and `REALTIME_ENTRA_KEYS_URL`
    /// where the keys are not at the public cloud's address): deliveries must also carry an
    /// Entra ID token.
    pub entra: Option<EntraSettings>,
    /// `REALTIME_WS_URL` with `REALTIME_HTTP_HOST`: where the page subscribes.
    pub page: Option<RealtimeAddress>,
}

/// Which Entra ID tokens a delivery may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraSettings {
    pub tenant: String,
    pub audience: String,
    pub keys_url: Url,
}

/// Where the page subscribes: the WebSocket URL and the host named in its authorization.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RealtimeAddress {
    pub ws_url: String,
    pub http_host: String,
}

impl RealtimeAddress {
    /// The URL's scheme, host and port, for the page's policy.
    pub fn origin(&self) -> Option<String> {
        origin_of(&self.ws_url, &["ws", "wss"])
    }
}

/// Where the page signs people in: Cognito's `InitiateAuth` endpoint and the app client.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignInAddress {
    pub url: String,
    pub client_id: String,
}

impl SignInAddress {
    /// The endpoint's scheme, host and port, for the page's policy.
    pub fn origin(&self) -> Option<String> {
        origin_of(&self.url, &["http", "https"])
    }
}

/// The scheme, host and port of `raw`, if it is a URL of one of `schemes`: what a page's
/// policy names.
pub fn origin_of(raw: &str, schemes: &[&str]) -> Option<String> {
    let url = Url::parse(raw).ok()?;
    schemes.contains(&url.scheme()).then_some(())?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

/// Who may have identities issued without signing in (`create_users`) and refresh a token
/// (`refresh_token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerMode {
    /// Anyone, as the original app: the local stack's demo, and only inside a trusted network.
    Open,
    /// Nobody: identities come only from `sign_in`, one per person, and refreshing is signing
    /// in again. An identity `create_users` made would be tied to nobody, outside every rule
    /// kept per person (docs/sign-in.md). `off`, its older name, reads the same.
    SignedIn,
}

/// The app's identity provider (any OpenID Connect issuer; Cognito by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProviderSettings {
    /// `IDP_ISSUER`: the `iss` its tokens carry, e.g.
    /// `https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC`.
    pub issuer: String,
    /// `IDP_AUDIENCE`: the app client id its tokens are for (`aud`, or Cognito's `client_id`).
    pub audience: String,
    /// `IDP_JWKS_URL`, else the issuer's `/.well-known/jwks.json`.
    pub jwks_url: Url,
    /// `IDP_SIGN_IN_URL`: where the page posts Cognito's `InitiateAuth`; `None` for a provider
    /// the page has no form for.
    pub sign_in: Option<SignInAddress>,
}

/// Where files go and what may go there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesSettings {
    /// `FILES_BUCKET`: the S3 bucket of attachments.
    pub bucket: String,
    /// `FILES_MAX_BYTES`: the largest file (default 25 MiB, at most 100 MiB).
    pub max_bytes: u64,
    /// `FILES_TYPES`: the media types taken, comma-separated (default [`DEFAULT_FILE_TYPES`]).
    pub types: Vec<String>,
    /// `FILES_DAILY_UPLOADS` and `FILES_DAILY_BYTES`: what one person may sign for upload in a
    /// UTC day (default 200 files and 500 MiB).
    pub daily: UploadQuota,
    /// `FILES_URL_SECONDS`: how long a presigned upload or download lasts (1 to 300, default
    /// 300).
    pub url_lifetime: Duration,
}

/// Everything a function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `ACS_ENDPOINT`: the ACS resource for chat calls, e.g. `https://x.communication.azure.com`.
    pub acs_endpoint: Option<Url>,
    /// `ACS_SECRET_ID`: the Secrets Manager secret holding the connection string.
    pub secret_id: Option<String>,
    /// `ACS_AUTH_MODE`: `token` (default) or `trusted`.
    pub auth_mode: AuthMode,
    /// `ACS_TOKEN_LIFETIME_MINUTES`: lifetime of tokens `create_users` issues (60..=1440, default
    /// 1440, ACS's own default).
    pub token_lifetime_minutes: u32,
    /// `ACS_SESSION_HOURS`: how long a session lasts from its first token, through every
    /// refresh (1..=2160, default 168: a week).
    pub session_hours: u32,
    /// `ACS_TIMEOUT_MS`: timeout of each ACS attempt (default 10000).
    pub retry: RetryPolicy,
    /// `ACS_REQUEST_BUDGET_MS`: all the ACS calls of one request, retries included, end within
    /// this (default 25000, inside the functions' 29 s timeout and API Gateway's 30 s).
    pub request_budget: Duration,
    /// `METRICS_NAMESPACE`: the CloudWatch namespace of the per-request metrics (default
    /// `acs-chat-api`).
    pub metrics_namespace: String,
    pub log: LogSettings,
    /// `None` when the region or the credentials are not set: outside Lambda, a function that
    /// needs no AWS service runs without them.
    pub aws: Option<AwsSettings>,
    pub realtime: RealtimeSettings,
    /// `ISSUER_MODE`: `signed-in` (default; `off` is its older name) or `open`.
    pub issuer_mode: IssuerMode,
    /// `IDP_ISSUER` with `IDP_AUDIENCE`: who signs people in; `None` when unset.
    pub identity_provider: Option<IdentityProviderSettings>,
    /// `PEOPLE_TABLE`: the DynamoDB table of people (their ACS identity, and what ACS cannot
    /// hold for them).
    pub people_table: Option<String>,
    /// `FILES_BUCKET` and its rules; `None` where files are not taken.
    pub files: Option<FilesSettings>,
    /// `PUSH_PUBLIC_KEY` and the rest of Web Push; `None` where nothing is pushed.
    pub push: Option<PushSettings>,
    /// Certificates to trust beyond the platform's, PEM. Never read from the environment:
    /// tests set it to their stand-ins' fresh certificates, and a function trusts what
    /// `SSL_CERT_FILE` names, as every other HTTPS client on the machine does.
    pub extra_roots_pem: Option<String>,
}

/// Web Push: which services subscriptions may name, and how the sender signs and fills pushes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSettings {
    /// `PUSH_PUBLIC_KEY`: the VAPID public key, base64url, the page subscribes with.
    pub public_key: String,
    /// `PUSH_SERVICES`: the push services' hosts an endpoint may name (default
    /// [`DEFAULT_SERVICES`](crate::push::subscription::DEFAULT_SERVICES)).
    pub services: Services,
    /// `PUSH_VAPID_SECRET_ID`: the secret of the VAPID key pair, in the sender.
    pub vapid_secret_id: Option<String>,
    /// `PUSH_CONTACT`: the `mailto:` or `https:` contact the push services are given; set with
    /// the secret.
    pub contact: Option<String>,
    /// `PUSH_CONTENT`: `full` (default: the sender's name and the first 100 characters) or
    /// `none` (only that a message came, and where).
    pub content: bool,
    /// `PUSH_TTL_SECONDS`: how long a push service keeps a push for an offline device (0 to
    /// 28 days, default a day).
    pub ttl_seconds: u32,
}

/// Minutes of the tokens trusted mode mints per request: short, as they are never shown.
pub const TRUSTED_TOKEN_MINUTES: u32 = 60;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let acs_endpoint = get("ACS_ENDPOINT")
            .map(|raw| {
                parse_endpoint(&raw)
                    .map_err(|e| ConfigError::Invalid("ACS_ENDPOINT", e.to_string()))
            })
            .transpose()?;
        let auth_mode = match get("ACS_AUTH_MODE").as_deref() {
            None | Some("token") => AuthMode::Token,
            Some("trusted") => AuthMode::Trusted,
            Some(other) => {
                return Err(ConfigError::Invalid(
                    "ACS_AUTH_MODE",
                    format!("{other:?} (expected token or trusted)"),
                ));
            }
        };
        let number = |name, range, default| bounded(name, get(name), range, default);
        let token_lifetime_minutes = number("ACS_TOKEN_LIFETIME_MINUTES", 60..=1440, 1440)?;
        let session_hours = number("ACS_SESSION_HOURS", 1..=2160, 168)?;
        let retry = RetryPolicy {
            timeout: Duration::from_millis(number("ACS_TIMEOUT_MS", 100..=29_000, 10_000)?.into()),
            ..RetryPolicy::default()
        };
        let request_budget =
            Duration::from_millis(number("ACS_REQUEST_BUDGET_MS", 100..=29_000, 25_000)?.into());
        Ok(Self {
            acs_endpoint,
            secret_id: get("ACS_SECRET_ID"),
            auth_mode,
            token_lifetime_minutes,
            session_hours,
            retry,
            request_budget,
            metrics_namespace: get("METRICS_NAMESPACE").unwrap_or_else(|| "acs-chat-api".into()),
            log: log_settings(&get),
            aws: aws_settings(&get),
            realtime: realtime_settings(&get)?,
            issuer_mode: match get("ISSUER_MODE").as_deref() {
                // The safe value is the default: an unset mode issues nothing anonymous.
                None | Some("signed-in" | "off") => IssuerMode::SignedIn,
                Some("open") => IssuerMode::Open,
                Some(other) => {
                    return Err(ConfigError::Invalid(
                        "ISSUER_MODE",
                        format!("{other:?} (expected open, signed-in or off)"),
                    ));
                }
            },
            identity_provider: identity_provider(&get)?,
            people_table: get("PEOPLE_TABLE"),
            files: files_settings(&get)?,
            push: push_settings(&get)?,
            extra_roots_pem: None,
        })
    }

    /// The AWS settings, for a function that calls an AWS service.
    pub fn aws(&self) -> Result<&AwsSettings, ConfigError> {
        self.aws.as_ref().ok_or(ConfigError::Missing(
            "AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        ))
    }
}

fn log_settings(get: &impl Fn(&str) -> Option<String>) -> LogSettings {
    let level = [get("AWS_LAMBDA_LOG_LEVEL"), get("RUST_LOG")]
        .into_iter()
        .flatten()
        .find_map(|name| match name.to_ascii_lowercase().as_str() {
            "fatal" => Some(tracing::Level::ERROR),
            other => other.parse().ok(),
        })
        .unwrap_or(tracing::Level::INFO);
    let text = get("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("text"));
    LogSettings { level, text }
}

fn aws_settings(get: &impl Fn(&str) -> Option<String>) -> Option<AwsSettings> {
    Some(AwsSettings {
        region: get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION"))?,
        access_key_id: get("AWS_ACCESS_KEY_ID")?,
        secret_access_key: get("AWS_SECRET_ACCESS_KEY")?,
        session_token: get("AWS_SESSION_TOKEN"),
        secrets_manager_endpoint: get("AWS_ENDPOINT_URL_SECRETS_MANAGER")
            .or_else(|| get("AWS_ENDPOINT_URL")),
        dynamodb_endpoint: get("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| get("AWS_ENDPOINT_URL")),
        s3_endpoint: get("AWS_ENDPOINT_URL_S3").or_else(|| get("AWS_ENDPOINT_URL")),
    })
}

/// The types a deployment takes when `FILES_TYPES` is unset: images a browser shows, PDFs and
/// plain text.
pub const DEFAULT_FILE_TYPES: &str =
    "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain";

/// What one person may sign for upload in a day: a staged object lives a day whether it is
/// sent or not, so without it one person could fill the bucket at the speed of their calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadQuota {
    pub files: u64,
    pub bytes: u64,
}

fn files_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<FilesSettings>, ConfigError> {
    let Some(bucket) = get("FILES_BUCKET") else {
        return Ok(None);
    };
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !valid_bucket {
        return Err(ConfigError::Invalid(
            "FILES_BUCKET",
            "an S3 bucket name".into(),
        ));
    }
    let max_bytes = match get("FILES_MAX_BYTES") {
        None => 25 * 1024 * 1024,
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=crate::files::MAX_UPLOAD_BYTES).contains(n))
            .ok_or_else(|| {
                ConfigError::Invalid("FILES_MAX_BYTES", format!("{raw:?} (1 to 104857600)"))
            })?,
    };
    let raw_types = get("FILES_TYPES").unwrap_or_else(|| DEFAULT_FILE_TYPES.into());
    let types: Vec<String> = raw_types
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    let media_type = |t: &String| {
        t.split_once('/').is_some_and(|(kind, sub)| {
            let token = |s: &str| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
            };
            token(kind) && token(sub)
        })
    };
    if types.is_empty() || !types.iter().all(media_type) {
        return Err(ConfigError::Invalid(
            "FILES_TYPES",
            "a comma-separated list of media types".into(),
        ));
    }
    let seconds = bounded("FILES_URL_SECONDS", get("FILES_URL_SECONDS"), 1..=300, 300)?;
    let count = |name: &'static str, default: u64| match get(name) {
        None => Ok(default),
        Some(raw) => raw.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            ConfigError::Invalid(name, format!("{raw:?} (a whole number, 1 or more)"))
        }),
    };
    let daily = UploadQuota {
        files: count("FILES_DAILY_UPLOADS", 200)?,
        bytes: count("FILES_DAILY_BYTES", 500 * 1024 * 1024)?,
    };
    Ok(Some(FilesSettings {
        bucket,
        max_bytes,
        types,
        daily,
        url_lifetime: Duration::from_secs(seconds.into()),
    }))
}

fn identity_provider(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<IdentityProviderSettings>, ConfigError> {
    let (issuer, audience) = match (get("IDP_ISSUER"), get("IDP_AUDIENCE")) {
        (Some(issuer), Some(audience)) => (issuer, audience),
        (None, None) => return Ok(None),
        (None, Some(_)) => return Err(ConfigError::Missing("IDP_ISSUER")),
        (Some(_), None) => return Err(ConfigError::Missing("IDP_AUDIENCE")),
    };
    let default = format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'));
    let jwks_url = url("IDP_JWKS_URL", Some(get("IDP_JWKS_URL").unwrap_or(default)))?
        .ok_or(ConfigError::Missing("IDP_JWKS_URL"))?;
    let sign_in = url("IDP_SIGN_IN_URL", get("IDP_SIGN_IN_URL"))?.map(|url| SignInAddress {
        url: url.into(),
        client_id: audience.clone(),
    });
    Ok(Some(IdentityProviderSettings {
        issuer,
        audience,
        jwks_url,
        sign_in,
    }))
}

fn url(name: &'static str, raw: Option<String>) -> Result<Option<Url>, ConfigError> {
    raw.map(|raw| Url::parse(&raw).map_err(|e| ConfigError::Invalid(name, e.to_string())))
        .transpose()
}

fn realtime_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<RealtimeSettings, ConfigError> {
    let connect_addr = get("REALTIME_CONNECT_ADDR")
        .map(|addr| {
            addr.parse()
                .map_err(|_| ConfigError::Invalid("REALTIME_CONNECT_ADDR", addr.clone()))
        })
        .transpose()?;
    let entra = match (
        get("REALTIME_ENTRA_TENANT_ID"),
        get("REALTIME_ENTRA_AUDIENCE"),
    ) {
        (None, None) => None,
        (Some(tenant), Some(audience)) => {
            if !tenant
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            {
                return Err(ConfigError::Invalid(
                    "REALTIME_ENTRA_TENANT_ID",
                    "a tenant id or domain".into(),
                ));
            }
            let keys_url = get("REALTIME_ENTRA_KEYS_URL").unwrap_or_else(|| {
                format!("https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys")
            });
            let keys_url = url("REALTIME_ENTRA_KEYS_URL", Some(keys_url))?
                .ok_or(ConfigError::Missing("REALTIME_ENTRA_KEYS_URL"))?;
            Some(EntraSettings {
                tenant,
                audience,
                keys_url,
            })
        }
        (None, Some(_)) => return Err(ConfigError::Missing("REALTIME_ENTRA_TENANT_ID")),
        (Some(_), None) => return Err(ConfigError::Missing("REALTIME_ENTRA_AUDIENCE")),
    };
    let page = match (get("REALTIME_WS_URL"), get("REALTIME_HTTP_HOST")) {
        (Some(ws_url), Some(http_host)) => {
            let address = RealtimeAddress { ws_url, http_host };
            let safe = |text: &str| !text.contains(['"', '\'', ';', ' ', '<', '>']);
            match address.origin() {
                Some(origin) if safe(&origin) && safe(&address.http_host) => Some(address),
                _ => {
                    return Err(ConfigError::Invalid(
                        "REALTIME_WS_URL",
                        "a ws:// or wss:// URL, with REALTIME_HTTP_HOST a plain host".into(),
                    ));
                }
            }
        }
        _ => None,
    };
    Ok(RealtimeSettings {
        publish_key_secret_id: get("REALTIME_PUBLISH_KEY_SECRET_ID"),
        webhook_secret_id: get("REALTIME_WEBHOOK_SECRET_ID"),
        publish_url: url("REALTIME_PUBLISH_URL", get("REALTIME_PUBLISH_URL"))?,
        connect_addr,
        entra,
        page,
    })
}

/// A whole number within `range`, or `default` when the setting is unset.
fn push_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<PushSettings>, ConfigError> {
    let Some(public_key) = get("PUSH_PUBLIC_KEY") else {
        if get("PUSH_VAPID_SECRET_ID").is_some() {
            return Err(ConfigError::Missing("PUSH_PUBLIC_KEY"));
        }
        return Ok(None);
    };
    let point = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        public_key.trim_end_matches('='),
    );
    if !point.is_ok_and(|point| point.len() == 65 && point[0] == 4) {
        return Err(ConfigError::Invalid(
            "PUSH_PUBLIC_KEY",
            "an uncompressed P-256 point, base64url".into(),
        ));
    }
    let services = get("PUSH_SERVICES").unwrap_or_else(|| DEFAULT_SERVICES.into());
    let services = Services::parse(&services)
        .ok_or_else(|| ConfigError::Invalid("PUSH_SERVICES", "names no host".into()))?;
    let vapid_secret_id = get("PUSH_VAPID_SECRET_ID");
    let contact = get("PUSH_CONTACT");
    match (&vapid_secret_id, &contact) {
        (Some(_), None) => return Err(ConfigError::Missing("PUSH_CONTACT")),
        (_, Some(contact))
            if !(contact.starts_with("mailto:") || contact.starts_with("https://")) =>
        {
            return Err(ConfigError::Invalid(
                "PUSH_CONTACT",
                "a mailto: or https:// contact".into(),
            ));
        }
        _ => {}
    }
    let content = match get("PUSH_CONTENT").as_deref() {
        None | Some("full") => true,
        Some("none") => false,
        Some(other) => {
            return Err(ConfigError::Invalid(
                "PUSH_CONTENT",
                format!("{other:?} (expected full or none)"),
            ));
        }
    };
    Ok(Some(PushSettings {
        public_key,
        services,
        vapid_secret_id,
        contact,
        content,
        ttl_seconds: bounded(
            "PUSH_TTL_SECONDS",
            get("PUSH_TTL_SECONDS"),
            0..=2_419_200,
            86_400,
        )?,
    }))
}

fn bounded(
    name: &'static str,
    raw: Option<String>,
    range: RangeInclusive<u32>,
    default: u32,
) -> Result<u32, ConfigError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    raw.parse()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            let (low, high) = range.into_inner();
            ConfigError::Invalid(name, format!("{raw:?} ({low}..={high})"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_to_token_mode_and_acs_default_token_lifetime() {
        let config = config(&[("ACS_ENDPOINT", "https://x.communication.azure.com")]).unwrap();
        assert_eq!(config.auth_mode, AuthMode::Token);
        assert_eq!(config.token_lifetime_minutes, 1440);
        assert_eq!(
            config.acs_endpoint.unwrap().as_str(),
            "https://x.communication.azure.com/"
        );
        assert_eq!(config.secret_id, None);
        assert_eq!(config.log.level, tracing::Level::INFO);
        assert!(config.aws.is_none() && config.realtime == RealtimeSettings::default());
    }

    #[test]
    fn an_unset_issuer_mode_issues_nothing_anonymous_and_off_is_its_older_name() {
        let endpoint = ("ACS_ENDPOINT", "https://x.communication.azure.com");
        for (mode, expected) in [
            (None, IssuerMode::SignedIn),
            (Some("signed-in"), IssuerMode::SignedIn),
            (Some("off"), IssuerMode::SignedIn),
            (Some("open"), IssuerMode::Open),
        ] {
            let pairs: Vec<_> = std::iter::once(endpoint)
                .chain(mode.map(|mode| ("ISSUER_MODE", mode)))
                .collect();
            assert_eq!(config(&pairs).unwrap().issuer_mode, expected, "{mode:?}");
        }
    }

    #[test]
    fn refuses_settings_it_cannot_use() {
        let cases = [
            ("ACS_ENDPOINT", "not a url"),
            ("ACS_AUTH_MODE", "open"),
            ("ACS_TOKEN_LIFETIME_MINUTES", "59"),
            ("ACS_TIMEOUT_MS", "soon"),
            ("ACS_REQUEST_BUDGET_MS", "60000"),
            ("REALTIME_PUBLISH_URL", "not a url"),
            ("REALTIME_CONNECT_ADDR", "somewhere"),
        ];
        for (name, value) in cases {
            let error = config(&[(name, value)]).unwrap_err();
            assert!(
                matches!(error, ConfigError::Invalid(n, _) if n == name),
                "{name}: {error}"
            );
        }
        assert_eq!(
            config(&[("REALTIME_ENTRA_AUDIENCE", "api://x")]).unwrap_err(),
            ConfigError::Missing("REALTIME_ENTRA_TENANT_ID")
        );
        assert_eq!(
            config(&[("REALTIME_ENTRA_TENANT_ID", "t")]).unwrap_err(),
            ConfigError::Missing("REALTIME_ENTRA_AUDIENCE")
        );
        let odd_tenant = [
            ("REALTIME_ENTRA_TENANT_ID", "a/b?c"),
            ("REALTIME_ENTRA_AUDIENCE", "api://x"),
        ];
        assert!(matches!(
            config(&odd_tenant),
            Err(ConfigError::Invalid("REALTIME_ENTRA_TENANT_ID", _))
        ));
        let unsafe_page = config(&[
            ("REALTIME_WS_URL", "wss://x.example/event/realtime"),
            ("REALTIME_HTTP_HOST", "x.example\" onload=\"x"),
        ]);
        assert!(matches!(
            unsafe_page,
            Err(ConfigError::Invalid("REALTIME_WS_URL", _))
        ));
    }

    #[test]
    fn entra_s_keys_default_to_the_public_cloud_s_address_for_the_tenant() {
        let entra = config(&[
            ("REALTIME_ENTRA_TENANT_ID", "contoso.onmicrosoft.com"),
            ("REALTIME_ENTRA_AUDIENCE", "api://x"),
        ])
        .unwrap()
        .realtime
        .entra
        .unwrap();
        assert_eq!(
            entra.keys_url.as_str(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/discovery/v2.0/keys"
        );
    }

    #[test]
    fn reads_trusted_mode_and_timeouts() {
        let config = config(&[("ACS_AUTH_MODE", "trusted"), ("ACS_TIMEOUT_MS", "2500")]).unwrap();
        assert_eq!(config.auth_mode, AuthMode::Trusted);
        assert_eq!(config.retry.timeout, Duration::from_millis(2500));
    }

    #[test]
    fn lambda_s_log_level_wins_and_fatal_reads_as_error() {
        let level = |pairs: &[(&str, &str)]| config(pairs).unwrap().log.level;
        let lambda_and_rust = [("AWS_LAMBDA_LOG_LEVEL", "DEBUG"), ("RUST_LOG", "error")];
        assert_eq!(level(&lambda_and_rust), tracing::Level::DEBUG);
        assert_eq!(
            level(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")]),
            tracing::Level::ERROR
        );
        assert_eq!(level(&[("RUST_LOG", "warn")]), tracing::Level::WARN);
        let unknown_then_rust = [("AWS_LAMBDA_LOG_LEVEL", "chatty"), ("RUST_LOG", "trace")];
        assert_eq!(level(&unknown_then_rust), tracing::Level::TRACE);
        assert!(
            config(&[("AWS_LAMBDA_LOG_FORMAT", "Text")])
                .unwrap()
                .log
                .text
        );
    }

    #[test]
    fn aws_settings_need_the_region_and_credentials_lambda_provides_and_never_print_the_key() {
        assert!(
            config(&[("AWS_REGION", "eu-west-1")])
                .unwrap()
                .aws
                .is_none()
        );
        let aws = config(&[
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret-that-must-not-show"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ])
        .unwrap()
        .aws
        .unwrap();
        assert_eq!(aws.region, "eu-west-1");
        assert_eq!(
            aws.secrets_manager_endpoint.as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert!(!format!("{aws:?}").contains("secret-that-must-not-show"));
    }
}
