//! Event Grid deliveries (Event Grid schema) of ACS's user-level chat events, read as hints:
//! each names a recipient, a thread, and what changed. Nothing of an event's content is passed
//! on: whoever knows the webhook's secret can make up an event, so what a person is sent is read
//! from ACS, as that person (see [`super::update`]).

use serde::Deserialize;
use serde_json::Value;

use crate::acs::{MessageId, ThreadId, UserId};

/// Event Grid's handshake event, sent once when the subscription is made.
pub const VALIDATION: &str = "Microsoft.EventGrid.SubscriptionValidationEvent";

/// The user-level chat events the webhook takes, as an Event Grid subscription lists them.
pub const EVENT_TYPES: [&str; 8] = [
    "Microsoft.Communication.ChatMessageReceived",
    "Microsoft.Communication.ChatMessageEdited",
    "Microsoft.Communication.ChatMessageDeleted",
    "Microsoft.Communication.ChatThreadCreatedWithUser",
    "Microsoft.Communication.ChatThreadWithUserDeleted",
    "Microsoft.Communication.ChatThreadPropertiesUpdatedPerUser",
    "Microsoft.Communication.ChatParticipantAddedToThreadWithUser",
    "Microsoft.Communication.ChatParticipantRemovedFromThreadWithUser",
];

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
    /// Hints to check, in the order delivered, and how many events were of other types.
    Hints(Vec<Hint>, usize),
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

/// What an event says changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum About {
    /// A message was sent, edited or deleted: its version (epoch ms of the change) orders them.
    Message { id: MessageId, version: u64 },
    /// The recipient was put in a thread: at its creation, or added later.
    Joined,
    /// Someone else joined or left.
    Participants,
    /// The recipient was removed.
    Left,
    /// The thread was renamed (or its other properties changed).
    Properties,
    /// The thread was deleted.
    Deleted,
}

/// A user-level event: something changed in `thread_id` for `recipient`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub recipient: UserId,
    pub thread_id: ThreadId,
    pub about: About,
    /// Event Grid's id of the event: the same for every redelivery of it.
    pub event_id: String,
}

fn text(data: &Value, key: &str) -> Option<String> {
    data.get(key)?.as_str().map(str::to_owned)
}

/// The raw id of an identifier (`rawId`, else the communication user's id).
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

