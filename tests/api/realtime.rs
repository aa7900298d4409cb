//! The real-time path against the emulator: its Event Grid deliveries reach `acs_events`
//! (served over HTTP here, as the webhook is), which publishes to a stand-in for AppSync
//! Events; and the authorizer's decisions for tokens, threads and the publish key.

use std::sync::Arc;
use std::time::Duration;

use acs_chat_api::acs::ThreadId;
use acs_chat_api::api::endpoints::realtime_auth::authorize;
use acs_chat_api::api::{AppState, Function};
use acs_chat_api::realtime::authorizer::{AuthorizerRequest, AuthorizerResponse};
use acs_chat_api::realtime::channel;
use serde_json::{Value, json};

use support::channels::Channels;
use support::stub::{self, Stub};
use support::{RealtimeKeys, TestApp, post, spawn_app};

/// `acs_events` served over HTTP, with its own state (as its own function has).
async fn webhook(app: &TestApp, channels: &Channels) -> (Stub, RealtimeKeys) {
    let (setup, keys) = app.realtime_setup(channels).await;
    let server = stub::function(Arc::new(app.state_with(&setup)), Function::AcsEvents).await;
    (server, keys)
}

/// [`webhook`], subscribed to the emulator's deliveries (the handshake passed).
async fn subscribed_webhook(app: &TestApp, channels: &Channels) -> (Stub, RealtimeKeys) {
    let (server, keys) = webhook(app, channels).await;
    let url = format!("{}/acs_events?code={}", server.url(), keys.webhook_secret);
    assert_eq!(subscribe(app, &url).await.status(), 201, "the handshake");
    (server, keys)
}

async fn subscribe(app: &TestApp, url: &str) -> reqwest::Response {
    let mut control = app.emulator.endpoint();
    control.set_path("_emulator/eventgrid/subscriptions");
    reqwest::Client::new()
        .post(control)
        .json(&json!({"endpoint": url}))
        .send()
        .await
        .unwrap()
}

async fn switch(app: &TestApp, switches: Value) {
    let mut control = app.emulator.endpoint();
    control.set_path("_emulator/eventgrid/switches");
    let answer = reqwest::Client::new()
        .post(control)
        .json(&switches)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 204);
}

