//! `POST /create_thread` `{"user1_id", "topic"?, "metadata"?, "retention_days"?}`: user1 creates
//! a thread with its own token and becomes its first participant; ACS keeps the metadata and,
//! with `retention_days`, deletes the thread that many days after it was made. An `Idempotency-Key` header makes a retried call return the
//! same thread: it becomes ACS's repeatability id, made the caller's own (hashed with the
//! caller's id), so that another user's request with the same key can never be answered with
//! this caller's thread.

use lambda_http::Request;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::acs::chat::{ChatParticipant, ThreadProperties};
use crate::acs::{ChatClient, UserId};
use crate::api::caller::{Auth, Caller, Who, service_user_id};
use crate::api::endpoint::spec;
use crate::api::input::{JsonBody, idempotency_key};
use crate::api::parts::Trusted;
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::chat::send::ClientKey;
use crate::chat::text::{DisplayName, Topic};
use crate::chat::thread::{Metadata, MetadataUse, retention};

/// The original app's topic, used when the caller gives none.
pub const DEFAULT_TOPIC: &str = "Manual Two-Way Chat";

/// A valid `create_thread` request.
#[derive(Debug)]
pub struct CreateThread {
    pub user1_id: UserId,
    pub topic: Topic,
    /// user1's name in the thread.
    pub display_name: Option<DisplayName>,
    /// The client's `Idempotency-Key`, if it sent one.
    pub idempotency_key: Option<ClientKey>,
    pub metadata: Option<Metadata>,
    /// Days after which ACS deletes the thread; `None` keeps it.
    pub retention_days: Option<u32>,
}

/// ACS's repeatability id for `key` from `caller`: a UUID made of their hash.
fn repeatability_id(caller: &UserId, key: &ClientKey) -> String {
    let digest = Sha256::digest(format!("{caller}\n{key}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

impl Endpoint for CreateThread {
    const SPEC: Spec = spec!("create_thread", Post);

    type Caller = Caller;

    type Parts<'a> = (&'a ChatClient, Trusted<'a>);

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        Ok(Self {
            user1_id: body.id("user1_id")?,
            topic: match body.optional_topic()? {
                Some(topic) => topic,
                None => Topic::parse(DEFAULT_TOPIC).map_err(|error| ApiError::InvalidText {
                    field: "topic",
                    error,
                })?,
            },
            display_name: body.display_name()?,
            idempotency_key: idempotency_key(request)?,
            metadata: body.metadata(MetadataUse::New)?,
            retention_days: body.retention_days()?.flatten(),
        })
    }

    fn who(&self) -> Who<'_> {
        Who::User {
            field: "user1_id",
            id: &self.user1_id,
        }
    }

    async fn act(
        self,
        (chat, Trusted(admin)): Self::Parts<'_>,
        caller: Caller,
    ) -> Result<Answer, ApiError> {
        // ACS adds the creator itself; naming it too gives it its display name.
        let mut participants: Vec<ChatParticipant> = self
            .display_name
            .as_ref()
            .map(|name| ChatParticipant::user(&self.user1_id, Some(name.as_str())))
            .into_iter()
            .collect();
        // A minted caller means no caller token: add the service identity so that add_user
        // can act on this thread later without one.
        if caller.auth == Auth::Minted
            && let Some(admin) = admin
            && let Some(service) = service_user_id(admin).await?
        {
            participants.push(ChatParticipant::user(&service, None));
        }
        let repeatability_id = match &self.idempotency_key {
            Some(key) => repeatability_id(&caller.user_id, key),
            None => uuid::Uuid::new_v4().to_string(),
        };
        let properties = ThreadProperties {
            metadata: self.metadata.map(Metadata::into_map),
            retention_policy: self.retention_days.map(|days| retention(Some(days))),
        };
        let thread = chat
            .create_thread(
                &caller.token,
                self.topic.as_str(),
                &participants,
                &repeatability_id,
                &properties,
            )
            .await?;
        Ok(json!({"thread_id": thread.id}).into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{USER, code, post, raw_post};

    #[test]
    fn parse_reads_the_user_and_defaults_the_topic() {
        let parsed = CreateThread::parse(&post(json!({"user1_id": USER}))).unwrap();
        assert_eq!(parsed.user1_id, *USER);
        assert_eq!(parsed.topic, DEFAULT_TOPIC);
        assert_eq!(parsed.idempotency_key, None);
        let parsed =
            CreateThread::parse(&post(json!({"user1_id": USER, "topic": "  Lunch "}))).unwrap();
        assert_eq!(parsed.topic, "Lunch");
    }

    #[test]
    fn parse_takes_an_idempotency_key_of_at_most_64_characters() {
        let mut request = post(json!({"user1_id": USER}));
        request
            .headers_mut()
            .insert("idempotency-key", "retry-1".parse().unwrap());
        let parsed = CreateThread::parse(&request).unwrap();
        assert_eq!(parsed.idempotency_key.unwrap().as_str(), "retry-1");
        request
            .headers_mut()
            .insert("idempotency-key", "k".repeat(65).parse().unwrap());
        assert_eq!(code(CreateThread::parse(&request)), "400 invalid_field");
    }

    #[test]
    fn the_same_key_from_two_callers_is_two_repeatability_ids() {
        let key = ClientKey::parse("retry-1").unwrap();
        let alice = UserId::parse(USER).unwrap();
        let bob = UserId::parse("8:acs:res_bob").unwrap();
        let id = repeatability_id(&alice, &key);
        assert_eq!(
            id,
            repeatability_id(&alice, &key),
            "a retry is the same request"
        );
        assert_ne!(id, repeatability_id(&bob, &key));
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    }

    #[test]
    fn parse_refuses_each_malformed_request_with_its_own_code() {
        let long_topic = "t".repeat(257);
        let cases = [
            ("not json", raw_post("{"), "400 invalid_json"),
            ("an array body", post(json!([1])), "400 invalid_json"),
            ("no user1_id", post(json!({})), "400 missing_field"),
            (
                "an empty user1_id",
                post(json!({"user1_id": ""})),
                "400 missing_field",
            ),
            (
                "a numeric user1_id",
                post(json!({"user1_id": 7})),
                "400 invalid_field",
            ),
            (
                "a null user1_id",
                post(json!({"user1_id": null})),
                "400 missing_field",
            ),
            (
                "a malformed user1_id",
                post(json!({"user1_id": "user_id_1"})),
                "400 invalid_field",
            ),
            (
                "a thread id as user1_id",
                post(json!({"user1_id": "19:a@thread.v2"})),
                "400 invalid_field",
            ),
            (
                "a blank topic",
                post(json!({"user1_id": USER, "topic": " "})),
                "400 invalid_field",
            ),
            (
                "a topic past 256 characters",
                post(json!({"user1_id": USER, "topic": long_topic})),
                "400 invalid_field",
            ),
            (
                "a numeric topic",
                post(json!({"user1_id": USER, "topic": 1})),
                "400 invalid_field",
            ),
            (
                "a body past 64 KB",
                post(json!({"user1_id": USER, "pad": "x".repeat(70_000)})),
                "413 payload_too_large",
            ),
        ];
        for (what, request, expected) in cases {
            assert_eq!(code(CreateThread::parse(&request)), expected, "{what}");
        }
    }
}
