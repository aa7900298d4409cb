//! `POST /update_message` `{"thread_id", "user_id", "message_id", "message"}`: edits the
//! caller's own message; ACS refuses anyone else's (403).

use lambda_http::Request;
use serde_json::json;

use crate::acs::ChatClient;
use crate::api::caller::{Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{JsonBody, OwnMessage};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::chat::text::MessageText;

/// A valid `update_message` request.
#[derive(Debug)]
pub struct UpdateMessage {
    pub own: OwnMessage,
    pub message: MessageText,
}

impl Endpoint for UpdateMessage {
    const SPEC: Spec = spec!("update_message", Post);

    type Caller = Caller;

    type Parts<'a> = &'a ChatClient;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        Ok(Self {
            own: OwnMessage::from_body(&body)?,
            message: body.message()?,
        })
    }

    fn who(&self) -> Who<'_> {
        self.own.at.who()
    }

    async fn act(self, chat: Self::Parts<'_>, caller: Caller) -> Result<Answer, ApiError> {
        chat.update_message(
            &caller.token,
            &self.own.at.thread_id,
            &self.own.message_id,
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
            (parsed.own.message_id.as_str(), parsed.message.as_str()),
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
