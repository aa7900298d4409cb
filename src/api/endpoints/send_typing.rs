//! `POST /send_typing` `{"thread_id", "user_id", "display_name"?}`: tells the thread the
//! caller is typing.
//!
//! A client sends one per key press if it likes: [`crate::chat::typing`] forwards at most one
//! per user and thread every [`TYPING_INTERVAL`] and tells the others; the rest are answered at
//! once with `"sent":false` and no ACS call, as is ACS's own 429 (a typing notice missed is no
//! failure), and a thread past [`MAX_TYPING_PARTICIPANTS`] gets `"sent":false` and why.

use lambda_http::Request;
use serde_json::json;

use crate::acs::ChatClient;
use crate::api::caller::{Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{InThread, JsonBody};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::chat::text::DisplayName;
use crate::chat::typing::TypingThrottle;
pub use crate::chat::typing::{MAX_TYPING_PARTICIPANTS, TYPING_INTERVAL};
use crate::chat::typing::{Typed, Typing};
use crate::realtime::Realtime;

/// A valid `send_typing` request.
#[derive(Debug)]
pub struct SendTyping {
    pub at: InThread,
    pub display_name: Option<DisplayName>,
}

impl Endpoint for SendTyping {
    const SPEC: Spec = spec!("send_typing", Post);

    type Caller = Caller;

    type Parts<'a> = (&'a ChatClient, Option<&'a Realtime>, &'a TypingThrottle);

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        Ok(Self {
            at: InThread::from_body(&body)?,
            display_name: body.display_name()?,
        })
    }

    fn who(&self) -> Who<'_> {
        self.at.who()
    }

    async fn act(
        self,
        (chat, realtime, throttle): Self::Parts<'_>,
        caller: Caller,
    ) -> Result<Answer, ApiError> {
        let typed = Typing {
            chat,
            realtime,
            throttle,
            token: &caller.token,
            sender: &self.at.user_id,
            thread: &self.at.thread_id,
            name: self.display_name.as_ref(),
        }
        .send()
        .await?;
        let (message, sent) = match typed {
            Typed::Sent => ("Typing notification sent", true),
            Typed::NotYet => ("Typing notification not needed yet", false),
            Typed::TooLarge => (
                "Typing notifications are for threads of at most 20 participants",
                false,
            ),
        };
        Ok(json!({"message": message, "sent": sent}).into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{THREAD, USER, code, post};

    #[test]
    fn parse_takes_an_optional_display_name() {
        let parsed =
            SendTyping::parse(&post(json!({"thread_id": THREAD, "user_id": USER}))).unwrap();
        assert_eq!(parsed.display_name, None);
        let body = json!({"thread_id": THREAD, "user_id": USER, "display_name": "Alice"});
        assert_eq!(
            SendTyping::parse(&post(body))
                .unwrap()
                .display_name
                .unwrap()
                .as_str(),
            "Alice"
        );
        let body = json!({"thread_id": THREAD, "user_id": USER, "display_name": "n".repeat(257)});
        assert_eq!(code(SendTyping::parse(&post(body))), "400 invalid_field");
    }
}
