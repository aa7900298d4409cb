//! The HTTP edge: state built once per container, one handler per endpoint, and the dispatch
//! that binaries hand to `lambda_http`.

mod caller;
pub mod errors;
mod input;
pub mod messages;

pub mod add_user;
pub mod create_thread;
pub mod create_users;
pub mod get_all_messages;
pub mod get_messages;
pub mod send_message;

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

pub use errors::ApiError;

use crate::acs::http::{UpstreamTime, measure_upstream};
use crate::acs::identity::AccessToken;
use crate::acs::{AcsError, AcsHttp, ChatClient, IdentityClient};
use crate::config::{AuthMode, Config, ConfigError};
use crate::secrets::SecretStore;

/// The six functions. Each binary, route, event folder and SAM `Binary` is named after one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    CreateUsers,
    CreateThread,
    AddUser,
    SendMessage,
    GetMessages,
    GetAllMessages,
}

impl Function {
    /// Every function, in the order of the original app's README.
    pub const ALL: [Function; 6] = [
        Self::CreateUsers,
        Self::CreateThread,
        Self::AddUser,
        Self::SendMessage,
        Self::GetMessages,
        Self::GetAllMessages,
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
        }
    }

    /// The one method its route accepts.
    pub fn method(self) -> &'static str {
        match self {
            Self::GetMessages | Self::GetAllMessages => "GET",
            _ => "POST",
        }
    }

    /// Whether it needs the admin key (the connection string) in this auth mode.
    pub fn needs_admin_key(self, mode: AuthMode) -> bool {
        self == Self::CreateUsers || mode == AuthMode::Trusted
    }
}

/// Why a function could not start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Acs(#[from] AcsError),
}

/// Everything built once per container and shared by every invocation.
pub struct AppState {
    pub config: Config,
    http: AcsHttp,
    chat: Option<ChatClient>,
    secrets: Option<SecretStore>,
    /// Trusted mode: tokens minted per user, reused while they have life left.
    minted: Mutex<HashMap<String, AccessToken>>,
}

impl AppState {
    /// Builds the state from the environment; the secret is fetched later, on first use.
    pub async fn init(function: Function, config: Config) -> Result<Self, InitError> {
        let secrets = if function.needs_admin_key(config.auth_mode) {
            let secret_id = config
                .secret_id
                .clone()
                .ok_or(ConfigError::Missing("ACS_SECRET_ID"))?;
            Some(SecretStore::from_env(secret_id)?)
        } else {
            None
        };
        if function != Function::CreateUsers && config.acs_endpoint.is_none() {
            return Err(ConfigError::Missing("ACS_ENDPOINT").into());
        }
        Self::new(config, secrets)
    }

    /// Builds the state with a secret store made by the caller (tests point it at moto).
    pub fn new(config: Config, secrets: Option<SecretStore>) -> Result<Self, InitError> {
        let http = AcsHttp::new(config.retry.clone())?;
        let chat = config
            .acs_endpoint
            .clone()
            .map(|endpoint| ChatClient::new(http.clone(), endpoint));
        Ok(Self {
            config,
            http,
            chat,
            secrets,
            minted: Mutex::default(),
        })
    }

    fn chat(&self) -> Result<&ChatClient, ApiError> {
        self.chat
            .as_ref()
            .ok_or(ApiError::Misconfigured("ACS_ENDPOINT is not set"))
    }

    fn secrets(&self) -> Result<&SecretStore, ApiError> {
        self.secrets
            .as_ref()
            .ok_or(ApiError::Misconfigured("ACS_SECRET_ID is not set"))
    }

    /// A token minted earlier for `user_id` that is still valid at `valid_at`.
    fn minted_token(&self, user_id: &str, valid_at: time::OffsetDateTime) -> Option<String> {
        let minted = self
            .minted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        minted
            .get(user_id)
            .filter(|token| token.expires_on > valid_at)
            .map(|token| token.token.clone())
    }

