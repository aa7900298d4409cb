//! The one table of ACS routes the emulator serves, with the ids each path captured; a leaf,
//! so that faults, limits and the routes themselves all name routes the same way.

use hyper::Method;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Stands for any id in a [`Route`] built to name a route for counts and faults, which are kept
/// per route, not per id.
pub const ANY: &str = "*";

/// Every ACS route the emulator serves, with the ids the path captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    CreateIdentity,
    DeleteIdentity {
        user_id: &'a str,
    },
    IssueToken {
        user_id: &'a str,
    },
    RevokeTokens {
        user_id: &'a str,
    },
    CreateThread,
    ListThreads,
    GetThread {
        thread_id: &'a str,
    },
    UpdateThread {
        thread_id: &'a str,
    },
    DeleteThread {
        thread_id: &'a str,
    },
    ListParticipants {
        thread_id: &'a str,
    },
    AddParticipants {
        thread_id: &'a str,
    },
    ListMessages {
        thread_id: &'a str,
    },
    SendMessage {
        thread_id: &'a str,
    },
    GetMessage {
        thread_id: &'a str,
        message_id: &'a str,
    },
    UpdateMessage {
        thread_id: &'a str,
        message_id: &'a str,
    },
    DeleteMessage {
        thread_id: &'a str,
        message_id: &'a str,
    },
    RemoveParticipant {
        thread_id: &'a str,
    },
    SendTyping {
        thread_id: &'a str,
    },
    ListReadReceipts {
        thread_id: &'a str,
    },
    SendReadReceipt {
        thread_id: &'a str,
    },
}

impl Route<'static> {
    /// Every route, each with [`ANY`] for its ids.
    pub const ALL: [Route<'static>; 20] = [
        Self::CreateIdentity,
        Self::DeleteIdentity { user_id: ANY },
        Self::IssueToken { user_id: ANY },
        Self::RevokeTokens { user_id: ANY },
        Self::CreateThread,
        Self::ListThreads,
        Self::GetThread { thread_id: ANY },
        Self::UpdateThread { thread_id: ANY },
        Self::DeleteThread { thread_id: ANY },
        Self::ListParticipants { thread_id: ANY },
        Self::AddParticipants { thread_id: ANY },
        Self::ListMessages { thread_id: ANY },
        Self::SendMessage { thread_id: ANY },
        Self::GetMessage {
            thread_id: ANY,
            message_id: ANY,
        },
        Self::UpdateMessage {
            thread_id: ANY,
            message_id: ANY,
        },
        Self::DeleteMessage {
            thread_id: ANY,
            message_id: ANY,
        },
        Self::RemoveParticipant { thread_id: ANY },
        Self::SendTyping { thread_id: ANY },
        Self::ListReadReceipts { thread_id: ANY },
        Self::SendReadReceipt { thread_id: ANY },
    ];
}

impl<'a> Route<'a> {
    /// The route a method and decoded path segments name, if any.
    pub fn parse(method: &Method, segments: &'a [String]) -> Option<Self> {
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        let route = match (method, s.as_slice()) {
            (&Method::POST, &["identities"]) => Self::CreateIdentity,
            (&Method::DELETE, &["identities", user_id]) => Self::DeleteIdentity { user_id },
            (&Method::POST, &["identities", user_id, ":issueAccessToken"]) => {
                Self::IssueToken { user_id }
            }
            (&Method::POST, &["identities", user_id, ":revokeAccessTokens"]) => {
                Self::RevokeTokens { user_id }
            }
            (&Method::POST, &["chat", "threads"]) => Self::CreateThread,
            (&Method::GET, &["chat", "threads"]) => Self::ListThreads,
            (&Method::PATCH, &["chat", "threads", thread_id]) => Self::UpdateThread { thread_id },
            (&Method::DELETE, &["chat", "threads", thread_id]) => Self::DeleteThread { thread_id },
            (&Method::POST, &["chat", "threads", thread_id, "participants", ":remove"]) => {
                Self::RemoveParticipant { thread_id }
            }
            (&Method::PATCH, &["chat", "threads", thread_id, "messages", message_id]) => {
                Self::UpdateMessage {
                    thread_id,
                    message_id,
                }
            }
            (&Method::POST, &["chat", "threads", thread_id, "typing"]) => {
                Self::SendTyping { thread_id }
            }
            (&Method::GET, &["chat", "threads", thread_id]) => Self::GetThread { thread_id },
            (&Method::GET, &["chat", "threads", thread_id, "participants"]) => {
                Self::ListParticipants { thread_id }
            }
            (&Method::POST, &["chat", "threads", thread_id, "participants", ":add"]) => {
                Self::AddParticipants { thread_id }
            }
            (&Method::GET, &["chat", "threads", thread_id, "messages"]) => {
                Self::ListMessages { thread_id }
            }
            (&Method::POST, &["chat", "threads", thread_id, "messages"]) => {
                Self::SendMessage { thread_id }
            }
            (&Method::GET, &["chat", "threads", thread_id, "messages", message_id]) => {
                Self::GetMessage {
                    thread_id,
                    message_id,
                }
            }
            (&Method::DELETE, &["chat", "threads", thread_id, "messages", message_id]) => {
                Self::DeleteMessage {
                    thread_id,
                    message_id,
                }
            }
            (&Method::GET, &["chat", "threads", thread_id, "readReceipts"]) => {
                Self::ListReadReceipts { thread_id }
            }
            (&Method::POST, &["chat", "threads", thread_id, "readReceipts"]) => {
                Self::SendReadReceipt { thread_id }
            }
            _ => return None,
        };
        Some(route)
    }

