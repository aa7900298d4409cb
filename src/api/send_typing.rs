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

use super::caller::{Caller, Who};
use super::input::{JsonBody, display_name};
use super::{Answer, ApiError, AppState, Endpoint};
use crate::acs::{AcsError, ThreadId, UserId};
use crate::realtime::channel;

/// The shortest time between two typing notifications a container forwards for one user in
/// one thread.
pub const TYPING_INTERVAL: Duration = Duration::from_secs(2);

/// A valid `send_typing` request.
#[derive(Debug)]
pub struct SendTyping {
    pub thread_id: ThreadId,
    pub user_id: UserId,
    pub display_name: Option<String>,
}

impl Endpoint for SendTyping {
    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        Ok(Self {
            thread_id: body.id("thread_id")?,
            user_id: body.id("user_id")?,
            display_name: display_name(&body)?,
        })
    }

    fn who(&self) -> Who<'_> {
        Who::user_id(&self.user_id)
    }

    async fn act(self, state: &AppState, caller: &Caller) -> Result<Answer, ApiError> {
        if !state.typing_due(&self.user_id, &self.thread_id, TYPING_INTERVAL) {
            return Ok(
                json!({"message": "Typing notification not needed yet", "sent": false}).into(),
            );
        }
        let sent = state
            .chat()?
            .send_typing(&caller.token, &self.thread_id, self.display_name.as_deref())
            .await;
        match sent {
            Ok(()) => {
                self.push(state, caller).await;
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
        let Some(publisher) = &realtime.publisher else {
            return;
        };
        let event = json!({
            "kind": "typing",
            "thread_id": self.thread_id,
            "sender": caller.user_id,
            "sender_display_name": self.display_name,
        });
        let published = match realtime.secret.get().await {
            Ok(secret) => publisher
                .publish(
                    &channel::of(&self.thread_id),
                    &[event.to_string()],
                    &secret.publish_key,
                )
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(error) = published {
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
                .as_deref(),
            Some("Alice")
        );
        let body = json!({"thread_id": THREAD, "user_id": USER, "display_name": "n".repeat(257)});
        assert_eq!(code(SendTyping::parse(&post(body))), "400 invalid_field");
    }
}
