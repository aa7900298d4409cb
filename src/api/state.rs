//! What a function builds once per container and shares with every invocation.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::Function;
use super::errors::ApiError;
use crate::acs::identity::AccessToken;
use crate::acs::{AcsError, AcsHttp, BearerToken, ChatClient, IdentityClient, ThreadId, UserId};
use crate::config::{Config, ConfigError};
use crate::realtime::RealtimeSecret;
use crate::realtime::entra::Entra;
use crate::realtime::publish::{Publisher, Sent};
use crate::secrets::SecretStore;

/// Why a function could not start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Acs(#[from] AcsError),
}

/// Everything built once per container and shared by every invocation.
#[derive(Debug)]
pub struct AppState {
    pub config: Config,
    /// `None` in the page function, which never calls ACS: building the client loads the
    /// certificate store, the largest part of a function's start-up.
    http: Option<AcsHttp>,
    chat: Option<ChatClient>,
    secrets: Option<SecretStore>,
    /// Trusted mode: tokens minted per user, reused while they have life left.
    minted: Mutex<HashMap<UserId, AccessToken>>,
    /// When this container last forwarded a typing notification, per user and thread.
    typing: Mutex<HashMap<(UserId, ThreadId), Instant>>,
    /// The real-time channel, in the functions that publish or authorize on it, when
    /// `REALTIME_SECRET_ID` is set.
    pub realtime: Option<Realtime>,
}

/// What the functions on the real-time path hold: the secret, the publisher (not in the
/// authorizer) and what this container has already published.
#[derive(Debug)]
pub struct Realtime {
    pub secret: SecretStore<RealtimeSecret>,
    pub publisher: Option<Publisher>,
    pub sent: Sent,
    /// Deliveries must also carry an Entra ID token, when configured.
    pub entra: Option<Entra>,
}

impl Realtime {
    /// From `REALTIME_SECRET_ID`, `REALTIME_PUBLISH_URL`, `REALTIME_CONNECT_ADDR` and the
    /// optional `REALTIME_ENTRA_*`; `None` without the secret.
    pub fn from_env(publishes: bool) -> Result<Option<Self>, ConfigError> {
        let lookup = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(secret_id) = lookup("REALTIME_SECRET_ID") else {
            return Ok(None);
        };
        let publisher = if publishes {
            crate::realtime::publish::from_lookup(lookup)?
        } else {
            None
        };
        Ok(Some(Self {
            secret: SecretStore::reading(
                crate::secrets::client_from_env()?,
                secret_id,
                crate::realtime::parse_secret,
            ),
            publisher,
            sent: Sent::default(),
            entra: Entra::from_lookup(lookup)?,
        }))
    }
}

impl AppState {
    /// Builds the state from the environment; the secret is fetched later, on first use.
    pub fn init(function: Function, config: Config) -> Result<Self, InitError> {
        if function == Function::Page {
            return Ok(Self::built(config, None, None));
        }
        let realtime = match function {
            Function::AcsEvents | Function::SendTyping => Realtime::from_env(true)?,
            _ => None,
        };
        if function == Function::AcsEvents {
            return Ok(Self::built(config, None, None).with_realtime(realtime));
        }
        let secrets = if function.needs_admin_key(config.auth_mode) {
            let secret_id = config
                .secret_id
                .clone()
                .ok_or(ConfigError::Missing("ACS_SECRET_ID"))?;
            Some(SecretStore::from_env(secret_id)?)
        } else {
            None
        };
        let needs_acs = function != Function::CreateUsers;
        if needs_acs && config.acs_endpoint.is_none() {
            return Err(ConfigError::Missing("ACS_ENDPOINT").into());
        }
        Ok(Self::new(config, secrets)?.with_realtime(realtime))
    }

    /// Builds the state with a secret store made by the caller (tests point it at moto).
    pub fn new(config: Config, secrets: Option<SecretStore>) -> Result<Self, InitError> {
        let http = AcsHttp::new(config.retry.clone())?;
        Ok(Self::built(config, Some(http), secrets))
    }

    /// The same state on the real-time path.
    pub fn with_realtime(self, realtime: Option<Realtime>) -> Self {
        Self { realtime, ..self }
    }

    fn built(config: Config, http: Option<AcsHttp>, secrets: Option<SecretStore>) -> Self {
        let chat = http.clone().and_then(|http| {
            let endpoint = config.acs_endpoint.clone()?;
            Some(ChatClient::new(http, endpoint))
        });
        Self {
            config,
            http,
            chat,
            secrets,
            minted: Mutex::default(),
            typing: Mutex::default(),
            realtime: None,
        }
    }

    /// The chat client, on the configured ACS endpoint.
    pub fn chat(&self) -> Result<&ChatClient, ApiError> {
        self.chat
            .as_ref()
            .ok_or(ApiError::Misconfigured("ACS_ENDPOINT is not set"))
    }

    fn secrets(&self) -> Result<&SecretStore, ApiError> {
        self.secrets
            .as_ref()
            .ok_or(ApiError::Misconfigured("ACS_SECRET_ID is not set"))
    }

