//! `acs_events` served over HTTP as the webhook is, with a state of its own as its own
//! function has, and subscribed to the emulator's Event Grid deliveries; and the deliveries'
//! switches (doubled, reordered).

use std::collections::HashMap;
use std::sync::Arc;

use acs_chat_api::api::Function;
use acs_chat_api::realtime::eventgrid::EVENT_TYPES;
use serde_json::{Value, json};

use crate::channels::Channels;
use crate::stub::{Received, Stub};
use crate::{RealtimeKeys, TestApp, User};

/// `acs_events` served over HTTP, with its own state (as its own function has).
pub async fn webhook(app: &TestApp, channels: &Channels) -> (Stub, RealtimeKeys) {
    let (setup, keys) = app.realtime_setup(channels).await;
    let server = function_stub(Arc::new(app.state_with(&setup)), Function::AcsEvents).await;
    (server, keys)
}

/// [`webhook`], subscribed to the emulator's user-level deliveries (the handshake passed), as
/// a deployment subscribes it.
pub async fn subscribed_webhook(app: &TestApp, channels: &Channels) -> (Stub, RealtimeKeys) {
    let (server, keys) = webhook(app, channels).await;
    let url = format!("{}/acs_events?code={}", server.url(), keys.webhook_secret);
    assert_eq!(subscribe(app, &url).await.status(), 201, "the handshake");
    (server, keys)
}

/// [`webhook`], subscribed twice as a deployment subscribes it: once for real time
/// (`part=realtime`), once for Web Push (`part=push`), each delivered on its own.
pub async fn subscribed_in_parts(app: &TestApp, channels: &Channels) -> (Stub, RealtimeKeys) {
    let (server, keys) = webhook(app, channels).await;
    for part in ["realtime", "push"] {
        let url = format!(
            "{}/acs_events?code={}&part={part}",
            server.url(),
            keys.webhook_secret
        );
        assert_eq!(subscribe(app, &url).await.status(), 201, "the handshake");
    }
    (server, keys)
}

/// A POST to one of the emulator's `/_emulator` controls.
pub async fn control(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    let mut url = app.emulator.endpoint();
    url.set_path(path);
    reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Subscribes `url` to the emulator's user-level chat events.
pub async fn subscribe(app: &TestApp, url: &str) -> reqwest::Response {
    let body = json!({"endpoint": url, "includedEventTypes": EVENT_TYPES});
    control(app, "_emulator/eventgrid/subscriptions", body).await
}

/// Sets the emulator's delivery switches (`duplicate`, `reorder`).
pub async fn switch(app: &TestApp, switches: Value) {
    let answer = control(app, "_emulator/eventgrid/switches", switches).await;
    assert_eq!(answer.status(), 204);
}

/// A delivery posted to the webhook by whoever knows its secret.
pub async fn deliver(server: &Stub, keys: &RealtimeKeys, events: Value) -> Value {
    let url = format!("{}/acs_events?code={}", server.url(), keys.webhook_secret);
    let answer = reqwest::Client::new()
        .post(url)
        .json(&events)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

/// An ACS identifier as Event Grid writes it.
pub fn identifier(id: &str) -> Value {
    json!({"rawId": id, "communicationUser": {"id": id}})
}

/// A made-up `ChatMessageReceived` for `recipient`.
pub fn message_event(recipient: &User, thread: &str, message_id: &str, text: &str) -> Value {
    json!([{
        "id": uuid::Uuid::new_v4().to_string(),
        "topic": "/subscriptions/s/providers/Microsoft.Communication/communicationServices/x",
        "subject": format!("thread/{thread}/sender/x/recipient/{}", recipient.id),
        "eventType": "Microsoft.Communication.ChatMessageReceived",
        "eventTime": "2026-12-01T10:00:00Z", "dataVersion": "1.0", "metadataVersion": "1",
        "data": {
            "messageBody": text, "messageId": message_id,
            "version": message_id.parse::<u64>().unwrap_or(1),
            "senderCommunicationIdentifier": identifier(&recipient.id),
            "recipientCommunicationIdentifier": identifier(&recipient.id),
            "threadId": thread, "type": "Text",
        },
    }])
}

/// A stub that serves every request as `function` does, as API Gateway would hand it over
/// (method, path, query string, headers, body): how a handler of ours is put where the
/// emulator's Event Grid deliveries can reach it.
async fn function_stub(
    state: Arc<acs_chat_api::AppState>,
    function: acs_chat_api::Function,
) -> Stub {
    use lambda_http::RequestExt;
    Stub::start(Arc::new(move |received: Received| {
        let state = state.clone();
        Box::pin(async move {
            let query: HashMap<String, String> = received
                .target
                .split_once('?')
                .map(|(_, query)| {
                    form_urlencoded::parse(query.as_bytes())
                        .into_owned()
                        .collect()
                })
                .unwrap_or_default();
            let mut request = lambda_http::http::Request::builder()
                .method(function.spec().method.as_str())
                .uri(received.target.as_str());
            for (name, value) in &received.headers {
                request = request.header(name, value);
            }
            let request = request
                .body(lambda_http::Body::Text(
                    String::from_utf8_lossy(&received.body).into_owned(),
                ))
                .unwrap()
                .with_query_string_parameters(query);
            let answer = crate::app::serve(&state, function, request).await;
            let body = match answer.body {
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            };
            (answer.status, body)
        })
    }))
    .await
}
