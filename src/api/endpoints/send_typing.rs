//! `POST /send_typing` `{"thread_id", "user_id", "display_name"?}`: tells the thread the
//! caller is typing.
//!
//! ACS allows 5 typing notifications per 10 s per user per thread. A client sends one per key
//! press if it likes: each container forwards at most one per user and thread every
//! [`TYPING_INTERVAL`] (so at most 5 per 10 s) and answers the rest at once with `"sent":false`
//! and no ACS call. Only a notice ACS took counts towards that: a refused one (a forged or
//! another user's token) leaves the real user's next notice due. Should several containers
//! still pass ACS's limit together, ACS's 429 is answered as a 200 with `"sent":false` too: a
//! typing notice missed is no failure.
//!
//! A notice ACS took is also told, where there is a real-time channel, to each of the
//! thread's participants but the caller (ACS sends Event Grid no typing events): the
//! participants as ACS lists them to the caller then (read beside the notice, so no round trip
//! more), a few publishes at a time. ACS supports typing notices in threads of at most
//! [`MAX_TYPING_PARTICIPANTS`]; in a larger one nobody is told (no publish at all, where there
//! would be up to 249) and the answer says `"sent":false` and why.

use std::time::Duration;

use lambda_http::Request;
use serde_json::json;

use crate::acs::chat::ChatParticipant;
use crate::acs::http::{FAN_OUT, fan_out};
use crate::acs::{AcsError, UserId};
use crate::api::caller::{Caller, Who};
use crate::api::input::{InThread, JsonBody};
use crate::api::spec::{Needs, Spec, spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::chat::text::DisplayName;
use crate::chat::view::Names;
use crate::realtime::update::Update;

/// The shortest time between two typing notifications a container forwards for one user in
/// one thread.
pub const TYPING_INTERVAL: Duration = Duration::from_secs(2);

/// The most participants a thread may have for typing notices, as in ACS.
pub const MAX_TYPING_PARTICIPANTS: usize = 20;

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
        let chat = state.chat()?;
        let name = self.display_name.as_ref().map(DisplayName::as_str);
        let (sent, participants) = tokio::join!(
            chat.send_typing(&caller.token, &self.at.thread_id, name),
            async {
                match &state.realtime {
                    Some(_) => Some(
                        chat.list_participants(&caller.token, &self.at.thread_id)
                            .await,
                    ),
                    None => None,
                }
            }
        );
        match sent {
            Ok(()) => state.typing_sent(&self.at.user_id, &self.at.thread_id),
            Err(AcsError::Throttled { .. }) => {
                return Ok(
                    json!({"message": "Typing notification not needed yet", "sent": false}).into(),
                );
            }
            Err(error) => return Err(error.into()),
        }
        let participants = match participants.transpose() {
            Ok(participants) => participants,
            Err(error) => {
                // The notice reached ACS; a missed notice is no failure.
                tracing::warn!(%error, "typing notice not told: no participants");
                None
            }
        };
        if participants
            .as_ref()
            .is_some_and(|p| p.len() > MAX_TYPING_PARTICIPANTS)
        {
            return Ok(json!({
                "message": "Typing notifications are for threads of at most 20 participants",
                "sent": false,
            })
            .into());
        }
        if let Some(participants) = participants {
            self.tell_others(state, &caller, &participants).await;
        }
        Ok(json!({"message": "Typing notification sent", "sent": true}).into())
    }
}

impl SendTyping {
    /// Passes the notice on to each other participant's channel, as the identity ACS accepted
    /// it from. Best effort: the notice has reached ACS already, and a missed one is no
    /// failure.
    async fn tell_others(
        &self,
        state: &AppState,
        caller: &Caller,
        participants: &[ChatParticipant],
    ) {
        let Some(realtime) = &state.realtime else {
            return;
        };
        let typing = Update::typing(
            self.at.thread_id.clone(),
            &caller.user_id,
            Names::of_participants(participants).of(caller.user_id.as_str()),
        );
        let others: Vec<UserId> = participants
            .iter()
            .filter_map(|p| UserId::parse(p.communication_identifier.id()?).ok())
            .filter(|id| *id != caller.user_id)
            .collect();
        let typing = &typing;
        let failed = fan_out(FAN_OUT, others, |other| async move {
            realtime.tell(&other, &[typing]).await.err()
        })
        .await
        .into_iter()
        .flatten()
        .count();
        if failed > 0 {
            tracing::warn!(failed, "typing notice not told to some");
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
