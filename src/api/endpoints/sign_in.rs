//! `POST /sign_in` `Authorization: Bearer <the identity provider's token>`, `{"display_name"?}`:
//! a person, not a token. Whoever the identity provider vouches for (its issuer and their
//! subject) has one ACS identity for life, and gets a fresh token for it on every sign-in;
//! being away longer than a token lives loses nothing.
//!
//! The provider's token is checked here (its signature, issuer, audience, time and use) before
//! anything else, so a bad one costs no ACS call and no write. A person known to the people
//! table: the table read, then the token (two sequential round trips; the last-seen time is
//! written beside the token). A new person: the identity with its token in one ACS call, then
//! the claim, a conditional write that only the first of several simultaneous first sign-ins
//! wins; the others delete the identity they made and take the winner's. A known person whose
//! identity ACS no longer has (deleted outside `delete_user`, or `delete_user` stopped after
//! deleting it) gets a new one the same way, claimed in place of the vanished one: nobody is
//! locked out for good.

use lambda_http::Request;
use serde::Serialize;
use time::OffsetDateTime;

use crate::acs::identity::UserWithToken;
use crate::acs::{AcsError, Scope, UserId};
use crate::api::caller::SignedIn;
use crate::api::input::JsonBody;
use crate::api::spec::{Needs, Spec, spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::chat::text::DisplayName;
use crate::people::{Claim, Person};
use crate::timestamp::Timestamp;

/// A valid `sign_in` request.
#[derive(Debug)]
pub struct SignIn {
    /// The name to be shown by, kept for the next sign-in.
    pub display_name: Option<DisplayName>,
}

/// What a person signing in gets.
#[derive(Serialize)]
struct SignedInAnswer<'a> {
    user_id: &'a UserId,
    token: &'a str,
    expires_on: Timestamp,
    display_name: Option<&'a str>,
    /// Whether this sign-in made the person's identity (their first).
    created: bool,
}

impl Endpoint for SignIn {
    const SPEC: Spec = spec!("sign_in", Post, Needs::SIGN_IN);

    type Caller = SignedIn;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        Ok(Self {
            display_name: JsonBody::parse(request)?.display_name()?,
        })
    }

    fn who(&self) {}

    async fn act(self, state: &AppState, SignedIn(claims): SignedIn) -> Result<Answer, ApiError> {
        let people = state.people()?;
        let (issuer, subject) = (claims.iss.as_str(), claims.sub.as_str());
        let name = self.display_name.as_ref().map(DisplayName::as_str);
        let now = OffsetDateTime::now_utc();
        let minutes = state.config.token_lifetime_minutes;
        let known = people.find(issuer, subject).await?;
        if let Some(person) = &known {
            let user_id = &person.user_id;
            let (token, seen) = tokio::join!(
                state.with_identity(|identity| async move {
                    identity
                        .issue_token(user_id, &[Scope::Chat], Some(minutes))
                        .await
                }),
                people.seen(issuer, subject, name, now),
            );
            if let Err(error) = seen {
                // The token is good without it; the time is only a record.
                tracing::warn!(%error, "could not record the sign-in time");
            }
            match token {
                Ok(token) => {
                    let shown = name.or(person.display_name.as_deref());
                    return answer(user_id, &token.token, token.expires_on, shown, false);
                }
                Err(ApiError::AdminAcs(AcsError::NotFound(_))) => {
                    tracing::warn!("a person's identity is gone from ACS: making them a new one");
                }
                Err(error) => return Err(error),
            }
        }
        let made: UserWithToken = state
            .with_identity(|identity| async move {
                identity
                    .create_user_with_token(&[Scope::Chat], Some(minutes))
                    .await
            })
            .await?;
        let person = Person {
            user_id: made.user_id.clone(),
            display_name: name
                .map(str::to_owned)
                .or_else(|| known.as_ref().and_then(|p| p.display_name.clone())),
            first_seen: known.as_ref().map_or(now, |p| p.first_seen),
        };
        let claimed = match &known {
            Some(vanished) => {
                people
                    .rebind(issuer, subject, &vanished.user_id, &person)
                    .await
            }
            None => people.claim(issuer, subject, &person).await,
        };
        if claimed != Ok(Claim::Won) {
            // Someone else's sign-in won, or nobody's did: ours is nobody's identity.
            let orphan = &made.user_id;
            if let Err(error) = state
                .with_identity(|identity| async move { identity.delete_user(orphan).await })
                .await
            {
                tracing::warn!(%error, "could not delete the identity a lost claim made");
            }
        }
        match claimed? {
            Claim::Won => answer(
                &made.user_id,
                &made.token.token,
                made.token.expires_on,
                person.display_name.as_deref(),
                true,
            ),
            Claim::Lost => {
                let winner = people
                    .find(issuer, subject)
                    .await?
                    .ok_or(crate::people::PeopleError::Corrupt("the claim's winner"))?;
                let user_id = &winner.user_id;
                let token = state
                    .with_identity(|identity| async move {
                        identity
                            .issue_token(user_id, &[Scope::Chat], Some(minutes))
                            .await
                    })
                    .await?;
                let shown = winner.display_name.as_deref().or(name);
                answer(user_id, &token.token, token.expires_on, shown, false)
            }
        }
    }
}

fn answer(
    user_id: &UserId,
    token: &crate::acs::BearerToken,
    expires_on: OffsetDateTime,
    display_name: Option<&str>,
    created: bool,
) -> Result<Answer, ApiError> {
    Answer::json(&SignedInAnswer {
        user_id,
        token: token.expose(),
        expires_on: Timestamp::from(expires_on).whole_seconds(),
        display_name,
        created,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{code, post, raw_post};

    #[test]
    fn parse_takes_an_optional_display_name() {
        assert!(SignIn::parse(&raw_post("")).unwrap().display_name.is_none());
        let named = SignIn::parse(&post(json!({"display_name": "Alice"}))).unwrap();
        assert_eq!(named.display_name.unwrap().as_str(), "Alice");
        assert_eq!(
            code(SignIn::parse(&post(
                json!({"display_name": "Al\u{202e}ice"})
            ))),
            "400 invalid_field"
        );
        assert_eq!(code(SignIn::parse(&raw_post("[1]"))), "400 invalid_json");
    }
}
