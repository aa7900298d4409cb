//! `POST /add_user` `{"thread_id", "user2_id"}`: a participant adds user2 to the thread. Any
//! participant's token may do it; ACS checks membership.

use lambda_http::Request;
use serde_json::json;

use crate::acs::chat::ChatParticipant;
use crate::acs::{ChatClient, ThreadId, UserId};
use crate::api::caller::{Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::JsonBody;
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::chat::text::DisplayName;

/// A valid `add_user` request.
#[derive(Debug)]
pub struct AddUser {
    pub thread_id: ThreadId,
    pub user2_id: UserId,
    /// Read only in trusted mode without a token: who acts.
    pub user1_id: Option<UserId>,
    /// user2's name in the thread.
    pub display_name: Option<DisplayName>,
}

impl Endpoint for AddUser {
    const SPEC: Spec = spec!("add_user", Post);

    type Caller = Caller;

    type Parts<'a> = &'a ChatClient;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        Ok(Self {
            thread_id: body.id("thread_id")?,
            user2_id: body.id("user2_id")?,
            user1_id: body.optional_id("user1_id")?,
            display_name: body.display_name()?,
        })
    }

    fn who(&self) -> Who<'_> {
        Who::Participant {
            acting: self.user1_id.as_ref(),
        }
    }

    async fn act(self, chat: Self::Parts<'_>, caller: Caller) -> Result<Answer, ApiError> {
        let invalid = chat
            .add_participants(
                &caller.token,
                &self.thread_id,
                &[ChatParticipant::user(
                    &self.user2_id,
                    self.display_name.as_ref().map(DisplayName::as_str),
                )],
            )
            .await?;
        if !invalid.is_empty() {
            return Err(ApiError::UserNotFound("user2_id"));
        }
        Ok(json!({"message": "User added successfully"}).into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{OTHER_USER, THREAD, USER, code, post};

    #[test]
    fn parse_reads_the_thread_the_new_user_and_an_optional_acting_user() {
        let parsed =
            AddUser::parse(&post(json!({"thread_id": THREAD, "user2_id": OTHER_USER}))).unwrap();
        assert_eq!(
            (parsed.thread_id.as_str(), parsed.user2_id.as_str()),
            (THREAD, OTHER_USER)
        );
        assert_eq!(parsed.user1_id, None);
        let parsed = AddUser::parse(&post(
            json!({"thread_id": THREAD, "user2_id": OTHER_USER, "user1_id": USER}),
        ))
        .unwrap();
        assert_eq!(parsed.user1_id.unwrap(), *USER);
    }

    #[test]
    fn parse_refuses_each_malformed_request_with_its_own_code() {
        let cases = [
            (
                "no thread_id",
                json!({"user2_id": OTHER_USER}),
                "400 missing_field",
            ),
            (
                "no user2_id",
                json!({"thread_id": THREAD}),
                "400 missing_field",
            ),
            (
                "a malformed thread_id",
                json!({"thread_id": "thread_id_123", "user2_id": OTHER_USER}),
                "400 invalid_field",
            ),
            (
                "a user id as thread_id",
                json!({"thread_id": USER, "user2_id": OTHER_USER}),
                "400 invalid_field",
            ),
            (
                "a thread id as user2_id",
                json!({"thread_id": THREAD, "user2_id": THREAD}),
                "400 invalid_field",
            ),
            (
                "a malformed user1_id",
                json!({"thread_id": THREAD, "user2_id": OTHER_USER, "user1_id": "x"}),
                "400 invalid_field",
            ),
            (
                "a thread_id with a path",
                json!({"thread_id": "19:a/../b@thread.v2", "user2_id": OTHER_USER}),
                "400 invalid_field",
            ),
            (
                "a list as user2_id",
                json!({"thread_id": THREAD, "user2_id": [OTHER_USER]}),
                "400 invalid_field",
            ),
        ];
        for (what, body, expected) in cases {
            assert_eq!(code(AddUser::parse(&post(body))), expected, "{what}");
        }
    }
}
