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

use super::{Answer, ApiError, AppState};
use crate::realtime::eventgrid::{self, Delivery, Update};
use crate::realtime::{channel, same_secret};

/// The webhook's body limit: Event Grid sends at most 1 MB a delivery.
const MAX_BODY: usize = 1024 * 1024;

/// Serves one delivery.
pub async fn handle(state: &AppState, request: &Request) -> Result<Answer, ApiError> {
    let realtime = state
        .realtime
        .as_ref()
        .ok_or(ApiError::Misconfigured("REALTIME_SECRET_ID is not set"))?;
    let secret = realtime.secret.get().await?;
    let query = request.query_string_parameters();
    let given = query.first("code").unwrap_or_default();
    if !same_secret(given, &secret.webhook_secret) {
        return Err(ApiError::WebhookUnauthorized);
    }
    if let Some(entra) = &realtime.entra {
        let authorization = request
            .headers()
            .get(lambda_http::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok());
        entra.check(authorization).await?;
    }
    let body: &[u8] = match request.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if body.len() > MAX_BODY {
        return Err(ApiError::TooLarge {
            what: "the delivery",
            limit: MAX_BODY,
        });
    }
    let updates = match eventgrid::read(body)? {
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
    let publisher = realtime
        .publisher
        .as_ref()
        .ok_or(ApiError::Misconfigured("REALTIME_PUBLISH_URL is not set"))?;
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
        let events: Vec<String> = updates
            .iter()
            .map(|update| serde_json::to_string(update).unwrap_or_default())
            .collect();
        publisher
            .publish(channel, &events, &secret.publish_key)
            .await?;
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