    /// The label counts and faults are kept under, the same for every id, e.g.
    /// `GET /chat/threads/{threadId}/messages`.
    pub const fn label(&self) -> &'static str {
        match self {
            Self::CreateIdentity => "POST /identities",
            Self::DeleteIdentity { .. } => "DELETE /identities/{id}",
            Self::IssueToken { .. } => "POST /identities/{id}/:issueAccessToken",
            Self::RevokeTokens { .. } => "POST /identities/{id}/:revokeAccessTokens",
            Self::CreateThread => "POST /chat/threads",
            Self::ListThreads => "GET /chat/threads",
            Self::UpdateThread { .. } => "PATCH /chat/threads/{threadId}",
            Self::DeleteThread { .. } => "DELETE /chat/threads/{threadId}",
            Self::RemoveParticipant { .. } => "POST /chat/threads/{threadId}/participants/:remove",
            Self::UpdateMessage { .. } => "PATCH /chat/threads/{threadId}/messages/{messageId}",
            Self::SendTyping { .. } => "POST /chat/threads/{threadId}/typing",
            Self::GetThread { .. } => "GET /chat/threads/{threadId}",
            Self::ListParticipants { .. } => "GET /chat/threads/{threadId}/participants",
            Self::AddParticipants { .. } => "POST /chat/threads/{threadId}/participants/:add",
            Self::ListMessages { .. } => "GET /chat/threads/{threadId}/messages",
            Self::SendMessage { .. } => "POST /chat/threads/{threadId}/messages",
            Self::GetMessage { .. } => "GET /chat/threads/{threadId}/messages/{messageId}",
            Self::DeleteMessage { .. } => "DELETE /chat/threads/{threadId}/messages/{messageId}",
            Self::ListReadReceipts { .. } => "GET /chat/threads/{threadId}/readReceipts",
            Self::SendReadReceipt { .. } => "POST /chat/threads/{threadId}/readReceipts",
        }
    }

    /// Identity routes are signed with the access key; chat routes carry a user token.
    pub fn is_identity(&self) -> bool {
        matches!(
            self,
            Self::CreateIdentity
                | Self::DeleteIdentity { .. }
                | Self::IssueToken { .. }
                | Self::RevokeTokens { .. }
        )
    }
}

/// A route's label as tests name it in a fault (`"POST /chat/threads"`): only a label of a
/// route the emulator serves reads as one, so a misspelt fault is refused instead of never
/// hitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteName(&'static str);

impl RouteName {
    pub const fn of(route: &Route<'_>) -> Self {
        Self(route.label())
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The name `label` is, if a route has it.
    pub fn parse(label: &str) -> Option<Self> {
        Route::ALL
            .iter()
            .map(Route::label)
            .find(|known| *known == label)
            .map(Self)
    }
}

impl Serialize for RouteName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for RouteName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let label = String::deserialize(deserializer)?;
        Self::parse(&label)
            .ok_or_else(|| serde::de::Error::custom(format!("{label:?} is no route of ACS's")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_s_label_is_a_route_name_and_nothing_else_is() {
        for route in Route::ALL {
            let label = route.label();
            assert_eq!(RouteName::parse(label).map(RouteName::as_str), Some(label));
        }
        assert_eq!(RouteName::parse("POST /chat/thread"), None);
        let parsed: Result<RouteName, _> = serde_json::from_str(r#""GET /chat/threads""#);
        assert_eq!(parsed.unwrap(), RouteName::of(&Route::ListThreads));
    }

    #[test]
    fn a_path_names_its_route_with_the_ids_it_captured() {
        let segments: Vec<String> = ["chat", "threads", "19:a@thread.v2", "messages", "17"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            Route::parse(&Method::PATCH, &segments),
            Some(Route::UpdateMessage {
                thread_id: "19:a@thread.v2",
                message_id: "17"
            })
        );
        assert_eq!(Route::parse(&Method::PUT, &segments), None);
    }
}
