//! acs-chat-api: a two-way chat HTTP API on AWS Lambda, backed by Azure Communication Services.
//!
//! Layout:
//! - [`acs`]: the ACS core: connection string, HMAC signing, token reading, the Identity and
//!   Chat clients, error decoding and retries. It speaks ACS REST with reqwest and rustls.
//! - [`secrets`]: the connection string from AWS Secrets Manager, cached per container.
//! - [`config`]: settings from the environment, read once at init.
//! - [`api`]: the six endpoints as plain async handlers, their errors, and the Lambda wiring
//!   (`src/bin/<function>.rs` only call [`api::run`]).
pub mod acs;
pub mod api;
pub mod config;
pub mod realtime;
pub mod secrets;

pub use acs::{AcsError, AcsHttp, ChatClient, ConnectionString, IdentityClient, RetryPolicy};
pub use api::{AppState, Function};