/// Waits until `channel` has `count` events, or a while.
async fn events_on(channels: &Channels, channel: &str, count: usize) -> Vec<Value> {
    for _ in 0..100 {
        let events = channels.events(channel);
        if events.len() >= count {
            // Anything doubled would arrive right after.
            tokio::time::sleep(Duration::from_millis(400)).await;
            return channels.events(channel);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    channels.events(channel)
}

#[tokio::test]
async fn a_send_an_edit_and_a_delete_reach_the_thread_s_channel_once_each_in_version_order() {
    let app = spawn_app().await;
    let channels = Channels::start().await;
    let (_server, keys) = subscribed_webhook(&app, &channels).await;
    switch(&app, json!({"duplicate": true, "reorder": true})).await;
    let (alice, bob) = app.users().await;
    let thread = app.thread(&alice, &bob).await;
    let message_id = app.send(&thread, &alice, "first").await;
    let edit = json!({"thread_id": thread, "user_id": alice.id, "message_id": message_id, "message": "second"});
    assert_eq!(
        app.call(Function::UpdateMessage, post(edit, Some(&alice.token)))
            .await
            .status,
        200
    );
    let delete = json!({"thread_id": thread, "user_id": alice.id, "message_id": message_id});
    assert_eq!(
        app.call(Function::DeleteMessage, post(delete, Some(&alice.token)))
            .await
            .status,
        200
    );

    let channel = channel::of(&ThreadId::parse(&thread).unwrap());
    let events = events_on(&channels, &channel, 3).await;
    let messages: Vec<(&str, Option<&str>)> = events
        .iter()
        .filter(|e| e["message_id"] == message_id.as_str())
        .map(|e| (e["kind"].as_str().unwrap(), e["text"].as_str()))
        .collect();
    assert_eq!(
        messages,
        [
            ("message", Some("first")),
            ("edited", Some("second")),
            ("deleted", None)
        ]
    );
    let versions: Vec<u64> = events
        .iter()
        .filter_map(|e| e["version"].as_u64())
        .collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    assert!(
        channels
            .publishes()
            .iter()
            .all(|(authorization, _)| *authorization == keys.publish_key)
    );
}

#[tokio::test]
async fn a_delivery_with_a_wrong_secret_gets_401_and_publishes_nothing() {
    let app = spawn_app().await;
    let channels = Channels::start().await;
    let (server, _) = webhook(&app, &channels).await;
    for code in ["wrong", ""] {
        let url = format!("{}/acs_events?code={code}", server.url());
        let answer = subscribe(&app, &url).await;
        assert_eq!(answer.status(), 400);
        let body: Value = answer.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("401"), "{body}");
    }
    let (alice, bob) = app.users().await;
    let thread = app.thread(&alice, &bob).await;
    app.send(&thread, &alice, "unheard").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(channels.publishes().is_empty());
}

#[tokio::test]
async fn a_publish_that_fails_answers_503_and_the_redelivery_publishes_it_once() {
    let app = spawn_app().await;
    let channels = Channels::start().await;
    let (_server, _keys) = subscribed_webhook(&app, &channels).await;
    channels.fail_next(2);
    let (alice, bob) = app.users().await;
    let thread = app.thread(&alice, &bob).await;
    let message_id = app.send(&thread, &alice, "eventually").await;
    let channel = channel::of(&ThreadId::parse(&thread).unwrap());
    let events = events_on(&channels, &channel, 2).await;
    let received: Vec<&Value> = events
        .iter()
        .filter(|e| e["message_id"] == message_id.as_str())
        .collect();
    assert_eq!(received.len(), 1, "{events:?}");
    assert_eq!(received[0]["text"], "eventually");
}

fn authorizer_request(token: &str, operation: &str, channel: Option<&str>) -> AuthorizerRequest {
    serde_json::from_value(json!({
        "authorizationToken": token,
        "requestContext": {
            "apiId": "api", "accountId": "123456789012", "requestId": "r",
            "operation": operation, "channelNamespaceName": "threads", "channel": channel,
        },
        "requestHeaders": {},
    }))
    .unwrap()
}

async fn decide(state: &AppState, token: &str, operation: &str, channel: Option<&str>) -> bool {
    let AuthorizerResponse { is_authorized, .. } =
        authorize(state, authorizer_request(token, operation, channel)).await;
    is_authorized
}

#[tokio::test]
async fn members_may_subscribe_to_their_threads_and_nobody_else_to_anything() {
    let (app, _channels, keys) = spawn_app().await.with_realtime().await;
    let (alice, bob) = app.users().await;
    let outsider = app.outsider().await;
    let thread = app.thread(&alice, &bob).await;
    let other = app.thread(&alice, &alice).await;
    let own = channel::of(&ThreadId::parse(&thread).unwrap());
    let theirs = channel::of(&ThreadId::parse(&other).unwrap());
    let state = &app.state;
    assert!(decide(state, &bob.token, "EVENT_CONNECT", None).await);
    assert!(
        decide(
            state,
            &format!("Bearer {}", bob.token),
            "EVENT_SUBSCRIBE",
            Some(&own)
        )
        .await
    );
    assert!(
        !decide(state, &bob.token, "EVENT_SUBSCRIBE", Some(&theirs)).await,
        "not his thread"
    );
    assert!(!decide(state, &outsider.token, "EVENT_SUBSCRIBE", Some(&own)).await);
    assert!(
        !decide(state, &bob.token, "EVENT_PUBLISH", Some(&own)).await,
        "clients never publish"
    );
    assert!(!decide(state, &bob.token, "EVENT_SUBSCRIBE", Some("/threads/*")).await);
    let expired = app
        .emulator
        .mint_token(&bob.id, time::Duration::seconds(-60))
        .unwrap();
    assert!(!decide(state, &expired, "EVENT_CONNECT", None).await);
    assert!(!decide(state, &expired, "EVENT_SUBSCRIBE", Some(&own)).await);
    assert!(!decide(state, "not a token", "EVENT_CONNECT", None).await);
    assert!(decide(state, &keys.publish_key, "EVENT_PUBLISH", Some(&own)).await);
    assert!(!decide(state, &keys.publish_key, "EVENT_SUBSCRIBE", Some(&own)).await);
    assert!(
        !decide(
            state,
            &format!("{}x", keys.publish_key),
            "EVENT_PUBLISH",
            Some(&own)
        )
        .await
    );
}

#[tokio::test]
async fn a_typing_notice_acs_took_is_pushed_with_the_caller_s_identity() {
    let (app, channels, keys) = spawn_app().await.with_realtime().await;
    let (alice, bob) = app.users().await;
    let thread = app.thread(&alice, &bob).await;
    let body = json!({"thread_id": thread, "user_id": alice.id, "display_name": "Alice"});
    let answer = app
        .call(Function::SendTyping, post(body, Some(&alice.token)))
        .await;
    assert_eq!(answer.body["sent"], true);
    let channel = channel::of(&ThreadId::parse(&thread).unwrap());
    let events = channels.events(&channel);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["kind"], "typing");
    assert_eq!(events[0]["sender"], alice.id.as_str());
    assert_eq!(channels.publishes()[0].0, keys.publish_key);
}

#[tokio::test]
async fn every_authorizer_event_file_gets_the_decision_beside_it() {
    let (app, _channels, _keys) = spawn_app().await.with_realtime().await;
    let (user1, user2) = app.users().await;
    let outsider = app.outsider().await;
    let thread = app.thread(&user1, &user2).await;
    let values = [
        ("{{user2_token}}", user2.token.clone()),
        ("{{outsider_token}}", outsider.token.clone()),
        (
            "{{thread_channel}}",
            channel::of(&ThreadId::parse(&thread).unwrap()),
        ),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events/realtime_auth");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with(".expected.json") {
            continue;
        }
        let text = values.iter().fold(
            std::fs::read_to_string(&path).unwrap(),
            |text, (name, value)| text.replace(name, value),
        );
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(path.with_extension("expected.json")).unwrap(),
        )
        .unwrap();
        let decision = authorize(&app.state, serde_json::from_str(&text).unwrap()).await;
        assert_eq!(
            serde_json::to_value(decision).unwrap(),
            expected,
            "{}",
            path.display()
        );
        seen += 1;
    }
    assert_eq!(seen, 4);
}
