//! acs-chat-api: a two-way chat HTTP API on AWS Lambda, backed by Azure Communication Services.
//!
//! Layout:
//! - [`acs`]: the ACS core, the workspace crate `acs-core` (`crates/acs-core`): connection
//!   string, HMAC signing, token reading, the Identity and Chat clients, error decoding and
//!   retries. It speaks ACS REST with reqwest and rustls; as a crate of its own, it cannot see
//!   Lambda or the AWS SDKs.
//! - [`chat`]: the chat rules that need no HTTP: what people write, what a message looks like
//!   to callers, the history, "what is new for me", and sending exactly once.
//! - [`realtime`]: real time (each person's channel, never Web Push): Event Grid deliveries in, AppSync Events channels out, and
//!   who may subscribe.
//! - [`files`]: attachments in S3 beside ACS, signed for the page; the bytes never pass a
//!   function.
//! - [`push`]: Web Push to a person's closed pages: subscriptions, sealing (RFC 8291), VAPID
//!   (RFC 8292) and sending.
//! - [`people`]: the people table (DynamoDB): each person's one ACS identity and what ACS
//!   cannot hold for them (read marks, mutes, devices, quotas).
//! - [`jwt`]: tokens of an OpenID Connect issuer (the app's sign-in, Entra ID), checked.
//! - [`admin`]: ACS Identity with the admin key, fetched again once when ACS refuses it.
//! - [`secrets`]: secrets from AWS Secrets Manager, cached per container; [`aws`]: the AWS SDKs
//!   on our one HTTP client.
//! - [`settings`]: how a setting is read, below the features that own theirs; [`config`]: every
//!   setting, composed and read once at init; [`timestamp`]: how times are written;
//!   [`session`]: how long a chain of refreshed tokens may last; [`seal`]: sealed sessions,
//!   the token a client holds in place of its ACS token.
//! - [`api`]: the functions: one module per endpoint under [`api::endpoints`] and the one table
//!   of them, and what they share (`src/bin/<function>.rs` only call [`api::run`]).
pub mod admin;
pub mod api;
pub mod aws;
pub mod chat;
pub mod config;
pub mod files;
pub mod jwt;
pub mod people;
pub mod push;
pub mod realtime;
pub mod seal;
pub mod secrets;
pub mod session;
pub mod settings;
pub mod timestamp;

pub use acs::{AcsError, AcsHttp, ChatClient, ConnectionString, IdentityClient, RetryPolicy};
pub use acs_core as acs;
pub use api::{AppState, Endpoint, Function};
