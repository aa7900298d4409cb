//! Sealed sessions (the default, `CLIENT_TOKENS=sealed`): what each credential a client holds
//! can and cannot do, against the API and straight at the emulator's ACS.

use acs_chat_api::api::Function;
use acs_chat_api::seal::{PREFIX, Sealed, parse_keys};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};

use support::app::{SEAL_KEY, seal_keys, serve};
use support::{TestApp, User, assert_error, get, post, spawn_app, spawn_conversation};

/// Every chat route of ACS the emulator serves, with a body that would do harm if accepted.
fn acs_routes(thread: &str, victim: &str) -> Vec<(Method, String, Value)> {
    let t = format!("chat/threads/{thread}");
    let someone =
        json!({"communicationIdentifier": {"rawId": victim, "communicationUser": {"id": victim}}});
    vec![
        (Method::GET, "chat/threads".into(), Value::Null),
        (
            Method::POST,
            "chat/threads".into(),
            json!({"topic": "mine", "participants": [{"communicationIdentifier": {"rawId": victim, "communicationUser": {"id": victim}}}]}),
        ),
        (Method::GET, t.clone(), Value::Null),
        (
            Method::PATCH,
            t.clone(),
            json!({"topic": "renamed by a member"}),
        ),
        (Method::GET, format!("{t}/messages"), Value::Null),
        (
            Method::POST,
            format!("{t}/messages"),
            json!({"content": "as anyone", "senderDisplayName": "Your Bank", "metadata": {"attachments": "[]"}}),
        ),
        (Method::GET, format!("{t}/participants"), Value::Null),
        (
            Method::POST,
            format!("{t}/participants/:add"),
            json!({"participants": [someone.clone()]}),
        ),
        (
            Method::POST,
            format!("{t}/participants/:remove"),
            someone["communicationIdentifier"].clone(),
        ),
        (Method::GET, format!("{t}/readReceipts"), Value::Null),
        (
            Method::POST,
            format!("{t}/readReceipts"),
            json!({"chatMessageId": "1"}),
        ),
        (Method::POST, format!("{t}/typing"), json!({})),
        (Method::DELETE, t, Value::Null),
    ]
}

/// Calls every ACS chat route with `token` as the bearer; the statuses ACS answered.
async fn try_every_route(app: &TestApp, token: &str, thread: &str, victim: &str) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut answered = Vec::new();
    for (method, path, body) in acs_routes(thread, victim) {
        let version = if path == "chat/threads" && method == Method::POST {
            "2025-03-15"
        } else {
            "2024-03-07"
        };
        let url = format!("{}{path}?api-version={version}", app.emulator.endpoint());
        let mut request = http.request(method.clone(), url).bearer_auth(token);
        if !body.is_null() {
            request = request.json(&body);
        }
        let status = request.send().await.unwrap().status();
        answered.push(format!("{method} {path}: {}", status.as_u16()));
    }
    answered
}

/// Every string in any answer a client got: tokens, sessions, ids.
fn strings_in(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(text) => found.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|item| strings_in(item, found)),
        Value::Object(fields) => fields.values().for_each(|item| strings_in(item, found)),
        _ => {}
    }
}

#[tokio::test]
async fn nothing_any_answer_gave_a_client_is_accepted_by_any_acs_route() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    let mut answers = Vec::new();
    answers.push(
        app.call(Function::CreateUsers, post(json!(null), None))
            .await,
    );
    let body = json!({"user_id": alice.id, "session": alice.session});
    answers.push(
        app.call(Function::RefreshToken, post(body, Some(&alice.token)))
            .await,
    );
    let query = [("user_id", alice.id.as_str())];
    answers.push(
        app.call(Function::ListThreads, get(&query, Some(&alice.token)))
            .await,
    );
    let mut held = vec![
        alice.token.clone(),
        alice.session.clone(),
        bob.token.clone(),
    ];
    for answer in &answers {
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        strings_in(&answer.body, &mut held);
    }
    let seals = held.iter().filter(|s| s.starts_with(PREFIX)).count();
    assert!(seals >= 5, "the tokens handed out are seals: {held:?}");
    for credential in &held {
        for answered in try_every_route(&app, credential, &thread, &bob.id).await {
            assert!(answered.ends_with(": 401"), "{answered}");
        }
    }
    // And the thread is as it was: nobody renamed, emptied or deleted it.
    let participants = get(
        &[("thread_id", thread.as_str()), ("user_id", bob.id.as_str())],
        Some(&bob.token),
    );
    let listed = app.call(Function::GetParticipants, participants).await;
    assert_eq!(listed.body["participants"].as_array().unwrap().len(), 2);
}

