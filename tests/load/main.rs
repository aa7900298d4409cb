//! Many two-user conversations at once while ACS misbehaves: a share of 429s, 503s, slow
//! answers and sends whose answer is lost after ACS stored them. Afterwards every history must
//! hold every message exactly once and in order, and each user's polls must add up to exactly
//! what the other wrote. Prints the counts and latencies. The same faults again on a thread of
//! 25, too many for ACS's read receipts, where the default cursor is each reader's position in
//! the people table: what each reader's polls add up to must be the history, exactly.
//!
//! `LOAD_PAIRS` and `LOAD_MESSAGES` (each way) size it: the test command runs a small load; the
//! full run (50 pairs × 20 messages each way) is `bash scripts/load`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use acs_chat_api::api::Function;
use acs_emulator::{ANY, Fault, FaultKind, Route};
use support::{TestApp, User, get, send_request, spawn_app};
use tokio::sync::Mutex;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn share(kind: FaultKind, share: f64, route: Route<'_>) -> Fault {
    Fault {
        count: None,
        share: Some(share),
        ..Fault::next(kind, 0).on(route)
    }
}

/// The faults of the run, by kind, each on a share of the calls to its route.
fn arm_faults(app: &TestApp) {
    let send = Route::SendMessage { thread_id: ANY };
    let list = Route::ListMessages { thread_id: ANY };
    let receipt = Route::SendReadReceipt { thread_id: ANY };
    let receipts = Route::ListReadReceipts { thread_id: ANY };
    let slow = FaultKind::Latency { millis: 40 };
    for fault in [
        share(FaultKind::CommitThenDrop, 0.05, send),
        share(FaultKind::status(429, Some(0)), 0.05, send),
        share(FaultKind::status(503, None), 0.05, send),
        share(slow.clone(), 0.10, send),
        share(FaultKind::status(429, Some(0)), 0.03, list),
        share(FaultKind::status(503, None), 0.05, list),
        share(slow, 0.10, list),
        share(FaultKind::status(503, None), 0.05, receipt),
        share(FaultKind::status(503, None), 0.05, receipts),
    ] {
        app.emulator.faults().add(fault);
    }
}

/// What the clients saw.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    refused: usize,
}

/// A client that retries what failed, as a good one does: the same `Idempotency-Key` for a
/// send, a short wait (`Retry-After`, capped for the test) between tries.
struct Client<'a> {
    app: &'a TestApp,
    tally: &'a Mutex<Tally>,
}

impl Client<'_> {
    async fn call(
        &self,
        function: Function,
        request: impl Fn() -> lambda_http::Request,
    ) -> serde_json::Value {
        for _ in 0..20 {
            let started = Instant::now();
            let answer = self.app.call(function, request()).await;
            let mut tally = self.tally.lock().await;
            tally.latencies.push(started.elapsed());
            if answer.status == 200 {
                return answer.body;
            }
            assert!(
                answer.status == 429 || answer.status >= 500,
                "{function:?}: {} {}",
                answer.status,
                answer.body
            );
            tally.refused += 1;
            drop(tally);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{function:?} failed 20 times");
    }

    async fn send(&self, thread: &str, from: &User, text: &str) {
        let key = text.replace(' ', "-");
        self.call(Function::SendMessage, || {
            send_request(thread, from, text, Some(&key))
        })
        .await;
    }

    async fn poll(&self, thread: &str, reader: &User) -> Vec<String> {
        let body = self
            .call(Function::GetMessages, || {
                get(
                    &[("thread_id", thread), ("user_id", &reader.id)],
                    Some(&reader.token),
                )
            })
            .await;
        support::texts(&body)
    }
}

