//! `POST /acs_events?code=<webhook secret>`: ACS's user-level Event Grid deliveries in, each
//! person's real-time events out, on their own channel.
//!
//! The webhook's secret is checked first, in constant time (401, which Event Grid does not
//! retry), and where configured the delivery's Entra ID token (`realtime::entra`); the
//! handshake is answered with its code. A delivery is then only a hint: for each event, ACS is
//! read as its recipient (with a token the admin key issues them, kept for its life), and
//! what ACS shows them is what they are sent (`realtime::update`), or nothing. Each is
//! published once per container and never older than what was published before it (see
//! `realtime::publish`); a publish or read that fails answers 503, so Event Grid delivers
//! again, and nothing of that delivery is recorded as sent.
//!
//! A new message is also pushed to each recipient's devices but the sender's, where the
//! deployment pushes (see `push_message`). A deployment subscribes the webhook twice, once
//! with `part=realtime` and once with `part=push`: Event Grid delivers each subscription on
//! its own, so a push service that is slow to answer never holds up anyone's real time. A
//! subscription without `part` does both, as before the split.

use std::collections::BTreeMap;

use lambda_http::{Body, Request, RequestExt};
use serde_json::json;

use crate::acs::AcsError;
use crate::acs::UserId;
use crate::acs::http::{FAN_OUT, fan_out};
use crate::api::caller;
use crate::api::caller::Credential;
use crate::api::spec::{Needs, Spec, spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::people::{Failure, KeptSubscription, People};
use crate::push;
use crate::push::sender::Outcome;
use crate::push::subscription::{MAX_PER_PERSON, Subscription, topic_of};
use crate::realtime::eventgrid::{self, About, Delivery, Hint};
use crate::realtime::publish::Seen;
use crate::realtime::update::{self, Update, UpdateKind};
use crate::realtime::{channel, same_secret};
use time::OffsetDateTime;

/// The webhook's body limit: Event Grid sends at most 1 MB a delivery.
const MAX_BODY: usize = 1024 * 1024;

/// Which of a delivery's jobs this subscription does (`part`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Realtime,
    Push,
    Both,
}

impl Part {
    fn publishes(self) -> bool {
        self != Part::Push
    }

    fn pushes(self) -> bool {
        self != Part::Realtime
    }
}

/// A delivery as it came: read only once its sender has proved to be Event Grid.
#[derive(Debug)]
pub struct AcsEvents {
    /// The `code` query parameter: the webhook secret, if the sender knows it.
    code: String,
    part: Part,
    /// The `Authorization` header, for the Entra ID check.
    authorization: Option<String>,
    body: Vec<u8>,
}

/// What a delivery's sender presents: the webhook secret, and an Entra ID token where one is
/// required.
pub struct Presented<'a> {
    code: &'a str,
    authorization: Option<&'a str>,
}

/// Event Grid, proved by the webhook secret (in constant time; a 401, which Event Grid does
/// not retry) and, where configured, by its Entra ID token.
pub struct EventGrid;

impl Credential for EventGrid {
    type Claim<'a> = Presented<'a>;

    async fn check<'a>(
        state: &'a AppState,
        _: &'a Request,
        presented: Presented<'a>,
    ) -> Result<Self, ApiError> {
        let secret = state
            .realtime()?
            .webhook_secret
            .as_ref()
            .ok_or(ApiError::Misconfigured(
                "REALTIME_WEBHOOK_SECRET_ID is not set",
            ))?
            .get()
            .await?;
        if !same_secret(presented.code, secret.expose()) {
            return Err(ApiError::WebhookUnauthorized);
        }
        if let Some(entra) = &state.realtime()?.entra {
            entra
                .check(presented.authorization)
                .await
                .map_err(ApiError::Entra)?;
        }
        Ok(Self)
    }
}

impl Endpoint for AcsEvents {
    const SPEC: Spec = spec!(
        "acs_events",
        Post,
        Needs {
            webhook: true,
            publishes: true,
            people: true,
            pushes: true,
            ..Needs::ON_IDENTITY
        }
    );

    type Caller = EventGrid;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = match request.body() {
            Body::Text(text) => text.as_bytes().to_vec(),
            Body::Binary(bytes) => bytes.clone(),
            _ => Vec::new(),
        };
        let query = request.query_string_parameters_ref();
        let part = match query.and_then(|query| query.first("part")) {
            None => Part::Both,
            Some("realtime") => Part::Realtime,
            Some("push") => Part::Push,
            Some(_) => {
                return Err(ApiError::InvalidField {
                    field: "part",
                    reason: "is realtime or push",
                });
            }
        };
        Ok(Self {
            code: query
                .and_then(|query| query.first("code"))
                .unwrap_or_default()
                .to_owned(),
            part,
            authorization: request
                .headers()
                .get(lambda_http::http::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            body,
        })
    }

