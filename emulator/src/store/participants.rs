//! Who is in a thread, as the store keeps them and as requests name them.

use time::OffsetDateTime;

/// A member of a thread.
#[derive(Debug, Clone)]
pub struct Participant {
    pub id: String,
    pub display_name: Option<String>,
    pub share_history_time: OffsetDateTime,
}

/// A participant as a request names it.
#[derive(Clone)]
pub struct NewParticipant {
    pub id: String,
    pub display_name: Option<String>,
    pub share_history_time: Option<OffsetDateTime>,
}
