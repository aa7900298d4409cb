//! Tokens that cannot be stretched: a refresh keeps the scopes of the token it verified and
//! never outlives the session the first token came with.

use acs_chat_api::acs::Scope;
use acs_chat_api::api::Function;
use acs_emulator::{ANY, Route};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use support::{Answered, TestApp, User, assert_error, post, spawn_app};

async fn refresh(app: &TestApp, user: &User, token: &str, session: &str) -> Answered {
    let body = json!({"user_id": user.id, "session": session});
    app.call(Function::RefreshToken, post(body, Some(token)))
        .await
}

fn scopes_of(app: &TestApp, answer: &Answered) -> Vec<Scope> {
    app.acs_token_in(answer.body["token"].as_str().unwrap())
        .claims()
        .unwrap()
        .scopes
        .unwrap()
}

fn time_of(answer: &Answered, field: &str) -> OffsetDateTime {
    let text = answer.body[field].as_str().unwrap();
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
}

#[tokio::test]
async fn a_limited_token_refreshes_into_a_token_of_the_same_limited_scopes() {
    let app = spawn_app().await;
    let (alice, _) = app.users().await;
    for scopes in [&["chat.join.limited"][..], &["chat.join"], &["chat"]] {
        let limited = app.hand_out(
            &app.emulator
                .mint_token_with_scopes(&alice.id, Duration::hours(1), scopes)
                .unwrap(),
        );
        let refreshed = refresh(&app, &alice, &limited, &alice.session).await;
        assert_eq!(refreshed.status, 200, "{scopes:?}: {:?}", refreshed.body);
        let expected: Vec<Scope> = scopes.iter().map(|s| Scope::parse(s).unwrap()).collect();
        assert_eq!(
            scopes_of(&app, &refreshed),
            expected,
            "exactly the scopes refreshed"
        );
    }
}

#[tokio::test]
async fn every_token_of_a_chain_of_refreshes_ends_with_the_session_it_began() {
    let mut app = spawn_app().await;
    app.state.config.session_hours = 3;
    let (alice, _) = app.users().await;
    let mut token = alice.token.clone();
    let mut ends = None;
    for _ in 0..4 {
        let refreshed = refresh(&app, &alice, &token, &alice.session).await;
        assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
        assert_eq!(
            refreshed.body["session"],
            alice.session.as_str(),
            "the same session"
        );
        let session_ends = time_of(&refreshed, "session_ends_on");
        assert!(
            time_of(&refreshed, "expires_on") <= session_ends,
            "within the session"
        );
        assert!(
            session_ends <= OffsetDateTime::now_utc() + Duration::hours(3),
            "the session is not stretched by a refresh"
        );
        assert_eq!(*ends.get_or_insert(session_ends), session_ends);
        token = refreshed.body["token"].as_str().unwrap().to_owned();
    }
}

#[tokio::test]
async fn a_session_near_its_end_ended_forged_or_of_someone_else_refreshes_nothing() {
    let app = spawn_app().await;
    let (alice, bob) = app.users().await;
    let now = OffsetDateTime::now_utc();
    let started = now - Duration::days(7);
    let mut forged = alice.session.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let stretched = {
        let (_, mac) = alice.session.split_once('.').unwrap();
        let longer = app.session_for(&alice, started, now + Duration::days(365));
        format!("{}.{mac}", longer.split_once('.').unwrap().0)
    };
    app.emulator.faults().reset_counts();
    for (what, session, code) in [
        (
            "less than an hour left",
            app.session_for(&alice, started, now + Duration::minutes(30)),
            "session_ended",
        ),
        (
            "ended",
            app.session_for(&alice, started, now - Duration::minutes(1)),
            "session_ended",
        ),
        ("a changed signature", forged, "invalid_session"),
        (
            "a longer end with the old signature",
            stretched,
            "invalid_session",
        ),
        ("bob's session", bob.session.clone(), "invalid_session"),
        ("no session at all", "x.y".to_owned(), "invalid_session"),
    ] {
        let answer = refresh(&app, &alice, &alice.token, &session).await;
        assert_error(&answer, 401, code);
        assert!(!answer.body.to_string().contains("eyJ"), "{what}: no token");
    }
    assert_eq!(
        app.count(Route::IssueToken { user_id: ANY }),
        0,
        "no token issued"
    );
}
