//! `POST /sign_in` `Authorization: Bearer <the identity provider's token>`, `{"display_name"?}`:
//! a person, not a token. Whoever the identity provider vouches for (its issuer and their
//! subject) has one ACS identity for life, and gets a fresh token for it on every sign-in;
//! being away longer than a token lives loses nothing.
//!
//! The provider's token is checked here (its signature, issuer, audience, time and use) before
//! anything else, so a bad one costs no ACS call and no write; the rest is
//! `people::sign_in`. A known person costs two sequential round trips (the table, then the
//! token); a new one an ACS call and the claim.

use lambda_http::Request;
use serde::Serialize;
use time::OffsetDateTime;

use crate::acs::{Scope, UserId};
use crate::admin::Admin;
use crate::api::caller::SignedIn;
use crate::api::endpoint::spec;
use crate::api::input::JsonBody;
use crate::api::parts::Sealing;
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::chat::text::DisplayName;
use crate::config::Config;
use crate::people::People;
use crate::people::sign_in::{Signing, sign_in};
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
    const SPEC: Spec = spec!("sign_in", Post);

    type Caller = SignedIn;

    type Parts<'a> = (&'a People, &'a Admin, Sealing<'a>, &'a Config);

    fn parse(request: &Request) -> Result<Self, ApiError> {
        Ok(Self {
            display_name: JsonBody::parse(request)?.display_name()?,
        })
    }

    fn who(&self) {}

    async fn act(
        self,
        (people, admin, sealing, config): Self::Parts<'_>,
        SignedIn(claims): SignedIn,
    ) -> Result<Answer, ApiError> {
        let who = Signing {
            issuer: &claims.iss,
            subject: &claims.sub,
            display_name: self.display_name.as_ref().map(DisplayName::as_str),
        };
        let minutes = config.token_lifetime_minutes;
        let now = OffsetDateTime::now_utc();
        let signed = sign_in(people, admin, who, minutes, now).await?;
        // A signed-in session lasts as long as its token: renewing it is signing in again.
        let (token, ends) = (&signed.token, signed.token.expires_on);
        let scopes = [Scope::Chat];
        let token = sealing
            .hand_out(token, &signed.user_id, &scopes, None, ends)
            .await?;
        Answer::json(&SignedInAnswer {
            user_id: &signed.user_id,
            token: &token,
            expires_on: Timestamp::from(signed.token.expires_on).whole_seconds(),
            display_name: signed.display_name.as_deref(),
            created: signed.created,
        })
    }
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
