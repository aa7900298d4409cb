//! A person's inbox: per thread what is unread, the newest message and whether it is muted.
//!
//! Unread is what others sent after the reader's position, counted exactly up to
//! [`EXACT_UNREAD`] (then `"99+"`), so it needs no read receipts, which ACS keeps only in
//! threads of 20 or fewer. Threads the reader has left (ACS answers 403) and deleted ones are
//! left out.

use serde::Serialize;

use super::text::shown_topic;
use super::view::Names;
use crate::acs::chat::{ChatClient, ChatMessage, ChatThreadItem};
use crate::acs::http::fan_out;
use crate::acs::{AcsError, BearerToken, ThreadId, UserId};
use crate::people::Kept;
use crate::timestamp::Timestamp;

/// Unread messages counted exactly up to this; more are `"99+"`.
pub const EXACT_UNREAD: u64 = 99;
/// Newest messages read per thread: enough to count to past [`EXACT_UNREAD`].
const MESSAGES_PER_THREAD: u32 = 100;
/// Characters of the last message shown in the inbox.
pub const PREVIEW_CHARS: usize = 120;

/// A page of the inbox.
#[derive(Debug, Serialize)]
pub struct Inbox {
    pub threads: Vec<Listed>,
    /// Unread messages of the listed threads that are not muted (each counted up to 100).
    pub unread_total: u64,
}

/// A thread of the inbox.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub thread_id: ThreadId,
    pub topic: String,
    pub last_message_received_on: Option<Timestamp>,
    pub unread_count: Unread,
    pub last_message: Option<LastMessage>,
    pub muted: bool,
}

/// How many messages are unread: a number up to 99, then `"99+"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unread {
    Exactly(u64),
    MoreThanExact,
}

impl Serialize for Unread {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Exactly(count) => serializer.serialize_u64(*count),
            Self::MoreThanExact => serializer.serialize_str("99+"),
        }
    }
}

impl Unread {
    fn counted(self) -> u64 {
        match self {
            Self::Exactly(count) => count,
            Self::MoreThanExact => EXACT_UNREAD + 1,
        }
    }
}

/// The newest message of a thread, shortened.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct LastMessage {
    pub sender: Option<String>,
    pub sender_display_name: Option<String>,
    pub preview: String,
    pub created_on: Timestamp,
    pub sequence_id: u64,
}

/// The inbox of `reader` over a page of `threads` as ACS listed them, with what the people
/// table keeps for them. One round trip at any group size: every thread's newest messages
/// and participants at once.
pub async fn inbox(
    chat: &ChatClient,
    token: &BearerToken,
    reader: &UserId,
    threads: Vec<ChatThreadItem>,
    kept: &Kept,
) -> Result<Inbox, AcsError> {
    let live: Vec<ChatThreadItem> = threads
        .into_iter()
        .filter(|t| t.deleted_on.is_none())
        .collect();
    let ids: Vec<ThreadId> = live.iter().map(|t| t.id.clone()).collect();
    // Where the server speaks HTTP/2 (the emulator does) they share one connection; over
    // HTTP/1.1 each opens its own, a TLS handshake apiece in a cold container. The
    // participants are read beside the messages: the last message is shown with its sender's
    // name in the thread, not the one it claims.
    let newest = fan_out(ids.len(), ids, |thread| async move {
        let (messages, participants) = tokio::join!(
            chat.messages_page(token, &thread, MESSAGES_PER_THREAD, None),
            chat.first_participants(token, &thread),
        );
        match messages.and_then(|(messages, _)| Ok((messages, participants?))) {
            Ok((messages, participants)) => {
                Ok(Some((messages, Names::of_participants(&participants))))
            }
            Err(AcsError::Forbidden(_) | AcsError::NotFound(_)) => Ok(None),
            Err(error) => Err(error),
        }
    })
    .await;
    let mut read = Vec::new();
    for (thread, newest) in live.into_iter().zip(newest) {
        if let Some((messages, names)) = newest? {
            read.push((thread, messages, names));
        }
    }
    Ok(tally(read, reader, kept))
}

/// The inbox of the threads still readable, each with its newest messages and names.
fn tally(
    read: Vec<(ChatThreadItem, Vec<ChatMessage>, Names)>,
    reader: &UserId,
    kept: &Kept,
) -> Inbox {
    let mut unread_total = 0;
    let threads = read
        .into_iter()
        .map(|(thread, messages, names)| {
            let (unread, last_message) =
                summarise(&messages, &names, reader, kept.read_up_to(&thread.id));
            let muted = kept.is_muted(&thread.id);
            if !muted {
                unread_total += unread.counted();
            }
            Listed {
                topic: shown_topic(&thread.topic),
                last_message_received_on: thread.last_message_received_on.map(Timestamp::from),
                thread_id: thread.id,
                unread_count: unread,
                last_message,
                muted,
            }
        })
        .collect();
    Inbox {
        threads,
        unread_total,
    }
}

