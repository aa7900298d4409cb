//! A conversation against a real ACS resource, through the core and the handlers. Runs only when
//! `ACS_LIVE_CONNECTION_STRING` is set; otherwise it says it was skipped.
// Helpers outside #[test] functions panic on purpose: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use acs_chat_api::acs::Scope;
use acs_chat_api::acs::chat::{ChatParticipant, MessageKind, SendMessage, ThreadProperties};
use acs_chat_api::acs::{AcsHttp, ChatClient, ConnectionString, IdentityClient, RetryPolicy};
use acs_chat_api::api::{AppState, Function};
use acs_chat_api::config::Config;

fn live_connection_string() -> Option<ConnectionString> {
    match std::env::var("ACS_LIVE_CONNECTION_STRING") {
        Ok(raw) if !raw.trim().is_empty() => {
            Some(ConnectionString::parse(&raw).expect("a valid connection string"))
        }
        _ => {
            eprintln!("skipped: set ACS_LIVE_CONNECTION_STRING to run the live ACS test");
            None
        }
    }
}

async fn texts(
    state: &AppState,
    function: Function,
    thread: &str,
    user: &str,
    token: &str,
) -> Vec<String> {
    let request = support::get(&[("thread_id", thread), ("user_id", user)], Some(token));
    let answer = support::app::serve(state, function, request).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    support::texts(&answer.body)
}

#[tokio::test]
async fn a_conversation_against_real_acs() {
    let Some(connection) = live_connection_string() else {
        return;
    };
    let http = AcsHttp::new(RetryPolicy::default()).unwrap();
    let identity = IdentityClient::new(http.clone(), &connection);
    let chat = ChatClient::new(http, connection.endpoint().clone());
    let alice = identity
        .create_user_with_token(&[Scope::Chat], Some(60))
        .await
        .unwrap();
    let bob = identity
        .create_user_with_token(&[Scope::Chat], Some(60))
        .await
        .unwrap();
    let thread = chat
        .create_thread(
            &alice.token.token,
            "acs-chat-api live test",
            &[],
            &uuid::Uuid::new_v4().to_string(),
            &ThreadProperties::default(),
        )
        .await
        .unwrap()
        .id;
    let invalid = chat
        .add_participants(
            &alice.token.token,
            &thread,
            &[ChatParticipant::user(&bob.user_id, None)],
        )
        .await
        .unwrap();
    assert!(invalid.is_empty(), "{invalid:?}");
    let text = |content| SendMessage {
        content,
        sender_display_name: None,
        kind: MessageKind::Text,
        metadata: Default::default(),
    };
    let own = chat
        .send_message(&alice.token.token, &thread, &text("hello from alice"))
        .await
        .unwrap();

    // Open question: does ACS accept a read receipt for the caller's own message?
    let own_receipt = chat
        .send_read_receipt(&alice.token.token, &thread, &own)
        .await;
    eprintln!("ACS answer to a read receipt for the caller's own message: {own_receipt:?}");

    let endpoint = connection.endpoint().to_string();
    let config = Config::from_lookup(|name| (name == "ACS_ENDPOINT").then(|| endpoint.clone()));
    let state = AppState::init(Function::GetMessages.spec().needs, config.unwrap()).unwrap();
    let (thread_id, bob_id, bob_token) = (
        thread.as_str(),
        bob.user_id.as_str(),
        bob.token.token.expose(),
    );
    let bob_reads = async |function| texts(&state, function, thread_id, bob_id, bob_token).await;
    assert_eq!(bob_reads(Function::GetMessages).await, ["hello from alice"]);
    assert!(bob_reads(Function::GetMessages).await.is_empty());
    chat.send_message(&alice.token.token, &thread, &text("second"))
        .await
        .unwrap();
    assert_eq!(bob_reads(Function::GetMessages).await, ["second"]);
    assert_eq!(
        bob_reads(Function::GetAllMessages).await,
        ["hello from alice", "second"]
    );

    for user in [&alice.user_id, &bob.user_id] {
        identity.delete_user(user).await.unwrap();
    }
}
