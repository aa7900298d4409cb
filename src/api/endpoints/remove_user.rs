//! `POST /remove_user` `{"thread_id", "user_id", "remove_user_id"}`: removes a participant;
//! `remove_user_id` equal to `user_id` is leaving. A removed participant is refused by ACS
//! from then on (403).

use lambda_http::Request;
use serde_json::json;

use crate::acs::{ChatClient, UserId};
use crate::api::caller::{Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{InThread, JsonBody};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};

/// A valid `remove_user` request.
#[derive(Debug)]
pub struct RemoveUser {
    pub at: InThread,
    pub remove_user_id: UserId,
}

impl Endpoint for RemoveUser {
    const SPEC: Spec = spec!("remove_user", Post);

    type Caller = Caller;

    type Parts<'a> = &'a ChatClient;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        Ok(Self {
            at: InThread::from_body(&body)?,
            remove_user_id: body.id("remove_user_id")?,
        })
    }

    fn who(&self) -> Who<'_> {
        self.at.who()
    }

    async fn act(self, chat: Self::Parts<'_>, caller: Caller) -> Result<Answer, ApiError> {
        chat.remove_participant(&caller.token, &self.at.thread_id, &self.remove_user_id)
            .await?;
        let message = if self.remove_user_id == self.at.user_id {
            "Left the thread"
        } else {
            "User removed successfully"
        };
        Ok(json!({"message": message}).into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{OTHER_USER, THREAD, USER, code, post};

    #[test]
    fn parse_takes_who_removes_whom_from_which_thread() {
        let body = json!({"thread_id": THREAD, "user_id": USER, "remove_user_id": OTHER_USER});
        let parsed = RemoveUser::parse(&post(body)).unwrap();
        assert_eq!(parsed.remove_user_id, *OTHER_USER);
        for (what, body, expected) in [
            (
                "no remove_user_id",
                json!({"thread_id": THREAD, "user_id": USER}),
                "400 missing_field",
            ),
            (
                "a thread as remove_user_id",
                json!({"thread_id": THREAD, "user_id": USER, "remove_user_id": THREAD}),
                "400 invalid_field",
            ),
            (
                "no thread_id",
                json!({"user_id": USER, "remove_user_id": USER}),
                "400 missing_field",
            ),
        ] {
            assert_eq!(code(RemoveUser::parse(&post(body))), expected, "{what}");
        }
    }
}
