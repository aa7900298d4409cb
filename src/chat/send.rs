//! Exactly-once sends with no database of ours: every message carries an idempotency key in
//! its ACS metadata, and the thread itself is where we look for it.
//!
//! - A send whose outcome is unknown (a timeout, a connection lost after sending, a 5xx) is
//!   resolved by looking for the key before sending again.
//! - A client's own retry with the same `Idempotency-Key` finds the message its first request
//!   sent and sends nothing.
//! - Two requests with the same key at once may both send; each then looks again, keeps the
//!   earliest message with the key and deletes the later ones, so both answer with the same id
//!   and the history ends with one message. In between, a reader can see both.
//!
//! A key is found among the thread's newest [`LOOKBACK_MESSAGES`] messages of the last
//! [`LOOKBACK`]: a retry later than that, or behind more traffic, sends again.

use std::fmt;

use super::text::{DisplayName, MessageText};
use crate::acs::chat::{
    ACS_MAX_PAGE_SIZE, ChatClient, ChatMessage, MessageKind, Page, SendMessage,
};
use crate::acs::{AcsError, BearerToken, MessageId, ThreadId, UserId};

/// The metadata key the idempotency key travels under.
pub const METADATA_KEY: &str = "idempotencyKey";
/// How long a key is looked for.
pub const LOOKBACK: time::Duration = time::Duration::hours(24);
/// How many of the newest messages a look reads: one ACS page.
pub const LOOKBACK_MESSAGES: u32 = ACS_MAX_PAGE_SIZE;
/// Sends tried when each outcome is unknown and the key is not found afterwards.
const MAX_SENDS: u32 = 3;

/// A client's idempotency key: 1 to 64 of `A-Z a-z 0-9 _ -`, the one rule for every endpoint
/// that takes an `Idempotency-Key` (it travels in ACS metadata and as ACS's repeatability id).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey(String);

/// A string that is not a valid idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -")]
pub struct NotAKey;

impl ClientKey {
    pub fn parse(raw: &str) -> Result<Self, NotAKey> {
        let valid = (1..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
        valid.then(|| Self(raw.to_owned())).ok_or(NotAKey)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a send's key came from, which decides how much checking it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyKey {
    /// The client's `Idempotency-Key`: it may retry, or send the same key twice at once.
    Client(ClientKey),
    /// Made for this request alone: only our own resends could repeat it.
    Generated(String),
}

impl IdempotencyKey {
    /// The client's key, or a fresh one for this request.
    pub fn new(from_client: Option<ClientKey>) -> Self {
        match from_client {
            Some(key) => Self::Client(key),
            None => Self::Generated(uuid::Uuid::new_v4().simple().to_string()),
        }
    }

    /// The key as it travels in ACS metadata.
    pub fn value(&self) -> &str {
        match self {
            Self::Client(key) => key.as_str(),
            Self::Generated(key) => key,
        }
    }
}

/// A message on its way out: who sends what where, exactly once.
pub struct Outgoing<'a> {
    pub chat: &'a ChatClient,
    pub token: &'a BearerToken,
    pub sender: &'a UserId,
    pub thread_id: &'a ThreadId,
    pub content: &'a MessageText,
    pub display_name: Option<&'a DisplayName>,
    pub key: &'a IdempotencyKey,
    /// More metadata to store with the message (its attachments).
    pub metadata: &'a [(&'a str, &'a str)],
}

impl Outgoing<'_> {
    /// Sends the message once, whatever fails on the way, and returns its id. One ACS round
    /// trip when nothing fails and the key is ours; a client's key adds a look before and
    /// after.
    pub async fn exactly_once(&self) -> Result<MessageId, AcsError> {
        let client_key = matches!(self.key, IdempotencyKey::Client(_));
        if client_key && let Some(sent) = self.find().await? {
            return Ok(sent.id);
        }
        let mut uncertain = false;
        let mut sends = 0;
        let sent = loop {
            sends += 1;
            match self
                .chat
                .send_message(self.token, self.thread_id, &self.message())
                .await
            {
                Ok(id) => break id,
                Err(error) if error.outcome_unknown() => {
                    tracing::warn!(%error, "send outcome unknown; looking for its key");
                    uncertain = true;
                    if let Some(found) = self.find().await? {
                        break found.id;
                    }
                    if sends >= MAX_SENDS {
                        return Err(error);
                    }
                }
                Err(error) => return Err(error),
            }
        };
        if client_key || uncertain {
            return self.keep_earliest(sent).await;
        }
        Ok(sent)
    }

    fn message(&self) -> SendMessage<'_> {
        SendMessage {
            content: self.content.as_str(),
            sender_display_name: self.display_name.map(DisplayName::as_str),
            kind: MessageKind::Text,
            metadata: [(METADATA_KEY, self.key.value())]
                .into_iter()
                .chain(self.metadata.iter().copied())
                .collect(),
        }
    }

    /// The live messages from this sender that carry the key, earliest first.
    async fn with_key(&self) -> Result<Vec<ChatMessage>, AcsError> {
        let since = time::OffsetDateTime::now_utc() - LOOKBACK;
        let page: Page<ChatMessage> = self
            .chat
            .list_messages(
                self.token,
                self.thread_id,
                Some(LOOKBACK_MESSAGES),
                Some(since),
            )
            .await?;
        let mut found: Vec<ChatMessage> = page
            .value
            .into_iter()
            .filter(|m| {
                m.deleted_on.is_none()
                    && m.sender_id() == Some(self.sender.as_str())
                    && m.metadata(METADATA_KEY).as_deref() == Some(self.key.value())
            })
            .collect();
        found.sort_by_key(|m| m.sequence_id);
        Ok(found)
    }

    async fn find(&self) -> Result<Option<ChatMessage>, AcsError> {
        Ok(self.with_key().await?.into_iter().next())
    }

    /// After a send that may have raced another with the same key: keeps the earliest message
    /// with the key, deletes the rest, and answers with the one kept.
    async fn keep_earliest(&self, sent: MessageId) -> Result<MessageId, AcsError> {
        let mut found = self.with_key().await?.into_iter();
        let Some(earliest) = found.next() else {
            return Ok(sent);
        };
        for later in found {
            tracing::warn!(message_id = %later.id, "deleting a second message with the same key");
            self.chat
                .delete_message(self.token, self.thread_id, &later.id)
                .await?;
        }
        Ok(earliest.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_key_is_1_to_64_letters_digits_dashes_and_underscores() {
        assert_eq!(ClientKey::parse("a-Z_09").unwrap().as_str(), "a-Z_09");
        assert!(ClientKey::parse(&"k".repeat(64)).is_ok());
        for bad in ["", "has space", "a/b", "ключ", "x\r\ny", &"k".repeat(65)] {
            assert_eq!(ClientKey::parse(bad), Err(NotAKey), "{bad:?}");
        }
    }
}
