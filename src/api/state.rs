//! What a function builds once per container and shares with every invocation: only what its
//! endpoint needs ([`Needs`]), so a function that never calls ACS never loads the certificate
//! store, and one that never reads a secret has no Secrets Manager client.

use std::future::Future;

use super::errors::ApiError;
use super::spec::Needs;
use crate::acs::{AcsError, AcsHttp, BearerToken, ChatClient, IdentityClient, ThreadId, UserId};
use crate::admin::Admin;
use crate::chat::typing::TypingThrottle;
use crate::config::{Config, ConfigError};
use crate::files::Files;
use crate::jwt::{Claims, KeySet, Rules};
use crate::people::People;
use crate::push::sender::Pusher;
use crate::realtime::{Realtime, Role};
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
    chat: Option<ChatClient>,
    /// ACS Identity with the admin key, in the functions that read it.
    admin: Option<Admin>,
    /// When this container last forwarded a typing notification, per user and thread.
    pub typing: TypingThrottle,
    /// The real-time channel, in the functions on the real-time path, when
    /// `REALTIME_PUBLISH_KEY_SECRET_ID` is set.
    pub realtime: Option<Realtime>,
    /// The identity provider's keys and what its tokens must say, where they are checked.
    identity_provider: Option<(KeySet, Rules)>,
    /// The people table, in the functions that use it, when `PEOPLE_TABLE` is set.
    people: Option<People>,
    /// The files' bucket, in the functions that sign or remove files, when `FILES_BUCKET` is
    /// set.
    files: Option<Files>,
    /// The Web Push sender, in the function on the events path, when `PUSH_VAPID_SECRET_ID`
    /// is set.
    pusher: Option<Pusher>,
}

/// What an ID or access token of the identity provider may be (Cognito writes `token_use`).
const TOKEN_USES: &[&str] = &["id", "access"];

impl AppState {
    /// Builds what `needs` asks for from `config`; secrets are fetched later, on first use.
    /// Always inlined: each function calls it once, with its endpoint's needs a constant, so
    /// that what it does not need is compiled out of its binary (the page links no HTTP
    /// client, no TLS and no SDK).
    #[inline(always)]
    pub fn init(needs: Needs, config: Config) -> Result<Self, InitError> {
        let reads_admin_key = needs.reads_admin_key(config.auth_mode);
        let people_table = config.people_table.clone().filter(|_| needs.people);
        let identity_provider = config
            .identity_provider
            .clone()
            .filter(|_| needs.identity_provider);
        let files_settings = config.files.clone().filter(|_| needs.files);
        let pushes = needs.pushes
            && config
                .push
                .as_ref()
                .is_some_and(|push| push.vapid_secret_id.is_some());
        let calls_out = pushes
            || needs.chat
            || files_settings.is_some()
            || reads_admin_key
            || needs.realtime()
            || people_table.is_some()
            || identity_provider.is_some();
        // None in a function that makes no call at all (the page): building the client loads
        // the certificate store, the largest part of a function's start-up.
        let http = calls_out.then(|| http_client(&config)).transpose()?;
        let sdk = match (
            &http,
            reads_admin_key || needs.realtime() || people_table.is_some() || pushes,
        ) {
            (Some(http), true) => Some(crate::aws::sdk_config(config.aws()?, http.client())),
            _ => None,
        };
        let secrets_client = || {
            let endpoint = config.aws()?.secrets_manager_endpoint.as_deref();
            let sdk = sdk.as_ref().ok_or(ConfigError::Missing("AWS_REGION"))?;
            Ok::<_, ConfigError>(crate::secrets::client(sdk, endpoint))
        };
        let admin = match (&http, reads_admin_key) {
            (Some(http), true) => {
                let secret_id = config
                    .secret_id
                    .clone()
                    .ok_or(ConfigError::Missing("ACS_SECRET_ID"))?;
                let secret = SecretStore::admin(secrets_client()?, secret_id);
                Some(Admin::new(http.clone(), secret))
            }
            _ => None,
        };
        let chat = match (&http, needs.chat) {
            (Some(http), true) => {
                let endpoint = config
                    .acs_endpoint
                    .clone()
                    .ok_or(ConfigError::Missing("ACS_ENDPOINT"))?;
                Some(ChatClient::new(http.clone(), endpoint))
            }
            _ => None,
        };
        let realtime = match &http {
            Some(http) if needs.realtime() && config.realtime.publish_key_secret_id.is_some() => {
                let role = Role {
                    publishes: needs.publishes,
                    webhook: needs.webhook,
                };
                Realtime::new(role, &config.realtime, &secrets_client()?, http.client())?
            }
            _ => None,
        };
        let people = match (people_table, &sdk) {
            (Some(table), Some(sdk)) => {
                let endpoint = config.aws()?.dynamodb_endpoint.as_deref();
                Some(People::new(crate::people::client(sdk, endpoint), table))
            }
            _ => None,
        };
        let identity_provider = match (identity_provider, &http) {
            (Some(settings), Some(http)) => Some((
                KeySet::new(settings.jwks_url, http.client().clone()),
                Rules {
                    issuers: vec![settings.issuer],
                    audience: settings.audience,
                    uses: TOKEN_USES,
                },
            )),
            _ => None,
        };
        let files = match (files_settings, &http) {
            (Some(settings), Some(http)) => {
                Some(Files::new(http.client().clone(), &settings, config.aws()?))
            }
            _ => None,
        };
        let pusher = match (&config.push, &http) {
            (Some(settings), Some(http)) if pushes => {
                Pusher::new(http.client().clone(), secrets_client()?, settings)
            }
            _ => None,
        };
        Ok(Self {
            config,
            chat,
            admin,
            typing: TypingThrottle::default(),
            realtime,
            identity_provider,
            people,
            files,
            pusher,
        })
    }

