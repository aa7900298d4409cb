use acs_chat_api::api::Function;
use acs_chat_api::config::AuthMode;
use acs_emulator::{ANY, Fault, FaultKind, Route};
use serde_json::json;

use support::app::{Setup, serve};
use support::{assert_error, post, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_missing_secret_is_503_and_says_nothing_of_why() {
    let app = spawn_app().await;
    let state = app.state_with(&Setup {
        secret_id: "no-such-secret".into(),
        ..app.setup.clone()
    });
    let answer = serve(&state, Function::CreateUsers, post(json!(null), None)).await;
    assert_error(&answer, 503, "secret_unavailable");
    assert!(
        !answer.body.to_string().contains("no-such-secret"),
        "{:?}",
        answer.body
    );
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_when_acs_refuses_the_cached_one() {
    let app = spawn_app_with(AuthMode::Token, |secret| {
        secret["connectionString"] = json!(format!(
            "{};accesskey=b2xkIGtleQ==",
            secret["connectionString"]
                .as_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
        ));
    })
    .await;
    // The function caches the old key on first use; ACS refuses it both times.
    assert_error(
        &app.call(Function::CreateUsers, post(json!(null), None))
            .await,
        502,
        "upstream_error",
    );

    app.store_connection_string().await;
    let answer = app
        .call(Function::CreateUsers, post(json!(null), None))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

#[tokio::test]
async fn the_secret_is_fetched_once_per_container() {
    let app = spawn_app().await;
    app.users().await;
    // Deleting the secret shows later calls are served from memory.
    app.secrets
        .delete_secret()
        .secret_id(&app.secret_id)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    app.users().await;
}

#[tokio::test]
async fn when_one_of_the_two_identities_fails_the_other_is_deleted() {
    let app = spawn_app().await;
    app.emulator
        .faults()
        .add(Fault::next(FaultKind::status(500, None), 1).on(Route::CreateIdentity));
    let answer = app
        .call(Function::CreateUsers, post(json!(null), None))
        .await;
    assert_error(&answer, 502, "upstream_error");
    assert_eq!(
        app.count(Route::CreateIdentity),
        2,
        "no retry could double an identity"
    );
    assert_eq!(app.count(Route::DeleteIdentity { user_id: ANY }), 1);
}
