//! An in-memory stand-in for ACS Identity and Chat, faithful enough that the official Azure
//! SDKs and our core run against it. For tests and the local stack only.
//!
//! Layout:
//! - [`store`]: identities, threads, messages, read receipts, and ACS's rules for them.
//! - [`tokens`]: JWT-shaped user tokens the SDKs can read.
//! - `routes`: HTTP routing, HMAC and bearer checks, paging links, `/_emulator` controls.
//! - [`faults`]: injected 429/5xx, latency and dropped connections; per-route request counts.
//! - [`server`]: the accept loop (HTTP or self-signed HTTPS) and the [`Emulator`] handle.

pub mod faults;
mod reply;
mod routes;
pub mod server;
pub mod store;
pub mod tokens;

pub use faults::{Fault, FaultKind, Faults};
pub use server::{Config, Emulator};
