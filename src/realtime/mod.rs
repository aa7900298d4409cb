//! Real time: ACS's user-level Event Grid events become events on each person's own
//! AppSync Events channel, which their devices subscribe to with their own ACS token.
//!
//! - [`channel`]: a person's channel of an hour, and which ones a subscription may be for.
//! - [`eventgrid`]: reading a delivery into hints (who, which thread, what changed).
//! - [`update`]: what a person is sent, read from ACS as that person.
//! - [`publish`]: the HTTP publisher, and what this container already sent.
//! - [`relay`]: a delivery's hints, resolved, told to each recipient (the webhook's use case).
//! - [`settings`]: the channel's settings.
//! - [`authorizer`]: who may connect, subscribe and publish.
//! - [`entra`]: the optional Entra ID token check of deliveries.
//! - [`Realtime`]: what a function on the real-time path holds, and [`Key`]: the two secrets
//!   it may read, each in a secret of its own (the webhook's, Event Grid presents; the publish
//!   key, our functions present), so that each function reads only its own.

pub mod authorizer;
pub mod channel;
pub mod entra;
pub mod eventgrid;
pub mod publish;
pub mod relay;
pub mod settings;
pub mod update;

pub use self::settings::{EntraSettings, RealtimeAddress, RealtimeSettings};
use crate::acs::UserId;
use crate::secrets::{SecretError, SecretStore};
use crate::settings::ConfigError;
use entra::Entra;
use publish::{PublishError, Publisher, Sent};
use update::Update;

/// A key in a secret of its own: the webhook's secret, or the publish key. Never printed.
#[derive(Clone)]
pub struct Key(String);

impl Key {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(REDACTED)")
    }
}

/// Reads a key: the secret's whole string, at least 32 characters so that it cannot be
/// guessed.
pub fn parse_key(raw: &str) -> Result<Key, SecretError> {
    let key = raw.trim();
    if key.len() < 32 {
        return Err(SecretError::Malformed(
            "a key needs 32 characters or more".into(),
        ));
    }
    Ok(Key(key.to_owned()))
}

/// What the functions on the real-time path hold: the publish key (every publisher, and the
/// authorizer, which tells our publishes from clients'), the webhook's secret (`acs_events`
/// only), the publisher, what this container has already published, and the Entra check of
/// deliveries where one is configured.
#[derive(Debug)]
pub struct Realtime {
    pub publish_key: SecretStore<Key>,
    pub webhook_secret: Option<SecretStore<Key>>,
    pub publisher: Option<Publisher>,
    pub sent: Sent,
    pub entra: Option<Entra>,
}

/// What of the real-time path a function takes part in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Role {
    pub publishes: bool,
    pub webhook: bool,
}

impl Realtime {
    /// The part `role` asks for, from `settings`, its secrets read through `secrets` and
    /// calls made through `http`; `None` without a publish key to read.
    pub fn new(
        role: Role,
        settings: &RealtimeSettings,
        secrets: &aws_sdk_secretsmanager::Client,
        http: &reqwest::Client,
    ) -> Result<Option<Self>, ConfigError> {
        let Some(publish_key) = &settings.publish_key_secret_id else {
            return Ok(None);
        };
        let store = |id: &String| SecretStore::reading(secrets.clone(), id.clone(), parse_key);
        let publisher = if role.publishes {
            let url = settings
                .publish_url
                .clone()
                .ok_or(ConfigError::Missing("REALTIME_PUBLISH_URL"))?;
            Some(Publisher::new(http.clone(), url))
        } else {
            None
        };
        let webhook_secret = if role.webhook {
            let id = settings
                .webhook_secret_id
                .as_ref()
                .ok_or(ConfigError::Missing("REALTIME_WEBHOOK_SECRET_ID"))?;
            Some(store(id))
        } else {
            None
        };
        let entra = match (&settings.entra, role.webhook) {
            (Some(entra), true) => Some(Entra::new(entra.clone(), http.clone())),
            _ => None,
        };
        Ok(Some(Self {
            publish_key: store(publish_key),
            webhook_secret,
            publisher,
            sent: Sent::default(),
            entra,
        }))
    }

    /// Tells `person` of `updates` on their channel of this hour: the one place a person's
    /// channel is named for a publish.
    pub async fn tell(&self, person: &UserId, updates: &[&Update]) -> Result<(), PublishError> {
        let hour = channel::hour(time::OffsetDateTime::now_utc());
        self.publish(&channel::of(person, hour), updates).await
    }

    /// Publishes `updates` to `channel` with the publish key: the one path every publish takes.
    async fn publish(&self, channel: &str, updates: &[&Update]) -> Result<(), PublishError> {
        let publisher = self.publisher.as_ref().ok_or(PublishError::Unreachable(
            "REALTIME_PUBLISH_URL is not set".into(),
        ))?;
        let events = updates
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<String>, _>>()
            .map_err(|e| PublishError::Unwritable(e.to_string()))?;
        let key = self.publish_key.get().await?;
        publisher.publish(channel, &events, key.expose()).await
    }
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
    fn a_key_needs_32_characters_and_never_prints() {
        let long = "k".repeat(32);
        let key = parse_key(&format!(" {long}\n")).unwrap();
        assert_eq!(key.expose(), long);
        assert!(!format!("{key:?}").contains(&long));
        assert!(parse_key("short").is_err());
    }
}
