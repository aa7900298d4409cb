//! What a person's devices are sent, and how a hint becomes it: by reading ACS as that person.
//!
//! A hint names a recipient, a thread and what changed; the update is what ACS, asked with a
//! token of the recipient's, says now. So a made-up event carries nothing ACS does not hold,
//! and nothing reaches anyone ACS would not show it to: a person removed from a thread, or
//! deleted, is refused by ACS and sent nothing.

use serde::Serialize;

use super::eventgrid::{About, Hint};
use crate::acs::{AcsError, BearerToken, ChatClient, MessageId, ThreadId, UserId};
use crate::chat::text::shown_topic;
use crate::chat::view::Names;
use crate::files::Attachment;
use crate::timestamp::Timestamp;

/// What changed, as clients are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateKind {
    /// A message was sent.
    Message,
    Edited,
    Deleted,
    /// The person is in a thread they were not in: a new thread, or one they were added to.
    Joined,
    /// Someone else joined or left: the participants are worth reading again.
    Participants,
    /// The person is no longer in the thread.
    Left,
    /// The thread was renamed.
    Topic,
    ThreadDeleted,
    /// Someone is typing (from `send_typing`: ACS sends Event Grid no typing events).
    Typing,
    /// The person moved their read position (from `mark_read`, on one of their devices).
    Read,
}

/// One event for a person's devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Update {
    pub kind: UpdateKind,
    pub thread_id: ThreadId,
    /// For message events: the message and its version (epoch ms of its last change); a
    /// higher version of a message replaces a lower one, never the reverse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// The sender's or typist's name in the thread's participant list, where they have one:
    /// never the name a message or notice claims for itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_display_name: Option<String>,
    /// The text now: of a sent or edited message; the new topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<Timestamp>,
    /// The files of a sent or edited message; its `text` is empty when it is only these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl Update {
    pub(crate) fn about(kind: UpdateKind, thread_id: ThreadId) -> Self {
        Self {
            kind,
            thread_id,
            message_id: None,
            version: None,
            sequence_id: None,
            sender: None,
            sender_display_name: None,
            text: None,
            created_on: None,
            attachments: Vec::new(),
        }
    }

    /// Someone typing in a thread, as the identity ACS accepted the notice from.
    pub fn typing(thread_id: ThreadId, sender: &UserId, name: Option<String>) -> Self {
        Self {
            sender: Some(sender.to_string()),
            sender_display_name: name,
            ..Self::about(UpdateKind::Typing, thread_id)
        }
    }

    /// The person's read position in a thread is now `read_up_to`, the sequence id read up to.
    pub fn read(thread_id: ThreadId, read_up_to: u64) -> Self {
        Self {
            sequence_id: Some(read_up_to),
            ..Self::about(UpdateKind::Read, thread_id)
        }
    }
}

/// Whether an ACS answer means the caller may not see the thread (any more): not a
/// participant (403), or the thread or message gone (404).
fn refused(error: &AcsError) -> bool {
    matches!(error, AcsError::Forbidden(_) | AcsError::NotFound(_))
}

/// The update `hint` stands for, read from ACS with `token`, the recipient's; `None` when ACS
/// shows the recipient nothing of it (a made-up or stale hint, or a recipient no longer in the
/// thread).
pub async fn resolve(
    chat: &ChatClient,
    token: &BearerToken,
    hint: &Hint,
) -> Result<Option<Update>, AcsError> {
    let thread_id = hint.thread_id.clone();
    match &hint.about {
        About::Message { id, .. } => {
            // The sender is named as the thread names them, read beside the message.
            let (message, participants) = tokio::join!(
                chat.get_message(token, &thread_id, id),
                chat.first_participants(token, &thread_id),
            );
            let message = match message {
                Ok(message) if message.kind.is_chat() => message,
                Ok(_) => return Ok(None),
                Err(error) if refused(&error) => return Ok(None),
                Err(error) => return Err(error),
            };
            let names = match participants {
                Ok(participants) => Names::of_participants(&participants),
                Err(error) if refused(&error) => return Ok(None),
                Err(error) => return Err(error),
            };
            let kind = if message.deleted_on.is_some() {
                UpdateKind::Deleted
            } else if message.is_unchanged() {
                UpdateKind::Message
            } else {
                UpdateKind::Edited
            };
            let version = message.version();
            let (attachments, textless) = match kind {
                UpdateKind::Deleted => (Vec::new(), false),
                _ => Attachment::of_message(&message),
            };
            Ok(Some(Update {
                message_id: Some(message.id.clone()),
                version: Some(version),
                sequence_id: Some(message.sequence_id),
                sender: message.sender_id().map(str::to_owned),
                sender_display_name: (kind != UpdateKind::Deleted)
                    .then(|| names.of(message.sender_id()?))
                    .flatten(),
                text: (kind != UpdateKind::Deleted)
                    .then(|| {
                        message
                            .text()
                            .map(|text| if textless { "" } else { text }.to_owned())
                    })
                    .flatten(),
                created_on: Some(message.created_on.into()),
                attachments,
                ..Update::about(kind, thread_id)
            }))
        }
        About::Left | About::Deleted => {
            // Believed only when ACS no longer shows the recipient the thread.
            let kind = if hint.about == About::Left {
                UpdateKind::Left
            } else {
                UpdateKind::ThreadDeleted
            };
            match chat.get_thread(token, &thread_id).await {
                Ok(_) => Ok(None),
                Err(error) if refused(&error) => Ok(Some(Update::about(kind, thread_id))),
                Err(error) => Err(error),
            }
        }
        About::Joined | About::Participants | About::Properties => {
            let thread = match chat.get_thread(token, &thread_id).await {
                Ok(thread) => thread,
                Err(error) if refused(&error) => return Ok(None),
                Err(error) => return Err(error),
            };
            let kind = match hint.about {
                About::Joined => UpdateKind::Joined,
                About::Participants => UpdateKind::Participants,
                _ => UpdateKind::Topic,
            };
            Ok(Some(Update {
                text: Some(shown_topic(&thread.topic)),
                ..Update::about(kind, thread_id)
            }))
        }
    }
}
