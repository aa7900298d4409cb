//! Configuration from the environment, read once per container at init.
//!
//! A missing or malformed setting fails the init (Lambda reports it and retries a cold start)
//! rather than every request.

use std::ops::RangeInclusive;
use std::time::Duration;

use crate::acs::connection_string::parse_endpoint;
use crate::acs::{RetryPolicy, Url};

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
    /// `ACS_TIMEOUT_MS`: timeout of each ACS attempt (default 10000).
    pub retry: RetryPolicy,
    /// `ACS_REQUEST_BUDGET_MS`: all the ACS calls of one request, retries included, end within
    /// this (default 25000, inside the functions' 29 s timeout and API Gateway's 30 s).
    pub request_budget: Duration,
    /// `METRICS_NAMESPACE`: the CloudWatch namespace of the per-request metrics (default
    /// `acs-chat-api`).
    pub metrics_namespace: String,
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
            retry,
            request_budget,
            metrics_namespace: get("METRICS_NAMESPACE").unwrap_or_else(|| "acs-chat-api".into()),
        })
    }
}

/// A whole number within `range`, or `default` when the setting is unset.
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
    }

    #[test]
    fn refuses_settings_it_cannot_use() {
        let cases = [
            ("ACS_ENDPOINT", "not a url"),
            ("ACS_AUTH_MODE", "open"),
            ("ACS_TOKEN_LIFETIME_MINUTES", "59"),
            ("ACS_TIMEOUT_MS", "soon"),
            ("ACS_REQUEST_BUDGET_MS", "60000"),
        ];
        for (name, value) in cases {
            let error = config(&[(name, value)]).unwrap_err();
            assert!(
                matches!(error, ConfigError::Invalid(n, _) if n == name),
                "{name}: {error}"
            );
        }
    }

    #[test]
    fn reads_trusted_mode_and_timeouts() {
        let config = config(&[("ACS_AUTH_MODE", "trusted"), ("ACS_TIMEOUT_MS", "2500")]).unwrap();
        assert_eq!(config.auth_mode, AuthMode::Trusted);
        assert_eq!(config.retry.timeout, Duration::from_millis(2500));
    }
}
