//! What a caller gets when ACS or Secrets Manager misbehave: retried away where that is safe
//! and fits the request's budget, else the right 4xx/5xx, and never a lost or doubled message.

use acs_chat_api::acs::AccessKey;
use acs_chat_api::api::Function;
use acs_emulator::{ANY, Fault, FaultKind, Route};
use serde_json::json;

use support::app::{Setup, serve};
use support::outage::Outage;
use support::{assert_error, moto, post, send_request, spawn_app, spawn_conversation};

const SEND: Route = Route::SendMessage { thread_id: ANY };

#[tokio::test]
async fn throttling_and_brief_unavailability_are_retried_within_the_request() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    app.emulator
        .faults()
        .add(Fault::next(FaultKind::status(429, Some(1)), 1).on(SEND));
    app.send(&thread, &alice, "after a 429").await;
    app.emulator.faults().add(
        Fault::next(FaultKind::status(503, None), 2).on(Route::ListMessages { thread_id: ANY }),
    );
    let answer = app
        .call(
            Function::GetAllMessages,
            support::get(
                &[("thread_id", &thread), ("user_id", &bob.id)],
                Some(&bob.token),
            ),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(support::texts(&answer.body), ["after a 429"]);
    assert_eq!(
        app.count(SEND),
        2,
        "the 429 was not acted on, so one resend"
    );
}

#[tokio::test]
async fn secrets_manager_down_is_503_and_the_function_recovers_when_it_is_back() {
    let app = spawn_app().await;
    let outage = Outage::forward_to(&moto::endpoint()).await;
    let state = app.state_with(&Setup {
        secrets_endpoint: format!("http://{}", outage.addr),
        ..app.setup.clone()
    });
    let create = async || {
        let answer = serve(&state, Function::CreateUsers, post(json!(null), None)).await;
        (answer.status, answer.body)
    };
    outage.set_up(false);
    let (status, body) = create().await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("secret_unavailable"))
    );
    outage.set_up(true);
    let (status, body) = create().await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_without_a_restart() {
    let mut app = spawn_app().await;
    app.users().await;
    let rotated = AccessKey::from_base64("cm90YXRlZCBrZXkgZm9yIHRoZSBlbXVsYXRvcg==").unwrap();
    app.emulator.rotate_key(rotated);
    app.store_connection_string().await;
    // The cached key is refused once; the secret is read again and the call goes through.
    app.users().await;
    assert_eq!(app.count(Route::CreateIdentity), 2 + 2 + 2);
}

#[tokio::test]
async fn a_thread_sent_to_faster_than_acs_allows_answers_429_and_loses_nothing() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    app.emulator.limits().set_enabled(true);
    let mut refused = Vec::new();
    for i in 0..14 {
        let key = format!("burst-{i}");
        let answer = app
            .call(
                Function::SendMessage,
                send_request(&thread, &alice, &format!("m{i}"), Some(&key)),
            )
            .await;
        match answer.status {
            200 => {}
            429 => {
                assert_error(&answer, 429, "throttled");
                let wait: u64 = answer.headers["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=10).contains(&wait), "{wait}");
                refused.push((i, key));
            }
            other => panic!("{other}: {:?}", answer.body),
        }
    }
    assert_eq!(refused.len(), 4, "ACS takes 10 sends per thread per 10 s");
    // The client retries the refused ones with their keys once ACS lets it.
    app.emulator.limits().set_enabled(false);
    for (i, key) in refused {
        let answer = app
            .call(
                Function::SendMessage,
                send_request(&thread, &alice, &format!("m{i}"), Some(&key)),
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
    }
    let expected: Vec<String> = (0..14).map(|i| format!("m{i}")).collect();
    assert_eq!(app.live_texts(&thread, &bob).await, expected);
}
