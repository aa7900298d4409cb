//! The ACS core's clients against the emulator, started in-process on a free port.
// Helpers outside #[test] functions panic on purpose: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chat;
mod helpers;
mod identity;
mod retries;
