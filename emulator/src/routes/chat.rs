//! The Chat routes: called with a user's token, answered as that user may see the thread.

use std::collections::BTreeMap;

use acs_core::ids::encode_segment;
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Shared;
use super::request::Call;
use crate::eventgrid::{self, MessageEvent, ThreadDetails, ThreadEvent};
use crate::failure::Failure;
use crate::reply::{self, Reply};
use crate::route::Route;
use crate::store::{Listing, NewMessage, NewParticipant, PropertiesUpdate, RETENTION_DAYS, Store};
use crate::wire;

/// Page size when a list call names none.
const DEFAULT_PAGE: usize = 100;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identifier {
    raw_id: Option<String>,
    communication_user: Option<User>,
}

#[derive(Deserialize)]
struct User {
    id: String,
}

impl Identifier {
    /// The raw id, from `rawId` or else the user variant.
    fn into_id(self) -> Result<String, Failure> {
        self.raw_id
            .or(self.communication_user.map(|u| u.id))
            .ok_or_else(|| Failure::BadRequest("Identifier format is invalid ().".into()))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Participant {
    communication_identifier: Identifier,
    display_name: Option<String>,
    share_history_time: Option<String>,
}

impl Participant {
    fn into_new(self) -> Result<NewParticipant, Failure> {
        let id = self.communication_identifier.into_id()?;
        let share_history_time = self
            .share_history_time
            .map(|t| {
                OffsetDateTime::parse(&t, &Rfc3339)
                    .map_err(|_| Failure::BadRequest("ShareHistoryTime is invalid.".into()))
            })
            .transpose()?;
        Ok(NewParticipant {
            id,
            display_name: self.display_name,
            share_history_time,
        })
    }
}

fn participants(list: Vec<Participant>) -> Result<Vec<NewParticipant>, Failure> {
    list.into_iter().map(Participant::into_new).collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateThread {
    topic: Option<String>,
    #[serde(default)]
    participants: Vec<Participant>,
    metadata: Option<BTreeMap<String, String>>,
    retention_policy: Option<RetentionPolicy>,
}

/// `{"kind": "threadCreationDate", "deleteThreadAfterDays"}` or `{"kind": "none"}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RetentionPolicy {
    kind: String,
    delete_thread_after_days: Option<u32>,
}

impl RetentionPolicy {
    /// The days it keeps a thread, or `None` for no policy.
    fn days(self) -> Result<Option<u32>, Failure> {
        match (self.kind.as_str(), self.delete_thread_after_days) {
            ("none", _) => Ok(None),
            ("threadCreationDate", Some(days)) if RETENTION_DAYS.contains(&days) => Ok(Some(days)),
            ("threadCreationDate", Some(_)) => Err(Failure::BadRequest(format!(
                "deleteThreadAfterDays must be from {} to {}.",
                RETENTION_DAYS.start(),
                RETENTION_DAYS.end()
            ))),
            ("threadCreationDate", None) => Err(Failure::BadRequest(
                "deleteThreadAfterDays is required.".into(),
            )),
            _ => Err(Failure::BadRequest(format!(
                "Unknown retention policy kind {}.",
                self.kind
            ))),
        }
    }
}

/// Whether the call asks for API version 2025-03-15 or later, which knows thread metadata
/// and retention; older versions ignore both, as ACS does fields a version does not have.
fn current_version(call: &Call) -> bool {
    call.query
        .get("api-version")
        .is_some_and(|version| version.as_str() >= "2025-03-15")
}

#[derive(Deserialize)]
struct AddParticipants {
    participants: Vec<Participant>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendMessage {
    content: Option<String>,
    sender_display_name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    metadata: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReadReceipt {
    chat_message_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateThread {
    topic: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
    retention_policy: Option<RetentionPolicy>,
}

#[derive(Deserialize)]
struct UpdateMessage {
    content: Option<String>,
    metadata: Option<serde_json::Map<String, Value>>,
}

/// One chat call: who makes it, on what, with the store locked for it.
struct Chat<'a> {
    shared: &'a Shared,
    call: &'a Call,
    caller: &'a str,
    store: &'a mut Store,
}

/// Serves a chat route as the user the bearer token names.
pub fn serve(shared: &Shared, call: &Call, route: Route<'_>) -> Result<Reply, Failure> {
    let token = call.bearer().ok_or(Failure::Unauthorized)?;
    let mut store = shared.store();
    let caller = store.authenticate(token)?;
    shared.admit(&route, &caller)?;
    let mut chat = Chat {
        shared,
        call,
        caller: &caller,
        store: &mut store,
    };
    match route {
        Route::CreateThread => chat.create_thread(),
        Route::ListThreads => chat.list_threads(),
        Route::GetThread { thread_id } => chat.get_thread(thread_id),
        Route::UpdateThread { thread_id } => chat.update_thread(thread_id),
        Route::DeleteThread { thread_id } => chat.delete_thread(thread_id),
        Route::ListParticipants { thread_id } => chat.list_participants(thread_id),
        Route::AddParticipants { thread_id } => chat.add_participants(thread_id),
        Route::RemoveParticipant { thread_id } => chat.remove_participant(thread_id),
        Route::SendMessage { thread_id } => chat.send_message(thread_id),
        Route::ListMessages { thread_id } => chat.list_messages(thread_id),
        Route::GetMessage {
            thread_id,
            message_id,
        } => chat.get_message(thread_id, message_id),
        Route::UpdateMessage {
            thread_id,
            message_id,
        } => chat.update_message(thread_id, message_id),
        Route::DeleteMessage {
            thread_id,
            message_id,
        } => chat.delete_message(thread_id, message_id),
        Route::SendTyping { thread_id } => chat.send_typing(thread_id),
        Route::ListReadReceipts { thread_id } => chat.list_read_receipts(thread_id),
        Route::SendReadReceipt { thread_id } => chat.send_read_receipt(thread_id),
        Route::CreateIdentity
        | Route::DeleteIdentity { .. }
        | Route::IssueToken { .. }
        | Route::RevokeTokens { .. } => Err(Failure::NotFound),
    }
}

impl Chat<'_> {
    fn list_threads(&mut self) -> Result<Reply, Failure> {
        let (skip, size) = (skip(self.call)?, page_size(self.call)?);
        let page = self.store.list_threads(self.caller, skip, size);
        Ok(listing(self.shared, self.call, "skip", size, &page, |t| {
            wire::thread_item(t)
        }))
    }

    fn get_thread(&mut self, thread_id: &str) -> Result<Reply, Failure> {
        let thread = self.store.get_thread(self.caller, thread_id)?;
        Ok(reply::json(
            StatusCode::OK,
            &wire::thread(thread, current_version(self.call)),
        ))
    }

    fn update_thread(&mut self, thread_id: &str) -> Result<Reply, Failure> {
        let request: UpdateThread = self.call.json_body()?;
        let current = current_version(self.call);
        // What an older version sends of these is ignored, in the thread and in its event.
        let metadata = request.metadata.filter(|_| current);
        let update = PropertiesUpdate {
            topic: request.topic.clone(),
            metadata: metadata.clone(),
            retention_days: match request.retention_policy.filter(|_| current) {
                Some(policy) => Some(policy.days()?),
                None => None,
            },
        };
        self.store
            .update_properties(self.caller, thread_id, update)?;
        let details = ThreadDetails {
            both: json!({"properties": {"topic": request.topic.unwrap_or_default()}}),
            thread_only: json!({"metadata": metadata.unwrap_or_default()}),
            user_only: json!({}),
        };
        let recipients = self.others(thread_id);
        self.thread_event(
            thread_id,
            ThreadEvent::PropertiesUpdated,
            &details,
            &recipients,
        );
        Ok(reply::empty(StatusCode::NO_CONTENT))
    }

    fn delete_thread(&mut self, thread_id: &str) -> Result<Reply, Failure> {
        self.store.delete_thread(self.caller, thread_id)?;
        let recipients = self.others(thread_id);
        let details = ThreadDetails::both(json!({}));
        self.thread_event(thread_id, ThreadEvent::Deleted, &details, &recipients);
        Ok(reply::empty(StatusCode::NO_CONTENT))
    }

    fn list_participants(&mut self, thread_id: &str) -> Result<Reply, Failure> {
        let (skip, size) = (skip(self.call)?, page_size(self.call)?);
        let page = self
            .store
            .list_participants(self.caller, thread_id, skip, size)?;
        Ok(listing(self.shared, self.call, "skip", size, &page, |p| {
            wire::participant(p)
        }))
    }

    fn add_participants(&mut self, thread_id: &str) -> Result<Reply, Failure> {
        let request: AddParticipants = self.call.json_body()?;
        let added = participants(request.participants)?;
        let refused = self
            .store
            .add_participants(self.caller, thread_id, added.clone())?;
        let recipients = self.others(thread_id);
        for participant in added.iter().filter(|p| !refused.contains(&p.id)) {
            let details = ThreadDetails::both(json!({"participantAdded": {
                "displayName": participant.display_name,
                "participantCommunicationIdentifier": wire::identifier(&participant.id),
            }}));
            self.thread_event(
                thread_id,
                ThreadEvent::ParticipantAdded,
                &details,
                &recipients,
            );
        }
        let body = if refused.is_empty() {
            json!({})
        } else {
            let refused: Vec<Value> = refused
                .iter()
                .map(|id| wire::refused_participant(id))
                .collect();
            json!({"invalidParticipants": refused})
        };
        Ok(reply::json(StatusCode::CREATED, &body))
    }

    fn remove_participant(&mut self, thread_id: &str) -> Result<Reply, Failure> {
        let removed: Identifier = self.call.json_body()?;
        let removed = removed.into_id()?;
        // Those in the thread until now hear of it, the one removed included.
        let recipients = self.others(thread_id);
        let name = self.store.display_name(thread_id, &removed);
        self.store
            .remove_participant(self.caller, thread_id, &removed)?;
        let details = ThreadDetails::both(json!({"participantRemoved": {
            "displayName": name,
            "participantCommunicationIdentifier": wire::identifier(&removed),
        }}));
        self.thread_event(
            thread_id,
            ThreadEvent::ParticipantRemoved,
            &details,
            &recipients,
        );
        Ok(reply::empty(StatusCode::NO_CONTENT))
    }

    fn list_messages(&mut self, thread_id: &str) -> Result<Reply, Failure> {
        let size = page_size(self.call)?;
        let before = self
            .call
            .query
            .get("syncState")
            .map(|state| i64::from_str_radix(state, 16))
            .transpose()
            .map_err(|_| Failure::BadRequest("SyncState is invalid.".into()))?;
        let start = self
            .call
            .query
            .get("startTime")
            .map(|raw| OffsetDateTime::parse(raw, &Rfc3339))
            .transpose()
            .map_err(|_| Failure::BadRequest("StartTime is invalid.".into()))?;
        let page = self
            .store
            .list_messages(self.caller, thread_id, before, start, size)?;
        Ok(listing(
            self.shared,
            self.call,
            "syncState",
            size,
            &page,
            |m| wire::message(m),
        ))
    }

    fn get_message(&mut self, thread_id: &str, message_id: &str) -> Result<Reply, Failure> {
        let message = self.store.get_message(self.caller, thread_id, message_id)?;
        Ok(reply::json(StatusCode::OK, &wire::message(message)))
    }

    fn update_message(&mut self, thread_id: &str, message_id: &str) -> Result<Reply, Failure> {
        let request: UpdateMessage = self.call.json_body()?;
        self.store.update_message(
            self.caller,
            thread_id,
            message_id,
            request.content,
            request.metadata,
        )?;
        self.message_event(thread_id, message_id, MessageEvent::Edited)?;
        Ok(reply::empty(StatusCode::NO_CONTENT))
    }

    fn delete_message(&mut self, thread_id: &str, message_id: &str) -> Result<Reply, Failure> {
        self.store
            .delete_message(self.caller, thread_id, message_id)?;
        self.message_event(thread_id, message_id, MessageEvent::Deleted)?;
        Ok(reply::empty(StatusCode::NO_CONTENT))
    }

    fn send_typing(&mut self, thread_id: &str) -> Result<Reply, Failure> {
        self.store.typing(self.caller, thread_id)?;
        Ok(reply::empty(StatusCode::OK))
    }

    fn list_read_receipts(&mut self, thread_id: &str) -> Result<Reply, Failure> {
        let (skip, size) = (skip(self.call)?, page_size(self.call)?);
        let page = self
            .store
            .list_read_receipts(self.caller, thread_id, skip, size)?;
        Ok(listing(self.shared, self.call, "skip", size, &page, |r| {
            wire::receipt(*r)
        }))
    }

    fn send_read_receipt(&mut self, thread_id: &str) -> Result<Reply, Failure> {
        let request: ReadReceipt = self.call.json_body()?;
        let message_id = request
            .chat_message_id
            .ok_or_else(|| Failure::BadRequest("ChatMessageId is required.".into()))?;
        self.store
            .send_read_receipt(self.caller, thread_id, &message_id)?;
        Ok(reply::empty(StatusCode::OK))
    }
    fn create_thread(&mut self) -> Result<Reply, Failure> {
        let request: CreateThread = self.call.json_body()?;
        let current = current_version(self.call);
        let properties = PropertiesUpdate {
            topic: None,
            metadata: request.metadata.filter(|_| current),
            retention_days: match request.retention_policy.filter(|_| current) {
                Some(policy) => Some(policy.days()?),
                None => None,
            },
        };
        let thread_id = self
            .store
            .create_thread(
                self.caller,
                &request.topic.unwrap_or_default(),
                participants(request.participants)?,
                self.call.header("repeatability-request-id"),
            )?
            .id
            .clone();
        self.store
            .update_properties(self.caller, &thread_id, properties)?;
        let thread = self.store.get_thread(self.caller, &thread_id)?;
        let location = format!("chat/threads/{}", encode_segment(&thread.id));
        let response = reply::json(
            StatusCode::CREATED,
            &json!({"chatThread": wire::thread(thread, current)}),
        );
        let (thread_id, topic) = (thread.id.clone(), thread.topic.clone());
        let members = self.store.members(&thread_id);
        let details = ThreadDetails {
            both: json!({
                "properties": {"topic": topic},
                "participants": members.iter().map(|(id, name)| json!({
                    "displayName": name,
                    "participantCommunicationIdentifier": wire::identifier(id),
                })).collect::<Vec<_>>(),
            }),
            thread_only: json!({}),
            user_only: json!({
                "members": members.iter().map(|(id, name)| json!({
                    "displayName": name, "memberId": id,
                })).collect::<Vec<_>>(),
            }),
        };
        let recipients = self.others(&thread_id);
        self.thread_event(&thread_id, ThreadEvent::Created, &details, &recipients);
        Ok(with_location(self.shared, self.call, response, &location))
    }

    fn send_message(&mut self, thread_id: &str) -> Result<Reply, Failure> {
        let request: SendMessage = self.call.json_body()?;
        let kind = match request
            .kind
            .as_deref()
            .unwrap_or("text")
            .to_ascii_lowercase()
            .as_str()
        {
            "text" => "text",
            "html" => "html",
            other => {
                return Err(Failure::BadRequest(format!(
                    "Message type '{other}' is invalid."
                )));
            }
        };
        let id = self.store.send_message(
            self.caller,
            thread_id,
            NewMessage {
                content: request.content.unwrap_or_default(),
                kind,
                sender_display_name: request.sender_display_name,
                metadata: request.metadata,
            },
        )?;
        self.message_event(thread_id, &id, MessageEvent::Received)?;
        let location = format!("chat/threads/{}/messages/{id}", encode_segment(thread_id));
        let response = reply::json(StatusCode::CREATED, &json!({"id": id}));
        Ok(with_location(self.shared, self.call, response, &location))
    }

    /// The thread's participants but the caller: whom ACS's user-level events go to.
    fn others(&self, thread_id: &str) -> Vec<String> {
        self.store
            .members(thread_id)
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| id != self.caller)
            .collect()
    }

    /// Publishes a thread event by the caller about `thread_id`, which the store holds: the
    /// thread-level event and one for each of `recipients`.
    fn thread_event(
        &self,
        thread_id: &str,
        event: ThreadEvent,
        details: &ThreadDetails,
        recipients: &[String],
    ) {
        let created_on = self
            .store
            .thread_created_on(thread_id)
            .unwrap_or_else(OffsetDateTime::now_utc);
        let changes = eventgrid::thread_changes(
            thread_id,
            created_on,
            event,
            self.caller,
            details,
            recipients,
        );
        self.shared.events.publish(changes);
    }

    /// Publishes a message event for a message as it now is, to the thread and to each of its
    /// participants but the sender.
    fn message_event(
        &self,
        thread_id: &str,
        message_id: &str,
        event: MessageEvent,
    ) -> Result<(), Failure> {
        let message = self.store.get_message(self.caller, thread_id, message_id)?;
        let recipients = self.others(thread_id);
        self.shared.events.publish(eventgrid::message_changes(
            thread_id,
            message,
            event,
            &recipients,
        ));
        Ok(())
    }
}

/// Adds the absolute `Location` of a created resource, on the host the client called.
fn with_location(shared: &Shared, call: &Call, mut response: Reply, path: &str) -> Reply {
    let location = format!("{}://{}/{path}", shared.scheme, call.host);
    if let Ok(value) = location.parse() {
        response.headers_mut().insert("location", value);
    }
    response
}

fn page_size(call: &Call) -> Result<usize, Failure> {
    match call.query.get("maxPageSize") {
        None => Ok(DEFAULT_PAGE),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=200).contains(&n) => Ok(n),
            _ => Err(Failure::BadRequest(
                "MaxPageSize must be between 1 and 200.".into(),
            )),
        },
    }
}

