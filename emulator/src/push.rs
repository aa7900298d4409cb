//! A stand-in push service, with the browser's side of each subscription: what a test or the
//! local stack subscribes with, and what a person's browser would show of each push.
//!
//! `POST /_emulator/push/subscriptions {"applicationServerKey"?}` makes a subscription as a
//! browser's `pushManager.subscribe()` does: a fresh P-256 key pair and auth secret, and an
//! endpoint `/push/<id>` here. A push to it is taken only as a push service takes it: a VAPID
//! header (RFC 8292) that verifies, is alive, names this service as its audience and, where the
//! subscription named one, is signed by its application server key (else 403); `TTL` given;
//! `Urgency` and `Topic` well formed; an `aes128gcm` body that opens with the subscription's
//! private key (RFC 8291). What opened is kept, with the headers, for
//! `GET /_emulator/push/subscriptions/<id>`. `POST .../<id>/answers {"statuses": [...]}`
//! answers the next pushes with those statuses (a 429, a 503), and `{"gone": true}` with 410
//! from then on, as a push service does for an expired subscription.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use aws_lc_rs::agreement::{ECDH_P256, PrivateKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hyper::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::lock::lock;
use crate::reply::{self, Reply};
use crate::routes::request::Call;
use crate::webpush;

/// The largest body a push service takes (RFC 8030 7.2 asks at least 4096 of them).
const MAX_BODY: usize = 4096;

/// One subscription: the browser's keys and what reached it.
struct Subscription {
    private: PrivateKey,
    public: String,
    auth: [u8; 16],
    server_key: Option<String>,
    received: Vec<Value>,
    refused: Vec<String>,
    answers: VecDeque<u16>,
    gone: bool,
}

/// Every subscription, by id.
#[derive(Default)]
pub struct PushService {
    subscriptions: Mutex<HashMap<String, Subscription>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Subscribe {
    #[serde(default)]
    application_server_key: Option<String>,
}

#[derive(Deserialize)]
struct Answers {
    #[serde(default)]
    statuses: Vec<u16>,
    #[serde(default)]
    gone: bool,
}

fn error(status: StatusCode, reason: &str) -> Reply {
    reply::json(status, &json!({"error": reason}))
}

impl PushService {
    /// The control routes, under `/_emulator/push`.
    pub fn control(&self, call: &Call, scheme: &str, path: &[&str]) -> Reply {
        match (&call.method, path) {
            (&Method::POST, ["subscriptions"]) => match call.json_body::<Subscribe>() {
                Ok(subscribe) => self.subscribe(scheme, &call.host, subscribe),
                Err(failure) => reply::failure(&failure),
            },
            (&Method::GET, ["subscriptions", id]) => match lock(&self.subscriptions).get(*id) {
                Some(subscription) => reply::json(
                    StatusCode::OK,
                    &json!({"received": subscription.received, "refused": subscription.refused}),
                ),
                None => error(StatusCode::NOT_FOUND, "no such subscription"),
            },
            (&Method::POST, ["subscriptions", id, "answers"]) => {
                match call.json_body::<Answers>() {
                    Ok(answers) => match lock(&self.subscriptions).get_mut(*id) {
                        Some(subscription) => {
                            subscription.answers.extend(answers.statuses);
                            subscription.gone |= answers.gone;
                            reply::empty(StatusCode::NO_CONTENT)
                        }
                        None => error(StatusCode::NOT_FOUND, "no such subscription"),
                    },
                    Err(failure) => reply::failure(&failure),
                }
            }
            _ => error(StatusCode::NOT_FOUND, "no such push control route"),
        }
    }