/// One conversation: both write in turn, each reads after the other wrote, then both read
/// until nothing is new. Returns what each one's polls added up to.
async fn converse(
    client: &Client<'_>,
    thread: &str,
    (alice, bob): (&User, &User),
    pair: usize,
    messages: usize,
) -> (Vec<String>, Vec<String>) {
    let (mut alice_read, mut bob_read) = (Vec::new(), Vec::new());
    for i in 0..messages {
        client.send(thread, alice, &format!("p{pair} a{i}")).await;
        bob_read.extend(client.poll(thread, bob).await);
        client.send(thread, bob, &format!("p{pair} b{i}")).await;
        alice_read.extend(client.poll(thread, alice).await);
    }
    alice_read.extend(client.poll(thread, alice).await);
    bob_read.extend(client.poll(thread, bob).await);
    (alice_read, bob_read)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_conversations_under_faults_lose_and_double_nothing() {
    let pairs = setting("LOAD_PAIRS", 10);
    let messages = setting("LOAD_MESSAGES", 10);
    let app = Arc::new(spawn_app().await);
    let mut conversations = Vec::new();
    for _ in 0..pairs {
        let (alice, bob) = app.users().await;
        let thread = app.thread(&alice, &bob).await;
        conversations.push((alice, bob, thread));
    }
    arm_faults(&app);
    app.emulator.faults().reset_counts();

    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (pair, (alice, bob, thread)) in conversations.iter().cloned().enumerate() {
        let (app, tally) = (app.clone(), tally.clone());
        tasks.push(tokio::spawn(async move {
            let client = Client {
                app: &app,
                tally: &tally,
            };
            converse(&client, &thread, (&alice, &bob), pair, messages).await
        }));
    }
    let mut polled = Vec::new();
    for task in tasks {
        polled.push(task.await.unwrap());
    }
    let wall = started.elapsed();

    let (mut sent, mut found, mut lost, mut doubled, mut misordered, mut poll_mismatches) =
        (0, 0, 0, 0, 0, 0);
    for (pair, ((alice, _, thread), (alice_read, bob_read))) in
        conversations.iter().zip(&polled).enumerate()
    {
        let history = app.live_texts(thread, alice).await;
        let written = |who: &str| -> Vec<String> {
            (0..messages).map(|i| format!("p{pair} {who}{i}")).collect()
        };
        for text in written("a").iter().chain(&written("b")) {
            sent += 1;
            match history.iter().filter(|h| *h == text).count() {
                0 => lost += 1,
                1 => found += 1,
                n => {
                    found += 1;
                    doubled += n - 1;
                }
            }
        }
        for who in ["a", "b"] {
            let in_history: Vec<String> = history
                .iter()
                .filter(|h| h.starts_with(&format!("p{pair} {who}")))
                .cloned()
                .collect();
            misordered += usize::from(in_history != written(who));
        }
        poll_mismatches += usize::from(*bob_read != written("a"));
        poll_mismatches += usize::from(*alice_read != written("b"));
    }

    let tally = tally.lock().await;
    let mut latencies = tally.latencies.clone();
    latencies.sort();
    let counts = app.emulator.faults().counts();
    let injected = app.emulator.faults().injected();
    println!(
        "load: {pairs} pairs x {messages} messages each way; {} API requests in {:.2} s ({:.0}/s); \
         {} answered 429/5xx and retried by the client",
        latencies.len(),
        wall.as_secs_f64(),
        latencies.len() as f64 / wall.as_secs_f64(),
        tally.refused,
    );
    println!(
        "load: sent {sent}, found {found}, lost {lost}, doubled {doubled}, out of order {misordered}, \
         polls not adding up {poll_mismatches}"
    );
    println!(
        "load: latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; faults injected by kind: \
         {injected:?}; ACS calls by route: {counts:?}",
        percentile(&latencies, 50).as_secs_f64() * 1e3,
        percentile(&latencies, 99).as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3,
    );
    assert_eq!(
        (lost, doubled, misordered, poll_mismatches),
        (0, 0, 0, 0),
        "sent {sent}, found {found}"
    );
    assert_eq!(found, sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_thread_of_25_under_faults_the_default_cursor_loses_and_doubles_nothing() {
    let messages = setting("LOAD_MESSAGES", 10);
    let app = Arc::new(spawn_app().await.with_sign_in("open").await.0);
    let (thread, members) = app.group(25).await;
    let (writers, readers) = (members[..3].to_vec(), members[20..].to_vec());
    arm_faults(&app);
    app.emulator.faults().reset_counts();

    let tally = Arc::new(Mutex::new(Tally::default()));
    let written = Arc::new(AtomicBool::new(false));
    let mut reading = Vec::new();
    for reader in readers {
        let (app, tally, thread, written) =
            (app.clone(), tally.clone(), thread.clone(), written.clone());
        reading.push(tokio::spawn(async move {
            let client = Client {
                app: &app,
                tally: &tally,
            };
            let mut read = Vec::new();
            loop {
                // Whether the writers had finished before this poll began: then an empty one
                // means there is nothing left to read.
                let done = written.load(Ordering::SeqCst);
                let new = client.poll(&thread, &reader).await;
                if done && new.is_empty() {
                    return read;
                }
                read.extend(new);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }
    let mut writing = Vec::new();
    for (number, writer) in writers.iter().cloned().enumerate() {
        let (app, tally, thread) = (app.clone(), tally.clone(), thread.clone());
        writing.push(tokio::spawn(async move {
            let client = Client {
                app: &app,
                tally: &tally,
            };
            for i in 0..messages {
                client
                    .send(&thread, &writer, &format!("w{number} m{i}"))
                    .await;
            }
        }));
    }
    for task in writing {
        task.await.unwrap();
    }
    written.store(true, Ordering::SeqCst);
    let history = app.live_texts(&thread, &writers[0]).await;
    assert_eq!(
        history.len(),
        3 * messages,
        "every message once: {history:?}"
    );
    let injected = app.emulator.faults().injected();
    for (reader, task) in reading.into_iter().enumerate() {
        let read = task.await.unwrap();
        assert_eq!(
            read, history,
            "reader {reader}: the polls add up to the history, exactly"
        );
    }
    let tally = tally.lock().await;
    println!(
        "load, a thread of 25: 3 writers x {messages} messages, 5 readers on the default cursor; \
         {} API requests, {} answered 429/5xx and retried; every reader read each message once, \
         in order; faults injected by kind: {injected:?}",
        tally.latencies.len(),
        tally.refused,
    );
}
