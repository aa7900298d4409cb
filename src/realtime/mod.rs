//! Real-time push: ACS's Event Grid deliveries become events on one AppSync Events channel per
//! thread, which clients subscribe to with their own ACS token.
//!
//! - [`channel`]: a thread's channel name and back (channel segments allow only letters,
//!   digits and dashes, 50 at most, so a thread id is carried hex-encoded).
//! - [`eventgrid`]: reading a delivery, and what clients are sent for each event.
//! - [`entra`]: the optional Entra ID bearer token on deliveries.
//! - [`publish`]: the HTTP publisher, and which versions were already sent.
//! - [`authorizer`]: who may connect, subscribe and publish.
//! - [`RealtimeSecret`]: the webhook secret Event Grid presents and the key our functions
//!   publish with, from one Secrets Manager secret.
//! - [`Realtime`]: what a function on the real-time path holds.

pub mod authorizer;
pub mod channel;
pub mod entra;
pub mod eventgrid;
pub mod publish;

use serde::Deserialize;

use crate::config::{ConfigError, RealtimeSettings};
use crate::secrets::{SecretError, SecretStore};
use entra::Entra;
use eventgrid::Update;
use publish::{PublishError, Publisher, Sent};

/// What the functions on the real-time path hold: the secret, the publisher (where the
/// function publishes), what this container has already published, and the Entra check of
/// deliveries (where configured).
#[derive(Debug)]
pub struct Realtime {
    pub secret: SecretStore<RealtimeSecret>,
    pub publisher: Option<Publisher>,
    pub sent: Sent,
    pub entra: Option<Entra>,
}

impl Realtime {
    /// The part of a function that `publishes`, or takes deliveries (`webhook`), from
    /// `settings`, calling out through `http`.
    pub fn new(
        publishes: bool,
        webhook: bool,
        settings: &RealtimeSettings,
        secret: SecretStore<RealtimeSecret>,
        http: &reqwest::Client,
    ) -> Result<Self, ConfigError> {
        let publisher = if publishes {
            let url = settings
                .publish_url
                .clone()
                .ok_or(ConfigError::Missing("REALTIME_PUBLISH_URL"))?;
            Some(Publisher::new(http.clone(), url))
        } else {
            None
        };
        let entra = match (&settings.entra, webhook) {
            (Some(entra), true) => Some(Entra::new(entra.clone(), http.clone())),
            _ => None,
        };
        Ok(Self {
            secret,
            publisher,
            sent: Sent::default(),
            entra,
        })
    }

    /// Publishes `updates` to `channel` with the publish key: the one path every publish takes.
    pub async fn publish(&self, channel: &str, updates: &[&Update]) -> Result<(), PublishError> {
        let publisher = self.publisher.as_ref().ok_or(PublishError::Unreachable(
            "REALTIME_PUBLISH_URL is not set".into(),
        ))?;
        let events = updates
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<String>, _>>()
            .map_err(|e| PublishError::Unwritable(e.to_string()))?;
        let secret = self.secret.get().await?;
        publisher
            .publish(channel, &events, &secret.publish_key)
            .await
    }
}

/// What the real-time secret holds. Neither value is ever printed.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RealtimeSecret {
    /// The `code` query parameter of the webhook URL given to Event Grid.
    pub webhook_secret: String,
    /// What our functions present to the channel API's authorizer to publish.
    pub publish_key: String,
}

impl std::fmt::Debug for RealtimeSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RealtimeSecret(REDACTED)")
    }
}

/// Reads the secret's JSON: `{"webhookSecret": "...", "publishKey": "..."}`, each at least 32
/// characters so that neither can be guessed.
pub fn parse_secret(raw: &str) -> Result<RealtimeSecret, SecretError> {
    let secret: RealtimeSecret = serde_json::from_str(raw)
        .map_err(|_| SecretError::Malformed("needs webhookSecret and publishKey strings".into()))?;
    if secret.webhook_secret.len() < 32 || secret.publish_key.len() < 32 {
        return Err(SecretError::Malformed(
            "webhookSecret and publishKey need 32 characters or more".into(),
        ));
    }
    Ok(secret)
}

/// Compares two secrets in time that depends only on their lengths, so that a caller cannot
/// find a secret byte by byte from how long refusals take.
pub fn same_secret(given: &str, expected: &str) -> bool {
    let (given, expected) = (given.as_bytes(), expected.as_bytes());
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_matches_only_itself() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc"));
        assert!(!same_secret("ab", "abc"));
        assert!(!same_secret("", "abc"));
    }

    #[test]
    fn the_secret_needs_both_values_long_enough_and_never_prints_them() {
        let long = "k".repeat(32);
        let ok = parse_secret(&format!(
            r#"{{"webhookSecret":"{long}","publishKey":"{long}"}}"#
        ))
        .unwrap();
        assert!(!format!("{ok:?}").contains(&long));
        for bad in [
            r#"{"webhookSecret":"short","publishKey":"short"}"#.to_owned(),
            format!(r#"{{"webhookSecret":"{long}"}}"#),
            "not json".to_owned(),
        ] {
            assert!(parse_secret(&bad).is_err(), "{bad}");
        }
    }
}
