//! `POST /refresh_token` `{"user_id"}`: a new token for the caller's own identity, so that a
//! user outlives its first token and keeps its threads. Only the identity's own token, still
//! valid, gets one: ACS proves the token first (a cheap call made with it), then the admin key
//! issues the new one. Two sequential round trips.

use lambda_http::Request;
use serde_json::json;

use crate::api::caller::{self, Caller, Who};
use crate::api::input::OwnIdentity;
use crate::api::spec::{Needs, Spec, spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::acs::identity::Scope;
use crate::timestamp::Timestamp;

/// A valid `refresh_token` request.
#[derive(Debug)]
pub struct RefreshToken {
    pub me: OwnIdentity,
}

impl Endpoint for RefreshToken {
    const SPEC: Spec = spec!("refresh_token", Post, Needs::ON_IDENTITY);

    type Caller = Caller;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        Ok(Self {
            me: OwnIdentity::from_request(request)?,
        })
    }

    fn who(&self) -> Who<'_> {
        self.me.who()
    }

    async fn act(self, state: &AppState, caller: Caller) -> Result<Answer, ApiError> {
        caller::prove_with_acs(state, &caller).await?;
        let minutes = state.config.token_lifetime_minutes;
        let user_id = &self.me.user_id;
        let token = state
            .with_identity(|identity| async move {
                identity
                    .issue_token(user_id, &[Scope::Chat], Some(minutes))
                    .await
            })
            .await?;
        Answer::json(&json!({
            "user_id": self.me.user_id,
            "token": token.token.expose(),
            "expires_on": Timestamp::from(token.expires_on).whole_seconds(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{THREAD, USER, code, post};

    #[test]
    fn parse_takes_the_user_and_nothing_else_matters() {
        let parsed = RefreshToken::parse(&post(json!({"user_id": USER}))).unwrap();
        assert_eq!(parsed.me.user_id, *USER);
        for (what, body, expected) in [
            ("no user_id", json!({}), "400 missing_field"),
            (
                "a thread id",
                json!({"user_id": THREAD}),
                "400 invalid_field",
            ),
            ("a number", json!({"user_id": 1}), "400 invalid_field"),
        ] {
            assert_eq!(code(RefreshToken::parse(&post(body))), expected, "{what}");
        }
    }
}
