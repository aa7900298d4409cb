//! acs-chat-api: a two-way chat HTTP API on AWS Lambda, backed by Azure Communication Services.
//!
//! Layout:
//! - [`acs`]: the ACS core: connection string, HMAC signing, token reading, the Identity and
//!   Chat clients, error decoding and retries. It speaks ACS REST with reqwest and rustls.
pub mod acs;

pub use acs::{AcsError, AcsHttp, ChatClient, ConnectionString, IdentityClient, RetryPolicy};
