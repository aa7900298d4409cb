//! A stand-in for AppSync Events' HTTP publish endpoint: keeps every publish (its
//! `Authorization` and body) and answers as AppSync does, or with a 500 while told to fail.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use acs_chat_api::acs::UserId;
use acs_chat_api::realtime::channel;
use serde_json::Value;

use crate::User;
use crate::stub::{Received, Stub};

/// `user`'s own channel this hour, where every event for their devices goes.
pub fn channel_of(user: &User) -> String {
    let id = UserId::parse(user.id.as_str()).expect("a test user's id is an ACS user id");
    channel::of(&id, channel::hour(time::OffsetDateTime::now_utc()))
}

pub struct Channels {
    stub: Stub,
    published: Arc<Mutex<Vec<(String, Value)>>>,
    failures: Arc<AtomicUsize>,
}

impl Channels {
    pub async fn start() -> Self {
        let published: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
        let failures: Arc<AtomicUsize> = Arc::default();
        let (kept, failing) = (published.clone(), failures.clone());
        let stub = Stub::start(Arc::new(move |received: Received| {
            let fail = failing
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if !fail {
                let authorization = received.headers.get("authorization").cloned();
                let body = serde_json::from_slice(&received.body).unwrap_or_default();
                kept.lock()
                    .unwrap()
                    .push((authorization.unwrap_or_default(), body));
            }
            Box::pin(async move {
                if fail {
                    (500, String::new())
                } else {
                    (200, r#"{"successful":[],"failed":[]}"#.to_owned())
                }
            })
        }))
        .await;
        Self {
            stub,
            published,
            failures,
        }
    }

    /// The URL to publish to.
    pub fn url(&self) -> String {
        format!("{}/event", self.stub.url())
    }

    /// Answers the next `n` publishes with a 500.
    pub fn fail_next(&self, n: usize) {
        self.failures.store(n, Ordering::SeqCst);
    }

    /// Every publish so far: its `Authorization`, and its body.
    pub fn publishes(&self) -> Vec<(String, Value)> {
        self.published.lock().unwrap().clone()
    }

    /// Every event published to `channel`, decoded, in order.
    pub fn events(&self, channel: &str) -> Vec<Value> {
        self.publishes()
            .iter()
            .filter(|(_, body)| body["channel"] == channel)
            .flat_map(|(_, body)| body["events"].as_array().cloned().unwrap_or_default())
            .map(|event| serde_json::from_str(event.as_str().unwrap()).unwrap())
            .collect()
    }
}
