//! What people write, as types: a [`MessageText`], a [`Topic`] and a [`DisplayName`] are made
//! only by parsing, like the ids, so a handler can never pass on text nobody checked.
//!
//! Names and topics are shown as who said what and what a thread is called, so they may hold
//! no control, bidirectional or invisible format characters: with a right-to-left override,
//! `Bob\u{202e}ecilA` shows as "BobAlice" reversed into "Alice". Message text is kept exactly
//! as written (it is shown as text, and people write in every script), within ACS's 28 KB.

use std::fmt;

use serde::Serialize;

/// ACS's limit on a message's content, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 28 * 1024;
/// Longest thread topic accepted, in characters.
pub const MAX_TOPIC_CHARS: usize = 256;
/// Longest display name accepted, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 256;

/// Why a piece of text was refused; each says what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be empty or only white space")]
    Blank,
    #[error("must be 1 to {0} characters")]
    TooLong(usize),
    #[error("is larger than {0} bytes")]
    TooLarge(usize),
    #[error("must not hold control, bidirectional or invisible formatting characters")]
    Hidden,
}

/// Characters that change how the text around them is shown, or are not shown at all: C0 and
/// C1 controls, the bidirectional embeddings, overrides, isolates and marks, zero-width
/// characters and other format characters (Unicode's `Cf` that people can type into a name).
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00ad}'                  // soft hyphen
            | '\u{061c}'                // Arabic letter mark
            | '\u{180e}'                // Mongolian vowel separator
            | '\u{200b}'..='\u{200f}'   // zero-width space, joiners, LRM, RLM
            | '\u{202a}'..='\u{202e}'   // embeddings and overrides
            | '\u{2060}'..='\u{2064}'   // word joiner, invisible operators
            | '\u{2066}'..='\u{206f}'   // isolates and deprecated format characters
            | '\u{feff}'                // zero-width no-break space
            | '\u{fff9}'..='\u{fffb}'   // interlinear annotation
            | '\u{e0000}'..='\u{e007f}' // tags
        )
}

/// A line of text shown as a label: trimmed, 1 to `max` characters, nothing hidden.
fn label(raw: &str, max: usize) -> Result<String, TextError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(TextError::Blank);
    }
    if text.chars().count() > max {
        return Err(TextError::TooLong(max));
    }
    if text.chars().any(is_hidden) {
        return Err(TextError::Hidden);
    }
    Ok(text.to_owned())
}

/// A name or topic as the API shows it, from wherever it came (ACS takes any text straight
/// from a client): by the same rule as one it takes, with what hides or reorders text left
/// out instead of refused, trimmed, and cut at `max` characters. `None` when nothing is left.
pub fn shown_label(raw: &str, max: usize) -> Option<String> {
    let kept: String = raw.chars().filter(|c| !is_hidden(*c)).collect();
    let shown: String = kept.trim().chars().take(max).collect();
    let shown = shown.trim_end();
    (!shown.is_empty()).then(|| shown.to_owned())
}

/// A display name as shown: see [`shown_label`].
pub fn shown_name(raw: &str) -> Option<String> {
    shown_label(raw, MAX_DISPLAY_NAME_CHARS)
}

/// A topic as shown (empty when nothing of it is left): see [`shown_label`].
pub fn shown_topic(raw: &str) -> String {
    shown_label(raw, MAX_TOPIC_CHARS).unwrap_or_default()
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

text_type!(
    /// A message's text: not only white space, at most 28 KB, otherwise as written.
    MessageText
);

impl MessageText {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        if raw.trim().is_empty() {
            return Err(TextError::Blank);
        }
        if raw.len() > MAX_MESSAGE_BYTES {
            return Err(TextError::TooLarge(MAX_MESSAGE_BYTES));
        }
        Ok(Self(raw.to_owned()))
    }
}

text_type!(
    /// A thread's topic: trimmed, 1 to 256 characters, nothing hidden.
    Topic
);

impl Topic {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        label(raw, MAX_TOPIC_CHARS).map(Self)
    }
}

text_type!(
    /// A person's name as others see it: trimmed, 1 to 256 characters, nothing hidden.
    DisplayName
);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        label(raw, MAX_DISPLAY_NAME_CHARS).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_kept_as_written_up_to_28_kb() {
        for text in [
            " hi ",
            "héllo 👋 עברית\u{200b}",
            &"x".repeat(MAX_MESSAGE_BYTES),
        ] {
            assert_eq!(MessageText::parse(text).unwrap().as_str(), text);
        }
        assert_eq!(MessageText::parse(" \n"), Err(TextError::Blank));
        let too_large = "é".repeat(MAX_MESSAGE_BYTES / 2 + 1);
        assert_eq!(
            MessageText::parse(&too_large),
            Err(TextError::TooLarge(MAX_MESSAGE_BYTES))
        );
    }

    #[test]
    fn names_and_topics_are_trimmed_and_bounded_in_characters() {
        assert_eq!(DisplayName::parse("  Zoë ").unwrap().as_str(), "Zoë");
        assert_eq!(Topic::parse("  Lunch ").unwrap().as_str(), "Lunch");
        assert!(
            Topic::parse(&"ü".repeat(256)).is_ok(),
            "256 characters, 512 bytes"
        );
        assert_eq!(Topic::parse(&"t".repeat(257)), Err(TextError::TooLong(256)));
        assert_eq!(DisplayName::parse(" "), Err(TextError::Blank));
        assert!(
            DisplayName::parse("محمد").is_ok(),
            "right-to-left scripts are fine"
        );
        assert!(DisplayName::parse("李小龍 🐉").is_ok());
    }

    #[test]
    fn names_and_topics_from_elsewhere_are_shown_without_what_hides_or_reorders_text() {
        assert_eq!(shown_name("Bob\u{202e}ecilA").as_deref(), Some("BobecilA"));
        assert_eq!(
            shown_name(" Al\u{200b}ice\u{2066} ").as_deref(),
            Some("Alice")
        );
        assert_eq!(shown_name("\u{200b}\u{202e} "), None);
        assert_eq!(shown_name(&"n".repeat(300)).unwrap().chars().count(), 256);
        assert_eq!(shown_topic("Lunch\u{0007}"), "Lunch");
        assert_eq!(shown_topic("\u{feff}"), "");
        for clean in ["Alice", "Zoë", "محمد", "李雷"] {
            assert_eq!(shown_name(clean).as_deref(), Some(clean));
            assert_eq!(DisplayName::parse(clean).unwrap().as_str(), clean);
        }
    }

    #[test]
    fn names_and_topics_refuse_characters_that_hide_or_reorder_text() {
        for spoof in [
            "Bob\u{202e}ecilA",
            "Al\u{200b}ice",
            "\u{2067}Alice\u{2069}",
            "Alice\u{200f}",
            "Ali\u{00ad}ce",
            "tab\tname",
            "nul\u{0}",
            "bell\u{7}",
            "c1\u{85}x",
            "tag\u{e0041}",
            "\u{feff}Alice",
        ] {
            assert_eq!(
                DisplayName::parse(spoof),
                Err(TextError::Hidden),
                "{spoof:?}"
            );
            assert_eq!(Topic::parse(spoof), Err(TextError::Hidden), "{spoof:?}");
        }
    }
}
