//! `/_emulator` routes for tests driving the emulator over HTTP (the Python suites, the local
//! stack): request counts, faults, ACS's rate limits on or off, tokens with any expiry, the id
//! of the next message, and Event Grid webhook subscriptions (with the event types they take)
//! and their delivery switches, and the stand-in push service's subscriptions (`crate::push`).
//! Loopback use only.

use hyper::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use super::Shared;
use super::request::Call;
use crate::eventgrid::Switches;
use crate::faults::Fault;
use crate::reply::{self, Reply};

/// A webhook to deliver Event Grid events to, once it passes the validation handshake, and
/// the event types it takes (every type without a filter).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Subscription {
    endpoint: String,
    #[serde(default)]
    included_event_types: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct LimitsSwitch {
    enabled: bool,
}

/// The id the next user message of any thread takes, as two threads' messages can share one.
#[derive(Deserialize)]
struct PinId {
    id: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MintToken {
    user_id: String,
    expires_in_seconds: i64,
    #[serde(default)]
    scopes: Option<Vec<String>>,
}

pub async fn serve(shared: &Shared, call: &Call) -> Reply {
    let s: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    match (&call.method, s.as_slice()) {
        (&Method::GET, ["_emulator", "requests"]) => {
            reply::json(StatusCode::OK, &json!(shared.faults.counts()))
        }
        (&Method::GET, ["_emulator", "connections"]) => {
            reply::json(StatusCode::OK, &json!(shared.faults.connections()))
        }
        (&Method::DELETE, ["_emulator", "requests"]) => {
            shared.faults.reset_counts();
            reply::empty(StatusCode::NO_CONTENT)
        }
        (&Method::POST, ["_emulator", "faults"]) => match call.json_body::<Fault>() {
            Ok(fault) => {
                shared.faults.add(fault);
                reply::empty(StatusCode::NO_CONTENT)
            }
            Err(failure) => reply::failure(&failure),
        },
        (&Method::POST, ["_emulator", "limits"]) => match call.json_body::<LimitsSwitch>() {
            Ok(switch) => {
                shared.limits.set_enabled(switch.enabled);
                reply::empty(StatusCode::NO_CONTENT)
            }
            Err(failure) => reply::failure(&failure),
        },
        (&Method::POST, ["_emulator", "eventgrid", "subscriptions"]) => {
            match call.json_body::<Subscription>() {
                Ok(subscription) => match shared
                    .events
                    .subscribe(&subscription.endpoint, subscription.included_event_types)
                    .await
                {
                    Ok(()) => reply::empty(StatusCode::CREATED),
                    Err(e) => {
                        reply::json(StatusCode::BAD_REQUEST, &json!({"error": e.to_string()}))
                    }
                },
                Err(failure) => reply::failure(&failure),
            }
        }
        (&Method::DELETE, ["_emulator", "eventgrid", "subscriptions"]) => {
            shared.events.unsubscribe_all();
            reply::empty(StatusCode::NO_CONTENT)
        }
        (&Method::POST, ["_emulator", "eventgrid", "switches"]) => {
            match call.json_body::<Switches>() {
                Ok(switches) => {
                    shared.events.set_switches(switches);
                    reply::empty(StatusCode::NO_CONTENT)
                }
                Err(failure) => reply::failure(&failure),
            }
        }
        (&Method::DELETE, ["_emulator", "faults"]) => {
            shared.faults.clear();
            reply::empty(StatusCode::NO_CONTENT)
        }
        (&Method::POST, ["_emulator", "next_message_id"]) => match call.json_body::<PinId>() {
            Ok(pin) => {
                shared.store().pin_next_message_id(pin.id);
                reply::empty(StatusCode::NO_CONTENT)
            }
            Err(failure) => reply::failure(&failure),
        },
        (&Method::POST, ["_emulator", "tokens"]) => match call.json_body::<MintToken>() {
            Ok(request) => {
                let scopes = request.scopes.unwrap_or_else(|| vec!["chat".into()]);
                let expires_at =
                    OffsetDateTime::now_utc() + time::Duration::seconds(request.expires_in_seconds);
                match shared.store().mint(&request.user_id, &scopes, expires_at) {
                    Ok(token) => reply::json(StatusCode::OK, &json!({"token": token})),
                    Err(failure) => reply::failure(&failure),
                }
            }
            Err(failure) => reply::failure(&failure),
        },
        (_, ["_emulator", "push", rest @ ..]) => shared.push.control(call, shared.scheme, rest),
        _ => reply::spec_error(StatusCode::NOT_FOUND, "NotFound", "No such control route."),
    }
}
