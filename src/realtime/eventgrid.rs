//! Event Grid deliveries (Event Grid schema) of ACS chat events, and the event clients are sent
//! for each: one JSON object with a `kind`, the thread, and for messages the id and `version`
//! a client orders by (a higher version of a message replaces a lower one, never the reverse).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::acs::{ThreadId, UserId};
use crate::chat::text::DisplayName;

/// Event Grid's handshake event, sent once when the subscription is made.
pub const VALIDATION: &str = "Microsoft.EventGrid.SubscriptionValidationEvent";

/// One event of a delivery.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GridEvent {
    pub id: String,
    pub event_type: String,
    #[serde(default)]
    pub data: Value,
}

/// What a delivery asks of us.
#[derive(Debug, PartialEq)]
pub enum Delivery {
    /// The handshake: answer with this code.
    Validation(String),
    /// Changes to pass on, in the order delivered, and how many events were of other types.
    Changes(Vec<Update>, usize),
}

/// Why a delivery is refused (Event Grid does not retry a 400).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeliveryError {
    #[error("the body is not an array of Event Grid events")]
    NotEvents,
    #[error("a validation event carries no validationCode")]
    NoValidationCode,
    #[error("a {0} event lacks {1}")]
    Incomplete(String, &'static str),
}

/// What changed, as clients are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateKind {
    /// A message was sent.
    Message,
    Edited,
    Deleted,
    ParticipantAdded,
    ParticipantRemoved,
    /// The thread was renamed.
    Topic,
    ThreadDeleted,
    /// Someone is typing (from `send_typing`: ACS sends Event Grid no typing events).
    Typing,
}

impl UpdateKind {
    /// The kind an ACS event type is, if clients are sent it.
    fn of(event_type: &str) -> Option<Self> {
        Some(match event_type.strip_prefix("Microsoft.Communication.")? {
            "ChatMessageReceivedInThread" => Self::Message,
            "ChatMessageEditedInThread" => Self::Edited,
            "ChatMessageDeletedInThread" => Self::Deleted,
            "ChatThreadParticipantAdded" => Self::ParticipantAdded,
            "ChatThreadParticipantRemoved" => Self::ParticipantRemoved,
            "ChatThreadPropertiesUpdated" => Self::Topic,
            "ChatThreadDeleted" => Self::ThreadDeleted,
            _ => return None,
        })
    }

    /// Whether it is about one message, which has versions.
    pub fn is_message(self) -> bool {
        matches!(self, Self::Message | Self::Edited | Self::Deleted)
    }
}

/// An event for the thread's subscribers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Update {
    pub kind: UpdateKind,
    pub thread_id: ThreadId,
    /// For message events: the message, and its version (epoch ms of its last change).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_display_name: Option<String>,
    /// The text now: sent or edited messages; a new topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    /// Participant events: who joined or left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    /// Event Grid's id of the event: the same for every redelivery of it.
    #[serde(skip)]
    pub event_id: String,
}

fn text(data: &Value, key: &str) -> Option<String> {
    data.get(key)?.as_str().map(str::to_owned)
}

fn identifier(data: &Value, key: &str) -> Option<String> {
    let id = data.get(key)?;
    text(id, "rawId").or_else(|| text(id.get("communicationUser")?, "id"))
}

