//! `POST /mark_read` `{"thread_id", "user_id", "sequence_id", "unread"?}`: the person has read
//! the thread up to the message `sequence_id`, on whichever device: every device of theirs sees
//! the same position, and `list_threads` counts what is unread from it.
//!
//! The position only moves forward, so devices reading at once never undo each other; with
//! `"unread": true` it moves back on purpose to just before `sequence_id` ("mark unread from
//! here"). ACS confirms the caller is in the thread first (one call with their token), so
//! nobody keeps positions for threads that are not theirs: two sequential round trips. A
//! position that moved is published to the person's own channel, so that their other devices'
//! inboxes change without a poll.

use lambda_http::Request;
use serde_json::json;

use crate::acs::ChatClient;
use crate::api::caller::{Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{InThread, JsonBody};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::people::Moved;
use crate::people::People;
use crate::realtime::Realtime;
use crate::realtime::update::Update;

/// A valid `mark_read` request.
#[derive(Debug)]
pub struct MarkRead {
    pub at: InThread,
    pub sequence_id: u64,
    /// Mark unread from `sequence_id` on: the position moves back to just before it.
    pub unread: bool,
}

impl Endpoint for MarkRead {
    const SPEC: Spec = spec!("mark_read", Post);

    type Caller = Caller;

    type Parts<'a> = (&'a ChatClient, &'a People, Option<&'a Realtime>);

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        Ok(Self {
            at: InThread::from_body(&body)?,
            sequence_id: body.positive("sequence_id")?,
            unread: body.flag("unread")?,
        })
    }

    fn who(&self) -> Who<'_> {
        self.at.who()
    }

    async fn act(
        self,
        (chat, people, realtime): Self::Parts<'_>,
        caller: Caller,
    ) -> Result<Answer, ApiError> {
        let thread = &self.at.thread_id;
        chat.probe_participants(&caller.token, thread).await?;
        let target = if self.unread {
            self.sequence_id - 1
        } else {
            self.sequence_id
        };
        let moved = people
            .mark_read(&self.at.user_id, thread, target, self.unread)
            .await?;
        if let (Moved::To(position), Some(realtime)) = (moved, realtime) {
            let read = Update::read(thread.clone(), position);
            // Best effort: the position is kept already; a device that misses this reads it
            // with its next inbox.
            if let Err(error) = realtime.tell(&self.at.user_id, &[&read]).await {
                tracing::warn!(%error, "read position not told");
            }
        }
        Ok(json!({
            "thread_id": thread,
            "read_up_to": match moved { Moved::To(position) => Some(position), Moved::Already => None },
            "moved": moved != Moved::Already,
        })
        .into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{code, post_in_thread};

    #[test]
    fn parse_takes_a_positive_sequence_id_and_an_optional_unread_flag() {
        let with = post_in_thread;
        let read = MarkRead::parse(&with(json!({"sequence_id": 7}))).unwrap();
        assert_eq!((read.sequence_id, read.unread), (7, false));
        let back = MarkRead::parse(&with(json!({"sequence_id": 7, "unread": true}))).unwrap();
        assert!(back.unread);
        for (what, extra, expected) in [
            ("no sequence id", json!({}), "400 missing_field"),
            (
                "sequence id 0",
                json!({"sequence_id": 0}),
                "400 invalid_field",
            ),
            (
                "a negative one",
                json!({"sequence_id": -3}),
                "400 invalid_field",
            ),
            (
                "a fraction",
                json!({"sequence_id": 1.5}),
                "400 invalid_field",
            ),
            ("a string", json!({"sequence_id": "7"}), "400 invalid_field"),
            (
                "past 2^53",
                json!({"sequence_id": 1u64 << 60}),
                "400 invalid_field",
            ),
            (
                "unread not a boolean",
                json!({"sequence_id": 7, "unread": "yes"}),
                "400 invalid_field",
            ),
        ] {
            assert_eq!(code(MarkRead::parse(&with(extra))), expected, "{what}");
        }
    }
}