    /// The Web Push sender, where this deployment pushes.
    pub fn pusher(&self) -> Option<&Pusher> {
        self.pusher.as_ref()
    }

    /// The deployment's Web Push settings, for an endpoint that takes subscriptions.
    pub fn push_settings(&self) -> Result<&crate::push::PushSettings, ApiError> {
        self.config
            .push
            .as_ref()
            .ok_or(ApiError::Misconfigured("PUSH_PUBLIC_KEY is not set"))
    }

    /// Checks a token of the identity provider's, from an `Authorization` header.
    pub async fn verify_identity(&self, authorization: Option<&str>) -> Result<Claims, ApiError> {
        let (keys, rules) = self
            .identity_provider
            .as_ref()
            .ok_or(ApiError::Misconfigured(
                "IDP_ISSUER and IDP_AUDIENCE are not set",
            ))?;
        let token = crate::jwt::bearer(authorization).map_err(ApiError::Identity)?;
        keys.verify(token, rules).await.map_err(ApiError::Identity)
    }

    /// The people table.
    pub fn people(&self) -> Result<&People, ApiError> {
        self.people
            .as_ref()
            .ok_or(ApiError::Misconfigured("PEOPLE_TABLE is not set"))
    }

    /// The people table, once ACS has shown that the caller is in `thread` (one call with their
    /// token): nobody keeps anything in the table about a thread that is not theirs.
    pub async fn people_as_member(
        &self,
        token: &BearerToken,
        thread: &ThreadId,
    ) -> Result<&People, ApiError> {
        let people = self.people()?;
        self.chat()?.probe_participants(token, thread).await?;
        Ok(people)
    }

    /// The files' bucket.
    pub fn files(&self) -> Result<&Files, ApiError> {
        self.files
            .as_ref()
            .ok_or(ApiError::Misconfigured("FILES_BUCKET is not set"))
    }

    /// The files' bucket, where this deployment takes files.
    pub fn files_if_kept(&self) -> Option<&Files> {
        self.files.as_ref()
    }

    /// The people table, where this deployment keeps one.
    pub fn people_if_kept(&self) -> Option<&People> {
        self.people.as_ref()
    }

    /// The chat client, on the configured ACS endpoint.
    pub fn chat(&self) -> Result<&ChatClient, ApiError> {
        self.chat
            .as_ref()
            .ok_or(ApiError::Misconfigured("ACS_ENDPOINT is not set"))
    }

