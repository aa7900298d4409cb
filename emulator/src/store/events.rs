//! The changes ACS records in a thread as system messages.

use super::participants::Participant;

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
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Self::ParticipantAdded { .. } => "participantAdded",
            Self::TopicUpdated { .. } => "topicUpdated",
            Self::ParticipantRemoved { .. } => "participantRemoved",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::conversation;

    #[test]
    fn a_new_thread_records_who_was_added_and_its_topic_and_a_rename_records_the_new_one() {
        let (mut store, alice, bob, thread) = conversation();
        store
            .update_properties(
                &bob,
                &thread,
                super::super::PropertiesUpdate {
                    topic: Some("Renamed".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        let listed = store
            .list_messages(&alice, &thread, None, None, 10)
            .unwrap()
            .items;
        let kinds: Vec<&str> = listed.iter().rev().map(|m| m.kind).collect();
        assert_eq!(kinds, ["participantAdded", "topicUpdated", "topicUpdated"]);
        assert!(listed.iter().all(|m| m.sender.is_none()), "system messages");
    }
}
