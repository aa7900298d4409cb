//! Web Push to a person's closed pages: subscriptions checked and kept per person
//! ([`subscription`], in the people table), each new message pushed to the recipient's
//! devices from the per-user events, sealed for each subscription (RFC 8291, [`ece`]) and
//! signed by the deployment (RFC 8292, [`vapid`]), then sent ([`sender`]); [`notify`] is the
//! use case: a delivery's new messages to each recipient's devices. All of it with
//! `aws-lc-rs`, our one crypto library: the `web-push` and `ece` crates would bring OpenSSL, a
//! second stack.

pub mod ece;
pub mod notify;
pub mod sender;
pub mod settings;
pub mod subscription;
pub mod vapid;

pub use settings::PushSettings;
