//! `POST /create_thread` `{"user1_id", "topic"?}`: user1 creates a thread with its own token and
//! becomes its first participant. An `Idempotency-Key` header makes a retried call return the
//! same thread (it becomes ACS's repeatability id).

use lambda_http::Request;
use serde_json::json;

use super::caller::{Auth, Caller, Who};
use super::input::{JsonBody, display_name, topic};
use super::{Answer, ApiError, AppState, Endpoint};
use crate::acs::UserId;
use crate::acs::chat::ChatParticipant;

/// The original app's topic, used when the caller gives none.
pub const DEFAULT_TOPIC: &str = "Manual Two-Way Chat";

/// A valid `create_thread` request.
#[derive(Debug)]
pub struct CreateThread {
    pub user1_id: UserId,
    pub topic: String,
    /// user1's name in the thread.
    pub display_name: Option<String>,
    /// The client's `Idempotency-Key`, if it sent one.
    pub idempotency_key: Option<String>,
}

impl Endpoint for CreateThread {
    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        let user1_id = body.id("user1_id")?;
        let topic = topic(body.optional("topic")?.unwrap_or(DEFAULT_TOPIC))?;
        let display_name = display_name(&body)?;
        let idempotency_key = match request.headers().get("idempotency-key") {
            Some(key) => Some(
                key.to_str()
                    .ok()
                    .filter(|k| !k.is_empty() && k.len() <= 64)
                    .ok_or(ApiError::InvalidField {
                        field: "Idempotency-Key",
                        reason: "must be 1 to 64 visible ASCII characters",
                    })?
                    .to_owned(),
            ),
            None => None,
        };
        Ok(Self {
            user1_id,
            topic,
            display_name,
            idempotency_key,
        })
    }

    fn who(&self) -> Who<'_> {
        Who::User {
            field: "user1_id",
            id: &self.user1_id,
        }
    }

    async fn act(self, state: &AppState, caller: &Caller) -> Result<Answer, ApiError> {
        // ACS adds the creator itself; naming it too gives it its display name.
        let mut participants: Vec<ChatParticipant> = self
            .display_name
            .as_deref()
            .map(|name| ChatParticipant::user(&self.user1_id, Some(name)))
            .into_iter()
            .collect();
        // A minted caller means no caller token: add the service identity so that add_user
        // can act on this thread later without one.
        if caller.auth == Auth::Minted
            && let Some(service) = state.service_user_id().await?
        {
            participants.push(ChatParticipant::user(&service, None));
        }
        let repeatability_id = self
            .idempotency_key
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let thread = state
            .chat()?
            .create_thread(&caller.token, &self.topic, &participants, &repeatability_id)
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
        assert_eq!(parsed.idempotency_key.as_deref(), Some("retry-1"));
        request
            .headers_mut()
            .insert("idempotency-key", "k".repeat(65).parse().unwrap());
        assert_eq!(code(CreateThread::parse(&request)), "400 invalid_field");
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
