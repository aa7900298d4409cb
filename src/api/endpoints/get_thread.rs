//! `GET /get_thread?thread_id&user_id`: the thread's topic, when it was made, its metadata and
//! its retention (and so when ACS will delete it), as the caller, a participant, may see them.

use crate::chat::text::shown_topic;
use lambda_http::Request;
use serde_json::json;

use crate::acs::ChatClient;
use crate::api::caller::{Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{InThread, Query};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::timestamp::Timestamp;

/// A valid `get_thread` request.
#[derive(Debug)]
pub struct GetThread {
    pub at: InThread,
}

impl Endpoint for GetThread {
    const SPEC: Spec = spec!("get_thread", Get);

    type Caller = Caller;

    type Parts<'a> = &'a ChatClient;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let query = Query::parse(request, &["thread_id", "user_id"])?;
        Ok(Self {
            at: InThread::from_query(&query)?,
        })
    }

    fn who(&self) -> Who<'_> {
        self.at.who()
    }

    async fn act(self, chat: Self::Parts<'_>, caller: Caller) -> Result<Answer, ApiError> {
        let thread = chat.get_thread(&caller.token, &self.at.thread_id).await?;
        let retention_days = thread.retention_policy.and_then(|policy| policy.days());
        let deletes_on = retention_days
            .map(|days| Timestamp::from(thread.created_on + time::Duration::days(days.into())));
        Ok(json!({
            "thread_id": thread.id,
            "topic": shown_topic(&thread.topic),
            "created_on": Timestamp::from(thread.created_on),
            "metadata": thread.metadata,
            "retention_days": retention_days,
            "deletes_on": deletes_on,
        })
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::input::test_requests::{THREAD, USER, code, get};

    #[test]
    fn parse_takes_the_thread_and_the_caller_and_nothing_else() {
        let parsed = GetThread::parse(&get(&[("thread_id", THREAD), ("user_id", USER)])).unwrap();
        assert_eq!(parsed.at.thread_id, *THREAD);
        assert_eq!(
            code(GetThread::parse(&get(&[("user_id", USER)]))),
            "400 missing_field"
        );
        assert_eq!(
            code(GetThread::parse(&get(&[
                ("thread_id", THREAD),
                ("user_id", USER),
                ("topic", "x")
            ]))),
            "400 unknown_query_parameter"
        );
    }
}
