//! `POST /update_thread` `{"thread_id", "user_id", "topic"}`: renames the thread.

use lambda_http::Request;
use serde_json::json;

use crate::api::caller::{Caller, Who};
use crate::api::input::{InThread, JsonBody};
use crate::api::spec::{Spec, spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::chat::text::Topic;

/// A valid `update_thread` request.
#[derive(Debug)]
pub struct UpdateThread {
    pub at: InThread,
    pub topic: Topic,
}

impl Endpoint for UpdateThread {
    const SPEC: Spec = spec!("update_thread", Post);

    type Caller = Caller;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        Ok(Self {
            at: InThread::from_body(&body)?,
            topic: body.topic()?,
        })
    }

    fn who(&self) -> Who<'_> {
        self.at.who()
    }

    async fn act(self, state: &AppState, caller: Caller) -> Result<Answer, ApiError> {
        state
            .chat()?
            .update_topic(&caller.token, &self.at.thread_id, self.topic.as_str())
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
