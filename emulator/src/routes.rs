//! From an HTTP request to a store call and back: routing, HMAC and bearer checks, paging links,
//! faults, and the `/_emulator` control routes tests use.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use acs_chat_api::acs::auth;
use acs_chat_api::acs::ids::encode_segment;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::faults::{Fault, FaultKind, Faults, latency};
use crate::reply::{self, Reply};
use crate::store::{self, Failure, NewMessage, NewParticipant, Store};

/// Largest request body the emulator reads.
const MAX_BODY: usize = 1024 * 1024;
/// How far `x-ms-date` may be from the emulator's clock.
const MAX_SKEW: time::Duration = time::Duration::minutes(15);
/// Page size when a list call names none.
const DEFAULT_PAGE: usize = 100;

/// Everything a request handler needs.
pub struct Shared {
    pub store: Mutex<Store>,
    pub faults: Faults,
    /// `http` or `https`, for the absolute `nextLink`s ACS hands out.
    pub scheme: &'static str,
}

impl Shared {
    /// The store; a poisoned lock still holds consistent data, as no call panics mid-update.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A fault asked the connection to be dropped; hyper closes it without an answer.
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a fault")
    }
}

impl std::error::Error for Dropped {}

/// What the routing needs to know of a request.
struct Call {
    method: Method,
    path_and_query: String,
    segments: Vec<String>,
    query: HashMap<String, String>,
    host: String,
    headers: hyper::HeaderMap,
    body: Bytes,
}

impl Call {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json_body<T: for<'de> Deserialize<'de>>(&self) -> Result<T, Failure> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Failure::BadRequest(format!("The request body is invalid: {e}")))
    }
}

/// Serves one request.
pub async fn handle(shared: &Shared, request: Request<Incoming>) -> Result<Reply, Dropped> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(reply::spec_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                "The request body is too large.",
            ));
        }
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let Some(segments) = parts
        .uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(reply::pascal_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Bad path encoding.",
        ));
    };
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let call = Call {
        query: parse_query(parts.uri.query().unwrap_or_default()),
        method: parts.method,
        path_and_query,
        segments,
        host,
        headers: parts.headers,
        body,
    };
    let echo = call.header("x-ms-client-request-id").map(str::to_owned);
    let mut response = if call.segments.first().is_some_and(|s| s == "_emulator") {
        control(shared, &call)
    } else {
        serve(shared, &call).await?
    };
    if let Some(id) = echo.and_then(|id| id.parse().ok()) {
        response.headers_mut().insert("x-ms-client-request-id", id);
    }
    Ok(response)
}

/// The route label used for counts and faults, e.g. `GET /chat/threads/{threadId}/messages`.
fn route_of(call: &Call) -> Option<&'static str> {
    let s: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let route = match (&call.method, s.as_slice()) {
        (&Method::POST, ["identities"]) => "POST /identities",
        (&Method::DELETE, ["identities", _]) => "DELETE /identities/{id}",
        (&Method::POST, ["identities", _, ":issueAccessToken"]) => {
            "POST /identities/{id}/:issueAccessToken"
        }
        (&Method::POST, ["identities", _, ":revokeAccessTokens"]) => {
            "POST /identities/{id}/:revokeAccessTokens"
        }
        (&Method::POST, ["chat", "threads"]) => "POST /chat/threads",
        (&Method::GET, ["chat", "threads", _]) => "GET /chat/threads/{threadId}",
        (&Method::GET, ["chat", "threads", _, "participants"]) => {
            "GET /chat/threads/{threadId}/participants"
        }
        (&Method::POST, ["chat", "threads", _, "participants", ":add"]) => {
            "POST /chat/threads/{threadId}/participants/:add"
        }
        (&Method::GET, ["chat", "threads", _, "messages"]) => {
            "GET /chat/threads/{threadId}/messages"
        }
        (&Method::POST, ["chat", "threads", _, "messages"]) => {
            "POST /chat/threads/{threadId}/messages"
        }
        (&Method::GET, ["chat", "threads", _, "messages", _]) => {
            "GET /chat/threads/{threadId}/messages/{messageId}"
        }
        (&Method::GET, ["chat", "threads", _, "readReceipts"]) => {
            "GET /chat/threads/{threadId}/readReceipts"
        }
        (&Method::POST, ["chat", "threads", _, "readReceipts"]) => {
            "POST /chat/threads/{threadId}/readReceipts"
        }
        _ => return None,
    };
    Some(route)
}

