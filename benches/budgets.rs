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
    rounds: u32,
    budget: &'static str,
}

async fn measure(
    app: &TestApp,
    name: &str,
    budget: &'static str,
    function: Function,
    request: impl Fn() -> lambda_http::Request,
) -> Row {
    let mut own = Vec::with_capacity(RUNS);
    let mut rounds = 0;
    for _ in 0..RUNS {
        let (response, timing) = api::handle_timed(&app.state, function, request()).await;
        assert!(
            response.status().is_success(),
            "{name}: {:?}",
            response.body()
        );
        own.push(timing.total.saturating_sub(timing.upstream.waited));
        rounds = rounds.max(timing.upstream.rounds);
    }
    own.sort();
    Row {
        name: name.to_owned(),
        p50: own[RUNS / 2],
        p99: own[RUNS * 99 / 100],
        rounds,
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
    let t = |user: &helpers::User| Some(user.token.clone());
    let mut rows = Vec::new();
    rows.push(
        measure(&app, "create_users", "1", Function::CreateUsers, || {
            post(json!(null), None)
        })
        .await,
    );
    rows.push(
        measure(&app, "create_thread", "1", Function::CreateThread, || {
            post(json!({"user1_id": alice.id}), t(&alice).as_deref())
        })
        .await,
    );
    rows.push(
        measure(&app, "add_user", "1", Function::AddUser, || {
            post(
                json!({"thread_id": thread, "user2_id": bob.id}),
                t(&alice).as_deref(),
            )
        })
        .await,
    );
    rows.push(
        measure(&app, "send_message", "1", Function::SendMessage, || {
            post(
                json!({"thread_id": thread, "user_id": alice.id, "message": "hello"}),
                t(&alice).as_deref(),
            )
        })
        .await,
    );
    // Alice keeps writing, so each of Bob's fetches has news and sends a receipt.
    rows.push(
        measure(
            &app,
            "get_messages (news each time)",
            "<= 2",
            Function::GetMessages,
            || {
                get(
                    &[("thread_id", &thread), ("user_id", &bob.id)],
                    t(&bob).as_deref(),
                )
            },
        )
        .await,
    );
    rows.push(
        measure(
            &app,
            "get_messages since=",
            "<= 2",
            Function::GetMessages,
            || {
                get(
                    &[
                        ("thread_id", &thread),
                        ("user_id", &bob.id),
                        ("since", "100"),
                    ],
                    t(&bob).as_deref(),
                )
            },
        )
        .await,
    );
    rows.push(
        measure(
            &app,
            "get_all_messages (450 msgs)",
            "3 (1 per 200)",
            Function::GetAllMessages,
            || {
                get(
                    &[("thread_id", &long), ("user_id", &bob.id)],
                    t(&bob).as_deref(),
                )
            },
        )
        .await,
    );

    println!(
        "\nhandler time beyond upstream (budget p50 <= 0.5 ms, p99 <= 2 ms), {RUNS} runs each:"
    );
    println!(
        "{:<32} {:>10} {:>10} {:>8} {:>14}",
        "endpoint", "p50 ms", "p99 ms", "rounds", "rounds budget"
    );
    for row in rows {
        println!(
            "{:<32} {:>10.3} {:>10.3} {:>8} {:>14}",
            row.name,
            row.p50.as_secs_f64() * 1e3,
            row.p99.as_secs_f64() * 1e3,
            row.rounds,
            row.budget
        );
    }
}