impl Hint {
    /// The hint one event gives; `Ok(None)` for event types the webhook does not take.
    fn of(event: &GridEvent) -> Result<Option<Self>, DeliveryError> {
        let Some(kind) = event.event_type.strip_prefix("Microsoft.Communication.") else {
            return Ok(None);
        };
        if !EVENT_TYPES.contains(&event.event_type.as_str()) {
            return Ok(None);
        }
        let data = &event.data;
        let lacks = |what| DeliveryError::Incomplete(event.event_type.clone(), what);
        let thread_id = text(data, "threadId")
            .and_then(|id| ThreadId::parse(id).ok())
            .ok_or_else(|| lacks("threadId"))?;
        let recipient = identifier(data, "recipientCommunicationIdentifier")
            .and_then(|id| UserId::parse(id).ok())
            .ok_or_else(|| lacks("recipientCommunicationIdentifier"))?;
        let participant = |key| {
            data.get(key)
                .and_then(|p| identifier(p, "participantCommunicationIdentifier"))
        };
        let about = match kind {
            "ChatMessageReceived" | "ChatMessageEdited" | "ChatMessageDeleted" => About::Message {
                id: text(data, "messageId")
                    .and_then(|id| MessageId::parse(id).ok())
                    .ok_or_else(|| lacks("messageId"))?,
                version: version(data).ok_or_else(|| lacks("version"))?,
            },
            "ChatThreadCreatedWithUser" => About::Joined,
            "ChatThreadWithUserDeleted" => About::Deleted,
            "ChatThreadPropertiesUpdatedPerUser" => About::Properties,
            "ChatParticipantAddedToThreadWithUser" => match participant("participantAdded") {
                Some(added) if recipient == *added.as_str() => About::Joined,
                _ => About::Participants,
            },
            _ => match participant("participantRemoved") {
                Some(removed) if recipient == *removed.as_str() => About::Left,
                _ => About::Participants,
            },
        };
        Ok(Some(Self {
            recipient,
            thread_id,
            about,
            event_id: event.id.clone(),
        }))
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
    let mut hints = Vec::new();
    let mut ignored = 0;
    for event in &events {
        match Hint::of(event)? {
            Some(hint) => hints.push(hint),
            None => ignored += 1,
        }
    }
    Ok(Delivery::Hints(hints, ignored))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const THREAD: &str = "19:a1b2@thread.v2";
    const BOB: &str = "8:acs:res_bob";

    fn who(id: &str) -> Value {
        json!({"rawId": id, "communicationUser": {"id": id}})
    }

    fn delivery(event_type: &str, mut data: Value) -> Vec<u8> {
        data["threadId"] = json!(THREAD);
        data["recipientCommunicationIdentifier"] = who(BOB);
        serde_json::to_vec(&json!([{
            "id": "e-1", "topic": "/subscriptions/s", "subject": "thread/x",
            "eventType": format!("Microsoft.Communication.{event_type}"), "data": data,
            "dataVersion": "1.0", "metadataVersion": "1", "eventTime": "2026-11-26T01:00:00Z",
        }]))
        .unwrap()
    }

    fn about(body: &[u8]) -> About {
        match read(body) {
            Ok(Delivery::Hints(hints, 0)) => hints[0].about.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_handshake_answers_with_its_code() {
        let body = serde_json::to_vec(&json!([{
            "id": "v", "eventType": VALIDATION, "data": {"validationCode": "c-1"}}]))
        .unwrap();
        assert_eq!(read(&body), Ok(Delivery::Validation("c-1".into())));
        let body = serde_json::to_vec(&json!([{"id": "v", "eventType": VALIDATION}])).unwrap();
        assert_eq!(read(&body), Err(DeliveryError::NoValidationCode));
    }

    #[test]
    fn a_message_event_names_its_recipient_message_and_version_and_nothing_of_its_text() {
        let body = delivery(
            "ChatMessageReceived",
            json!({"messageBody": "forged?", "messageId": "1700000000001", "version": 1700000000001u64}),
        );
        let Ok(Delivery::Hints(hints, 0)) = read(&body) else {
            panic!("not read");
        };
        assert_eq!(hints[0].recipient, *BOB);
        assert_eq!(hints[0].event_id, "e-1");
        assert_eq!(
            hints[0].about,
            About::Message {
                id: MessageId::parse("1700000000001").unwrap(),
                version: 1_700_000_000_001
            }
        );
        let edited = delivery(
            "ChatMessageEdited",
            json!({"messageId": "5", "version": "9"}),
        );
        assert!(matches!(about(&edited), About::Message { version: 9, .. }));
    }

    #[test]
    fn thread_events_say_whether_the_recipient_joined_left_or_someone_else_did() {
        let added =
            |id| json!({"participantAdded": {"participantCommunicationIdentifier": who(id)}});
        let removed =
            |id| json!({"participantRemoved": {"participantCommunicationIdentifier": who(id)}});
        let cases = [
            (
                delivery("ChatThreadCreatedWithUser", json!({})),
                About::Joined,
            ),
            (
                delivery("ChatParticipantAddedToThreadWithUser", added(BOB)),
                About::Joined,
            ),
            (
                delivery(
                    "ChatParticipantAddedToThreadWithUser",
                    added("8:acs:res_carol"),
                ),
                About::Participants,
            ),
            (
                delivery("ChatParticipantRemovedFromThreadWithUser", removed(BOB)),
                About::Left,
            ),
            (
                delivery(
                    "ChatParticipantRemovedFromThreadWithUser",
                    removed("8:acs:res_carol"),
                ),
                About::Participants,
            ),
            (
                delivery("ChatThreadPropertiesUpdatedPerUser", json!({})),
                About::Properties,
            ),
            (
                delivery("ChatThreadWithUserDeleted", json!({})),
                About::Deleted,
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(about(&body), expected);
        }
    }

    #[test]
    fn thread_level_and_other_event_types_are_counted_not_taken() {
        for event_type in ["ChatMessageReceivedInThread", "UserDisconnected"] {
            let body = delivery(event_type, json!({"messageId": "1", "version": 1}));
            assert_eq!(read(&body), Ok(Delivery::Hints(vec![], 1)), "{event_type}");
        }
    }

    #[test]
    fn malformed_deliveries_are_refused() {
        assert_eq!(read(b"{}"), Err(DeliveryError::NotEvents));
        assert_eq!(read(b"not json"), Err(DeliveryError::NotEvents));
        let no_version = delivery("ChatMessageEdited", json!({"messageId": "1"}));
        assert!(matches!(
            read(&no_version),
            Err(DeliveryError::Incomplete(_, "version"))
        ));
        let mut bad = json!([{"id": "e", "eventType": "Microsoft.Communication.ChatThreadWithUserDeleted",
            "data": {"threadId": THREAD, "recipientCommunicationIdentifier": who("orgid:x")}}]);
        assert!(matches!(
            read(&serde_json::to_vec(&bad).unwrap()),
            Err(DeliveryError::Incomplete(
                _,
                "recipientCommunicationIdentifier"
            ))
        ));
        bad[0]["data"]["threadId"] = json!("not a thread");
        assert!(matches!(
            read(&serde_json::to_vec(&bad).unwrap()),
            Err(DeliveryError::Incomplete(_, "threadId"))
        ));
    }
}
