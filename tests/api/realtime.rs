//! The real-time path against the emulator: its user-level Event Grid deliveries reach
//! `acs_events` (served over HTTP here, as the webhook is), which reads ACS as each recipient
//! and publishes to their own channel on a stand-in for AppSync Events; typing through
//! `send_typing`; and the authorizer's decisions for tokens, channels and the publish key.

use std::time::{Duration, Instant};

use acs_chat_api::acs::UserId;
use acs_chat_api::api::endpoints::realtime_auth::authorize;
use acs_chat_api::api::endpoints::send_typing::MAX_TYPING_PARTICIPANTS;
use acs_chat_api::api::{AppState, Function};
use acs_chat_api::realtime::authorizer::{AuthorizerRequest, AuthorizerResponse};
use acs_chat_api::realtime::channel;
use serde_json::{Value, json};

use support::channels::{Channels, channel_of};
use support::webhook::{deliver, message_event, subscribe, subscribed_webhook, switch, webhook};
use support::{TestApp, User, assert_error, post, spawn_app};

/// The channel `user` is published to now.
/// Waits until `channel` has `count` events, or a while; then a moment more, for anything
/// doubled to show.
async fn events_on(channels: &Channels, channel: &str, count: usize) -> Vec<Value> {
    for _ in 0..100 {
        if channels.events(channel).len() >= count {
            tokio::time::sleep(Duration::from_millis(400)).await;
            return channels.events(channel);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    channels.events(channel)
}

/// The texts of the message events on `channel`.
fn texts(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .filter(|e| e["kind"] == "message")
        .filter_map(|e| e["text"].as_str())
        .collect()
}

#[tokio::test]
async fn a_send_an_edit_and_a_delete_reach_the_recipient_s_own_channel_once_each_in_version_order()
{
    let app = spawn_app().await;
    let channels = Channels::start().await;
    let (_server, keys) = subscribed_webhook(&app, &channels).await;
    switch(&app, json!({"duplicate": true, "reorder": true})).await;
    let (alice, bob) = app.users().await;
    let thread = app.thread(&alice, &bob).await;
    let bobs = channel_of(&bob);
    let message_id = app.send(&thread, &alice, "first").await;
    // Each step once the one before has reached Bob, so each is what ACS holds when read.
    events_on(&channels, &bobs, 2).await;
    let edit = json!({"thread_id": thread, "user_id": alice.id, "message_id": message_id, "message": "second"});
    let answer = app
        .call(Function::UpdateMessage, post(edit, Some(&alice.token)))
        .await;
    assert_eq!(answer.status, 200);
    events_on(&channels, &bobs, 3).await;
    let delete = json!({"thread_id": thread, "user_id": alice.id, "message_id": message_id});
    let answer = app
        .call(Function::DeleteMessage, post(delete, Some(&alice.token)))
        .await;
    assert_eq!(answer.status, 200);

    let events = events_on(&channels, &bobs, 4).await;
    let about: Vec<(&str, Option<&str>)> = events
        .iter()
        .filter(|e| e["message_id"] == message_id.as_str())
        .map(|e| (e["kind"].as_str().unwrap(), e["text"].as_str()))
        .collect();
    assert_eq!(
        about,
        [
            ("message", Some("first")),
            ("edited", Some("second")),
            ("deleted", None)
        ],
        "{events:?}"
    );
    let versions: Vec<u64> = events
        .iter()
        .filter_map(|e| e["version"].as_u64())
        .collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    assert_eq!(events[0]["kind"], "joined", "{events:?}");
    assert!(
        channels.events(&channel_of(&alice)).is_empty(),
        "the sender hears nothing of it"
    );
    assert!(
        channels
            .publishes()
            .iter()
            .all(|(authorization, _)| *authorization == keys.publish_key)
    );
}

#[tokio::test]
async fn a_removed_participant_hears_of_the_removal_and_nothing_of_the_thread_after_it() {
    let app = spawn_app().await;
    let channels = Channels::start().await;
    let (_server, _) = subscribed_webhook(&app, &channels).await;
    let (alice, bob) = app.users().await;
    let carol = app.outsider().await;
    let thread = app.thread(&alice, &bob).await;
    let add = json!({"thread_id": thread, "user2_id": carol.id});
    let added = app
        .call(Function::AddUser, post(add, Some(&alice.token)))
        .await;
    assert_eq!(added.status, 200);
    app.send(&thread, &alice, "before").await;
    assert_eq!(
        texts(&events_on(&channels, &channel_of(&carol), 2).await),
        ["before"]
    );
    let remove = json!({"thread_id": thread, "user_id": alice.id, "remove_user_id": carol.id});
    let removed = app
        .call(Function::RemoveUser, post(remove, Some(&alice.token)))
        .await;
    assert_eq!(removed.status, 200);
    app.send(&thread, &alice, "after").await;

    assert_eq!(
        texts(&events_on(&channels, &channel_of(&bob), 5).await),
        ["before", "after"]
    );
    let carols = channels.events(&channel_of(&carol));
    assert_eq!(texts(&carols), ["before"], "{carols:?}");
    assert_eq!(carols.last().unwrap()["kind"], "left");
}

#[tokio::test]
async fn a_deleted_identity_hears_nothing_more_even_of_a_delivery_naming_it() {
    let app = spawn_app().await;
    let channels = Channels::start().await;
    let (server, keys) = subscribed_webhook(&app, &channels).await;
    let (alice, bob) = app.users().await;
    let thread = app.thread(&alice, &bob).await;
    let first = app.send(&thread, &alice, "first").await;
    assert_eq!(
        texts(&events_on(&channels, &channel_of(&bob), 2).await),
        ["first"]
    );
    app.delete_identity(&bob).await;
    app.send(&thread, &alice, "after").await;
    let made_up = deliver(&server, &keys, message_event(&bob, &thread, &first, "x")).await;
    assert_eq!(made_up["published"], 0, "{made_up}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(texts(&channels.events(&channel_of(&bob))), ["first"]);
}

/// `from` sends `body` with `send_message`; the message event it pushes to `to`, and all the
/// events `to`'s channel got by then (the join, then the message).
async fn pushed_to(
    app: &TestApp,
    channels: &Channels,
    from: &User,
    to: &User,
    mut body: Value,
) -> (Value, Vec<Value>) {
    body["user_id"] = json!(from.id);
    let answer = app
        .call(Function::SendMessage, post(body, Some(&from.token)))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let events = events_on(channels, &channel_of(to), 2).await;
    let message = events
        .iter()
        .find(|e| e["kind"] == "message")
        .unwrap()
        .clone();
    (message, events)
}

#[tokio::test]
async fn a_pushed_message_carries_its_sender_s_name_in_the_thread_never_the_one_it_claims() {
    let app = spawn_app().await;
    let channels = Channels::start().await;
    let (_server, _keys) = subscribed_webhook(&app, &channels).await;
    let (alice, bob) = app.users().await;
    let thread = app.named_thread(&alice, "Alice", &bob, "Bob").await;
    let send = json!({"thread_id": thread, "message": "named", "display_name": "Your Bank"});
    let (message, events) = pushed_to(&app, &channels, &alice, &bob, send).await;
    assert_eq!(
        (&message["text"], &message["sender_display_name"]),
        (&json!("named"), &json!("Alice")),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_pushed_message_of_files_alone_carries_them_and_no_text_of_its_own() {
    let app = spawn_app().await.with_files().await;
    let channels = Channels::start().await;
    let (_server, _keys) = subscribed_webhook(&app, &channels).await;
    let (alice, bob) = app.users().await;
    let thread = app.thread(&alice, &bob).await;
    let image = app
        .upload(&alice, &thread, "cat.png", "image/png", b"\x89PNG")
        .await;
    let send = json!({"thread_id": thread, "attachments": [image]});
    let (message, events) = pushed_to(&app, &channels, &alice, &bob, send).await;
    assert_eq!(message["text"], "", "{events:?}");
    assert_eq!(
        message["attachments"],
        json!([{"id": image, "name": "cat.png", "content_type": "image/png", "size": 4}])
    );
}

#[tokio::test]
async fn a_message_of_one_thread_with_the_id_and_version_of_another_thread_s_is_pushed() {
    let app = spawn_app().await;
    let channels = Channels::start().await;
    let (_server, _) = subscribed_webhook(&app, &channels).await;
    let (alice, bob) = app.users().await;
    let (a, b) = (
        app.thread(&alice, &bob).await,
        app.thread(&alice, &bob).await,
    );
    let shared = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 60_000;
    app.emulator.pin_next_message_id(shared);
    let in_a = app.send(&a, &alice, "in a").await;
    app.emulator.pin_next_message_id(shared);
    let in_b = app.send(&b, &alice, "in b").await;
    assert_eq!(in_a, in_b, "ACS's ids repeat across threads");
    let events = events_on(&channels, &channel_of(&bob), 4).await;
    let pushed: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["kind"] == "message")
        .map(|e| {
            (
                e["thread_id"].as_str().unwrap(),
                e["text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(pushed, [(a.as_str(), "in a"), (b.as_str(), "in b")]);
}

#[tokio::test]
async fn a_made_up_delivery_passes_on_only_what_acs_shows_the_recipient() {
    let app = spawn_app().await;
    let channels = Channels::start().await;
    let (server, keys) = webhook(&app, &channels).await;
    let (alice, bob) = app.users().await;
    let thread = app.thread(&alice, &bob).await;
    let real = app.send(&thread, &alice, "what Alice wrote").await;
    let carol = app.outsider().await;
    let theirs = app.thread(&carol, &alice).await;
    let secret = app.send(&theirs, &carol, "between Carol and Alice").await;

    let forged_text = deliver(
        &server,
        &keys,
        message_event(&bob, &thread, &real, "forged"),
    )
    .await;
    let forged_id = deliver(&server, &keys, message_event(&bob, &thread, "1", "made up")).await;
    let not_his = deliver(
        &server,
        &keys,
        message_event(&bob, &theirs, &secret, "peek"),
    )
    .await;
    for answer in [&forged_id, &not_his] {
        assert_eq!(
            (&answer["published"], &answer["refused_by_acs"]),
            (&json!(0), &json!(1))
        );
    }
    assert_eq!(forged_text["published"], 1);
    let bobs = channels.events(&channel_of(&bob));
    assert_eq!(texts(&bobs), ["what Alice wrote"], "{bobs:?}");
    let shown = serde_json::to_string(&channels.publishes()).unwrap();
    for never in ["forged", "made up", "peek", "between Carol and Alice"] {
        assert!(!shown.contains(never), "{never}");
    }
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
    let (alice, bob) = app.users().await;
    let thread = app.thread(&alice, &bob).await;
    events_on(&channels, &channel_of(&bob), 1).await;
    channels.fail_next(2);
    let message_id = app.send(&thread, &alice, "eventually").await;
    let events = events_on(&channels, &channel_of(&bob), 2).await;
    let received: Vec<&Value> = events
        .iter()
        .filter(|e| e["message_id"] == message_id.as_str())
        .collect();
    assert_eq!(received.len(), 1, "{events:?}");
    assert_eq!(received[0]["text"], "eventually");
}

/// How long it takes a message in a thread of 250 to reach every other member's channel, and
/// how many publishes it takes: printed, not asserted.
#[tokio::test]
async fn a_message_in_a_thread_of_250_reaches_all_249_others_one_publish_each() {
    let app = spawn_app().await;
    let (thread, mut others) = app.group(250).await;
    let alice = others.remove(0);
    // Subscribed only now: each of the 248 adds tells every member so far, and those 31,000
    // deliveries are not what this measures.
    let channels = Channels::start().await;
    let (_server, _) = subscribed_webhook(&app, &channels).await;
    let sent = Instant::now();
    let message_id = app.send(&thread, &alice, "to all of you").await;
    let reached = |c: &Channels| {
        others
            .iter()
            .filter(|u| {
                c.events(&channel_of(u))
                    .iter()
                    .any(|e| e["message_id"] == message_id.as_str())
            })
            .count()
    };
    while reached(&channels) < 249 && sent.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last = sent.elapsed();
    assert_eq!(reached(&channels), 249);
    let publishes = channels.publishes().len();
    println!(
        "fan-out, a thread of 250: 249 deliveries, {publishes} publishes, the last subscriber's \
         channel reached {:.0} ms after send_message answered",
        last.as_secs_f64() * 1e3
    );
    assert_eq!(publishes, 249, "one publish a recipient");
}

fn authorizer_request(token: &str, operation: &str, channel: Option<&str>) -> AuthorizerRequest {
    serde_json::from_value(json!({
        "authorizationToken": token,
        "requestContext": {
            "apiId": "api", "accountId": "123456789012", "requestId": "r",
            "operation": operation, "channelNamespaceName": "users", "channel": channel,
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

/// A JWT anyone can make: the right shape and claims, signed by nobody.
fn self_made_token(user: &User) -> String {
    use base64::Engine as _;
    let encode = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    let claims =
        json!({"skypeid": user.id.trim_start_matches("8:"), "exp": exp, "acsScope": "chat"});
    format!("{}.{}.", encode(json!({"alg": "none"})), encode(claims))
}

#[tokio::test]
async fn a_person_may_subscribe_to_their_own_channel_of_the_hours_around_now_and_nobody_else_to_it()
{
    let (app, _channels, keys) = spawn_app().await.with_realtime().await;
    let (alice, bob) = app.users().await;
    let bob_id = UserId::parse(bob.id.as_str()).unwrap();
    let now = channel::hour(time::OffsetDateTime::now_utc());
    let his = |hour| channel::of(&bob_id, hour);
    let state = &app.state;
    assert!(decide(state, &bob.token, "EVENT_CONNECT", None).await);
    for hour in [now - 1, now, now + 1] {
        let bearer = format!("Bearer {}", bob.token);
        assert!(
            decide(state, &bearer, "EVENT_SUBSCRIBE", Some(&his(hour))).await,
            "{hour}"
        );
    }
    for hour in [now - 2, now + 2] {
        assert!(!decide(state, &bob.token, "EVENT_SUBSCRIBE", Some(&his(hour))).await);
    }
    assert!(
        !decide(state, &alice.token, "EVENT_SUBSCRIBE", Some(&his(now))).await,
        "not hers"
    );
    assert!(
        !decide(state, &bob.token, "EVENT_PUBLISH", Some(&his(now))).await,
        "clients never publish"
    );
    for pattern in ["/users/*", "/users"] {
        assert!(!decide(state, &bob.token, "EVENT_SUBSCRIBE", Some(pattern)).await);
    }
    let expired = app.minted(&bob.id, time::Duration::seconds(-60));
    assert!(!decide(state, &expired, "EVENT_CONNECT", None).await);
    assert!(!decide(state, &expired, "EVENT_SUBSCRIBE", Some(&his(now))).await);
    assert!(!decide(state, "not a token", "EVENT_CONNECT", None).await);
    assert!(decide(state, &keys.publish_key, "EVENT_PUBLISH", Some(&his(now))).await);
    assert!(!decide(state, &keys.publish_key, "EVENT_SUBSCRIBE", Some(&his(now))).await);
    let wrong_key = format!("{}x", keys.publish_key);
    assert!(!decide(state, &wrong_key, "EVENT_PUBLISH", Some(&his(now))).await);
}

#[tokio::test]
async fn a_self_made_or_revoked_token_can_neither_connect_nor_subscribe() {
    let (app, _channels, _keys) = spawn_app().await.with_realtime().await;
    let (alice, _) = app.users().await;
    let alice_id = UserId::parse(alice.id.as_str()).unwrap();
    let hers = channel::of(&alice_id, channel::hour(time::OffsetDateTime::now_utc()));
    let made_up = self_made_token(&alice);
    assert!(!decide(&app.state, &made_up, "EVENT_CONNECT", None).await);
    assert!(!decide(&app.state, &made_up, "EVENT_SUBSCRIBE", Some(&hers)).await);
    app.revoke(&alice).await;
    assert!(!decide(&app.state, &alice.token, "EVENT_CONNECT", None).await);
}

#[tokio::test]
async fn where_clients_hold_seals_a_valid_acs_token_of_the_person_s_own_cannot_connect_or_subscribe()
 {
    let (app, _channels, _keys) = spawn_app().await.with_realtime().await;
    let (alice, _) = app.users().await;
    let alice_id = UserId::parse(alice.id.as_str()).unwrap();
    let hers = channel::of(&alice_id, channel::hour(time::OffsetDateTime::now_utc()));
    assert!(decide(&app.state, &alice.token, "EVENT_SUBSCRIBE", Some(&hers)).await);
    let inside = app.acs_token(&alice);
    assert!(!decide(&app.state, inside.expose(), "EVENT_CONNECT", None).await);
    assert!(!decide(&app.state, inside.expose(), "EVENT_SUBSCRIBE", Some(&hers)).await);
}

#[tokio::test]
async fn a_typing_notice_acs_took_is_pushed_to_each_other_participant_as_the_caller() {
    let (app, channels, keys) = spawn_app().await.with_realtime().await;
    let (alice, bob) = app.users().await;
    let carol = app.outsider().await;
    let thread = app.thread(&alice, &bob).await;
    let add = json!({"thread_id": thread, "user2_id": carol.id});
    assert_eq!(
        app.call(Function::AddUser, post(add, Some(&alice.token)))
            .await
            .status,
        200
    );
    let body = json!({"thread_id": thread, "user_id": alice.id, "display_name": "Alice"});
    let answer = app
        .call(Function::SendTyping, post(body, Some(&alice.token)))
        .await;
    assert_eq!(answer.body["sent"], true);
    for other in [&bob, &carol] {
        let events = channels.events(&channel_of(other));
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["kind"], "typing");
        assert_eq!(events[0]["sender"], alice.id.as_str());
        assert_eq!(events[0]["thread_id"], thread.as_str());
    }
    assert!(channels.events(&channel_of(&alice)).is_empty());
    assert!(
        channels
            .publishes()
            .iter()
            .all(|(key, _)| *key == keys.publish_key)
    );
}

#[tokio::test]
async fn a_typing_notice_in_a_thread_past_acs_s_20_participants_tells_no_one_and_says_so() {
    let (app, channels, _keys) = spawn_app().await.with_realtime().await;
    let (thread, members) = app.group(MAX_TYPING_PARTICIPANTS + 1).await;
    let body = json!({"thread_id": thread, "user_id": members[0].id});
    let answer = app
        .call(Function::SendTyping, post(body, Some(&members[0].token)))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["sent"], false);
    assert!(
        answer.body["message"]
            .as_str()
            .unwrap()
            .contains("20 participants")
    );
    assert!(
        channels.publishes().is_empty(),
        "no fan-out of 20 and more publishes"
    );
}

#[tokio::test]
async fn a_forged_token_naming_someone_does_not_swallow_their_next_typing_notice() {
    let (app, _channels, _keys) = spawn_app().await.with_realtime().await;
    let (alice, bob) = app.users().await;
    let thread = app.thread(&alice, &bob).await;
    let body = json!({"thread_id": thread, "user_id": alice.id});
    let forged = app
        .call(
            Function::SendTyping,
            post(body.clone(), Some(&self_made_token(&alice))),
        )
        .await;
    assert_error(&forged, 401, "invalid_token");
    let real = app
        .call(Function::SendTyping, post(body, Some(&alice.token)))
        .await;
    assert_eq!(real.body["sent"], true, "{:?}", real.body);
}

#[tokio::test]
async fn every_authorizer_event_file_gets_the_decision_beside_it() {
    let (app, _channels, _keys) = spawn_app().await.with_realtime().await;
    let (user1, user2) = app.users().await;
    let outsider = app.outsider().await;
    let values = [
        ("{{user2_token}}", user2.token.clone()),
        ("{{outsider_token}}", outsider.token.clone()),
        ("{{user2_channel}}", channel_of(&user2)),
        ("{{user1_channel}}", channel_of(&user1)),
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
