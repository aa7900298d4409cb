//! `POST /update_message` `{"thread_id", "user_id", "message_id", "message"}`: edits the
//! caller's own message; ACS refuses anyone else's (403).

use lambda_http::Request;
use serde_json::json;

use crate::api::caller::{self, Caller, Who};
use crate::api::input::JsonBody;
use crate::api::spec::{Method, Needs, Spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::acs::{MessageId, ThreadId, UserId};
use crate::chat::text::MessageText;

/// A valid `update_message` request.
#[derive(Debug)]
pub struct UpdateMessage {
    pub thread_id: ThreadId,
    pub user_id: UserId,
    pub message_id: MessageId,
    pub message: MessageText,
}

impl Endpoint for UpdateMessage {
    const SPEC: Spec = Spec {
        name: "update_message",
        routes: &["/update_message"],
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
            message: body.message()?,
        })
    }

    async fn who(&self, state: &AppState, request: &Request) -> Result<Caller, ApiError> {
        caller::authenticate(state, request, Who::user_id(&self.user_id)).await
    }

    async fn act(self, state: &AppState, caller: Caller) -> Result<Answer, ApiError> {
        state
            .chat()?
            .update_message(
                &caller.token,
                &self.thread_id,
                &self.message_id,
                self.message.as_str(),
            )
            .await?;
        Ok(json!({"message": "Message updated successfully"}).into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{THREAD, USER, code, post};

    #[test]
    fn parse_takes_the_message_and_its_new_text() {
        let body = json!({"thread_id": THREAD, "user_id": USER, "message_id": "1708127231096", "message": "fixed"});
        let parsed = UpdateMessage::parse(&post(body)).unwrap();
        assert_eq!(
            (parsed.message_id.as_str(), parsed.message.as_str()),
            ("1708127231096", "fixed")
        );
        let with = |id: serde_json::Value, text: serde_json::Value| json!({"thread_id": THREAD, "user_id": USER, "message_id": id, "message": text});
        for (what, body, expected) in [
            (
                "a message id that is not digits",
                with(json!("abc"), json!("x")),
                "400 invalid_field",
            ),
            (
                "a numeric message id",
                with(json!(17), json!("x")),
                "400 invalid_field",
            ),
            (
                "no new text",
                with(json!("1"), json!("  ")),
                "400 missing_field",
            ),
            (
                "new text past 28 KB",
                with(json!("1"), json!("x".repeat(28 * 1024 + 1))),
                "413 payload_too_large",
            ),
        ] {
            assert_eq!(code(UpdateMessage::parse(&post(body))), expected, "{what}");
        }
    }
}
