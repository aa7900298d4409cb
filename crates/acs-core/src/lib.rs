//! The ACS core: everything needed to speak ACS Identity and Chat REST, and nothing about
//! Lambda or AWS (a Cargo fact: this crate depends on neither).
//!
//! - [`connection_string`]: the endpoint and the access key; [`auth`]: HMAC-SHA256 request
//!   signing; [`token`]: reading a user token's claims ([`BearerToken`] formats as REDACTED);
//!   [`scope`]: what a token may do.
//! - [`ids`]: `UserId`, `ThreadId`, `MessageId`, made only by parsing; [`cursor`]: ACS's page
//!   cursors.
//! - [`identity`] and [`chat`]: the clients (`chat::wire`: the Chat API's JSON types).
//! - [`http`]: the one upstream client: deadlines, retries, bounded fan-out and round trips
//!   counted per request; [`error`]: both ACS error shapes, decoded.

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