/// What one thread's newest messages say for `reader`, whose position is `read_up_to`:
/// how many others sent after it, and the newest message.
fn summarise(
    messages: &[ChatMessage],
    names: &Names,
    reader: &UserId,
    read_up_to: u64,
) -> (Unread, Option<LastMessage>) {
    let chat = || messages.iter().filter(|m| m.is_user_message());
    let unread = chat()
        .filter(|m| m.sequence_id > read_up_to && m.sender_id() != Some(reader.as_str()))
        .count() as u64;
    let unread = if unread > EXACT_UNREAD {
        Unread::MoreThanExact
    } else {
        Unread::Exactly(unread)
    };
    let last = chat().max_by_key(|m| m.sequence_id).map(|m| LastMessage {
        sender: m.sender_id().map(str::to_owned),
        sender_display_name: m.sender_id().and_then(|sender| names.of(sender)),
        preview: m
            .text()
            .unwrap_or_default()
            .chars()
            .take(PREVIEW_CHARS)
            .collect(),
        created_on: Timestamp::from(m.created_on),
        sequence_id: m.sequence_id,
    });
    (unread, last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acs::chat::ChatParticipant;
    use serde_json::json;

    const ME: &str = "8:acs:res_me";
    const BOB: &str = "8:acs:res_bob";

    fn sent(sequence_id: u64, sender: &str, text: &str) -> ChatMessage {
        serde_json::from_value(json!({
            "id": format!("17956008{sequence_id:05}"),
            "type": "text",
            "sequenceId": sequence_id.to_string(),
            "version": "1795600800000",
            "content": {"message": text},
            "senderDisplayName": "claimed",
            "createdOn": "2026-11-25T22:00:00Z",
            "senderCommunicationIdentifier": {"rawId": sender, "communicationUser": {"id": sender}},
        }))
        .unwrap()
    }

    fn joined(sequence_id: u64) -> ChatMessage {
        serde_json::from_value(json!({
            "id": format!("17956008{sequence_id:05}"),
            "type": "participantAdded",
            "sequenceId": sequence_id.to_string(),
            "version": "1795600800000",
            "createdOn": "2026-11-25T22:00:00Z",
        }))
        .unwrap()
    }

    fn thread(id: &str) -> ChatThreadItem {
        serde_json::from_value(json!({"id": id, "topic": "Lunch"})).unwrap()
    }

    fn names() -> Names {
        let bob: ChatParticipant = serde_json::from_value(json!({
            "communicationIdentifier": {"rawId": BOB, "communicationUser": {"id": BOB}},
            "displayName": "Bob",
        }))
        .unwrap();
        Names::of_participants(&[bob])
    }

    fn me() -> UserId {
        UserId::parse(ME).unwrap()
    }

    #[test]
    fn unread_is_what_others_sent_after_the_reader_s_position_and_not_their_own_or_system_messages()
    {
        let messages = [
            joined(1),
            sent(2, BOB, "read already"),
            sent(3, BOB, "new"),
            sent(4, ME, "mine"),
            joined(5),
            sent(6, BOB, "newer"),
        ];
        let (unread, last) = summarise(&messages, &names(), &me(), 2);
        assert_eq!(unread, Unread::Exactly(2));
        let last = last.unwrap();
        assert_eq!(
            (last.sequence_id, last.preview.as_str()),
            (6, "newer"),
            "the newest user message, not the system one"
        );
        assert_eq!(
            last.sender_display_name.as_deref(),
            Some("Bob"),
            "the name in the thread, not the one the message claims"
        );
    }

    #[test]
    fn past_ninety_nine_unread_counts_as_more_and_a_long_message_is_cut_for_the_preview() {
        let long = "x".repeat(PREVIEW_CHARS * 2);
        let messages: Vec<ChatMessage> = (1..=EXACT_UNREAD + 1)
            .map(|n| sent(n, BOB, &long))
            .collect();
        let (unread, last) = summarise(&messages, &names(), &me(), 0);
        assert_eq!(unread, Unread::MoreThanExact);
        assert_eq!(serde_json::to_value(unread).unwrap(), json!("99+"));
        assert_eq!(last.unwrap().preview.chars().count(), PREVIEW_CHARS);
        let (unread, last) = summarise(&[joined(1)], &names(), &me(), 0);
        assert_eq!((unread, last), (Unread::Exactly(0), None));
    }

    #[test]
    fn a_muted_thread_shows_its_unread_but_adds_nothing_to_the_total() {
        let lunch = thread("19:lunch@thread.v2");
        let team = thread("19:team@thread.v2");
        let mut kept = Kept::default();
        kept.muted.insert(team.id.as_str().to_owned());
        kept.read.insert(lunch.id.as_str().to_owned(), 1);
        let inbox = tally(
            vec![
                (lunch, vec![sent(1, BOB, "a"), sent(2, BOB, "b")], names()),
                (team, vec![sent(1, BOB, "c"), sent(2, BOB, "d")], names()),
            ],
            &me(),
            &kept,
        );
        let shown: Vec<(bool, Unread)> = inbox
            .threads
            .iter()
            .map(|t| (t.muted, t.unread_count))
            .collect();
        assert_eq!(
            shown,
            [(false, Unread::Exactly(1)), (true, Unread::Exactly(2))]
        );
        assert_eq!(inbox.unread_total, 1);
        assert_eq!(inbox.threads[0].topic, "Lunch");
    }
}
