//! `POST /create_users`: the token issuer. Creates two ACS identities, each with a chat token,
//! in parallel: one round trip. Takes no input and no caller token; uses the admin key. Each
//! user also gets a session (`user1_session`, `user2_session`), which `refresh_token` needs:
//! their tokens can be refreshed until it ends, and no longer. In sealed mode each token
//! handed out is the seal of the one ACS issued.

use lambda_http::Request;
use serde::Serialize;

use crate::acs::Scope;
use crate::acs::UserId;
use crate::acs::identity::UserWithToken;
use crate::admin::Admin;
use crate::api::caller::Issuance;
use crate::api::endpoint::spec;
use crate::api::parts::Sealing;
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::config::Config;
use crate::timestamp::Timestamp;

/// A `create_users` request: it has nothing to say.
#[derive(Debug)]
pub struct CreateUsers;

/// The original app's answer, with when the tokens expire and each user's session.
#[derive(Serialize)]
struct Pair<'a> {
    user1_id: &'a UserId,
    user2_id: &'a UserId,
    user1_token: &'a str,
    user2_token: &'a str,
    expires_on: Timestamp,
    user1_session: &'a str,
    user2_session: &'a str,
    session_ends_on: Timestamp,
}

impl Endpoint for CreateUsers {
    const SPEC: Spec = spec!("create_users", Post);

    type Caller = Issuance;

    type Parts<'a> = (&'a Admin, Sealing<'a>, &'a Config);

    /// The original app took no input, and clients send it `null`, `{}` or nothing: whatever
    /// the body, it is not read.
    fn parse(_: &Request) -> Result<Self, ApiError> {
        Ok(Self)
    }

    fn who(&self) {}

    async fn act(
        self,
        (admin, sealing, config): Self::Parts<'_>,
        _: Issuance,
    ) -> Result<Answer, ApiError> {
        // A first token never outlives the session it comes with.
        let minutes = (config.token_lifetime_minutes).min(config.session_hours.saturating_mul(60));
        let (user1, user2) = admin
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
        let now = time::OffsetDateTime::now_utc();
        let hours = config.session_hours;
        let (session, user1_session) = admin.start_session(&user1.user_id, now, hours).await?;
        let (_, user2_session) = admin.start_session(&user2.user_id, now, hours).await?;
        let (token1, token2) = tokio::try_join!(
            hand_out(sealing, &user1, session.ends),
            hand_out(sealing, &user2, session.ends),
        )?;
        let sessions = [user1_session.as_str(), user2_session.as_str()];
        let tokens = [token1.as_str(), token2.as_str()];
        Answer::json(&pair(&user1, &user2, tokens, sessions, session.ends.into()))
    }
}

/// What `user` is handed for their first token, in a session of its own.
async fn hand_out(
    sealing: Sealing<'_>,
    user: &UserWithToken,
    ends: time::OffsetDateTime,
) -> Result<String, ApiError> {
    let scopes = [Scope::Chat];
    Ok(sealing
        .hand_out(&user.token, &user.user_id, &scopes, None, ends)
        .await?)
}

fn pair<'a>(
    user1: &'a UserWithToken,
    user2: &'a UserWithToken,
    [user1_token, user2_token]: [&'a str; 2],
    [user1_session, user2_session]: [&'a str; 2],
    session_ends_on: Timestamp,
) -> Pair<'a> {
    let expires_on = user1.token.expires_on.min(user2.token.expires_on);
    Pair {
        user1_id: &user1.user_id,
        user2_id: &user2.user_id,
        user1_token,
        user2_token,
        expires_on: Timestamp::from(expires_on).whole_seconds(),
        user1_session,
        user2_session,
        session_ends_on,
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
            assert_eq!(
                code(CreateUsers::parse(&raw_post(body))),
                "accepted",
                "{body}"
            );
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
        let ends = Timestamp::from(early + time::Duration::days(7));
        let json = serde_json::to_value(pair(&a, &b, ["t1", "t2"], ["s1", "s2"], ends)).unwrap();
        assert_eq!(json["expires_on"], "2026-11-26T10:00:00Z");
        assert_eq!(json["user2_id"], "8:acs:r_b");
    }
}
