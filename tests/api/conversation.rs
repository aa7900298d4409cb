use acs_chat_api::api::Function;
use serde_json::json;

use acs_emulator::{ANY, Route};
use support::{get, post, spawn_app, spawn_conversation, texts};

#[tokio::test]
async fn create_users_returns_two_distinct_users_with_tokens_and_expiry_in_one_round_trip() {
    let app = spawn_app().await;
    let answer = app
        .call(Function::CreateUsers, post(json!(null), None))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let body = &answer.body;
    for field in [
        "user1_id",
        "user2_id",
        "user1_token",
        "user2_token",
        "expires_on",
    ] {
        assert!(
            body[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field}: {body}"
        );
    }
    assert_ne!(body["user1_id"], body["user2_id"]);
    let expires = time::OffsetDateTime::parse(
        body["expires_on"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let minutes = (expires - time::OffsetDateTime::now_utc()).whole_minutes();
    assert!((58..=60).contains(&minutes), "{minutes}");
    assert_eq!(
        app.count(Route::CreateIdentity),
        2,
        "two identities, made in parallel"
    );
}

#[tokio::test]
async fn two_users_chat_and_each_sees_the_whole_history_oldest_first() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    app.send(&thread, &alice, "Hello, World!").await;
    app.send(&thread, &bob, "Hi!").await;
    app.send(&thread, &alice, "How are you?").await;

    let answer = app
        .call(
            Function::GetAllMessages,
            get(
                &[("thread_id", &thread), ("user_id", &bob.id)],
                Some(&bob.token),
            ),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(
        texts(&answer.body),
        ["Hello, World!", "Hi!", "How are you?"]
    );
    let first = &answer.body["messages"][0];
    assert_eq!(first["sender"], json!(alice.id));
    assert!(
        first["created_on"].as_str().unwrap().ends_with('Z'),
        "{first}"
    );
    assert!(
        first["sequence_id"].is_u64() && first["id"].is_string(),
        "{first}"
    );
}

#[tokio::test]
async fn get_messages_returns_only_what_others_wrote_since_the_last_fetch() {
    let (app, alice, bob, thread) = spawn_conversation().await;

    assert_eq!(app.fetch(&thread, &bob, None).await.0, Vec::<String>::new());
    app.send(&thread, &alice, "one").await;
    app.send(&thread, &alice, "two").await;
    app.send(&thread, &bob, "mine").await;
    assert_eq!(app.fetch(&thread, &bob, None).await.0, ["one", "two"]);
    assert_eq!(app.fetch(&thread, &bob, None).await.0, Vec::<String>::new());
    app.send(&thread, &alice, "three").await;
    assert_eq!(app.fetch(&thread, &bob, None).await.0, ["three"]);
    // Alice's cursor is her own: she has fetched nothing yet.
    assert_eq!(app.fetch(&thread, &alice, None).await.0, ["mine"]);
}

#[tokio::test]
async fn get_messages_takes_two_sequential_round_trips_when_there_is_news() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    app.send(&thread, &alice, "news").await;
    app.emulator.faults().reset_counts();
    app.fetch(&thread, &bob, None).await;
    let counts = app.emulator.faults().counts();
    assert_eq!(
        counts.get(Route::ListReadReceipts { thread_id: ANY }.label()),
        Some(&1)
    );
    assert_eq!(
        counts.get(Route::ListMessages { thread_id: ANY }.label()),
        Some(&1)
    );
    assert_eq!(
        counts.get(Route::SendReadReceipt { thread_id: ANY }.label()),
        Some(&1)
    );
    // The participants, whose names the messages are shown with, beside the first two.
    assert_eq!(
        counts.get(Route::ListParticipants { thread_id: ANY }.label()),
        Some(&1)
    );
    assert_eq!(counts.values().sum::<u64>(), 4, "{counts:?}");
}

#[tokio::test]
async fn since_is_a_stateless_cursor_that_next_since_advances() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    let (none, start) = app.fetch(&thread, &bob, Some(0)).await;
    assert!(none.is_empty());
    app.send(&thread, &alice, "a").await;
    app.send(&thread, &alice, "b").await;
    let (news, next) = app.fetch(&thread, &bob, Some(start)).await;
    assert_eq!(news, ["a", "b"]);
    assert!(next > start);
    let (again, same) = app.fetch(&thread, &bob, Some(next)).await;
    assert!(again.is_empty());
    assert_eq!(same, next);
    // The stateless cursor leaves the receipt cursor alone.
    assert_eq!(app.fetch(&thread, &bob, None).await.0, ["a", "b"]);
    assert_eq!(app.count(Route::SendReadReceipt { thread_id: ANY }), 1);
}

#[tokio::test]
async fn get_all_messages_follows_every_page_of_a_long_thread() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    for i in 0..205 {
        app.send(
            &thread,
            if i % 2 == 0 { &alice } else { &bob },
            &format!("m{i}"),
        )
        .await;
    }
    app.emulator.faults().reset_counts();
    let answer = app
        .call(
            Function::GetAllMessages,
            get(
                &[("thread_id", &thread), ("user_id", &alice.id)],
                Some(&alice.token),
            ),
        )
        .await;
    let all = texts(&answer.body);
    assert_eq!(all.len(), 205);
    assert_eq!((all[0].as_str(), all[204].as_str()), ("m0", "m204"));
    assert_eq!(
        app.count(Route::ListMessages { thread_id: ANY }),
        2,
        "one round trip per 200"
    );

    let (news, _) = app.fetch(&thread, &bob, None).await;
    assert_eq!(news.len(), 103, "every message alice sent, across pages");
}

#[tokio::test]
async fn an_idempotency_key_makes_a_retried_create_thread_return_the_same_thread() {
    let app = spawn_app().await;
    let (alice, _) = app.users().await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let mut request = post(
            json!({"user1_id": alice.id, "topic": "plans"}),
            Some(&alice.token),
        );
        request
            .headers_mut()
            .insert("idempotency-key", "create-1".parse().unwrap());
        let answer = app.call(Function::CreateThread, request).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        ids.push(answer.body["thread_id"].clone());
    }
    assert_eq!(ids[0], ids[1]);
}

#[tokio::test]
async fn create_users_makes_both_identities_in_one_round_trip() {
    let app = spawn_app().await;
    app.users().await; // the secret is fetched on first use; measure a warm call
    for _ in 0..20 {
        let (response, timing, _) = Function::CreateUsers
            .handle(&app.state, post(json!(null), None))
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            (timing.upstream.rounds, timing.upstream.attempts),
            (1, 2),
            "{timing:?}"
        );
    }
}
