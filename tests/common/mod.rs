//! Helpers every integration suite shares (`#[path]`-included, so each suite compiles its own).
#![allow(dead_code)]

use std::time::Duration;

use acs_chat_api::acs::RetryPolicy;
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

/// The message texts of a `{"messages": [...]}` answer, in order.
pub fn texts(body: &Value) -> Vec<String> {
    body["messages"]
        .as_array()
        .expect("a messages array")
        .iter()
        .map(|m| m["message"].as_str().expect("a message text").to_owned())
        .collect()
}
