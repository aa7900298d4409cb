//! `POST /upload_url {"thread_id", "user_id", "name", "content_type", "size"}`: a presigned
//! S3 upload of one file into the thread, for a participant: the page sends the bytes straight
//! to S3 with it, and then names the answer's `attachment_id` in `send_message`. Each person may
//! sign a day's worth (`FILES_DAILY_UPLOADS`, `FILES_DAILY_BYTES`), counted in the people table
//! once ACS has shown them a member: a second round trip, and a refusal changes no count.

use lambda_http::Request;
use time::OffsetDateTime;

use crate::acs::ChatClient;
use crate::api::caller::{Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{InThread, JsonBody};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::config::ConfigError;
use crate::files::Files;
use crate::people::Counted;
use crate::people::People;

/// A valid `upload_url` request: what the caller says of the file, checked against the
/// deployment's rules in [`act`](Endpoint::act) before anything is signed.
#[derive(Debug)]
pub struct UploadUrl {
    pub at: InThread,
    pub name: String,
    pub content_type: String,
    pub size: u64,
}

impl Endpoint for UploadUrl {
    const SPEC: Spec = spec!("upload_url", Post);

    type Caller = Caller;

    type Parts<'a> = (&'a ChatClient, Option<&'a Files>, &'a People);

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        let size = match body.optional_value("size") {
            None => return Err(ApiError::MissingField("size")),
            Some(value) => value.as_u64().ok_or(ApiError::InvalidField {
                field: "size",
                reason: "must be the file's size in bytes, a whole number",
            })?,
        };
        Ok(Self {
            at: InThread::from_body(&body)?,
            name: body.required("name")?.to_owned(),
            content_type: body.required("content_type")?.to_ascii_lowercase(),
            size,
        })
    }

    fn who(&self) -> Who<'_> {
        self.at.who()
    }

    async fn act(
        self,
        (chat, files, people): Self::Parts<'_>,
        caller: Caller,
    ) -> Result<Answer, ApiError> {
        let files = files.ok_or(ConfigError::Missing("FILES_BUCKET"))?;
        let name = files.check(&self.name, &self.content_type, self.size)?;
        chat.probe_participants(&caller.token, &self.at.thread_id)
            .await?;
        let now = OffsetDateTime::now_utc();
        let counted = people
            .count_upload(&caller.user_id, self.size, files.daily(), now)
            .await?;
        if counted == Counted::OverQuota {
            return Err(ApiError::UploadQuota {
                until_tomorrow: until_tomorrow(now),
            });
        }
        let upload = files.upload(
            &self.at.thread_id,
            &caller.user_id,
            &name,
            &self.content_type,
            self.size,
        )?;
        Answer::json(&upload)
    }
}

/// How long until the next UTC day, when a person's quota starts afresh.
fn until_tomorrow(now: OffsetDateTime) -> std::time::Duration {
    let tomorrow = now.date().next_day().map(|day| day.midnight().assume_utc());
    let left = tomorrow.map_or(time::Duration::DAY, |tomorrow| tomorrow - now);
    std::time::Duration::try_from(left).unwrap_or(std::time::Duration::from_secs(86_400))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{code, post_in_thread};

    #[test]
    fn parse_takes_the_file_s_name_type_and_size() {
        let parsed = UploadUrl::parse(&post_in_thread(
            json!({"name": "a.png", "content_type": "Image/PNG", "size": 5}),
        ))
        .unwrap();
        assert_eq!(
            (
                parsed.name.as_str(),
                parsed.content_type.as_str(),
                parsed.size
            ),
            ("a.png", "image/png", 5)
        );
    }

    #[test]
    fn parse_refuses_a_file_described_wrongly() {
        let cases = [
            (
                json!({"content_type": "image/png", "size": 5}),
                "400 missing_field",
            ),
            (json!({"name": "a.png", "size": 5}), "400 missing_field"),
            (
                json!({"name": "a.png", "content_type": "image/png"}),
                "400 missing_field",
            ),
            (
                json!({"name": "a.png", "content_type": "image/png", "size": -1}),
                "400 invalid_field",
            ),
            (
                json!({"name": "a.png", "content_type": "image/png", "size": "5"}),
                "400 invalid_field",
            ),
            (
                json!({"name": 7, "content_type": "image/png", "size": 5}),
                "400 invalid_field",
            ),
        ];
        for (fields, expected) in cases {
            assert_eq!(
                code(UploadUrl::parse(&post_in_thread(fields.clone()))),
                expected,
                "{fields}"
            );
        }
    }
}
