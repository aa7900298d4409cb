//! Secrets from AWS Secrets Manager, fetched on first use and kept for the container's life:
//! the admin secret (the ACS connection string), fetched again on demand when ACS refuses the
//! key (rotation), and the real-time secret (`crate::realtime::RealtimeSecret`).

use std::sync::Arc;

use aws_sdk_secretsmanager::Client;
use aws_types::SdkConfig;
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::acs::{ConnectionString, UserId};

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
    /// The admin secret, `secret_id`, read through `client`.
    pub fn admin(client: Client, secret_id: String) -> Self {
        SecretStore::reading(client, secret_id, parse_secret)
    }
}

/// A Secrets Manager client on the container's shared AWS settings, at `endpoint` when another
/// Secrets Manager stands in (moto, ministack).
pub fn client(sdk: &SdkConfig, endpoint: Option<&str>) -> Client {
    let mut config = aws_sdk_secretsmanager::config::Builder::from(sdk);
    if let Some(url) = endpoint {
        config = config.endpoint_url(url);
    }
    Client::from_conf(config.build())
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
        // Boxed: the SDK's future is deep enough that every function nesting it would pass
        // rustc's layout depth limit, and a fetch happens once per container.
        let secret = Arc::new(Box::pin(self.fetch()).await?);
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
