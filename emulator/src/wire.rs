//! The store's records in ACS's JSON: the camelCase shapes the REST API and the SDKs read.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::store::{Content, Event, Listing, Message, Participant, Receipt, Thread, whole_seconds};

pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// A communication user as ACS writes one: the raw id and the typed variant.
pub fn identifier(id: &str) -> Value {
    json!({"rawId": id, "communicationUser": {"id": id}})
}

/// A thread's properties, as `GET /chat/threads/{id}` answers them; `current` is API version
/// 2025-03-15 or later, which adds the metadata and the retention policy.
pub fn thread(thread: &Thread, current: bool) -> Value {
    let mut value = json!({
        "id": thread.id,
        "topic": thread.topic,
        "createdOn": rfc3339(thread.created_on),
        "createdByCommunicationIdentifier": identifier(&thread.created_by),
    });
    if current {
        value["metadata"] = json!(thread.metadata);
        value["retentionPolicy"] = match thread.retention_days {
            Some(days) => json!({"kind": "threadCreationDate", "deleteThreadAfterDays": days}),
            None => json!({"kind": "none"}),
        };
    }
    value
}

pub fn participant(p: &Participant) -> Value {
    let mut value = json!({
        "communicationIdentifier": identifier(&p.id),
        "shareHistoryTime": rfc3339(p.share_history_time),
    });
    if let Some(name) = &p.display_name {
        value["displayName"] = json!(name);
    }
    value
}

/// A participant that `:add` refused because ACS does not know the identity.
pub fn refused_participant(id: &str) -> Value {
    json!({"target": id, "code": "403", "message": "Permissions check failed"})
}

fn content(content: &Content) -> Value {
    match content {
        Content::Text(text) => json!({"message": text, "attachments": []}),
        Content::Event(Event::ParticipantAdded {
            participants,
            initiator,
        }) => json!({
            "participants": participants.iter().map(participant).collect::<Vec<_>>(),
            "initiatorCommunicationIdentifier": identifier(initiator),
        }),
        Content::Event(Event::ParticipantRemoved {
            participants,
            initiator,
        }) => json!({
            "participants": participants.iter().map(participant).collect::<Vec<_>>(),
            "initiatorCommunicationIdentifier": identifier(initiator),
        }),
        Content::Event(Event::TopicUpdated { topic, initiator }) => json!({
            "topic": topic,
            "initiatorCommunicationIdentifier": identifier(initiator),
        }),
    }
}

pub fn message(m: &Message) -> Value {
    let mut value = json!({
        "id": m.id.to_string(),
        "type": m.kind,
        "sequenceId": m.sequence_id.to_string(),
        "version": m.version.to_string(),
        "content": content(&m.content),
        "createdOn": rfc3339(whole_seconds(m.created_on)),
    });
    if let Some(sender) = &m.sender {
        value["senderCommunicationIdentifier"] = identifier(sender);
    }
    if let Some(name) = &m.sender_display_name {
        value["senderDisplayName"] = json!(name);
    }
    if let Some(metadata) = &m.metadata {
        value["metadata"] = metadata.clone();
    }
    if let Some(deleted_on) = m.deleted_on {
        value["deletedOn"] = json!(rfc3339(deleted_on));
    }
    if let Some(edited_on) = m.edited_on {
        value["editedOn"] = json!(rfc3339(edited_on));
    }
    value
}

/// A thread as `GET /chat/threads` lists it.
pub fn thread_item(thread: &Thread) -> Value {
    let mut value = json!({"id": thread.id, "topic": thread.topic});
    if let Some(at) = thread.last_message_received_on {
        value["lastMessageReceivedOn"] = json!(rfc3339(whole_seconds(at)));
    }
    if let Some(at) = thread.gone_on(OffsetDateTime::now_utc()) {
        value["deletedOn"] = json!(rfc3339(whole_seconds(at)));
    }
    value
}

pub fn receipt((reader, receipt): (&String, &Receipt)) -> Value {
    json!({
        "senderCommunicationIdentifier": identifier(reader),
        "chatMessageId": receipt.message_id,
        "readOn": rfc3339(receipt.read_on),
    })
}

/// A page of a listing, each item rendered by `render`; the cursor stays with the caller, who
/// turns it into a `nextLink`.
pub fn items<T>(listing: &Listing<T>, render: impl Fn(&T) -> Value) -> Value {
    Value::Array(listing.items.iter().map(render).collect())
}
