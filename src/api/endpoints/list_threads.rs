//! `GET /list_threads?user_id[&max_page_size][&page]`: the caller's inbox, most recent
//! activity first: per thread its topic, what is unread, the last message and whether it is
//! muted, and the caller's `unread_total`.
//!
//! Two sequential round trips for a page, at any group size: the page of threads from ACS
//! beside the caller's read positions and mutes from the people table (one query), then each
//! thread's newest messages with the caller's token, a few threads at a time. Unread is what
//! others sent after the caller's position, counted exactly up to 99 (then `"99+"`), so it
//! needs no read receipts, which ACS keeps only in threads of 20 or fewer. The same read
//! leaves out threads the caller has left (ACS answers 403 there) and deleted ones.
//! `next_page` is an opaque cursor to pass back as `page`.

use lambda_http::Request;
use serde::Serialize;

use crate::acs::PageCursor;
use crate::acs::chat::{ChatMessage, ChatThreadItem};
use crate::acs::http::fan_out;
use crate::acs::{AcsError, ThreadId, UserId};
use crate::api::caller::{Caller, Who};
use crate::api::input::{Query, encode_page};
use crate::api::spec::{Needs, Spec, spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::chat::text::shown_topic;
use crate::chat::view::Names;
use crate::people::Kept;
use crate::timestamp::Timestamp;

/// Threads per page when the caller names no size.
pub const DEFAULT_THREADS_PER_PAGE: u32 = 20;
/// Largest page a caller may ask for.
pub const MAX_THREADS_PER_PAGE: u32 = 50;

/// Unread messages counted exactly up to this; more are `"99+"`.
pub const EXACT_UNREAD: u64 = 99;
/// Newest messages read per thread: enough to count to past [`EXACT_UNREAD`].
const MESSAGES_PER_THREAD: u32 = 100;
/// Characters of the last message shown in the inbox.
pub const PREVIEW_CHARS: usize = 120;

/// A thread of the inbox.
#[derive(Serialize)]
struct Listed<'a> {
    thread_id: &'a ThreadId,
    topic: String,
    last_message_received_on: Option<Timestamp>,
    unread_count: Unread,
    last_message: Option<LastMessage>,
    muted: bool,
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
#[derive(Debug, Serialize)]
struct LastMessage {
    sender: Option<String>,
    sender_display_name: Option<String>,
    preview: String,
    created_on: Timestamp,
    sequence_id: u64,
}

/// What the endpoint answers.
#[derive(Serialize)]
struct Inbox<'a> {
    threads: Vec<Listed<'a>>,
    /// Unread messages of the listed threads that are not muted (each counted up to 100).
    unread_total: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page: Option<String>,
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

/// A valid `list_threads` request.
#[derive(Debug)]
pub struct ListThreads {
    pub user_id: UserId,
    pub max_page_size: u32,
    /// The page to read, decoded from `page`.
    pub page: Option<PageCursor>,
}

impl Endpoint for ListThreads {
    const SPEC: Spec = spec!("list_threads", Get, Needs::CHAT_WITH_PEOPLE);

    type Caller = Caller;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let query = Query::parse(request, &["user_id", "max_page_size", "page"])?;
        let max_page_size = query.bounded(
            "max_page_size",
            1..=MAX_THREADS_PER_PAGE,
            DEFAULT_THREADS_PER_PAGE,
            "must be a whole number from 1 to 50",
        )?;
        let page = query.page("must be a next_page value as list_threads gave it")?;
        Ok(Self {
            user_id: query.id("user_id")?,
            max_page_size,
            page,
        })
    }

    fn who(&self) -> Who<'_> {
        Who::user_id(&self.user_id)
    }

    async fn act(self, state: &AppState, caller: Caller) -> Result<Answer, ApiError> {
        let chat = state.chat()?;
        let (listed, said) = tokio::join!(
            chat.list_threads(&caller.token, self.max_page_size, self.page.as_ref()),
            async {
                match state.people_if_kept() {
                    Some(people) => people.threads(&self.user_id).await,
                    None => Ok(Kept::default()),
                }
            },
        );
        let ((threads, next), said) = (listed?, said?);
        let live: Vec<ChatThreadItem> = threads
            .into_iter()
            .filter(|t| t.deleted_on.is_none())
            .collect();
        let token = &caller.token;
        let ids: Vec<ThreadId> = live.iter().map(|t| t.id.clone()).collect();
        // All of a page's threads at once, so that the page costs one round trip after the list.
        // Where the server speaks HTTP/2 (the emulator does) they share one connection; over
        // HTTP/1.1 each opens its own, a TLS handshake apiece in a cold container.
        // Each thread's participants beside its messages: the last message is shown with its
        // sender's name in the thread, not the one it claims.
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
        let mut threads = Vec::new();
        let mut unread_total = 0;
        for (thread, newest) in live.iter().zip(newest) {
            let Some((messages, names)) = newest? else {
                continue;
            };
            let (unread, last_message) = summarise(
                &messages,
                &names,
                &self.user_id,
                said.read_up_to(&thread.id),
            );
            let muted = said.is_muted(&thread.id);
            if !muted {
                unread_total += unread.counted();
            }
            threads.push(Listed {
                thread_id: &thread.id,
                topic: shown_topic(&thread.topic),
                last_message_received_on: thread.last_message_received_on.map(Timestamp::from),
                unread_count: unread,
                last_message,
                muted,
            });
        }
        Answer::json(&Inbox {
            threads,
            unread_total,
            next_page: next.as_ref().map(encode_page),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::input::test_requests::{USER, code, get};

    #[test]
    fn parse_reads_a_page_size_and_an_opaque_page() {
        let parsed = ListThreads::parse(&get(&[("user_id", USER)])).unwrap();
        assert_eq!(
            (parsed.max_page_size, parsed.page),
            (DEFAULT_THREADS_PER_PAGE, None)
        );
        let page = encode_page(&PageCursor::parse("skip=20").unwrap());
        let parsed = ListThreads::parse(&get(&[
            ("user_id", USER),
            ("max_page_size", "5"),
            ("page", &page),
        ]))
        .unwrap();
        assert_eq!(
            (
                parsed.max_page_size,
                parsed.page.as_ref().map(PageCursor::as_str)
            ),
            (5, Some("skip=20"))
        );
        for (what, size, page, expected) in [
            ("a page size of 0", "0", "", "400 invalid_field"),
            ("a page size past 50", "51", "", "400 invalid_field"),
            (
                "a page size that is no number",
                "ten",
                "",
                "400 invalid_field",
            ),
            (
                "a page that is not base64url",
                "5",
                "%%%",
                "400 invalid_field",
            ),
            (
                "a page that asks ACS for its own page size",
                "5",
                "c2tpcD0yMCZtYXhQYWdlU2l6ZT0yMDA",
                "400 invalid_field",
            ),
        ] {
            let request = get(&[("user_id", USER), ("max_page_size", size), ("page", page)]);
            assert_eq!(code(ListThreads::parse(&request)), expected, "{what}");
        }
    }
}
