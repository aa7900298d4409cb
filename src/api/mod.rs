//! The HTTP edge: one module per function under [`endpoints`] (and the one table of them), and
//! the machinery they share: the [`Endpoint`] shape and the path that serves it
//! ([`endpoint`]), what each function is and needs ([`spec`]), who is calling ([`caller`]),
//! reading requests ([`input`]), the state built once per container ([`state`]) and the parts
//! of it each endpoint names ([`parts`]), the one place errors become responses ([`errors`]),
//! and what each request leaves behind ([`telemetry`]).
//!
//! Each endpoint parses its request into a typed value (pure, unit-tested without ACS), checks
//! that its credentials are those of whom that value names, then acts with that caller.

pub mod caller;
pub mod endpoint;
pub mod endpoints;
pub mod errors;
pub mod input;
pub mod parts;
pub mod spec;
pub mod state;
pub mod telemetry;

pub use caller::{Auth, Caller, Who};
pub use endpoint::{Answer, Endpoint, handle, run};
pub use endpoints::{Function, specs};
pub use errors::ApiError;
pub use spec::{AdminKey, Method, Needs, Spec};
pub use state::{AppState, InitError};
