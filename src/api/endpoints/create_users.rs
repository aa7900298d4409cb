//! `POST /create_users`: the token issuer. Creates two ACS identities, each with a chat token,
//! in parallel: one round trip. Takes no input and no caller token; uses the admin key.

use lambda_http::Request;
use serde::Serialize;

use crate::acs::identity::{Scope, UserWithToken};
use crate::acs::UserId;
use crate::api::spec::{Needs, Spec, spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::timestamp::Timestamp;

/// A `create_users` request: it has nothing to say.
#[derive(Debug)]
pub struct CreateUsers;

/// The original app's answer, with when the tokens expire.
#[derive(Serialize)]
struct Pair<'a> {
    user1_id: &'a UserId,
    user2_id: &'a UserId,
    user1_token: &'a str,
    user2_token: &'a str,
    expires_on: Timestamp,
}

impl Endpoint for CreateUsers {
    const SPEC: Spec = spec!("create_users", Post, Needs::ISSUER);

    type Caller = ();

    /// The original app took no input, and clients send it `null`, `{}` or nothing: whatever
    /// the body, it is not read.
    fn parse(_: &Request) -> Result<Self, ApiError> {
        Ok(Self)
    }

    fn who(&self) {}

    async fn act(self, state: &AppState, (): ()) -> Result<Answer, ApiError> {
        let minutes = state.config.token_lifetime_minutes;
        let (user1, user2) = state
            .with_identity(|identity| async move {
                let (first, second) = tokio::join!(
                    identity.create_user_with_token(&[Scope::Chat], Some(minutes)),
                    identity.create_user_with_token(&[Scope::Chat], Some(minutes)),
                );
                match (first, second) {
                    (Ok(a), Ok(b)) => Ok((a, b)),
                    // Half a pair is no use to the caller: remove the identity that was made.
                    (Ok(made), Err(error)) | (Err(error), Ok(made)) => {
                        if let Err(cleanup) = identity.delete_user(&made.user_id).await {
                            tracing::warn!(error = %cleanup, "could not delete the orphaned identity");
                        }
                        Err(error)
                    }
                    (Err(error), Err(_)) => Err(error),
                }
            })
            .await?;
        Answer::json(&pair(&user1, &user2))
    }
}

fn pair<'a>(user1: &'a UserWithToken, user2: &'a UserWithToken) -> Pair<'a> {
    let expires_on = user1.token.expires_on.min(user2.token.expires_on);
    Pair {
        user1_id: &user1.user_id,
        user2_id: &user2.user_id,
        user1_token: user1.token.token.expose(),
        user2_token: user2.token.token.expose(),
        expires_on: Timestamp::from(expires_on).whole_seconds(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acs::BearerToken;
    use crate::api::input::test_requests::{code, raw_post};

    #[test]
    fn parse_reads_nothing_whatever_the_body() {
        for body in ["", "null", "{}", "{"] {
            assert_eq!(code(CreateUsers::parse(&raw_post(body))), "accepted", "{body}");
        }
    }

    #[test]
    fn the_pair_expires_with_its_earlier_token_in_whole_seconds() {
        let made = |id: &str, expires: time::OffsetDateTime| UserWithToken {
            user_id: UserId::parse(id).unwrap(),
            token: crate::acs::identity::AccessToken {
                token: BearerToken::new("t"),
                expires_on: expires,
            },
        };
        let early = time::macros::datetime!(2026-11-26 10:00:00.75 UTC);
        let (a, b) = (
            made("8:acs:r_a", early),
            made("8:acs:r_b", early + time::Duration::minutes(1)),
        );
        let json = serde_json::to_value(pair(&a, &b)).unwrap();
        assert_eq!(json["expires_on"], "2026-11-26T10:00:00Z");
        assert_eq!(json["user2_id"], "8:acs:r_b");
    }
}
