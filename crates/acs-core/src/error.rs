//! ACS failures, decoded once into a type that says whose fault they are.
//!
//! ACS answers errors in two shapes (`{"error":{"code","message"}}` from the spec, and
//! `{"CommunicationError":{"Code","Message"}}` from the real Chat service) and sometimes with an
//! empty body, so decisions are keyed on the status code and the body is only detail.

use std::time::Duration;

use serde::Deserialize;

/// The code and message ACS gave, for logs. Never shown to API callers as is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceError {
    /// HTTP status ACS answered with.
    pub status: u16,
    /// ACS's error code (`Denied`, `NotFound`, ...), empty when the body had none.
    pub code: String,
    /// ACS's message, empty when the body had none.
    pub message: String,
}

/// Every way an ACS call can fail.
#[derive(Debug, thiserror::Error)]
pub enum AcsError {
    /// 400 and the other 4xx not listed below: the request was wrong.
    #[error("ACS rejected the request ({}): {} {}", .0.status, .0.code, .0.message)]
    BadRequest(ServiceError),
    /// 401: the token or signature was refused.
    #[error("ACS refused the credentials: {} {}", .0.code, .0.message)]
    Unauthorized(ServiceError),
    /// 403: the identity may not do this (for example, it is not a participant).
    #[error("ACS forbade the call: {} {}", .0.code, .0.message)]
    Forbidden(ServiceError),
    /// 404: the thread, message or identity does not exist.
    #[error("ACS found no such resource: {} {}", .0.code, .0.message)]
    NotFound(ServiceError),
    /// 429 after the retries we allow ourselves.
    #[error("ACS throttled the call (retry after {retry_after:?})")]
    Throttled {
        error: ServiceError,
        retry_after: Option<Duration>,
    },
    /// 5xx after retries, or a status ACS should never send.
    #[error("ACS failed ({}): {} {}", .0.status, .0.code, .0.message)]
    Upstream(ServiceError),
    /// No answer within the per-request timeout.
    #[error("ACS did not answer in time")]
    Timeout,
    /// No connection was made: ACS certainly did not act.
    #[error("could not reach ACS: {0}")]
    Connection(String),
    /// The request may have reached ACS, but the connection ended before an answer: whether it
    /// acted is unknown.
    #[error("ACS did not answer: the connection ended first")]
    NoAnswer,
    /// A request that could not be put on the wire (a time the protocol cannot write).
    #[error("the request could not be written: {0}")]
    Unsendable(String),
    /// ACS answered success with a body we could not read.
    #[error("ACS sent an unreadable response: {0}")]
    InvalidResponse(String),
}

impl AcsError {
    /// True when ACS may have acted on the request even though it failed: a timeout, a
    /// connection lost after sending, or a server error.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Self::Timeout | Self::NoAnswer | Self::Upstream(_))
    }

    /// Builds the error for a non-success answer.
    pub fn from_response(status: u16, body: &[u8], retry_after: Option<Duration>) -> Self {
        let error = decode_body(status, body);
        match status {
            401 => Self::Unauthorized(error),
            403 => Self::Forbidden(error),
            404 => Self::NotFound(error),
            429 => Self::Throttled { error, retry_after },
            400..=499 => Self::BadRequest(error),
            _ => Self::Upstream(error),
        }
    }
}

#[derive(Deserialize)]
struct SpecShape {
    error: SpecError,
}

#[derive(Deserialize)]
struct SpecError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct PascalShape {
    #[serde(rename = "CommunicationError")]
    error: PascalError,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PascalError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// Reads either error shape; anything else (an empty or HTML body) leaves code and message empty.
pub fn decode_body(status: u16, body: &[u8]) -> ServiceError {
    let (code, message) = if let Ok(spec) = serde_json::from_slice::<SpecShape>(body) {
        (spec.error.code, spec.error.message)
    } else if let Ok(pascal) = serde_json::from_slice::<PascalShape>(body) {
        (pascal.error.code, pascal.error.message)
    } else {
        (String::new(), String::new())
    };
    ServiceError {
        status,
        code,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_spec_shape() {
        let body = br#"{"error":{"code":"Denied","message":"bad signature","target":"x"}}"#;
        let error = decode_body(401, body);
        assert_eq!(
            (error.code.as_str(), error.message.as_str()),
            ("Denied", "bad signature")
        );
    }

    #[test]
    fn decodes_the_pascal_case_shape_the_chat_service_sends() {
        let body = br#"{"CommunicationError":{"Code":"NotFound","Details":[]}}"#;
        let error = decode_body(404, body);
        assert_eq!(
            (error.code.as_str(), error.message.as_str()),
            ("NotFound", "")
        );
    }

    #[test]
    fn tolerates_an_empty_or_foreign_body() {
        for body in [&b""[..], b"<html>oops</html>", b"{}"] {
            let error = decode_body(401, body);
            assert_eq!(
                error,
                ServiceError {
                    status: 401,
                    ..Default::default()
                }
            );
        }
    }

    #[test]
    fn classifies_by_status_into_caller_and_upstream_faults() {
        let cases: [(u16, &str); 8] = [
            (400, "BadRequest"),
            (401, "Unauthorized"),
            (403, "Forbidden"),
            (404, "NotFound"),
            (409, "BadRequest"),
            (429, "Throttled"),
            (500, "Upstream"),
            (503, "Upstream"),
        ];
        for (status, variant) in cases {
            let error = AcsError::from_response(status, b"", None);
            assert!(
                format!("{error:?}").starts_with(variant),
                "{status}: {error:?}"
            );
        }
    }
}
