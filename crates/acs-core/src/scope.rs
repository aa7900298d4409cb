//! What an ACS token may be used for: its scopes.

use serde::{Deserialize, Serialize};

/// Token scopes ACS knows, as tokens and requests write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "chat")]
    Chat,
    #[serde(rename = "voip")]
    Voip,
    #[serde(rename = "chat.join")]
    ChatJoin,
    #[serde(rename = "chat.join.limited")]
    ChatJoinLimited,
    #[serde(rename = "voip.join")]
    VoipJoin,
}

impl Scope {
    /// The scope `name` is, if ACS knows it.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "chat" => Self::Chat,
            "voip" => Self::Voip,
            "chat.join" => Self::ChatJoin,
            "chat.join.limited" => Self::ChatJoinLimited,
            "voip.join" => Self::VoipJoin,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scope_reads_as_it_is_written() {
        for scope in [
            Scope::Chat,
            Scope::Voip,
            Scope::ChatJoin,
            Scope::ChatJoinLimited,
            Scope::VoipJoin,
        ] {
            let written = serde_json::to_value(scope).unwrap();
            assert_eq!(Scope::parse(written.as_str().unwrap()), Some(scope));
        }
        assert_eq!(Scope::parse("admin"), None);
    }
}
