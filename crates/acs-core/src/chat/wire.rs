//! The Chat API's wire types: what ACS sends and takes, in its JSON's shape, and the API
//! versions they belong to. The client is [`super::ChatClient`].

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::error::AcsError;
use crate::http::decode_json;
use crate::ids::{MessageId, ThreadId, UserId};

/// The Chat API version this client speaks.
pub const API_VERSION: &str = "2024-03-07";
/// The version of a thread's own calls (create, read, update): 2025-03-15 adds the thread's
/// metadata and retention policy and changes nothing else of them. The message calls stay on
/// [`API_VERSION`], whose edit and delete semantics ours are built on.
pub const THREAD_API_VERSION: &str = "2025-03-15";

/// Largest page ACS serves for messages.
pub const ACS_MAX_PAGE_SIZE: u32 = 200;

/// An identifier as ACS puts it in participant and sender fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommunicationIdentifier {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communication_user: Option<CommunicationUser>,
}

/// The `communicationUser` variant of an identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunicationUser {
    pub id: String,
}

impl CommunicationIdentifier {
    /// The identifier of an ACS user, in the form the SDKs send.
    pub fn user(id: &UserId) -> Self {
        Self {
            raw_id: Some(id.to_string()),
            communication_user: Some(CommunicationUser { id: id.to_string() }),
        }
    }

    /// The raw id, taken out of the identifier.
    pub fn into_id(self) -> Option<String> {
        self.raw_id.or(self.communication_user.map(|u| u.id))
    }

    /// The raw id, from `rawId` or else the user variant.
    pub fn id(&self) -> Option<&str> {
        self.raw_id
            .as_deref()
            .or(self.communication_user.as_ref().map(|u| u.id.as_str()))
    }
}

/// A thread participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatParticipant {
    pub communication_identifier: CommunicationIdentifier,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// How far back this participant sees history (RFC 3339); ACS's default is everything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_history_time: Option<String>,
}

impl ChatParticipant {
    /// A participant who sees the whole history.
    pub fn user(id: &UserId, display_name: Option<&str>) -> Self {
        Self {
            communication_identifier: CommunicationIdentifier::user(id),
            display_name: display_name.map(str::to_owned),
            share_history_time: None,
        }
    }
}

/// A thread's properties, as ACS answers them when it is made or read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatThread {
    pub id: ThreadId,
    #[serde(default)]
    pub topic: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_on: OffsetDateTime,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub retention_policy: Option<RetentionPolicy>,
}

/// When ACS deletes a thread by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum RetentionPolicy {
    /// This many days after it was made.
    ThreadCreationDate { delete_thread_after_days: u32 },
    /// Never.
    None,
}

impl RetentionPolicy {
    /// The days it keeps a thread, if it ends it at all.
    pub fn days(self) -> Option<u32> {
        match self {
            Self::ThreadCreationDate {
                delete_thread_after_days,
            } => Some(delete_thread_after_days),
            Self::None => None,
        }
    }
}

/// What a thread is made with, or what of it changes, beside its topic and participants:
/// each part left `None` is left as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadProperties {
    /// Merged into the thread's: a key with an empty value is removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_policy: Option<RetentionPolicy>,
}

/// A thread as the caller's thread list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatThreadItem {
    pub id: ThreadId,
    #[serde(default)]
    pub topic: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_message_received_on: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub deleted_on: Option<OffsetDateTime>,
}

/// What a message holds: text for chat messages, topic or participants for system events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageContent {
    pub message: Option<String>,
    pub topic: Option<String>,
    pub participants: Option<Vec<ChatParticipant>>,
    pub initiator_communication_identifier: Option<CommunicationIdentifier>,
}

/// What kind of message ACS listed: a user's text or HTML, or one of its system events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MessageKind {
    Text,
    Html,
    TopicUpdated,
    ParticipantAdded,
    ParticipantRemoved,
    /// A kind this client does not know (ACS may add more); never shown as a user message.
    #[serde(other)]
    Other,
}

