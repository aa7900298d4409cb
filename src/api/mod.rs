//! The HTTP edge: the functions, the dispatch that binaries hand to `lambda_http`, and one
//! module per endpoint. Each endpoint parses its request into a typed value (pure, unit-tested
//! without ACS), authenticates the caller that value names, then acts with that caller.

pub mod acs_events;
mod caller;
pub mod errors;
pub mod idempotency;
mod input;
pub mod logging;
pub mod messages;
pub mod metrics;
mod state;

pub mod add_user;
pub mod create_thread;
pub mod create_users;
pub mod delete_message;
pub mod delete_thread;
pub mod delete_user;
pub mod get_all_messages;
pub mod get_messages;
pub mod get_participants;
pub mod list_threads;
pub mod page;
pub mod realtime_auth;
pub mod refresh_token;
pub mod remove_user;
pub mod send_message;
pub mod send_typing;
pub mod update_message;
pub mod update_thread;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use lambda_http::http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::Value;
use tracing::Instrument;

pub use caller::{Auth, Caller, Who};
pub use errors::ApiError;
pub use state::{AppState, InitError, Realtime};

use crate::acs::http::{UpstreamTime, measure_upstream};
use crate::config::{AuthMode, Config};

/// The functions. Each binary, route, event folder and SAM `Binary` is named after one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    CreateUsers,
    CreateThread,
    AddUser,
    SendMessage,
    GetMessages,
    GetAllMessages,
    RefreshToken,
    DeleteUser,
    ListThreads,
    GetParticipants,
    RemoveUser,
    UpdateMessage,
    DeleteMessage,
    SendTyping,
    UpdateThread,
    DeleteThread,
    Page,
    AcsEvents,
}

impl Function {
    /// Every function: the original app's six in its README's order, then the rest of a
    /// chat's life, the page, and the Event Grid webhook.
    pub const ALL: [Function; 18] = [
        Self::CreateUsers,
        Self::CreateThread,
        Self::AddUser,
        Self::SendMessage,
        Self::GetMessages,
        Self::GetAllMessages,
        Self::RefreshToken,
        Self::DeleteUser,
        Self::ListThreads,
        Self::GetParticipants,
        Self::RemoveUser,
        Self::UpdateMessage,
        Self::DeleteMessage,
        Self::SendTyping,
        Self::UpdateThread,
        Self::DeleteThread,
        Self::Page,
        Self::AcsEvents,
    ];

    /// The binary name and route path segment.
    pub fn name(self) -> &'static str {
        match self {
            Self::CreateUsers => "create_users",
            Self::CreateThread => "create_thread",
            Self::AddUser => "add_user",
            Self::SendMessage => "send_message",
            Self::GetMessages => "get_messages",
            Self::GetAllMessages => "get_all_messages",
            Self::RefreshToken => "refresh_token",
            Self::DeleteUser => "delete_user",
            Self::ListThreads => "list_threads",
            Self::GetParticipants => "get_participants",
            Self::RemoveUser => "remove_user",
            Self::UpdateMessage => "update_message",
            Self::DeleteMessage => "delete_message",
            Self::SendTyping => "send_typing",
            Self::UpdateThread => "update_thread",
            Self::DeleteThread => "delete_thread",
            Self::Page => "page",
            Self::AcsEvents => "acs_events",
        }
    }

    /// The one method its route accepts.
    pub fn method(self) -> &'static str {
        match self {
            Self::GetMessages
            | Self::GetAllMessages
            | Self::ListThreads
            | Self::GetParticipants
            | Self::Page => "GET",
            _ => "POST",
        }
    }

    /// Whether it needs the admin key (the connection string) in this auth mode: the token
    /// issuer, and the two that act on an identity itself.
    pub fn needs_admin_key(self, mode: AuthMode) -> bool {
        matches!(
            self,
            Self::CreateUsers | Self::RefreshToken | Self::DeleteUser
        ) || mode == AuthMode::Trusted
    }
}

/// An endpoint that acts for a caller: what it reads from a request, who must be calling, and
/// what it does then. [`serve`] runs the three in order, so input is refused before any
/// credential is checked or ACS is called.
pub(crate) trait Endpoint: Sized {
    /// Reads and checks the request: pure, so every refusal is a plain unit test.
    fn parse(request: &Request) -> Result<Self, ApiError>;

    /// Who must be calling, as the parsed request names them.
    fn who(&self) -> Who<'_>;

    /// Does the work as `caller`; the JSON is the 200 answer.
    fn act(
        self,
        state: &AppState,
        caller: &Caller,
    ) -> impl Future<Output = Result<Answer, ApiError>> + Send;
}

/// A 200 answer's JSON, serialised once: a list of messages goes straight from its views to
/// text, with no `serde_json::Value` tree built in between.
pub struct Answer(String);

impl Answer {
    /// Serialises `body`. Plain structs of strings, numbers and options cannot fail to.
    pub fn of<T: serde::Serialize>(body: &T) -> Self {
        Self(serde_json::to_string(body).unwrap_or_default())
    }
}

impl From<Value> for Answer {
    fn from(value: Value) -> Self {
        Self(value.to_string())
    }
}

