//! `send_message` stores each message once, whatever is lost on the way and however often the
//! client retries.

use acs_chat_api::api::Function;
use acs_emulator::{ANY, Fault, FaultKind, Route};

use support::{assert_error, send_request, spawn_conversation};

const SEND: Route = Route::SendMessage { thread_id: ANY };
const LIST: Route = Route::ListMessages { thread_id: ANY };

#[tokio::test]
async fn a_send_whose_answer_is_lost_after_acs_stored_it_is_stored_once() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    app.emulator
        .faults()
        .add(Fault::next(FaultKind::CommitThenDrop, 1).on(SEND));
    let id = app.send(&thread, &alice, "only once").await;
    assert_eq!(app.live_texts(&thread, &bob).await, ["only once"]);
    assert_eq!(app.count(SEND), 1, "found by its key, not sent again");
    let history = app.raw_history(&thread, &bob).await;
    assert!(history.iter().any(|m| m.id.as_str() == id), "{id}");
}

#[tokio::test]
async fn a_send_that_failed_before_acs_stored_it_is_sent_again() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    app.emulator
        .faults()
        .add(Fault::next(FaultKind::Drop, 1).on(SEND));
    app.send(&thread, &alice, "second try").await;
    assert_eq!(app.live_texts(&thread, &bob).await, ["second try"]);
    assert_eq!(app.count(SEND), 2);
}

#[tokio::test]
async fn a_client_retry_with_the_same_key_returns_the_same_id_and_sends_nothing() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    let first = app
        .call(
            Function::SendMessage,
            send_request(&thread, &alice, "hello", Some("client-key-1")),
        )
        .await;
    let retry = app
        .call(
            Function::SendMessage,
            send_request(&thread, &alice, "hello", Some("client-key-1")),
        )
        .await;
    assert_eq!((first.status, retry.status), (200, 200), "{:?}", retry.body);
    assert_eq!(first.body["message_id"], retry.body["message_id"]);
    assert_eq!(app.count(SEND), 1, "the retry sent nothing");
    assert_eq!(app.live_texts(&thread, &bob).await, ["hello"]);

    let other = app
        .call(
            Function::SendMessage,
            send_request(&thread, &alice, "hello", Some("client-key-2")),
        )
        .await;
    assert_ne!(other.body["message_id"], first.body["message_id"]);
    assert_eq!(app.live_texts(&thread, &bob).await, ["hello", "hello"]);
}

#[tokio::test]
async fn two_requests_with_the_same_key_at_once_leave_one_message_and_one_id() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    // Both sends are in flight together, so neither sees the other before sending.
    app.emulator
        .faults()
        .add(Fault::next(FaultKind::Latency { millis: 150 }, 2).on(SEND));
    let (a, b) = tokio::join!(
        app.call(
            Function::SendMessage,
            send_request(&thread, &alice, "at once", Some("same-key")),
        ),
        app.call(
            Function::SendMessage,
            send_request(&thread, &alice, "at once", Some("same-key")),
        ),
    );
    assert_eq!(
        (a.status, b.status),
        (200, 200),
        "{:?} {:?}",
        a.body,
        b.body
    );
    assert_eq!(a.body["message_id"], b.body["message_id"]);
    assert_eq!(app.count(SEND), 2, "both were sent");
    assert_eq!(app.live_texts(&thread, &bob).await, ["at once"]);
    let deleted = app
        .raw_history(&thread, &bob)
        .await
        .iter()
        .filter(|m| m.deleted_on.is_some())
        .count();
    assert_eq!(deleted, 1, "the later one was deleted");
}

#[tokio::test]
async fn a_send_costs_one_round_trip_and_a_client_key_adds_a_look_before_and_after() {
    let (app, alice, _, thread) = spawn_conversation().await;
    let rounds = async |key| {
        let request = send_request(&thread, &alice, "counted", key);
        let (response, timing, _) = Function::SendMessage.handle(&app.state, request).await;
        assert_eq!(response.status(), 200);
        timing.upstream.rounds
    };
    app.emulator.faults().reset_counts();
    assert_eq!(rounds(None).await, 1);
    assert_eq!(app.count(LIST), 0, "no look in the happy path");
    assert_eq!(rounds(Some("k")).await, 3);
}

#[tokio::test]
async fn a_server_error_on_every_send_is_502_and_stores_nothing() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    let failure = FaultKind::status(500, None);
    app.emulator.faults().add(Fault::next(failure, 3).on(SEND));
    let answer = app
        .call(
            Function::SendMessage,
            send_request(&thread, &alice, "lost?", None),
        )
        .await;
    assert_error(&answer, 502, "upstream_error");
    assert_eq!(
        app.count(SEND),
        3,
        "sent while the key was not found, up to three times"
    );
    assert!(app.live_texts(&thread, &bob).await.is_empty());
}
