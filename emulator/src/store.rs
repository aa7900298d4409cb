//! The emulator's in-memory ACS: identities, threads, participants, messages and read receipts,
//! with the rules ACS applies. State only: `routes` turns requests into these calls, and `wire`
//! renders what they return in ACS's JSON.

use std::collections::{BTreeMap, HashMap};

use acs_chat_api::acs::{AccessKey, UserId};
use serde_json::Value;
use time::OffsetDateTime;

use crate::tokens::{self, Claims};

/// Limits ACS documents.
pub const MAX_PARTICIPANTS: usize = 250;
pub const MAX_BATCH: usize = 200;
pub const MAX_MESSAGE_BYTES: usize = 28 * 1024;
/// Token lifetime bounds in minutes, and the default.
pub const TOKEN_MINUTES: std::ops::RangeInclusive<u32> = 60..=1440;
pub const DEFAULT_TOKEN_MINUTES: u32 = 1440;

/// Why a store operation failed; `routes` gives each its ACS status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 400 in the Chat service's PascalCase shape.
    BadRequest(String),
    /// 400 `ValidationError` in the spec shape, as Identity answers.
    Validation { message: String, target: String },
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 404 for a chat resource.
    NotFound,
    /// 404 for an identity.
    IdentityNotFound,
    /// 429 past one of ACS's rate limits; retry after this many seconds.
    Throttled(u64),
}

struct Identity {
    /// Tokens with a serial at or below this were revoked.
    revoked_through: u64,
}

/// A member of a thread.
#[derive(Debug, Clone)]
pub struct Participant {
    pub id: String,
    pub display_name: Option<String>,
    pub share_history_time: OffsetDateTime,
}

/// What a message holds: a user's text, or the event a system message records.
#[derive(Debug, Clone)]
pub enum Content {
    Text(String),
    Event(Event),
}

/// A change ACS records in the thread as a system message.
#[derive(Debug, Clone)]
pub enum Event {
    ParticipantAdded {
        participants: Vec<Participant>,
        initiator: String,
    },
    TopicUpdated {
        topic: String,
        initiator: String,
    },
    ParticipantRemoved {
        participants: Vec<Participant>,
        initiator: String,
    },
}

impl Event {
    /// The message `type` ACS gives it.
    fn kind(&self) -> &'static str {
        match self {
            Self::ParticipantAdded { .. } => "participantAdded",
            Self::TopicUpdated { .. } => "topicUpdated",
            Self::ParticipantRemoved { .. } => "participantRemoved",
        }
    }
}

/// A message, user or system.
#[derive(Debug, Clone)]
pub struct Message {
    /// Creation time in epoch milliseconds, unique within the resource.
    pub id: i64,
    /// Time of the last change in epoch milliseconds (the id until it changes); lists are
    /// ordered by it, newest first.
    pub version: i64,
    pub deleted_on: Option<OffsetDateTime>,
    pub edited_on: Option<OffsetDateTime>,
    pub kind: &'static str,
    pub sequence_id: u64,
    pub content: Content,
    pub sender: Option<String>,
    pub sender_display_name: Option<String>,
    pub metadata: Option<Value>,
    pub created_on: OffsetDateTime,
}

/// A participant's latest read receipt.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub message_id: String,
    pub read_on: OffsetDateTime,
}

/// A chat thread and everything in it.
#[derive(Debug)]
pub struct Thread {
    pub id: String,
    pub topic: String,
    pub created_on: OffsetDateTime,
    pub created_by: String,
    /// When a user last sent a message to it.
    pub last_message_received_on: Option<OffsetDateTime>,
    pub deleted_on: Option<OffsetDateTime>,
    participants: Vec<Participant>,
    /// Who was once a participant: ACS still lists the thread for them.
    former: Vec<String>,
    messages: Vec<Message>,
    receipts: BTreeMap<String, Receipt>,
}

/// A participant as a request names it.
#[derive(Clone)]
pub struct NewParticipant {
    pub id: String,
    pub display_name: Option<String>,
    pub share_history_time: Option<OffsetDateTime>,
}

/// A message as a request sends it.
pub struct NewMessage {
    pub content: String,
    pub kind: &'static str,
    pub sender_display_name: Option<String>,
    pub metadata: Option<Value>,
}

