//! The original app's unauthenticated behaviour, switched on by `ACS_AUTH_MODE=trusted`.

use acs_chat_api::api::Function;
use acs_chat_api::config::AuthMode;
use serde_json::json;

use acs_emulator::{ANY, Route};
use support::{TestApp, assert_error, get, post, spawn_app_with, texts};

async fn trusted_app() -> TestApp {
    // The service identity is made first, so the secret can name it as a deployment would.
    let app = spawn_app_with(AuthMode::Trusted, |_| {}).await;
    let service = app.outsider().await;
    app.secrets
        .put_secret_value()
        .secret_id(&app.secret_id)
        .secret_string(
            json!({"connectionString": app.emulator.connection_string().expose(), "serviceUserId": service.id})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    app
}

#[tokio::test]
async fn the_original_readme_flow_works_without_any_header() {
    let app = trusted_app().await;
    let users = app
        .call(Function::CreateUsers, post(json!(null), None))
        .await;
    let user1 = users.body["user1_id"].as_str().unwrap().to_owned();
    let user2 = users.body["user2_id"].as_str().unwrap().to_owned();

    let created = app
        .call(
            Function::CreateThread,
            post(json!({"user1_id": user1}), None),
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let thread = created.body["thread_id"].as_str().unwrap().to_owned();

    let added = app
        .call(
            Function::AddUser,
            post(json!({"thread_id": thread, "user2_id": user2}), None),
        )
        .await;
    assert_eq!(added.body, json!({"message": "User added successfully"}));

    for (user, text) in [(&user1, "Hello, World!"), (&user2, "Hi!")] {
        let sent = app
            .call(
                Function::SendMessage,
                post(
                    json!({"thread_id": thread, "user_id": user, "message": text}),
                    None,
                ),
            )
            .await;
        assert_eq!(
            sent.body["message"], "Message sent successfully",
            "{:?}",
            sent.body
        );
    }
    let new = app
        .call(
            Function::GetMessages,
            get(&[("thread_id", &thread), ("user_id", &user1)], None),
        )
        .await;
    assert_eq!(texts(&new.body), ["Hi!"]);
    let all = app
        .call(
            Function::GetAllMessages,
            get(&[("thread_id", &thread), ("user_id", &user1)], None),
        )
        .await;
    assert_eq!(texts(&all.body), ["Hello, World!", "Hi!"]);
}

#[tokio::test]
async fn trusted_mode_still_checks_a_token_when_one_is_sent() {
    let app = trusted_app().await;
    let (alice, bob) = app.users().await;
    let answer = app
        .call(
            Function::CreateThread,
            post(json!({"user1_id": alice.id}), Some(&bob.token)),
        )
        .await;
    assert_error(&answer, 403, "token_user_mismatch");
}

#[tokio::test]
async fn trusted_add_user_without_a_service_identity_needs_the_acting_user() {
    let app = spawn_app_with(AuthMode::Trusted, |_| {}).await;
    let (alice, bob) = app.users().await;
    let thread = app
        .call(
            Function::CreateThread,
            post(json!({"user1_id": alice.id}), None),
        )
        .await;
    let thread = thread.body["thread_id"].as_str().unwrap().to_owned();
    let answer = app
        .call(
            Function::AddUser,
            post(json!({"thread_id": thread, "user2_id": bob.id}), None),
        )
        .await;
    assert_error(&answer, 400, "acting_user_required");
    let answer = app
        .call(
            Function::AddUser,
            post(
                json!({"thread_id": thread, "user2_id": bob.id, "user1_id": alice.id}),
                None,
            ),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

#[tokio::test]
async fn token_mode_never_mints_tokens() {
    let app = spawn_app_with(AuthMode::Token, |_| {}).await;
    let (alice, _) = app.users().await;
    let answer = app
        .call(
            Function::CreateThread,
            post(json!({"user1_id": alice.id}), None),
        )
        .await;
    assert_error(&answer, 401, "missing_token");
    assert_eq!(app.count(Route::IssueToken { user_id: ANY }), 0);
}

#[tokio::test]
async fn trusted_mode_mints_one_token_per_user_per_container_and_reuses_it() {
    let app = trusted_app().await;
    let (alice, _) = app.users().await;
    for _ in 0..3 {
        let created = app
            .call(
                Function::CreateThread,
                post(json!({"user1_id": alice.id}), None),
            )
            .await;
        assert_eq!(created.status, 200, "{:?}", created.body);
    }
    assert_eq!(app.count(Route::IssueToken { user_id: ANY }), 1);
}

#[tokio::test]
async fn trusted_mode_refuses_a_header_less_refresh_or_delete_and_mints_nothing_for_them() {
    let app = trusted_app().await;
    let (alice, _) = app.users().await;
    app.emulator.faults().reset_counts();
    for (function, body) in [
        (
            Function::RefreshToken,
            json!({"user_id": alice.id, "session": alice.session}),
        ),
        (Function::DeleteUser, json!({"user_id": alice.id})),
    ] {
        let answer = app.call(function, post(body, None)).await;
        assert_error(&answer, 401, "missing_token");
        assert!(!answer.body.to_string().contains("eyJ"), "no token");
    }
    assert!(
        app.emulator.faults().counts().is_empty(),
        "no token minted, nothing deleted"
    );
    let still = app
        .call(
            Function::CreateThread,
            post(json!({"user1_id": alice.id}), Some(&alice.token)),
        )
        .await;
    assert_eq!(still.status, 200, "alice is still there: {:?}", still.body);
}
