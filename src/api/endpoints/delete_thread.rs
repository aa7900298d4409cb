//! `POST /delete_thread` `{"thread_id", "user_id"}`: deletes the thread for everyone.

use lambda_http::Request;
use serde_json::json;

use crate::api::caller::{self, Caller, Who};
use crate::api::input::JsonBody;
use crate::api::spec::{Method, Needs, Spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::acs::{ThreadId, UserId};

/// A valid `delete_thread` request.
#[derive(Debug)]
pub struct DeleteThread {
    pub thread_id: ThreadId,
    pub user_id: UserId,
}

impl Endpoint for DeleteThread {
    const SPEC: Spec = Spec {
        name: "delete_thread",
        routes: &["/delete_thread"],
        method: Method::Post,
        needs: Needs::CHAT,
    };

    type Caller = Caller;

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        Ok(Self {
            thread_id: body.id("thread_id")?,
            user_id: body.id("user_id")?,
        })
    }

    async fn who(&self, state: &AppState, request: &Request) -> Result<Caller, ApiError> {
        caller::authenticate(state, request, Who::user_id(&self.user_id)).await
    }

    async fn act(self, state: &AppState, caller: Caller) -> Result<Answer, ApiError> {
        state
            .chat()?
            .delete_thread(&caller.token, &self.thread_id)
            .await?;
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
