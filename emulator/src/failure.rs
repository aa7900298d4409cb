//! Why an operation on the emulated resource failed; `reply` gives each its ACS status and
//! body. A leaf: the store fails with it, requests are refused with it, routes answer it.

/// Why a store operation failed; `routes` gives each its ACS status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 400 in the Chat service's PascalCase shape.
    BadRequest(String),
    /// 400 `ValidationError` in the spec shape, as Identity answers.
    Validation { message: String, target: String },
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 404 for a chat resource.
    NotFound,
    /// 404 for an identity.
    IdentityNotFound,
    /// 429 past one of ACS's rate limits; retry after this many seconds.
    Throttled(u64),
}
