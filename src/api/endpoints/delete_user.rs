//! `POST /delete_user` `{"user_id"}`: deletes the caller's own identity, and with it every
//! token it holds: the "forget me" a real product needs. ACS proves the caller's token first,
//! so that a token which only reads right cannot delete anyone. Two sequential round trips,
//! and where people sign in, the person's record goes too (a table read and a write).

use lambda_http::Request;
use serde_json::json;

use crate::acs::ChatClient;
use crate::admin::Admin;
use crate::api::caller::{self, Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{JsonBody, OwnIdentity};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::people::People;

/// A valid `delete_user` request.
#[derive(Debug)]
pub struct DeleteUser {
    pub me: OwnIdentity,
}

impl Endpoint for DeleteUser {
    const SPEC: Spec = spec!("delete_user", Post);

    type Caller = Caller;

    type Parts<'a> = (&'a ChatClient, &'a Admin, Option<&'a People>);

    fn parse(request: &Request) -> Result<Self, ApiError> {
        Ok(Self {
            me: OwnIdentity::from_body(&JsonBody::parse(request)?)?,
        })
    }

    fn who(&self) -> Who<'_> {
        self.me.who()
    }

    async fn act(
        self,
        (chat, admin, people): Self::Parts<'_>,
        caller: Caller,
    ) -> Result<Answer, ApiError> {
        caller::prove_with_acs(chat, &caller).await?;
        let user_id = &self.me.user_id;
        admin
            .with_identity(|identity| async move { identity.delete_user(user_id).await })
            .await?;
        // A person who signed in with this identity signs in to a fresh one next time.
        if let Some(people) = people {
            people.forget(user_id).await?;
        }
        Ok(json!({"message": "User deleted successfully"}).into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{USER, code, post};

    #[test]
    fn parse_takes_the_user_to_delete() {
        assert_eq!(
            DeleteUser::parse(&post(json!({"user_id": USER})))
                .unwrap()
                .me
                .user_id,
            *USER
        );
        assert_eq!(
            code(DeleteUser::parse(&post(json!({"user_id": "me"})))),
            "400 invalid_field"
        );
        assert_eq!(
            code(DeleteUser::parse(&post(json!({})))),
            "400 missing_field"
        );
    }
}
