//! `POST /send_typing` `{"thread_id", "user_id", "display_name"?}`: tells the thread the
//! caller is typing.
//!
//! ACS allows 5 typing notifications per 10 s per user per thread. A client sends one per key
//! press if it likes: each container forwards at most one per user and thread every
//! [`TYPING_INTERVAL`] (so at most 5 per 10 s) and answers the rest at once with `"sent":false`
//! and no ACS call. Should several containers still pass ACS's limit together, ACS's 429 is
//! answered as a 200 with `"sent":false` too: a typing notice missed is no failure. A notice
//! ACS took is also pushed to the thread's real-time channel, when there is one.

use std::time::Duration;

use lambda_http::Request;
use serde_json::json;

use crate::api::caller::{Caller, Who};
use crate::api::input::{InThread, JsonBody};
use crate::api::spec::{Needs, Spec, spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::acs::AcsError;
use crate::chat::text::DisplayName;
use crate::realtime::channel;
use crate::realtime::eventgrid::Update;

/// The shortest time between two typing notifications a container forwards for one user in
/// one thread.
pub const TYPING_INTERVAL: Duration = Duration::from_secs(2);

/// A valid `send_typing` request.
#[derive(Debug)]
pub struct SendTyping {
    pub at: InThread,
    pub display_name: Option<DisplayName>,
}

impl Endpoint for SendTyping {
    const SPEC: Spec = spec!("send_typing", Post, Needs::CHAT_PUBLISHING);

    type Caller = Caller;

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

    async fn act(self, state: &AppState, caller: Caller) -> Result<Answer, ApiError> {
        if !state.typing_due(&self.at.user_id, &self.at.thread_id, TYPING_INTERVAL) {
            return Ok(
                json!({"message": "Typing notification not needed yet", "sent": false}).into(),
            );
        }
        let sent = state
            .chat()?
            .send_typing(
                &caller.token,
                &self.at.thread_id,
                self.display_name.as_ref().map(DisplayName::as_str),
            )
            .await;
        match sent {
            Ok(()) => {
                self.push(state, &caller).await;
                Ok(json!({"message": "Typing notification sent", "sent": true}).into())
            }
            Err(AcsError::Throttled { .. }) => {
                Ok(json!({"message": "Typing notification not needed yet", "sent": false}).into())
            }
            Err(error) => Err(error.into()),
        }
    }
}

impl SendTyping {
    /// Passes the notice on to the thread's real-time channel, where one is configured, as the
    /// identity ACS accepted it from (ACS sends Event Grid no typing events). Best effort: the
    /// notice has reached ACS already, and a missed one is no failure.
    async fn push(&self, state: &AppState, caller: &Caller) {
        let Some(realtime) = &state.realtime else {
            return;
        };
        let typing = Update::typing(
            self.at.thread_id.clone(),
            &caller.user_id,
            self.display_name.as_ref(),
        );
        let channel = channel::of(&self.at.thread_id);
        if let Err(error) = realtime.publish(&channel, &[&typing]).await {
            tracing::warn!(%error, "typing notice not pushed");
        }
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
