//! API errors, and the one function that turns each into a status and a JSON body.
//!
//! Bodies are `{"error":{"code","message"}}`. 4xx messages tell the caller what to fix; 5xx
//! messages say little, and the log line says all, once. Nothing here ever holds a token or the
//! connection string.

use std::time::Duration;

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde_json::json;

use crate::acs::AcsError;
use crate::admin::AdminError;
use crate::chat::text::TextError;
use crate::files::FileError;
use crate::files::s3::S3Error;
use crate::jwt::JwtError;
use crate::people::PeopleError;
use crate::people::sign_in::SignInError;
use crate::push::notify::NotifyError;
use crate::push::sender::PushError;
use crate::push::subscription::SubscriptionError;
use crate::realtime::eventgrid::DeliveryError;
use crate::realtime::publish::PublishError;
use crate::realtime::relay::ResolveError;
use crate::seal::{OpenError, SealError};
use crate::secrets::SecretError;
use crate::session::SessionError;

/// Everything an endpoint can answer other than success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("request body is not a JSON object with each key once")]
    InvalidJson,
    #[error("{0} is required")]
    MissingField(&'static str),
    #[error("{field} {reason}")]
    InvalidField {
        field: &'static str,
        reason: &'static str,
    },
    /// An id of the wrong form; `form` names the right one.
    #[error("{field} is not {form}")]
    InvalidId {
        field: &'static str,
        form: &'static str,
    },
    /// Text a person wrote (a message, a topic, a name) that cannot be taken as it is.
    #[error("{field} {error}")]
    InvalidText {
        field: &'static str,
        error: TextError,
    },
    #[error("unknown query parameter {0:?}")]
    UnknownQueryParameter(String),
    #[error("{what} is larger than {limit} bytes")]
    TooLarge { what: &'static str, limit: usize },
    #[error(
        "the whole history is larger than one answer can hold (6 MB); ask for it in pages with \
         page_size, then page"
    )]
    HistoryTooLarge,
    #[error("method not allowed; use {allow}")]
    MethodNotAllowed { allow: &'static str },
    #[error("Authorization: Bearer <ACS user token> is required")]
    MissingToken,
    #[error("the bearer token is not a readable ACS user token")]
    InvalidToken,
    #[error("the bearer token has expired")]
    TokenExpired,
    #[error("the bearer token belongs to another user than {0}")]
    TokenUserMismatch(&'static str),
    /// A seal refused: not one of ours, altered, of a key we do not hold, for another
    /// deployment, or its token expired.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// A session refused: not ours, another user's, or ended.
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("{0} is not a known ACS identity")]
    UserNotFound(&'static str),
    #[error("trusted mode needs user1_id in the body, or a serviceUserId in the secret")]
    ActingUserRequired,
    /// An ACS call made with the caller's token: its 4xx are the caller's.
    #[error(transparent)]
    Acs(#[from] AcsError),
    /// An ACS call made with our admin key: a 401 or 403 there is our fault, not the caller's.
    #[error("admin call failed: {0}")]
    AdminAcs(AcsError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// An answer that could not be written as JSON: a bug of ours, never the caller's.
    #[error("the answer could not be written: {0}")]
    Unserialisable(String),
    /// The deployment lacks a setting this request needs.
    #[error("misconfigured: {0}")]
    Misconfigured(#[from] crate::config::ConfigError),
    /// An Event Grid delivery without the webhook's secret.
    #[error("the webhook secret (the code query parameter) is missing or wrong")]
    WebhookUnauthorized,
    /// An Event Grid delivery we cannot read; Event Grid does not retry a 400.
    #[error(transparent)]
    BadDelivery(#[from] DeliveryError),
    /// The real-time channel refused or missed a publish; Event Grid retries a 503.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// A delivery's Entra ID token refused, or the tenant's keys unreadable.
    #[error(transparent)]
    Entra(JwtError),
    /// The identity provider's token refused, or its keys unreadable.
    #[error("the identity provider's token was refused: {0}")]
    Identity(JwtError),
    /// The people table could not be read or written.
    #[error(transparent)]
    People(#[from] PeopleError),
    /// Issuing without signing in is not for this caller, or not for anyone.
    #[error("{0}")]
    IssuerClosed(&'static str),
    /// A file refused, or the bucket failing.
    #[error(transparent)]
    Files(#[from] FileError),
    /// The person has signed a day's worth of uploads.
    #[error(
        "this person has signed a day's worth of uploads (files or bytes); more tomorrow (UTC)"
    )]
    UploadQuota { until_tomorrow: Duration },
    /// A push subscription refused.
    #[error("subscription: {0}")]
    Subscription(#[from] SubscriptionError),
    /// Pushes cannot be signed: the VAPID key unreadable or not the page's.
    #[error(transparent)]
    Push(#[from] PushError),
}

impl From<AdminError> for ApiError {
    fn from(error: AdminError) -> Self {
        match error {
            AdminError::Secret(error) => error.into(),
            AdminError::Acs(error) => Self::AdminAcs(error),
            AdminError::Session(error) => error.into(),
        }
    }
}

impl From<OpenError> for ApiError {
    fn from(error: OpenError) -> Self {
        match error {
            OpenError::Refused(error) => error.into(),
            OpenError::Keys(error) => error.into(),
        }
    }
}

impl From<ResolveError> for ApiError {
    fn from(error: ResolveError) -> Self {
        match error {
            ResolveError::Admin(error) => error.into(),
            ResolveError::Read(error) => Self::Acs(error),
        }
    }
}

impl From<SignInError> for ApiError {
    fn from(error: SignInError) -> Self {
        match error {
            SignInError::People(error) => error.into(),
            SignInError::Admin(error) => error.into(),
        }
    }
}

impl From<NotifyError> for ApiError {
    fn from(error: NotifyError) -> Self {
        match error {
            NotifyError::People(error) => error.into(),
            NotifyError::Push(error) => error.into(),
        }
    }
}

struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<Duration>,
}

impl ApiError {
    fn refusal(&self) -> Refusal {
        use StatusCode as S;
        // The caller's own mistakes: our message says exactly what to fix.
        let explained = |status, code| Refusal {
            status,
            code,
            message: self.to_string(),
            retry_after: None,
        };
        // Everything else: a fixed message, so nothing from ACS or our internals leaks out.
        let summarised = |status, code, message: &str| Refusal {
            status,
            code,
            message: message.to_owned(),
            retry_after: None,
        };
        match self {
            Self::InvalidJson => explained(S::BAD_REQUEST, "invalid_json"),
            Self::MissingField(_) => explained(S::BAD_REQUEST, "missing_field"),
            Self::InvalidField { .. } | Self::InvalidId { .. } => {
                explained(S::BAD_REQUEST, "invalid_field")
            }
            Self::InvalidText {
                error: TextError::TooLarge(_),
                ..
            } => explained(S::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::InvalidText { .. } => explained(S::BAD_REQUEST, "invalid_field"),
            Self::UnknownQueryParameter(_) => explained(S::BAD_REQUEST, "unknown_query_parameter"),
            Self::TooLarge { .. } => explained(S::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::HistoryTooLarge => explained(S::PAYLOAD_TOO_LARGE, "history_too_large"),
            Self::MethodNotAllowed { .. } => explained(S::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::MissingToken => explained(S::UNAUTHORIZED, "missing_token"),
            Self::InvalidToken => explained(S::UNAUTHORIZED, "invalid_token"),
            Self::TokenExpired => explained(S::UNAUTHORIZED, "token_expired"),
            Self::TokenUserMismatch(_) => explained(S::FORBIDDEN, "token_user_mismatch"),
            Self::UserNotFound(_) => explained(S::NOT_FOUND, "user_not_found"),
            Self::Seal(SealError::Malformed) => Refusal {
                message: "the bearer token is not a token this service issued: use the token \
                          sign_in, create_users or refresh_token answered"
                    .into(),
                ..explained(S::UNAUTHORIZED, "invalid_token")
            },
            Self::Seal(SealError::Tampered) => Refusal {
                message: "the token was altered or cut short: use it as it was handed out".into(),
                ..explained(S::UNAUTHORIZED, "invalid_token")
            },
            Self::Seal(SealError::UnknownKey) => explained(S::UNAUTHORIZED, "seal_key_unknown"),
            Self::Seal(SealError::OtherAudience) => {
                explained(S::UNAUTHORIZED, "seal_wrong_audience")
            }
            Self::Seal(SealError::Expired) => explained(S::UNAUTHORIZED, "token_expired"),
            Self::Session(SessionError::Ended) => explained(S::UNAUTHORIZED, "session_ended"),
            Self::Session(_) => explained(S::UNAUTHORIZED, "invalid_session"),
            Self::ActingUserRequired => explained(S::BAD_REQUEST, "acting_user_required"),
            Self::Acs(AcsError::BadRequest(_)) | Self::AdminAcs(AcsError::BadRequest(_)) => {
                summarised(
                    S::BAD_REQUEST,
                    "rejected_by_acs",
                    "ACS rejected the request",
                )
            }
            Self::Acs(AcsError::Unauthorized(_)) => summarised(
                S::UNAUTHORIZED,
                "invalid_token",
                "ACS refused the token: expired, revoked or for another resource",
            ),
            Self::Acs(AcsError::Forbidden(_)) => summarised(
                S::FORBIDDEN,
                "forbidden",
                "the caller is not a participant of this thread or may not do this",
            ),
            Self::Acs(AcsError::NotFound(_)) => {
                summarised(S::NOT_FOUND, "not_found", "thread not found")
            }
            Self::AdminAcs(AcsError::NotFound(_)) => {
                summarised(S::NOT_FOUND, "user_not_found", "user not found")
            }
            // A 401 or 403 on our admin key is our fault, not the caller's: a 502.
            Self::Acs(other) | Self::AdminAcs(other) => upstream_failure(other),
            Self::Unserialisable(_) => summarised(
                S::INTERNAL_SERVER_ERROR,
                "internal_error",
                "the service failed to write its answer",
            ),
            Self::Misconfigured(_) => summarised(
                S::INTERNAL_SERVER_ERROR,
                "misconfigured",
                "the service is not configured for this request",
            ),
            Self::Secret(_) => summarised(
                S::SERVICE_UNAVAILABLE,
                "secret_unavailable",
                "the service's credentials are unavailable; try again later",
            ),
            Self::WebhookUnauthorized => explained(S::UNAUTHORIZED, "webhook_unauthorized"),
            Self::BadDelivery(_) => explained(S::BAD_REQUEST, "bad_delivery"),
            Self::Entra(JwtError::KeysUnavailable(_)) => summarised(
                S::SERVICE_UNAVAILABLE,
                "realtime_unavailable",
                "the delivery's token could not be checked; deliver again later",
            ),
            Self::Entra(_) => explained(S::UNAUTHORIZED, "webhook_unauthorized"),
            Self::Identity(JwtError::KeysUnavailable(_)) => summarised(
                S::SERVICE_UNAVAILABLE,
                "identity_provider_unavailable",
                "the identity provider's keys could not be read; try again later",
            ),
            Self::Identity(JwtError::Missing) => Refusal {
                message: "Authorization: Bearer <the identity provider's token> is required".into(),
                ..explained(S::UNAUTHORIZED, "missing_identity_token")
            },
            Self::Identity(_) => explained(S::UNAUTHORIZED, "invalid_identity_token"),
            Self::People(PeopleError::Unavailable(_)) => summarised(
                S::SERVICE_UNAVAILABLE,
                "people_unavailable",
                "the service's records of people are unavailable; try again later",
            ),
            Self::UploadQuota { until_tomorrow } => Refusal {
                retry_after: Some(*until_tomorrow),
                ..explained(S::TOO_MANY_REQUESTS, "quota_exceeded")
            },
            Self::People(PeopleError::Contended(_)) => Refusal {
                retry_after: Some(Duration::from_secs(1)),
                ..explained(S::TOO_MANY_REQUESTS, "throttled")
            },
            Self::People(PeopleError::Corrupt(_)) => summarised(
                S::INTERNAL_SERVER_ERROR,
                "internal_error",
                "the service could not read its records of people",
            ),
            Self::IssuerClosed(_) => explained(S::FORBIDDEN, "issuer_closed"),
            Self::Publish(_) => summarised(
                S::SERVICE_UNAVAILABLE,
                "realtime_unavailable",
                "the real-time channel could not take the events; deliver again later",
            ),
            Self::Files(FileError::TypeNotAllowed(_)) => {
                explained(S::BAD_REQUEST, "type_not_allowed")
            }
            Self::Files(FileError::BadSize(_)) => explained(S::BAD_REQUEST, "file_too_large"),
            Self::Files(FileError::BadName | FileError::BadList) => {
                explained(S::BAD_REQUEST, "invalid_field")
            }
            Self::Subscription(_) => explained(S::BAD_REQUEST, "invalid_subscription"),
            Self::Push(_) => summarised(
                S::SERVICE_UNAVAILABLE,
                "push_unavailable",
                "pushes cannot be signed now",
            ),
            Self::Files(FileError::NotFound(_)) => explained(S::NOT_FOUND, "attachment_not_found"),
            Self::Files(FileError::NotYours(_)) => explained(S::FORBIDDEN, "attachment_not_yours"),
            Self::Files(FileError::InUse(_)) => explained(S::CONFLICT, "attachment_in_use"),
            Self::Files(FileError::S3(S3Error::Signing(_))) => summarised(
                S::INTERNAL_SERVER_ERROR,
                "internal_error",
                "the service could not sign the request",
            ),
            Self::Files(FileError::S3(S3Error::Refused { status, .. }))
                if *status != 429 && *status < 500 =>
            {
                summarised(
                    S::BAD_GATEWAY,
                    "storage_error",
                    "the file store refused the request",
                )
            }
            Self::Files(FileError::S3(_)) => summarised(
                S::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "the file store is unavailable; try again later",
            ),
        }
    }

    /// The one place an error becomes a response. Logs 5xx in full and 4xx briefly.
    pub fn into_response(self) -> Response<Body> {
        let refusal = self.refusal();
        if refusal.status.is_server_error() {
            tracing::error!(status = refusal.status.as_u16(), code = refusal.code, error = %self, "request failed");
        } else {
            tracing::info!(status = refusal.status.as_u16(), code = refusal.code, error = %self, "request refused");
        }
        let body = json!({"error": {"code": refusal.code, "message": refusal.message}});
        let mut response = json_response(refusal.status, &body);
        if let Some(wait) = refusal.retry_after {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.max(1).into());
        }
        if let Self::MethodNotAllowed { allow } = self {
            response
                .headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static(allow));
        }
        response
    }
}

/// The answer for an ACS failure that is not the caller's doing: throttling, slowness, faults.
fn upstream_failure(error: &AcsError) -> Refusal {
    let (status, code, message, retry_after) = match error {
        AcsError::Throttled { retry_after, .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            "ACS is throttling requests; retry later",
            *retry_after,
        ),
        AcsError::Timeout => (
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_timeout",
            "ACS did not answer in time",
            None,
        ),
        _ => (
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            "ACS failed to handle the request",
            None,
        ),
    };
    Refusal {
        status,
        code,
        message: message.to_owned(),
        retry_after,
    }
}

/// A JSON response with the given status.
pub fn json_response(status: StatusCode, body: &serde_json::Value) -> Response<Body> {
    json_text(status, body.to_string())
}

/// A response of JSON already serialised.
pub fn json_text(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acs::ServiceError;

    fn status_and_code(error: ApiError) -> (u16, String, Response<Body>) {
        let response = error.into_response();
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        (
            response.status().as_u16(),
            body["error"]["code"].as_str().unwrap().to_owned(),
            response,
        )
    }

    fn acs(status: u16) -> AcsError {
        AcsError::from_response(status, b"", None)
    }

    #[test]
    fn every_error_maps_to_the_status_the_design_names() {
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (ApiError::InvalidJson, 400, "invalid_json"),
            (ApiError::MissingField("thread_id"), 400, "missing_field"),
            (
                ApiError::TooLarge {
                    what: "message",
                    limit: 1,
                },
                413,
                "payload_too_large",
            ),
            (ApiError::MissingToken, 401, "missing_token"),
            (ApiError::TokenExpired, 401, "token_expired"),
            (
                ApiError::TokenUserMismatch("user_id"),
                403,
                "token_user_mismatch",
            ),
            (ApiError::Acs(acs(401)), 401, "invalid_token"),
            (ApiError::Acs(acs(403)), 403, "forbidden"),
            (ApiError::Acs(acs(404)), 404, "not_found"),
            (ApiError::Acs(acs(500)), 502, "upstream_error"),
            (ApiError::Acs(AcsError::Timeout), 504, "upstream_timeout"),
            (ApiError::AdminAcs(acs(401)), 502, "upstream_error"),
            (
                ApiError::Secret(SecretError::Empty),
                503,
                "secret_unavailable",
            ),
            (
                FileError::TypeNotAllowed("text/html".into()).into(),
                400,
                "type_not_allowed",
            ),
            (FileError::BadSize(1).into(), 400, "file_too_large"),
            (
                FileError::NotFound("a".into()).into(),
                404,
                "attachment_not_found",
            ),
            (
                FileError::NotYours("a".into()).into(),
                403,
                "attachment_not_yours",
            ),
            (
                FileError::InUse("a".into()).into(),
                409,
                "attachment_in_use",
            ),
            (
                FileError::S3(S3Error::Refused {
                    status: 403,
                    code: "AccessDenied".into(),
                })
                .into(),
                502,
                "storage_error",
            ),
            (
                FileError::S3(S3Error::Refused {
                    status: 503,
                    code: "SlowDown".into(),
                })
                .into(),
                503,
                "storage_unavailable",
            ),
        ];
        for (error, status, code) in cases {
            let described = format!("{error:?}");
            let (got_status, got_code, _) = status_and_code(error);
            assert_eq!(
                (got_status, got_code.as_str()),
                (status, code),
                "{described}"
            );
        }
    }

    #[test]
    fn throttling_passes_retry_after_on_in_whole_seconds() {
        let error = ApiError::Acs(AcsError::Throttled {
            error: ServiceError::default(),
            retry_after: Some(Duration::from_millis(1500)),
        });
        let (status, _, response) = status_and_code(error);
        assert_eq!(status, 429);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }

    #[test]
    fn server_error_bodies_do_not_repeat_what_acs_said() {
        let error = ApiError::Acs(AcsError::from_response(
            500,
            br#"{"error":{"code":"Internal","message":"stack trace at node 7"}}"#,
            None,
        ));
        let response = error.into_response();
        let body = std::str::from_utf8(response.body().as_ref())
            .unwrap()
            .to_owned();
        assert!(!body.contains("stack trace"), "{body}");
    }
}