    fn subscribe(&self, scheme: &str, host: &str, subscribe: Subscribe) -> Reply {
        let random = SystemRandom::new();
        let mut auth = [0u8; 16];
        let made = random.fill(&mut auth).ok().and_then(|()| {
            let private = PrivateKey::generate(&ECDH_P256).ok()?;
            let public = URL_SAFE_NO_PAD.encode(private.compute_public_key().ok()?.as_ref());
            Some((private, public))
        });
        let Some((private, public)) = made else {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "no key could be made");
        };
        let id = uuid::Uuid::new_v4().simple().to_string();
        let answer = json!({
            "id": id,
            "endpoint": format!("{scheme}://{host}/push/{id}"),
            "expirationTime": null,
            "keys": {"p256dh": public, "auth": URL_SAFE_NO_PAD.encode(auth)},
        });
        lock(&self.subscriptions).insert(
            id,
            Subscription {
                private,
                public,
                auth,
                server_key: subscribe
                    .application_server_key
                    .map(|key| key.trim_end_matches('=').to_owned()),
                received: Vec::new(),
                refused: Vec::new(),
                answers: VecDeque::new(),
                gone: false,
            },
        );
        reply::json(StatusCode::CREATED, &answer)
    }

    /// `POST /push/<id>`: a push, taken as a push service takes it.
    pub fn push(&self, call: &Call, scheme: &str, id: &str) -> Reply {
        let mut subscriptions = lock(&self.subscriptions);
        let Some(subscription) = subscriptions.get_mut(id) else {
            return error(StatusCode::NOT_FOUND, "no such subscription");
        };
        if subscription.gone {
            return error(StatusCode::GONE, "the subscription has expired");
        }
        if let Some(status) = subscription.answers.pop_front() {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return error(status, "answered as the test asked");
        }
        match take(subscription, call, &format!("{scheme}://{}", call.host)) {
            Ok(received) => {
                subscription.received.push(received);
                let mut answer = reply::empty(StatusCode::CREATED);
                if let Ok(location) = format!("/push/{id}/message").parse() {
                    answer.headers_mut().insert("location", location);
                }
                answer
            }
            Err((status, reason)) => {
                subscription.refused.push(reason.to_owned());
                error(status, reason)
            }
        }
    }
}

/// What a browser would be handed of `call`, or why a push service refuses it.
fn take(
    subscription: &Subscription,
    call: &Call,
    audience: &str,
) -> Result<Value, (StatusCode, &'static str)> {
    let now = OffsetDateTime::now_utc();
    let unauthorized = |reason| (StatusCode::UNAUTHORIZED, reason);
    let header = call
        .header("authorization")
        .ok_or(unauthorized("no VAPID header"))?;
    let verified = webpush::verify(header, now.unix_timestamp()).map_err(unauthorized)?;
    if verified.audience != audience {
        return Err(unauthorized("the JWT's aud is not this push service"));
    }
    if subscription
        .server_key
        .as_ref()
        .is_some_and(|key| *key != verified.public_key)
    {
        return Err((
            StatusCode::FORBIDDEN,
            "signed by another key than the subscription's",
        ));
    }
    let bad = |reason| (StatusCode::BAD_REQUEST, reason);
    let ttl: u64 = call
        .header("ttl")
        .and_then(|ttl| ttl.trim().parse().ok())
        .ok_or(bad("no TTL"))?;
    let urgency = call.header("urgency").unwrap_or("normal");
    if !["very-low", "low", "normal", "high"].contains(&urgency) {
        return Err(bad("Urgency is not very-low, low, normal or high"));
    }
    let topic = call.header("topic");
    if topic.is_some_and(|topic| {
        topic.len() > 32
            || !topic
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        return Err(bad("Topic is not 32 URL-safe characters at most"));
    }
    if call.header("content-encoding") != Some("aes128gcm") {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Encoding is not aes128gcm",
        ));
    }
    if call.body.len() > MAX_BODY {
        return Err((StatusCode::PAYLOAD_TOO_LARGE, "the body is over 4096 bytes"));
    }
    let opened = webpush::open(&subscription.private, &subscription.auth, &call.body)
        .ok_or(bad("the body does not open with the subscription's keys"))?;
    let payload = serde_json::from_slice(&opened)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&opened).into_owned()));
    Ok(json!({
        "payload": payload,
        "ttl": ttl,
        "urgency": urgency,
        "topic": topic,
        "audience": verified.audience,
        "subject": verified.subject,
        "p256dh": subscription.public,
        "received_at": now.unix_timestamp_nanos() as f64 / 1e6,
    }))
}
