//! `GET /get_participants?thread_id&user_id`: who is in the thread, with their display names.

use lambda_http::Request;
use serde_json::{Value, json};

use crate::api::caller::{self, Caller, Who};
use crate::api::input::Query;
use crate::api::spec::{Method, Needs, Spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::acs::{ThreadId, UserId};

/// A valid `get_participants` request.
#[derive(Debug)]
pub struct GetParticipants {
    pub thread_id: ThreadId,
    pub user_id: UserId,
}

impl Endpoint for GetParticipants {
    const SPEC: Spec = Spec {
        name: "get_participants",
        routes: &["/get_participants"],
        method: Method::Get,
        needs: Needs::CHAT,
    };

    type Caller = Caller;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let query = Query::parse(request, &["thread_id", "user_id"])?;
        Ok(Self {
            thread_id: query.id("thread_id")?,
            user_id: query.id("user_id")?,
        })
    }

    async fn who(&self, state: &AppState, request: &Request) -> Result<Caller, ApiError> {
        caller::authenticate(state, request, Who::user_id(&self.user_id)).await
    }

    async fn act(self, state: &AppState, caller: Caller) -> Result<Answer, ApiError> {
        let participants = state
            .chat()?
            .list_participants(&caller.token, &self.thread_id)
            .await?;
        let participants: Vec<Value> = participants
            .iter()
            .filter_map(|p| {
                Some(json!({
                    "user_id": p.communication_identifier.id()?,
                    "display_name": p.display_name,
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
        assert_eq!(parsed.thread_id, *THREAD);
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
