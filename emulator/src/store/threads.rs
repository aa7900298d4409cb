//! Threads and their participants: made, renamed, deleted, joined and left, and who may see
//! them.

use std::collections::BTreeMap;

use acs_core::UserId;
use time::OffsetDateTime;

use super::events::Event;
use super::messages::Message;
use super::participants::{NewParticipant, Participant};
use super::receipts::Receipt;
use super::{Listing, MAX_BATCH, MAX_PARTICIPANTS, Store, epoch, page, whole_seconds};
use crate::failure::Failure;

/// Most keys a thread's merged metadata holds here.
pub const MAX_METADATA_KEYS: usize = 16;
/// Most bytes of a thread's merged metadata keys and values together here.
pub const MAX_METADATA_BYTES: usize = 8 * 1024;

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
    pub(super) participants: Vec<Participant>,
    /// Who was once a participant: ACS still lists the thread for them.
    pub(super) former: Vec<String>,
    /// The thread's clock: its latest message id or version.
    pub(super) last_stamp: i64,
    pub(super) messages: Vec<Message>,
    pub(super) receipts: BTreeMap<String, Receipt>,
    /// Its metadata (API 2025-03-15 on).
    pub metadata: BTreeMap<String, String>,
    /// Days after its creation that ACS deletes it, where it has a retention policy.
    pub retention_days: Option<u32>,
}

/// The fewest and most days a retention policy may keep a thread.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 30..=90;

/// What a thread's properties update changes; `None` leaves a part as it is.
#[derive(Debug, Default)]
pub struct PropertiesUpdate {
    pub topic: Option<String>,
    /// Merged into the metadata: a key with an empty value is removed.
    pub metadata: Option<BTreeMap<String, String>>,
    /// `Some(None)`: no retention policy any more. The route checks the days
    /// ([`RETENTION_DAYS`]) before anything is made.
    pub retention_days: Option<Option<u32>>,
}

impl Thread {
    /// When the thread went for everyone: deleted, or past its retention.
    pub fn gone_on(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let expires = self
            .retention_days
            .map(|days| self.created_on + time::Duration::days(i64::from(days)))
            .filter(|at| *at <= now);
        match (self.deleted_on, expires) {
            (Some(deleted), Some(expired)) => Some(deleted.min(expired)),
            (deleted, expired) => deleted.or(expired),
        }
    }
}