    /// Keeps a minted token for reuse by later requests in this container.
    fn keep_minted_token(&self, user_id: &str, token: &AccessToken) {
        let mut minted = self
            .minted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        minted.insert(user_id.to_owned(), token.clone());
    }

    /// The trusted-mode service identity from the secret, if it names one.
    async fn service_user_id(&self) -> Result<Option<String>, ApiError> {
        Ok(self.secrets()?.get().await?.service_user_id.clone())
    }

    /// Runs `op` with an identity client holding the admin key. If ACS refuses the key, the
    /// secret may have been rotated: fetch it again, once, and retry.
    pub async fn with_identity<T, F, Fut>(&self, op: F) -> Result<T, ApiError>
    where
        F: Fn(IdentityClient) -> Fut,
        Fut: Future<Output = Result<T, AcsError>>,
    {
        let secrets = self.secrets()?;
        let secret = secrets.get().await?;
        match op(IdentityClient::new(self.http.clone(), &secret.connection)).await {
            Err(AcsError::Unauthorized(_)) => {
                tracing::warn!("ACS refused the admin key; fetching the secret again");
                let secret = secrets.refresh().await?;
                op(IdentityClient::new(self.http.clone(), &secret.connection))
                    .await
                    .map_err(ApiError::AdminAcs)
            }
            other => other.map_err(ApiError::AdminAcs),
        }
    }
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

/// [`handle`], also reporting its timing (logged per request; read by the benchmark).
pub async fn handle_timed(
    state: &AppState,
    function: Function,
    request: Request,
) -> (Response<Body>, Timing) {
    let started = Instant::now();
    let deadline = started + state.config.request_budget;
    let (response, upstream) =
        measure_upstream(Some(deadline), dispatch(state, function, request)).await;
    let timing = Timing {
        total: started.elapsed(),
        upstream,
    };
    tracing::info!(
        function = function.name(),
        status = response.status().as_u16(),
        total_ms = timing.total.as_secs_f64() * 1e3,
        upstream_ms = upstream.waited.as_secs_f64() * 1e3,
        acs_attempts = upstream.attempts,
        "handled"
    );
    (response, timing)
}

async fn dispatch(state: &AppState, function: Function, request: Request) -> Response<Body> {
    let allow = function.method();
    let outcome = if request.method().as_str() != allow {
        Err(ApiError::MethodNotAllowed { allow })
    } else {
        match function {
            Function::CreateUsers => create_users::handle(state, &request).await,
            Function::CreateThread => create_thread::handle(state, &request).await,
            Function::AddUser => add_user::handle(state, &request).await,
            Function::SendMessage => send_message::handle(state, &request).await,
            Function::GetMessages => get_messages::handle(state, &request).await,
            Function::GetAllMessages => get_all_messages::handle(state, &request).await,
        }
    };
    outcome.unwrap_or_else(ApiError::into_response)
}

/// JSON log lines on stderr (CloudWatch takes them as they are), at `AWS_LAMBDA_LOG_LEVEL` or
/// `RUST_LOG` (a plain level: error, warn, info, debug, trace), info by default.
fn init_logging() {
    let level = ["AWS_LAMBDA_LOG_LEVEL", "RUST_LOG"]
        .iter()
        .find_map(|name| std::env::var(name).ok()?.to_ascii_lowercase().parse().ok())
        .unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_current_span(false)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
}

/// A 200 JSON answer.
pub(crate) fn ok(body: &serde_json::Value) -> Result<Response<Body>, ApiError> {
    Ok(errors::json_response(StatusCode::OK, body))
}

/// Runs `function` as a Lambda: logging, state built once, then the event loop.
pub async fn run(function: Function) -> Result<(), lambda_http::Error> {
    init_logging();
    let state = AppState::init(function, Config::from_env()?).await?;
    lambda_http::run(lambda_http::service_fn(|request| {
        let state = &state;
        async move { Ok::<_, Infallible>(handle(state, function, request).await) }
    }))
    .await
}
