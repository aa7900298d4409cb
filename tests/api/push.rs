//! Web Push against a stand-in push service (the emulator's, over HTTPS), which checks each
//! push's VAPID header and opens it with the subscription's keys, as a browser would: who gets
//! a push and how often, what it carries, a gone subscription forgotten, a failing service
//! tried again, and what a subscription must be and who may make one.

use acs_chat_api::api::Function;
use acs_chat_api::push::subscription::{MAX_ENDPOINT_BYTES, MAX_PER_PERSON, key_of, topic_of};
use aws_sdk_dynamodb::types::AttributeValue;
use std::time::{Duration, Instant};

use acs_chat_api::acs::ThreadId;
use acs_chat_api::acs::chat::{MessageKind, SendMessage};

use serde_json::{Value, json};

use support::channels::Channels;
use support::push::{Device, PushService};
use support::stub::Stub;
use support::{Answered, RealtimeKeys, TestApp, User, assert_error, post, spawn_app};

use support::channels::channel_of;
use support::push::BlackHole;
use support::webhook::{deliver, message_event, subscribed_in_parts, subscribed_webhook, switch};

/// A deployment that pushes, its webhook subscribed to the emulator's deliveries as a
/// deployment subscribes it (real time and Web Push apart, each event delivered twice), and
/// the stand-in push service.
struct Pushing {
    app: TestApp,
    service: PushService,
    channels: Channels,
    webhook: Stub,
    keys: RealtimeKeys,
}

async fn pushing(content: &'static str) -> Pushing {
    pushing_also_to(content, &[]).await
}

/// [`pushing`], with `others` (`host:port`) among the push services it sends to.
async fn pushing_also_to(content: &'static str, others: &[String]) -> Pushing {
    let service = PushService::start().await;
    let mut app = spawn_app()
        .await
        .with_sign_in("open")
        .await
        .0
        .with_push(&service, content)
        .await;
    if let Some(push) = app.setup.push.as_mut() {
        for other in others {
            push.service_host = format!("{},{other}", push.service_host);
        }
    }
    app.state = app.setup.state(&app.emulator);
    let channels = Channels::start().await;
    let (webhook, keys) = subscribed_in_parts(&app, &channels).await;
    switch(&app, json!({"duplicate": true})).await;
    Pushing {
        app,
        service,
        channels,
        webhook,
        keys,
    }
}

fn subscribe_request(user: &User, subscription: &Value) -> lambda_http::Request {
    post(
        json!({"user_id": user.id, "subscription": subscription}),
        Some(&user.token),
    )
}

impl Pushing {
    /// A device of `user`'s, subscribed through `push_subscribe`.
    async fn device(&self, user: &User) -> Device {
        let device = self.service.subscribe().await;
        self.subscribe(user, &device).await;
        device
    }