/// The version of a message event: a number on the wire, or a string of one.
fn version(data: &Value) -> Option<u64> {
    match data.get("version")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl Update {
    /// An update of `kind` with only its thread and event id.
    pub(crate) fn new(kind: UpdateKind, thread_id: ThreadId, event_id: &str) -> Self {
        Self {
            kind,
            thread_id,
            message_id: None,
            version: None,
            sender: None,
            sender_display_name: None,
            text: None,
            created_on: None,
            participant: None,
            event_id: event_id.to_owned(),
        }
    }

    /// Someone typing in a thread, as the identity ACS accepted the notice from.
    pub fn typing(thread_id: ThreadId, sender: &UserId, name: Option<&DisplayName>) -> Self {
        Self {
            sender: Some(sender.to_string()),
            sender_display_name: name.map(|n| n.as_str().to_owned()),
            ..Self::new(UpdateKind::Typing, thread_id, "")
        }
    }

    /// The update for one event; `Ok(None)` for event types clients are not sent.
    fn of(event: &GridEvent) -> Result<Option<Self>, DeliveryError> {
        let Some(kind) = UpdateKind::of(&event.event_type) else {
            return Ok(None);
        };
        let data = &event.data;
        let lacks = |what| DeliveryError::Incomplete(event.event_type.clone(), what);
        let thread_id = text(data, "threadId")
            .and_then(|id| ThreadId::parse(&id).ok())
            .ok_or_else(|| lacks("threadId"))?;
        let mut update = Self::new(kind, thread_id, &event.id);
        match kind {
            UpdateKind::Message | UpdateKind::Edited | UpdateKind::Deleted => {
                update.message_id =
                    Some(text(data, "messageId").ok_or_else(|| lacks("messageId"))?);
                update.version = Some(version(data).ok_or_else(|| lacks("version"))?);
                update.sender = identifier(data, "senderCommunicationIdentifier");
                update.sender_display_name =
                    text(data, "senderDisplayName").filter(|name| !name.is_empty());
                update.created_on = text(data, "composeTime");
                if kind != UpdateKind::Deleted {
                    update.text = text(data, "messageBody");
                }
            }
            UpdateKind::ParticipantAdded => {
                update.participant = data
                    .get("participantAdded")
                    .and_then(|p| identifier(p, "communicationIdentifier"));
            }
            UpdateKind::ParticipantRemoved => {
                update.participant = data
                    .get("participantRemoved")
                    .and_then(|p| identifier(p, "communicationIdentifier"));
            }
            UpdateKind::Topic => {
                update.text = data.get("properties").and_then(|p| text(p, "topic"));
            }
            UpdateKind::ThreadDeleted | UpdateKind::Typing => {}
        }
        Ok(Some(update))
    }
}

/// Reads a delivery's body.
pub fn read(body: &[u8]) -> Result<Delivery, DeliveryError> {
    let events: Vec<GridEvent> =
        serde_json::from_slice(body).map_err(|_| DeliveryError::NotEvents)?;
    if let Some(validation) = events.iter().find(|e| e.event_type == VALIDATION) {
        return text(&validation.data, "validationCode")
            .map(Delivery::Validation)
            .ok_or(DeliveryError::NoValidationCode);
    }
    let mut updates = Vec::new();
    let mut ignored = 0;
    for event in &events {
        match Update::of(event)? {
            Some(update) => updates.push(update),
            None => ignored += 1,
        }
    }
    Ok(Delivery::Changes(updates, ignored))
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREAD: &str = "19:a1b2@thread.v2";

    fn delivery(event_type: &str, data: Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!([{
            "id": "e-1", "topic": "/subscriptions/s", "subject": "thread/x",
            "eventType": event_type, "data": data, "dataVersion": "1.0",
            "metadataVersion": "1", "eventTime": "2026-11-26T01:00:00Z",
        }]))
        .unwrap()
    }

    #[test]
    fn the_handshake_answers_with_its_code() {
        let body = delivery(VALIDATION, serde_json::json!({"validationCode": "c-1"}));
        assert_eq!(read(&body), Ok(Delivery::Validation("c-1".into())));
        let body = delivery(VALIDATION, serde_json::json!({}));
        assert_eq!(read(&body), Err(DeliveryError::NoValidationCode));
    }

    #[test]
    fn a_received_message_becomes_a_message_update_with_its_version() {
        let body = delivery(
            "Microsoft.Communication.ChatMessageReceivedInThread",
            serde_json::json!({
                "messageBody": "hi", "messageId": "1700000000001", "version": 1700000000001u64,
                "senderCommunicationIdentifier": {"rawId": "8:acs:a", "communicationUser": {"id": "8:acs:a"}},
                "senderDisplayName": "Alice", "composeTime": "2026-11-26T01:00:00Z",
                "type": "Text", "threadId": THREAD,
            }),
        );
        let Ok(Delivery::Changes(updates, 0)) = read(&body) else {
            panic!("not read");
        };
        let update = &updates[0];
        assert_eq!(
            (update.kind, update.version, update.text.as_deref()),
            (UpdateKind::Message, Some(1_700_000_000_001), Some("hi"))
        );
        assert_eq!(update.sender.as_deref(), Some("8:acs:a"));
        assert_eq!(update.event_id, "e-1");
    }

    #[test]
    fn a_deletion_carries_no_text_and_other_event_types_are_counted_not_sent() {
        let body = delivery(
            "Microsoft.Communication.ChatMessageDeletedInThread",
            serde_json::json!({"messageId": "1", "version": "5", "threadId": THREAD, "messageBody": "x"}),
        );
        let Ok(Delivery::Changes(updates, 0)) = read(&body) else {
            panic!("not read");
        };
        assert_eq!(
            (updates[0].kind, updates[0].text.clone()),
            (UpdateKind::Deleted, None)
        );
        let body = delivery(
            "Microsoft.Communication.UserDisconnected",
            serde_json::json!({}),
        );
        assert_eq!(read(&body), Ok(Delivery::Changes(vec![], 1)));
    }

    #[test]
    fn malformed_deliveries_are_refused() {
        assert_eq!(read(b"{}"), Err(DeliveryError::NotEvents));
        assert_eq!(read(b"not json"), Err(DeliveryError::NotEvents));
        let body = delivery(
            "Microsoft.Communication.ChatMessageEditedInThread",
            serde_json::json!({"messageId": "1", "threadId": THREAD}),
        );
        assert!(matches!(
            read(&body),
            Err(DeliveryError::Incomplete(_, "version"))
        ));
        let body = delivery(
            "Microsoft.Communication.ChatThreadDeleted",
            serde_json::json!({"threadId": "not a thread"}),
        );
        assert!(matches!(
            read(&body),
            Err(DeliveryError::Incomplete(_, "threadId"))
        ));
    }
}
