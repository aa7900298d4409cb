//! `POST /mute_thread` `{"thread_id", "user_id", "muted"}`: the person mutes or unmutes a thread
//! for all their devices. A muted thread's unread messages are still counted, but not in the
//! inbox's `unread_total`. ACS confirms the caller is in the thread first (one call with their
//! token): two sequential round trips.

use lambda_http::Request;
use serde_json::json;

use crate::acs::ChatClient;
use crate::api::caller::{Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{InThread, JsonBody};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::people::People;

/// A valid `mute_thread` request.
#[derive(Debug)]
pub struct MuteThread {
    pub at: InThread,
    pub muted: bool,
}

impl Endpoint for MuteThread {
    const SPEC: Spec = spec!("mute_thread", Post);

    type Caller = Caller;

    type Parts<'a> = (&'a ChatClient, &'a People);

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        if body.optional_value("muted").is_none() {
            return Err(ApiError::MissingField("muted"));
        }
        Ok(Self {
            at: InThread::from_body(&body)?,
            muted: body.flag("muted")?,
        })
    }

    fn who(&self) -> Who<'_> {
        self.at.who()
    }

    async fn act(
        self,
        (chat, people): Self::Parts<'_>,
        caller: Caller,
    ) -> Result<Answer, ApiError> {
        let thread = &self.at.thread_id;
        chat.probe_participants(&caller.token, thread).await?;
        people
            .set_muted(&self.at.user_id, thread, self.muted)
            .await?;
        Ok(json!({"thread_id": thread, "muted": self.muted}).into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{THREAD, USER, code, post};

    #[test]
    fn parse_needs_muted_as_a_boolean() {
        let with = |muted: serde_json::Value| {
            post(json!({"thread_id": THREAD, "user_id": USER, "muted": muted}))
        };
        assert!(MuteThread::parse(&with(json!(true))).unwrap().muted);
        assert!(!MuteThread::parse(&with(json!(false))).unwrap().muted);
        assert_eq!(
            code(MuteThread::parse(&with(json!(null)))),
            "400 missing_field"
        );
        assert_eq!(
            code(MuteThread::parse(&with(json!(1)))),
            "400 invalid_field"
        );
        let without = post(json!({"thread_id": THREAD, "user_id": USER}));
        assert_eq!(code(MuteThread::parse(&without)), "400 missing_field");
    }
}
