use acs_chat_api::api::Function;
use acs_emulator::{ANY, Fault, FaultKind, Route};
use serde_json::json;

use support::{assert_error, get, post, request, spawn_app, spawn_conversation};

#[tokio::test]
async fn chat_endpoints_refuse_a_missing_malformed_or_expired_token() {
    let app = spawn_app().await;
    let (alice, _) = app.users().await;
    let expired = app.minted(&alice.id, time::Duration::seconds(-5));
    let body = json!({"user1_id": alice.id});
    let cases = [
        (None, "missing_token"),
        (Some("garbage"), "invalid_token"),
        (Some(expired.as_str()), "token_expired"),
    ];
    for (token, code) in cases {
        let answer = app
            .call(Function::CreateThread, post(body.clone(), token))
            .await;
        assert_error(&answer, 401, code);
    }
    let mut basic = post(body, None);
    basic
        .headers_mut()
        .insert("authorization", "Basic YTpi".parse().unwrap());
    assert_error(
        &app.call(Function::CreateThread, basic).await,
        401,
        "invalid_token",
    );
    assert_eq!(
        app.count(Route::CreateThread),
        0,
        "refused before any ACS call"
    );
}

#[tokio::test]
async fn a_token_for_another_user_than_the_one_named_is_forbidden() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    let cases = [
        (
            Function::CreateThread,
            post(json!({"user1_id": alice.id}), Some(&bob.token)),
        ),
        (
            Function::SendMessage,
            post(
                json!({"thread_id": thread, "user_id": alice.id, "message": "x"}),
                Some(&bob.token),
            ),
        ),
        (
            Function::GetMessages,
            get(
                &[("thread_id", &thread), ("user_id", &alice.id)],
                Some(&bob.token),
            ),
        ),
        (
            Function::GetAllMessages,
            get(
                &[("thread_id", &thread), ("user_id", &alice.id)],
                Some(&bob.token),
            ),
        ),
    ];
    for (function, request) in cases {
        assert_error(
            &app.call(function, request).await,
            403,
            "token_user_mismatch",
        );
    }
}

#[tokio::test]
async fn a_non_participant_is_forbidden_by_acs_and_an_unknown_thread_is_not_found() {
    let (app, alice, _, thread) = spawn_conversation().await;
    let mallory = app.outsider().await;
    let read = get(
        &[("thread_id", &thread), ("user_id", &mallory.id)],
        Some(&mallory.token),
    );
    assert_error(
        &app.call(Function::GetAllMessages, read).await,
        403,
        "forbidden",
    );
    let send = post(
        json!({"thread_id": thread, "user_id": mallory.id, "message": "let me in"}),
        Some(&mallory.token),
    );
    assert_error(
        &app.call(Function::SendMessage, send).await,
        403,
        "forbidden",
    );
    let add = post(
        json!({"thread_id": thread, "user2_id": mallory.id}),
        Some(&mallory.token),
    );
    assert_error(&app.call(Function::AddUser, add).await, 403, "forbidden");

    let unknown = "19:doesnotexist@thread.v2";
    let read = get(
        &[("thread_id", unknown), ("user_id", &alice.id)],
        Some(&alice.token),
    );
    assert_error(
        &app.call(Function::GetMessages, read).await,
        404,
        "not_found",
    );
}

#[tokio::test]
async fn adding_an_unknown_user_is_not_found_and_changes_nothing() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    let ghost = format!("{}0", bob.id);
    let add = post(
        json!({"thread_id": thread, "user2_id": ghost}),
        Some(&alice.token),
    );
    assert_error(
        &app.call(Function::AddUser, add).await,
        404,
        "user_not_found",
    );
}

#[tokio::test]
async fn bad_input_is_a_clear_400_and_reaches_no_acs_route() {
    // One case per endpoint proves the wiring; every refusal is a unit test of its `parse`.
    let (app, alice, bob, thread) = spawn_conversation().await;
    app.emulator.faults().reset_counts();
    let t = Some(alice.token.as_str());
    let cases = vec![
        (
            "not json",
            Function::CreateThread,
            request("POST", None, t).map(|_| lambda_http::Body::Text("{".into())),
            "invalid_json",
        ),
        (
            "bad thread id",
            Function::AddUser,
            post(json!({"thread_id": "thread_id_123", "user2_id": bob.id}), t),
            "invalid_field",
        ),
        (
            "missing message",
            Function::SendMessage,
            post(json!({"thread_id": thread, "user_id": alice.id}), t),
            "missing_field",
        ),
        (
            "unknown query",
            Function::GetMessages,
            get(
                &[
                    ("thread_id", &thread),
                    ("user_id", &alice.id),
                    ("page", "2"),
                ],
                t,
            ),
            "unknown_query_parameter",
        ),
        (
            "since on get_all",
            Function::GetAllMessages,
            get(
                &[
                    ("thread_id", &thread),
                    ("user_id", &alice.id),
                    ("since", "1"),
                ],
                t,
            ),
            "unknown_query_parameter",
        ),
    ];
    for (what, function, request, code) in cases {
        let answer = app.call(function, request).await;
        assert_eq!(
            (answer.status, answer.body["error"]["code"].as_str()),
            (400, Some(code)),
            "{what}: {:?}",
            answer.body
        );
    }
    assert!(
        app.emulator.faults().counts().is_empty(),
        "{:?}",
        app.emulator.faults().counts()
    );
}

