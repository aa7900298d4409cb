//! An in-memory stand-in for ACS Identity and Chat, faithful enough that the official Azure
//! SDKs and our core run against it. For tests and the local stack only.
//!
//! Layout:
//! - [`store`]: identities, threads, messages, read receipts, and ACS's rules for them.
//! - `wire`: the store's records in ACS's JSON shapes.
//! - [`tokens`]: JWT-shaped user tokens the SDKs can read.
//! - [`routes`]: the one route table ([`Route`]), request decoding, the identity and chat
//!   routes, and the `/_emulator` controls.
//! - [`faults`]: injected 429/5xx, latency and dropped connections (before or after the change
//!   is made); per-route request counts.
//! - [`limits`]: ACS's documented rate limits, switchable.
//! - [`eventgrid`]: Event Grid deliveries of every change to subscribed webhooks.
//! - [`server`]: the accept loop (HTTP or self-signed HTTPS) and the [`Emulator`] handle.

use std::sync::{Mutex, MutexGuard};

pub mod eventgrid;
pub mod faults;
pub mod limits;
mod reply;
pub mod routes;
pub mod server;
pub mod store;
pub mod tokens;
mod wire;

pub use faults::{Fault, FaultKind, Faults};
pub use routes::{ANY, Route};
pub use server::{Config, Emulator};

/// Locks `mutex`, the one poisoned-lock policy of the emulator: no code panics while holding a
/// lock mid-update, so the data behind a poisoned one is still consistent and is used as is.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
