//! The chat rules that need no HTTP: what people write ([`text`]), what a message looks like to
//! callers ([`view`]), the whole history ([`history`]), a person's inbox ([`inbox`]), "what is new for me" with either cursor
//! ([`sync`]), sending exactly once ([`send`]), and a thread's metadata and retention
//! ([`thread`]), typing notices ([`typing`]). The endpoints read requests into these types and answer with what these
//! functions return.

pub mod history;
pub mod inbox;
pub mod send;
pub mod sync;
pub mod text;
pub mod thread;
pub mod typing;
pub mod view;
