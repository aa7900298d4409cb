//! `POST /refresh_token` `{"user_id", "session"}`: a new token for the caller's own identity,
//! so that a person outlives their first token and keeps their threads, within their session.
//!
//! Only the identity's own token, still valid, gets one (a minted token never does, in any
//! mode): ACS proves the token first (a cheap call made with it), then the admin key issues
//! the new one, with exactly the scopes of the token ACS accepted, and never past the end of
//! the session the first token came with (`session`): a token cannot be stretched into a
//! chain without end. Two sequential round trips.

use lambda_http::Request;
use serde::Serialize;

use crate::acs::ChatClient;
use crate::acs::{Scope, UserId};
use crate::admin::Admin;
use crate::api::caller::{self, Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{JsonBody, OwnIdentity};
use crate::api::parts::Sealing;
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::config::{Config, IssuerMode};
use crate::session::SessionError;
use crate::timestamp::Timestamp;

/// ACS issues no token for less than an hour.
const SHORTEST_TOKEN_MINUTES: i64 = 60;

/// A valid `refresh_token` request.
#[derive(Debug)]
pub struct RefreshToken {
    pub me: OwnIdentity,
    /// The session the caller's first token came with, as it was given.
    pub session: String,
}

/// The new token, and the session it still belongs to.
#[derive(Serialize)]
struct Refreshed<'a> {
    user_id: &'a UserId,
    token: &'a str,
    expires_on: Timestamp,
    session: &'a str,
    session_ends_on: Timestamp,
}

impl Endpoint for RefreshToken {
    const SPEC: Spec = spec!("refresh_token", Post);

    type Caller = Caller;

    type Parts<'a> = (&'a ChatClient, &'a Admin, Sealing<'a>, &'a Config);

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        Ok(Self {
            me: OwnIdentity::from_body(&body)?,
            session: body.required("session")?.to_owned(),
        })
    }

    fn who(&self) -> Who<'_> {
        self.me.who()
    }

    async fn act(
        self,
        (chat, admin, sealing, config): Self::Parts<'_>,
        caller: Caller,
    ) -> Result<Answer, ApiError> {
        if config.issuer_mode != IssuerMode::Open {
            return Err(ApiError::IssuerClosed(
                "tokens are renewed by signing in again here: POST /sign_in",
            ));
        }
        let now = time::OffsetDateTime::now_utc();
        let session = admin
            .verify_session(&self.session, &caller.user_id, now)
            .await?;
        let scopes: Vec<Scope> = caller
            .token
            .claims()
            .ok()
            .and_then(|claims| claims.scopes)
            .ok_or(ApiError::InvalidToken)?;
        let minutes = i64::from(config.token_lifetime_minutes).min(session.minutes_left(now));
        if minutes < SHORTEST_TOKEN_MINUTES {
            return Err(SessionError::Ended.into());
        }
        caller::prove_with_acs(chat, &caller).await?;
        let user_id = &self.me.user_id;
        let (scopes, minutes) = (&scopes, u32::try_from(minutes).unwrap_or(u32::MAX));
        let token = admin
            .with_identity(|identity| async move {
                identity.issue_token(user_id, scopes, Some(minutes)).await
            })
            .await?;
        // A refreshed seal stays in the session of the one it replaces.
        let session_id = caller.session_id;
        let handed = sealing
            .hand_out(&token, user_id, scopes, session_id, session.ends)
            .await?;
        Answer::json(&Refreshed {
            user_id,
            token: &handed,
            expires_on: Timestamp::from(token.expires_on).whole_seconds(),
            session: &self.session,
            session_ends_on: session.ends.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{THREAD, USER, code, post};

    #[test]
    fn parse_takes_the_user_and_the_session() {
        let parsed =
            RefreshToken::parse(&post(json!({"user_id": USER, "session": "s.m"}))).unwrap();
        assert_eq!(
            (parsed.me.user_id, parsed.session.as_str()),
            (USER.parse().unwrap(), "s.m")
        );
        for (what, body, expected) in [
            ("no user_id", json!({"session": "s"}), "400 missing_field"),
            ("no session", json!({"user_id": USER}), "400 missing_field"),
            (
                "a thread id",
                json!({"user_id": THREAD, "session": "s"}),
                "400 invalid_field",
            ),
            (
                "a number",
                json!({"user_id": 1, "session": "s"}),
                "400 invalid_field",
            ),
        ] {
            assert_eq!(code(RefreshToken::parse(&post(body))), expected, "{what}");
        }
    }
}
