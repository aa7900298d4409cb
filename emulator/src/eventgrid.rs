//! Event Grid deliveries as ACS makes them (Event Grid schema): webhook subscriptions
//! registered through `/_emulator/eventgrid`, the validation handshake performed against the
//! webhook, then one array of one event per change, POSTed with `aeg-event-type:
//! Notification`. Delivery is at least once and may be unordered, as Event Grid's is; switches
//! make it deliver twice, out of order or late, and a webhook's 5xx (or no answer) is retried.

use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::lock::lock;
use crate::store::{Content, Message};
use crate::wire::{identifier, rfc3339};

/// Attempts per delivery before it is dropped (Event Grid keeps trying for a day).
const ATTEMPTS: u32 = 5;
/// How long a late copy waits for the next event before it goes anyway.
const QUIET: Duration = Duration::from_millis(200);

/// How deliveries misbehave, for tests.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Switches {
    /// Deliver every event twice.
    pub duplicate: bool,
    /// Deliver every event again after the next one (or after a quiet moment): a copy that
    /// arrives after a newer change, as Event Grid's retries can.
    pub reorder: bool,
    /// Wait this long before each delivery.
    pub delay_ms: u64,
}

/// A change, as the event ACS would publish for it.
#[derive(Debug, Clone)]
pub struct Change {
    pub event_type: &'static str,
    pub subject: String,
    pub data: Value,
}

/// Webhook subscriptions and the delivery queue.
pub struct EventGrid {
    webhooks: Mutex<Vec<String>>,
    switches: Mutex<Switches>,
    queue: mpsc::UnboundedSender<Change>,
    resource_topic: String,
}

/// Why a subscription could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    #[error("the webhook could not be reached: {0}")]
    Unreachable(String),
    #[error("the webhook answered the validation handshake with {0}")]
    Refused(u16),
    #[error("the webhook did not echo the validation code")]
    WrongCode,
}

impl EventGrid {
    /// Starts the delivery task on the current runtime.
    pub fn start(resource_id: &str) -> std::sync::Arc<Self> {
        let (queue, deliveries) = mpsc::unbounded_channel();
        let grid = std::sync::Arc::new(Self {
            webhooks: Mutex::default(),
            switches: Mutex::default(),
            queue,
            resource_topic: format!(
                "/subscriptions/{resource_id}/resourceGroups/emulator/providers/\
                 Microsoft.Communication/communicationServices/emulator"
            ),
        });
        tokio::spawn(deliver(grid.clone(), deliveries));
        grid
    }

    pub fn set_switches(&self, switches: Switches) {
        *lock(&self.switches) = switches;
    }

    /// Subscribes `webhook` once it has echoed the validation code, as Event Grid requires.
    pub async fn subscribe(&self, webhook: &str) -> Result<(), SubscribeError> {
        let code = uuid::Uuid::new_v4().to_string();
        let validation = json!([{
            "id": uuid::Uuid::new_v4().to_string(),
            "topic": self.resource_topic,
            "subject": "",
            "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
            "eventTime": rfc3339(OffsetDateTime::now_utc()),
            "data": {"validationCode": code, "validationUrl": null},
            "dataVersion": "2",
            "metadataVersion": "1",
        }]);
        let response = reqwest::Client::new()
            .post(webhook)
            .header("aeg-event-type", "SubscriptionValidation")
            .json(&validation)
            .send()
            .await
            .map_err(|e| SubscribeError::Unreachable(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(SubscribeError::Refused(status));
        }
        let answer: Value = response
            .json()
            .await
            .map_err(|_| SubscribeError::WrongCode)?;
        if answer["validationResponse"] != code {
            return Err(SubscribeError::WrongCode);
        }
        lock(&self.webhooks).push(webhook.to_owned());
        Ok(())
    }

    pub fn unsubscribe_all(&self) {
        lock(&self.webhooks).clear();
    }

    /// Queues the event for `change`; nothing is sent while no webhook is subscribed.
    pub fn publish(&self, change: Change) {
        if !lock(&self.webhooks).is_empty() {
            let _ = self.queue.send(change);
        }
    }

    fn envelope(&self, change: &Change) -> Value {
        json!([{
            "id": uuid::Uuid::new_v4().to_string(),
            "topic": self.resource_topic,
            "subject": change.subject,
            "data": change.data,
            "eventType": change.event_type,
            "dataVersion": "1.0",
            "metadataVersion": "1",
            "eventTime": rfc3339(OffsetDateTime::now_utc()),
        }])
    }
}

async fn deliver(grid: std::sync::Arc<EventGrid>, mut changes: mpsc::UnboundedReceiver<Change>) {
    let client = reqwest::Client::new();
    // With `reorder`, each event's copy waits for the next event (or a quiet moment).
    let mut late: Option<Value> = None;
    loop {
        let next = match late {
            Some(_) => tokio::time::timeout(QUIET, changes.recv()).await.ok(),
            None => Some(changes.recv().await),
        };
        let switches = *lock(&grid.switches);
        match next {
            Some(Some(change)) => {
                let event = grid.envelope(&change);
                send(&grid, &client, &event, switches).await;
                if let Some(copy) = late.take() {
                    send(&grid, &client, &copy, switches).await;
                }
                if switches.reorder {
                    late = Some(event);
                }
            }
            Some(None) => return,
            None => {
                if let Some(copy) = late.take() {
                    send(&grid, &client, &copy, switches).await;
                }
            }
        }
    }
}

/// One event to every webhook, twice with `duplicate`, after `delay_ms`.
async fn send(grid: &EventGrid, client: &reqwest::Client, event: &Value, switches: Switches) {
    let times = if switches.duplicate { 2 } else { 1 };
    for _ in 0..times {
        tokio::time::sleep(Duration::from_millis(switches.delay_ms)).await;
        let webhooks = lock(&grid.webhooks).clone();
        for webhook in webhooks {
            post_with_retries(client, &webhook, event).await;
        }
    }
}

/// Posts one delivery, retrying as Event Grid does on anything but success or the statuses it
/// treats as final (400, 401, 403, 413).
async fn post_with_retries(client: &reqwest::Client, webhook: &str, event: &Value) {
    for attempt in 1..=ATTEMPTS {
        let sent = client
            .post(webhook)
            .header("aeg-event-type", "Notification")
            .json(event)
            .timeout(Duration::from_secs(30))
            .send()
            .await;
        match sent.map(|r| r.status().as_u16()) {
            Ok(200..=299 | 400 | 401 | 403 | 413) => return,
            Ok(status) => tracing::warn!(status, attempt, "webhook refused a delivery; retrying"),
            Err(e) => {
                tracing::warn!(error = %e.without_url(), attempt, "delivery failed; retrying")
            }
        }
        tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
    }
}

fn thread_subject(thread_id: &str, role: &str, who: &str) -> String {
    format!("thread/{thread_id}/{role}/{who}")
}

fn epoch_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or_default()
}

