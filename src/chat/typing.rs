//! Typing notices: ACS's limit kept in each container, and the notice told to the others.
//!
//! ACS allows 5 typing notifications per 10 s per user per thread. Each container forwards at
//! most one per user and thread every [`TYPING_INTERVAL`] (so at most 5 per 10 s); only a
//! notice ACS took counts towards that, so a refused one (a forged or another user's token)
//! leaves the real user's next notice due. ACS sends Event Grid no typing events, so a notice
//! it took is told over the real-time channel to each participant but the sender, in threads
//! of at most [`MAX_TYPING_PARTICIPANTS`], where ACS supports typing notices at all.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::text::DisplayName;
use super::view::Names;
use crate::acs::chat::{ChatClient, ChatParticipant};
use crate::acs::http::{FAN_OUT, fan_out};
use crate::acs::{AcsError, BearerToken, ThreadId, UserId};
use crate::realtime::Realtime;
use crate::realtime::update::Update;

/// The shortest time between two typing notifications a container forwards for one user in
/// one thread.
pub const TYPING_INTERVAL: Duration = Duration::from_secs(2);

/// The most participants a thread may have for typing notices, as in ACS.
pub const MAX_TYPING_PARTICIPANTS: usize = 20;

/// When this container last forwarded a typing notification, per user and thread.
#[derive(Debug, Default)]
pub struct TypingThrottle(Mutex<HashMap<(UserId, ThreadId), Instant>>);

impl TypingThrottle {
    fn last(&self) -> std::sync::MutexGuard<'_, HashMap<(UserId, ThreadId), Instant>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether a notice from `user` in `thread` is due at `now`, [`TYPING_INTERVAL`] after
    /// the last one ACS took through this container.
    fn due(&self, user: &UserId, thread: &ThreadId, now: Instant) -> bool {
        let mut last = self.last();
        last.retain(|_, at| now.duration_since(*at) < TYPING_INTERVAL);
        !last.contains_key(&(user.clone(), thread.clone()))
    }

    /// Records that ACS took a notice from `user` in `thread` at `now`.
    fn sent(&self, user: &UserId, thread: &ThreadId, now: Instant) {
        self.last().insert((user.clone(), thread.clone()), now);
    }
}

/// What became of a typing notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typed {
    /// ACS took it, and the others were told where there is a channel.
    Sent,
    /// One went out less than [`TYPING_INTERVAL`] ago, or ACS's own limit was reached.
    NotYet,
    /// ACS took it, but the thread is past [`MAX_TYPING_PARTICIPANTS`]: nobody is told.
    TooLarge,
}

/// A typing notice from `sender`, who holds `token`, in `thread`.
pub struct Typing<'a> {
    pub chat: &'a ChatClient,
    pub realtime: Option<&'a Realtime>,
    pub throttle: &'a TypingThrottle,
    pub token: &'a BearerToken,
    pub sender: &'a UserId,
    pub thread: &'a ThreadId,
    pub name: Option<&'a DisplayName>,
}

impl Typing<'_> {
    /// Sends the notice to ACS unless one went out just now and, beside it (no round trip
    /// more), reads the participants it is then told to.
    pub async fn send(self) -> Result<Typed, AcsError> {
        if !self.throttle.due(self.sender, self.thread, Instant::now()) {
            return Ok(Typed::NotYet);
        }
        let name = self.name.map(DisplayName::as_str);
        let (sent, participants) = tokio::join!(
            self.chat.send_typing(self.token, self.thread, name),
            async {
                match self.realtime {
                    Some(_) => Some(self.chat.list_participants(self.token, self.thread).await),
                    None => None,
                }
            }
        );
        match sent {
            Ok(()) => self.throttle.sent(self.sender, self.thread, Instant::now()),
            // Several containers passed ACS's limit together: a notice missed is no failure.
            Err(AcsError::Throttled { .. }) => return Ok(Typed::NotYet),
            Err(error) => return Err(error),
        }
        let participants = match participants.transpose() {
            Ok(participants) => participants.unwrap_or_default(),
            Err(error) => {
                tracing::warn!(%error, "typing notice not told: no participants");
                Vec::new()
            }
        };
        if participants.len() > MAX_TYPING_PARTICIPANTS {
            return Ok(Typed::TooLarge);
        }
        self.tell_others(&participants).await;
        Ok(Typed::Sent)
    }

    /// Tells each other participant's channel, as the identity ACS took the notice from. Best
    /// effort: the notice has reached ACS already.
    async fn tell_others(&self, participants: &[ChatParticipant]) {
        let Some(realtime) = self.realtime else {
            return;
        };
        let typing = Update::typing(
            self.thread.clone(),
            self.sender,
            Names::of_participants(participants).of(self.sender.as_str()),
        );
        let typing = &typing;
        let failed = fan_out(
            FAN_OUT,
            others(participants, self.sender),
            |other| async move { realtime.tell(&other, &[typing]).await.err() },
        )
        .await
        .into_iter()
        .flatten()
        .count();
        if failed > 0 {
            tracing::warn!(failed, "typing notice not told to some");
        }
    }
}

/// The participants told of `sender`'s typing: every ACS user but the sender.
fn others(participants: &[ChatParticipant], sender: &UserId) -> Vec<UserId> {
    participants
        .iter()
        .filter_map(|p| UserId::parse(p.communication_identifier.id()?).ok())
        .filter(|id| id != sender)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }

    fn thread() -> ThreadId {
        ThreadId::parse("19:lunch@thread.v2").unwrap()
    }

    fn participant(raw: &str) -> ChatParticipant {
        serde_json::from_value(json!({"communicationIdentifier": {"rawId": raw}})).unwrap()
    }

    #[test]
    fn a_notice_is_due_again_only_after_the_interval_since_the_last_one_acs_took() {
        let throttle = TypingThrottle::default();
        let (alice, start) = (user("8:acs:res_alice"), Instant::now());
        assert!(throttle.due(&alice, &thread(), start));
        assert!(
            throttle.due(&alice, &thread(), start),
            "a notice not taken counts for nothing"
        );
        throttle.sent(&alice, &thread(), start);
        assert!(!throttle.due(&alice, &thread(), start + TYPING_INTERVAL / 2));
        assert!(
            throttle.due(&user("8:acs:res_bob"), &thread(), start),
            "each user has their own"
        );
        assert!(throttle.due(&alice, &thread(), start + TYPING_INTERVAL));
    }

    #[test]
    fn everyone_but_the_sender_is_told_and_identities_that_are_not_acs_users_are_skipped() {
        let participants = [
            participant("8:acs:res_alice"),
            participant("8:acs:res_bob"),
            participant("4:+14255550123"),
            participant("8:acs:res_carol"),
        ];
        let told = others(&participants, &user("8:acs:res_alice"));
        assert_eq!(told, [user("8:acs:res_bob"), user("8:acs:res_carol")]);
    }
}
