//! Secrets from AWS Secrets Manager, fetched on first use and kept for the container's life:
//! the admin secret (the ACS connection string), fetched again on demand when ACS refuses the
//! key (rotation), and the real-time secret (`crate::realtime::RealtimeSecret`).

use std::sync::Arc;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::acs::{ConnectionString, UserId};
use crate::config::ConfigError;

/// Why the secret could not be had. Messages never include the secret's value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("Secrets Manager call failed: {0}")]
    Unavailable(String),
    #[error("secret has no string value")]
    Empty,
    #[error("secret is not in the expected form: {0}")]
    Malformed(String),
}

/// What the secret holds.
#[derive(Debug, Clone)]
pub struct AdminSecret {
    pub connection: ConnectionString,
    /// Trusted mode only: an ACS identity the functions add to every thread they create, so that
    /// `add_user` can act on the thread without a caller token.
    pub service_user_id: Option<UserId>,
}

#[derive(Deserialize)]
struct JsonSecret {
    #[serde(
        alias = "connectionString",
        alias = "ACS_CONNECTION_STRING",
        alias = "connection_string"
    )]
    connection_string: String,
    #[serde(default, alias = "serviceUserId", alias = "service_user_id")]
    service_user_id: Option<UserId>,
}

/// Reads a secret value: a bare connection string, or a JSON object with `connectionString`
/// (and optionally `serviceUserId`).
pub fn parse_secret(raw: &str) -> Result<AdminSecret, SecretError> {
    let raw = raw.trim();
    let (connection, service_user_id) = if raw.starts_with('{') {
        let json: JsonSecret = serde_json::from_str(raw).map_err(|_| {
            SecretError::Malformed(
                "JSON secret needs a connectionString string field, and serviceUserId, if any, \
                 must be an ACS user id"
                    .into(),
            )
        })?;
        (json.connection_string, json.service_user_id)
    } else {
        (raw.to_owned(), None)
    };
    let connection =
        ConnectionString::parse(&connection).map_err(|e| SecretError::Malformed(e.to_string()))?;
    Ok(AdminSecret {
        connection,
        service_user_id,
    })
}

/// One secret, read by `parse`, cached.
#[derive(Debug)]
pub struct SecretStore<T = AdminSecret> {
    client: Client,
    secret_id: String,
    parse: fn(&str) -> Result<T, SecretError>,
    cached: Mutex<Option<Arc<T>>>,
}

impl SecretStore<AdminSecret> {
    /// A store reading `secret_id` with what Lambda puts in every function's environment: the
    /// region and the execution role's credentials. `AWS_ENDPOINT_URL_SECRETS_MANAGER` (or
    /// `AWS_ENDPOINT_URL`) points it elsewhere, as the AWS SDKs all allow. Reading these directly
    /// instead of through aws-config's provider chain keeps each function smaller and its cold
    /// start shorter.
    pub fn from_env(secret_id: String) -> Result<Self, ConfigError> {
        Self::from_lookup(secret_id, |name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with settings read through `lookup`.
    pub fn from_lookup(
        secret_id: String,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Ok(Self::new(client_from_lookup(lookup)?, secret_id))
    }

    /// A store reading `secret_id` through a client configured by the caller.
    pub fn new(client: Client, secret_id: String) -> Self {
        SecretStore::reading(client, secret_id, parse_secret)
    }
}

/// A Secrets Manager client from the environment, as [`SecretStore::from_env`] describes.
pub fn client_from_env() -> Result<Client, ConfigError> {
    client_from_lookup(|name| std::env::var(name).ok())
}

fn client_from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Client, ConfigError> {
    let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
    let region = get("AWS_REGION")
        .or_else(|| get("AWS_DEFAULT_REGION"))
        .ok_or(ConfigError::Missing("AWS_REGION"))?;
    let credentials = Credentials::new(
        get("AWS_ACCESS_KEY_ID").ok_or(ConfigError::Missing("AWS_ACCESS_KEY_ID"))?,
        get("AWS_SECRET_ACCESS_KEY").ok_or(ConfigError::Missing("AWS_SECRET_ACCESS_KEY"))?,
        get("AWS_SESSION_TOKEN"),
        None,
        "environment",
    );
    let mut config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(credentials);
    if let Some(url) = get("AWS_ENDPOINT_URL_SECRETS_MANAGER").or_else(|| get("AWS_ENDPOINT_URL")) {
        config = config.endpoint_url(url);
    }
    Ok(Client::from_conf(config.build()))
}

impl<T> SecretStore<T> {
    /// A store reading `secret_id` with `parse`.
    pub fn reading(
        client: Client,
        secret_id: String,
        parse: fn(&str) -> Result<T, SecretError>,
    ) -> Self {
        Self {
            client,
            secret_id,
            parse,
            cached: Mutex::new(None),
        }
    }

    /// The secret, fetched once and then served from memory.
    pub async fn get(&self) -> Result<Arc<T>, SecretError> {
        let mut cached = self.cached.lock().await;
        if let Some(secret) = cached.as_ref() {
            return Ok(secret.clone());
        }
        let secret = Arc::new(self.fetch().await?);
        *cached = Some(secret.clone());
        Ok(secret)
    }

    /// Drops the cached value and fetches again, for when ACS has refused the key.
    pub async fn refresh(&self) -> Result<Arc<T>, SecretError> {
        self.cached.lock().await.take();
        self.get().await
    }

    async fn fetch(&self) -> Result<T, SecretError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| {
                SecretError::Unavailable(
                    aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
                )
            })?;
        (self.parse)(output.secret_string().ok_or(SecretError::Empty)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CS: &str = "endpoint=https://x.communication.azure.com/;accesskey=YWJj";

    #[test]
    fn needs_the_region_and_credentials_lambda_provides() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let missing = SecretStore::from_lookup("s".into(), env(&[("AWS_REGION", "eu-west-1")]));
        assert!(matches!(
            missing,
            Err(ConfigError::Missing("AWS_ACCESS_KEY_ID"))
        ));
        let complete = SecretStore::from_lookup(
            "s".into(),
            env(&[
                ("AWS_DEFAULT_REGION", "eu-west-1"),
                ("AWS_ACCESS_KEY_ID", "a"),
                ("AWS_SECRET_ACCESS_KEY", "b"),
            ]),
        );
        assert!(complete.is_ok());
    }

    #[test]
    fn reads_a_bare_connection_string() {
        let secret = parse_secret(&format!("  {CS}\n")).unwrap();
        assert_eq!(
            secret.connection.endpoint().as_str(),
            "https://x.communication.azure.com/"
        );
        assert_eq!(secret.service_user_id, None);
    }

    #[test]
    fn reads_a_json_secret_with_any_common_key_spelling() {
        for key in [
            "connectionString",
            "ACS_CONNECTION_STRING",
            "connection_string",
        ] {
            let raw = format!(r#"{{"{key}": "{CS}", "serviceUserId": "8:acs:a_b"}}"#);
            let secret = parse_secret(&raw).unwrap();
            assert_eq!(
                secret.service_user_id.as_ref().map(|id| id.as_str()),
                Some("8:acs:a_b"),
                "{key}"
            );
        }
    }

    #[test]
    fn refuses_secrets_without_a_usable_connection_string_and_never_echoes_them() {
        for raw in [
            "",
            "{}",
            r#"{"connectionString": 1}"#,
            "endpoint=https://x/;accesskey=not*base64",
        ] {
            let error = parse_secret(raw).unwrap_err();
            assert!(matches!(error, SecretError::Malformed(_)), "{raw}: {error}");
            assert!(!error.to_string().contains("not*base64"), "{error}");
        }
    }
}
