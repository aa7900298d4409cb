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
//! deployment pushes (`push::notify`); the real-time part is `realtime::relay`. A deployment subscribes the webhook twice, once
//! with `part=realtime` and once with `part=push`: Event Grid delivers each subscription on
//! its own, so a push service that is slow to answer never holds up anyone's real time. A
//! subscription without `part` does both, as before the split.

use lambda_http::{Body, Request, RequestExt};
use serde::Serialize;
use serde_json::json;

use crate::acs::ChatClient;
use crate::admin::Admin;
use crate::api::caller::Credential;
use crate::api::endpoint::spec;
use crate::api::parts::Parts;
use crate::api::spec::{Needs, Spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::config::{ConfigError, TRUSTED_TOKEN_MINUTES};
use crate::people::People;
use crate::push::notify;
use crate::push::sender::Pusher;
use crate::realtime::eventgrid::{self, Delivery, Hint};
use crate::realtime::update::Update;
use crate::realtime::{Realtime, relay, same_secret};

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

    const NEEDS: Needs = Needs {
        webhook: true,
        ..Needs::NOTHING
    };

    async fn check<'a>(
        state: &'a AppState,
        _: &'a Request,
        presented: Presented<'a>,
    ) -> Result<Self, ApiError> {
        let realtime = <&Realtime as Parts>::take(state)?;
        let secret = realtime
            .webhook_secret
            .as_ref()
            .ok_or(ConfigError::Missing("REALTIME_WEBHOOK_SECRET_ID"))?
            .get()
            .await?;
        if !same_secret(presented.code, secret.expose()) {
            return Err(ApiError::WebhookUnauthorized);
        }
        if let Some(entra) = &realtime.entra {
            entra
                .check(presented.authorization)
                .await
                .map_err(ApiError::Entra)?;
        }
        Ok(Self)
    }
}

impl Endpoint for AcsEvents {
    const SPEC: Spec = spec!("acs_events", Post);

    type Caller = EventGrid;

    type Parts<'a> = (
        &'a ChatClient,
        &'a Admin,
        &'a Realtime,
        Option<&'a Pusher>,
        Option<&'a People>,
    );

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

    async fn act(
        self,
        (chat, admin, realtime, pusher, people): Self::Parts<'_>,
        _: EventGrid,
    ) -> Result<Answer, ApiError> {
        let hints = match read(&self.body)? {
            Delivery::Validation(code) => return Ok(json!({"validationResponse": code}).into()),
            Delivery::Hints(hints, _) => hints,
        };
        // Pushes are claimed in the table, once across containers; publishes once a container.
        let fresh = match self.part {
            Part::Push => notify::messages(&hints),
            _ => relay::fresh(&hints, &realtime.sent),
        };
        let resolved = relay::resolve(chat, admin, fresh, TRUSTED_TOKEN_MINUTES).await?;
        let published = match self.part.publishes() {
            true => relay::relay(realtime, &resolved).await?,
            false => 0,
        };
        let pushed = match (self.part.pushes(), pusher, people) {
            (true, Some(pusher), Some(people)) => {
                notify::notify_all(pusher, people, &resolved).await?
            }
            _ => 0,
        };
        Answer::json(&PassedOn::of(hints.len(), &resolved, published, pushed))
    }
}

/// What a delivery came to, as the answer says it and the log records it.
#[derive(Serialize)]
struct PassedOn {
    published: usize,
    pushed: usize,
    /// Hints this container had passed on already.
    duplicates: usize,
    /// Hints whose recipient ACS no longer knows.
    refused_by_acs: usize,
}

impl PassedOn {
    fn of(
        delivered: usize,
        resolved: &[(Hint, Option<Update>)],
        published: usize,
        pushed: usize,
    ) -> Self {
        let fresh = resolved.len();
        tracing::info!(delivered, fresh, published, pushed, "events passed on");
        Self {
            published,
            pushed,
            duplicates: delivered - fresh,
            refused_by_acs: resolved.iter().filter(|(_, u)| u.is_none()).count(),
        }
    }
}

/// A delivery within Event Grid's size, read; the handshake and events of other types noted.
fn read(body: &[u8]) -> Result<Delivery, ApiError> {
    if body.len() > MAX_BODY {
        return Err(ApiError::TooLarge {
            what: "the delivery",
            limit: MAX_BODY,
        });
    }
    let delivery = eventgrid::read(body)?;
    match &delivery {
        Delivery::Validation(_) => tracing::info!("answered Event Grid's subscription handshake"),
        Delivery::Hints(_, ignored) if *ignored > 0 => {
            tracing::info!(ignored, "events of other types left out")
        }
        Delivery::Hints(..) => {}
    }
    Ok(delivery)
}
