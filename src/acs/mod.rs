//! The ACS core: everything needed to speak ACS Identity and Chat REST, and nothing about Lambda.

pub mod auth;
pub mod chat;
pub mod connection_string;
pub mod cursor;
pub mod error;
pub mod http;
pub mod identity;
pub mod ids;
pub mod scope;
pub mod token;

pub use chat::ChatClient;
pub use connection_string::{AccessKey, ConnectionString, ConnectionStringError};
pub use cursor::PageCursor;
pub use error::{AcsError, ServiceError};
pub use http::{AcsHttp, Idempotency, RetryPolicy};
pub use identity::IdentityClient;
pub use ids::{IdError, MessageId, ThreadId, UserId};
/// The URL type of every endpoint and link, re-exported so that users need not name reqwest.
pub use reqwest::Url;
pub use scope::Scope;
pub use token::BearerToken;
