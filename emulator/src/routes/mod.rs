//! From an HTTP request to a store call and back: the one route table, faults, and the
//! `/_emulator` control routes tests use.
//!
//! Hand-written on hyper rather than on axum's `Router`: faults must act before a route runs
//! and a dropped connection must reach hyper as an error, which a plain function does in a few
//! lines where axum would need middleware and a service wrapper, and axum 0.8 would refuse the
//! `:add`-style segments ACS uses without a compatibility switch.

mod chat;
mod control;
mod identity;
pub mod request;

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use hyper::body::Incoming;
use hyper::{Request, StatusCode};

use crate::failure::Failure;
use crate::faults::{FaultKind, Faults};
use crate::limits::Limits;
use crate::lock::lock;
use crate::reply::{self, Reply};
use crate::route::{Route, RouteName};
use crate::store::Store;
pub use request::Call;
use request::Undecodable;

/// Everything a request handler needs.
pub struct Shared {
    pub store: Mutex<Store>,
    pub faults: Faults,
    pub limits: Limits,
    /// The latest calls, oldest first, at most [`JOURNAL_LENGTH`].
    pub journal: Mutex<VecDeque<Served>>,
    /// `http` or `https`, for the absolute links ACS hands out.
    pub scheme: &'static str,
    /// Where changes go out as Event Grid deliveries.
    pub events: std::sync::Arc<crate::eventgrid::EventGrid>,
    /// The stand-in push service.
    pub push: crate::push::PushService,
}

impl Shared {
    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// Counts a call against ACS's rate limits (when they are on), or refuses it.
    fn admit(&self, route: &Route<'_>, caller: &str) -> Result<(), Failure> {
        self.limits
            .admit(route, caller)
            .map_err(|wait| Failure::Throttled(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)))
    }
}

/// How many calls the journal keeps, so that a long-lived emulator does not grow without end.
pub const JOURNAL_LENGTH: usize = 10_000;

/// One ACS call as the emulator served it, to follow a request from the caller's logs to here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub route: &'static str,
    pub status: u16,
    /// The caller's `x-ms-client-request-id`, echoed in the answer as ACS does.
    pub client_request_id: Option<String>,
    /// The correlation vector ACS puts on every answer (`MS-CV`).
    pub ms_cv: String,
}

/// A fault asked the connection to be dropped; hyper closes it without an answer.
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a fault")
    }
}

impl std::error::Error for Dropped {}

/// Serves one request.
pub async fn handle(shared: &Shared, request: Request<Incoming>) -> Result<Reply, Dropped> {
    let call = match Call::read(request).await {
        Ok(call) => call,
        Err(Undecodable::TooLarge) => {
            return Ok(reply::spec_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                "The request body is too large.",
            ));
        }
        Err(Undecodable::BadPath) => {
            return Ok(reply::pascal_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "Bad path encoding.",
            ));
        }
    };
    if call.segments.first().is_some_and(|s| s == "_emulator") {
        return Ok(control::serve(shared, &call).await);
    }
    if let (&hyper::Method::POST, [push, id]) = (&call.method, call.segments.as_slice())
        && push == "push"
    {
        return Ok(shared.push.push(&call, shared.scheme, id));
    }
    let route = Route::parse(&call.method, &call.segments);
    let label = route.map_or("unknown", |r| r.label());
    let mut response = match route {
        Some(route) => serve(shared, &call, route).await?,
        None => reply::pascal_error(StatusCode::NOT_FOUND, "NotFound", "No such route."),
    };
    let client_request_id = call.header("x-ms-client-request-id").map(str::to_owned);
    if let Some(id) = client_request_id.as_deref().and_then(|id| id.parse().ok()) {
        response.headers_mut().insert("x-ms-client-request-id", id);
    }
    let ms_cv = correlation_vector();
    if let Ok(value) = ms_cv.parse() {
        response.headers_mut().insert("ms-cv", value);
    }
    let served = Served {
        route: label,
        status: response.status().as_u16(),
        client_request_id,
        ms_cv,
    };
    tracing::info!(?served, "served");
    let mut journal = lock(&shared.journal);
    if journal.len() == JOURNAL_LENGTH {
        journal.pop_front();
    }
    journal.push_back(served);
    Ok(response)
}

/// A fresh correlation vector in ACS's form: 22 base64 characters and a `.0` step.
fn correlation_vector() -> String {
    use base64::Engine as _;
    let raw = uuid::Uuid::new_v4();
    let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(raw.as_bytes());
    format!("{encoded}.0")
}

async fn serve(shared: &Shared, call: &Call, route: Route<'_>) -> Result<Reply, Dropped> {
    let caller = call
        .bearer()
        .and_then(|token| shared.store().authenticate(token).ok());
    let fault = shared
        .faults
        .on_request(RouteName::of(&route), caller.as_deref());
    match fault {
        Some(FaultKind::Drop) => return Err(Dropped),
        Some(FaultKind::Status {
            status,
            retry_after,
        }) => return Ok(reply::injected(status, retry_after)),
        Some(FaultKind::Latency { millis }) => {
            tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
        }
        Some(FaultKind::CommitThenDrop) | None => {}
    }
    let reply = answer(shared, call, route);
    if fault == Some(FaultKind::CommitThenDrop) {
        // The change is made; the caller never hears of it.
        return Err(Dropped);
    }
    Ok(reply)
}

fn answer(shared: &Shared, call: &Call, route: Route<'_>) -> Reply {
    if !call.query.contains_key("api-version") {
        return reply::spec_error(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        );
    }
    let outcome = if route.is_identity() {
        identity::serve(shared, call, route)
    } else {
        chat::serve(shared, call, route)
    };
    outcome.unwrap_or_else(|failure| reply::failure(&failure))
}
