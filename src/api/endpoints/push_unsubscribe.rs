//! `POST /push_unsubscribe` `{"user_id", "endpoint"}`: a device of the person's takes no more
//! pushes (the page calls it when they turn notifications off). ACS accepts the caller's token
//! first, so nobody else can silence a person's devices. Answers whether there was such a
//! subscription; either way there is none after. Two sequential round trips.

use lambda_http::Request;
use serde_json::json;

use crate::acs::ChatClient;
use crate::acs::UserId;
use crate::api::caller::{Caller, Who, prove_unless_minted};
use crate::api::endpoint::spec;
use crate::api::input::JsonBody;
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::people::People;
use crate::push::subscription::{MAX_ENDPOINT_BYTES, key_of};

/// A valid `push_unsubscribe` request.
#[derive(Debug)]
pub struct PushUnsubscribe {
    pub user_id: UserId,
    pub endpoint: String,
}

impl Endpoint for PushUnsubscribe {
    const SPEC: Spec = spec!("push_unsubscribe", Post);

    type Caller = Caller;

    type Parts<'a> = (&'a ChatClient, &'a People);

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        let endpoint = body.required("endpoint")?;
        if endpoint.len() > MAX_ENDPOINT_BYTES {
            return Err(ApiError::InvalidField {
                field: "endpoint",
                reason: "is longer than any subscription's",
            });
        }
        Ok(Self {
            user_id: body.id("user_id")?,
            endpoint: endpoint.to_owned(),
        })
    }

    fn who(&self) -> Who<'_> {
        Who::user_id(&self.user_id)
    }

    async fn act(
        self,
        (chat, people): Self::Parts<'_>,
        caller: Caller,
    ) -> Result<Answer, ApiError> {
        prove_unless_minted(chat, &caller).await?;
        let removed = people
            .unsubscribe(&self.user_id, &key_of(&self.endpoint))
            .await?;
        Ok(json!({"unsubscribed": removed}).into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{USER, code, post};

    #[test]
    fn parse_needs_an_endpoint_no_longer_than_a_subscription_s() {
        let with =
            |endpoint: serde_json::Value| post(json!({"user_id": USER, "endpoint": endpoint}));
        assert_eq!(
            PushUnsubscribe::parse(&with(json!("https://x/y")))
                .unwrap()
                .endpoint,
            "https://x/y"
        );
        assert_eq!(
            code(PushUnsubscribe::parse(&with(json!(null)))),
            "400 missing_field"
        );
        assert_eq!(
            code(PushUnsubscribe::parse(&with(json!(7)))),
            "400 invalid_field"
        );
        let long = "x".repeat(MAX_ENDPOINT_BYTES + 1);
        assert_eq!(
            code(PushUnsubscribe::parse(&with(json!(long)))),
            "400 invalid_field"
        );
    }
}