#[tokio::test]
async fn an_oversized_message_or_body_is_413_before_acs_is_called() {
    let (app, alice, _, thread) = spawn_conversation().await;
    let just_right = "x".repeat(28 * 1024);
    app.send(&thread, &alice, &just_right).await;
    for size in [28 * 1024 + 1, 70 * 1024] {
        let body = json!({"thread_id": thread, "user_id": alice.id, "message": "y".repeat(size)});
        let answer = app
            .call(Function::SendMessage, post(body, Some(&alice.token)))
            .await;
        assert_error(&answer, 413, "payload_too_large");
    }
    assert_eq!(app.count(Route::SendMessage { thread_id: ANY }), 1);
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow() {
    let app = spawn_app().await;
    let answer = app.call(Function::GetMessages, post(json!({}), None)).await;
    assert_error(&answer, 405, "method_not_allowed");
    assert_eq!(answer.headers["allow"], "GET");
    let answer = app.call(Function::CreateUsers, get(&[], None)).await;
    assert_eq!(answer.headers["allow"], "POST");
}

#[tokio::test]
async fn acs_throttling_is_429_with_retry_after_passed_on() {
    let (app, alice, _, thread) = spawn_conversation().await;
    app.emulator.faults().add(
        Fault::next(FaultKind::status(429, Some(30)), 3).on(Route::SendMessage { thread_id: ANY }),
    );
    let body = json!({"thread_id": thread, "user_id": alice.id, "message": "hi"});
    let answer = app
        .call(Function::SendMessage, post(body, Some(&alice.token)))
        .await;
    assert_error(&answer, 429, "throttled");
    assert_eq!(answer.headers["retry-after"], "30");
}

#[tokio::test]
async fn acs_failures_are_502_and_slowness_is_504() {
    let (app, alice, _, thread) = spawn_conversation().await;
    let route = Route::ListMessages { thread_id: ANY };
    let read = || {
        get(
            &[("thread_id", &thread), ("user_id", &alice.id)],
            Some(&alice.token),
        )
    };

    app.emulator
        .faults()
        .add(Fault::next(FaultKind::status(500, None), 3).on(route));
    assert_error(
        &app.call(Function::GetAllMessages, read()).await,
        502,
        "upstream_error",
    );

    app.emulator
        .faults()
        .add(Fault::next(FaultKind::Latency { millis: 800 }, 3).on(route));
    assert_error(
        &app.call(Function::GetAllMessages, read()).await,
        504,
        "upstream_timeout",
    );

    app.emulator
        .faults()
        .add(Fault::next(FaultKind::status(503, None), 1).on(route));
    let answer = app.call(Function::GetAllMessages, read()).await;
    assert_eq!(
        answer.status, 200,
        "one 503 is retried away: {:?}",
        answer.body
    );
}

#[tokio::test]
async fn error_bodies_never_carry_a_token_or_the_connection_string() {
    let app = spawn_app().await;
    let (alice, bob) = app.users().await;
    let key = app.emulator.connection_string().expose();
    let key = key.split("accesskey=").nth(1).unwrap().to_owned();
    let answers = [
        app.call(
            Function::CreateThread,
            post(json!({"user1_id": bob.id}), Some(&alice.token)),
        )
        .await,
        app.call(
            Function::CreateThread,
            post(
                json!({"user1_id": alice.id}),
                Some(&format!("{}x", alice.token)),
            ),
        )
        .await,
    ];
    for answer in answers {
        let text = answer.body.to_string();
        assert!(answer.status >= 400, "{text}");
        for secret in [&alice.token, &bob.token, &key] {
            assert!(!text.contains(secret.as_str()), "{text}");
        }
    }
}

#[tokio::test]
async fn a_slow_acs_ends_the_request_within_its_budget_not_after_every_retry() {
    let mut app = spawn_app().await;
    let (alice, bob) = app.users().await;
    let thread = app.thread(&alice, &bob).await;
    app.state.config.request_budget = std::time::Duration::from_millis(300);
    app.emulator.faults().add(
        Fault::next(FaultKind::Latency { millis: 800 }, 9)
            .on(Route::ListMessages { thread_id: ANY }),
    );
    let started = std::time::Instant::now();
    let read = get(
        &[("thread_id", &thread), ("user_id", &alice.id)],
        Some(&alice.token),
    );
    assert_error(
        &app.call(Function::GetAllMessages, read).await,
        504,
        "upstream_timeout",
    );
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_millis(450), "{took:?}");
    assert_eq!(
        app.count(Route::ListMessages { thread_id: ANY }),
        1,
        "no attempt past the deadline"
    );
}
