//! `POST /update_thread` `{"thread_id", "user_id", "topic"}`: renames the thread.

use lambda_http::Request;
use serde_json::json;

use crate::api::caller::{self, Caller, Who};
use crate::api::input::JsonBody;
use crate::api::spec::{Method, Needs, Spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::acs::{ThreadId, UserId};
use crate::chat::text::Topic;

/// A valid `update_thread` request.
#[derive(Debug)]
pub struct UpdateThread {
    pub thread_id: ThreadId,
    pub user_id: UserId,
    pub topic: Topic,
}

impl Endpoint for UpdateThread {
    const SPEC: Spec = Spec {
        name: "update_thread",
        routes: &["/update_thread"],
        method: Method::Post,
        needs: Needs::CHAT,
    };

    type Caller = Caller;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        Ok(Self {
            thread_id: body.id("thread_id")?,
            user_id: body.id("user_id")?,
            topic: body.topic()?,
        })
    }

    async fn who(&self, state: &AppState, request: &Request) -> Result<Caller, ApiError> {
        caller::authenticate(state, request, Who::user_id(&self.user_id)).await
    }

    async fn act(self, state: &AppState, caller: Caller) -> Result<Answer, ApiError> {
        state
            .chat()?
            .update_topic(&caller.token, &self.thread_id, self.topic.as_str())
            .await?;
        Ok(json!({"message": "Thread updated successfully", "topic": self.topic}).into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{THREAD, USER, code, post};

    #[test]
    fn parse_takes_a_topic_of_1_to_256_characters() {
        let with = |topic: serde_json::Value| json!({"thread_id": THREAD, "user_id": USER, "topic": topic});
        assert_eq!(
            UpdateThread::parse(&post(with(json!(" Lunch "))))
                .unwrap()
                .topic,
            "Lunch"
        );
        assert_eq!(
            code(UpdateThread::parse(&post(with(json!(""))))),
            "400 missing_field"
        );
        assert_eq!(
            code(UpdateThread::parse(&post(with(json!("t".repeat(257)))))),
            "400 invalid_field"
        );
        assert_eq!(
            code(UpdateThread::parse(&post(with(json!(5))))),
            "400 invalid_field"
        );
    }
}
