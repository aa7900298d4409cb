//! Requests as API Gateway hands them over, and what to check of an answer.

use std::collections::HashMap;
use std::time::Duration;

use acs_chat_api::acs::RetryPolicy;
use lambda_http::{Body, Request, RequestExt};
use serde_json::Value;

/// Retries and timeouts short enough that fault tests run in milliseconds.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(2),
        timeout: Duration::from_millis(500),
    }
}

/// What a handler answered.
#[derive(Debug)]
pub struct Answered {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: Value,
}

pub fn request(method: &str, body: Option<&Value>, token: Option<&str>) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri("/");
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let body = body.map_or(Body::Empty, |b| Body::Text(b.to_string()));
    builder.body(body).unwrap()
}

pub fn get(query: &[(&str, &str)], token: Option<&str>) -> Request {
    let params: HashMap<String, String> = query
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    request("GET", None, token).with_query_string_parameters(params)
}

pub fn post(body: Value, token: Option<&str>) -> Request {
    request("POST", Some(&body), token)
}

/// A `send_message` request from `from`, with an `Idempotency-Key` if given.
pub fn send_request(thread_id: &str, from: &crate::User, text: &str, key: Option<&str>) -> Request {
    let body = serde_json::json!({"thread_id": thread_id, "user_id": from.id, "message": text});
    let mut request = post(body, Some(&from.token));
    if let Some(key) = key {
        request
            .headers_mut()
            .insert("idempotency-key", key.parse().unwrap());
    }
    request
}

/// Asserts status and error code of an answer.
#[track_caller]
pub fn assert_error(answer: &Answered, status: u16, code: &str) {
    assert_eq!(
        (answer.status, answer.body["error"]["code"].as_str()),
        (status, Some(code)),
        "{:?}",
        answer.body
    );
    assert!(
        answer.body["error"]["message"].is_string(),
        "{:?}",
        answer.body
    );
}

/// The message texts of a `{"messages": [...]}` answer, in order.
pub fn texts(body: &Value) -> Vec<String> {
    body["messages"]
        .as_array()
        .expect("a messages array")
        .iter()
        .map(|m| m["message"].as_str().expect("a message text").to_owned())
        .collect()
}
