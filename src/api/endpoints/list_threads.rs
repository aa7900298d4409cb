//! `GET /list_threads?user_id[&max_page_size][&page]`: the caller's inbox, most recent
//! activity first: per thread its topic, what is unread, the last message and whether it is
//! muted, and the caller's `unread_total`.
//!
//! Two sequential round trips for a page, at any group size: the page of threads from ACS
//! beside the caller's read positions and mutes from the people table (one query), then each
//! thread's newest messages with the caller's token, all at once ([`crate::chat::inbox`]
//! counts what is unread). `next_page` is an opaque cursor to pass back as `page`.

use lambda_http::Request;
use serde::Serialize;

use crate::acs::ChatClient;
use crate::acs::{PageCursor, UserId};
use crate::api::caller::{Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{Query, encode_page};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::chat::inbox::{Inbox, inbox};
use crate::people::Kept;
use crate::people::People;

/// Threads per page when the caller names no size.
pub const DEFAULT_THREADS_PER_PAGE: u32 = 20;
/// Largest page a caller may ask for.
pub const MAX_THREADS_PER_PAGE: u32 = 50;

/// What the endpoint answers: a page of the inbox and where the next begins.
#[derive(Serialize)]
struct Paged {
    #[serde(flatten)]
    inbox: Inbox,
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

    type Parts<'a> = (&'a ChatClient, Option<&'a People>);

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

    async fn act(
        self,
        (chat, people): Self::Parts<'_>,
        caller: Caller,
    ) -> Result<Answer, ApiError> {
        let (listed, kept) = tokio::join!(
            chat.list_threads(&caller.token, self.max_page_size, self.page.as_ref()),
            async {
                match people {
                    Some(people) => people.threads(&self.user_id).await,
                    None => Ok(Kept::default()),
                }
            },
        );
        let ((threads, next), kept) = (listed?, kept?);
        let inbox = inbox(chat, &caller.token, &self.user_id, threads, &kept).await?;
        Answer::json(&Paged {
            inbox,
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
