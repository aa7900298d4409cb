//! `GET /get_all_messages?thread_id&user_id[&page_size][&page]`: the history of user messages,
//! oldest first. System events (participant added, topic changed) are left out.
//!
//! Unpaged, the whole history in one answer: every ACS page followed, and refused (413) before
//! it would pass Lambda's 6 MB response limit. Paged (`page_size`, then `page`), one answer per
//! ACS page, newest page first as ACS lists them, each page's messages oldest first, with
//! `next_page` naming the page before it: how a chat scrolls back through a long history.

use lambda_http::Request;
use serde::Serialize;

use crate::acs::{ChatClient, PageCursor};
use crate::api::caller::{Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{InThread, Query, encode_page};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::chat::history::{history, history_page};
use crate::chat::view::MessageView;

/// A valid `get_all_messages` request.
#[derive(Debug)]
pub struct GetAllMessages {
    pub at: InThread,
    /// The paged form: messages per page and the page to read (`None`: the newest).
    pub paged: Option<(u32, Option<PageCursor>)>,
}

/// What the endpoint answers: `next_page` only when paged and older messages remain.
#[derive(Serialize)]
struct History {
    messages: Vec<MessageView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page: Option<String>,
}

/// Messages per page when only `page` is given.
pub const DEFAULT_MESSAGES_PER_PAGE: u32 = 100;

impl Endpoint for GetAllMessages {
    const SPEC: Spec = spec!("get_all_messages", Get);

    type Caller = Caller;

    type Parts<'a> = &'a ChatClient;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let query = Query::parse(request, &["thread_id", "user_id", "page_size", "page"])?;
        let at = InThread::from_query(&query)?;
        let page_size = query.bounded(
            "page_size",
            1..=crate::acs::chat::ACS_MAX_PAGE_SIZE,
            DEFAULT_MESSAGES_PER_PAGE,
            "must be a whole number from 1 to 200",
        )?;
        let page = query.page("must be a next_page value as get_all_messages gave it")?;
        let paged =
            (query.optional("page_size").is_some() || page.is_some()).then_some((page_size, page));
        Ok(Self { at, paged })
    }

    fn who(&self) -> Who<'_> {
        self.at.who()
    }

    async fn act(self, chat: Self::Parts<'_>, caller: Caller) -> Result<Answer, ApiError> {
        let (chat, token, me) = (chat, &caller.token, &caller.user_id);
        let Some((page_size, page)) = self.paged else {
            let messages = history(chat, token, &self.at.thread_id, me)
                .await?
                .ok_or(ApiError::HistoryTooLarge)?;
            return Answer::json(&History {
                messages,
                next_page: None,
            });
        };
        let (messages, next) = history_page(
            chat,
            token,
            &self.at.thread_id,
            me,
            page_size,
            page.as_ref(),
        )
        .await?;
        Answer::json(&History {
            messages,
            next_page: next.as_ref().map(encode_page),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::input::test_requests::{THREAD, USER, code, get};

    #[test]
    fn parse_refuses_each_malformed_query_with_its_own_code() {
        let long_name = "p".repeat(500);
        let cases = [
            (
                "no thread_id",
                get(&[("user_id", USER)]),
                "400 missing_field",
            ),
            (
                "a user id as thread_id",
                get(&[("thread_id", USER), ("user_id", USER)]),
                "400 invalid_field",
            ),
            (
                "a since, which only get_messages takes",
                get(&[("thread_id", THREAD), ("user_id", USER), ("since", "1")]),
                "400 unknown_query_parameter",
            ),
            (
                "an unknown parameter with a long name",
                get(&[("thread_id", THREAD), ("user_id", USER), (&long_name, "1")]),
                "400 unknown_query_parameter",
            ),
        ];
        for (what, request, expected) in cases {
            assert_eq!(code(GetAllMessages::parse(&request)), expected, "{what}");
        }
        assert_eq!(
            code(GetAllMessages::parse(&get(&[
                ("thread_id", THREAD),
                ("user_id", USER)
            ]))),
            "accepted"
        );
    }
}
