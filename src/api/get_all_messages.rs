//! `GET /get_all_messages?thread_id&user_id`: the whole history of user messages, every page
//! followed, oldest first. System events (participant added, topic changed) are left out.

use lambda_http::Request;
use serde_json::{Value, json};

use super::caller::{Caller, Who};
use super::input::Query;
use super::messages::history;
use super::{ApiError, AppState, Endpoint};
use crate::acs::{ThreadId, UserId};

/// A valid `get_all_messages` request.
#[derive(Debug)]
pub struct GetAllMessages {
    pub thread_id: ThreadId,
    pub user_id: UserId,
}

impl Endpoint for GetAllMessages {
    fn parse(request: &Request) -> Result<Self, ApiError> {
        let query = Query::parse(request, &["thread_id", "user_id"])?;
        Ok(Self {
            thread_id: query.id("thread_id")?,
            user_id: query.id("user_id")?,
        })
    }

    fn who(&self) -> Who<'_> {
        Who::user_id(&self.user_id)
    }

    async fn act(self, state: &AppState, caller: &Caller) -> Result<Value, ApiError> {
        let messages = history(
            state.chat()?,
            &caller.token,
            &self.thread_id,
            &caller.user_id,
        )
        .await?;
        Ok(json!({"messages": messages}))
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
