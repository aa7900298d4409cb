//! `POST /send_message` `{"thread_id", "user_id", "message", "attachments"?}`: user_id sends a
//! text message with its own token, exactly once (see [`chat::send`](crate::chat::send)); an
//! `Idempotency-Key` header makes a client's retry return the first request's message id.
//! `attachments` names files the sender uploaded to the thread (`upload_url`); with them the
//! text may be left out.

use lambda_http::Request;
use serde_json::json;

use crate::acs::ChatClient;
use crate::api::caller::{Auth, Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{InThread, JsonBody, idempotency_key};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::chat::send::{ClientKey, IdempotencyKey, Outgoing};
use crate::chat::text::{DisplayName, MessageText};
use crate::config::ConfigError;
use crate::files::{Attached, AttachmentId, Files};

/// A valid `send_message` request.
#[derive(Debug)]
pub struct SendMessage {
    pub at: InThread,
    /// `None` only for a message of attachments alone.
    pub message: Option<MessageText>,
    pub attachments: Vec<AttachmentId>,
    /// The sender's name, stored with the message where clients hold ACS tokens; in sealed
    /// mode the name the thread knows them by stands alone.
    pub display_name: Option<DisplayName>,
    /// The client's `Idempotency-Key`, if it sent one.
    pub idempotency_key: Option<ClientKey>,
}

impl Endpoint for SendMessage {
    const SPEC: Spec = spec!("send_message", Post);

    type Caller = Caller;

    type Parts<'a> = (&'a ChatClient, Option<&'a Files>);

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        let attachments = body.attachments()?;
        let written = body
            .optional("message")?
            .is_some_and(|text| !text.trim().is_empty());
        let message = if attachments.is_empty() || written {
            Some(body.message()?)
        } else {
            None
        };
        Ok(Self {
            at: InThread::from_body(&body)?,
            message,
            attachments,
            display_name: body.display_name()?,
            idempotency_key: idempotency_key(request)?,
        })
    }

    fn who(&self) -> Who<'_> {
        self.at.who()
    }

    async fn act(self, (chat, files): Self::Parts<'_>, caller: Caller) -> Result<Answer, ApiError> {
        let key = IdempotencyKey::new(self.idempotency_key);
        let thread = &self.at.thread_id;
        let attached = match files {
            Some(files) => {
                let ids = &self.attachments;
                files
                    .claim(thread, &caller.user_id, ids, key.value())
                    .await?
            }
            None if self.attachments.is_empty() => Vec::new(),
            None => return Err(ConfigError::Missing("FILES_BUCKET").into()),
        };
        let message =
            Attached::new(self.message, &attached).map_err(|error| ApiError::InvalidText {
                field: "attachments",
                error,
            })?;
        // A sealed client's name is the thread's, never one it claims (ACS stores what it is sent).
        let display_name = self
            .display_name
            .as_ref()
            .filter(|_| caller.auth != Auth::Sealed);
        let message_id = Outgoing {
            chat,
            token: &caller.token,
            sender: &caller.user_id,
            thread_id: thread,
            content: &message.content,
            display_name,
            key: &key,
            metadata: &message.metadata(),
        }
        .exactly_once()
        .await?;
        Ok(json!({"message": "Message sent successfully", "message_id": message_id}).into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{THREAD, USER, code, post};
    use crate::chat::text::MAX_MESSAGE_BYTES;

    #[test]
    fn parse_keeps_the_message_as_written_up_to_28_kb() {
        for text in [
            " hi ",
            "héllo 👋 עברית\u{200b}",
            &"x".repeat(MAX_MESSAGE_BYTES),
        ] {
            let body = json!({"thread_id": THREAD, "user_id": USER, "message": text});
            assert_eq!(
                SendMessage::parse(&post(body)).unwrap().message.unwrap(),
                text
            );
        }
    }

    #[test]
    fn parse_takes_an_idempotency_key_of_letters_digits_dashes_and_underscores() {
        let body = json!({"thread_id": THREAD, "user_id": USER, "message": "hi"});
        let with_key = |key: &str| {
            let mut request = post(body.clone());
            request
                .headers_mut()
                .insert("idempotency-key", key.parse().unwrap());
            request
        };
        let parsed = SendMessage::parse(&with_key("a-Z_09")).unwrap();
        assert_eq!(parsed.idempotency_key.unwrap().as_str(), "a-Z_09");
        assert_eq!(
            SendMessage::parse(&post(body.clone()))
                .unwrap()
                .idempotency_key,
            None
        );
        for bad in ["", "has space", "a/b", "ключ", &"k".repeat(65)] {
            let request = lambda_http::http::Request::builder()
                .header(
                    "idempotency-key",
                    lambda_http::http::HeaderValue::from_bytes(bad.as_bytes()).unwrap(),
                )
                .body(lambda_http::Body::Text(body.to_string()))
                .unwrap();
            assert_eq!(
                code(SendMessage::parse(&request)),
                "400 invalid_field",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn parse_refuses_each_malformed_request_with_its_own_code() {
        let too_long = "é".repeat(MAX_MESSAGE_BYTES / 2 + 1);
        let cases = [
            (
                "no message",
                json!({"thread_id": THREAD, "user_id": USER}),
                "400 missing_field",
            ),
            (
                "a blank message",
                json!({"thread_id": THREAD, "user_id": USER, "message": " \n"}),
                "400 missing_field",
            ),
            (
                "a numeric message",
                json!({"thread_id": THREAD, "user_id": USER, "message": 5}),
                "400 invalid_field",
            ),
            (
                "an object message",
                json!({"thread_id": THREAD, "user_id": USER, "message": {}}),
                "400 invalid_field",
            ),
            (
                "a message past 28 KB in bytes",
                json!({"thread_id": THREAD, "user_id": USER, "message": too_long}),
                "413 payload_too_large",
            ),
            (
                "no user_id",
                json!({"thread_id": THREAD, "message": "hi"}),
                "400 missing_field",
            ),
            (
                "a malformed user_id",
                json!({"thread_id": THREAD, "user_id": "8:acs:a?b", "message": "hi"}),
                "400 invalid_field",
            ),
            (
                "a malformed thread_id",
                json!({"thread_id": "19:a#b@thread.v2", "user_id": USER, "message": "hi"}),
                "400 invalid_field",
            ),
        ];
        for (what, body, expected) in cases {
            assert_eq!(code(SendMessage::parse(&post(body))), expected, "{what}");
        }
    }
}
