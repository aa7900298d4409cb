//! A new message pushed to its recipients' devices: the use case behind `acs_events`'s push
//! part, which knows no HTTP.
//!
//! Each recipient but the sender is pushed once, whichever container Event Grid delivers to
//! (the push is claimed in the people table), unless they muted the thread. All of a person's
//! devices are pushed at once, each within the sender's deadline, and the table is kept true to
//! what each push met: a device that took one is forgiven its failures, a gone one forgotten at
//! once, one that keeps going unanswered or failing forgotten in time (`People::push_failed`).
//! A lost push fails nothing; only the table or the VAPID key failing fails the delivery, for
//! Event Grid to try again.

use time::OffsetDateTime;

use super::sender::{Outcome, PushError, Pusher, payload};
use super::subscription::{MAX_PER_PERSON, Subscription, topic_of};
use crate::acs::UserId;
use crate::acs::http::{FAN_OUT, fan_out};
use crate::people::{Failure, KeptSubscription, People, PeopleError};
use crate::realtime::eventgrid::{About, Hint};
use crate::realtime::update::{Update, UpdateKind};

/// Why a delivery's pushes could not be made: Event Grid should deliver again.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    People(#[from] PeopleError),
    #[error(transparent)]
    Push(#[from] PushError),
}

/// The hints of a delivery that may be news to push: those about a message.
pub fn messages(hints: &[Hint]) -> Vec<Hint> {
    hints
        .iter()
        .filter(|hint| matches!(hint.about, About::Message { .. }))
        .cloned()
        .collect()
}

/// What of a delivery is news to push: each new message, to each recipient who did not send
/// it.
pub fn news(resolved: &[(Hint, Option<Update>)]) -> Vec<(UserId, Update)> {
    resolved
        .iter()
        .filter_map(|(hint, update)| {
            let update = update.as_ref()?;
            let news = update.kind == UpdateKind::Message
                && update.sender.as_deref() != Some(hint.recipient.as_str());
            news.then(|| (hint.recipient.clone(), update.clone()))
        })
        .collect()
}

/// Pushes each piece of [`news`] in a delivery; returns how many devices took one.
pub async fn notify_all(
    pusher: &Pusher,
    people: &People,
    resolved: &[(Hint, Option<Update>)],
) -> Result<usize, NotifyError> {
    let pushed = fan_out(FAN_OUT, news(resolved), |(recipient, update)| async move {
        notify(pusher, people, &recipient, &update).await
    })
    .await
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    Ok(pushed.iter().sum())
}

/// Pushes a new message to `recipient`'s devices, unless they muted its thread or it went
/// before; returns how many devices took it.
pub async fn notify(
    pusher: &Pusher,
    people: &People,
    recipient: &UserId,
    update: &Update,
) -> Result<usize, NotifyError> {
    let Some(message_id) = &update.message_id else {
        return Ok(0);
    };
    let kept = people.threads(recipient).await?;
    if kept.is_muted(&update.thread_id) || kept.subscriptions.is_empty() {
        return Ok(0);
    }
    let settings = pusher.settings();
    let subscriptions: Vec<_> = kept
        .subscriptions
        .into_iter()
        .filter_map(|kept| {
            Subscription::parse(&kept.endpoint, &kept.p256dh, &kept.auth, &settings.services)
                .ok()
                .map(|subscription| (kept, subscription))
        })
        .collect();
    // Signed before the claim, so that a key that cannot sign leaves the push to a retry.
    for (_, subscription) in &subscriptions {
        pusher.authorization(&subscription.audience()).await?;
    }
    let now = OffsetDateTime::now_utc();
    if !people
        .claim_push(recipient, &update.thread_id, message_id, now)
        .await?
    {
        return Ok(0);
    }
    let payload = payload(update, settings.content);
    let topic = topic_of(update.thread_id.as_str());
    let outcomes = fan_out(MAX_PER_PERSON, subscriptions, |(kept, subscription)| {
        let (payload, topic) = (&payload, &topic);
        async move {
            let outcome = pusher.send(&subscription, payload, topic).await?;
            Ok::<_, NotifyError>((kept, outcome))
        }
    })
    .await;
    let now = OffsetDateTime::now_utc();
    let noted = fan_out(MAX_PER_PERSON, outcomes, |outcome| async move {
        let (device, outcome) = outcome?;
        note(people, recipient, &device, outcome, now).await
    })
    .await
    .into_iter()
    .collect::<Result<Vec<bool>, _>>()?;
    Ok(noted.into_iter().filter(|delivered| *delivered).count())
}

/// Keeps the table true to what a push to `device` met; returns whether it was delivered.
async fn note(
    people: &People,
    recipient: &UserId,
    device: &KeptSubscription,
    outcome: Outcome,
    now: OffsetDateTime,
) -> Result<bool, NotifyError> {
    let (failure, why) = match outcome {
        Outcome::Delivered => {
            people.push_delivered(recipient, device).await?;
            return Ok(true);
        }
        Outcome::Gone => {
            people.unsubscribe(recipient, &device.key).await?;
            tracing::info!("a push service said a subscription is gone: forgotten");
            return Ok(false);
        }
        Outcome::Failed(why) => {
            tracing::warn!(%why, "a push was refused and lost");
            return Ok(false);
        }
        Outcome::Unanswered(why) => (Failure::Unanswered, why),
        Outcome::Failing(why) => (Failure::Failing, why),
    };
    let forgotten = people.push_failed(recipient, device, failure, now).await?;
    tracing::warn!(%why, forgotten, "a push was lost");
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acs::{MessageId, ThreadId};

    fn hint(recipient: &str, thread: &ThreadId) -> Hint {
        Hint {
            recipient: UserId::parse(recipient).unwrap(),
            thread_id: thread.clone(),
            about: About::Message {
                id: MessageId::parse("1700000000000").unwrap(),
                version: 1_700_000_000_000,
            },
            event_id: format!("event-{recipient}"),
        }
    }

    fn message(thread: &ThreadId, sender: &str) -> Update {
        Update {
            message_id: Some(MessageId::parse("1700000000000").unwrap()),
            sender: Some(sender.to_owned()),
            ..Update::about(UpdateKind::Message, thread.clone())
        }
    }

    #[test]
    fn news_is_each_new_message_for_each_recipient_but_its_sender() {
        let thread = ThreadId::parse("19:t@thread.v2").unwrap();
        let (alice, bob, carol) = ("8:acs:r_alice", "8:acs:r_bob", "8:acs:r_carol");
        let resolved = vec![
            (hint(alice, &thread), Some(message(&thread, alice))),
            (hint(bob, &thread), Some(message(&thread, alice))),
            (hint(carol, &thread), None),
            (hint(carol, &thread), Some(Update::read(thread.clone(), 4))),
        ];
        let news = news(&resolved);
        let recipients: Vec<&str> = news.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(
            recipients,
            [bob],
            "not the sender, nothing ACS refused, no read mark"
        );
    }
}
