//! The ACS core's clients against the emulator, started in-process on a free port.

mod chat;
mod helpers;
mod identity;
mod retries;
