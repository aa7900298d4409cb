//! The shape every function has: an [`Endpoint`] type that names itself and what it needs
//! (its [`Spec`]), reads its request, checks who is calling, and acts; and the one generic path
//! ([`handle`], [`run`]) that serves it. A binary calls `run::<ItsEndpoint>()`, so it links that
//! endpoint alone.

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::time::Instant;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use tracing::Instrument;

use super::caller::Credential;
use super::errors::{self, ApiError};
use super::parts::Parts;
use super::spec::{Needs, Spec};
use super::state::{AppState, InitError, Wanted};
use super::telemetry::{RequestIds, Timing, logging, metrics};
use crate::acs::http::measure_upstream;
use crate::config::Config;

/// An HTTP endpoint: what it reads from a request, who must be calling, and what it does then.
/// [`handle`] runs the three in order, so input is refused before any credential is checked,
/// and a caller refused before ACS is called.
pub trait Endpoint: Sized + Send {
    const SPEC: Spec;

    /// What the caller proves: an ACS [`Caller`](super::Caller), or `()` where anyone may
    /// call.
    type Caller: Credential;

    /// What it acts with (the chat client, the people table, ...), taken from the state built
    /// at start; its needs are derived from it ([`needs_of`](super::parts::needs_of)).
    type Parts<'a>: Parts<'a>;

    /// Reads and checks the request: pure, so every refusal is a plain unit test.
    fn parse(request: &Request) -> Result<Self, ApiError>;

    /// Who the request says must be calling: pure too; [`Credential::check`] holds the
    /// request's credentials to it.
    fn who(&self) -> <Self::Caller as Credential>::Claim<'_>;

    /// Does the work as `caller`, with its parts.
    fn act(
        self,
        parts: Self::Parts<'_>,
        caller: Self::Caller,
    ) -> impl Future<Output = Result<Answer, ApiError>> + Send;
}

/// What `E` needs built: its parts' needs and its caller check's.
pub const fn needs_of<E: Endpoint>() -> Needs {
    <E::Parts<'static> as Parts<'static>>::NEEDS.and(<E::Caller as Credential>::NEEDS)
}

/// `E`'s needs as a type, so that the state is built with them a constant (see
/// [`AppState::init`]).
pub struct NeedsOf<E>(PhantomData<E>);

impl<E: Endpoint> Wanted for NeedsOf<E> {
    fn needs(self) -> Needs {
        const { needs_of::<E>() }
    }
}

/// Builds `E`'s state from `config` and takes its parts once, so that a setting it cannot do
/// without stops the container here, before any request.
pub fn start<E: Endpoint>(config: Config) -> Result<AppState, InitError> {
    let state = AppState::init(NeedsOf::<E>(PhantomData), config)?;
    E::Parts::take(&state)?;
    E::Caller::ready(&state)?;
    Ok(state)
}

/// The spec of an endpoint served at `/<name>`, inside its `impl Endpoint`:
/// `spec!("send_message", Post)`. Its needs are its parts' and its caller's.
macro_rules! spec {
    ($name:literal, $method:ident) => {
        $crate::api::spec::Spec {
            name: $name,
            routes: &[concat!("/", $name)],
            method: $crate::api::spec::Method::$method,
            needs: $crate::api::endpoint::needs_of::<Self>(),
        }
    };
}
pub(crate) use spec;

/// A 200 answer, serialised once: a list of messages goes straight from its views to text,
/// with no `serde_json::Value` tree built in between.
pub struct Answer(Response<Body>);

impl Answer {
    /// `body` as JSON.
    pub fn json<T: serde::Serialize>(body: &T) -> Result<Self, ApiError> {
        let text =
            serde_json::to_string(body).map_err(|e| ApiError::Unserialisable(e.to_string()))?;
        Ok(Self(errors::json_text(StatusCode::OK, text)))
    }

    /// A response made by the endpoint itself (the page).
    pub fn response(response: Response<Body>) -> Self {
        Self(response)
    }
}

impl From<Value> for Answer {
    fn from(value: Value) -> Self {
        Self(errors::json_text(StatusCode::OK, value.to_string()))
    }
}

/// Parses, checks who is calling, acts.
async fn serve<E: Endpoint>(state: &AppState, request: &Request) -> Result<Answer, ApiError> {
    let input = E::parse(request)?;
    let caller = E::Caller::check(state, request, input.who()).await?;
    input.act(E::Parts::take(state)?, caller).await
}

/// Serves one request for `E`, timed and traced: checks the method, runs the endpoint, and
/// turns any error into its JSON answer. Never fails: every outcome is a response.
pub async fn handle<E: Endpoint>(
    state: &AppState,
    request: Request,
) -> (Response<Body>, Timing, RequestIds) {
    let ids = RequestIds::of(&request);
    let span = tracing::info_span!(
        "request",
        function = E::SPEC.name,
        request_id = ids.api_gateway.as_deref().unwrap_or_default(),
        lambda_request_id = %ids.lambda,
    );
    let started = Instant::now();
    let deadline = started + state.config.request_budget;
    let work = async {
        let allow = E::SPEC.method.as_str();
        let outcome = if request.method().as_str() == allow {
            serve::<E>(state, &request).await
        } else {
            Err(ApiError::MethodNotAllowed { allow })
        };
        match outcome {
            Ok(Answer(response)) => response,
            Err(error) => error.into_response(),
        }
    };
    let work = measure_upstream(Some(deadline), Some(ids.lambda.clone()), work);
    let (response, upstream) = work.instrument(span.clone()).await;
    let timing = Timing {
        total: started.elapsed(),
        upstream,
    };
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            total_ms = timing.total.as_secs_f64() * 1e3,
            upstream_ms = upstream.waited.as_secs_f64() * 1e3,
            acs_attempts = upstream.attempts,
            "handled"
        )
    });
    (response, timing, ids)
}

/// Runs `E` as a Lambda function: logging, state built once, then the event loop, with one
/// metrics record per request.
pub async fn run<E: Endpoint>() -> Result<(), lambda_http::Error> {
    let config = Config::from_env()?;
    logging::init(config.log);
    let state = start::<E>(config)?;
    lambda_http::run(lambda_http::service_fn(|request| {
        let state = &state;
        async move {
            let (response, timing, ids) = handle::<E>(state, request).await;
            let record = metrics::Record {
                namespace: &state.config.metrics_namespace,
                function: E::SPEC.name,
                status: response.status().as_u16(),
                timing,
                ids: &ids,
            };
            println!("{}", record.emf(time::OffsetDateTime::now_utc()));
            Ok::<_, Infallible>(response)
        }
    }))
    .await
}