/// An endpoint's work, boxed: the dispatch holds one of sixteen, and a box keeps its future
/// small and its type shallow.
type Work<'a> = Pin<Box<dyn Future<Output = Result<Answer, ApiError>> + Send + 'a>>;

/// Parses, authenticates, acts.
fn serve<'a, E: Endpoint + Send + 'a>(state: &'a AppState, request: &'a Request) -> Work<'a> {
    Box::pin(async move {
        let input = E::parse(request)?;
        let caller = caller::authenticate(state, request, input.who()).await?;
        input.act(state, &caller).await
    })
}

/// How long a request took, and how much of that was waiting on ACS.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub total: Duration,
    pub upstream: UpstreamTime,
}

/// Serves one request for `function`: checks the method, runs the handler, and turns any
/// error into its JSON answer. Never fails: every outcome is a response.
pub async fn handle(state: &AppState, function: Function, request: Request) -> Response<Body> {
    handle_timed(state, function, request).await.0
}

/// The ids one request is known by, put on every log line of that request.
#[derive(Debug, Clone)]
pub struct RequestIds {
    /// API Gateway's, when the request came through it.
    pub api_gateway: Option<String>,
    /// Lambda's invocation id; also sent to ACS as `x-ms-client-request-id` on every call, so
    /// one id follows the request from our log to ACS's. Made up when not run by Lambda.
    pub lambda: String,
}

impl RequestIds {
    fn of(request: &Request) -> Self {
        let api_gateway = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
            _ => None,
        };
        let lambda = request
            .lambda_context_ref()
            .map(|context| context.request_id.clone())
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Self {
            api_gateway,
            lambda,
        }
    }
}

/// [`handle`], also reporting its timing and ids (logged per request; read by the benchmark
/// and the metrics).
pub async fn handle_timed(
    state: &AppState,
    function: Function,
    request: Request,
) -> (Response<Body>, Timing) {
    handle_traced(state, function, request).await.0
}

/// [`handle_timed`], also giving back the request's ids.
pub async fn handle_traced(
    state: &AppState,
    function: Function,
    request: Request,
) -> ((Response<Body>, Timing), RequestIds) {
    let ids = RequestIds::of(&request);
    let span = tracing::info_span!(
        "request",
        function = function.name(),
        request_id = ids.api_gateway.as_deref().unwrap_or_default(),
        lambda_request_id = %ids.lambda,
    );
    let started = Instant::now();
    let deadline = started + state.config.request_budget;
    let work = measure_upstream(
        Some(deadline),
        Some(ids.lambda.clone()),
        dispatch(state, function, request),
    );
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
    ((response, timing), ids)
}

async fn dispatch(state: &AppState, function: Function, request: Request) -> Response<Body> {
    let allow = function.method();
    let outcome = if request.method().as_str() != allow {
        Err(ApiError::MethodNotAllowed { allow })
    } else {
        match function {
            Function::Page => return page::respond(),
            Function::AcsEvents => Box::pin(acs_events::handle(state, &request)).await,
            Function::CreateUsers => Box::pin(create_users::handle(state)).await,
            Function::CreateThread => serve::<create_thread::CreateThread>(state, &request).await,
            Function::AddUser => serve::<add_user::AddUser>(state, &request).await,
            Function::SendMessage => serve::<send_message::SendMessage>(state, &request).await,
            Function::GetMessages => serve::<get_messages::GetMessages>(state, &request).await,
            Function::GetAllMessages => {
                serve::<get_all_messages::GetAllMessages>(state, &request).await
            }
            Function::RefreshToken => serve::<refresh_token::RefreshToken>(state, &request).await,
            Function::DeleteUser => serve::<delete_user::DeleteUser>(state, &request).await,
            Function::ListThreads => serve::<list_threads::ListThreads>(state, &request).await,
            Function::GetParticipants => {
                serve::<get_participants::GetParticipants>(state, &request).await
            }
            Function::RemoveUser => serve::<remove_user::RemoveUser>(state, &request).await,
            Function::UpdateMessage => {
                serve::<update_message::UpdateMessage>(state, &request).await
            }
            Function::DeleteMessage => {
                serve::<delete_message::DeleteMessage>(state, &request).await
            }
            Function::SendTyping => serve::<send_typing::SendTyping>(state, &request).await,
            Function::UpdateThread => serve::<update_thread::UpdateThread>(state, &request).await,
            Function::DeleteThread => serve::<delete_thread::DeleteThread>(state, &request).await,
        }
    };
    match outcome {
        Ok(Answer(body)) => errors::json_text(StatusCode::OK, body),
        Err(error) => error.into_response(),
    }
}

/// Runs `function` as a Lambda: logging, state built once, then the event loop, with one
/// metrics record per request.
pub async fn run(function: Function) -> Result<(), lambda_http::Error> {
    logging::init();
    let state = AppState::init(function, Config::from_env()?)?;
    lambda_http::run(lambda_http::service_fn(|request| {
        let state = &state;
        async move {
            let ((response, timing), ids) = handle_traced(state, function, request).await;
            let record = metrics::Record {
                namespace: &state.config.metrics_namespace,
                function,
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
