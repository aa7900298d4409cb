//! What a message looks like to callers, and what it costs in an answer.

use std::collections::HashMap;

use serde::Serialize;

use crate::acs::chat::{ChatMessage, ChatParticipant};
use crate::acs::{MessageId, UserId};
use crate::chat::text::shown_name;
use crate::files::Attachment;
use crate::timestamp::{self, Timestamp};

/// A chat message as the API shows it; the first three fields are the original app's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageView {
    pub sender: String,
    /// The sender's name in the thread's participant list, if they are in it and have one: never
    /// the name a message claims for itself, which anyone could set to anyone's.
    pub sender_display_name: Option<String>,
    pub message: String,
    pub created_on: Timestamp,
    pub id: MessageId,
    pub sequence_id: u64,
    /// Sent by the caller (from another device, say).
    pub mine: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_on: Option<Timestamp>,
    /// Files sent with it (`download_url` fetches each); its `message` is empty when it is
    /// only these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// The names a thread's participants have in it, as ACS lists them, each as shown
/// ([`shown_name`]): the only names the API answers or pushes for a sender, never the one a
/// message claims for itself.
#[derive(Debug, Clone, Default)]
pub struct Names(HashMap<String, String>);

impl Names {
    pub fn of_participants(participants: &[ChatParticipant]) -> Self {
        Self(
            participants
                .iter()
                .filter_map(|p| {
                    let id = p.communication_identifier.id()?.to_owned();
                    Some((id, shown_name(p.display_name.as_deref()?)?))
                })
                .collect(),
        )
    }

    /// The name of the participant `id`, if they are in the thread and have one.
    pub fn of(&self, id: &str) -> Option<String> {
        self.0.get(id).cloned()
    }
}

/// Who reads a thread, and the names its participants have in it.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    pub caller: &'a UserId,
    names: Names,
}

impl<'a> Reader<'a> {
    pub fn new(caller: &'a UserId, participants: &[ChatParticipant]) -> Self {
        Self {
            caller,
            names: Names::of_participants(participants),
        }
    }

    /// The view of a live user message; `None` for system events and deleted messages. Takes
    /// the message so that its strings move into the view instead of being copied.
    pub fn view(&self, message: ChatMessage) -> Option<MessageView> {
        view(message, self.caller, |sender| self.names.of(sender))
    }
}

/// The view of a live user message for `caller`, its sender named by `name_of`.
fn view(
    message: ChatMessage,
    caller: &UserId,
    name_of: impl Fn(&str) -> Option<String>,
) -> Option<MessageView> {
    if !message.is_user_message() {
        return None;
    }
    let (attachments, textless) = Attachment::of_message(&message);
    let sender = message.sender_communication_identifier?.into_id()?;
    let text = message.content?.message?;
    Some(MessageView {
        mine: caller == sender.as_str(),
        sender_display_name: name_of(&sender),
        sender,
        message: if textless { String::new() } else { text },
        created_on: message.created_on.into(),
        id: message.id,
        sequence_id: message.sequence_id,
        edited_on: message.edited_on.map(Timestamp::from),
        attachments,
    })
}

/// An edit or deletion of a message the caller has already been given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub id: MessageId,
    pub sequence_id: u64,
    /// The text now; `None` once deleted.
    pub message: Option<String>,
    pub edited_on: Option<Timestamp>,
    pub deleted: bool,
}

/// The change a listed text or HTML message records; `None` for system events.
pub fn change(message: &ChatMessage) -> Option<Change> {
    if !message.kind.is_chat() {
        return None;
    }
    let deleted = message.deleted_on.is_some();
    Some(Change {
        id: message.id.clone(),
        sequence_id: message.sequence_id,
        message: (!deleted)
            .then(|| message.text().map(str::to_owned))
            .flatten(),
        edited_on: message.edited_on.map(Timestamp::from),
        deleted,
    })
}

/// What one answer may hold: Lambda refuses a response past 6 MB, its envelope included.
pub const MAX_ANSWER_BYTES: usize = 6 * 1024 * 1024 - 16 * 1024;

