//! `POST /update_thread` `{"thread_id", "user_id", "topic"?, "metadata"?, "retention_days"?}`:
//! renames the thread, changes its metadata (merged: an empty value removes a key) or its
//! retention (`null`: kept until deleted). At least one of the three. A change that sets a
//! metadata key reads the thread's first (a second round trip), as ACS would merge it into
//! metadata of any size (`chat::thread`).

use lambda_http::Request;
use serde_json::json;

use crate::acs::ChatClient;
use crate::acs::chat::ThreadProperties;
use crate::api::caller::{Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{InThread, JsonBody};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::chat::text::{TextError, Topic};
use crate::chat::thread::{Metadata, MetadataUse, retention};

/// A valid `update_thread` request: something to change.
#[derive(Debug)]
pub struct UpdateThread {
    pub at: InThread,
    pub topic: Option<Topic>,
    pub metadata: Option<Metadata>,
    /// `Some(None)`: no retention any more.
    pub retention_days: Option<Option<u32>>,
}

impl Endpoint for UpdateThread {
    const SPEC: Spec = spec!("update_thread", Post);

    type Caller = Caller;

    type Parts<'a> = &'a ChatClient;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        // A blank topic is a missing one, as when the topic was the only thing to change.
        let topic = match body.optional_topic() {
            Err(ApiError::InvalidText {
                error: TextError::Blank,
                ..
            }) => return Err(ApiError::MissingField("topic")),
            topic => topic?,
        };
        let update = Self {
            at: InThread::from_body(&body)?,
            topic,
            metadata: body.metadata(MetadataUse::Change)?,
            retention_days: body.retention_days()?,
        };
        if update.topic.is_none() && update.metadata.is_none() && update.retention_days.is_none() {
            return Err(ApiError::MissingField("topic"));
        }
        Ok(update)
    }

    fn who(&self) -> Who<'_> {
        self.at.who()
    }

    async fn act(self, chat: Self::Parts<'_>, caller: Caller) -> Result<Answer, ApiError> {
        if let Some(metadata) = self.metadata.as_ref().filter(|m| m.adds()) {
            let thread = chat.get_thread(&caller.token, &self.at.thread_id).await?;
            metadata
                .fits_into(&thread.metadata)
                .map_err(|reason| ApiError::InvalidField {
                    field: "metadata",
                    reason,
                })?;
        }
        let properties = ThreadProperties {
            metadata: self.metadata.map(Metadata::into_map),
            retention_policy: self.retention_days.map(retention),
        };
        let topic = self.topic.as_ref().map(Topic::as_str);
        chat.update_thread(&caller.token, &self.at.thread_id, topic, &properties)
            .await?;
        let mut answer = json!({"message": "Thread updated successfully"});
        if let Some(topic) = &self.topic {
            answer["topic"] = json!(topic);
        }
        Ok(answer.into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{THREAD, USER, code, post, post_in_thread};

    #[test]
    fn parse_takes_a_topic_of_1_to_256_characters() {
        let with = |topic: serde_json::Value| json!({"thread_id": THREAD, "user_id": USER, "topic": topic});
        assert_eq!(
            UpdateThread::parse(&post(with(json!(" Lunch "))))
                .unwrap()
                .topic
                .unwrap(),
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

    #[test]
    fn parse_takes_metadata_or_retention_alone_and_refuses_a_request_that_changes_nothing() {
        let with = post_in_thread;
        let metadata = UpdateThread::parse(&with(json!({"metadata": {"team": ""}}))).unwrap();
        assert!(metadata.topic.is_none() && metadata.metadata.is_some());
        let forever = UpdateThread::parse(&with(json!({"retention_days": null}))).unwrap();
        assert_eq!(forever.retention_days, Some(None));
        let kept = UpdateThread::parse(&with(json!({"retention_days": 45}))).unwrap();
        assert_eq!(kept.retention_days, Some(Some(45)));
        for (what, extra, expected) in [
            ("nothing to change", json!({}), "400 missing_field"),
            (
                "29 days",
                json!({"retention_days": 29}),
                "400 invalid_field",
            ),
            (
                "91 days",
                json!({"retention_days": 91}),
                "400 invalid_field",
            ),
            (
                "days as text",
                json!({"retention_days": "45"}),
                "400 invalid_field",
            ),
            (
                "metadata not an object",
                json!({"metadata": "x"}),
                "400 invalid_field",
            ),
        ] {
            assert_eq!(code(UpdateThread::parse(&with(extra))), expected, "{what}");
        }
    }
}