    /// `push_subscribe` of `device` for `user`, which must be taken.
    async fn subscribe(&self, user: &User, device: &Device) -> Answered {
        let answer = self
            .app
            .call(
                Function::PushSubscribe,
                subscribe_request(user, &device.subscription),
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        assert_eq!(answer.body["subscribed"], true);
        answer
    }

    /// How many push subscriptions the table keeps.
    async fn kept_subscriptions(&self) -> usize {
        self.app
            .people_items()
            .await
            .iter()
            .filter(|item| item["sk"].as_s().is_ok_and(|sk| sk.starts_with("push#")))
            .count()
    }
}

impl Pushing {
    /// How long `to` waits for `from`'s message in `thread` on their own channel.
    async fn time_to_channel(&self, thread: &str, from: &User, to: &User, text: &str) -> Duration {
        let start = Instant::now();
        self.app.send(thread, from, text).await;
        let channel = channel_of(to);
        while !self
            .channels
            .events(&channel)
            .iter()
            .any(|event| event["text"] == text)
        {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{text:?} never came"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        start.elapsed()
    }
}

fn texts(received: &[Value]) -> Vec<&str> {
    received
        .iter()
        .filter_map(|push| push["payload"]["text"].as_str())
        .collect()
}

#[tokio::test]
async fn a_message_reaches_each_of_the_recipient_s_devices_once_opened_to_its_text_and_none_of_the_sender_s()
 {
    let p = pushing("full").await;
    let (alice, bob) = p.app.users().await;
    let thread = p.app.thread(&alice, &bob).await;
    let alices = p.device(&alice).await;
    let (phone, laptop) = (p.device(&bob).await, p.device(&bob).await);
    let message_id = p.app.send(&thread, &alice, "Lunch at noon? 🍜").await;

    for device in [&phone, &laptop] {
        let received = p.service.await_received(device, 1).await;
        assert_eq!(
            texts(&received),
            ["Lunch at noon? 🍜"],
            "each event came twice: pushed once"
        );
        let push = &received[0];
        assert_eq!(push["payload"]["thread_id"], thread.as_str());
        assert_eq!(push["payload"]["message_id"], message_id.as_str());
        assert_eq!(push["topic"], topic_of(&thread));
        assert_eq!(push["urgency"], "normal");
        assert_eq!(push["ttl"], 86_400);
        assert_eq!(push["audience"], p.service.origin());
        assert_eq!(push["subject"], "mailto:push-tests@example.com");
    }
    assert!(
        p.service.received(&alices).await.is_empty(),
        "the sender's own device"
    );
    assert!(p.service.refused(&phone).await.is_empty());
}

#[tokio::test]
async fn the_sender_s_own_event_of_their_message_pushes_nothing_to_their_devices() {
    let p = pushing("full").await;
    let (alice, bob) = p.app.users().await;
    let thread = p.app.thread(&alice, &bob).await;
    let alices = p.device(&alice).await;
    let bobs = p.device(&bob).await;
    let message_id = p.app.send(&thread, &alice, "mine").await;
    p.service.await_received(&bobs, 1).await;
    // ACS's event of the message for Alice herself, as Event Grid would deliver it.
    let answer = deliver(
        &p.webhook,
        &p.keys,
        message_event(&alice, &thread, &message_id, "mine"),
    )
    .await;
    assert_eq!(
        answer["published"], 1,
        "her other devices' channel still hears of it"
    );
    assert_eq!(answer["pushed"], 0);
    assert!(p.service.received(&alices).await.is_empty());
}

#[tokio::test]
async fn two_containers_taking_every_event_twice_still_push_each_message_once() {
    let p = pushing("full").await;
    // A second function container, subscribed too: each event reaches both, twice.
    let other_channels = Channels::start().await;
    let (_other, _) = subscribed_webhook(&p.app, &other_channels).await;
    let (alice, bob) = p.app.users().await;
    let thread = p.app.thread(&alice, &bob).await;
    let phone = p.device(&bob).await;
    p.app.send(&thread, &alice, "one").await;
    p.app.send(&thread, &alice, "two").await;
    let received = p.service.await_received(&phone, 2).await;
    let mut got = texts(&received);
    got.sort_unstable();
    assert_eq!(got, ["one", "two"]);
}

#[tokio::test]
async fn a_muted_thread_pushes_nothing_and_another_thread_still_does() {
    let p = pushing("full").await;
    let (alice, bob) = p.app.users().await;
    let muted = p.app.thread(&alice, &bob).await;
    let open = p.app.thread(&alice, &bob).await;
    let phone = p.device(&bob).await;
    let mute = json!({"thread_id": muted, "user_id": bob.id, "muted": true});
    let answer = p
        .app
        .call(Function::MuteThread, post(mute, Some(&bob.token)))
        .await;
    assert_eq!(answer.status, 200);
    p.app.send(&muted, &alice, "in the muted thread").await;
    p.app.send(&open, &alice, "in the other thread").await;
    let received = p.service.await_received(&phone, 1).await;
    assert_eq!(texts(&received), ["in the other thread"]);
}

#[tokio::test]
async fn ten_devices_that_never_answer_hold_up_no_one_s_real_time_and_are_soon_forgotten() {
    let hole = BlackHole::start().await;
    let p = pushing_also_to("full", &[hole.service()]).await;
    let ((alice, carol), (dave, bob)) = (p.app.users().await, p.app.users().await);
    let (carols, bobs) = (
        p.app.thread(&alice, &carol).await,
        p.app.thread(&dave, &bob).await,
    );
    let before = p.time_to_channel(&bobs, &dave, &bob, "warming up").await;
    let baseline = p
        .time_to_channel(&bobs, &dave, &bob, "no black holes yet")
        .await;
    for n in 0..MAX_PER_PERSON {
        let device = p.service.subscribe().await;
        let answer = p
            .app
            .call(
                Function::PushSubscribe,
                subscribe_request(&carol, &hole.subscription(&device, n)),
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
    }
    assert_eq!(p.kept_subscriptions().await, MAX_PER_PERSON);

    // Carol's push goes nowhere for as long as the sender waits; Bob's real time goes on.
    p.app.send(&carols, &alice, "into the void").await;
    let stalled = p.time_to_channel(&bobs, &dave, &bob, "meanwhile").await;
    println!(
        "Bob's message on his channel: {before:?} cold, {baseline:?}, {stalled:?} beside ten black holes"
    );
    assert!(
        stalled < Duration::from_secs(1),
        "a bystander waited {stalled:?} (without the black holes: {baseline:?})"
    );

    // Three pushes unanswered in a row, and the ten are forgotten.
    for text in ["still nothing?", "hello?"] {
        p.app.send(&carols, &alice, text).await;
    }
    let start = Instant::now();
    while p.kept_subscriptions().await > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the black holes are still kept"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_push_and_the_inbox_name_the_sender_as_the_thread_does_never_as_the_message_claims() {
    let p = pushing("full").await;
    let (alice, bob) = p.app.users().await;
    let thread = p.app.named_thread(&alice, "Alice", &bob, "Bob").await;
    let phone = p.device(&bob).await;
    // Straight at ACS with her own token, under a name of her choosing.
    let (_, chat) = p.app.clients();
    let claimed = SendMessage {
        content: "Your account is locked: sign in here",
        sender_display_name: Some("Your Bank"),
        kind: MessageKind::Text,
        metadata: Default::default(),
    };
    chat.send_message(
        &p.app.acs_token(&alice),
        &ThreadId::parse(&thread).unwrap(),
        &claimed,
    )
    .await
    .unwrap();
    let received = p.service.await_received(&phone, 1).await;
    assert_eq!(received[0]["payload"]["sender_display_name"], "Alice");
    let inbox = p
        .app
        .call(
            Function::ListThreads,
            support::get(&[("user_id", bob.id.as_str())], Some(&bob.token)),
        )
        .await;
    assert_eq!(
        inbox.body["threads"][0]["last_message"]["sender_display_name"], "Alice",
        "{:?}",
        inbox.body
    );
}

#[tokio::test]
async fn a_device_whose_push_service_fails_is_kept_a_day_then_forgotten() {
    let p = pushing("full").await;
    let (alice, bob) = p.app.users().await;
    let thread = p.app.thread(&alice, &bob).await;
    let (failing, long_failing) = (p.device(&bob).await, p.device(&bob).await);
    for device in [&failing, &long_failing] {
        p.service.answer(device, &[503; 12], false).await;
    }
    // The second has been failing since the day before yesterday.
    let table = p.app.setup.people_table.clone().unwrap();
    let two_days_ago =
        (time::OffsetDateTime::now_utc() - time::Duration::days(2)).unix_timestamp() * 1000;
    let long_failing_key = format!(
        "push#{}",
        key_of(long_failing.subscription["endpoint"].as_str().unwrap())
    );
    support::moto::dynamodb_client()
        .update_item()
        .table_name(table)
        .key("pk", AttributeValue::S(format!("user#{}", bob.id)))
        .key("sk", AttributeValue::S(long_failing_key.clone()))
        .update_expression("SET failing_since = :since")
        .expression_attribute_values(":since", AttributeValue::N(two_days_ago.to_string()))
        .send()
        .await
        .unwrap();
    p.app.send(&thread, &alice, "anyone?").await;
    let start = Instant::now();
    while p.kept_subscriptions().await > 1 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the day-long failure is kept"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kept: Vec<String> = p
        .app
        .people_items()
        .await
        .iter()
        .filter_map(|item| {
            item["sk"]
                .as_s()
                .ok()
                .filter(|sk| sk.starts_with("push#"))
                .cloned()
        })
        .collect();
    assert_eq!(kept.len(), 1);
    assert_ne!(
        kept[0], long_failing_key,
        "a day of failures is forgotten, an hour's is not"
    );
    assert!(p.service.received(&failing).await.is_empty());
}

#[tokio::test]
async fn a_subscription_at_another_port_of_a_push_service_is_refused() {
    let p = pushing("full").await;
    let (alice, _) = p.app.users().await;
    let device = p.service.subscribe().await;
    let mut elsewhere = device.subscription.clone();
    let endpoint = device.subscription["endpoint"].as_str().unwrap();
    let mut url = reqwest::Url::parse(endpoint).unwrap();
    url.set_port(Some(url.port().unwrap() + 1)).unwrap();
    elsewhere["endpoint"] = json!(url.as_str());
    let answer = p
        .app
        .call(
            Function::PushSubscribe,
            subscribe_request(&alice, &elsewhere),
        )
        .await;
    assert_error(&answer, 400, "invalid_subscription");
    assert_eq!(p.kept_subscriptions().await, 0);
}

#[tokio::test]
async fn a_subscription_the_push_service_calls_gone_is_forgotten_and_the_others_still_get_pushes() {
    let p = pushing("full").await;
    let (alice, bob) = p.app.users().await;
    let thread = p.app.thread(&alice, &bob).await;
    let (old, new) = (p.device(&bob).await, p.device(&bob).await);
    p.service.answer(&old, &[], true).await;
    assert_eq!(p.kept_subscriptions().await, 2);
    p.app.send(&thread, &alice, "still there?").await;
    assert_eq!(
        texts(&p.service.await_received(&new, 1).await),
        ["still there?"]
    );
    assert_eq!(
        p.kept_subscriptions().await,
        1,
        "the 410's subscription is gone"
    );
    p.app.send(&thread, &alice, "again").await;
    assert_eq!(p.service.await_received(&new, 2).await.len(), 2);
    assert!(p.service.received(&old).await.is_empty());
}

#[tokio::test]
async fn a_subscription_made_for_another_key_is_refused_by_the_push_service_and_forgotten() {
    let p = pushing("full").await;
    let (alice, bob) = p.app.users().await;
    let thread = p.app.thread(&alice, &bob).await;
    // Made while the deployment had another key (RFC 8291's browser key stands for it).
    let stale = p
        .service
        .subscribe_for("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4")
        .await;
    p.subscribe(&bob, &stale).await;
    let current = p.device(&bob).await;
    p.app.send(&thread, &alice, "new key").await;
    assert_eq!(
        texts(&p.service.await_received(&current, 1).await),
        ["new key"]
    );
    assert_eq!(
        p.service.refused(&stale).await,
        [json!("signed by another key than the subscription's")]
    );
    assert_eq!(
        p.kept_subscriptions().await,
        1,
        "the 403's subscription is forgotten"
    );
}

#[tokio::test]
async fn a_push_service_answering_429_then_503_is_tried_again_and_the_push_arrives_once() {
    let p = pushing("full").await;
    let (alice, bob) = p.app.users().await;
    let thread = p.app.thread(&alice, &bob).await;
    let phone = p.device(&bob).await;
    p.service.answer(&phone, &[429, 503], false).await;
    p.app.send(&thread, &alice, "persistence").await;
    assert_eq!(
        texts(&p.service.await_received(&phone, 1).await),
        ["persistence"]
    );
    assert_eq!(
        p.kept_subscriptions().await,
        1,
        "a busy service is not a gone one"
    );
}

#[tokio::test]
async fn a_deployment_without_content_in_pushes_says_only_where_a_message_came() {
    let p = pushing("none").await;
    let (alice, bob) = p.app.users().await;
    let thread = p.app.thread(&alice, &bob).await;
    let phone = p.device(&bob).await;
    let message_id = p
        .app
        .send(&thread, &alice, "the surprise party is on friday")
        .await;
    let received = p.service.await_received(&phone, 1).await;
    assert_eq!(
        received[0]["payload"],
        json!({"thread_id": thread, "message_id": message_id})
    );
}

#[tokio::test]
async fn a_malformed_subscription_gets_400_and_nothing_is_kept() {
    let p = pushing("full").await;
    let (alice, _) = p.app.users().await;
    let good = p.service.subscribe().await.subscription;
    let with = |path: &str, value: Value| {
        let mut subscription = good.clone();
        *subscription.pointer_mut(path).unwrap() = value;
        subscription
    };
    let endpoint = good["endpoint"].as_str().unwrap();
    let long = format!("{endpoint}{}", "a".repeat(MAX_ENDPOINT_BYTES));
    let cases = [
        (
            "an http endpoint",
            with("/endpoint", json!(endpoint.replacen("https:", "http:", 1))),
        ),
        (
            "an unknown push service",
            with("/endpoint", json!("https://push.attacker.example/x")),
        ),
        (
            "the metadata service",
            with("/endpoint", json!("https://169.254.169.254/latest/x")),
        ),
        ("an oversized endpoint", with("/endpoint", json!(long))),
        (
            "a p256dh off the curve",
            with(
                "/keys/p256dh",
                json!(
                    "BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                ),
            ),
        ),
        (
            "a p256dh too short",
            with("/keys/p256dh", json!("BCVxsr7N")),
        ),
        ("an auth of 5 bytes", with("/keys/auth", json!("c2hvcnQ"))),
    ];
    for (what, subscription) in cases {
        let answer = p
            .app
            .call(
                Function::PushSubscribe,
                subscribe_request(&alice, &subscription),
            )
            .await;
        assert_error(&answer, 400, "invalid_subscription");
        assert!(answer.body["error"]["message"].is_string(), "{what}");
    }
    assert_eq!(p.kept_subscriptions().await, 0);
}

#[tokio::test]
async fn only_the_person_themselves_with_a_token_acs_accepts_subscribes_or_unsubscribes_them() {
    let p = pushing("full").await;
    let (alice, bob) = p.app.users().await;
    let device = p.service.subscribe().await;
    let as_bob = |token: Option<&str>| {
        post(
            json!({"user_id": bob.id, "subscription": device.subscription}),
            token,
        )
    };
    let stranger = p.app.call(Function::PushSubscribe, as_bob(None)).await;
    assert_error(&stranger, 401, "missing_token");
    let alice_for_bob = p
        .app
        .call(Function::PushSubscribe, as_bob(Some(&alice.token)))
        .await;
    assert_error(&alice_for_bob, 403, "token_user_mismatch");
    let forged = format!("{}x", bob.token);
    let forger = p
        .app
        .call(Function::PushSubscribe, as_bob(Some(&forged)))
        .await;
    assert_eq!(forger.status, 401, "{:?}", forger.body);
    assert_eq!(p.kept_subscriptions().await, 0);

    let phone = p.device(&bob).await;
    let endpoint = phone.subscription["endpoint"].clone();
    let unsubscribe = |token: &str| {
        post(
            json!({"user_id": bob.id, "endpoint": endpoint}),
            Some(token),
        )
    };
    let by_alice = p
        .app
        .call(Function::PushUnsubscribe, unsubscribe(&alice.token))
        .await;
    assert_error(&by_alice, 403, "token_user_mismatch");
    let by_forger = p
        .app
        .call(Function::PushUnsubscribe, unsubscribe(&forged))
        .await;
    assert_eq!(by_forger.status, 401);
    assert_eq!(p.kept_subscriptions().await, 1);
    let by_bob = p
        .app
        .call(Function::PushUnsubscribe, unsubscribe(&bob.token))
        .await;
    assert_eq!(by_bob.body, json!({"unsubscribed": true}));
    let again = p
        .app
        .call(Function::PushUnsubscribe, unsubscribe(&bob.token))
        .await;
    assert_eq!(again.body, json!({"unsubscribed": false}));

    let thread = p.app.thread(&alice, &bob).await;
    p.app.send(&thread, &alice, "nobody to push to").await;
    let mark = p.device(&alice).await;
    p.app.send(&thread, &bob, "back to alice").await;
    p.service.await_received(&mark, 1).await;
    assert!(p.service.received(&phone).await.is_empty(), "unsubscribed");
}

#[tokio::test]
async fn a_person_keeps_a_bounded_number_of_subscriptions_the_newest_replacing_the_oldest() {
    let p = pushing("full").await;
    let (alice, bob) = p.app.users().await;
    let first = p.device(&bob).await;
    for _ in 1..MAX_PER_PERSON {
        p.device(&bob).await;
    }
    assert_eq!(p.kept_subscriptions().await, MAX_PER_PERSON);
    let newest = p.device(&bob).await;
    assert_eq!(p.kept_subscriptions().await, MAX_PER_PERSON);
    let again = p.subscribe(&bob, &newest).await;
    assert_eq!(
        again.body["replaced"], 0,
        "the same endpoint again is one subscription"
    );
    let thread = p.app.thread(&alice, &bob).await;
    p.app.send(&thread, &alice, "to the newest ten").await;
    assert_eq!(p.service.await_received(&newest, 1).await.len(), 1);
    assert!(
        p.service.received(&first).await.is_empty(),
        "the oldest was replaced"
    );
}

#[tokio::test]
async fn twenty_devices_subscribing_at_once_leave_no_more_than_the_cap() {
    let p = pushing("full").await;
    let (alice, _) = p.app.users().await;
    let mut devices = Vec::new();
    for _ in 0..2 * MAX_PER_PERSON {
        devices.push(p.service.subscribe().await);
    }
    let answers = futures_util::future::join_all(devices.iter().map(|device| {
        p.app.call(
            Function::PushSubscribe,
            subscribe_request(&alice, &device.subscription),
        )
    }))
    .await;
    for answer in &answers {
        match answer.status {
            200 => assert!(answer.body["subscriptions"].as_u64().unwrap() <= MAX_PER_PERSON as u64),
            _ => assert_error(answer, 429, "throttled"),
        }
    }
    let taken = answers.iter().filter(|answer| answer.status == 200).count();
    println!(
        "{taken} of {} taken at once, the rest told to try again",
        answers.len()
    );
    assert!(taken >= MAX_PER_PERSON, "only {taken} taken");
    assert_eq!(p.kept_subscriptions().await, MAX_PER_PERSON);
}

#[tokio::test]
async fn a_removed_member_s_devices_get_nothing_more_of_the_thread() {
    let p = pushing("full").await;
    let (alice, bob) = p.app.users().await;
    let thread = p.app.thread(&alice, &bob).await;
    let phone = p.device(&bob).await;
    p.app.send(&thread, &alice, "before").await;
    assert_eq!(
        texts(&p.service.await_received(&phone, 1).await),
        ["before"]
    );
    let remove = json!({"thread_id": thread, "user_id": alice.id, "remove_user_id": bob.id});
    let answer = p
        .app
        .call(Function::RemoveUser, post(remove, Some(&alice.token)))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    p.app.send(&thread, &alice, "after bob left").await;
    // A thread Bob is still in, written to after: when its push arrives, any other would have.
    let other = p.app.thread(&alice, &bob).await;
    p.app.send(&other, &alice, "elsewhere").await;
    assert_eq!(
        texts(&p.service.await_received(&phone, 2).await),
        ["before", "elsewhere"]
    );
}

#[tokio::test]
async fn deleting_a_person_forgets_their_devices() {
    let p = pushing("full").await;
    let (_, bob) = p.app.users().await;
    p.device(&bob).await;
    p.device(&bob).await;
    assert_eq!(p.kept_subscriptions().await, 2);
    let answer = p
        .app
        .call(
            Function::DeleteUser,
            post(json!({"user_id": bob.id}), Some(&bob.token)),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(p.kept_subscriptions().await, 0);
}
