//! Read receipts: each participant's latest.

use std::collections::BTreeMap;

use time::OffsetDateTime;

/// Above this many participants ACS keeps no read receipts: sending one is accepted, listing
/// them comes back empty.
pub const MAX_RECEIPT_PARTICIPANTS: usize = 20;

use super::{Listing, Store, page, whole_seconds};
use crate::failure::Failure;

/// A participant's latest read receipt.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub message_id: String,
    pub read_on: OffsetDateTime,
}

impl Store {
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
        if thread.participants.len() > MAX_RECEIPT_PARTICIPANTS {
            return Ok(());
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
        static NONE: BTreeMap<String, Receipt> = BTreeMap::new();
        let receipts = if thread.participants.len() > MAX_RECEIPT_PARTICIPANTS {
            &NONE
        } else {
            &thread.receipts
        };
        Ok(page(receipts.iter(), skip, page_size))
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{conversation, member, text};
    use super::*;

    #[test]
    fn each_participant_keeps_its_latest_receipt_until_it_leaves() {
        let (mut store, alice, bob, thread) = conversation();
        let first = store.send_message(&alice, &thread, text("one")).unwrap();
        let second = store.send_message(&alice, &thread, text("two")).unwrap();
        store.send_read_receipt(&bob, &thread, &first).unwrap();
        store.send_read_receipt(&bob, &thread, &second).unwrap();
        let receipts = store.list_read_receipts(&alice, &thread, 0, 10).unwrap();
        let kept: Vec<(&str, &str)> = receipts
            .items
            .iter()
            .map(|(who, r)| (who.as_str(), r.message_id.as_str()))
            .collect();
        assert_eq!(kept, [(bob.as_str(), second.as_str())]);
        assert_eq!(
            store.send_read_receipt(&bob, &thread, "1"),
            Err(Failure::NotFound)
        );
        store.remove_participant(&bob, &thread, &bob).unwrap();
        let receipts = store.list_read_receipts(&alice, &thread, 0, 10).unwrap();
        assert!(receipts.items.is_empty());
    }

    #[test]
    fn above_twenty_participants_receipts_are_accepted_and_never_listed() {
        let (mut store, alice, bob, thread) = conversation();
        let others: Vec<_> = (0..19).map(|_| member(&store.create_identity())).collect();
        store.add_participants(&alice, &thread, others).unwrap();
        let message = store.send_message(&alice, &thread, text("to 21")).unwrap();
        store.send_read_receipt(&bob, &thread, &message).unwrap();
        let receipts = store.list_read_receipts(&alice, &thread, 0, 10).unwrap();
        assert!(receipts.items.is_empty());
    }
}
