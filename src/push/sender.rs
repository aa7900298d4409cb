//! Sending one push (RFC 8030): the payload sealed for the subscription, the VAPID header,
//! `TTL`, `Urgency` and a per-thread `Topic`, and what the push service's answer means. A 404
//! or 410 says the subscription is gone, a 403 that it was made for another key; a 429 or 5xx
//! is tried again, after the service's `Retry-After` or a doubling pause, within the push's
//! [`DEADLINE`]. A service that does not answer in time is not tried again: a push service
//! answers in a fraction of a second, and a delivery that waited on one would hold a webhook
//! instance that every other person's events need.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;

use super::ece::{self, SealError};
use super::settings::PushSettings;
use super::subscription::Subscription;
use super::vapid::{LIFETIME_SECONDS, VapidError, VapidKey};
use crate::acs::http::count_upstream;
use crate::realtime::update::Update;
use crate::secrets::{SecretError, SecretStore};

/// How many characters of a message a push carries.
pub const PREVIEW_CHARS: usize = 100;
/// Attempts at one push, the first included.
const ATTEMPTS: u32 = 3;
/// The first pause before another attempt; each after doubles it.
const FIRST_PAUSE: Duration = Duration::from_millis(200);
/// The longest pause taken, whatever `Retry-After` asks: the delivery has to end.
const LONGEST_PAUSE: Duration = Duration::from_millis(800);
/// How long one push may take, its attempts and pauses together, connecting included.
pub const DEADLINE: Duration = Duration::from_millis(2500);
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);

/// Why pushes cannot be sent at all: nothing a push service said.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("the VAPID key is unavailable: {0}")]
    Key(#[from] SecretError),
    #[error("the VAPID secret's public key is not PUSH_PUBLIC_KEY, the one pages subscribe with")]
    KeyMismatch,
    #[error(transparent)]
    Vapid(#[from] VapidError),
    #[error("PUSH_VAPID_SECRET_ID and PUSH_CONTACT are not set")]
    Unconfigured,
}

/// What became of one push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The push service took it.
    Delivered,
    /// The subscription is gone (404, 410), or was made for another key (403): forget it.
    Gone,
    /// No answer in time, or no connection: this push is lost, and a device whose pushes keep
    /// going unanswered is forgotten.
    Unanswered(String),
    /// Still 429 or 5xx after the last attempt: this push is lost, and a device whose service
    /// keeps failing for a day is forgotten.
    Failing(String),
    /// Refused for good (another 4xx, a payload that cannot be sealed): this push is lost.
    Failed(String),
}

/// The sender: the container's HTTP client, the VAPID key (read once), and a JWT per push
/// service, reused for most of its life so that a push costs one signature a few times a day.
#[derive(Debug)]
pub struct Pusher {
    client: reqwest::Client,
    key: SecretStore<VapidKey>,
    settings: PushSettings,
    contact: String,
    headers: Mutex<HashMap<String, (String, i64)>>,
}

/// The payload of a new message's push: where it is, and unless the deployment says no
/// content, who sent it and how it begins (or how many files it is).
pub fn payload(update: &Update, content: bool) -> Vec<u8> {
    let mut body = json!({"thread_id": update.thread_id, "message_id": update.message_id});
    if content {
        body["sender_display_name"] = json!(update.sender_display_name);
        let text = update.text.as_deref().unwrap_or_default();
        body["text"] = json!(text.chars().take(PREVIEW_CHARS).collect::<String>());
        if !update.attachments.is_empty() {
            body["files"] = json!(update.attachments.len());
        }
    }
    body.to_string().into_bytes()
}

impl Pusher {
    /// The sender of a deployment that pushes: `None` without the VAPID secret's id.
    pub fn new(
        client: reqwest::Client,
        secrets: aws_sdk_secretsmanager::Client,
        settings: &PushSettings,
    ) -> Option<Self> {
        let (secret_id, contact) = settings
            .vapid_secret_id
            .clone()
            .zip(settings.contact.clone())?;
        Some(Self {
            client,
            key: SecretStore::reading(secrets, secret_id, VapidKey::from_secret),
            settings: settings.clone(),
            contact,
            headers: Mutex::new(HashMap::new()),
        })
    }

    pub fn settings(&self) -> &PushSettings {
        &self.settings
    }

