//! Who is calling: the identity in the bearer token (in sealed mode, the seal opened and the
//! ACS token inside), checked against the user the request names. In trusted mode without a
//! header, a short-lived token minted for the named user.

use std::future::Future;

use lambda_http::Request;
use lambda_http::http::header::AUTHORIZATION;
use time::OffsetDateTime;

use super::errors::ApiError;
use super::parts::{Parts, Sealing};
use super::spec::{AdminKey, Needs};
use super::state::AppState;
use crate::acs::{BearerToken, ChatClient, UserId};
use crate::admin::Admin;
use crate::config::{AuthMode, ConfigError, IssuerMode, TRUSTED_TOKEN_MINUTES};
use crate::jwt::Claims;
use crate::seal::open_client_token;

/// How the caller was authenticated, recorded so that no handler works it out again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// The request carried the caller's own ACS token (`CLIENT_TOKENS=acs`).
    Bearer,
    /// The request carried a seal of ours, opened here: the ACS token inside acts.
    Sealed,
    /// Trusted mode: no header, so the function minted a token with the admin key.
    Minted,
}

/// An authenticated caller and the token that acts for it on ACS.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    pub token: BearerToken,
    pub auth: Auth,
    /// The session of the seal the caller brought, which a refreshed seal keeps.
    pub session_id: Option<String>,
}

/// Who an endpoint needs to be calling, as its parsed request says.
pub enum Who<'a> {
    /// Exactly this user, named in the request as `field`.
    User { field: &'static str, id: &'a UserId },
    /// Exactly this user, named as `user_id`, by their own token even in trusted mode: for
    /// what acts on the identity itself, which no minted token may do.
    Bearer { id: &'a UserId },
    /// Any participant, whoever the token names (ACS checks membership). In trusted mode
    /// without a header, `acting` acts if given, else the secret's service identity.
    Participant { acting: Option<&'a UserId> },
}

impl<'a> Who<'a> {
    /// The user the request names as `user_id`, as most endpoints do.
    pub fn user_id(id: &'a UserId) -> Self {
        Self::User {
            field: "user_id",
            id,
        }
    }
}

/// What an endpoint's caller proves, checked from the request's credentials before the
/// endpoint acts, against what the parsed request claims (its [`Claim`](Credential::Claim)).
pub trait Credential: Sized + Send {
    /// Who the parsed request says must be calling.
    type Claim<'a>: Send;

    /// What the check needs built at start.
    const NEEDS: Needs;

    /// Whether `state` holds what the check needs, asked once at start.
    fn ready(_: &AppState) -> Result<(), ConfigError> {
        Ok(())
    }

    fn check<'a>(
        state: &'a AppState,
        request: &'a Request,
        claim: Self::Claim<'a>,
    ) -> impl Future<Output = Result<Self, ApiError>> + Send;
}

/// An ACS user, by their bearer token (or a token minted for them in trusted mode).
impl Credential for Caller {
    type Claim<'a> = Who<'a>;

    /// The admin key mints tokens for callers who bring none, in trusted mode; the sealing
    /// keys open the seals callers bring, in sealed mode.
    const NEEDS: Needs = Needs {
        admin_key: AdminKey::WhenTrusted,
        seals: true,
        ..Needs::NOTHING
    };

    fn ready(state: &AppState) -> Result<(), ConfigError> {
        Sealing::take(state).map(drop)
    }

    async fn check<'a>(
        state: &'a AppState,
        request: &'a Request,
        who: Who<'a>,
    ) -> Result<Self, ApiError> {
        authenticate(state, request, who).await
    }
}

/// Someone the identity provider vouches for, by a token of its own (checked here, with no
/// ACS call): who they are to it.
pub struct SignedIn(pub Claims);

impl Credential for SignedIn {
    type Claim<'a> = ();

    const NEEDS: Needs = Needs {
        identity_provider: true,
        ..Needs::NOTHING
    };

    fn ready(state: &AppState) -> Result<(), ConfigError> {
        state.identity_provider().map(drop)
    }

    async fn check<'a>(
        state: &'a AppState,
        request: &'a Request,
        (): (),
    ) -> Result<Self, ApiError> {
        state
            .verify_identity(authorization(request))
            .await
            .map(Self)
    }
}

/// Whoever may have identities issued without an ACS token of their own, as `ISSUER_MODE`
/// says: anyone, or nobody.
pub struct Issuance;

impl Credential for Issuance {
    type Claim<'a> = ();

    const NEEDS: Needs = Needs::NOTHING;

