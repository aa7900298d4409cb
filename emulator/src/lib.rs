//! An in-memory stand-in for ACS Identity and Chat, faithful enough that the official Azure
//! SDKs and our core run against it. For tests and the local stack only.
//!
//! Layout:
//! - [`route`]: the one table of ACS routes ([`Route`]), and their names for faults and counts.
//! - [`store`]: identities, threads, messages, read receipts and system events, and ACS's
//!   rules for them; [`failure`]: why an operation fails.
//! - `wire`: the store's records in ACS's JSON shapes; `reply`: answers in ACS's shapes.
//! - [`tokens`]: JWT-shaped user tokens the SDKs can read.
//! - [`routes`]: request decoding, the identity and chat routes, and the `/_emulator` controls.
//! - [`faults`]: injected 429/5xx, latency and dropped connections (before or after the change
//!   is made); per-route request counts.
//! - [`limits`]: ACS's documented rate limits, switchable.
//! - [`eventgrid`]: Event Grid deliveries of every change to subscribed webhooks.
//! - [`push`]: a stand-in push service with the browser's side of its subscriptions;
//!   [`webpush`]: how it opens a push and checks its VAPID header, apart from the sender's code.
//! - [`server`]: the accept loop (HTTP or self-signed HTTPS) and the [`Emulator`] handle.

pub mod eventgrid;
pub mod failure;
pub mod faults;
pub mod limits;
mod lock;
pub mod push;
mod reply;
pub mod route;
pub mod routes;
pub mod server;
pub mod store;
pub mod tokens;
pub mod webpush;
mod wire;

pub use faults::{Fault, FaultKind, Faults};
pub use route::{ANY, Route, RouteName};
pub use server::{Config, Emulator};
