//! `POST /push_subscribe` `{"user_id", "subscription": {"endpoint", "keys": {"p256dh", "auth"}}}`:
//! a device of the person's takes Web Push, with the subscription its browser's
//! `PushSubscription.toJSON()` gives. The endpoint must be `https` at a push service the
//! deployment names (`PUSH_SERVICES`) and the keys a P-256 point and a 16-byte secret, all
//! checked before anything is kept (400 `invalid_subscription`). ACS accepts the caller's
//! token first, while the person's subscriptions are read: a token that merely reads right
//! would otherwise let anyone have another's messages pushed to them. A person keeps
//! [`MAX_PER_PERSON`] subscriptions; one more replaces their oldest. Two sequential round
//! trips.

use lambda_http::Request;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::acs::ChatClient;
use crate::acs::UserId;
use crate::api::caller::{Caller, Who, prove_unless_minted};
use crate::api::endpoint::spec;
use crate::api::input::JsonBody;
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::config::{Config, ConfigError};
use crate::people::People;
use crate::push::subscription::Subscription;

/// A `push_subscribe` request, its subscription not yet checked against the deployment's
/// push services.
#[derive(Debug)]
pub struct PushSubscribe {
    pub user_id: UserId,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// The string at `path` in `value`, named `field` in errors.
fn text(value: &Value, path: &[&str], field: &'static str) -> Result<String, ApiError> {
    let found = path.iter().try_fold(value, |value, key| value.get(key));
    match found {
        None | Some(Value::Null) => Err(ApiError::MissingField(field)),
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        Some(Value::String(_)) => Err(ApiError::MissingField(field)),
        Some(_) => Err(ApiError::InvalidField {
            field,
            reason: "must be a string",
        }),
    }
}

impl Endpoint for PushSubscribe {
    const SPEC: Spec = spec!("push_subscribe", Post);

    type Caller = Caller;

    type Parts<'a> = (&'a ChatClient, &'a People, &'a Config);

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        let subscription = match body.optional_value("subscription") {
            None | Some(Value::Null) => return Err(ApiError::MissingField("subscription")),
            Some(value @ Value::Object(_)) => value,
            Some(_) => {
                return Err(ApiError::InvalidField {
                    field: "subscription",
                    reason: "must be an object",
                });
            }
        };
        Ok(Self {
            user_id: body.id("user_id")?,
            endpoint: text(subscription, &["endpoint"], "subscription.endpoint")?,
            p256dh: text(
                subscription,
                &["keys", "p256dh"],
                "subscription.keys.p256dh",
            )?,
            auth: text(subscription, &["keys", "auth"], "subscription.keys.auth")?,
        })
    }

    fn who(&self) -> Who<'_> {
        Who::user_id(&self.user_id)
    }

    async fn act(
        self,
        (chat, people, config): Self::Parts<'_>,
        caller: Caller,
    ) -> Result<Answer, ApiError> {
        let push = config.push.as_ref();
        let services = &push
            .ok_or(ConfigError::Missing("PUSH_PUBLIC_KEY"))?
            .services;
        let subscription = Subscription::parse(&self.endpoint, &self.p256dh, &self.auth, services)?;
        let (proved, kept) = tokio::join!(
            prove_unless_minted(chat, &caller),
            people.threads(&self.user_id)
        );
        proved?;
        let subscribed = people
            .subscribe(
                &self.user_id,
                kept?,
                &subscription,
                OffsetDateTime::now_utc(),
            )
            .await?;
        Ok(json!({
            "subscribed": true,
            "subscriptions": subscribed.kept,
            "replaced": subscribed.replaced,
        })
        .into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{USER, code, post};

    #[test]
    fn parse_needs_the_subscription_as_a_browser_writes_it() {
        let with =
            |subscription: Value| post(json!({"user_id": USER, "subscription": subscription}));
        let whole = json!({"endpoint": "https://fcm.googleapis.com/x", "expirationTime": null,
                           "keys": {"p256dh": "BCVx", "auth": "BTBZ"}});
        let parsed = PushSubscribe::parse(&with(whole)).unwrap();
        assert_eq!(parsed.endpoint, "https://fcm.googleapis.com/x");
        assert_eq!(
            (parsed.p256dh.as_str(), parsed.auth.as_str()),
            ("BCVx", "BTBZ")
        );
        let cases = [
            (json!(null), "400 missing_field"),
            (json!("https://fcm.googleapis.com/x"), "400 invalid_field"),
            (
                json!({"keys": {"p256dh": "a", "auth": "b"}}),
                "400 missing_field",
            ),
            (
                json!({"endpoint": "https://x", "keys": {"auth": "b"}}),
                "400 missing_field",
            ),
            (
                json!({"endpoint": "https://x", "keys": {"p256dh": 1, "auth": "b"}}),
                "400 invalid_field",
            ),
            (json!({"endpoint": "https://x"}), "400 missing_field"),
        ];
        for (subscription, expected) in cases {
            assert_eq!(
                code(PushSubscribe::parse(&with(subscription.clone()))),
                expected,
                "{subscription}"
            );
        }
        let nobody = post(
            json!({"subscription": {"endpoint": "https://x", "keys": {"p256dh": "a", "auth": "b"}}}),
        );
        assert_eq!(code(PushSubscribe::parse(&nobody)), "400 missing_field");
    }
}
