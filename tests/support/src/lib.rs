//! What the test suites (`tests/api`, `tests/load`, `tests/acs`, `tests/live`) and the
//! benchmark share, written once:
//!
//! - [`app`]: the functions' state against an in-process emulator and moto's Secrets Manager,
//!   the scene most tests start from, and calls to any function as API Gateway makes them;
//! - [`requests`]: requests and assertions on answers;
//! - [`moto`]: Secrets Manager as moto serves it;
//! - [`stub`]: a loopback HTTP server on hyper that answers with a function of ours, for
//!   stand-ins and for putting a handler where the emulator's deliveries can reach it;
//! - [`channels`]: the stand-in for AppSync Events' publish endpoint;
//! - [`idp`]: a stand-in OpenID Connect issuer, its keys, tokens and JWKS document;
//! - [`push`]: a stand-in Web Push service that opens what it is sent;
//! - [`webhook`]: `acs_events` served over HTTP and subscribed to the emulator's deliveries;
//! - [`outage`]: a TCP forwarder that can be switched off;
//! - [`record`]: the suites' traffic kept for the contract check and the secret scan.
// Helpers panic on purpose: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod app;
pub mod channels;
pub mod idp;
pub mod moto;
pub mod outage;
pub mod push;
pub mod record;
pub mod requests;
pub mod stub;
pub mod webhook;

pub use app::{
    DAILY_UPLOAD_BYTES, DAILY_UPLOADS, RealtimeKeys, TestApp, User, spawn_app, spawn_app_with,
    spawn_conversation,
};
pub use requests::{Answered, assert_error, fast_retry, get, post, request, send_request, texts};