    fn minted(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, AccessToken>> {
        // Nothing panics while holding it, so a poisoned map is still consistent.
        self.minted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A token minted earlier for `user_id` that is still valid at `valid_at`.
    pub(crate) fn minted_token(
        &self,
        user_id: &UserId,
        valid_at: OffsetDateTime,
    ) -> Option<BearerToken> {
        self.minted()
            .get(user_id)
            .filter(|token| token.expires_on > valid_at)
            .map(|token| token.token.clone())
    }

    /// Keeps a minted token for reuse by later requests in this container.
    pub(crate) fn keep_minted_token(&self, user_id: &UserId, token: &AccessToken) {
        self.minted().insert(user_id.clone(), token.clone());
    }

    /// Whether a typing notification from `user` in `thread` is due, `interval` after the last
    /// one this container forwarded; if so, it counts as forwarded now.
    pub(crate) fn typing_due(&self, user: &UserId, thread: &ThreadId, interval: Duration) -> bool {
        let now = Instant::now();
        let mut typing = self
            .typing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        typing.retain(|_, at| now.duration_since(*at) < interval);
        let key = (user.clone(), thread.clone());
        if typing.contains_key(&key) {
            return false;
        }
        typing.insert(key, now);
        true
    }

    /// The trusted-mode service identity from the secret, if it names one.
    pub(crate) async fn service_user_id(&self) -> Result<Option<UserId>, ApiError> {
        Ok(self.secrets()?.get().await?.service_user_id.clone())
    }

    /// Runs `op` with an identity client holding the admin key. If ACS refuses the key, the
    /// secret may have been rotated: fetch it again, once, and retry.
    pub async fn with_identity<T, F, Fut>(&self, op: F) -> Result<T, ApiError>
    where
        F: Fn(IdentityClient) -> Fut,
        Fut: Future<Output = Result<T, AcsError>>,
    {
        let http = self
            .http
            .as_ref()
            .ok_or(ApiError::Misconfigured("this function does not call ACS"))?;
        let secrets = self.secrets()?;
        let secret = secrets.get().await?;
        match op(IdentityClient::new(http.clone(), &secret.connection)).await {
            Err(AcsError::Unauthorized(_)) => {
                tracing::warn!("ACS refused the admin key; fetching the secret again");
                let secret = secrets.refresh().await?;
                op(IdentityClient::new(http.clone(), &secret.connection))
                    .await
                    .map_err(ApiError::AdminAcs)
            }
            other => other.map_err(ApiError::AdminAcs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Auth, Caller};

    const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.token-text-that-must-not-show.c2ln";
    const AWS_SECRET: &str = "aws-secret-that-must-not-show";

    #[test]
    fn formatting_state_callers_and_errors_never_shows_a_token_or_a_key() {
        let config = Config::from_lookup(|name| match name {
            "ACS_ENDPOINT" => Some("https://x.communication.azure.com".into()),
            "ACS_SECRET_ID" => Some("acs-secret".into()),
            _ => None,
        })
        .unwrap();
        let secrets = SecretStore::from_lookup("acs-secret".into(), |name| match name {
            "AWS_REGION" => Some("us-east-1".into()),
            "AWS_ACCESS_KEY_ID" => Some("AKIDEXAMPLE".into()),
            "AWS_SECRET_ACCESS_KEY" => Some(AWS_SECRET.into()),
            _ => None,
        })
        .unwrap();
        let state = AppState::new(config, Some(secrets)).unwrap();
        let user = UserId::parse("8:acs:res_alice").unwrap();
        let minted = AccessToken {
            token: BearerToken::new(TOKEN),
            expires_on: OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        state.keep_minted_token(&user, &minted);
        let caller = Caller {
            user_id: user.clone(),
            token: BearerToken::new(TOKEN),
            auth: Auth::Bearer,
        };
        let errors = [
            ApiError::InvalidToken,
            ApiError::TokenExpired,
            ApiError::Acs(AcsError::from_response(401, b"", None)),
            ApiError::AdminAcs(AcsError::Unauthorized(Default::default())),
        ];
        let mut shown = vec![
            format!("{state:?}"),
            format!("{state:#?}"),
            format!("{caller:?}"),
            format!("{minted:?}"),
        ];
        shown.extend(
            errors
                .iter()
                .flat_map(|e| [format!("{e:?}"), e.to_string()]),
        );
        for text in &shown {
            assert!(!text.contains("token-text-that-must-not-show"), "{text}");
            assert!(!text.contains(AWS_SECRET), "{text}");
        }
        assert!(
            shown[0].contains("REDACTED"),
            "the minted token is there, redacted"
        );
        let held = state
            .minted_token(&user, OffsetDateTime::now_utc())
            .unwrap();
        assert_eq!(held.expose(), TOKEN);
    }

    #[test]
    fn the_page_function_starts_without_an_acs_client_and_says_so_if_asked_for_one() {
        let config = Config::from_lookup(|name| {
            (name == "ACS_ENDPOINT").then(|| "https://x.communication.azure.com".into())
        })
        .unwrap();
        let state = AppState::init(Function::Page, config).unwrap();
        assert!(state.http.is_none() && state.chat.is_none() && state.secrets.is_none());
        assert!(matches!(state.chat(), Err(ApiError::Misconfigured(_))));
    }
}