fn skip(call: &Call) -> Result<usize, Failure> {
    call.query.get("skip").map_or(Ok(0), |raw| {
        raw.parse()
            .map_err(|_| Failure::BadRequest("Skip is invalid.".into()))
    })
}

/// A page as ACS lists it, with an absolute `nextLink` on the host the client called (the raw
/// thread id in the path, as the real service writes it) when more remain.
fn listing<T>(
    shared: &Shared,
    call: &Call,
    cursor_name: &str,
    page_size: usize,
    page: &Listing<T>,
    render: impl Fn(&T) -> Value,
) -> Reply {
    let mut body = json!({"value": wire::items(page, render)});
    if let Some(cursor) = &page.next {
        let mut query = format!(
            "{cursor_name}={}&maxPageSize={page_size}",
            encode_segment(cursor)
        );
        if let Some(start) = call.query.get("startTime") {
            query.push_str(&format!("&startTime={}", encode_segment(start)));
        }
        let version = call
            .query
            .get("api-version")
            .map(String::as_str)
            .unwrap_or_default();
        body["nextLink"] = json!(format!(
            "{}://{}/{}?{query}&api-version={}",
            shared.scheme,
            call.host,
            call.segments.join("/"),
            encode_segment(version)
        ));
    }
    reply::json(StatusCode::OK, &body)
}
