//! What a function builds once per container and shares with every invocation: only what its
//! endpoint's parts and caller need ([`Needs`]), so a function that never calls ACS never loads the certificate
//! store, and one that never reads a secret has no Secrets Manager client.

use super::errors::ApiError;
use super::spec::Needs;
use crate::acs::{AcsError, AcsHttp, ChatClient};
use crate::admin::Admin;
use crate::chat::typing::TypingThrottle;
use crate::config::{Config, ConfigError};
use crate::files::Files;
use crate::jwt::{Claims, KeySet, Rules};
use crate::people::People;
use crate::push::sender::Pusher;
use crate::realtime::{Realtime, Role};
use crate::seal::{ClientTokens, Sealer};
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
    pub(super) chat: Option<ChatClient>,
    /// ACS Identity with the admin key, in the functions that read it.
    pub(super) admin: Option<Admin>,
    /// When this container last forwarded a typing notification, per user and thread.
    pub(super) typing: TypingThrottle,
    /// The real-time channel, in the functions on the real-time path, when
    /// `REALTIME_PUBLISH_KEY_SECRET_ID` is set.
    pub(super) realtime: Option<Realtime>,
    /// The identity provider's keys and what its tokens must say, where they are checked.
    pub(super) identity_provider: Option<(KeySet, Rules)>,
    /// The people table, in the functions that use it, when `PEOPLE_TABLE` is set.
    pub(super) people: Option<People>,
    /// The files' bucket, in the functions that sign or remove files, when `FILES_BUCKET` is
    /// set.
    pub(super) files: Option<Files>,
    /// The Web Push sender, in the function on the events path, when `PUSH_VAPID_SECRET_ID`
    /// is set.
    pub(super) pusher: Option<Pusher>,
    /// The sealing keys, in the functions that open or make seals, in sealed mode.
    pub(super) sealer: Option<Sealer>,
}

/// What a state is built for: a [`Needs`] value, or a type that stands for a constant one.
pub trait Wanted {
    fn needs(self) -> Needs;
}

impl Wanted for Needs {
    fn needs(self) -> Needs {
        self
    }
}

/// What an ID or access token of the identity provider may be (Cognito writes `token_use`).
const TOKEN_USES: &[&str] = &["id", "access"];

impl AppState {
    /// Builds what `wanted` needs from `config`; secrets are fetched later, on first use.
    /// A function passes its endpoint's `NeedsOf`, a type, so that
    /// this is compiled for it with its needs a constant and what it does not need is left
    /// out of its binary (the page links no HTTP client, no TLS and no SDK); tests pass a
    /// [`Needs`] value.
    pub fn init(wanted: impl Wanted, config: Config) -> Result<Self, InitError> {
        let needs = wanted.needs();
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
        let seals = needs.seals && config.seal.client_tokens == ClientTokens::Sealed;
        let calls_out = pushes
            || seals
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
            reads_admin_key || needs.realtime() || people_table.is_some() || pushes || seals,
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
        let sealer = match &http {
            Some(_) if seals => {
                let secret_id = config
                    .seal
                    .secret_id
                    .clone()
                    .ok_or(ConfigError::Missing("SEAL_SECRET_ID"))?;
                // A seal is for the ACS resource its token is: another deployment's is refused.
                let audience = config
                    .acs_endpoint
                    .as_ref()
                    .ok_or(ConfigError::Missing("ACS_ENDPOINT"))?
                    .to_string();
                let keys =
                    SecretStore::reading(secrets_client()?, secret_id, crate::seal::parse_keys);
                Some(Sealer::new(keys, audience))
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
            sealer,
        })
    }

    /// ACS Identity with the admin key, where the function reads it.
    pub(super) fn admin(&self) -> Result<&Admin, ConfigError> {
        self.admin
            .as_ref()
            .ok_or(ConfigError::Missing("ACS_SECRET_ID"))
    }

    /// The identity provider's keys and rules, where the function checks its tokens.
    pub(super) fn identity_provider(&self) -> Result<&(KeySet, Rules), ConfigError> {
        self.identity_provider
            .as_ref()
            .ok_or(ConfigError::Missing("IDP_ISSUER"))
    }

    /// Checks a token of the identity provider's, from an `Authorization` header.
    pub async fn verify_identity(&self, authorization: Option<&str>) -> Result<Claims, ApiError> {
        let (keys, rules) = self.identity_provider()?;
        let token = crate::jwt::bearer(authorization).map_err(ApiError::Identity)?;
        keys.verify(token, rules).await.map_err(ApiError::Identity)
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
    use crate::acs::{BearerToken, UserId};
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
            ("SEAL_SECRET_ID", "seal-keys"),
        ]);
        let state = AppState::init(Needs::EVERYTHING, config).unwrap();
        let user = UserId::parse("8:acs:res_alice").unwrap();
        let caller = Caller {
            user_id: user.clone(),
            token: BearerToken::new(TOKEN),
            auth: Auth::Bearer,
            session_id: None,
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
        assert!(matches!(
            state.admin(),
            Err(ConfigError::Missing("ACS_SECRET_ID"))
        ));
    }

    #[test]
    fn a_function_is_refused_at_start_without_the_settings_its_needs_name() {
        let chat = config(&[]);
        assert!(matches!(
            AppState::init(
                Needs {
                    chat: true,
                    ..Needs::NOTHING
                },
                chat
            ),
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
