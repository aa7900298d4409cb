//! The ACS Chat API, called with a user's bearer token so that ACS itself decides what that
//! user may do (membership, scopes). This client holds no credential of its own; its wire
//! types are in [`wire`].

pub mod wire;

use reqwest::{Method, RequestBuilder, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

pub use self::wire::*;
use self::wire::{AddParticipantsResponse, CreateThreadResponse, SendMessageResponse};
use super::cursor::PageCursor;
use super::error::AcsError;
use super::http::{AcsHttp, Idempotency, decode_json, encode_json, versioned_url};
use super::ids::{MessageId, ThreadId, UserId, encode_segment};
use super::token::BearerToken;

/// Client for the Chat API. Cheap to clone; every call takes the acting user's token.
#[derive(Debug, Clone)]
pub struct ChatClient {
    http: AcsHttp,
    endpoint: Url,
}

impl ChatClient {
    /// A client for the resource at `endpoint`, which should end in `/` (as
    /// [`parse_endpoint`](super::connection_string::parse_endpoint) makes it) so that paths
    /// join under it rather than beside it.
    pub fn new(http: AcsHttp, endpoint: Url) -> Self {
        Self { http, endpoint }
    }

    fn url(&self, path: &str) -> Result<Url, AcsError> {
        versioned_url(&self.endpoint, path, API_VERSION)
    }

    /// The thread's own URL, at [`THREAD_API_VERSION`].
    fn thread_properties_url(&self, thread_id: &ThreadId) -> Result<Url, AcsError> {
        let path = format!("chat/threads/{}", encode_segment(thread_id.as_str()));
        versioned_url(&self.endpoint, &path, THREAD_API_VERSION)
    }

    fn thread_url(&self, thread_id: &ThreadId, rest: &str) -> Result<Url, AcsError> {
        self.url(&format!(
            "chat/threads/{}{rest}",
            encode_segment(thread_id.as_str())
        ))
    }

    fn request(&self, token: &BearerToken, method: Method, url: &Url) -> RequestBuilder {
        self.http
            .client()
            .request(method, url.clone())
            .bearer_auth(token.expose())
    }

    async fn post_json<T: Serialize>(
        &self,
        token: &BearerToken,
        url: Url,
        body: &T,
        idempotency: Idempotency,
        extra_header: Option<(&str, &str)>,
    ) -> Result<Vec<u8>, AcsError> {
        self.write_json(token, Method::POST, url, body, idempotency, extra_header)
            .await
    }

    /// A POST, or a PATCH as the merge-patch ACS takes for updates.
    async fn write_json<T: Serialize>(
        &self,
        token: &BearerToken,
        method: Method,
        url: Url,
        body: &T,
        idempotency: Idempotency,
        extra_header: Option<(&str, &str)>,
    ) -> Result<Vec<u8>, AcsError> {
        let body = encode_json(body)?;
        let content_type = if method == Method::PATCH {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        self.http
            .send(idempotency, || {
                let request = self
                    .request(token, method.clone(), &url)
                    .header("content-type", content_type)
                    .body(body.clone());
                Ok(match extra_header {
                    Some((name, value)) => request.header(name, value),
                    None => request,
                })
            })
            .await
    }

    async fn delete(&self, token: &BearerToken, url: Url) -> Result<(), AcsError> {
        self.http
            .send(Idempotency::Safe, || {
                Ok(self.request(token, Method::DELETE, &url))
            })
            .await
            .map(drop)
    }

    fn message_url(&self, thread_id: &ThreadId, message_id: &MessageId) -> Result<Url, AcsError> {
        self.thread_url(
            thread_id,
            &format!("/messages/{}", encode_segment(message_id.as_str())),
        )
    }

    /// A list's page of `max_page_size`: the first, or the one `page` names (the query of a
    /// `nextLink` this client handed out). The page is always read from our own endpoint,
    /// whatever a cursor says, so a cursor cannot send the caller's token elsewhere; and its
    /// size and version are always ours, so a cursor made up to ask for more cannot.
    fn page_url(
        &self,
        path: &str,
        max_page_size: u32,
        page: Option<&PageCursor>,
    ) -> Result<Url, AcsError> {
        let mut url = self
            .endpoint
            .join(path)
            .map_err(|e| AcsError::Unsendable(format!("bad ACS URL: {e}")))?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(cursor) = page {
                query.extend_pairs(cursor.pairs());
            }
            query
                .append_pair(
                    "maxPageSize",
                    &max_page_size.min(ACS_MAX_PAGE_SIZE).to_string(),
                )
                .append_pair("api-version", API_VERSION);
        }
        Ok(url)
    }

    /// The cursor of the page after this one, from its `nextLink`.
    fn cursor_after(&self, next_link: Option<&str>) -> Result<Option<PageCursor>, AcsError> {
        Ok(next_link
            .map(|link| self.checked_next_link(link))
            .transpose()?
            .and_then(|link| link.query().and_then(PageCursor::from_next_link_query)))
    }

    /// One page of the caller's threads, most recent activity first, and the cursor of the
    /// next page.
    pub async fn list_threads(
        &self,
        token: &BearerToken,
        max_page_size: u32,
        page: Option<&PageCursor>,
    ) -> Result<(Vec<ChatThreadItem>, Option<PageCursor>), AcsError> {
        let url = self.page_url("chat/threads", max_page_size, page)?;
        let page: Page<ChatThreadItem> = self.get_page(token, url).await?;
        Ok((page.value, self.cursor_after(page.next_link.as_deref())?))
    }

    /// One page of the thread's messages, newest first, and the cursor of the next (older)
    /// page.
    pub async fn messages_page(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
        max_page_size: u32,
        page: Option<&PageCursor>,
    ) -> Result<(Vec<ChatMessage>, Option<PageCursor>), AcsError> {
        let path = format!(
            "chat/threads/{}/messages",
            encode_segment(thread_id.as_str())
        );
        let url = self.page_url(&path, max_page_size, page)?;
        let page: Page<ChatMessage> = self.get_page(token, url).await?;
        Ok((page.value, self.cursor_after(page.next_link.as_deref())?))
    }

    /// Changes the thread's topic (where one is given), metadata or retention policy.
    pub async fn update_thread(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
        topic: Option<&str>,
        properties: &ThreadProperties,
    ) -> Result<(), AcsError> {
        #[derive(Serialize)]
        struct Request<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            topic: Option<&'a str>,
            #[serde(flatten)]
            properties: &'a ThreadProperties,
        }
        let url = self.thread_properties_url(thread_id)?;
        let body = Request { topic, properties };
        self.write_json(token, Method::PATCH, url, &body, Idempotency::Safe, None)
            .await
            .map(drop)
    }

    /// Deletes the thread for every participant.
    pub async fn delete_thread(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
    ) -> Result<(), AcsError> {
        self.delete(token, self.thread_url(thread_id, "")?).await
    }

    /// Removes a participant; the caller removing itself leaves the thread. Not retried where
    /// ACS may have acted: removing someone already removed is an error.
    pub async fn remove_participant(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
        user_id: &UserId,
    ) -> Result<(), AcsError> {
        let url = self.thread_url(thread_id, "/participants/:remove")?;
        let body = CommunicationIdentifier::user(user_id);
        self.post_json(token, url, &body, Idempotency::Unsafe, None)
            .await
            .map(drop)
    }

    /// Replaces the text of one of the caller's own messages.
    pub async fn update_message(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
        message_id: &MessageId,
        content: &str,
    ) -> Result<(), AcsError> {
        #[derive(Serialize)]
        struct Request<'a> {
            content: &'a str,
        }
        let url = self.message_url(thread_id, message_id)?;
        self.write_json(
            token,
            Method::PATCH,
            url,
            &Request { content },
            Idempotency::Safe,
            None,
        )
        .await
        .map(drop)
    }

    /// Tells the thread the caller is typing.
    pub async fn send_typing(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
        sender_display_name: Option<&str>,
    ) -> Result<(), AcsError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Request<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            sender_display_name: Option<&'a str>,
        }
        let url = self.thread_url(thread_id, "/typing")?;
        let body = Request {
            sender_display_name,
        };
        self.post_json(token, url, &body, Idempotency::Safe, None)
            .await
            .map(drop)
    }

    /// Creates a thread with the caller as creator (ACS adds the creator itself). The
    /// repeatability id makes a retry, ours or the caller's, return the same thread.
    pub async fn create_thread(
        &self,
        token: &BearerToken,
        topic: &str,
        participants: &[ChatParticipant],
        repeatability_request_id: &str,
        properties: &ThreadProperties,
    ) -> Result<ChatThread, AcsError> {
        #[derive(Serialize)]
        struct Request<'a> {
            topic: &'a str,
            participants: &'a [ChatParticipant],
            #[serde(flatten)]
            properties: &'a ThreadProperties,
        }
        let body = self
            .post_json(
                token,
                versioned_url(&self.endpoint, "chat/threads", THREAD_API_VERSION)?,
                &Request {
                    topic,
                    participants,
                    properties,
                },
                Idempotency::Safe,
                Some(("repeatability-request-id", repeatability_request_id)),
            )
            .await?;
        Ok(decode_json::<CreateThreadResponse>(&body)?.chat_thread)
    }

    /// Adds participants; ACS leaves existing ones as they are. Returns those it refused.
    pub async fn add_participants(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
        participants: &[ChatParticipant],
    ) -> Result<Vec<InvalidParticipant>, AcsError> {
        #[derive(Serialize)]
        struct Request<'a> {
            participants: &'a [ChatParticipant],
        }
        let url = self.thread_url(thread_id, "/participants/:add")?;
        let body = self
            .post_json(
                token,
                url,
                &Request { participants },
                Idempotency::Safe,
                None,
            )
            .await?;
        Ok(decode_json::<AddParticipantsResponse>(&body)?.invalid_participants)
    }

    /// Lists every participant, following pages.
    pub async fn list_participants(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
    ) -> Result<Vec<ChatParticipant>, AcsError> {
        self.collect(token, self.thread_url(thread_id, "/participants")?)
            .await
    }

    /// The thread's properties, as the caller may see them (403 to someone not in it, 404 once
    /// it is deleted).
    pub async fn get_thread(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
    ) -> Result<ChatThread, AcsError> {
        let url = self.thread_properties_url(thread_id)?;
        self.http
            .send_json(Idempotency::Safe, || {
                Ok(self.request(token, Method::GET, &url))
            })
            .await
    }

    /// One message of the thread, as the caller may see it (a deleted one with `deletedOn`).
    pub async fn get_message(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
        message_id: &MessageId,
    ) -> Result<ChatMessage, AcsError> {
        let url = self.message_url(thread_id, message_id)?;
        self.http
            .send_json(Idempotency::Safe, || {
                Ok(self.request(token, Method::GET, &url))
            })
            .await
    }

    /// The first page of the thread's participants, as large as ACS makes one (200): all of
    /// them but in the largest threads, in one call.
    pub async fn first_participants(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
    ) -> Result<Vec<ChatParticipant>, AcsError> {
        let mut url = self.thread_url(thread_id, "/participants")?;
        url.query_pairs_mut().append_pair("maxPageSize", "200");
        Ok(self.get_page(token, url).await?.value)
    }

    /// Reads one participant of the thread: succeeds exactly when the caller may read the
    /// thread (ACS answers 403 to someone who has left it, 404 once it is deleted).
    pub async fn probe_participants(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
    ) -> Result<(), AcsError> {
        let mut url = self.thread_url(thread_id, "/participants")?;
        url.query_pairs_mut().append_pair("maxPageSize", "1");
        self.get_page::<serde::de::IgnoredAny>(token, url)
            .await
            .map(drop)
    }

    /// Sends a message and returns its id. Not retried where ACS might already have stored it.
    pub async fn send_message(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
        message: &SendMessage<'_>,
    ) -> Result<MessageId, AcsError> {
        let url = self.thread_url(thread_id, "/messages")?;
        let body = self
            .post_json(token, url, message, Idempotency::Unsafe, None)
            .await?;
        Ok(decode_json::<SendMessageResponse>(&body)?.id)
    }

    /// Deletes one of the caller's own messages. ACS keeps it listed, empty, with `deletedOn`.
    pub async fn delete_message(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
        message_id: &MessageId,
    ) -> Result<(), AcsError> {
        self.delete(token, self.message_url(thread_id, message_id)?)
            .await
    }

    /// The first page of messages, newest first, as [`ChatMessage`]s or, to decode them only as
    /// far as needed, as raw JSON (`Page<Box<RawValue>>`, then [`ChatMessage::from_raw`]).
    pub async fn list_messages<T: DeserializeOwned>(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
        max_page_size: Option<u32>,
        start_time: Option<OffsetDateTime>,
    ) -> Result<Page<T>, AcsError> {
        let mut url = self.thread_url(thread_id, "/messages")?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(size) = max_page_size {
                query.append_pair("maxPageSize", &size.min(ACS_MAX_PAGE_SIZE).to_string());
            }
            if let Some(start) = start_time {
                let formatted = start
                    .to_offset(time::UtcOffset::UTC)
                    .format(&time::format_description::well_known::Rfc3339)
                    .map_err(|e| AcsError::Unsendable(e.to_string()))?;
                query.append_pair("startTime", &formatted);
            }
        }
        self.get_page(token, url).await
    }

    /// Every message of the thread, following every `nextLink`, newest first as ACS lists them.
    pub async fn list_all_messages(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
    ) -> Result<Vec<ChatMessage>, AcsError> {
        let first: Page<ChatMessage> = self
            .list_messages(token, thread_id, Some(ACS_MAX_PAGE_SIZE), None)
            .await?;
        self.follow(token, first).await
    }

    /// Fetches the page a `nextLink` names.
    pub async fn next_page<T: DeserializeOwned>(
        &self,
        token: &BearerToken,
        next_link: &str,
    ) -> Result<Page<T>, AcsError> {
        let url = self.checked_next_link(next_link)?;
        self.get_page(token, url).await
    }

    /// Every read receipt of the thread, following pages.
    pub async fn list_read_receipts(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
    ) -> Result<Vec<ReadReceipt>, AcsError> {
        self.collect(token, self.thread_url(thread_id, "/readReceipts")?)
            .await
    }

    /// Marks everything up to `message_id` as read by the caller.
    pub async fn send_read_receipt(
        &self,
        token: &BearerToken,
        thread_id: &ThreadId,
        message_id: &MessageId,
    ) -> Result<(), AcsError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Request<'a> {
            chat_message_id: &'a MessageId,
        }
        let url = self.thread_url(thread_id, "/readReceipts")?;
        self.post_json(
            token,
            url,
            &Request {
                chat_message_id: message_id,
            },
            Idempotency::Safe,
            None,
        )
        .await
        .map(drop)
    }

    async fn get_page<T: DeserializeOwned>(
        &self,
        token: &BearerToken,
        url: Url,
    ) -> Result<Page<T>, AcsError> {
        self.http
            .send_json(Idempotency::Safe, || {
                Ok(self.request(token, Method::GET, &url))
            })
            .await
    }

    async fn collect<T: DeserializeOwned>(
        &self,
        token: &BearerToken,
        url: Url,
    ) -> Result<Vec<T>, AcsError> {
        let first = self.get_page(token, url).await?;
        self.follow(token, first).await
    }

    /// Everything from `page` on, following every `nextLink`.
    async fn follow<T: DeserializeOwned>(
        &self,
        token: &BearerToken,
        mut page: Page<T>,
    ) -> Result<Vec<T>, AcsError> {
        let mut all = std::mem::take(&mut page.value);
        while let Some(next) = page.next_link.take() {
            page = self.next_page(token, &next).await?;
            all.append(&mut page.value);
        }
        Ok(all)
    }

    /// A `nextLink` is followed at our own endpoint's origin only: the caller's token goes
    /// nowhere else. ACS has named another of its hosts in one (a regional front end of the
    /// same resource); its path and query are taken onto our endpoint instead, as a host
    /// anyone may own a name under (`*.azure.com`) would otherwise receive the token.
    fn checked_next_link(&self, next_link: &str) -> Result<Url, AcsError> {
        let link = self
            .endpoint
            .join(next_link)
            .map_err(|_| AcsError::InvalidResponse("unreadable nextLink".into()))?;
        let mut url = self.endpoint.clone();
        url.set_path(link.path());
        url.set_query(link.query());
        if !url.query_pairs().any(|(k, _)| k == "api-version") {
            url.query_pairs_mut()
                .append_pair("api-version", API_VERSION);
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::RetryPolicy;

    fn client(endpoint: &str) -> ChatClient {
        ChatClient::new(
            AcsHttp::new(RetryPolicy::default()).unwrap(),
            Url::parse(endpoint).unwrap(),
        )
    }

    #[test]
    fn follows_next_links_to_its_own_endpoint_s_origin_only() {
        let chat = client("http://127.0.0.1:8080/");
        let own = chat
            .checked_next_link(
                "http://127.0.0.1:8080/chat/threads/19:a@thread.v2/messages?syncState=1",
            )
            .unwrap();
        assert_eq!(
            own.query_pairs()
                .filter(|(k, _)| k == "api-version")
                .count(),
            1
        );
        let acs = client("https://x.communication.azure.com/");
        for elsewhere in [
            "https://evil.example/chat/threads?syncState=1",
            "https://acs.unitedstates.communication.azure.com/chat/threads?syncState=1",
            "https://attacker.azurewebsites.azure.com/chat/threads?syncState=1",
            "http://x.communication.azure.com/chat/threads?syncState=1",
            "https://x.communication.azure.com:8443/chat/threads?syncState=1",
        ] {
            let followed = acs.checked_next_link(elsewhere).unwrap();
            assert_eq!(
                followed.origin(),
                acs.endpoint.origin(),
                "{elsewhere} is followed at our endpoint"
            );
            assert_eq!(followed.path(), "/chat/threads");
            assert!(followed.query().unwrap().starts_with("syncState=1"));
        }
        let relative = chat
            .checked_next_link("/chat/threads/t/messages?api-version=v")
            .unwrap();
        assert_eq!(relative.query(), Some("api-version=v"));
    }

    #[test]
    fn a_page_url_carries_the_cursor_s_continuation_with_our_own_size_and_version() {
        let chat = client("https://x.communication.azure.com/");
        let url = chat
            .page_url(
                "chat/threads",
                20,
                Some(&PageCursor::parse("skip=40&syncState=a%2Bb").unwrap()),
            )
            .unwrap();
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let value = |name: &str| {
            pairs
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(value("maxPageSize"), ["20"]);
        assert_eq!(value("api-version"), [API_VERSION]);
        assert_eq!(
            (value("skip"), value("syncState")),
            (vec!["40"], vec!["a+b"])
        );
        assert_eq!(url.host_str(), Some("x.communication.azure.com"));
    }

    #[test]
    fn decodes_a_listed_message_with_seven_fractional_digits() {
        let json = r#"{"id":"1593107077690","type":"text","sequenceId":"5","version":"1593107077683",
            "content":{"message":"lunch?"},"senderDisplayName":"Jane",
            "createdOn":"2020-06-25T17:44:37.6830000Z",
            "senderCommunicationIdentifier":{"rawId":"8:acs:a_b","communicationUser":{"id":"8:acs:a_b"}}}"#;
        let message: ChatMessage = serde_json::from_str(json).unwrap();
        assert_eq!((message.sequence_id, message.version()), (5, 1593107077683));
        assert_eq!(message.kind, MessageKind::Text);
        assert_eq!(message.sender_id(), Some("8:acs:a_b"));
        assert_eq!(message.text(), Some("lunch?"));
        assert!(message.is_user_message());
    }

    #[test]
    fn system_and_deleted_messages_are_not_user_messages() {
        let system = r#"{"id":"1","type":"participantAdded","sequenceId":"1","version":"1",
            "content":{"participants":[]},"createdOn":"2020-06-25T17:42:56Z"}"#;
        let deleted = r#"{"id":"2","type":"text","sequenceId":"2","version":"3",
            "content":{"message":""},"createdOn":"2020-06-25T17:42:56Z","deletedOn":"2020-06-25T17:43:00Z"}"#;
        for json in [system, deleted] {
            let message: ChatMessage = serde_json::from_str(json).unwrap();
            assert!(!message.is_user_message(), "{json}");
        }
    }

    #[test]
    fn metadata_is_read_on_lookup_and_anything_but_a_map_of_strings_reads_as_absent() {
        let message = |metadata: &str| {
            let json = format!(
                r#"{{"id":"1","type":"text","sequenceId":"1","createdOn":"2020-06-25T17:42:56Z",
                "metadata":{metadata}}}"#
            );
            serde_json::from_str::<ChatMessage>(&json).unwrap()
        };
        let keyed = message(r#"{"idempotencyKey":"k-1","other":"x"}"#);
        assert_eq!(keyed.metadata("idempotencyKey").as_deref(), Some("k-1"));
        assert_eq!(keyed.metadata("missing"), None);
        assert_eq!(
            message(r#"{"idempotencyKey":7}"#).metadata("idempotencyKey"),
            None
        );
        assert_eq!(message("null").metadata("idempotencyKey"), None);
    }
}
