//! Everything a function reads from its environment, read once per container at init, in one
//! place: no other module reads the process environment. Each feature owns and parses its own
//! settings ([`FilesSettings`], [`PushSettings`], [`RealtimeSettings`], [`AwsSettings`],
//! [`SealSettings`]) and
//! `Config` composes them: features never import this module.
//!
//! A missing or malformed setting fails the init (Lambda reports it and retries a cold start)
//! rather than every request. A setting a function has no use for is not required of it:
//! [`AppState::init`](crate::api::AppState::init) asks for what its endpoint needs.

use std::time::Duration;

use crate::acs::connection_string::parse_endpoint;
use crate::acs::{RetryPolicy, Url};
pub use crate::aws::AwsSettings;
pub use crate::files::FilesSettings;
pub use crate::push::PushSettings;
pub use crate::realtime::RealtimeSettings;
pub use crate::seal::{ClientTokens, SealSettings};
pub use crate::settings::ConfigError;
use crate::settings::{Lookup, origin_of};

/// Who may call the chat endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Callers present their own ACS token (`Authorization: Bearer`); the default.
    Token,
    /// The original app's behaviour: no header, the function mints a token for the user id it
    /// is given. Anyone who can reach the API can act as anyone: trusted networks only.
    Trusted,
}

/// How the functions log (Lambda's advanced logging controls set these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSettings {
    /// `AWS_LAMBDA_LOG_LEVEL` (TRACE to FATAL), else `RUST_LOG` (a plain level), else info.
    pub level: tracing::Level,
    /// `AWS_LAMBDA_LOG_FORMAT=Text`: plain lines instead of JSON.
    pub text: bool,
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
    /// What clients are handed in place of their ACS token, and the sealing keys.
    pub seal: SealSettings,
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

/// Minutes of the tokens trusted mode mints per request: short, as they are never shown.
pub const TRUSTED_TOKEN_MINUTES: u32 = 60;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let settings = Lookup::new(&lookup);
        let get = |name: &str| settings.get(name);
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
        let number = |name, range, default| settings.bounded(name, range, default);
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
            log: log_settings(&settings),
            aws: AwsSettings::read(&settings),
            realtime: RealtimeSettings::read(&settings)?,
            seal: SealSettings::read(&settings)?,
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
            identity_provider: identity_provider(&settings)?,
            people_table: get("PEOPLE_TABLE"),
            files: FilesSettings::read(&settings)?,
            push: PushSettings::read(&settings)?,
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

fn log_settings(settings: &Lookup) -> LogSettings {
    let get = |name| settings.get(name);
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

fn identity_provider(settings: &Lookup) -> Result<Option<IdentityProviderSettings>, ConfigError> {
    let get = |name| settings.get(name);
    let (issuer, audience) = match (get("IDP_ISSUER"), get("IDP_AUDIENCE")) {
        (Some(issuer), Some(audience)) => (issuer, audience),
        (None, None) => return Ok(None),
        (None, Some(_)) => return Err(ConfigError::Missing("IDP_ISSUER")),
        (Some(_), None) => return Err(ConfigError::Missing("IDP_AUDIENCE")),
    };
    let default = format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'));
    let jwks_url =
        crate::settings::url("IDP_JWKS_URL", Some(get("IDP_JWKS_URL").unwrap_or(default)))?
            .ok_or(ConfigError::Missing("IDP_JWKS_URL"))?;
    let sign_in = settings.url("IDP_SIGN_IN_URL")?.map(|url| SignInAddress {
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
