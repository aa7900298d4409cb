//! `POST /delete_message` `{"thread_id", "user_id", "message_id"}`: deletes the caller's own
//! message; ACS refuses anyone else's (403). It stays in the history as deleted, which is how
//! other devices learn of it (`changes` in `get_messages`).

use lambda_http::Request;
use serde_json::json;

use crate::api::caller::{Caller, Who};
use crate::api::input::{JsonBody, OwnMessage};
use crate::api::spec::{Spec, spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};

/// A valid `delete_message` request.
#[derive(Debug)]
pub struct DeleteMessage {
    pub own: OwnMessage,
}

impl Endpoint for DeleteMessage {
    const SPEC: Spec = spec!("delete_message", Post);

    type Caller = Caller;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        Ok(Self {
            own: OwnMessage::from_body(&body)?,
        })
    }

    fn who(&self) -> Who<'_> {
        self.own.at.who()
    }

    async fn act(self, state: &AppState, caller: Caller) -> Result<Answer, ApiError> {
        state
            .chat()?
            .delete_message(&caller.token, &self.own.at.thread_id, &self.own.message_id)
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
                .own
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
