//! The real-time API's Lambda authorizer. Not an HTTP endpoint: AppSync Events invokes it with
//! its own event, so it has a [`Spec`] in the table but its own [`run`]; the decisions are
//! `realtime::authorizer`'s.

use crate::acs::ChatClient;
use crate::api::parts::{Parts, Sealing};
use crate::api::spec::{Method, Needs, Spec};
use crate::api::state::Wanted;
use crate::api::{AppState, telemetry};
use crate::config::Config;
use crate::realtime::Realtime;
use crate::realtime::authorizer::{AuthorizerRequest, AuthorizerResponse, decide};

/// The authorizer: ACS for membership, the real-time secret for the publish key.
pub const SPEC: Spec = Spec {
    name: "realtime_auth",
    routes: &[],
    method: Method::Post,
    needs: Needs {
        chat: true,
        authorizes: true,
        seals: true,
        ..Needs::NOTHING
    },
};

/// The authorizer's needs as a type, so that its state is built with them a constant.
struct Authorizer;

impl Wanted for Authorizer {
    fn needs(self) -> Needs {
        SPEC.needs
    }
}

/// What the authorizer decides with: the publish key, ACS, and the seals clients bring.
type AuthorizerParts<'a> = (&'a Realtime, &'a ChatClient, Sealing<'a>);

/// Decides one request with this container's secret and ACS client. Never fails: anything
/// unexpected is a refusal.
pub async fn authorize(state: &AppState, request: AuthorizerRequest) -> AuthorizerResponse {
    let Ok((realtime, chat, Sealing(sealer))) = AuthorizerParts::take(state) else {
        return AuthorizerResponse::deny(
            "REALTIME_PUBLISH_KEY_SECRET_ID, ACS_ENDPOINT or SEAL_SECRET_ID is not set",
        );
    };
    match realtime.publish_key.get().await {
        Ok(key) => decide(&key, chat, sealer, request, time::OffsetDateTime::now_utc()).await,
        Err(e) => {
            tracing::error!(error = %e, "the publish key is unavailable");
            AuthorizerResponse::deny("secret unavailable")
        }
    }
}

/// Runs the authorizer as a Lambda.
pub async fn run() -> Result<(), lambda_http::Error> {
    let config = Config::from_env()?;
    telemetry::logging::init(config.log);
    let state = AppState::init(Authorizer, config)?;
    AuthorizerParts::take(&state)?;
    let state = &state;
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: lambda_http::LambdaEvent<AuthorizerRequest>| async move {
            Ok::<_, std::convert::Infallible>(authorize(state, event.payload).await)
        },
    ))
    .await
}
