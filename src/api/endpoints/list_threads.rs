//! `GET /list_threads?user_id[&max_page_size][&page]`: the caller's inbox, most recent
//! activity first, so a client that forgot a thread id can find it again.
//!
//! Deleted threads are left out. ACS keeps listing a thread for someone who has left it, so
//! each thread of the page is checked with the caller's token (one small participants read
//! each, a few at a time) and those the caller is no longer in are left out too: two
//! sequential round trips. `next_page` is an opaque cursor to pass back as `page`.

use lambda_http::Request;
use serde::Serialize;

use crate::api::caller::{Caller, Who};
use crate::acs::PageCursor;
use crate::api::input::{Query, encode_page};
use crate::api::spec::{Spec, spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::acs::chat::ChatThreadItem;
use crate::acs::http::fan_out;
use crate::acs::{AcsError, ThreadId, UserId};
use crate::timestamp::Timestamp;

/// Threads per page when the caller names no size.
pub const DEFAULT_THREADS_PER_PAGE: u32 = 20;
/// Largest page a caller may ask for.
pub const MAX_THREADS_PER_PAGE: u32 = 50;

/// A thread of the inbox.
#[derive(Serialize)]
struct Listed<'a> {
    thread_id: &'a ThreadId,
    topic: &'a str,
    last_message_received_on: Option<Timestamp>,
}

/// What the endpoint answers.
#[derive(Serialize)]
struct Inbox<'a> {
    threads: Vec<Listed<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page: Option<String>,
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
    const SPEC: Spec = spec!("list_threads", Get);

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
        let (threads, next) = chat
            .list_threads(&caller.token, self.max_page_size, self.page.as_ref())
            .await?;
        let live: Vec<ChatThreadItem> = threads
            .into_iter()
            .filter(|t| t.deleted_on.is_none())
            .collect();
        let token = &caller.token;
        let ids: Vec<ThreadId> = live.iter().map(|t| t.id.clone()).collect();
        let member = fan_out(ids, |thread| async move {
            match chat.probe_participants(token, &thread).await {
                Ok(()) => Ok(true),
                Err(AcsError::Forbidden(_) | AcsError::NotFound(_)) => Ok(false),
                Err(error) => Err(error),
            }
        })
        .await;
        let mut threads = Vec::new();
        for (thread, member) in live.iter().zip(member) {
            if member? {
                threads.push(Listed {
                    thread_id: &thread.id,
                    topic: &thread.topic,
                    last_message_received_on: thread.last_message_received_on.map(Timestamp::from),
                });
            }
        }
        Answer::json(&Inbox {
            threads,
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
            (parsed.max_page_size, parsed.page.as_ref().map(PageCursor::as_str)),
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
