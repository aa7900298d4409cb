//! The design's per-request budgets, measured and printed (never asserted: timings on a shared
//! machine are reported, not tested). Run by `scripts/bench`, which starts moto first.
//!
//! For each endpoint: the handler's own time (total minus time waiting on ACS) at p50 and p99,
//! and its sequential ACS round trips, against the emulator in this process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;
// The API tests' helpers, shared rather than copied; the benchmark uses only some of them.
#[allow(dead_code)]
#[path = "../tests/api/helpers.rs"]
mod helpers;

use std::time::Duration;

use acs_chat_api::api::{self, Function};
use helpers::{TestApp, get, post, spawn_app};
use serde_json::json;

const RUNS: usize = 300;

struct Row {
    name: String,
    p50: Duration,
    p99: Duration,
    rounds_p50: u32,
    rounds_max: u32,
    attempts_max: u32,
    budget: &'static str,
}

/// Runs `function` RUNS times; `request` may first set the scene (that time is not counted).
async fn measure(
    app: &TestApp,
    name: &str,
    budget: &'static str,
    function: Function,
    request: impl AsyncFn() -> lambda_http::Request,
) -> Row {
    let mut own = Vec::with_capacity(RUNS);
    let mut rounds = Vec::with_capacity(RUNS);
    let mut attempts_max = 0;
    for _ in 0..RUNS {
        let (response, timing) = api::handle_timed(&app.state, function, request().await).await;
        assert!(
            response.status().is_success(),
            "{name}: {:?}",
            response.body()
        );
        own.push(timing.total.saturating_sub(timing.upstream.waited));
        rounds.push(timing.upstream.rounds);
        attempts_max = attempts_max.max(timing.upstream.attempts);
    }
    own.sort();
    rounds.sort();
    Row {
        name: name.to_owned(),
        p50: own[RUNS / 2],
        p99: own[RUNS * 99 / 100],
        rounds_p50: rounds[RUNS / 2],
        rounds_max: rounds[RUNS - 1],
        attempts_max,
        budget,
    }
}

#[tokio::main]
async fn main() {
    let app = spawn_app().await;
    let (alice, bob) = app.users().await;
    let thread = app.thread(&alice, &bob).await;
    let long = app.thread(&alice, &bob).await;
    for i in 0..450 {
        app.send(&long, &alice, &format!("m{i}")).await;
    }
    let alice_token = Some(alice.token.as_str());
    let bob_token = Some(bob.token.as_str());
    let bob_reads = |thread: &str| get(&[("thread_id", thread), ("user_id", &bob.id)], bob_token);

    let mut rows = Vec::new();
    rows.push(
        measure(
            &app,
            "create_users",
            "1",
            Function::CreateUsers,
            async || post(json!(null), None),
        )
        .await,
    );
    rows.push(
        measure(
            &app,
            "create_thread",
            "1",
            Function::CreateThread,
            async || post(json!({"user1_id": alice.id}), alice_token),
        )
        .await,
    );
    rows.push(
        measure(&app, "add_user", "1", Function::AddUser, async || {
            post(
                json!({"thread_id": thread, "user2_id": bob.id}),
                alice_token,
            )
        })
        .await,
    );
    rows.push(
        measure(
            &app,
            "send_message",
            "1",
            Function::SendMessage,
            async || {
                let body = json!({"thread_id": thread, "user_id": alice.id, "message": "hello"});
                post(body, alice_token)
            },
        )
        .await,
    );
    // Bob catches up once; then Alice writes before each fetch, so that every fetch has news
    // and sends a receipt, as in a live conversation.
    app.fetch(&thread, &bob, None).await;
    rows.push(
        measure(
            &app,
            "get_messages (1 new each time)",
            "<= 2",
            Function::GetMessages,
            async || {
                app.send(&thread, &alice, "news").await;
                bob_reads(&thread)
            },
        )
        .await,
    );
    let (_, latest) = app.fetch(&thread, &bob, Some(0)).await;
    let since = latest.to_string();
    rows.push(
        measure(
            &app,
            "get_messages since= (none new)",
            "<= 2",
            Function::GetMessages,
            async || {
                let query = [
                    ("thread_id", thread.as_str()),
                    ("user_id", &bob.id),
                    ("since", &since),
                ];
                get(&query, bob_token)
            },
        )
        .await,
    );
    rows.push(
        measure(
            &app,
            "get_all_messages (450)",
            "3 (1 per 200)",
            Function::GetAllMessages,
            async || bob_reads(&long),
        )
        .await,
    );

    println!(
        "\nhandler time beyond upstream (budget p50 <= 0.5 ms, p99 <= 2 ms), {RUNS} runs each:"
    );
    println!(
        "{:<32} {:>7} {:>7} {:>11} {:>11} {:>13} {:>14}",
        "endpoint", "p50 ms", "p99 ms", "rounds p50", "rounds max", "attempts max", "rounds budget"
    );
    for row in rows {
        println!(
            "{:<32} {:>7.3} {:>7.3} {:>11} {:>11} {:>13} {:>14}",
            row.name,
            row.p50.as_secs_f64() * 1e3,
            row.p99.as_secs_f64() * 1e3,
            row.rounds_p50,
            row.rounds_max,
            row.attempts_max,
            row.budget
        );
    }
}
