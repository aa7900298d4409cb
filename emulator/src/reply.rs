//! Responses in ACS's shapes: the spec's `{"error":{...}}` and the Chat service's PascalCase one.

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use hyper::StatusCode;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};

use crate::failure::Failure;

/// The body type every emulator response uses.
pub type Reply = Response<Full<Bytes>>;

/// A JSON answer.
pub fn json(status: StatusCode, value: &Value) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// An answer with no body (204, or 200 for read receipts).
pub fn empty(status: StatusCode) -> Reply {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// The spec's error shape, used by Identity and for Chat's 401/403/429/5xx.
pub fn spec_error(status: StatusCode, code: &str, message: &str) -> Reply {
    json(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
}

/// The PascalCase shape the real Chat service sends for 400 and 404.
pub fn pascal_error(status: StatusCode, code: &str, message: &str) -> Reply {
    let mut body = json!({"CommunicationError": {"Code": code, "Details": []}});
    if !message.is_empty() {
        body["CommunicationError"]["Message"] = json!(message);
    }
    json(status, &body)
}

/// A status a test injected, in ACS's error shape, with `Retry-After` if it asked for one.
pub fn injected(status: u16, retry_after: Option<u64>) -> Reply {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let code = if status == StatusCode::TOO_MANY_REQUESTS {
        "TooManyRequests"
    } else {
        "ServiceUnavailable"
    };
    let mut response = spec_error(status, code, "Fault injected by the emulator.");
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(seconds));
    }
    response
}

/// The answer ACS gives for each store failure.
pub fn failure(failure: &Failure) -> Reply {
    match failure {
        Failure::BadRequest(message) => {
            pascal_error(StatusCode::BAD_REQUEST, "BadRequest", message)
        }
        Failure::Validation { message, target } => json(
            StatusCode::BAD_REQUEST,
            &json!({"error": {"code": "ValidationError", "message": message, "target": target}}),
        ),
        Failure::Unauthorized => spec_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Request is not authorized.",
        ),
        Failure::Forbidden => spec_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "User is not allowed to perform specified action.",
        ),
        Failure::NotFound => pascal_error(StatusCode::NOT_FOUND, "NotFound", ""),
        Failure::IdentityNotFound => spec_error(
            StatusCode::NOT_FOUND,
            "IdentityNotFound",
            "The identity does not exist.",
        ),
        Failure::Throttled(seconds) => {
            let mut response = spec_error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Rate limit exceeded.",
            );
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(*seconds));
            response
        }
    }
}