    /// The `Authorization` header for pushes to `audience`, signed anew only when the one
    /// kept has less than an hour left.
    pub async fn authorization(&self, audience: &str) -> Result<String, PushError> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let fresh = self.headers.lock().ok().and_then(|kept| {
            kept.get(audience)
                .filter(|(_, expires)| *expires - now > 3600)
                .map(|(header, _)| header.clone())
        });
        if let Some(header) = fresh {
            return Ok(header);
        }
        let key = self.key.get().await?;
        if key.public_key() != self.settings.public_key.trim_end_matches('=') {
            return Err(PushError::KeyMismatch);
        }
        let header = key.authorization(audience, &self.contact, now)?;
        if let Ok(mut kept) = self.headers.lock() {
            kept.insert(
                audience.to_owned(),
                (header.clone(), now + LIFETIME_SECONDS),
            );
        }
        Ok(header)
    }

    /// Pushes `payload` to `subscription` under `topic`.
    pub async fn send(
        &self,
        subscription: &Subscription,
        payload: &[u8],
        topic: &str,
    ) -> Result<Outcome, PushError> {
        let body = match ece::seal(&subscription.receiver, payload) {
            Ok(body) => body,
            Err(SealError::BadPublicKey) => return Ok(Outcome::Gone),
            Err(error) => return Ok(Outcome::Failed(error.to_string())),
        };
        let authorization = self.authorization(&subscription.audience()).await?;
        let deadline = tokio::time::Instant::now() + DEADLINE;
        let mut pause = FIRST_PAUSE;
        for attempt in 1..=ATTEMPTS {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let sent = count_upstream(
                self.client
                    .post(subscription.endpoint.clone())
                    .timeout(left.min(ATTEMPT_TIMEOUT))
                    .header(reqwest::header::AUTHORIZATION, &authorization)
                    .header(reqwest::header::CONTENT_ENCODING, "aes128gcm")
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .header("TTL", self.settings.ttl_seconds)
                    .header("Urgency", "normal")
                    .header("Topic", topic)
                    .body(body.clone())
                    .send(),
            )
            .await;
            let (retry, wait) = match sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    match status {
                        200..=299 => return Ok(Outcome::Delivered),
                        // 403: made for another application server key (RFC 8292 4.2),
                        // which no push of ours will ever match.
                        403 | 404 | 410 => return Ok(Outcome::Gone),
                        429 | 500..=599 => (format!("answered {status}"), retry_after(&response)),
                        _ => return Ok(Outcome::Failed(format!("answered {status}"))),
                    }
                }
                Err(error) => return Ok(Outcome::Unanswered(error.without_url().to_string())),
            };
            let wait = wait.unwrap_or(pause).min(LONGEST_PAUSE);
            // Another attempt only where it has time to be answered.
            if attempt == ATTEMPTS || tokio::time::Instant::now() + wait + FIRST_PAUSE > deadline {
                return Ok(Outcome::Failing(retry));
            }
            tokio::time::sleep(wait).await;
            pause *= 2;
        }
        Ok(Outcome::Failing("no attempt made".into()))
    }
}

/// A `Retry-After` of seconds (push services do not send dates).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acs::{MessageId, ThreadId};
    use crate::realtime::update::UpdateKind;

    fn message(text: &str) -> Update {
        Update {
            kind: UpdateKind::Message,
            thread_id: ThreadId::parse("19:abc@thread.v2").unwrap(),
            message_id: Some(MessageId::parse("1700000000000").unwrap()),
            version: Some(1_700_000_000_000),
            sequence_id: Some(3),
            sender: Some("8:acs:x".into()),
            sender_display_name: Some("Alice".into()),
            text: Some(text.into()),
            created_on: None,
            attachments: Vec::new(),
        }
    }

    fn read(payload: &[u8]) -> serde_json::Value {
        serde_json::from_slice(payload).unwrap()
    }

    #[test]
    fn a_push_carries_the_sender_and_the_first_hundred_characters() {
        let long = "é".repeat(150);
        let body = read(&payload(&message(&long), true));
        assert_eq!(body["thread_id"], "19:abc@thread.v2");
        assert_eq!(body["message_id"], "1700000000000");
        assert_eq!(body["sender_display_name"], "Alice");
        assert_eq!(
            body["text"].as_str().unwrap().chars().count(),
            PREVIEW_CHARS
        );
        assert!(payload(&message(&long), true).len() < ece::MAX_PLAINTEXT);
    }

    #[test]
    fn a_push_without_content_says_only_where_a_message_came() {
        let body = read(&payload(&message("the secret plan"), false));
        assert_eq!(
            body,
            json!({"thread_id": "19:abc@thread.v2", "message_id": "1700000000000"})
        );
    }
}