/// One page of a listing and the cursor for the next, if any.
pub struct Listing<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// All emulator state. Guarded by one mutex in `server`; every call is short and never awaits.
pub struct Store {
    /// Verifies HMAC signatures; rotatable.
    key: AccessKey,
    /// Signs user tokens. ACS's tokens do not depend on the access key, so it stays as it was
    /// at start when the access key is rotated.
    token_key: AccessKey,
    resource_id: String,
    identities: HashMap<String, Identity>,
    threads: HashMap<String, Thread>,
    repeatability: HashMap<(String, String), String>,
    next_serial: u64,
    last_message_id: i64,
}

/// ACS keeps whole seconds for thread and receipt times.
pub fn whole_seconds(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(0).unwrap_or(at)
}

fn epoch() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH
}

impl Store {
    /// An empty resource that signs with `key`.
    pub fn new(key: AccessKey, resource_id: String) -> Self {
        Self {
            token_key: key.clone(),
            key,
            resource_id,
            identities: HashMap::new(),
            threads: HashMap::new(),
            repeatability: HashMap::new(),
            next_serial: 1,
            last_message_id: 0,
        }
    }

    /// The signing key, for HMAC checks.
    pub fn key(&self) -> &AccessKey {
        &self.key
    }

    /// Replaces the access key, as regenerating a resource's key does; user tokens stay valid.
    pub fn set_key(&mut self, key: AccessKey) {
        self.key = key;
    }

    // ---- identities -------------------------------------------------------------------------

    /// Creates an identity with an id shaped like ACS's.
    pub fn create_identity(&mut self) -> String {
        let id = format!("8:acs:{}_{}", self.resource_id, uuid::Uuid::new_v4());
        self.identities
            .insert(id.clone(), Identity { revoked_through: 0 });
        id
    }

    fn known_identity(&self, id: &str) -> Result<(), Failure> {
        if self.identities.contains_key(id) {
            Ok(())
        } else {
            Err(Failure::IdentityNotFound)
        }
    }

    /// Issues a token for a known identity; returns it and its expiry.
    pub fn issue_token(
        &mut self,
        id: &str,
        scopes: &[String],
        minutes: Option<u32>,
    ) -> Result<(String, OffsetDateTime), Failure> {
        self.known_identity(id)?;
        let minutes = minutes.unwrap_or(DEFAULT_TOKEN_MINUTES);
        let expires_at = OffsetDateTime::now_utc() + time::Duration::minutes(i64::from(minutes));
        Ok((self.mint(id, scopes, expires_at)?, expires_at))
    }

