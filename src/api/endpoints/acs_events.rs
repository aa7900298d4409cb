//! `POST /acs_events?code=<webhook secret>`: ACS's Event Grid deliveries in, real-time events
//! out, on each thread's channel.
//!
//! The secret is checked first, in constant time (401, which Event Grid does not retry), and
//! where configured the delivery's Entra ID token (`realtime::entra`). The
//! handshake is answered with its code. Each change is published once per container and never
//! older than what was published before it (see `realtime::publish`); a publish that fails
//! answers 503, so Event Grid delivers again, and nothing of that delivery is recorded as sent.

use std::collections::BTreeMap;

use lambda_http::{Body, Request, RequestExt};
use serde_json::json;

use crate::api::caller::Credential;
use crate::api::spec::{Needs, Spec, spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::realtime::eventgrid::{self, Delivery, Update};
use crate::realtime::{channel, same_secret};

/// The webhook's body limit: Event Grid sends at most 1 MB a delivery.
const MAX_BODY: usize = 1024 * 1024;

/// A delivery as it came: read only once its sender has proved to be Event Grid.
#[derive(Debug)]
pub struct AcsEvents {
    /// The `code` query parameter: the webhook secret, if the sender knows it.
    code: String,
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
        let realtime = state.realtime()?;
        let secret = realtime.secret.get().await?;
        if !same_secret(presented.code, &secret.webhook_secret) {
            return Err(ApiError::WebhookUnauthorized);
        }
        if let Some(entra) = &realtime.entra {
            entra.check(presented.authorization).await?;
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
            ..Needs::NOTHING
        }
    );

    type Caller = EventGrid;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = match request.body() {
            Body::Text(text) => text.as_bytes().to_vec(),
            Body::Binary(bytes) => bytes.clone(),
            _ => Vec::new(),
        };
        Ok(Self {
            code: request
                .query_string_parameters_ref()
                .and_then(|query| query.first("code"))
                .unwrap_or_default()
                .to_owned(),
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
        let updates = match eventgrid::read(&self.body)? {
            Delivery::Validation(code) => {
                tracing::info!("answered Event Grid's subscription handshake");
                return Ok(json!({"validationResponse": code}).into());
            }
            Delivery::Changes(updates, ignored) => {
                if ignored > 0 {
                    tracing::info!(ignored, "events of other types left out");
                }
                updates
            }
        };
        let fresh: Vec<&Update> = updates
            .iter()
            .filter(|update| realtime.sent.is_new(update))
            .collect();
        let mut by_thread: BTreeMap<String, Vec<&Update>> = BTreeMap::new();
        for update in &fresh {
            by_thread
                .entry(channel::of(&update.thread_id))
                .or_default()
                .push(update);
        }
        for (channel, updates) in &by_thread {
            realtime.publish(channel, updates).await?;
            for update in updates {
                realtime.sent.record(update);
            }
        }
        tracing::info!(
            delivered = updates.len(),
            published = fresh.len(),
            "events passed on"
        );
        Ok(json!({"published": fresh.len(), "duplicates": updates.len() - fresh.len()}).into())
    }
}
