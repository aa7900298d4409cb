//! A message's files as they travel in its ACS metadata, both ways: [`Attached`] is what a
//! send writes, [`Attachment::of_message`] what a reader finds.

use serde::{Deserialize, Serialize};

use super::AttachmentId;
use crate::acs::chat::ChatMessage;
use crate::chat::text::{MessageText, TextError};

/// The metadata key under which a message's attachments travel in ACS.
pub const METADATA_KEY: &str = "attachments";
/// The metadata flag of a message that is only its attachments: ACS needs text, so their names
/// stand in for it, and callers are shown none.
pub const TEXTLESS_KEY: &str = "textless";

/// What a message shows of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: AttachmentId,
    pub name: String,
    pub content_type: String,
    pub size: u64,
}

impl Attachment {
    /// A message's attachments, and whether it is only them (its text is their names). Most
    /// messages have none, and are told apart without decoding their metadata.
    pub fn of_message(message: &ChatMessage) -> (Vec<Self>, bool) {
        let listed = message
            .metadata
            .as_ref()
            .is_some_and(|raw| raw.get().contains(METADATA_KEY));
        if !listed {
            return (Vec::new(), false);
        }
        let attachments = message
            .metadata(METADATA_KEY)
            .map(|value| Self::list_from_metadata(&value))
            .unwrap_or_default();
        // Still only its files until an edit gives it text of its own.
        let textless = !attachments.is_empty()
            && message.metadata(TEXTLESS_KEY).as_deref() == Some("true")
            && message.text() == Some(Self::stand_in_text(&attachments).as_str());
        (attachments, textless)
    }

    /// The text ACS keeps for a message of files alone, as it needs some: their names.
    pub fn stand_in_text(attachments: &[Self]) -> String {
        let names: Vec<&str> = attachments.iter().map(|a| a.name.as_str()).collect();
        names.join(", ")
    }

    /// The attachments in a message's metadata value; a value we did not write reads as none.
    pub fn list_from_metadata(value: &str) -> Vec<Self> {
        serde_json::from_str(value).unwrap_or_default()
    }

    /// The metadata value for `attachments`.
    pub fn list_to_metadata(attachments: &[Self]) -> String {
        serde_json::to_string(attachments).unwrap_or_else(|_| "[]".into())
    }
}

/// A message with files as it is sent to ACS: its text (the files' names when it has none of
/// its own, as ACS needs some) and the metadata that lists them.
#[derive(Debug)]
pub struct Attached {
    pub content: MessageText,
    listed: Option<String>,
    textless: bool,
}

impl Attached {
    /// `text` with `attachments`; no text stands in their names. Without attachments, the text
    /// alone, with no metadata.
    pub fn new(text: Option<MessageText>, attachments: &[Attachment]) -> Result<Self, TextError> {
        let listed = (!attachments.is_empty()).then(|| Attachment::list_to_metadata(attachments));
        let (content, textless) = match text {
            Some(text) => (text, false),
            None => (
                MessageText::parse(&Attachment::stand_in_text(attachments))?,
                true,
            ),
        };
        Ok(Self {
            content,
            listed,
            textless,
        })
    }

    /// The metadata pairs to store with the message.
    pub fn metadata(&self) -> Vec<(&str, &str)> {
        let listed = self
            .listed
            .iter()
            .map(|listed| (METADATA_KEY, listed.as_str()));
        let textless = self.textless.then_some((TEXTLESS_KEY, "true"));
        listed.chain(textless).collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn files() -> Vec<Attachment> {
        ["a.png", "notes.pdf"]
            .into_iter()
            .enumerate()
            .map(|(n, name)| Attachment {
                id: AttachmentId::parse(&format!("{n:032x}")).unwrap(),
                name: name.into(),
                content_type: "image/png".into(),
                size: 3,
            })
            .collect()
    }

    /// The message ACS gives back for what was sent.
    fn as_sent(message: &Attached) -> ChatMessage {
        let metadata: serde_json::Map<String, serde_json::Value> = message
            .metadata()
            .into_iter()
            .map(|(key, value)| (key.to_owned(), json!(value)))
            .collect();
        serde_json::from_value(json!({
            "id": "1795600800000",
            "type": "text",
            "sequenceId": "3",
            "version": "1795600800000",
            "content": {"message": message.content.as_str()},
            "createdOn": "2026-11-25T22:00:00Z",
            "metadata": metadata,
        }))
        .unwrap()
    }

    #[test]
    fn metadata_we_did_not_write_reads_as_no_attachments() {
        let one = vec![Attachment {
            id: AttachmentId::random(),
            name: "a.png".into(),
            content_type: "image/png".into(),
            size: 3,
        }];
        assert_eq!(
            Attachment::list_from_metadata(&Attachment::list_to_metadata(&one)),
            one
        );
        for other in ["", "{}", "[1]", "nonsense"] {
            assert!(Attachment::list_from_metadata(other).is_empty());
        }
    }

    #[test]
    fn a_message_of_files_alone_reads_back_as_those_files_and_no_text() {
        let sent = Attached::new(None, &files()).unwrap();
        assert_eq!(sent.content.as_str(), "a.png, notes.pdf");
        assert_eq!(Attachment::of_message(&as_sent(&sent)), (files(), true));
    }

    #[test]
    fn a_message_with_text_and_files_reads_back_as_both() {
        let text = MessageText::parse("look").unwrap();
        let sent = Attached::new(Some(text), &files()).unwrap();
        assert_eq!(sent.content.as_str(), "look");
        assert_eq!(Attachment::of_message(&as_sent(&sent)), (files(), false));
    }

    #[test]
    fn a_message_without_files_carries_no_metadata_and_reads_as_none() {
        let sent = Attached::new(Some(MessageText::parse("hi").unwrap()), &[]).unwrap();
        assert!(sent.metadata().is_empty());
        assert_eq!(Attachment::of_message(&as_sent(&sent)), (Vec::new(), false));
    }

    #[test]
    fn a_message_of_files_edited_to_text_of_its_own_is_no_longer_textless() {
        let sent = Attached::new(None, &files()).unwrap();
        let mut edited = as_sent(&sent);
        edited.content = serde_json::from_value(json!({"message": "now with words"})).unwrap();
        assert_eq!(Attachment::of_message(&edited), (files(), false));
    }
}
