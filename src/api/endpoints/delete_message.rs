//! `POST /delete_message` `{"thread_id", "user_id", "message_id"}`: deletes the caller's own
//! message; ACS refuses anyone else's (403). It stays in the history as deleted, which is how
//! other devices learn of it (`changes` in `get_messages`).

use lambda_http::Request;
use serde_json::json;

use crate::api::caller::{self, Caller, Who};
use crate::api::input::JsonBody;
use crate::api::spec::{Method, Needs, Spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::acs::{MessageId, ThreadId, UserId};

/// A valid `delete_message` request.
#[derive(Debug)]
pub struct DeleteMessage {
    pub thread_id: ThreadId,
    pub user_id: UserId,
    pub message_id: MessageId,
}

impl Endpoint for DeleteMessage {
    const SPEC: Spec = Spec {
        name: "delete_message",
        routes: &["/delete_message"],
        method: Method::Post,
        needs: Needs::CHAT,
    };

    type Caller = Caller;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        Ok(Self {
            thread_id: body.id("thread_id")?,
            user_id: body.id("user_id")?,
            message_id: body.id("message_id")?,
        })
    }

    async fn who(&self, state: &AppState, request: &Request) -> Result<Caller, ApiError> {
        caller::authenticate(state, request, Who::user_id(&self.user_id)).await
    }

    async fn act(self, state: &AppState, caller: Caller) -> Result<Answer, ApiError> {
        state
            .chat()?
            .delete_message(&caller.token, &self.thread_id, &self.message_id)
            .await?;
        Ok(json!({"message": "Message deleted successfully"}).into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{THREAD, USER, code, post};

    #[test]
    fn parse_takes_the_message_to_delete() {
        let body = json!({"thread_id": THREAD, "user_id": USER, "message_id": "42"});
        assert_eq!(
            DeleteMessage::parse(&post(body))
                .unwrap()
                .message_id
                .number(),
            42
        );
        let body = json!({"thread_id": THREAD, "user_id": USER, "message_id": "../42"});
        assert_eq!(code(DeleteMessage::parse(&post(body))), "400 invalid_field");
        let body = json!({"thread_id": THREAD, "user_id": USER});
        assert_eq!(code(DeleteMessage::parse(&post(body))), "400 missing_field");
    }
}
