//! `POST /delete_message` `{"thread_id", "user_id", "message_id"}`: deletes the caller's own
//! message; ACS refuses anyone else's (403). It stays in the history as deleted, which is how
//! other devices learn of it (`changes` in `get_messages`). Its files go first: deleted before
//! the message, a retry finds nothing left to delete, where deleted after, a failure would
//! leave files that nothing names.

use lambda_http::Request;
use serde_json::json;

use crate::acs::ChatClient;
use crate::api::caller::{Caller, Who};
use crate::api::endpoint::spec;
use crate::api::input::{JsonBody, OwnMessage};
use crate::api::spec::Spec;
use crate::api::{Answer, ApiError, Endpoint};
use crate::files::Attachment;
use crate::files::Files;

/// A valid `delete_message` request.
#[derive(Debug)]
pub struct DeleteMessage {
    pub own: OwnMessage,
}

impl Endpoint for DeleteMessage {
    const SPEC: Spec = spec!("delete_message", Post);

    type Caller = Caller;

    type Parts<'a> = (&'a ChatClient, Option<&'a Files>);

    fn parse(request: &Request) -> Result<Self, ApiError> {
        let body = JsonBody::parse(request)?;
        Ok(Self {
            own: OwnMessage::from_body(&body)?,
        })
    }

    fn who(&self) -> Who<'_> {
        self.own.at.who()
    }

    async fn act(self, (chat, files): Self::Parts<'_>, caller: Caller) -> Result<Answer, ApiError> {
        let thread = &self.own.at.thread_id;
        if let Some(files) = files {
            let message = chat
                .get_message(&caller.token, thread, &self.own.message_id)
                .await?;
            let (attachments, _) = Attachment::of_message(&message);
            // Only the sender's own message may be deleted (ACS refuses anyone else), so only
            // then are its files.
            let own = message.sender_id() == Some(caller.user_id.as_str());
            if own && message.deleted_on.is_none() && !attachments.is_empty() {
                let ids: Vec<_> = attachments.into_iter().map(|a| a.id).collect();
                let deleted = files.delete(thread, caller.user_id.as_str(), &ids).await?;
                tracing::info!(files = deleted, "deleted the message's files");
            }
        }
        chat.delete_message(&caller.token, thread, &self.own.message_id)
            .await?;
        Ok(json!({"message": "Message deleted successfully"}).into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::input::test_requests::{THREAD, USER, code, post};

    #[test]
    fn parse_takes_the_message_to_delete() {
        let body = json!({"thread_id": THREAD, "user_id": USER, "message_id": "42"});
        assert_eq!(
            DeleteMessage::parse(&post(body))
                .unwrap()
                .own
                .message_id
                .number(),
            42
        );
        let body = json!({"thread_id": THREAD, "user_id": USER, "message_id": "../42"});
        assert_eq!(code(DeleteMessage::parse(&post(body))), "400 invalid_field");
        let body = json!({"thread_id": THREAD, "user_id": USER});
        assert_eq!(code(DeleteMessage::parse(&post(body))), "400 missing_field");
    }
}
