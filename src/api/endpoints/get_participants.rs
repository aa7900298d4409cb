//! `GET /get_participants?thread_id&user_id`: who is in the thread, with their display names.

use crate::chat::text::shown_name;
use lambda_http::Request;
use serde_json::{Value, json};

use crate::acs::ChatClient;
use crate::api::caller::{Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{InThread, Query};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};

/// A valid `get_participants` request.
#[derive(Debug)]
pub struct GetParticipants {
    pub at: InThread,
}

impl Endpoint for GetParticipants {
    const SPEC: Spec = spec!("get_participants", Get);

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
        let participants = chat
            .list_participants(&caller.token, &self.at.thread_id)
            .await?;
        let participants: Vec<Value> = participants
            .iter()
            .filter_map(|p| {
                Some(json!({
                    "user_id": p.communication_identifier.id()?,
                    "display_name": p.display_name.as_deref().and_then(shown_name),
                }))
            })
            .collect();
        Ok(json!({"participants": participants}).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::input::test_requests::{THREAD, USER, code, get};

    #[test]
    fn parse_takes_the_thread_and_the_caller() {
        let parsed =
            GetParticipants::parse(&get(&[("thread_id", THREAD), ("user_id", USER)])).unwrap();
        assert_eq!(parsed.at.thread_id, *THREAD);
        assert_eq!(
            code(GetParticipants::parse(&get(&[("user_id", USER)]))),
            "400 missing_field"
        );
        assert_eq!(
            code(GetParticipants::parse(&get(&[
                ("thread_id", THREAD),
                ("user_id", USER),
                ("page", "1")
            ]))),
            "400 unknown_query_parameter"
        );
    }
}