    /// Signs a token for `id` expiring at `expires_at`, even in the past (for expiry tests).
    pub fn mint(
        &mut self,
        id: &str,
        scopes: &[String],
        expires_at: OffsetDateTime,
    ) -> Result<String, Failure> {
        let skypeid = id
            .strip_prefix("8:")
            .ok_or_else(|| Failure::BadRequest("not an ACS identity".into()))?;
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            skypeid: skypeid.to_owned(),
            scp: 1792,
            csi: now.to_string(),
            exp: expires_at.unix_timestamp(),
            acs_scope: scopes.join(","),
            resource_id: self.resource_id.clone(),
            iat: now,
            serial: self.next_serial,
        };
        self.next_serial += 1;
        Ok(tokens::encode(&self.token_key, &claims))
    }

    /// Refuses every token issued so far for `id`.
    pub fn revoke(&mut self, id: &str) -> Result<(), Failure> {
        let serial = self.next_serial;
        let identity = self
            .identities
            .get_mut(id)
            .ok_or(Failure::IdentityNotFound)?;
        identity.revoked_through = serial.saturating_sub(1);
        Ok(())
    }

    /// Deletes an identity; its tokens stop working.
    pub fn delete_identity(&mut self, id: &str) -> Result<(), Failure> {
        self.identities
            .remove(id)
            .map(drop)
            .ok_or(Failure::IdentityNotFound)
    }

    /// The caller a bearer token names, if the token is genuine, current, not revoked and
    /// grants chat.
    pub fn authenticate(&self, token: &str) -> Result<String, Failure> {
        let claims = tokens::decode(&self.token_key, token).ok_or(Failure::Unauthorized)?;
        if claims.exp <= OffsetDateTime::now_utc().unix_timestamp() {
            return Err(Failure::Unauthorized);
        }
        let user = claims.user_id();
        let identity = self.identities.get(&user).ok_or(Failure::Unauthorized)?;
        if claims.serial <= identity.revoked_through {
            return Err(Failure::Unauthorized);
        }
        if !claims.scopes().any(|s| s.starts_with("chat")) {
            return Err(Failure::Forbidden);
        }
        Ok(user)
    }

    // ---- threads ----------------------------------------------------------------------------

    /// When a thread was made, deleted or not, for the events about it.
    pub fn thread_created_on(&self, thread_id: &str) -> Option<OffsetDateTime> {
        self.threads.get(thread_id).map(|t| t.created_on)
    }

    /// A live thread the caller is in: a deleted one is gone for everyone.
    fn thread(&self, caller: &str, thread_id: &str) -> Result<&Thread, Failure> {
        let thread = self
            .threads
            .get(thread_id)
            .filter(|t| t.deleted_on.is_none())
            .ok_or(Failure::NotFound)?;
        if thread.participants.iter().any(|p| p.id == caller) {
            Ok(thread)
        } else {
            Err(Failure::Forbidden)
        }
    }

    fn thread_mut(&mut self, caller: &str, thread_id: &str) -> Result<&mut Thread, Failure> {
        self.thread(caller, thread_id)?;
        self.threads.get_mut(thread_id).ok_or(Failure::NotFound)
    }

    fn next_message_id(&mut self) -> (i64, OffsetDateTime) {
        let now = OffsetDateTime::now_utc();
        let ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        self.last_message_id = ms.max(self.last_message_id + 1);
        (self.last_message_id, now)
    }

    fn push_message(&mut self, thread_id: &str, draft: MessageDraft) -> i64 {
        let (id, now) = self.next_message_id();
        if let Some(thread) = self.threads.get_mut(thread_id) {
            let sequence_id = thread.messages.len() as u64 + 1;
            thread.messages.push(Message {
                id,
                version: id,
                deleted_on: None,
                edited_on: None,
                kind: draft.kind,
                sequence_id,
                content: draft.content,
                sender: draft.sender,
                sender_display_name: draft.sender_display_name,
                metadata: draft.metadata,
                created_on: now,
            });
        }
        id
    }

    /// Records a system event in the thread.
    fn push_event(&mut self, thread_id: &str, event: Event) -> i64 {
        let draft = MessageDraft {
            kind: event.kind(),
            content: Content::Event(event),
            sender: None,
            sender_display_name: None,
            metadata: None,
        };
        self.push_message(thread_id, draft)
    }

    /// Checks ids: a malformed one fails the whole request, as ACS does.
    fn check_ids(participants: &[NewParticipant]) -> Result<(), Failure> {
        if participants.len() > MAX_BATCH {
            return Err(Failure::BadRequest(format!(
                "At most {MAX_BATCH} participants can be added at once."
            )));
        }
        match participants
            .iter()
            .find(|p| UserId::parse(p.id.as_str()).is_err())
        {
            Some(bad) => Err(Failure::BadRequest(format!(
                "Identifier format is invalid ({}).",
                bad.id
            ))),
            None => Ok(()),
        }
    }

    /// Creates a thread with the caller as creator and first participant. The same
    /// repeatability id from the same caller returns the thread it made the first time.
    pub fn create_thread(
        &mut self,
        caller: &str,
        topic: &str,
        participants: Vec<NewParticipant>,
        repeatability_id: Option<&str>,
    ) -> Result<&Thread, Failure> {
        if topic.trim().is_empty() {
            return Err(Failure::BadRequest("Topic is required.".into()));
        }
        Self::check_ids(&participants)?;
        if let Some(request_id) = repeatability_id {
            let key = (caller.to_owned(), request_id.to_owned());
            if let Some(existing) = self.repeatability.get(&key).cloned() {
                return self.threads.get(&existing).ok_or(Failure::NotFound);
            }
        }
        let id = format!("19:acsV1_{}@thread.v2", uuid::Uuid::new_v4().simple());
        let created_on = whole_seconds(OffsetDateTime::now_utc());
        let mut members = vec![Participant {
            id: caller.to_owned(),
            display_name: None,
            share_history_time: epoch(),
        }];
        for p in participants {
            if !self.identities.contains_key(&p.id) {
                continue;
            }
            // Naming the creator too (as the SDKs do to give it a name) names it once.
            match members.iter_mut().find(|m| m.id == p.id) {
                Some(member) => member.display_name = p.display_name.or(member.display_name.take()),
                None => members.push(Participant {
                    id: p.id,
                    display_name: p.display_name,
                    share_history_time: p.share_history_time.unwrap_or_else(epoch),
                }),
            }
        }
        let added = members.clone();
        self.threads.insert(
            id.clone(),
            Thread {
                id: id.clone(),
                topic: topic.to_owned(),
                created_on,
                created_by: caller.to_owned(),
                last_message_received_on: None,
                deleted_on: None,
                participants: members,
                former: Vec::new(),
                messages: Vec::new(),
                receipts: BTreeMap::new(),
            },
        );
        let initiator = caller.to_owned();
        self.push_event(
            &id,
            Event::ParticipantAdded {
                participants: added,
                initiator: initiator.clone(),
            },
        );
        self.push_event(
            &id,
            Event::TopicUpdated {
                topic: topic.to_owned(),
                initiator,
            },
        );
        if let Some(request_id) = repeatability_id {
            self.repeatability
                .insert((caller.to_owned(), request_id.to_owned()), id.clone());
        }
        self.threads.get(&id).ok_or(Failure::NotFound)
    }

    /// The thread's properties.
    pub fn get_thread(&self, caller: &str, thread_id: &str) -> Result<&Thread, Failure> {
        self.thread(caller, thread_id)
    }

    /// Adds participants; unknown identities come back as refused ids, existing members are
    /// left alone.
    pub fn add_participants(
        &mut self,
        caller: &str,
        thread_id: &str,
        participants: Vec<NewParticipant>,
    ) -> Result<Vec<String>, Failure> {
        Self::check_ids(&participants)?;
        let known: Vec<bool> = participants
            .iter()
            .map(|p| self.identities.contains_key(&p.id))
            .collect();
        let thread = self.thread_mut(caller, thread_id)?;
        let mut invalid = Vec::new();
        let mut added = Vec::new();
        for (p, known) in participants.into_iter().zip(known) {
            if !known {
                invalid.push(p.id);
            } else if !thread.participants.iter().any(|m| m.id == p.id) {
                if thread.participants.len() >= MAX_PARTICIPANTS {
                    return Err(Failure::BadRequest(format!(
                        "A thread can have at most {MAX_PARTICIPANTS} participants."
                    )));
                }
                let member = Participant {
                    id: p.id,
                    display_name: p.display_name,
                    share_history_time: p.share_history_time.unwrap_or_else(epoch),
                };
                added.push(member.clone());
                thread.participants.push(member);
            }
        }
        if !added.is_empty() {
            self.push_event(
                thread_id,
                Event::ParticipantAdded {
                    participants: added,
                    initiator: caller.to_owned(),
                },
            );
        }
        Ok(invalid)
    }

    /// Participants from `skip`, at most `page_size`, with the next `skip` if more remain.
    pub fn list_participants(
        &self,
        caller: &str,
        thread_id: &str,
        skip: usize,
        page_size: usize,
    ) -> Result<Listing<&Participant>, Failure> {
        let thread = self.thread(caller, thread_id)?;
        Ok(page(thread.participants.iter(), skip, page_size))
    }

    /// Stores a user's message and returns its id.
    pub fn send_message(
        &mut self,
        caller: &str,
        thread_id: &str,
        message: NewMessage,
    ) -> Result<String, Failure> {
        self.thread(caller, thread_id)?;
        Self::check_content(&message.content)?;
        let id = self.push_message(
            thread_id,
            MessageDraft {
                kind: message.kind,
                content: Content::Text(message.content),
                sender: Some(caller.to_owned()),
                sender_display_name: message.sender_display_name,
                metadata: message.metadata,
            },
        );
        if let Some(thread) = self.threads.get_mut(thread_id) {
            thread.last_message_received_on = Some(OffsetDateTime::now_utc());
        }
        Ok(id.to_string())
    }

    /// Edits the caller's own message: new content and metadata (an empty value removes a
    /// key), a new version and `editedOn`.
    pub fn update_message(
        &mut self,
        caller: &str,
        thread_id: &str,
        id: &str,
        content: Option<String>,
        metadata: Option<serde_json::Map<String, Value>>,
    ) -> Result<(), Failure> {
        if let Some(content) = &content {
            Self::check_content(content)?;
        }
        let (stamp, now) = self.next_message_id();
        let message = self.own_message(caller, thread_id, id)?;
        if message.deleted_on.is_some() {
            return Err(Failure::NotFound);
        }
        if let Some(content) = content {
            message.content = Content::Text(content);
        }
        if let Some(changes) = metadata {
            let mut merged = match message.metadata.take() {
                Some(Value::Object(map)) => map,
                _ => serde_json::Map::new(),
            };
            for (key, value) in changes {
                if value.as_str() == Some("") {
                    merged.remove(&key);
                } else {
                    merged.insert(key, value);
                }
            }
            message.metadata = Some(Value::Object(merged));
        }
        message.version = stamp;
        message.edited_on = Some(now);
        Ok(())
    }

    /// A message of the thread, which the caller must have sent.
    fn own_message(
        &mut self,
        caller: &str,
        thread_id: &str,
        id: &str,
    ) -> Result<&mut Message, Failure> {
        let thread = self.thread_mut(caller, thread_id)?;
        let message = thread
            .messages
            .iter_mut()
            .find(|m| m.id.to_string() == id)
            .ok_or(Failure::NotFound)?;
        if message.sender.as_deref() == Some(caller) {
            Ok(message)
        } else {
            Err(Failure::Forbidden)
        }
    }

    fn check_content(content: &str) -> Result<(), Failure> {
        if content.is_empty() {
            return Err(Failure::BadRequest("Content is required.".into()));
        }
        if content.len() > MAX_MESSAGE_BYTES {
            return Err(Failure::BadRequest(format!(
                "Content exceeds the maximum of {MAX_MESSAGE_BYTES} bytes."
            )));
        }
        Ok(())
    }

    /// Checks that the caller may tell the thread it is typing; nothing is stored.
    pub fn typing(&self, caller: &str, thread_id: &str) -> Result<(), Failure> {
        self.thread(caller, thread_id).map(drop)
    }

    /// Renames the thread and records it as a system message.
    pub fn update_topic(
        &mut self,
        caller: &str,
        thread_id: &str,
        topic: &str,
    ) -> Result<(), Failure> {
        if topic.trim().is_empty() {
            return Err(Failure::BadRequest("Topic is required.".into()));
        }
        self.thread_mut(caller, thread_id)?.topic = topic.to_owned();
        self.push_event(
            thread_id,
            Event::TopicUpdated {
                topic: topic.to_owned(),
                initiator: caller.to_owned(),
            },
        );
        Ok(())
    }

    /// Deletes the thread for everyone; it stays listed, with `deletedOn`, for its members.
    pub fn delete_thread(&mut self, caller: &str, thread_id: &str) -> Result<(), Failure> {
        self.thread_mut(caller, thread_id)?.deleted_on = Some(OffsetDateTime::now_utc());
        Ok(())
    }

    /// Removes a participant (the caller itself, to leave) and records it as a system message.
    pub fn remove_participant(
        &mut self,
        caller: &str,
        thread_id: &str,
        removed: &str,
    ) -> Result<(), Failure> {
        let thread = self.thread_mut(caller, thread_id)?;
        let at = thread
            .participants
            .iter()
            .position(|p| p.id == removed)
            .ok_or(Failure::NotFound)?;
        let member = thread.participants.remove(at);
        thread.receipts.remove(removed);
        thread.former.push(removed.to_owned());
        self.push_event(
            thread_id,
            Event::ParticipantRemoved {
                participants: vec![member],
                initiator: caller.to_owned(),
            },
        );
        Ok(())
    }

    /// Threads the caller is or was in, deleted ones included as ACS lists them, most recent
    /// activity first; offset paging.
    pub fn list_threads(&self, caller: &str, skip: usize, page_size: usize) -> Listing<&Thread> {
        let mut mine: Vec<&Thread> = self
            .threads
            .values()
            .filter(|t| {
                t.participants.iter().any(|p| p.id == caller)
                    || t.former.iter().any(|f| f == caller)
            })
            .collect();
        mine.sort_by_key(|t| {
            std::cmp::Reverse((
                t.last_message_received_on.unwrap_or(t.created_on),
                t.id.clone(),
            ))
        });
        page(mine.into_iter(), skip, page_size)
    }

    /// Messages the caller may see, newest first, older than the `before` cursor (a message id)
    /// and created at or after `start_time`; the cursor for the next page if more remain.
    pub fn list_messages(
        &self,
        caller: &str,
        thread_id: &str,
        before: Option<i64>,
        start_time: Option<OffsetDateTime>,
        page_size: usize,
    ) -> Result<Listing<&Message>, Failure> {
        let thread = self.thread(caller, thread_id)?;
        let since = thread
            .participants
            .iter()
            .find(|p| p.id == caller)
            .map_or_else(epoch, |p| p.share_history_time);
        let mut visible: Vec<&Message> = thread
            .messages
            .iter()
            .filter(|m| m.created_on >= since)
            .filter(|m| start_time.is_none_or(|start| m.created_on >= start))
            .filter(|m| before.is_none_or(|b| m.version < b))
            .collect();
        visible.sort_by_key(|m| std::cmp::Reverse(m.version));
        let more = visible.len() > page_size;
        visible.truncate(page_size);
        let next = match visible.last() {
            Some(last) if more => Some(format!("{:x}", last.version)),
            _ => None,
        };
        Ok(Listing {
            items: visible,
            next,
        })
    }

    /// Deletes the caller's own message: it stays listed, empty, with `deletedOn` and a new
    /// version, as ACS keeps it. Deleting it again changes nothing.
    pub fn delete_message(
        &mut self,
        caller: &str,
        thread_id: &str,
        id: &str,
    ) -> Result<(), Failure> {
        let (stamp, now) = self.next_message_id();
        let message = self.own_message(caller, thread_id, id)?;
        if message.deleted_on.is_none() {
            message.deleted_on = Some(now);
            message.version = stamp;
            message.content = Content::Text(String::new());
        }
        Ok(())
    }

    /// One message by id.
    pub fn get_message(
        &self,
        caller: &str,
        thread_id: &str,
        id: &str,
    ) -> Result<&Message, Failure> {
        let thread = self.thread(caller, thread_id)?;
        thread
            .messages
            .iter()
            .find(|m| m.id.to_string() == id)
            .ok_or(Failure::NotFound)
    }

    /// Records that the caller has read up to `message_id`.
    pub fn send_read_receipt(
        &mut self,
        caller: &str,
        thread_id: &str,
        message_id: &str,
    ) -> Result<(), Failure> {
        let thread = self.thread_mut(caller, thread_id)?;
        if !thread
            .messages
            .iter()
            .any(|m| m.id.to_string() == message_id)
        {
            return Err(Failure::NotFound);
        }
        thread.receipts.insert(
            caller.to_owned(),
            Receipt {
                message_id: message_id.to_owned(),
                read_on: whole_seconds(OffsetDateTime::now_utc()),
            },
        );
        Ok(())
    }

    /// Every participant's latest read receipt, from `skip`.
    pub fn list_read_receipts(
        &self,
        caller: &str,
        thread_id: &str,
        skip: usize,
        page_size: usize,
    ) -> Result<Listing<(&String, &Receipt)>, Failure> {
        let thread = self.thread(caller, thread_id)?;
        Ok(page(thread.receipts.iter(), skip, page_size))
    }
}

struct MessageDraft {
    kind: &'static str,
    content: Content,
    sender: Option<String>,
    sender_display_name: Option<String>,
    metadata: Option<Value>,
}

/// Offset paging, as ACS does for participants and receipts: `size` items from `skip`, and
/// the next `skip` when more remain.
fn page<T>(items: impl ExactSizeIterator<Item = T>, skip: usize, size: usize) -> Listing<T> {
    let total = items.len();
    let items: Vec<T> = items.skip(skip).take(size).collect();
    let end = skip + items.len();
    let next = (end < total).then(|| end.to_string());
    Listing { items, next }
}