impl MessageKind {
    /// Whether people wrote it: text or HTML, not a system event.
    pub fn is_chat(self) -> bool {
        matches!(self, Self::Text | Self::Html)
    }
}

/// A number ACS sends as a string (`"sequenceId": "5"`, `"version": "1593107077683"`).
mod number_in_string {
    use serde::{Deserialize, Deserializer, de::Error};

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse()
            .map_err(|_| D::Error::custom("not a whole number in a string"))
    }

    pub mod option {
        use super::*;

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<u64>, D::Error> {
            let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)?;
            Ok(text.and_then(|t| t.parse().ok()))
        }
    }
}

/// A message as listed: chat text or a system event.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub id: MessageId,
    #[serde(rename = "type")]
    pub kind: MessageKind,
    /// Position in the thread.
    #[serde(with = "number_in_string")]
    pub sequence_id: u64,
    /// Epoch ms of its last change, when ACS gave a usable one; see [`ChatMessage::version`].
    #[serde(default, rename = "version", with = "number_in_string::option")]
    pub listed_version: Option<u64>,
    pub content: Option<MessageContent>,
    pub sender_display_name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_on: OffsetDateTime,
    pub sender_communication_identifier: Option<CommunicationIdentifier>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub deleted_on: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub edited_on: Option<OffsetDateTime>,
    /// Strings the sender attached; ACS stores them and gives them back unread. Kept as JSON
    /// and read on lookup: decoding it into a map for every listed message cost more than the
    /// rest of the message together, and only the idempotency lookup reads it.
    #[serde(default)]
    pub metadata: Option<Box<RawValue>>,
}

impl ChatMessage {
    /// Decodes one message of a page fetched as raw JSON.
    pub fn from_raw(raw: &serde_json::value::RawValue) -> Result<Self, AcsError> {
        decode_json(raw.get().as_bytes())
    }

    /// Its last change, in epoch ms: `version`, or its id (its creation time) when ACS sent
    /// no usable version. ACS lists messages by it, newest first.
    pub fn version(&self) -> u64 {
        self.listed_version.unwrap_or_else(|| self.id.number())
    }

    /// True until it is first edited or deleted: its version is still its creation time.
    pub fn is_unchanged(&self) -> bool {
        self.version() == self.id.number()
    }

    /// True for a live text or HTML message from a user, false for system events and deletions.
    pub fn is_user_message(&self) -> bool {
        self.kind.is_chat() && self.deleted_on.is_none() && self.text().is_some()
    }

    /// The message text, if it has any.
    pub fn text(&self) -> Option<&str> {
        self.content.as_ref()?.message.as_deref()
    }

    /// The sender's raw id; system events have none.
    pub fn sender_id(&self) -> Option<&str> {
        self.sender_communication_identifier.as_ref()?.id()
    }

    /// One metadata value; `None` also when the metadata is not a map of strings.
    pub fn metadata(&self, key: &str) -> Option<String> {
        let raw = self.metadata.as_ref()?;
        let mut map: HashMap<&str, String> = serde_json::from_str(raw.get()).ok()?;
        map.remove(key)
    }
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessage<'a> {
    pub content: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_display_name: Option<&'a str>,
    #[serde(rename = "type")]
    pub kind: MessageKind,
    /// Strings to store with the message.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<&'a str, &'a str>,
}

/// A read receipt: who read up to which message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadReceipt {
    pub sender_communication_identifier: CommunicationIdentifier,
    pub chat_message_id: MessageId,
    #[serde(with = "time::serde::rfc3339")]
    pub read_on: OffsetDateTime,
}

/// A participant ACS would not add, and why.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InvalidParticipant {
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// One page of a list, and where the next one is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    pub next_link: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CreateThreadResponse {
    pub(super) chat_thread: ChatThread,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AddParticipantsResponse {
    #[serde(default)]
    pub(super) invalid_participants: Vec<InvalidParticipant>,
}

#[derive(Deserialize)]
pub(super) struct SendMessageResponse {
    pub(super) id: MessageId,
}
