//! `GET /download_url?thread_id&user_id&attachment_id`: a presigned S3 download of one of the
//! thread's files, for a participant, valid five minutes. Only an allowed image type may be
//! shown in the page; anything else is served as a download (`Content-Disposition:
//! attachment`), so no HTML or SVG ever runs from the bucket's origin.

use crate::acs::ChatClient;
use crate::api::caller::{Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{InThread, Query};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::config::ConfigError;
use crate::files::Files;
use crate::files::{AttachmentId, FileError};
use lambda_http::Request;

/// A valid `download_url` request.
#[derive(Debug)]
pub struct DownloadUrl {
    pub at: InThread,
    pub attachment_id: AttachmentId,
}

impl Endpoint for DownloadUrl {
    const SPEC: Spec = spec!("download_url", Get);

    type Caller = Caller;

    type Parts<'a> = (&'a ChatClient, Option<&'a Files>);

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let query = Query::parse(request, &["thread_id", "user_id", "attachment_id"])?;
        let attachment_id =
            AttachmentId::parse(query.required("attachment_id")?).ok_or(ApiError::InvalidId {
                field: "attachment_id",
                form: "an attachment id (32 hex digits)",
            })?;
        Ok(Self {
            at: InThread::from_query(&query)?,
            attachment_id,
        })
    }

    fn who(&self) -> Who<'_> {
        self.at.who()
    }

    async fn act(self, (chat, files): Self::Parts<'_>, caller: Caller) -> Result<Answer, ApiError> {
        let files = files.ok_or(ConfigError::Missing("FILES_BUCKET"))?;
        let thread = &self.at.thread_id;
        // Membership and the object at once: the answer waits for both, and a stranger's
        // refusal says nothing of whether the file exists.
        let (member, download) = tokio::join!(
            chat.probe_participants(&caller.token, thread),
            files.download(thread, &self.attachment_id),
        );
        member?;
        let download =
            download?.ok_or_else(|| FileError::NotFound(self.attachment_id.as_str().to_owned()))?;
        Answer::json(&download)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::input::test_requests::{THREAD, USER, code, get};

    #[test]
    fn parse_takes_an_attachment_id_of_ours_and_nothing_else() {
        let id = "0123456789abcdef0123456789abcdef";
        let parsed = DownloadUrl::parse(&get(&[
            ("thread_id", THREAD),
            ("user_id", USER),
            ("attachment_id", id),
        ]))
        .unwrap();
        assert_eq!(parsed.attachment_id.as_str(), id);
        for bad in [
            "../../etc/passwd",
            "threads/x",
            "0123456789ABCDEF0123456789ABCDEF",
        ] {
            assert_eq!(
                code(DownloadUrl::parse(&get(&[
                    ("thread_id", THREAD),
                    ("user_id", USER),
                    ("attachment_id", bad),
                ]))),
                "400 invalid_field",
                "{bad}"
            );
        }
        assert_eq!(
            code(DownloadUrl::parse(&get(&[
                ("thread_id", THREAD),
                ("user_id", USER)
            ]))),
            "400 missing_field"
        );
    }
}
