//! A delivery's hints relayed to each recipient's channel: the use case behind `acs_events`'s
//! real-time part, which knows no HTTP.
//!
//! Each hint is resolved as its recipient before it gets here (ACS is asked what they may see,
//! see [`super::update`]); what they were shown goes to their channel, all of a person's updates
//! in one publish, and only once every publish has gone is anything recorded as sent: a failed
//! publish leaves the whole delivery to Event Grid's retry, and what this container sent once
//! it never sends again (see [`super::publish::Sent`]).

use std::collections::BTreeMap;

use super::Realtime;
use super::eventgrid::Hint;
use super::publish::{PublishError, Seen, Sent};
use super::update::{self, Update};
use crate::acs::http::{FAN_OUT, fan_out};
use crate::acs::{AcsError, ChatClient, UserId};
use crate::admin::{Admin, AdminError};

/// Why a delivery's hints could not be read as their recipients: a token for one could not be
/// had, or ACS failed to answer one of them.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Admin(AdminError),
    #[error(transparent)]
    Read(AcsError),
}

/// What ACS shows each hint's recipient of it, read as them, at once, with a token the admin
/// key issues them (kept for `minutes`). Nothing for an identity ACS no longer knows.
pub async fn resolve(
    chat: &ChatClient,
    admin: &Admin,
    hints: Vec<Hint>,
    minutes: u32,
) -> Result<Vec<(Hint, Option<Update>)>, ResolveError> {
    fan_out(FAN_OUT, hints, |hint| async move {
        let token = match admin.minted_chat_token(&hint.recipient, minutes).await {
            Ok(token) => token,
            Err(AdminError::Acs(AcsError::NotFound(_))) => return Ok((hint, None)),
            Err(error) => return Err(ResolveError::Admin(error)),
        };
        let update = update::resolve(chat, &token, &hint).await;
        Ok((hint, update.map_err(ResolveError::Read)?))
    })
    .await
    .into_iter()
    .collect()
}

/// The hints of a delivery this container has not relayed before.
pub fn fresh(hints: &[Hint], sent: &Sent) -> Vec<Hint> {
    hints
        .iter()
        .filter(|hint| sent.is_new(&Seen::hint(hint)))
        .cloned()
        .collect()
}

/// What each recipient is to be told, in the delivery's order.
pub fn by_person(resolved: &[(Hint, Option<Update>)]) -> BTreeMap<&UserId, Vec<&Update>> {
    let mut by_person: BTreeMap<&UserId, Vec<&Update>> = BTreeMap::new();
    for (hint, update) in resolved {
        if let Some(update) = update {
            by_person.entry(&hint.recipient).or_default().push(update);
        }
    }
    by_person
}

/// Tells each recipient what they were shown, then records every hint and update as sent.
/// Returns how many updates went out.
pub async fn relay(
    realtime: &Realtime,
    resolved: &[(Hint, Option<Update>)],
) -> Result<usize, PublishError> {
    for (person, updates) in by_person(resolved) {
        realtime.tell(person, &updates).await?;
    }
    Ok(record(&realtime.sent, resolved))
}

/// Records a delivery's hints and updates as sent; returns how many updates there were.
fn record(sent: &Sent, resolved: &[(Hint, Option<Update>)]) -> usize {
    let mut published = 0;
    for (hint, update) in resolved {
        sent.record(&Seen::hint(hint));
        if let Some(update) = update {
            published += 1;
            if let (Some(message_id), Some(version)) = (&update.message_id, update.version) {
                sent.record(&Seen::Message {
                    recipient: &hint.recipient,
                    thread_id: &hint.thread_id,
                    message_id,
                    version,
                });
            }
        }
    }
    published
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acs::ThreadId;
    use crate::realtime::eventgrid::About;

    fn hint(recipient: &str, about: About, event: &str) -> Hint {
        Hint {
            recipient: UserId::parse(recipient).unwrap(),
            thread_id: ThreadId::parse("19:t@thread.v2").unwrap(),
            about,
            event_id: event.to_owned(),
        }
    }

    #[test]
    fn each_person_is_told_their_own_updates_in_order_and_nothing_acs_refused() {
        let thread = ThreadId::parse("19:t@thread.v2").unwrap();
        let resolved = vec![
            (
                hint("8:acs:r_bob", About::Participants, "e1"),
                Some(Update::read(thread.clone(), 1)),
            ),
            (hint("8:acs:r_alice", About::Properties, "e2"), None),
            (
                hint("8:acs:r_bob", About::Properties, "e3"),
                Some(Update::read(thread.clone(), 2)),
            ),
        ];
        let told = by_person(&resolved);
        let bob = UserId::parse("8:acs:r_bob").unwrap();
        assert_eq!(told.len(), 1, "Alice was shown nothing");
        let positions: Vec<_> = told[&bob].iter().map(|u| u.sequence_id).collect();
        assert_eq!(positions, [Some(1), Some(2)]);
    }

    #[test]
    fn a_delivery_recorded_as_sent_is_not_fresh_again() {
        let sent = Sent::default();
        let hints = vec![
            hint("8:acs:r_bob", About::Participants, "e1"),
            hint("8:acs:r_bob", About::Left, "e2"),
        ];
        assert_eq!(fresh(&hints, &sent).len(), 2);
        let resolved: Vec<_> = hints.iter().cloned().map(|h| (h, None)).collect();
        assert_eq!(record(&sent, &resolved[..1]), 0, "nothing shown, yet seen");
        assert_eq!(fresh(&hints, &sent), hints[1..]);
    }
}
