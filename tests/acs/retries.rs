use std::time::Duration;

use acs_chat_api::acs::AcsError;
use acs_chat_api::acs::Scope;
use acs_chat_api::acs::chat::{MessageKind, SendMessage};
use acs_emulator::{ANY, Fault, FaultKind, Route};

use crate::helpers::spawn_acs;

const MESSAGES: Route = Route::ListMessages { thread_id: ANY };
const SEND: Route = Route::SendMessage { thread_id: ANY };

fn hello() -> SendMessage<'static> {
    SendMessage {
        content: "hello",
        sender_display_name: None,
        kind: MessageKind::Text,
        metadata: Default::default(),
    }
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_and_retried_even_for_a_send() {
    let acs = spawn_acs().await;
    let alice = acs.user().await;
    let thread = acs.thread(&alice, &[]).await;
    acs.emulator
        .faults()
        .add(Fault::next(FaultKind::status(429, Some(0)), 1).on(SEND));
    acs.chat
        .send_message(&alice.token, &thread, &hello())
        .await
        .unwrap();
    assert_eq!(acs.count(SEND), 2);
}

#[tokio::test]
async fn server_errors_are_retried_for_reads_but_not_for_sends() {
    let acs = spawn_acs().await;
    let alice = acs.user().await;
    let thread = acs.thread(&alice, &[]).await;

    acs.emulator
        .faults()
        .add(Fault::next(FaultKind::status(503, None), 2).on(MESSAGES));
    acs.chat
        .list_all_messages(&alice.token, &thread)
        .await
        .unwrap();
    assert_eq!(acs.count(MESSAGES), 3);

    acs.emulator
        .faults()
        .add(Fault::next(FaultKind::status(500, None), 1).on(SEND));
    let error = acs
        .chat
        .send_message(&alice.token, &thread, &hello())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, AcsError::Upstream(e) if e.status == 500),
        "{error:?}"
    );
    assert_eq!(acs.count(SEND), 1);
}

#[tokio::test]
async fn creating_an_identity_is_not_retried_on_a_server_error() {
    let acs = spawn_acs().await;
    acs.emulator
        .faults()
        .add(Fault::next(FaultKind::status(503, None), 1).on(Route::CreateIdentity));
    let error = acs
        .identity
        .create_user_with_token(&[Scope::Chat], None)
        .await
        .unwrap_err();
    assert!(matches!(error, AcsError::Upstream(_)), "{error:?}");
    assert_eq!(acs.count(Route::CreateIdentity), 1);
}

#[tokio::test]
async fn a_dropped_connection_is_retried_for_a_read() {
    let acs = spawn_acs().await;
    let alice = acs.user().await;
    let thread = acs.thread(&alice, &[]).await;
    acs.emulator
        .faults()
        .add(Fault::next(FaultKind::Drop, 1).on(MESSAGES));
    let messages = acs
        .chat
        .list_all_messages(&alice.token, &thread)
        .await
        .unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(acs.count(MESSAGES), 2);
}

#[tokio::test]
async fn throttling_that_outlasts_the_retries_surfaces_with_its_retry_after() {
    let acs = spawn_acs().await;
    let alice = acs.user().await;
    let thread = acs.thread(&alice, &[]).await;
    acs.emulator
        .faults()
        .add(Fault::next(FaultKind::status(429, Some(30)), 5).on(MESSAGES));
    let error = acs
        .chat
        .list_all_messages(&alice.token, &thread)
        .await
        .unwrap_err();
    match error {
        AcsError::Throttled { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::from_secs(30)))
        }
        other => panic!("expected Throttled, got {other:?}"),
    }
    assert_eq!(
        acs.count(MESSAGES),
        1,
        "a wait longer than the budget is not waited"
    );
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_a_timeout_after_retries() {
    let acs = spawn_acs().await;
    let alice = acs.user().await;
    let thread = acs.thread(&alice, &[]).await;
    acs.emulator
        .faults()
        .add(Fault::next(FaultKind::Latency { millis: 800 }, 3).on(MESSAGES));
    let error = acs
        .chat
        .list_all_messages(&alice.token, &thread)
        .await
        .unwrap_err();
    assert!(matches!(error, AcsError::Timeout), "{error:?}");
    assert_eq!(acs.count(MESSAGES), 3);
}
