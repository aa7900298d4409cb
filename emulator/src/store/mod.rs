//! The emulator's in-memory ACS: identities, threads, participants, messages, read receipts and
//! system events, with the rules ACS applies, one file for each. State only: `routes` turns
//! requests into these calls, and `wire` renders what they return in ACS's JSON.

use std::collections::HashMap;

use identities::Identity;

use acs_core::AccessKey;
use time::OffsetDateTime;

mod events;
mod identities;
mod messages;
mod participants;
mod receipts;
mod threads;

pub use events::Event;
pub use messages::{Content, Message, NewMessage};
pub use participants::{NewParticipant, Participant};
pub use receipts::Receipt;
pub use threads::{PropertiesUpdate, RETENTION_DAYS, Thread};

/// Limits ACS documents.
pub const MAX_PARTICIPANTS: usize = 250;
pub const MAX_BATCH: usize = 200;
pub const MAX_MESSAGE_BYTES: usize = 28 * 1024;
/// Token lifetime bounds in minutes, and the default.
pub const TOKEN_MINUTES: std::ops::RangeInclusive<u32> = 60..=1440;
pub const DEFAULT_TOKEN_MINUTES: u32 = 1440;

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
    /// The id the next user message takes, once, if a test pinned one.
    pinned_message_id: Option<i64>,
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
            pinned_message_id: None,
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

/// A store with people and a thread, for the store's own tests.
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;

    pub fn store() -> Store {
        let key = AccessKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
        Store::new(key, "res".into())
    }

    pub fn member(id: &str) -> NewParticipant {
        NewParticipant {
            id: id.to_owned(),
            display_name: None,
            share_history_time: None,
        }
    }

    /// A store, two people and a thread the first made with the second in it.
    pub fn conversation() -> (Store, String, String, String) {
        let mut store = store();
        let (alice, bob) = (store.create_identity(), store.create_identity());
        let thread = store
            .create_thread(&alice, "t", vec![member(&bob)], None)
            .unwrap()
            .id
            .clone();
        (store, alice, bob, thread)
    }

    pub fn text(content: &str) -> NewMessage {
        NewMessage {
            content: content.to_owned(),
            kind: "text",
            sender_display_name: None,
            metadata: None,
        }
    }
}
