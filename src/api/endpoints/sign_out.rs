//! `POST /sign_out` `{"user_id", "all_devices"?: true}`: ends the caller's sessions on every
//! device. The admin key revokes the identity's ACS tokens, so every seal the person holds (and
//! in `acs` mode every token) is refused at its next use, here and at ACS; signing in again
//! gives a fresh one. ACS proves the caller's token first, as for everything done with the
//! admin key on an identity. Two sequential round trips.
//!
//! Only every device at once: ACS revokes an identity's tokens all together, and ending one
//! session alone would need a check of it on every request. One device signing out alone
//! forgets its token.

use lambda_http::Request;
use serde_json::{Value, json};

use crate::acs::ChatClient;
use crate::admin::Admin;
use crate::api::caller::{self, Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{JsonBody, OwnIdentity};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};

/// A valid `sign_out` request.
#[derive(Debug)]
pub struct SignOut {
    pub me: OwnIdentity,
}

impl Endpoint for SignOut {
    const SPEC: Spec = spec!("sign_out", Post);

    type Caller = Caller;

    type Parts<'a> = (&'a ChatClient, &'a Admin);

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        match body.optional_value("all_devices") {
            None | Some(Value::Bool(true)) => {}
            Some(_) => {
                return Err(ApiError::InvalidField {
                    field: "all_devices",
                    reason: "can only be true: signing out ends every device's session (one \
                             device alone forgets its token)",
                });
            }
        }
        Ok(Self {
            me: OwnIdentity::from_body(&body)?,
        })
    }

    fn who(&self) -> Who<'_> {
        self.me.who()
    }

    async fn act(self, (chat, admin): Self::Parts<'_>, caller: Caller) -> Result<Answer, ApiError> {
        caller::prove_with_acs(chat, &caller).await?;
        let user_id = &self.me.user_id;
        admin
            .with_identity(|identity| async move { identity.revoke_tokens(user_id).await })
            .await?;
        Ok(json!({"message": "Signed out on every device"}).into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{USER, code, post};

    #[test]
    fn parse_takes_the_user_and_only_every_device() {
        for body in [
            json!({"user_id": USER}),
            json!({"user_id": USER, "all_devices": true}),
        ] {
            assert_eq!(SignOut::parse(&post(body)).unwrap().me.user_id, *USER);
        }
        for (body, expected) in [
            (
                json!({"user_id": USER, "all_devices": false}),
                "400 invalid_field",
            ),
            (
                json!({"user_id": USER, "all_devices": "yes"}),
                "400 invalid_field",
            ),
            (json!({}), "400 missing_field"),
        ] {
            assert_eq!(
                code(SignOut::parse(&post(body.clone()))),
                expected,
                "{body}"
            );
        }
    }
}
