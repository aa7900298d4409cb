//! The Chat routes: called with a user's token, answered as that user may see the thread.

use acs_chat_api::acs::ids::encode_segment;
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::request::Call;
use super::{Route, Shared};
use crate::eventgrid::{self, MessageEvent, ThreadEvent};
use crate::reply::{self, Reply};
use crate::store::{Failure, Listing, NewMessage, NewParticipant, Store};
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Participant {
    communication_identifier: Identifier,
    display_name: Option<String>,
    share_history_time: Option<String>,
}

impl Participant {
    fn into_new(self) -> Result<NewParticipant, Failure> {
        let id = self
            .communication_identifier
            .raw_id
            .or(self
                .communication_identifier
                .communication_user
                .map(|u| u.id))
            .ok_or_else(|| Failure::BadRequest("Identifier format is invalid ().".into()))?;
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
struct CreateThread {
    topic: Option<String>,
    #[serde(default)]
    participants: Vec<Participant>,
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
struct UpdateThread {
    topic: Option<String>,
}

#[derive(Deserialize)]
struct UpdateMessage {
    content: Option<String>,
    metadata: Option<serde_json::Map<String, Value>>,
}

/// Serves a chat route as the user the bearer token names.
pub fn serve(shared: &Shared, call: &Call, route: Route<'_>) -> Result<Reply, Failure> {
    let token = call.bearer().ok_or(Failure::Unauthorized)?;
    let mut store = shared.store();
    let caller = store.authenticate(token)?;
    let caller = caller.as_str();
    shared.admit(&route, caller)?;
    match route {
        Route::CreateThread => create_thread(shared, &mut store, call, caller),
        Route::ListThreads => {
            let (skip, size) = (skip(call)?, page_size(call)?);
            let page = store.list_threads(caller, skip, size);
            Ok(listing(shared, call, "skip", size, &page, |t| {
                wire::thread_item(t)
            }))
        }
        Route::UpdateThread { thread_id } => {
            let request: UpdateThread = call.json_body()?;
            let topic = request.topic.unwrap_or_default();
            store.update_topic(caller, thread_id, &topic)?;
            let details = json!({"properties": {"topic": topic}, "metadata": {}});
            thread_event(
                shared,
                &store,
                thread_id,
                ThreadEvent::PropertiesUpdated,
                caller,
                details,
            );
            Ok(reply::empty(StatusCode::NO_CONTENT))
        }
        Route::DeleteThread { thread_id } => {
            store.delete_thread(caller, thread_id)?;
            thread_event(
                shared,
                &store,
                thread_id,
                ThreadEvent::Deleted,
                caller,
                json!({}),
            );
            Ok(reply::empty(StatusCode::NO_CONTENT))
        }
        Route::RemoveParticipant { thread_id } => {
            let removed: Identifier = call.json_body()?;
            let removed = removed
                .raw_id
                .or(removed.communication_user.map(|u| u.id))
                .ok_or_else(|| Failure::BadRequest("Identifier format is invalid ().".into()))?;
            store.remove_participant(caller, thread_id, &removed)?;
            let details = json!({"participantRemoved": {"communicationIdentifier": wire::identifier(&removed)}});
            thread_event(
                shared,
                &store,
                thread_id,
                ThreadEvent::ParticipantRemoved,
                caller,
                details,
            );
            Ok(reply::empty(StatusCode::NO_CONTENT))
        }
        Route::UpdateMessage {
            thread_id,
            message_id,
        } => {
            let request: UpdateMessage = call.json_body()?;
            store.update_message(
                caller,
                thread_id,
                message_id,
                request.content,
                request.metadata,
            )?;
            message_event(
                shared,
                &store,
                caller,
                thread_id,
                message_id,
                MessageEvent::Edited,
            )?;
            Ok(reply::empty(StatusCode::NO_CONTENT))
        }
        Route::SendTyping { thread_id } => {
            store.typing(caller, thread_id)?;
            Ok(reply::empty(StatusCode::OK))
        }
        Route::GetThread { thread_id } => Ok(reply::json(
            StatusCode::OK,
            &wire::thread(store.get_thread(caller, thread_id)?),
        )),
        Route::ListParticipants { thread_id } => {
            let (skip, size) = (skip(call)?, page_size(call)?);
            let page = store.list_participants(caller, thread_id, skip, size)?;
            Ok(listing(shared, call, "skip", size, &page, |p| {
                wire::participant(p)
            }))
        }
        Route::AddParticipants { thread_id } => {
            let request: AddParticipants = call.json_body()?;
            let added = participants(request.participants)?;
            let refused = store.add_participants(caller, thread_id, added.clone())?;
            for participant in added.iter().filter(|p| !refused.contains(&p.id)) {
                let details = json!({"participantAdded": {
                    "communicationIdentifier": wire::identifier(&participant.id),
                    "displayName": participant.display_name,
                }});
                thread_event(
                    shared,
                    &store,
                    thread_id,
                    ThreadEvent::ParticipantAdded,
                    caller,
                    details,
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
        Route::SendMessage { thread_id } => {
            send_message(shared, &mut store, call, caller, thread_id)
        }
        Route::ListMessages { thread_id } => {
            let size = page_size(call)?;
            let before = call
                .query
                .get("syncState")
                .map(|state| i64::from_str_radix(state, 16))
                .transpose()
                .map_err(|_| Failure::BadRequest("SyncState is invalid.".into()))?;
            let start = call
                .query
                .get("startTime")
                .map(|raw| OffsetDateTime::parse(raw, &Rfc3339))
                .transpose()
                .map_err(|_| Failure::BadRequest("StartTime is invalid.".into()))?;
            let page = store.list_messages(caller, thread_id, before, start, size)?;
            Ok(listing(shared, call, "syncState", size, &page, |m| {
                wire::message(m)
            }))
        }
        Route::GetMessage {
            thread_id,
            message_id,
        } => Ok(reply::json(
            StatusCode::OK,
            &wire::message(store.get_message(caller, thread_id, message_id)?),
        )),
        Route::DeleteMessage {
            thread_id,
            message_id,
        } => {
            store.delete_message(caller, thread_id, message_id)?;
            message_event(
                shared,
                &store,
                caller,
                thread_id,
                message_id,
                MessageEvent::Deleted,
            )?;
            Ok(reply::empty(StatusCode::NO_CONTENT))
        }
        Route::ListReadReceipts { thread_id } => {
            let (skip, size) = (skip(call)?, page_size(call)?);
            let page = store.list_read_receipts(caller, thread_id, skip, size)?;
            Ok(listing(shared, call, "skip", size, &page, |r| {
                wire::receipt(*r)
            }))
        }
        Route::SendReadReceipt { thread_id } => {
            let request: ReadReceipt = call.json_body()?;
            let message_id = request
                .chat_message_id
                .ok_or_else(|| Failure::BadRequest("ChatMessageId is required.".into()))?;
            store.send_read_receipt(caller, thread_id, &message_id)?;
            Ok(reply::empty(StatusCode::OK))
        }
        _ => Err(Failure::NotFound),
    }
}

fn create_thread(
    shared: &Shared,
    store: &mut Store,
    call: &Call,
    caller: &str,
) -> Result<Reply, Failure> {
    let request: CreateThread = call.json_body()?;
    let thread = store.create_thread(
        caller,
        &request.topic.unwrap_or_default(),
        participants(request.participants)?,
        call.header("repeatability-request-id"),
    )?;
    let location = format!("chat/threads/{}", encode_segment(&thread.id));
    let response = reply::json(
        StatusCode::CREATED,
        &json!({"chatThread": wire::thread(thread)}),
    );
    Ok(with_location(shared, call, response, &location))
}

fn send_message(
    shared: &Shared,
    store: &mut Store,
    call: &Call,
    caller: &str,
    thread_id: &str,
) -> Result<Reply, Failure> {
    let request: SendMessage = call.json_body()?;
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
    let id = store.send_message(
        caller,
        thread_id,
        NewMessage {
            content: request.content.unwrap_or_default(),
            kind,
            sender_display_name: request.sender_display_name,
            metadata: request.metadata,
        },
    )?;
    message_event(
        shared,
        store,
        caller,
        thread_id,
        &id.to_string(),
        MessageEvent::Received,
    )?;
    let location = format!("chat/threads/{}/messages/{id}", encode_segment(thread_id));
    let response = reply::json(StatusCode::CREATED, &json!({"id": id}));
    Ok(with_location(shared, call, response, &location))
}

/// Publishes a thread-level event about `thread_id`, which the store holds.
fn thread_event(
    shared: &Shared,
    store: &Store,
    thread_id: &str,
    event: ThreadEvent,
    actor: &str,
    details: Value,
) {
    let created_on = store
        .thread_created_on(thread_id)
        .unwrap_or_else(OffsetDateTime::now_utc);
    let change = eventgrid::thread_change(thread_id, created_on, event, actor, details);
    shared.events.publish(change);
}

/// Publishes a message event for a message as it now is.
fn message_event(
    shared: &Shared,
    store: &Store,
    caller: &str,
    thread_id: &str,
    message_id: &str,
    event: MessageEvent,
) -> Result<(), Failure> {
    let message = store.get_message(caller, thread_id, message_id)?;
    shared
        .events
        .publish(eventgrid::message_change(thread_id, message, event));
    Ok(())
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
