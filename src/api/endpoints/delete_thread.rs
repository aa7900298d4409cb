//! `POST /delete_thread` `{"thread_id", "user_id"}`: deletes the thread for everyone, and every
//! file under it. The files go once ACS has shown the caller is in the thread and before the
//! thread itself, so that a failure on the way leaves a thread to delete again, never files
//! of a thread that is gone.

use lambda_http::Request;
use serde_json::json;

use crate::acs::ChatClient;
use crate::api::caller::{Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{InThread, JsonBody};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::files::Files;

/// A valid `delete_thread` request.
#[derive(Debug)]
pub struct DeleteThread {
    pub at: InThread,
}

impl Endpoint for DeleteThread {
    const SPEC: Spec = spec!("delete_thread", Post);

    type Caller = Caller;

    type Parts<'a> = (&'a ChatClient, Option<&'a Files>);

    fn parse(request: &Request) -> Result<Self, ApiError> {
        Ok(Self {
            at: InThread::from_body(&JsonBody::parse(request)?)?,
        })
    }

    fn who(&self) -> Who<'_> {
        self.at.who()
    }

    async fn act(self, (chat, files): Self::Parts<'_>, caller: Caller) -> Result<Answer, ApiError> {
        let thread = &self.at.thread_id;
        if let Some(files) = files {
            chat.probe_participants(&caller.token, thread).await?;
            let deleted = files.delete_thread(thread).await?;
            tracing::info!(files = deleted, "deleted the thread's files");
        }
        chat.delete_thread(&caller.token, thread).await?;
        Ok(json!({"message": "Thread deleted successfully"}).into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{THREAD, USER, code, post};

    #[test]
    fn parse_takes_the_thread_and_the_caller() {
        assert!(DeleteThread::parse(&post(json!({"thread_id": THREAD, "user_id": USER}))).is_ok());
        assert_eq!(
            code(DeleteThread::parse(&post(
                json!({"thread_id": USER, "user_id": USER})
            ))),
            "400 invalid_field"
        );
    }
}
