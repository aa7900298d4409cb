//! `GET /list_threads?user_id[&max_page_size][&page]`: the caller's inbox, most recent
//! activity first, so a client that forgot a thread id can find it again.
//!
//! Deleted threads are left out. ACS keeps listing a thread for someone who has left it, so
//! each thread of the page is checked with the caller's token (one small participants read
//! each, all at once) and those the caller is no longer in are left out too: two sequential
//! round trips. `next_page` is an opaque cursor to pass back as `page`.

use futures_util::future::join_all;
use lambda_http::Request;
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use super::caller::{Caller, Who};
use super::input::{Query, bounded_number, encode_page, page_cursor};
use super::{Answer, ApiError, AppState, Endpoint};
use crate::acs::chat::ChatThreadItem;
use crate::acs::{AcsError, UserId};

/// Threads per page when the caller names no size.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Largest page a caller may ask for.
pub const MAX_PAGE_SIZE: u32 = 50;

/// A valid `list_threads` request.
#[derive(Debug)]
pub struct ListThreads {
    pub user_id: UserId,
    pub max_page_size: u32,
    /// The ACS query of the page to read, decoded from `page`.
    pub page: Option<String>,
}

impl Endpoint for ListThreads {
    fn parse(request: &Request) -> Result<Self, ApiError> {
        let query = Query::parse(request, &["user_id", "max_page_size", "page"])?;
        let max_page_size = bounded_number(
            &query,
            "max_page_size",
            1..=MAX_PAGE_SIZE,
            DEFAULT_PAGE_SIZE,
            "must be a whole number from 1 to 50",
        )?;
        let page = page_cursor(&query, "must be a next_page value as list_threads gave it")?;
        Ok(Self {
            user_id: query.id("user_id")?,
            max_page_size,
            page,
        })
    }

    fn who(&self) -> Who<'_> {
        Who::user_id(&self.user_id)
    }

    async fn act(self, state: &AppState, caller: &Caller) -> Result<Answer, ApiError> {
        let chat = state.chat()?;
        let (threads, next) = chat
            .list_threads(&caller.token, self.max_page_size, self.page.as_deref())
            .await?;
        let live: Vec<ChatThreadItem> = threads
            .into_iter()
            .filter(|t| t.deleted_on.is_none())
            .collect();
        let member = join_all(live.iter().map(|t| async {
            match chat.probe_participants(&caller.token, &t.id).await {
                Ok(()) => Ok(true),
                Err(AcsError::Forbidden(_) | AcsError::NotFound(_)) => Ok(false),
                Err(error) => Err(error),
            }
        }))
        .await;
        let mut listed = Vec::new();
        for (thread, member) in live.iter().zip(member) {
            if member? {
                listed.push(json!({
                    "thread_id": thread.id,
                    "topic": thread.topic,
                    "last_message_received_on": thread
                        .last_message_received_on
                        .and_then(|at| at.format(&Rfc3339).ok()),
                }));
            }
        }
        let mut body = json!({"threads": listed});
        if let Some(next) = next {
            body["next_page"] = json!(encode_page(&next));
        }
        Ok(body.into())
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
            (DEFAULT_PAGE_SIZE, None)
        );
        let page = encode_page("skip=20&maxPageSize=20");
        let parsed = ListThreads::parse(&get(&[
            ("user_id", USER),
            ("max_page_size", "5"),
            ("page", &page),
        ]))
        .unwrap();
        assert_eq!(
            (parsed.max_page_size, parsed.page.as_deref()),
            (5, Some("skip=20&maxPageSize=20"))
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
        ] {
            let request = get(&[("user_id", USER), ("max_page_size", size), ("page", page)]);
            assert_eq!(code(ListThreads::parse(&request)), expected, "{what}");
        }
    }
}
