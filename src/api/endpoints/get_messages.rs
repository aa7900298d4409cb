//! `GET /get_messages?thread_id&user_id[&since[&changes_since]]`: what is new since this
//! caller's last fetch, oldest first, with no server-side state of ours.
//!
//! Without `since`, the cursor is the person's read position where the deployment keeps the
//! people table (the same on every device, at any group size, and moved on by what this answer
//! shows), else the caller's own ACS read receipt (ACS keeps receipts only in threads of 20 or
//! fewer); the answer is what others wrote. A read receipt is still sent, for other ACS
//! clients, where ACS takes it. With `since=<sequence id>` the caller holds the cursor: every message after it, the
//! caller's own included (`mine`), and `next_since`; with `changes_since` too, the edits and
//! deletions since then (`changes`, `next_changes_since`).

use lambda_http::Request;

use crate::acs::ChatClient;
use crate::api::caller::{Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{InThread, Query};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::chat::sync::{NewMessages, new_by_position, new_by_receipt, new_since};
use crate::people::People;

/// A valid `get_messages` request.
#[derive(Debug)]
pub struct GetMessages {
    pub at: InThread,
    /// The caller-held cursor; `None` uses the read receipt.
    pub since: Option<u64>,
    /// The newest change the caller has seen (epoch ms), with `since`.
    pub changes_since: Option<u64>,
}

impl Endpoint for GetMessages {
    const SPEC: Spec = spec!("get_messages", Get);

    type Caller = Caller;

    type Parts<'a> = (&'a ChatClient, Option<&'a People>);

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let query = Query::parse(request, &["thread_id", "user_id", "since", "changes_since"])?;
        let at = InThread::from_query(&query)?;
        let since = query.number("since", "must be a sequence id (a whole number)")?;
        let changes_since = query.number(
            "changes_since",
            "must be a next_changes_since value (a whole number)",
        )?;
        if changes_since.is_some() && since.is_none() {
            return Err(ApiError::InvalidField {
                field: "changes_since",
                reason: "goes with since",
            });
        }
        Ok(Self {
            at,
            since,
            changes_since,
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
        let (token, me) = (&caller.token, &caller.user_id);
        let new = match self.since {
            Some(since) => {
                new_since(
                    chat,
                    token,
                    &self.at.thread_id,
                    me,
                    since,
                    self.changes_since,
                )
                .await?
            }
            None => match people {
                // Boxed: kept off the stack, as the walk's future is large.
                Some(people) => Box::pin(by_position(chat, people, &caller, &self.at)).await?,
                None => new_by_receipt(chat, token, &self.at.thread_id, me).await?,
            },
        };
        Answer::json(&new)
    }
}

/// What is new from the person's read position, which then moves to the newest message shown,
/// beside a read receipt for other ACS clients (one round trip for both).
async fn by_position(
    chat: &ChatClient,
    people: &People,
    caller: &Caller,
    at: &InThread,
) -> Result<NewMessages, ApiError> {
    let (token, me, thread) = (&caller.token, &caller.user_id, &at.thread_id);
    let position = async { people.read_up_to(me, thread).await.map_err(ApiError::from) };
    let (new, position) = new_by_position(chat, token, thread, me, position).await?;
    if let Some(newest) = new.messages.iter().max_by_key(|m| m.sequence_id)
        && newest.sequence_id > position
    {
        let (moved, receipt) = tokio::join!(
            people.mark_read(me, thread, newest.sequence_id, false),
            chat.send_read_receipt(token, thread, &newest.id),
        );
        moved?;
        if let Err(error) = receipt {
            // The position is what counts; a receipt is a courtesy to other ACS clients.
            tracing::warn!(%error, "the read receipt was not taken");
        }
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::input::test_requests::{THREAD, USER, code, get};

    #[test]
    fn parse_reads_an_optional_since_cursor() {
        let parsed = GetMessages::parse(&get(&[("thread_id", THREAD), ("user_id", USER)])).unwrap();
        assert_eq!(parsed.since, None);
        let parsed = GetMessages::parse(&get(&[
            ("thread_id", THREAD),
            ("user_id", USER),
            ("since", "42"),
        ]))
        .unwrap();
        assert_eq!(parsed.since, Some(42));
        let parsed = GetMessages::parse(&get(&[
            ("thread_id", THREAD),
            ("user_id", USER),
            ("since", ""),
        ]))
        .unwrap();
        assert_eq!(parsed.since, None, "an empty since is no cursor");
    }

    #[test]
    fn parse_refuses_each_malformed_query_with_its_own_code() {
        let cases = [
            (
                "no thread_id",
                get(&[("user_id", USER)]),
                "400 missing_field",
            ),
            (
                "no user_id",
                get(&[("thread_id", THREAD)]),
                "400 missing_field",
            ),
            (
                "an empty thread_id",
                get(&[("thread_id", ""), ("user_id", USER)]),
                "400 missing_field",
            ),
            (
                "a malformed thread_id",
                get(&[("thread_id", "19:a&b@thread.v2"), ("user_id", USER)]),
                "400 invalid_field",
            ),
            (
                "a malformed user_id",
                get(&[("thread_id", THREAD), ("user_id", "8:acs:")]),
                "400 invalid_field",
            ),
            (
                "a negative since",
                get(&[("thread_id", THREAD), ("user_id", USER), ("since", "-1")]),
                "400 invalid_field",
            ),
            (
                "a since past any number",
                get(&[
                    ("thread_id", THREAD),
                    ("user_id", USER),
                    ("since", "99999999999999999999"),
                ]),
                "400 invalid_field",
            ),
            (
                "an unknown parameter",
                get(&[("thread_id", THREAD), ("user_id", USER), ("page", "2")]),
                "400 unknown_query_parameter",
            ),
        ];
        for (what, request, expected) in cases {
            assert_eq!(code(GetMessages::parse(&request)), expected, "{what}");
        }
    }
}
