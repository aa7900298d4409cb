//! Who is calling: the identity in the bearer token, checked against the user the request
//! names. In trusted mode without a header, a short-lived token minted for the named user.

use lambda_http::Request;
use lambda_http::http::header::AUTHORIZATION;
use time::OffsetDateTime;

use super::AppState;
use super::errors::ApiError;
use crate::acs::identity::Scope;
use crate::acs::token::read_claims;
use crate::config::{AuthMode, TRUSTED_TOKEN_MINUTES};

/// An authenticated caller and the token that acts for it on ACS.
pub struct Caller {
    pub user_id: String,
    pub token: String,
}

/// The bearer token, if the request carries one; a malformed header is an error.
fn bearer(request: &Request) -> Result<Option<&str>, ApiError> {
    let Some(value) = request.headers().get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::InvalidToken)?;
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::InvalidToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::InvalidToken);
    }
    Ok(Some(token.trim()))
}

/// Reads the token's identity and turns away an expired one before any ACS round trip.
fn from_token(token: &str) -> Result<Caller, ApiError> {
    let claims = read_claims(token).map_err(|_| ApiError::InvalidToken)?;
    if claims.is_expired(OffsetDateTime::now_utc()) {
        return Err(ApiError::TokenExpired);
    }
    Ok(Caller {
        user_id: claims.user_id,
        token: token.to_owned(),
    })
}

/// True when trusted mode will mint a token for this request (it carries no header).
pub fn is_trusted_without_token(state: &AppState, request: &Request) -> bool {
    state.config.auth_mode == AuthMode::Trusted && !request.headers().contains_key(AUTHORIZATION)
}

/// The caller, who must be `user_id` (named in the request as `field`).
pub async fn as_user(
    state: &AppState,
    request: &Request,
    field: &'static str,
    user_id: &str,
) -> Result<Caller, ApiError> {
    match bearer(request)? {
        Some(token) => {
            let caller = from_token(token)?;
            if caller.user_id == user_id {
                Ok(caller)
            } else {
                Err(ApiError::TokenUserMismatch(field))
            }
        }
        None if state.config.auth_mode == AuthMode::Trusted => mint(state, user_id).await,
        None => Err(ApiError::MissingToken),
    }
}

/// The caller, whoever the token names (for acts on behalf of a thread, such as adding a user).
/// In trusted mode without a header, `acting` acts if given, else the secret's service identity.
pub async fn anyone(
    state: &AppState,
    request: &Request,
    acting: Option<&str>,
) -> Result<Caller, ApiError> {
    match bearer(request)? {
        Some(token) => from_token(token),
        None if state.config.auth_mode == AuthMode::Trusted => {
            let acting = match acting {
                Some(id) => id.to_owned(),
                None => state
                    .service_user_id()
                    .await?
                    .ok_or(ApiError::TrustedModeNeeds(
                        "trusted mode needs user1_id in the body, or a serviceUserId in the secret",
                    ))?,
            };
            mint(state, &acting).await
        }
        None => Err(ApiError::MissingToken),
    }
}

/// A minted token is reused until this much of its life is left.
const MINTED_TOKEN_MARGIN: time::Duration = time::Duration::minutes(10);

/// Trusted mode: a short-lived chat token for `user_id`, issued with the admin key once per
/// container and reused while it has life left, so that a request costs no extra round trip.
async fn mint(state: &AppState, user_id: &str) -> Result<Caller, ApiError> {
    let fresh_enough = OffsetDateTime::now_utc() + MINTED_TOKEN_MARGIN;
    let cached = state.minted_token(user_id, fresh_enough);
    let token = match cached {
        Some(token) => token,
        None => {
            let token = state
                .with_identity(|identity| async move {
                    identity
                        .issue_token(user_id, &[Scope::Chat], Some(TRUSTED_TOKEN_MINUTES))
                        .await
                })
                .await?;
            state.keep_minted_token(user_id, &token);
            token.token
        }
    };
    Ok(Caller {
        user_id: user_id.to_owned(),
        token,
    })
}
