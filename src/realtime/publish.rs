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

use super::eventgrid::{About, Hint};
use crate::acs::{MessageId, ThreadId, UserId};
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

/// What this container has published, for telling a redelivery from news: the newest version
/// of each message a person was sent (by person, thread and message: message ids are unique
/// only within a thread), and the ids of other events a person was sent.
#[derive(Debug, Default)]
pub struct Sent {
    versions: Mutex<HashMap<(UserId, ThreadId, MessageId), u64>>,
    events: Mutex<HashSet<(UserId, String)>>,
}

/// A hint or an update as [`Sent`] remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen<'a> {
    /// A message at a version, sent to a person.
    Message {
        recipient: &'a UserId,
        thread_id: &'a ThreadId,
        message_id: &'a MessageId,
        version: u64,
    },
    /// Another event, sent to a person.
    Event {
        recipient: &'a UserId,
        event_id: &'a str,
    },
}

impl<'a> Seen<'a> {
    /// What `hint` is, as remembered.
    pub fn hint(hint: &'a Hint) -> Self {
        match &hint.about {
            About::Message { id, version } => Self::Message {
                recipient: &hint.recipient,
                thread_id: &hint.thread_id,
                message_id: id,
                version: *version,
            },
            _ => Self::Event {
                recipient: &hint.recipient,
                event_id: &hint.event_id,
            },
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing panics while holding these, so a poisoned one is still consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Sent {
    /// Whether `seen` is news: a message's version above the one sent to that person, or
    /// another event not sent to them before.
    pub fn is_new(&self, seen: &Seen<'_>) -> bool {
        match seen {
            Seen::Message {
                recipient,
                thread_id,
                message_id,
                version,
            } => {
                let key = (
                    (*recipient).clone(),
                    (*thread_id).clone(),
                    (*message_id).clone(),
                );
                lock(&self.versions)
                    .get(&key)
                    .is_none_or(|sent| version > sent)
            }
            Seen::Event {
                recipient,
                event_id,
            } => !lock(&self.events).contains(&((*recipient).clone(), (*event_id).to_owned())),
        }
    }

    /// Records `seen` as published.
    pub fn record(&self, seen: &Seen<'_>) {
        match seen {
            Seen::Message {
                recipient,
                thread_id,
                message_id,
                version,
            } => {
                let mut versions = lock(&self.versions);
                if versions.len() >= REMEMBERED {
                    let mut by_age: Vec<u64> = versions.values().copied().collect();
                    by_age.sort_unstable();
                    let cutoff = by_age[by_age.len() / 2];
                    versions.retain(|_, v| *v > cutoff);
                }
                let key = (
                    (*recipient).clone(),
                    (*thread_id).clone(),
                    (*message_id).clone(),
                );
                let sent = versions.entry(key).or_default();
                *sent = (*sent).max(*version);
            }
            Seen::Event {
                recipient,
                event_id,
            } => {
                let mut events = lock(&self.events);
                if events.len() >= REMEMBERED {
                    events.clear();
                }
                events.insert(((*recipient).clone(), (*event_id).to_owned()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(thread: &str, message: &str) -> (UserId, ThreadId, MessageId) {
        (
            UserId::parse("8:acs:res_bob").unwrap(),
            ThreadId::parse(thread).unwrap(),
            MessageId::parse(message).unwrap(),
        )
    }

    fn message<'a>(ids: &'a (UserId, ThreadId, MessageId), version: u64) -> Seen<'a> {
        Seen::Message {
            recipient: &ids.0,
            thread_id: &ids.1,
            message_id: &ids.2,
            version,
        }
    }

    #[test]
    fn a_message_version_is_news_once_and_an_older_one_never_after_a_newer() {
        let sent = Sent::default();
        let m1 = ids("19:a@thread.v2", "1");
        assert!(sent.is_new(&message(&m1, 10)));
        sent.record(&message(&m1, 10));
        assert!(!sent.is_new(&message(&m1, 10)), "a redelivery");
        assert!(sent.is_new(&message(&m1, 20)), "an edit");
        sent.record(&message(&m1, 20));
        assert!(!sent.is_new(&message(&m1, 15)), "older than sent");
    }

    #[test]
    fn the_same_message_id_and_version_in_another_thread_or_for_another_person_is_news() {
        let sent = Sent::default();
        let in_a = ids("19:a@thread.v2", "1700000000000");
        sent.record(&message(&in_a, 1_700_000_000_000));
        let in_b = ids("19:b@thread.v2", "1700000000000");
        assert!(sent.is_new(&message(&in_b, 1_700_000_000_000)));
        let for_carol = (UserId::parse("8:acs:res_carol").unwrap(), in_a.1, in_a.2);
        assert!(sent.is_new(&message(&for_carol, 1_700_000_000_000)));
    }

    #[test]
    fn other_events_are_news_once_for_each_person() {
        let sent = Sent::default();
        let (bob, carol) = (
            UserId::parse("8:acs:res_bob").unwrap(),
            UserId::parse("8:acs:res_carol").unwrap(),
        );
        let event = |recipient| Seen::Event {
            recipient,
            event_id: "e1",
        };
        assert!(sent.is_new(&event(&bob)));
        sent.record(&event(&bob));
        assert!(!sent.is_new(&event(&bob)));
        assert!(sent.is_new(&event(&carol)));
    }
}