/// A message event ACS publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageEvent {
    Received,
    Edited,
    Deleted,
}

/// The event for `message` as it now is.
pub fn message_change(thread_id: &str, message: &Message, event: MessageEvent) -> Change {
    let sender = message.sender.clone().unwrap_or_default();
    let mut data = json!({
        "messageId": message.id.to_string(),
        "senderCommunicationIdentifier": identifier(&sender),
        "senderDisplayName": message.sender_display_name.clone().unwrap_or_default(),
        "composeTime": rfc3339(message.created_on),
        "type": if message.kind == "html" { "Html" } else { "Text" },
        "version": message.version,
        "transactionId": uuid::Uuid::new_v4().to_string(),
        "threadId": thread_id,
    });
    if let (Content::Text(text), None) = (&message.content, message.deleted_on) {
        data["messageBody"] = json!(text);
        data["metadata"] = message.metadata.clone().unwrap_or_else(|| json!({}));
    }
    match (message.deleted_on, message.edited_on) {
        (Some(at), _) => data["deleteTime"] = json!(rfc3339(at)),
        (None, Some(at)) => data["editTime"] = json!(rfc3339(at)),
        (None, None) => {}
    }
    Change {
        event_type: match event {
            MessageEvent::Received => "Microsoft.Communication.ChatMessageReceivedInThread",
            MessageEvent::Edited => "Microsoft.Communication.ChatMessageEditedInThread",
            MessageEvent::Deleted => "Microsoft.Communication.ChatMessageDeletedInThread",
        },
        subject: thread_subject(thread_id, "sender", &sender),
        data,
    }
}

/// A thread-level event ACS publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadEvent {
    ParticipantAdded,
    ParticipantRemoved,
    PropertiesUpdated,
    Deleted,
}

impl ThreadEvent {
    /// Its event type, the subject's word for who did it, and the data's names for who and
    /// when, as each event type's documented sample has them.
    fn names(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Self::ParticipantAdded => (
                "Microsoft.Communication.ChatThreadParticipantAdded",
                "addedBy",
                "addedByCommunicationIdentifier",
                "time",
            ),
            Self::ParticipantRemoved => (
                "Microsoft.Communication.ChatThreadParticipantRemoved",
                "removedBy",
                "removedByCommunicationIdentifier",
                "time",
            ),
            Self::PropertiesUpdated => (
                "Microsoft.Communication.ChatThreadPropertiesUpdated",
                "editedBy",
                "editedByCommunicationIdentifier",
                "editTime",
            ),
            Self::Deleted => (
                "Microsoft.Communication.ChatThreadDeleted",
                "deletedBy",
                "deletedByCommunicationIdentifier",
                "deleteTime",
            ),
        }
    }
}

/// A thread-level event by `actor` on a thread made at `created_on`, with the fields that
/// event adds (`details`, an object).
pub fn thread_change(
    thread_id: &str,
    created_on: OffsetDateTime,
    event: ThreadEvent,
    actor: &str,
    details: Value,
) -> Change {
    let now = OffsetDateTime::now_utc();
    let (event_type, role, actor_key, time_key) = event.names();
    let mut data = json!({
        actor_key: identifier(actor),
        time_key: rfc3339(now),
        "createTime": rfc3339(created_on),
        "version": epoch_ms(now),
        "transactionId": uuid::Uuid::new_v4().to_string(),
        "threadId": thread_id,
    });
    if let (Value::Object(data), Value::Object(details)) = (&mut data, details) {
        data.extend(details);
    }
    Change {
        event_type,
        subject: thread_subject(thread_id, role, actor),
        data,
    }
}