/// `user`'s seal with the byte at `at` of its sealed bytes flipped.
fn flipped(user: &User, at: usize) -> String {
    let sealed_from = user.token.rfind('.').unwrap() + 1;
    let mut bytes = URL_SAFE_NO_PAD.decode(&user.token[sealed_from..]).unwrap();
    bytes[at] ^= 0x40;
    format!(
        "{}{}",
        &user.token[..sealed_from],
        URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// A seal as another deployment (its own key, or our key for another ACS resource) makes.
fn sealed_elsewhere(app: &TestApp, user: &User, key: &str, audience: &str) -> String {
    let mut inside: Sealed = {
        let now = time::OffsetDateTime::now_utc();
        seal_keys().open(&user.token, &app.audience(), now).unwrap()
    };
    inside.audience = audience.to_owned();
    parse_keys(key).unwrap().seal(&inside)
}

#[tokio::test]
async fn an_altered_foreign_or_raw_token_is_a_clear_401_before_any_acs_call() {
    let (app, alice, _bob, thread) = spawn_conversation().await;
    let audience = app.audience();
    let raw_acs = app.acs_token(&alice).expose().to_owned();
    let cases = [
        (flipped(&alice, 0), "seal_key_unknown"),
        (flipped(&alice, 20), "invalid_token"),
        (flipped(&alice, 60), "invalid_token"),
        (
            alice.token[..alice.token.len() - 4].to_owned(),
            "invalid_token",
        ),
        (alice.token[..40].to_owned(), "invalid_token"),
        (
            sealed_elsewhere(
                &app,
                &alice,
                "another-deployment-key-0123456789abcdef",
                &audience,
            ),
            "seal_key_unknown",
        ),
        (
            sealed_elsewhere(
                &app,
                &alice,
                SEAL_KEY,
                "https://other.communication.azure.com/",
            ),
            "seal_wrong_audience",
        ),
        // A valid ACS token of her own: this deployment takes only what it handed out.
        (raw_acs, "invalid_token"),
        (
            app.minted(&alice.id, time::Duration::seconds(-1)),
            "token_expired",
        ),
    ];
    app.emulator.faults().reset_counts();
    for (token, code) in &cases {
        let body = json!({"thread_id": thread, "user_id": alice.id, "message": "x"});
        let answer = app
            .call(Function::SendMessage, post(body, Some(token)))
            .await;
        assert_error(&answer, 401, code);
        assert!(
            !answer
                .body
                .to_string()
                .contains(&token[PREFIX.len().min(token.len())..])
        );
    }
    assert!(
        app.emulator.faults().counts().is_empty(),
        "no ACS call was made"
    );
}

#[tokio::test]
async fn a_refreshed_seal_keeps_its_session_and_the_old_one_lasts_only_as_long_as_its_token() {
    let app = spawn_app().await;
    let (alice, _) = app.users().await;
    let body = json!({"user_id": alice.id, "session": alice.session});
    let refreshed = app
        .call(Function::RefreshToken, post(body, Some(&alice.token)))
        .await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    let now = time::OffsetDateTime::now_utc();
    let open = |seal: &str| seal_keys().open(seal, &app.audience(), now).unwrap();
    let (before, after) = (
        open(&alice.token),
        open(refreshed.body["token"].as_str().unwrap()),
    );
    assert_eq!(before.session_id, after.session_id);
    assert_eq!(before.session_ends, after.session_ends);
    assert_eq!(before.scopes, after.scopes);
    assert_ne!(before.token, after.token);
}

/// Puts `value` in the sealing keys' secret, as an operator rotating them does.
async fn rotate(app: &TestApp, value: Value) {
    app.secrets
        .put_secret_value()
        .secret_id(&app.setup.seal_secret_id)
        .secret_string(value.to_string())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn seals_of_the_previous_key_open_while_rotating_and_not_after() {
    let app = spawn_app().await;
    let (alice, _) = app.users().await;
    let next = "the-next-sealing-key-of-the-tests-0123456789";
    rotate(&app, json!({"current": next, "previous": SEAL_KEY})).await;
    // A container started since opens the old seal, and seals with the new key.
    let rotating = app.state_with(&app.setup);
    assert_eq!(
        serve(&rotating, Function::ListThreads, list(&alice))
            .await
            .status,
        200
    );
    let made = serve(&rotating, Function::CreateUsers, post(json!(null), None)).await;
    let carol = User {
        id: made.body["user1_id"].as_str().unwrap().to_owned(),
        token: made.body["user1_token"].as_str().unwrap().to_owned(),
        session: String::new(),
    };
    let now = time::OffsetDateTime::now_utc();
    assert!(
        parse_keys(next)
            .unwrap()
            .open(&carol.token, &app.audience(), now)
            .is_ok()
    );
    // A warm container, which holds the old key alone, fetches the keys again for it.
    assert_eq!(
        app.call(Function::ListThreads, list(&carol)).await.status,
        200
    );
    // Once the previous key is dropped, its seals are refused and the new ones are not.
    rotate(&app, json!({"current": next})).await;
    let rotated = app.state_with(&app.setup);
    let old = serve(&rotated, Function::ListThreads, list(&alice)).await;
    assert_error(&old, 401, "seal_key_unknown");
    assert_eq!(
        serve(&rotated, Function::ListThreads, list(&carol))
            .await
            .status,
        200
    );
}

fn list(user: &User) -> lambda_http::Request {
    get(&[("user_id", user.id.as_str())], Some(&user.token))
}

#[tokio::test]
async fn in_acs_mode_clients_get_the_acs_token_itself_and_the_original_six_work() {
    let app = spawn_app().await.with_client_tokens("acs");
    let (alice, bob) = app.users().await;
    assert!(!alice.token.starts_with(PREFIX));
    assert!(
        app.acs_token(&alice).claims().is_ok(),
        "an ACS token, readable"
    );
    let thread = app.thread(&alice, &bob).await;
    app.send(&thread, &bob, "raw tokens still work").await;
    assert_eq!(
        app.live_texts(&thread, &alice).await,
        ["raw tokens still work"]
    );
}

#[tokio::test]
async fn a_sealed_sender_s_claimed_name_is_never_stored_and_the_thread_s_name_is_shown() {
    let app = spawn_app().await;
    let (alice, bob) = app.users().await;
    let thread = app.named_thread(&alice, "Alice", &bob, "Bob").await;
    let body = json!({"thread_id": thread, "user_id": alice.id, "message": "pay here",
                      "display_name": "Your Bank"});
    let sent = app
        .call(Function::SendMessage, post(body, Some(&alice.token)))
        .await;
    assert_eq!(sent.status, 200, "{:?}", sent.body);
    let stored = app.raw_history(&thread, &bob).await;
    let message = stored
        .iter()
        .find(|m| m.text() == Some("pay here"))
        .unwrap();
    assert_ne!(message.sender_display_name.as_deref(), Some("Your Bank"));
    let query = [("thread_id", thread.as_str()), ("user_id", bob.id.as_str())];
    let read = app
        .call(Function::GetMessages, get(&query, Some(&bob.token)))
        .await;
    let shown = &read.body["messages"][0];
    assert_eq!(shown["sender_display_name"], "Alice", "{shown}");
}

#[tokio::test]
async fn signing_out_ends_every_seal_of_the_person_at_its_next_use_and_nobody_else_s() {
    let app = spawn_app().await;
    let (alice, bob) = app.users().await;
    let body = json!({"user_id": alice.id, "session": alice.session});
    let refreshed = app
        .call(Function::RefreshToken, post(body, Some(&alice.token)))
        .await;
    let other_device = User {
        token: refreshed.body["token"].as_str().unwrap().to_owned(),
        ..alice.clone()
    };
    let out = json!({"user_id": alice.id});
    let bob_out = app
        .call(Function::SignOut, post(out.clone(), Some(&bob.token)))
        .await;
    assert_error(&bob_out, 403, "token_user_mismatch");
    let signed_out = app
        .call(Function::SignOut, post(out, Some(&alice.token)))
        .await;
    assert_eq!(signed_out.status, 200, "{:?}", signed_out.body);
    for seal in [&alice, &other_device] {
        assert_error(
            &app.call(Function::ListThreads, list(seal)).await,
            401,
            "invalid_token",
        );
        let refresh = json!({"user_id": alice.id, "session": alice.session});
        let again = app
            .call(Function::RefreshToken, post(refresh, Some(&seal.token)))
            .await;
        assert_error(&again, 401, "invalid_token");
    }
    assert_eq!(
        app.call(Function::ListThreads, list(&bob)).await.status,
        200
    );
}
