//! Every file in `events/<function>/` goes through that function's handler, and the answer must
//! match the `.expected.json` beside it: adding a case is adding two files.
//!
//! Events carry placeholders (`{{user1_token}}`, `{{thread_id}}`, ...) that stand for a fresh
//! world made for each event: two users from `create_users`, a thread between them in which
//! user2 said "Hi!" (`user2_message_id`), an outsider, and a browser's push subscription at the
//! stand-in push service (`push_endpoint`, `push_p256dh`, `push_auth`). In expectations, `"{{*}}"` matches any value,
//! and `body_contains` checks a body that is not JSON (the page).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use acs_chat_api::api::Function;
use acs_emulator::Fault;
use serde_json::Value;

use support::app::{Setup, serve};
use support::channels::Channels;
use support::idp::IdentityProvider;
use support::push::PushService;
use support::{TestApp, spawn_app};

const ANY: &str = "{{*}}";

fn event_files() -> Vec<(Function, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    let mut files = Vec::new();
    for &function in Function::ALL {
        let dir = root.join(function.name());
        let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter(|p| !p.to_string_lossy().ends_with(".expected.json"))
            .collect();
        names.sort();
        assert!(!names.is_empty(), "no events for {}", function.name());
        files.extend(names.into_iter().map(|p| (function, p)));
    }
    files
}

/// The world an event's placeholders name, with the identity provider's tokens for a person
/// signing in.
async fn world(
    app: &TestApp,
    idp: &IdentityProvider,
    push: &PushService,
) -> BTreeMap<&'static str, String> {
    let (user1, user2) = app.users().await;
    let outsider = app.outsider().await;
    let thread = app.thread(&user1, &user2).await;
    let user2_message_id = app.send(&thread, &user2, "Hi!").await;
    let attachment_id = app
        .upload(&user1, &thread, "venue.png", "image/png", b"\x89PNG")
        .await;
    let expired = app.minted(&user1.id, time::Duration::seconds(-60));
    let mut values = BTreeMap::new();
    values.insert("user1_id", user1.id.clone());
    values.insert("user1_token", user1.token.clone());
    values.insert("user1_session", user1.session.clone());
    values.insert("user2_id", user2.id.clone());
    values.insert("user2_token", user2.token);
    values.insert("outsider_id", outsider.id);
    values.insert("outsider_token", outsider.token);
    values.insert("thread_id", thread);
    values.insert("user2_message_id", user2_message_id);
    values.insert("attachment_id", attachment_id);
    values.insert("expired_token", expired);
    values.insert("forged_token", format!("{}x", user1.token));
    values.insert("unknown_user_id", format!("{}0", user2.id));
    values.insert("message_over_28kb", "x".repeat(28 * 1024 + 1));
    values.insert("id_token", idp.id_token("event-person"));
    let device = push.subscribe().await;
    let part = |pointer: &str| {
        device
            .subscription
            .pointer(pointer)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    };
    values.insert("push_endpoint", part("/endpoint"));
    values.insert("push_p256dh", part("/keys/p256dh"));
    values.insert("push_auth", part("/keys/auth"));
    let mut expired = idp.claims("event-person");
    expired["exp"] = serde_json::json!(0);
    values.insert("expired_id_token", idp.rsa.token(&expired));
    values
}

fn fill(text: &str, values: &BTreeMap<&'static str, String>) -> String {
    values.iter().fold(text.to_owned(), |acc, (name, value)| {
        acc.replace(&format!("{{{{{name}}}}}"), value)
    })
}

/// Where `actual` differs from `expected` (with `"{{*}}"` matching anything), if anywhere.
fn mismatch(path: &str, expected: &Value, actual: &Value) -> Option<String> {
    match (expected, actual) {
        (Value::String(s), _) if s == ANY => None,
        (Value::Object(e), Value::Object(a)) => {
            if let Some(key) = e.keys().find(|k| !a.contains_key(*k)) {
                return Some(format!("{path}.{key} missing"));
            }
            if let Some(key) = a.keys().find(|k| !e.contains_key(*k)) {
                return Some(format!("{path}.{key} not expected"));
            }
            e.iter()
                .find_map(|(k, v)| mismatch(&format!("{path}.{k}"), v, &a[k]))
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .find_map(|(i, (e, a))| mismatch(&format!("{path}[{i}]"), e, a)),
        _ if expected == actual => None,
        _ => Some(format!("{path}: expected {expected}, got {actual}")),
    }
}

async fn run_event(function: Function, event_path: &Path) -> Result<(), String> {
    let expected_path = event_path.with_extension("expected.json");
    let expected_text = std::fs::read_to_string(&expected_path)
        .map_err(|e| format!("{}: {e}", expected_path.display()))?;
    let (app, idp) = spawn_app().await.with_sign_in("open").await;
    let push = PushService::start().await;
    let app = app.with_files().await.with_push(&push, "full").await;
    let mut values = world(&app, &idp, &push).await;
    let channels = Channels::start().await;
    let (setup, keys) = app.realtime_setup(&channels).await;
    values.insert("webhook_secret", keys.webhook_secret);
    let expected: Value = serde_json::from_str(&fill(&expected_text, &values)).unwrap();

    let state = app.state_with(&match expected["setup"]["secret_id"].as_str() {
        Some(secret_id) => Setup {
            secret_id: secret_id.to_owned(),
            ..setup
        },
        None => setup,
    });
    if let Some(fault) = expected["setup"].get("fault") {
        let fault: Fault = serde_json::from_value(fault.clone()).unwrap();
        app.emulator.faults().add(fault);
    }

    let event_text = std::fs::read_to_string(event_path).unwrap();
    let request = lambda_http::request::from_str(&fill(&event_text, &values))
        .map_err(|e| format!("not an API Gateway event: {e}"))?;
    let answer = serve(&state, function, request).await;

    let status = answer.status;
    if Some(u64::from(status)) != expected["status"].as_u64() {
        return Err(format!("status {status}, expected {}", expected["status"]));
    }
    if let Some(needle) = expected["body_contains"].as_str() {
        let text = answer.body.as_str().unwrap_or_default();
        if !text.contains(needle) {
            return Err(format!("body does not contain {needle:?}"));
        }
    } else if let Some(diff) = mismatch("body", &expected["body"], &answer.body) {
        return Err(diff);
    }
    for (name, value) in expected["headers"].as_object().into_iter().flatten() {
        let got = answer.headers.get(name).and_then(|v| v.to_str().ok());
        if got != value.as_str() {
            return Err(format!("header {name}: expected {value}, got {got:?}"));
        }
    }
    Ok(())
}

#[tokio::test]
async fn every_event_file_gets_the_response_beside_it() {
    let files = event_files();
    let mut failures = Vec::new();
    for (function, path) in &files {
        if let Err(why) = run_event(*function, path).await {
            failures.push(format!("{}: {why}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} events failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn the_matcher_accepts_wildcards_and_names_the_first_difference() {
    let expected = serde_json::json!({"a": "{{*}}", "b": [1, {"c": "x"}]});
    assert_eq!(
        mismatch(
            "body",
            &expected,
            &serde_json::json!({"a": 5, "b": [1, {"c": "x"}]})
        ),
        None
    );
    assert_eq!(
        mismatch(
            "body",
            &expected,
            &serde_json::json!({"a": 5, "b": [1, {"c": "y"}]})
        )
        .as_deref(),
        Some("body.b[1].c: expected \"x\", got \"y\"")
    );
    assert!(mismatch("body", &expected, &serde_json::json!({"a": 1})).is_some());
}