    async fn check<'a>(state: &'a AppState, _: &'a Request, (): ()) -> Result<Self, ApiError> {
        match state.config.issuer_mode {
            IssuerMode::Open => Ok(Self),
            IssuerMode::SignedIn => Err(ApiError::IssuerClosed(
                "identities are issued only to people who sign in: POST /sign_in",
            )),
        }
    }
}

/// The request's `Authorization` header, if it is text.
fn authorization(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
}

/// Anyone: the page, and the original app's open token issuer.
impl Credential for () {
    type Claim<'a> = ();

    const NEEDS: Needs = Needs::NOTHING;

    async fn check<'a>(_: &'a AppState, _: &'a Request, (): ()) -> Result<Self, ApiError> {
        Ok(())
    }
}

/// The caller the request's credentials name, who must be `who`.
pub async fn authenticate(
    state: &AppState,
    request: &Request,
    who: Who<'_>,
) -> Result<Caller, ApiError> {
    let named = async |token, field, id: &UserId| {
        let caller = from_token(state, token).await?;
        if caller.user_id == *id {
            Ok(caller)
        } else {
            Err(ApiError::TokenUserMismatch(field))
        }
    };
    match (bearer(request)?, who) {
        (Some(token), Who::User { field, id }) => named(token, field, id).await,
        (Some(token), Who::Bearer { id }) => named(token, "user_id", id).await,
        (Some(token), Who::Participant { .. }) => from_token(state, token).await,
        (None, Who::Bearer { .. }) => Err(ApiError::MissingToken),
        (None, _) if state.config.auth_mode != AuthMode::Trusted => Err(ApiError::MissingToken),
        (None, who) => {
            let admin = state.admin()?;
            match who {
                Who::User { id, .. } | Who::Participant { acting: Some(id) } => {
                    mint(admin, id).await
                }
                Who::Participant { acting: None } => {
                    let service = service_user_id(admin)
                        .await?
                        .ok_or(ApiError::ActingUserRequired)?;
                    mint(admin, &service).await
                }
                Who::Bearer { .. } => Err(ApiError::MissingToken),
            }
        }
    }
}

/// The trusted-mode service identity from the admin key's secret, if it names one.
pub(crate) async fn service_user_id(admin: &Admin) -> Result<Option<UserId>, ApiError> {
    Ok(admin.secret().get().await?.service_user_id.clone())
}

/// The bearer token, if the request carries one; a malformed header is an error.
fn bearer(request: &Request) -> Result<Option<BearerToken>, ApiError> {
    let Some(value) = request.headers().get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::InvalidToken)?;
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::InvalidToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::InvalidToken);
    }
    Ok(Some(BearerToken::new(token.trim())))
}

/// The caller the token names, turned away before any ACS round trip if it is not a token of
/// this deployment's kind or has expired (see [`open_client_token`]).
async fn from_token(state: &AppState, token: BearerToken) -> Result<Caller, ApiError> {
    let Sealing(sealer) = Sealing::take(state)?;
    let now = OffsetDateTime::now_utc();
    let opened = open_client_token(sealer, token.expose(), now).await?;
    Ok(Caller {
        user_id: opened.user_id,
        token: opened.token,
        auth: if sealer.is_some() {
            Auth::Sealed
        } else {
            Auth::Bearer
        },
        session_id: opened.session_id,
    })
}

/// A short-lived chat token for `user_id`, minted with the admin key and reused while it has
/// life left (see [`Admin::minted_chat_token`](crate::admin::Admin::minted_chat_token)):
/// trusted mode's callers, and the recipients `acs_events` reads ACS as.
pub(crate) async fn mint(admin: &Admin, user_id: &UserId) -> Result<Caller, ApiError> {
    let token = admin
        .minted_chat_token(user_id, TRUSTED_TOKEN_MINUTES)
        .await?;
    Ok(Caller {
        user_id: user_id.clone(),
        token,
        auth: Auth::Minted,
        session_id: None,
    })
}

/// Has ACS itself accept the caller's token, with a call that reads one thread at most. Before
/// the admin key acts on an identity, a token that merely reads right is not enough: it may be
/// forged, or revoked.
pub async fn prove_with_acs(chat: &ChatClient, caller: &Caller) -> Result<(), ApiError> {
    chat.list_threads(&caller.token, 1, None)
        .await
        .map(drop)
        .map_err(ApiError::from)
}

/// [`prove_with_acs`] for a caller who brought their own token; a token minted here (trusted
/// mode) is ours, and needs no proof.
pub async fn prove_unless_minted(chat: &ChatClient, caller: &Caller) -> Result<(), ApiError> {
    match caller.auth {
        Auth::Bearer | Auth::Sealed => prove_with_acs(chat, caller).await,
        Auth::Minted => Ok(()),
    }
}
