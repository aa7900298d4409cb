//! The functions' handlers, called directly (no Lambda), against the emulator and a Secrets
//! Manager served by moto (`scripts/test` starts it and sets `AWS_ENDPOINT_URL_SECRETS_MANAGER`).
// Helpers outside #[test] functions panic on purpose: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chat_life;
mod conversation;
mod errors;
mod events;
mod exactly_once;
mod faults;
mod files;
mod hostile;
mod observability;
mod push;
mod realtime;
mod seals;
mod secrets;
mod sessions;
mod sign_in;
mod table;
mod trusted;
mod unread;