impl Store {
    /// Every participant of a thread, deleted or not, with their names: whom its events go to.
    pub fn members(&self, thread_id: &str) -> Vec<(String, Option<String>)> {
        self.threads
            .get(thread_id)
            .map(|t| {
                t.participants
                    .iter()
                    .map(|p| (p.id.clone(), p.display_name.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A participant's name in a thread, if they have one there.
    pub fn display_name(&self, thread_id: &str, id: &str) -> Option<String> {
        self.members(thread_id)
            .into_iter()
            .find(|(member, _)| member == id)
            .and_then(|(_, name)| name)
    }

    /// When a thread was made, deleted or not, for the events about it.
    pub fn thread_created_on(&self, thread_id: &str) -> Option<OffsetDateTime> {
        self.threads.get(thread_id).map(|t| t.created_on)
    }

    /// A live thread the caller is in: a deleted one is gone for everyone.
    pub(super) fn thread(&self, caller: &str, thread_id: &str) -> Result<&Thread, Failure> {
        let thread = self
            .threads
            .get(thread_id)
            .filter(|t| t.gone_on(OffsetDateTime::now_utc()).is_none())
            .ok_or(Failure::NotFound)?;
        if thread.participants.iter().any(|p| p.id == caller) {
            Ok(thread)
        } else {
            Err(Failure::Forbidden)
        }
    }

    pub(super) fn thread_mut(
        &mut self,
        caller: &str,
        thread_id: &str,
    ) -> Result<&mut Thread, Failure> {
        self.thread(caller, thread_id)?;
        self.threads.get_mut(thread_id).ok_or(Failure::NotFound)
    }

    /// Checks ids: a malformed one fails the whole request, as ACS does.
    pub(super) fn check_ids(participants: &[NewParticipant]) -> Result<(), Failure> {
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
                last_stamp: 0,
                messages: Vec::new(),
                receipts: BTreeMap::new(),
                metadata: BTreeMap::new(),
                retention_days: None,
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

    /// Checks that the caller may tell the thread it is typing; nothing is stored.
    pub fn typing(&self, caller: &str, thread_id: &str) -> Result<(), Failure> {
        self.thread(caller, thread_id).map(drop)
    }

    /// Renames the thread and records it as a system message.
    /// Changes a thread's topic, metadata or retention policy; a new topic is recorded as a
    /// system message.
    pub fn update_properties(
        &mut self,
        caller: &str,
        thread_id: &str,
        update: PropertiesUpdate,
    ) -> Result<(), Failure> {
        if update.topic.as_deref().is_some_and(|t| t.trim().is_empty()) {
            return Err(Failure::BadRequest("Topic is required.".into()));
        }
        let thread = self.thread_mut(caller, thread_id)?;
        if let Some(metadata) = update.metadata {
            let mut merged = thread.metadata.clone();
            for (key, value) in metadata {
                if value.is_empty() {
                    merged.remove(&key);
                } else {
                    merged.insert(key, value);
                }
            }
            let bytes: usize = merged.iter().map(|(k, v)| k.len() + v.len()).sum();
            // ACS documents no bound on the merged metadata; these stand for one, so that a
            // client that skips the API's check still meets a wall.
            if merged.len() > MAX_METADATA_KEYS || bytes > MAX_METADATA_BYTES {
                return Err(Failure::BadRequest(
                    "Metadata exceeds the maximum allowed size.".into(),
                ));
            }
            thread.metadata = merged;
        }
        if let Some(retention) = update.retention_days {
            thread.retention_days = retention;
        }
        if let Some(topic) = update.topic {
            thread.topic.clone_from(&topic);
            self.push_event(
                thread_id,
                Event::TopicUpdated {
                    topic,
                    initiator: caller.to_owned(),
                },
            );
        }
        Ok(())
    }

    /// Moves a thread's creation `days` back, as if it had been made then: how a test reaches
    /// the end of a retention period.
    pub fn age_thread(&mut self, thread_id: &str, days: u32) -> Result<(), Failure> {
        let thread = self.threads.get_mut(thread_id).ok_or(Failure::NotFound)?;
        thread.created_on -= time::Duration::days(i64::from(days));
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
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{conversation, member, store, text};
    use super::*;

    #[test]
    fn a_thread_has_its_creator_and_the_known_people_it_names_and_a_retry_makes_no_second() {
        let mut store = store();
        let alice = store.create_identity();
        let named = vec![member(&alice), member("8:acs:res_unknown")];
        let first = store
            .create_thread(&alice, "Lunch", named.clone(), Some("r-1"))
            .unwrap()
            .id
            .clone();
        let again = store
            .create_thread(&alice, "Lunch", named, Some("r-1"))
            .unwrap()
            .id
            .clone();
        assert_eq!(first, again);
        let members = store.list_participants(&alice, &first, 0, 10).unwrap();
        assert_eq!(
            members.items.len(),
            1,
            "the creator once; the unknown left out"
        );
        assert_eq!(
            store.create_thread(&alice, " ", vec![], None).err(),
            Some(Failure::BadRequest("Topic is required.".into()))
        );
    }

    #[test]
    fn only_members_see_a_thread_and_nobody_once_it_is_deleted() {
        let (mut store, alice, bob, thread) = conversation();
        let carol = store.create_identity();
        assert!(store.get_thread(&bob, &thread).is_ok());
        assert_eq!(
            store.get_thread(&carol, &thread).err(),
            Some(Failure::Forbidden)
        );
        store.delete_thread(&alice, &thread).unwrap();
        assert_eq!(
            store.get_thread(&alice, &thread).err(),
            Some(Failure::NotFound)
        );
        let listed = store.list_threads(&alice, 0, 10);
        assert!(
            listed.items[0].deleted_on.is_some(),
            "still listed, as deleted"
        );
    }

    #[test]
    fn who_leaves_is_refused_from_then_on_but_still_sees_the_thread_listed() {
        let (mut store, alice, bob, thread) = conversation();
        store.remove_participant(&bob, &thread, &bob).unwrap();
        assert_eq!(store.typing(&bob, &thread), Err(Failure::Forbidden));
        assert_eq!(store.list_threads(&bob, 0, 10).items.len(), 1);
        assert_eq!(
            store.remove_participant(&alice, &thread, &bob),
            Err(Failure::NotFound)
        );
    }

    #[test]
    fn a_thread_takes_at_most_250_participants() {
        let (mut store, alice, _, thread) = conversation();
        for batch in [200, 48] {
            let more: Vec<NewParticipant> = (0..batch)
                .map(|_| member(&store.create_identity()))
                .collect();
            assert_eq!(store.add_participants(&alice, &thread, more), Ok(vec![]));
        }
        let one_too_many = vec![member(&store.create_identity())];
        assert!(matches!(
            store.add_participants(&alice, &thread, one_too_many),
            Err(Failure::BadRequest(_))
        ));
    }

    #[test]
    fn the_inbox_puts_the_thread_with_the_latest_message_first() {
        let (mut store, alice, bob, older) = conversation();
        let newer = store
            .create_thread(&alice, "second", vec![member(&bob)], None)
            .unwrap()
            .id
            .clone();
        store.send_message(&bob, &older, text("bump")).unwrap();
        let ids: Vec<&str> = store
            .list_threads(&alice, 0, 10)
            .items
            .iter()
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(ids, [older.as_str(), newer.as_str()]);
    }
}
