//! Publishing to AppSync Events over HTTP (`POST /event`, at most five events a request), and
//! the memory of what was published, so that a redelivered or older event is not sent again.
//!
//! That memory is the container's: Event Grid's redeliveries mostly reach the same warm
//! container, but not always, so clients also keep the rule themselves (a message's update
//! with a version at or below the one they hold is dropped).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use super::eventgrid::Update;
use crate::secrets::SecretError;

/// Events AppSync Events takes in one publish.
const BATCH: usize = 5;
/// Remembered messages and event ids, each, before the oldest half is forgotten.
const REMEMBERED: usize = 10_000;

/// Why a publish failed; every case is worth Event Grid's retry.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the channel API could not be reached: {0}")]
    Unreachable(String),
    #[error("the channel API answered {0}")]
    Refused(u16),
    #[error("the channel API refused {0} of the events")]
    Failed(usize),
    #[error("the publish key is unavailable: {0}")]
    Key(#[from] SecretError),
    #[error("an event could not be written: {0}")]
    Unwritable(String),
}

/// How long one publish may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how to publish: AppSync Events' HTTP endpoint, through the container's client.
#[derive(Debug)]
pub struct Publisher {
    client: reqwest::Client,
    url: Url,
}

#[derive(Deserialize)]
struct Published {
    #[serde(default)]
    failed: Vec<serde_json::Value>,
}

impl Publisher {
    pub fn new(client: reqwest::Client, url: Url) -> Self {
        Self { client, url }
    }

    /// Publishes `events` (JSON texts) to `channel`, authorized by `key`.
    pub async fn publish(
        &self,
        channel: &str,
        events: &[String],
        key: &str,
    ) -> Result<(), PublishError> {
        for batch in events.chunks(BATCH) {
            let response = self
                .client
                .post(self.url.clone())
                .timeout(TIMEOUT)
                .header(reqwest::header::AUTHORIZATION, key)
                .json(&serde_json::json!({"channel": channel, "events": batch}))
                .send()
                .await
                .map_err(|e| PublishError::Unreachable(e.without_url().to_string()))?;
            let status = response.status();
            if !status.is_success() {
                return Err(PublishError::Refused(status.as_u16()));
            }
            let published: Published = response
                .json()
                .await
                .map_err(|e| PublishError::Unreachable(e.without_url().to_string()))?;
            if !published.failed.is_empty() {
                return Err(PublishError::Failed(published.failed.len()));
            }
        }
        Ok(())
    }
}

/// What this container has published: the newest version of each message, and the ids of
/// other events.
#[derive(Debug, Default)]
pub struct Sent {
    versions: Mutex<HashMap<String, u64>>,
    events: Mutex<HashSet<String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing panics while holding these, so a poisoned one is still consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Sent {
    /// Whether `update` is news: a message's version above the one sent, or another event not
    /// sent before.
    pub fn is_new(&self, update: &Update) -> bool {
        match (&update.message_id, update.version) {
            (Some(id), Some(version)) => lock(&self.versions)
                .get(id)
                .is_none_or(|sent| version > *sent),
            _ => !lock(&self.events).contains(&update.event_id),
        }
    }

    /// Records `update` as published.
    pub fn record(&self, update: &Update) {
        match (&update.message_id, update.version) {
            (Some(id), Some(version)) => {
                let mut versions = lock(&self.versions);
                if versions.len() >= REMEMBERED {
                    let mut by_age: Vec<u64> = versions.values().copied().collect();
                    by_age.sort_unstable();
                    let cutoff = by_age[by_age.len() / 2];
                    versions.retain(|_, v| *v > cutoff);
                }
                let sent = versions.entry(id.clone()).or_default();
                *sent = (*sent).max(version);
            }
            _ => {
                let mut events = lock(&self.events);
                if events.len() >= REMEMBERED {
                    events.clear();
                }
                events.insert(update.event_id.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acs::ThreadId;
    use crate::realtime::eventgrid::UpdateKind;

    fn update(message: Option<(&str, u64)>, event_id: &str) -> Update {
        let kind = if message.is_some() {
            UpdateKind::Message
        } else {
            UpdateKind::Topic
        };
        let thread = ThreadId::parse("19:a@thread.v2").unwrap();
        Update {
            message_id: message.map(|(id, _)| id.to_owned()),
            version: message.map(|(_, v)| v),
            ..Update::new(kind, thread, event_id)
        }
    }

    #[test]
    fn a_message_version_is_news_once_and_an_older_one_never_after_a_newer() {
        let sent = Sent::default();
        let first = update(Some(("m1", 10)), "e1");
        assert!(sent.is_new(&first));
        sent.record(&first);
        assert!(!sent.is_new(&first), "a redelivery");
        assert!(
            !sent.is_new(&update(Some(("m1", 10)), "e9")),
            "same version, new envelope"
        );
        let edit = update(Some(("m1", 20)), "e2");
        assert!(sent.is_new(&edit));
        sent.record(&edit);
        assert!(
            !sent.is_new(&update(Some(("m1", 15)), "e3")),
            "older than sent"
        );
        assert!(
            sent.is_new(&update(Some(("m2", 1)), "e4")),
            "another message"
        );
    }

    #[test]
    fn other_events_are_news_once_by_event_id() {
        let sent = Sent::default();
        let topic = update(None, "e1");
        assert!(sent.is_new(&topic));
        sent.record(&topic);
        assert!(!sent.is_new(&topic));
        assert!(sent.is_new(&update(None, "e2")));
    }
}