    fn who(&self) -> Presented<'_> {
        Presented {
            code: &self.code,
            authorization: self.authorization.as_deref(),
        }
    }

    async fn act(self, state: &AppState, _: EventGrid) -> Result<Answer, ApiError> {
        let realtime = state.realtime()?;
        if self.body.len() > MAX_BODY {
            return Err(ApiError::TooLarge {
                what: "the delivery",
                limit: MAX_BODY,
            });
        }
        let hints = match eventgrid::read(&self.body)? {
            Delivery::Validation(code) => {
                tracing::info!("answered Event Grid's subscription handshake");
                return Ok(json!({"validationResponse": code}).into());
            }
            Delivery::Hints(hints, ignored) => {
                if ignored > 0 {
                    tracing::info!(ignored, "events of other types left out");
                }
                hints
            }
        };
        // Pushes are claimed in the table, once across containers; publishes once a container.
        let fresh: Vec<Hint> = hints
            .iter()
            .filter(|hint| match self.part {
                Part::Push => matches!(hint.about, About::Message { .. }),
                _ => realtime.sent.is_new(&Seen::hint(hint)),
            })
            .cloned()
            .collect();
        let resolved = fan_out(FAN_OUT, fresh, |hint| async move {
            let update = resolve_for_recipient(state, &hint).await?;
            Ok::<_, ApiError>((hint, update))
        })
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
        let published = if self.part.publishes() {
            publish(state, &resolved).await?
        } else {
            0
        };
        let pushed = if self.part.pushes() {
            push_news(state, &resolved).await?
        } else {
            0
        };
        tracing::info!(
            delivered = hints.len(),
            fresh = resolved.len(),
            published,
            pushed,
            "events passed on"
        );
        let shown = resolved
            .iter()
            .filter(|(_, update)| update.is_some())
            .count();
        Ok(json!({
            "published": published,
            "pushed": pushed,
            "duplicates": hints.len() - resolved.len(),
            "refused_by_acs": resolved.len() - shown,
        })
        .into())
    }
}

/// Publishes what each recipient was shown on their channel, then records every hint and
/// update as sent (only once all are published: a failed publish leaves them to a retry).
/// Returns how many updates went out.
async fn publish(state: &AppState, resolved: &[(Hint, Option<Update>)]) -> Result<usize, ApiError> {
    let realtime = state.realtime()?;
    let mut by_person: BTreeMap<String, Vec<&Update>> = BTreeMap::new();
    let hour = channel::hour(OffsetDateTime::now_utc());
    for (hint, update) in resolved {
        if let Some(update) = update {
            by_person
                .entry(channel::of(&hint.recipient, hour))
                .or_default()
                .push(update);
        }
    }
    for (channel, updates) in &by_person {
        realtime.publish(channel, updates).await?;
    }
    let mut published = 0;
    for (hint, update) in resolved {
        realtime.sent.record(&Seen::hint(hint));
        if let Some(update) = update {
            published += 1;
            if let (Some(message_id), Some(version)) = (&update.message_id, update.version) {
                realtime.sent.record(&Seen::Message {
                    recipient: &hint.recipient,
                    thread_id: &hint.thread_id,
                    message_id,
                    version,
                });
            }
        }
    }
    Ok(published)
}

/// Pushes each new message to its recipients but its sender; returns how many devices took
/// one.
async fn push_news(
    state: &AppState,
    resolved: &[(Hint, Option<Update>)],
) -> Result<usize, ApiError> {
    let news: Vec<_> = resolved
        .iter()
        .filter_map(|(hint, update)| {
            let update = update.as_ref()?;
            let news = update.kind == UpdateKind::Message
                && update.sender.as_deref() != Some(hint.recipient.as_str());
            news.then(|| (hint.recipient.clone(), update.clone()))
        })
        .collect();
    let pushed = fan_out(FAN_OUT, news, |(recipient, update)| async move {
        push_message(state, &recipient, &update).await
    })
    .await
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    Ok(pushed.iter().sum())
}

/// Pushes a new message to `recipient`'s devices, unless they muted its thread or it went
/// before (claimed in the table, so once whichever container Event Grid delivers to). Every
/// device at once, each within the sender's deadline; a device the push service calls gone is
/// forgotten at once, one that keeps going unanswered or failing is forgotten too
/// (`People::push_failed`). A lost push fails nothing; only the table or the VAPID key failing
/// fails the delivery, for Event Grid to try again. Returns how many devices took it.
async fn push_message(
    state: &AppState,
    recipient: &UserId,
    update: &Update,
) -> Result<usize, ApiError> {
    let (Some(pusher), Some(people), Some(message_id)) =
        (state.pusher(), state.people_if_kept(), &update.message_id)
    else {
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
    let claimed = people
        .claim_push(
            recipient,
            &update.thread_id,
            message_id,
            OffsetDateTime::now_utc(),
        )
        .await?;
    if !claimed {
        return Ok(0);
    }
    let payload = push::sender::payload(update, settings.content);
    let topic = topic_of(update.thread_id.as_str());
    let outcomes = fan_out(MAX_PER_PERSON, subscriptions, |(kept, subscription)| {
        let (payload, topic) = (&payload, &topic);
        async move {
            let outcome = pusher.send(&subscription, payload, topic).await?;
            Ok::<_, ApiError>((kept, outcome))
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

/// Keeps the table true to what a push to `device` met: a device that took it is forgiven its
/// failures, a gone one forgotten, a failing one noted (and forgotten once it keeps failing).
/// Returns whether the push was delivered.
async fn note(
    people: &People,
    recipient: &UserId,
    device: &KeptSubscription,
    outcome: Outcome,
    now: OffsetDateTime,
) -> Result<bool, ApiError> {
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

/// What ACS shows `hint`'s recipient of it, read with a token of theirs; nothing for an
/// identity ACS no longer knows.
async fn resolve_for_recipient(state: &AppState, hint: &Hint) -> Result<Option<Update>, ApiError> {
    let recipient = match caller::mint(state, &hint.recipient).await {
        Ok(recipient) => recipient,
        Err(ApiError::AdminAcs(AcsError::NotFound(_))) => return Ok(None),
        Err(error) => return Err(error),
    };
    Ok(update::resolve(state.chat()?, &recipient.token, hint).await?)
}