async fn serve(shared: &Shared, call: &Call) -> Result<Reply, Dropped> {
    let Some(route) = route_of(call) else {
        return Ok(reply::pascal_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "No such route.",
        ));
    };
    if let Some(fault) = shared.faults.on_request(route) {
        match fault {
            FaultKind::Drop => return Err(Dropped),
            FaultKind::Status {
                status,
                retry_after,
            } => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let code = if status == StatusCode::TOO_MANY_REQUESTS {
                    "TooManyRequests"
                } else {
                    "ServiceUnavailable"
                };
                let mut response =
                    reply::spec_error(status, code, "Fault injected by the emulator.");
                if let Some(seconds) = retry_after {
                    response
                        .headers_mut()
                        .insert("retry-after", hyper::header::HeaderValue::from(seconds));
                }
                return Ok(response);
            }
            ref delay @ FaultKind::Latency { .. } => {
                if let Some(wait) = latency(delay) {
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
    if !call.query.contains_key("api-version") {
        return Ok(reply::spec_error(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    }
    let outcome = if call.segments[0] == "identities" {
        identity(shared, call)
    } else {
        chat(shared, call)
    };
    Ok(outcome.unwrap_or_else(|failure| reply::failure(&failure)))
}

// ---- identity ---------------------------------------------------------------------------------

/// Rebuilds the signature from what was received (method, raw target, `Host`, body hash);
/// on mismatch, says why as ACS's `Denied` message would.
fn check_hmac(store: &Store, call: &Call) -> Result<(), &'static str> {
    let signature = call
        .header("authorization")
        .and_then(auth::parse_authorization)
        .ok_or("Denied by the resource provider.")?;
    let date = call.header("x-ms-date").unwrap_or_default();
    let signed_at = auth::parse_date(date).ok_or("Missing or invalid x-ms-date.")?;
    if (OffsetDateTime::now_utc() - signed_at).abs() > MAX_SKEW {
        return Err("The request x-ms-date is outside the allowed time window.");
    }
    let claimed_hash = call.header("x-ms-content-sha256").unwrap_or_default();
    if claimed_hash != auth::content_hash(&call.body) {
        return Err("Request 'x-ms-content-sha256' differs from generated content hash.");
    }
    let to_sign = auth::string_to_sign(
        call.method.as_str(),
        &call.path_and_query,
        date,
        &call.host,
        claimed_hash,
    );
    if auth::verify_signature(store.key(), &to_sign, signature) {
        Ok(())
    } else {
        Err("Denied by the resource provider.")
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateIdentity {
    #[serde(default)]
    create_token_with_scopes: Vec<String>,
    #[serde(default)]
    expires_in_minutes: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IssueToken {
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    expires_in_minutes: Option<u32>,
}

const SCOPES: [&str; 5] = [
    "chat",
    "voip",
    "chat.join",
    "chat.join.limited",
    "voip.join",
];

fn check_token_request(scopes: &[String], minutes: Option<u32>) -> Result<(), Failure> {
    if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return Err(Failure::Validation {
            message: format!("Scope '{bad}' is not valid."),
            target: "Scopes".into(),
        });
    }
    match minutes {
        Some(m) if !store::TOKEN_MINUTES.contains(&m) => Err(Failure::Validation {
            message: format!(
                "ExpiresInMinutes value {m} is invalid. Value must be within the [60, 1440] interval."
            ),
            target: "ExpiresInMinutes".into(),
        }),
        _ => Ok(()),
    }
}

fn identity(shared: &Shared, call: &Call) -> Result<Reply, Failure> {
    let mut store = shared.store();
    if let Err(message) = check_hmac(&store, call) {
        return Ok(reply::spec_error(
            StatusCode::UNAUTHORIZED,
            "Denied",
            message,
        ));
    }
    let s: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["identities"] => {
            let request: CreateIdentity = if call.body.iter().all(u8::is_ascii_whitespace) {
                CreateIdentity::default()
            } else {
                call.json_body()?
            };
            check_token_request(
                &request.create_token_with_scopes,
                request.expires_in_minutes,
            )?;
            let id = store.create_identity();
            let mut body = json!({"identity": {"id": id}});
            if !request.create_token_with_scopes.is_empty() {
                let (token, expires_on) = store.issue_token(
                    &id,
                    &request.create_token_with_scopes,
                    request.expires_in_minutes,
                )?;
                body["accessToken"] = json!({"token": token, "expiresOn": expires_on});
            }
            Ok(reply::json(StatusCode::CREATED, &body))
        }
        ["identities", id] => {
            store.delete_identity(id)?;
            Ok(reply::empty(StatusCode::NO_CONTENT))
        }
        ["identities", id, ":issueAccessToken"] => {
            let request: IssueToken = call.json_body()?;
            let scopes = request.scopes.ok_or_else(|| Failure::Validation {
                message: "Scopes: The Scopes field is required.".into(),
                target: "Scopes".into(),
            })?;
            check_token_request(&scopes, request.expires_in_minutes)?;
            let (token, expires_on) = store.issue_token(id, &scopes, request.expires_in_minutes)?;
            Ok(reply::json(
                StatusCode::OK,
                &json!({"token": token, "expiresOn": expires_on}),
            ))
        }
        ["identities", id, ":revokeAccessTokens"] => {
            store.revoke(id)?;
            Ok(reply::empty(StatusCode::NO_CONTENT))
        }
        _ => Err(Failure::NotFound),
    }
}

// ---- chat -------------------------------------------------------------------------------------

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

fn bearer(call: &Call) -> Option<&str> {
    let header = call.header("authorization")?;
    let (scheme, token) = header.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
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

/// An absolute `nextLink` on the host the client called, with the raw thread id in the path as
/// the real service writes it.
fn next_link(shared: &Shared, call: &Call, cursor: (&str, String), page_size: usize) -> String {
    let path: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let mut query = format!(
        "{}={}&maxPageSize={page_size}",
        cursor.0,
        encode_segment(&cursor.1)
    );
    if let Some(start) = call.query.get("startTime") {
        query.push_str(&format!("&startTime={}", encode_segment(start)));
    }
    let version = call
        .query
        .get("api-version")
        .map(String::as_str)
        .unwrap_or_default();
    format!(
        "{}://{}/{}?{query}&api-version={}",
        shared.scheme,
        call.host,
        path.join("/"),
        encode_segment(version)
    )
}

fn listing(
    shared: &Shared,
    call: &Call,
    cursor_name: &str,
    listing: store::Listing,
    size: usize,
) -> Reply {
    let mut body = json!({"value": listing.items});
    if let Some(next) = listing.next {
        body["nextLink"] = json!(next_link(shared, call, (cursor_name, next), size));
    }
    reply::json(StatusCode::OK, &body)
}

fn chat(shared: &Shared, call: &Call) -> Result<Reply, Failure> {
    let token = bearer(call).ok_or(Failure::Unauthorized)?;
    let mut store = shared.store();
    let caller = store.authenticate(token)?;
    let s: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    match (&call.method, s.as_slice()) {
        (&Method::POST, ["chat", "threads"]) => {
            let request: CreateThread = call.json_body()?;
            let topic = request.topic.unwrap_or_default();
            let thread = store.create_thread(
                &caller,
                &topic,
                participants(request.participants)?,
                call.header("repeatability-request-id"),
            )?;
            let id = thread["chatThread"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let mut response = reply::json(StatusCode::CREATED, &thread);
            let location = format!(
                "{}://{}/chat/threads/{}",
                shared.scheme,
                call.host,
                encode_segment(&id)
            );
            if let Ok(value) = location.parse() {
                response.headers_mut().insert("location", value);
            }
            Ok(response)
        }
        (&Method::GET, ["chat", "threads", tid]) => Ok(reply::json(
            StatusCode::OK,
            &store.get_thread(&caller, tid)?,
        )),
        (&Method::GET, ["chat", "threads", tid, "participants"]) => {
            let (skip, size) = (skip(call)?, page_size(call)?);
            let page = store.list_participants(&caller, tid, skip, size)?;
            Ok(listing(shared, call, "skip", page, size))
        }
        (&Method::POST, ["chat", "threads", tid, "participants", ":add"]) => {
            let request: AddParticipants = call.json_body()?;
            let invalid =
                store.add_participants(&caller, tid, participants(request.participants)?)?;
            let body = if invalid.is_empty() {
                json!({})
            } else {
                json!({"invalidParticipants": invalid})
            };
            Ok(reply::json(StatusCode::CREATED, &body))
        }
        (&Method::POST, ["chat", "threads", tid, "messages"]) => {
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
                &caller,
                tid,
                NewMessage {
                    content: request.content.unwrap_or_default(),
                    kind,
                    sender_display_name: request.sender_display_name,
                    metadata: request.metadata,
                },
            )?;
            let mut response = reply::json(StatusCode::CREATED, &json!({"id": id}));
            let location = format!(
                "{}://{}/chat/threads/{}/messages/{id}",
                shared.scheme,
                call.host,
                encode_segment(tid)
            );
            if let Ok(value) = location.parse() {
                response.headers_mut().insert("location", value);
            }
            Ok(response)
        }
        (&Method::GET, ["chat", "threads", tid, "messages"]) => {
            let size = page_size(call)?;
            let before = match call.query.get("syncState") {
                Some(state) => Some(
                    i64::from_str_radix(state, 16)
                        .map_err(|_| Failure::BadRequest("SyncState is invalid.".into()))?,
                ),
                None => None,
            };
            let start = match call.query.get("startTime") {
                Some(raw) => Some(
                    OffsetDateTime::parse(raw, &Rfc3339)
                        .map_err(|_| Failure::BadRequest("StartTime is invalid.".into()))?,
                ),
                None => None,
            };
            let page = store.list_messages(&caller, tid, before, start, size)?;
            Ok(listing(shared, call, "syncState", page, size))
        }
        (&Method::GET, ["chat", "threads", tid, "messages", mid]) => Ok(reply::json(
            StatusCode::OK,
            &store.get_message(&caller, tid, mid)?,
        )),
        (&Method::GET, ["chat", "threads", tid, "readReceipts"]) => {
            let (skip, size) = (skip(call)?, page_size(call)?);
            let page = store.list_read_receipts(&caller, tid, skip, size)?;
            Ok(listing(shared, call, "skip", page, size))
        }
        (&Method::POST, ["chat", "threads", tid, "readReceipts"]) => {
            let request: ReadReceipt = call.json_body()?;
            let message_id = request
                .chat_message_id
                .ok_or_else(|| Failure::BadRequest("ChatMessageId is required.".into()))?;
            store.send_read_receipt(&caller, tid, &message_id)?;
            Ok(reply::empty(StatusCode::OK))
        }
        _ => Err(Failure::NotFound),
    }
}

// ---- control ----------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MintToken {
    user_id: String,
    expires_in_seconds: i64,
    #[serde(default)]
    scopes: Option<Vec<String>>,
}

/// Test controls: request counts, faults, and tokens with any expiry. Loopback use only.
fn control(shared: &Shared, call: &Call) -> Reply {
    let s: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let bad = |e: serde_json::Error| {
        reply::spec_error(StatusCode::BAD_REQUEST, "BadRequest", &e.to_string())
    };
    match (&call.method, s.as_slice()) {
        (&Method::GET, ["_emulator", "requests"]) => {
            reply::json(StatusCode::OK, &json!(shared.faults.counts()))
        }
        (&Method::DELETE, ["_emulator", "requests"]) => {
            shared.faults.reset_counts();
            reply::empty(StatusCode::NO_CONTENT)
        }
        (&Method::POST, ["_emulator", "faults"]) => {
            match serde_json::from_slice::<Fault>(&call.body) {
                Ok(fault) => {
                    shared.faults.add(fault);
                    reply::empty(StatusCode::NO_CONTENT)
                }
                Err(e) => bad(e),
            }
        }
        (&Method::DELETE, ["_emulator", "faults"]) => {
            shared.faults.clear();
            reply::empty(StatusCode::NO_CONTENT)
        }
        (&Method::POST, ["_emulator", "tokens"]) => {
            match serde_json::from_slice::<MintToken>(&call.body) {
                Ok(request) => {
                    let scopes = request.scopes.unwrap_or_else(|| vec!["chat".into()]);
                    let expires_at = OffsetDateTime::now_utc()
                        + time::Duration::seconds(request.expires_in_seconds);
                    match shared.store().mint(&request.user_id, &scopes, expires_at) {
                        Ok(token) => reply::json(StatusCode::OK, &json!({"token": token})),
                        Err(failure) => reply::failure(&failure),
                    }
                }
                Err(e) => bad(e),
            }
        }
        _ => reply::spec_error(StatusCode::NOT_FOUND, "NotFound", "No such control route."),
    }
}

// ---- encoding ---------------------------------------------------------------------------------

fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn parse_query(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((
                percent_decode(&key.replace('+', " "))?,
                percent_decode(&value.replace('+', " "))?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_escapes_and_refuses_broken_ones() {
        assert_eq!(
            percent_decode("19%3Aabc%40thread.v2").as_deref(),
            Some("19:abc@thread.v2")
        );
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
    }

    #[test]
    fn parses_a_query_with_encoded_values() {
        let query =
            parse_query("startTime=2024-01-05T10%3A00%3A00.000Z&maxPageSize=5&api-version=v");
        assert_eq!(query["startTime"], "2024-01-05T10:00:00.000Z");
        assert_eq!(query["maxPageSize"], "5");
    }
}