/// Bytes `s` takes at most once an answer travels as a JSON string inside Lambda's own JSON:
/// every character JSON escapes counted as escaped twice over.
fn text_bytes(s: &str) -> usize {
    s.len()
        + s.bytes()
            .map(|b| match b {
                b'"' | b'\\' => 3,
                0..=0x1f => 12,
                _ => 0,
            })
            .sum::<usize>()
}

/// Keys, quotes and punctuation of one listed item, escaped in the envelope, and its numbers.
const FRAME: usize = 200;

/// Bytes a message adds to an answer at most, counted from its fields' lengths rather than by
/// serialising it, so that a long history is not encoded twice.
pub fn answer_bytes(view: &MessageView) -> usize {
    FRAME
        + text_bytes(&view.sender)
        + view.sender_display_name.as_deref().map_or(0, text_bytes)
        + text_bytes(&view.message)
        + timestamp::MAX_LEN * 2
        + view.id.as_str().len()
        + view
            .attachments
            .iter()
            .map(|a| FRAME + text_bytes(&a.name) + text_bytes(&a.content_type))
            .sum::<usize>()
}

/// Bytes a change adds to an answer at most.
pub fn change_bytes(change: &Change) -> usize {
    FRAME + change.message.as_deref().map_or(0, text_bytes) + timestamp::MAX_LEN
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn message(text: &str, name: Option<&str>) -> MessageView {
        MessageView {
            sender: "8:acs:res_alice".into(),
            sender_display_name: name.map(str::to_owned),
            message: text.to_owned(),
            created_on: datetime!(2026-11-25 22:00:00.123 UTC).into(),
            id: MessageId::parse("1795600800000").unwrap(),
            sequence_id: 123_456,
            mine: false,
            edited_on: Some(datetime!(2026-11-25 22:01:00.123456789 UTC).into()),
            attachments: Vec::new(),
        }
    }

    #[test]
    fn the_size_counted_for_a_message_is_never_less_than_its_size_in_lambda_s_envelope() {
        for (text, name) in [
            ("plain", None),
            (r#"quotes " and backslashes \ \\""#, Some(r#""Al""#)),
            ("control \u{0}\u{1f}\n\t characters", Some("tab\tname")),
            ("héllo 👋 עברית\u{200b}", Some("Zoë")),
            (&"\"".repeat(1000), None),
            (&"x".repeat(28 * 1024), Some("Bob")),
        ] {
            let mut view = message(text, name);
            if let Some(name) = name {
                // Every attachment's name is a person's, escaped like their text.
                view.attachments = (0..10)
                    .map(|_| Attachment {
                        id: crate::files::AttachmentId::parse(&"a".repeat(32)).unwrap(),
                        name: format!("{name}{text}").chars().take(255).collect(),
                        content_type: "image/png".into(),
                        size: u64::MAX,
                    })
                    .collect();
            }
            let in_body = serde_json::to_string(&view).unwrap();
            let in_envelope = serde_json::to_string(&in_body).unwrap().len() + 1;
            let counted = answer_bytes(&view);
            assert!(
                counted >= in_envelope,
                "{text:?}: {counted} < {in_envelope}"
            );
            assert!(
                counted <= in_envelope * 2 + 300,
                "{text:?}: {counted} far above {in_envelope}"
            );
        }
    }

    #[test]
    fn the_size_counted_for_a_change_is_never_less_than_its_size_in_lambda_s_envelope() {
        for text in [
            None,
            Some("edited \"text\" \n"),
            Some(&*"y".repeat(28 * 1024)),
        ] {
            let change = Change {
                id: MessageId::parse("1795600800000").unwrap(),
                sequence_id: 9,
                message: text.map(str::to_owned),
                edited_on: Some(datetime!(2026-11-25 22:01:00.123456789 UTC).into()),
                deleted: text.is_none(),
            };
            let in_body = serde_json::to_string(&change).unwrap();
            let in_envelope = serde_json::to_string(&in_body).unwrap().len() + 1;
            assert!(change_bytes(&change) >= in_envelope, "{text:?}");
        }
    }
}
