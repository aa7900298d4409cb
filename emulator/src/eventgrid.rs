//! Event Grid deliveries as ACS makes them (Event Grid schema): webhook subscriptions
//! registered through `/_emulator/eventgrid`, the validation handshake performed against the
//! webhook, then one array of one event per change, POSTed with `aeg-event-type:
//! Notification`. Delivery is at least once and may be unordered, as Event Grid's is; switches
//! make it deliver twice, out of order or late, and a webhook's 5xx (or no answer) is retried.
//! Each subscription is delivered on its own, as Event Grid's are: a webhook slow to answer
//! holds up its own deliveries, never another subscription's.

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

/// A subscribed webhook, the event types it asked for (every type if none), and the queue of
/// its own deliveries.
#[derive(Debug, Clone)]
struct Webhook {
    event_types: Option<Vec<String>>,
    queue: mpsc::UnboundedSender<Value>,
}

impl Webhook {
    fn wants(&self, event_type: &str) -> bool {
        self.event_types
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t == event_type))
    }
}

/// Webhook subscriptions, each with its delivery task.
pub struct EventGrid {
    webhooks: Mutex<Vec<Webhook>>,
    switches: std::sync::Arc<Mutex<Switches>>,
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
    /// Event Grid with no subscription yet; each subscription's delivery task starts on the
    /// current runtime as it is made.
    pub fn start(resource_id: &str) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self {
            webhooks: Mutex::default(),
            switches: std::sync::Arc::default(),
            resource_topic: format!(
                "/subscriptions/{resource_id}/resourceGroups/emulator/providers/\
                 Microsoft.Communication/communicationServices/emulator"
            ),
        })
    }

    pub fn set_switches(&self, switches: Switches) {
        *lock(&self.switches) = switches;
    }

    /// Subscribes `webhook` to `event_types` (all if `None`, as an Event Grid subscription
    /// with no filter) once it has echoed the validation code, as Event Grid requires.
    pub async fn subscribe(
        &self,
        webhook: &str,
        event_types: Option<Vec<String>>,
    ) -> Result<(), SubscribeError> {
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
        let (queue, deliveries) = mpsc::unbounded_channel();
        tokio::spawn(deliver(
            webhook.to_owned(),
            self.switches.clone(),
            deliveries,
        ));
        lock(&self.webhooks).push(Webhook { event_types, queue });
        Ok(())
    }

    /// Ends every subscription (each delivery task stops once its queue is empty).
    pub fn unsubscribe_all(&self) {
        lock(&self.webhooks).clear();
    }

    /// Queues the event of each of `changes` for every webhook that wants it, under one id, as
    /// Event Grid gives each subscription the same event.
    pub fn publish(&self, changes: Vec<Change>) {
        let webhooks = lock(&self.webhooks);
        for change in changes {
            let event = self.envelope(&change);
            for webhook in webhooks.iter().filter(|w| w.wants(change.event_type)) {
                let _ = webhook.queue.send(event.clone());
            }
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

/// One webhook's deliveries, in the order queued unless the switches say otherwise.
async fn deliver(
    webhook: String,
    switches: std::sync::Arc<Mutex<Switches>>,
    mut events: mpsc::UnboundedReceiver<Value>,
) {
    let client = reqwest::Client::new();
    // With `reorder`, each event's copy waits for the next event (or a quiet moment).
    let mut late: Option<Value> = None;
    loop {
        let next = match late {
            Some(_) => tokio::time::timeout(QUIET, events.recv()).await.ok(),
            None => Some(events.recv().await),
        };
        let switches = *lock(&switches);
        match next {
            Some(Some(event)) => {
                send(&client, &webhook, &event, switches).await;
                if let Some(copy) = late.take() {
                    send(&client, &webhook, &copy, switches).await;
                }
                if switches.reorder {
                    late = Some(event);
                }
            }
            Some(None) => return,
            None => {
                if let Some(copy) = late.take() {
                    send(&client, &webhook, &copy, switches).await;
                }
            }
        }
    }
}

/// One event to the webhook, twice with `duplicate`, after `delay_ms`.
async fn send(client: &reqwest::Client, webhook: &str, event: &Value, switches: Switches) {
    let times = if switches.duplicate { 2 } else { 1 };
    for _ in 0..times {
        tokio::time::sleep(Duration::from_millis(switches.delay_ms)).await;
        post_with_retries(client, webhook, event).await;
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

impl MessageEvent {
    /// Its thread-level and user-level event types.
    fn types(self) -> (&'static str, &'static str) {
        match self {
            Self::Received => (
                "Microsoft.Communication.ChatMessageReceivedInThread",
                "Microsoft.Communication.ChatMessageReceived",
            ),
            Self::Edited => (
                "Microsoft.Communication.ChatMessageEditedInThread",
                "Microsoft.Communication.ChatMessageEdited",
            ),
            Self::Deleted => (
                "Microsoft.Communication.ChatMessageDeletedInThread",
                "Microsoft.Communication.ChatMessageDeleted",
            ),
        }
    }
}

/// The thread-level event for `message` as it now is, and one user-level event for each of
/// `recipients` (the thread's participants but the sender, as ACS delivers them).
pub fn message_changes(
    thread_id: &str,
    message: &Message,
    event: MessageEvent,
    recipients: &[String],
) -> Vec<Change> {
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
    let (thread_type, user_type) = event.types();
    let thread_level = Change {
        event_type: thread_type,
        subject: thread_subject(thread_id, "sender", &sender),
        data: data.clone(),
    };
    let mut per_user = data;
    per_user["senderId"] = json!(sender);
    let per_user = Change {
        event_type: user_type,
        subject: thread_level.subject.clone(),
        data: per_user,
    };
    let mut changes = vec![thread_level];
    changes.extend(recipients.iter().map(|r| for_recipient(&per_user, r, true)));
    changes
}

/// A user-level copy of `change` for `recipient`: its subject and data name them (with
/// `recipientId` too where the documented sample has it).
fn for_recipient(change: &Change, recipient: &str, with_id: bool) -> Change {
    let mut data = change.data.clone();
    data["recipientCommunicationIdentifier"] = identifier(recipient);
    if with_id {
        data["recipientId"] = json!(recipient);
    }
    Change {
        event_type: change.event_type,
        subject: format!("{}/recipient/{recipient}", change.subject),
        data,
    }
}

/// A thread-level event ACS publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadEvent {
    Created,
    ParticipantAdded,
    ParticipantRemoved,
    PropertiesUpdated,
    Deleted,
}

/// How a thread event is written, as each event type's documented samples have it.
struct ThreadNames {
    thread_type: &'static str,
    user_type: &'static str,
    /// The subject's word for who did it.
    role: &'static str,
    /// The data's names for who did it and when.
    actor_key: &'static str,
    time_key: &'static str,
    /// The user-level event's plain field with the actor's raw id, where it has one.
    user_actor_key: Option<&'static str>,
    /// Whether the user-level event names its recipient in `recipientId` too.
    recipient_id: bool,
}

impl ThreadEvent {
    fn names(self) -> ThreadNames {
        let names = |thread_type, user_type, role, actor_key, time_key| ThreadNames {
            thread_type,
            user_type,
            role,
            actor_key,
            time_key,
            user_actor_key: None,
            recipient_id: false,
        };
        match self {
            Self::Created => ThreadNames {
                user_actor_key: Some("createdBy"),
                recipient_id: true,
                ..names(
                    "Microsoft.Communication.ChatThreadCreated",
                    "Microsoft.Communication.ChatThreadCreatedWithUser",
                    "createdBy",
                    "createdByCommunicationIdentifier",
                    "createTime",
                )
            },
            Self::ParticipantAdded => names(
                "Microsoft.Communication.ChatThreadParticipantAdded",
                "Microsoft.Communication.ChatParticipantAddedToThreadWithUser",
                "addedBy",
                "addedByCommunicationIdentifier",
                "time",
            ),
            Self::ParticipantRemoved => names(
                "Microsoft.Communication.ChatThreadParticipantRemoved",
                "Microsoft.Communication.ChatParticipantRemovedFromThreadWithUser",
                "removedBy",
                "removedByCommunicationIdentifier",
                "time",
            ),
            Self::PropertiesUpdated => ThreadNames {
                user_actor_key: Some("editedBy"),
                recipient_id: true,
                ..names(
                    "Microsoft.Communication.ChatThreadPropertiesUpdated",
                    "Microsoft.Communication.ChatThreadPropertiesUpdatedPerUser",
                    "editedBy",
                    "editedByCommunicationIdentifier",
                    "editTime",
                )
            },
            Self::Deleted => ThreadNames {
                user_actor_key: Some("deletedBy"),
                recipient_id: true,
                ..names(
                    "Microsoft.Communication.ChatThreadDeleted",
                    "Microsoft.Communication.ChatThreadWithUserDeleted",
                    "deletedBy",
                    "deletedByCommunicationIdentifier",
                    "deleteTime",
                )
            },
        }
    }
}

/// What a thread event adds to the fields every one has.
pub struct ThreadDetails {
    /// Fields both levels carry (`participantAdded`, `properties`, ...), an object.
    pub both: Value,
    /// Fields only the thread-level event carries (`metadata` of a rename), an object.
    pub thread_only: Value,
    /// Fields only the user-level events carry (`members` of a new thread), an object.
    pub user_only: Value,
}

impl ThreadDetails {
    /// Fields both levels carry, and no others.
    pub fn both(both: Value) -> Self {
        Self {
            both,
            thread_only: json!({}),
            user_only: json!({}),
        }
    }
}

fn extend(data: &mut Value, more: &Value) {
    if let (Value::Object(data), Value::Object(more)) = (data, more) {
        data.extend(more.clone());
    }
}

/// The thread-level event by `actor` on a thread made at `created_on`, and one user-level
/// event for each of `recipients`.
pub fn thread_changes(
    thread_id: &str,
    created_on: OffsetDateTime,
    event: ThreadEvent,
    actor: &str,
    details: &ThreadDetails,
    recipients: &[String],
) -> Vec<Change> {
    let now = OffsetDateTime::now_utc();
    let names = event.names();
    let at = if event == ThreadEvent::Created {
        created_on
    } else {
        now
    };
    let mut data = json!({
        names.actor_key: identifier(actor),
        names.time_key: rfc3339(at),
        "createTime": rfc3339(created_on),
        "version": epoch_ms(now),
        "transactionId": uuid::Uuid::new_v4().to_string(),
        "threadId": thread_id,
    });
    extend(&mut data, &details.both);
    let subject = thread_subject(thread_id, names.role, actor);
    let mut thread_data = data.clone();
    extend(&mut thread_data, &details.thread_only);
    let mut user_data = data;
    extend(&mut user_data, &details.user_only);
    if let Some(key) = names.user_actor_key {
        user_data[key] = json!(actor);
    }
    let per_user = Change {
        event_type: names.user_type,
        subject: subject.clone(),
        data: user_data,
    };
    let mut changes = vec![Change {
        event_type: names.thread_type,
        subject,
        data: thread_data,
    }];
    changes.extend(
        recipients
            .iter()
            .map(|r| for_recipient(&per_user, r, names.recipient_id)),
    );
    changes
}