    /// ACS Identity with the admin key.
    pub fn admin(&self) -> Result<&Admin, ApiError> {
        self.admin
            .as_ref()
            .ok_or(ApiError::Misconfigured("ACS_SECRET_ID is not set"))
    }

    fn secrets(&self) -> Result<&SecretStore, ApiError> {
        Ok(self.admin()?.secret())
    }

    /// The real-time channel, where the function publishes or takes deliveries.
    pub fn realtime(&self) -> Result<&Realtime, ApiError> {
        self.realtime.as_ref().ok_or(ApiError::Misconfigured(
            "REALTIME_PUBLISH_KEY_SECRET_ID is not set",
        ))
    }

    /// The trusted-mode service identity from the secret, if it names one.
    pub(crate) async fn service_user_id(&self) -> Result<Option<UserId>, ApiError> {
        Ok(self.secrets()?.get().await?.service_user_id.clone())
    }

    /// Runs `op` with an identity client holding the admin key (see [`Admin::with_identity`]).
    pub async fn with_identity<T, F, Fut>(&self, op: F) -> Result<T, ApiError>
    where
        F: Fn(IdentityClient) -> Fut,
        Fut: Future<Output = Result<T, AcsError>>,
    {
        Ok(self.admin()?.with_identity(op).await?)
    }
}

/// The container's one HTTP client, with ACS's retry policy. On the local stack, the real-time
/// service's host name is reached at `REALTIME_CONNECT_ADDR`, as it is not in DNS.
fn http_client(config: &Config) -> Result<AcsHttp, InitError> {
    let realtime = &config.realtime;
    let resolve = match (&realtime.publish_url, realtime.connect_addr) {
        (Some(url), Some(addr)) => url.host_str().map(|host| (host, addr)),
        _ => None,
    };
    Ok(AcsHttp::trusting(
        config.retry.clone(),
        resolve,
        config.extra_roots_pem.as_deref(),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Auth, Caller};

    const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.token-text-that-must-not-show.c2ln";
    const AWS_SECRET: &str = "aws-secret-that-must-not-show";

    fn config(pairs: &[(&str, &str)]) -> Config {
        Config::from_lookup(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
        .unwrap()
    }

    #[test]
    fn formatting_state_callers_and_errors_never_shows_a_token_or_a_key() {
        let config = config(&[
            ("ACS_ENDPOINT", "https://x.communication.azure.com"),
            ("ACS_SECRET_ID", "acs-secret"),
            ("REALTIME_PUBLISH_KEY_SECRET_ID", "publish-key"),
            ("REALTIME_WEBHOOK_SECRET_ID", "webhook-secret"),
            (
                "REALTIME_PUBLISH_URL",
                "https://x.appsync-api.us-east-1.amazonaws.com/event",
            ),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
        ]);
        let state = AppState::init(Needs::EVERYTHING, config).unwrap();
        let user = UserId::parse("8:acs:res_alice").unwrap();
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
    }

    #[test]
    fn a_function_that_needs_nothing_starts_without_an_http_client_and_says_so_if_asked() {
        let config = config(&[("ACS_ENDPOINT", "https://x.communication.azure.com")]);
        let state = AppState::init(Needs::NOTHING, config).unwrap();
        // Nothing built means no HTTP client: each part that calls out holds it.
        assert!(state.chat.is_none() && state.admin.is_none() && state.realtime.is_none());
        assert!(matches!(state.chat(), Err(ApiError::Misconfigured(_))));
    }

    #[test]
    fn a_function_is_refused_at_start_without_the_settings_its_needs_name() {
        let chat = config(&[]);
        assert!(matches!(
            AppState::init(Needs::CHAT, chat),
            Err(InitError::Config(ConfigError::Missing("ACS_ENDPOINT")))
        ));
        let issuer = Needs {
            admin_key: crate::api::AdminKey::Always,
            ..Needs::NOTHING
        };
        let without_aws = config(&[("ACS_SECRET_ID", "s")]);
        assert!(matches!(
            AppState::init(issuer, without_aws),
            Err(InitError::Config(ConfigError::Missing(_)))
        ));
    }
}
