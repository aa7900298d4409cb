//! A chat people live in: identities that outlive their first token, an inbox, leaving,
//! editing, deleting, typing, names, and several devices in sync.

use acs_chat_api::acs::chat::ThreadProperties;
use acs_chat_api::acs::{AcsError, ThreadId};
use acs_chat_api::api::{Function, Method};
use acs_emulator::{ANY, Route};
use serde_json::{Value, json};

use support::{
    Answered, TestApp, User, assert_error, get, post, spawn_app, spawn_conversation, texts,
};

async fn act(app: &TestApp, function: Function, who: &User, mut body: Value) -> Answered {
    body["user_id"] = json!(who.id);
    app.call(function, post(body, Some(&who.token))).await
}

async fn read(app: &TestApp, function: Function, who: &User, query: &[(&str, &str)]) -> Answered {
    let mut pairs = vec![("user_id", who.id.as_str())];
    pairs.extend_from_slice(query);
    app.call(function, get(&pairs, Some(&who.token))).await
}

async fn get_thread(app: &TestApp, who: &User, thread: &str) -> Answered {
    read(app, Function::GetThread, who, &[("thread_id", thread)]).await
}

fn thread_ids(answer: &Answered) -> Vec<String> {
    answer.body["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["thread_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_conversation_outlives_its_first_token() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    app.send(&thread, &bob, "before the refresh").await;

    let refreshed = act(
        &app,
        Function::RefreshToken,
        &alice,
        json!({"session": alice.session}),
    )
    .await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    assert_eq!(
        refreshed.body["user_id"],
        alice.id.as_str(),
        "the same identity"
    );
    let alice2 = User {
        token: refreshed.body["token"].as_str().unwrap().to_owned(),
        ..alice.clone()
    };
    assert_ne!(alice2.token, alice.token);

    // The first token's life ends; the old thread is still Alice's with the new one.
    let expired = app.minted(&alice.id, time::Duration::seconds(-1));
    let inbox = read(&app, Function::ListThreads, &alice2, &[]).await;
    assert_eq!(thread_ids(&inbox), std::slice::from_ref(&thread));
    let history = read(
        &app,
        Function::GetAllMessages,
        &alice2,
        &[("thread_id", &thread)],
    )
    .await;
    assert_eq!(texts(&history.body), ["before the refresh"]);
    app.send(&thread, &alice2, "after the refresh").await;

    // The expired token is refused everywhere, before any ACS call.
    let old = User {
        token: expired,
        ..alice.clone()
    };
    app.emulator.faults().reset_counts();
    // Every field any endpoint needs: unknown ones are ignored, so each gets past parsing.
    let body = json!({
        "user_id": old.id, "user1_id": old.id, "user2_id": bob.id, "remove_user_id": old.id,
        "thread_id": thread, "message": "x", "message_id": "1", "topic": "t", "session": "s",
        "sequence_id": 1, "muted": true, "name": "a.png", "content_type": "image/png", "size": 1,
        "endpoint": "https://fcm.googleapis.com/fcm/send/x",
        "subscription": {"endpoint": "https://fcm.googleapis.com/fcm/send/x",
                         "keys": {"p256dh": "BCVx", "auth": "BTBZ"}},
    });
    for &function in Function::ALL {
        let request = match function {
            Function::CreateUsers | Function::SignIn | Function::Page | Function::AcsEvents => {
                continue;
            }
            Function::ListThreads => get(&[("user_id", &old.id)], Some(&old.token)),
            Function::DownloadUrl => get(
                &[
                    ("user_id", &old.id),
                    ("thread_id", &thread),
                    ("attachment_id", &"0".repeat(32)),
                ],
                Some(&old.token),
            ),
            _ if function.spec().method == Method::Get => get(
                &[("user_id", &old.id), ("thread_id", &thread)],
                Some(&old.token),
            ),
            _ => post(body.clone(), Some(&old.token)),
        };
        let answer = app.call(function, request).await;
        assert_error(&answer, 401, "token_expired");
    }
    assert!(app.emulator.faults().counts().is_empty());
}

#[tokio::test]
async fn only_a_valid_token_of_the_identity_itself_gets_a_new_one() {
    let app = spawn_app().await;
    let (alice, bob) = app.users().await;
    let forged = User {
        token: format!("{}x", alice.token),
        ..alice.clone()
    };
    app.emulator.faults().reset_counts();
    assert_error(
        &act(
            &app,
            Function::RefreshToken,
            &forged,
            json!({"session": alice.session}),
        )
        .await,
        401,
        "invalid_token",
    );
    assert_eq!(
        app.count(Route::IssueToken { user_id: ANY }),
        0,
        "no token for a forged one"
    );
    app.revoke(&bob).await;
    assert_error(
        &act(
            &app,
            Function::RefreshToken,
            &bob,
            json!({"session": bob.session}),
        )
        .await,
        401,
        "invalid_token",
    );
    assert_eq!(app.count(Route::IssueToken { user_id: ANY }), 0);
    let as_bob = post(
        json!({"user_id": bob.id, "session": bob.session}),
        Some(&alice.token),
    );
    assert_error(
        &app.call(Function::RefreshToken, as_bob).await,
        403,
        "token_user_mismatch",
    );
}

#[tokio::test]
async fn a_deleted_user_is_gone_and_its_tokens_with_it() {
    let (app, _, bob, thread) = spawn_conversation().await;
    let deleted = act(&app, Function::DeleteUser, &bob, json!({})).await;
    assert_eq!(deleted.status, 200, "{:?}", deleted.body);
    let answer = read(
        &app,
        Function::GetAllMessages,
        &bob,
        &[("thread_id", &thread)],
    )
    .await;
    assert_error(&answer, 401, "invalid_token");
    assert_error(
        &act(
            &app,
            Function::RefreshToken,
            &bob,
            json!({"session": bob.session}),
        )
        .await,
        401,
        "invalid_token",
    );
}

#[tokio::test]
async fn the_inbox_lists_threads_by_latest_activity_and_leaves_out_deleted_and_left_ones() {
    let app = spawn_app().await;
    let (alice, bob) = app.users().await;
    let first = app.thread(&alice, &bob).await;
    let second = app.thread(&alice, &bob).await;
    let third = app.thread(&alice, &bob).await;
    app.send(&first, &alice, "first is busiest").await;
    let inbox = read(&app, Function::ListThreads, &bob, &[]).await;
    assert_eq!(thread_ids(&inbox)[0], first, "{:?}", inbox.body);
    assert_eq!(thread_ids(&inbox).len(), 3);

    let left = act(
        &app,
        Function::RemoveUser,
        &bob,
        json!({"thread_id": second, "remove_user_id": bob.id}),
    )
    .await;
    assert_eq!(left.body["message"], "Left the thread");
    let deleted = act(
        &app,
        Function::DeleteThread,
        &alice,
        json!({"thread_id": third}),
    )
    .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(
        thread_ids(&read(&app, Function::ListThreads, &bob, &[]).await),
        std::slice::from_ref(&first)
    );
    assert_eq!(
        thread_ids(&read(&app, Function::ListThreads, &alice, &[]).await),
        [first.clone(), second.clone()]
    );
    // A deleted thread is gone for everyone; a participant who left is refused.
    let gone = read(
        &app,
        Function::GetAllMessages,
        &alice,
        &[("thread_id", &third)],
    )
    .await;
    assert_error(&gone, 404, "not_found");
    let refused = read(
        &app,
        Function::GetAllMessages,
        &bob,
        &[("thread_id", &second)],
    )
    .await;
    assert_error(&refused, 403, "forbidden");
}

#[tokio::test]
async fn the_inbox_pages_with_an_opaque_cursor() {
    let app = spawn_app().await;
    let (alice, bob) = app.users().await;
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(app.thread(&alice, &bob).await);
    }
    let mut seen = Vec::new();
    let mut page: Option<String> = None;
    for _ in 0..5 {
        let mut query = vec![("max_page_size", "2")];
        if let Some(page) = page.as_deref() {
            query.push(("page", page));
        }
        let answer = read(&app, Function::ListThreads, &alice, &query).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        seen.extend(thread_ids(&answer));
        page = answer.body["next_page"].as_str().map(str::to_owned);
        if page.is_none() {
            break;
        }
    }
    seen.sort();
    made.sort();
    assert_eq!(seen, made);
}

#[tokio::test]
async fn names_travel_with_participants_and_messages() {
    let app = spawn_app().await;
    let (alice, bob) = app.users().await;
    let body = json!({"user1_id": alice.id, "display_name": "Alice"});
    let created = app
        .call(Function::CreateThread, post(body, Some(&alice.token)))
        .await;
    let thread = created.body["thread_id"].as_str().unwrap().to_owned();
    let body = json!({"thread_id": thread, "user2_id": bob.id, "display_name": "Bob"});
    assert_eq!(
        app.call(Function::AddUser, post(body, Some(&alice.token)))
            .await
            .status,
        200
    );
    let sent = act(
        &app,
        Function::SendMessage,
        &bob,
        json!({"thread_id": thread, "message": "hi", "display_name": "Bob"}),
    )
    .await;
    assert_eq!(sent.status, 200);

    let people = read(
        &app,
        Function::GetParticipants,
        &alice,
        &[("thread_id", &thread)],
    )
    .await;
    let mut names: Vec<(String, String)> = people.body["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["user_id"].as_str().unwrap().to_owned(),
                p["display_name"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    names.sort();
    let mut expected = vec![
        (alice.id.clone(), "Alice".to_owned()),
        (bob.id.clone(), "Bob".to_owned()),
    ];
    expected.sort();
    assert_eq!(names, expected);
    let news = read(
        &app,
        Function::GetMessages,
        &alice,
        &[("thread_id", &thread)],
    )
    .await;
    assert_eq!(news.body["messages"][0]["sender_display_name"], "Bob");

    // Bob cannot pass as Alice: the name shown is the participant list's, whatever a message
    // says; a name that reads differently from how it is stored is refused outright.
    let spoof = json!({"thread_id": thread, "message": "it's me, Alice", "display_name": "Alice"});
    assert_eq!(
        act(&app, Function::SendMessage, &bob, spoof).await.status,
        200
    );
    for (label, name) in [
        ("a right-to-left override", "Bob\u{202e}ecilA"),
        ("a zero-width joiner", "Al\u{200d}ice"),
        ("a left-to-right isolate", "\u{2066}Alice"),
    ] {
        let body = json!({"thread_id": thread, "message": "x", "display_name": name});
        let refused = act(&app, Function::SendMessage, &bob, body).await;
        assert_error(&refused, 400, "invalid_field");
        assert!(refused.body.to_string().contains("display_name"), "{label}");
        let topic = json!({"thread_id": thread, "topic": format!("Pay {name}")});
        let refused = act(&app, Function::UpdateThread, &bob, topic).await;
        assert_error(&refused, 400, "invalid_field");
    }
    let since = [("thread_id", thread.as_str()), ("since", "0")];
    let all = read(&app, Function::GetMessages, &alice, &since).await;
    let shown: Vec<(&str, &str)> = all.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["message"].as_str().unwrap(),
                m["sender_display_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(shown, [("hi", "Bob"), ("it's me, Alice", "Bob")]);
}

#[tokio::test]
async fn only_the_sender_edits_or_deletes_and_other_devices_learn_of_it_by_the_change_cursor() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    let first = app.send(&thread, &alice, "helo").await;
    let second = app.send(&thread, &alice, "oops").await;

    // Bob's device syncs: everything so far, and the cursor pair for next time.
    let synced = read(
        &app,
        Function::GetMessages,
        &bob,
        &[
            ("thread_id", &thread),
            ("since", "0"),
            ("changes_since", "0"),
        ],
    )
    .await;
    assert_eq!(texts(&synced.body), ["helo", "oops"]);
    let since = synced.body["next_since"].as_u64().unwrap().to_string();
    let changes_since = synced.body["next_changes_since"]
        .as_u64()
        .unwrap()
        .to_string();

    let theirs = json!({"thread_id": thread, "message_id": first, "message": "hijacked"});
    assert_error(
        &act(&app, Function::UpdateMessage, &bob, theirs).await,
        403,
        "forbidden",
    );
    let theirs = json!({"thread_id": thread, "message_id": second});
    assert_error(
        &act(&app, Function::DeleteMessage, &bob, theirs).await,
        403,
        "forbidden",
    );

    let edit = json!({"thread_id": thread, "message_id": first, "message": "hello"});
    assert_eq!(
        act(&app, Function::UpdateMessage, &alice, edit)
            .await
            .status,
        200
    );
    let delete = json!({"thread_id": thread, "message_id": second});
    assert_eq!(
        act(&app, Function::DeleteMessage, &alice, delete)
            .await
            .status,
        200
    );
    app.send(&thread, &alice, "third").await;

    let next = read(
        &app,
        Function::GetMessages,
        &bob,
        &[
            ("thread_id", &thread),
            ("since", &since),
            ("changes_since", &changes_since),
        ],
    )
    .await;
    assert_eq!(texts(&next.body), ["third"], "new messages once");
    let changes = next.body["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(
        (
            changes[0]["id"].as_str(),
            changes[0]["message"].as_str(),
            changes[0]["deleted"].as_bool()
        ),
        (Some(first.as_str()), Some("hello"), Some(false))
    );
    assert_eq!(
        (changes[1]["id"].as_str(), changes[1]["deleted"].as_bool()),
        (Some(second.as_str()), Some(true))
    );

    let since = next.body["next_since"].as_u64().unwrap().to_string();
    let changes_since = next.body["next_changes_since"]
        .as_u64()
        .unwrap()
        .to_string();
    let quiet = read(
        &app,
        Function::GetMessages,
        &bob,
        &[
            ("thread_id", &thread),
            ("since", &since),
            ("changes_since", &changes_since),
        ],
    )
    .await;
    assert!(
        texts(&quiet.body).is_empty() && quiet.body["changes"].as_array().unwrap().is_empty(),
        "{:?}",
        quiet.body
    );
    let history = read(
        &app,
        Function::GetAllMessages,
        &bob,
        &[("thread_id", &thread)],
    )
    .await;
    assert_eq!(texts(&history.body), ["hello", "third"]);
}

#[tokio::test]
async fn the_sync_cursor_gives_a_second_device_what_the_first_one_sent() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    app.send(&thread, &alice, "from my phone").await;
    app.send(&thread, &bob, "reply").await;
    let laptop = read(
        &app,
        Function::GetMessages,
        &alice,
        &[("thread_id", &thread), ("since", "0")],
    )
    .await;
    let mine: Vec<(String, bool)> = laptop.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["message"].as_str().unwrap().to_owned(),
                m["mine"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        mine,
        [
            ("from my phone".to_owned(), true),
            ("reply".to_owned(), false)
        ]
    );
    // The read-receipt mode stays "what others wrote since I last looked".
    let news = read(
        &app,
        Function::GetMessages,
        &alice,
        &[("thread_id", &thread)],
    )
    .await;
    assert_eq!(texts(&news.body), ["reply"]);
}

#[tokio::test]
async fn typing_reaches_acs_at_most_once_per_two_seconds_per_user_and_thread() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    app.emulator.limits().set_enabled(true);
    let mut sent = 0;
    for _ in 0..20 {
        let answer = act(
            &app,
            Function::SendTyping,
            &alice,
            json!({"thread_id": thread}),
        )
        .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        sent += usize::from(answer.body["sent"] == true);
    }
    assert_eq!(sent, 1, "one key press after another, one notification");
    assert_eq!(app.count(Route::SendTyping { thread_id: ANY }), 1);
    let bob_types = act(
        &app,
        Function::SendTyping,
        &bob,
        json!({"thread_id": thread}),
    )
    .await;
    assert_eq!(bob_types.body["sent"], true, "each user has their own");
}

#[tokio::test]
async fn a_thread_s_metadata_and_retention_are_kept_shown_to_members_only_and_end_it_when_due() {
    let app = spawn_app().await;
    let (alice, bob) = app.users().await;
    let outsider = app.outsider().await;
    let made = app
        .call(
            Function::CreateThread,
            post(
                json!({"user1_id": alice.id, "topic": "Case 7", "metadata": {"ticket": "T-7"}, "retention_days": 30}),
                Some(&alice.token),
            ),
        )
        .await;
    assert_eq!(made.status, 200, "{:?}", made.body);
    let thread = made.body["thread_id"].as_str().unwrap().to_owned();
    let add = json!({"thread_id": thread, "user2_id": bob.id});
    assert_eq!(act(&app, Function::AddUser, &alice, add).await.status, 200);

    let seen = get_thread(&app, &bob, &thread).await;
    assert_eq!(seen.status, 200, "{:?}", seen.body);
    assert_eq!(seen.body["metadata"], json!({"ticket": "T-7"}));
    assert_eq!(seen.body["retention_days"], 30);
    let day = |field: &str| {
        time::OffsetDateTime::parse(
            seen.body[field].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    assert_eq!(
        day("deletes_on") - day("created_on"),
        time::Duration::days(30)
    );
    assert_error(
        &get_thread(&app, &outsider, &thread).await,
        403,
        "forbidden",
    );

    let change = json!({"thread_id": thread, "metadata": {"ticket": "", "stage": "open"}, "retention_days": null});
    let changed = act(&app, Function::UpdateThread, &bob, change).await;
    assert_eq!(
        changed.body,
        json!({"message": "Thread updated successfully"})
    );
    let refused =
        json!({"thread_id": thread, "metadata": {"stage": "closed"}, "retention_days": 29});
    assert_error(
        &act(&app, Function::UpdateThread, &bob, refused).await,
        400,
        "invalid_field",
    );
    let stranger = json!({"thread_id": thread, "metadata": {"stage": "mine"}});
    assert_error(
        &act(&app, Function::UpdateThread, &outsider, stranger).await,
        403,
        "forbidden",
    );
    let now = get_thread(&app, &alice, &thread).await.body;
    assert_eq!(
        now["metadata"],
        json!({"stage": "open"}),
        "merged, and nothing refused changed it"
    );
    assert_eq!(
        (now["retention_days"].clone(), now["deletes_on"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(now["topic"], "Case 7");

    // Kept 30 days again, and 31 have passed: ACS has deleted it, for everyone.
    let again = json!({"thread_id": thread, "retention_days": 30});
    assert_eq!(
        act(&app, Function::UpdateThread, &alice, again)
            .await
            .status,
        200
    );
    app.emulator.age_thread(&thread, 31).unwrap();
    assert_error(&get_thread(&app, &bob, &thread).await, 404, "not_found");
    let inbox = read(&app, Function::ListThreads, &alice, &[]).await;
    assert!(!thread_ids(&inbox).contains(&thread), "{:?}", inbox.body);
}

#[tokio::test]
async fn a_thread_s_metadata_stays_within_16_keys_and_8_kib_however_many_updates_add_to_it() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    let keys = |from: usize| -> serde_json::Map<String, Value> {
        (from..from + 16)
            .map(|n| (format!("k{n}"), json!("v")))
            .collect()
    };
    let first = json!({"thread_id": thread, "metadata": keys(0)});
    assert_eq!(
        act(&app, Function::UpdateThread, &bob, first).await.status,
        200
    );
    let more = json!({"thread_id": thread, "metadata": keys(16)});
    let refused = act(&app, Function::UpdateThread, &bob, more).await;
    assert_error(&refused, 400, "invalid_field");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("16 keys")
    );
    let big = json!({"thread_id": thread, "metadata": {"k0": "x".repeat(1000), "k1": "x".repeat(1000),
        "k2": "x".repeat(1000), "k3": "x".repeat(1000), "k4": "x".repeat(1000), "k5": "x".repeat(1000),
        "k6": "x".repeat(1000), "k7": "x".repeat(1000), "k8": "x".repeat(1000)}});
    assert_error(
        &act(&app, Function::UpdateThread, &bob, big).await,
        400,
        "invalid_field",
    );
    let swap = json!({"thread_id": thread, "metadata": {"k0": "", "other": "v"}});
    assert_eq!(
        act(&app, Function::UpdateThread, &alice, swap).await.status,
        200
    );

    // Straight at ACS with Bob's own token: the merged whole is bounded there too.
    let (_, chat) = app.clients();
    let grow = ThreadProperties {
        metadata: Some(
            (100..116)
                .map(|n| (format!("k{n}"), "v".to_owned()))
                .collect(),
        ),
        retention_policy: None,
    };
    let direct = chat
        .update_thread(
            &app.acs_token(&bob),
            &ThreadId::parse(&thread).unwrap(),
            None,
            &grow,
        )
        .await;
    assert!(matches!(direct, Err(AcsError::BadRequest(_))), "{direct:?}");
    let now = get_thread(&app, &alice, &thread).await.body;
    assert_eq!(now["metadata"].as_object().unwrap().len(), 16);
    assert_eq!(now["metadata"]["other"], "v");
}

#[tokio::test]
async fn renaming_and_removing_are_for_participants_and_show_in_the_thread() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    let outsider = app.outsider().await;
    let rename = json!({"thread_id": thread, "topic": "Lunch"});
    assert_error(
        &act(&app, Function::UpdateThread, &outsider, rename.clone()).await,
        403,
        "forbidden",
    );
    assert_eq!(
        act(&app, Function::UpdateThread, &bob, rename).await.status,
        200
    );
    let inbox = read(&app, Function::ListThreads, &alice, &[]).await;
    assert_eq!(inbox.body["threads"][0]["topic"], "Lunch");
    let remove = json!({"thread_id": thread, "remove_user_id": bob.id});
    assert_eq!(
        act(&app, Function::RemoveUser, &alice, remove).await.body["message"],
        "User removed successfully"
    );
    let send = json!({"thread_id": thread, "message": "still here?"});
    assert_error(
        &act(&app, Function::SendMessage, &bob, send).await,
        403,
        "forbidden",
    );
}

#[tokio::test]
async fn each_endpoint_takes_the_sequential_round_trips_it_is_budgeted() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    let message = app.send(&thread, &alice, "counted").await;
    let carol = app.outsider().await;
    let rounds = async |function: Function, request| {
        let (response, timing, _) = function.handle(&app.state, request).await;
        assert_eq!(
            response.status(),
            200,
            "{function:?}: {:?}",
            response.body()
        );
        timing.upstream.rounds
    };
    let with = |who: &User, mut body: Value| {
        body["user_id"] = json!(who.id);
        post(body, Some(&who.token))
    };
    let query = |who: &User, extra: &[(&str, &str)]| {
        let mut pairs = vec![("user_id", who.id.as_str())];
        pairs.extend_from_slice(extra);
        get(&pairs, Some(&who.token))
    };
    let cases = [
        (
            Function::RefreshToken,
            with(&alice, json!({"session": alice.session})),
            2,
        ),
        (Function::ListThreads, query(&alice, &[]), 2),
        (
            Function::GetParticipants,
            query(&alice, &[("thread_id", &thread)]),
            1,
        ),
        (
            Function::UpdateMessage,
            with(
                &alice,
                json!({"thread_id": thread, "message_id": message, "message": "edited"}),
            ),
            1,
        ),
        (
            Function::SendTyping,
            with(&alice, json!({"thread_id": thread})),
            1,
        ),
        (
            Function::UpdateThread,
            with(&bob, json!({"thread_id": thread, "topic": "t"})),
            1,
        ),
        (
            Function::DeleteMessage,
            with(&alice, json!({"thread_id": thread, "message_id": message})),
            1,
        ),
        (
            Function::RemoveUser,
            with(&bob, json!({"thread_id": thread, "remove_user_id": bob.id})),
            1,
        ),
        (
            Function::DeleteThread,
            with(&alice, json!({"thread_id": thread})),
            1,
        ),
        (Function::DeleteUser, with(&carol, json!({})), 2),
    ];
    for (function, request, budget) in cases {
        assert_eq!(rounds(function, request).await, budget, "{function:?}");
    }
}

#[tokio::test]
async fn a_history_past_six_megabytes_is_refused_whole_read_in_pages_and_synced_in_parts() {
    let (mut app, alice, bob, thread) = spawn_conversation().await;
    // Reading 6 MB from a debug-built emulator, beside the rest of the suite, can take longer
    // than the tests' usual budget; a deployed function has 25 s.
    app.state.config.request_budget = std::time::Duration::from_secs(25);
    let filler = "x".repeat(28 * 1024 - 16);
    for i in 0..230 {
        app.send(&thread, &alice, &format!("{i:03} {filler}")).await;
    }
    let whole = read(
        &app,
        Function::GetAllMessages,
        &bob,
        &[("thread_id", &thread)],
    )
    .await;
    assert_error(&whole, 413, "history_too_large");
    assert!(
        whole.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("page_size")
    );

    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("thread_id", thread.as_str()), ("page_size", "50")];
        if let Some(cursor) = cursor.as_deref() {
            query.push(("page", cursor));
        }
        let page = read(&app, Function::GetAllMessages, &bob, &query).await;
        assert_eq!(page.status, 200, "{:?}", page.body["error"]);
        assert!(
            page.body.to_string().len() < 6 * 1024 * 1024 / 2,
            "each page is small"
        );
        pages.push(texts(&page.body));
        cursor = page.body["next_page"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    let first_words =
        |page: &Vec<String>| -> Vec<String> { page.iter().map(|t| t[..3].to_owned()).collect() };
    assert_eq!(
        first_words(&pages[0]).last().map(String::as_str),
        Some("229"),
        "newest page first"
    );
    for page in &pages {
        let words = first_words(page);
        let mut sorted = words.clone();
        sorted.sort();
        assert_eq!(words, sorted, "each page oldest first");
    }
    let mut all: Vec<String> = pages.iter().flat_map(first_words).collect();
    all.sort();
    let expected: Vec<String> = (0..230).map(|i| format!("{i:03}")).collect();
    assert_eq!(all, expected, "every message once, across the pages");

    // What the page does on opening a thread (`since=0`) and the receipt cursor: each answer
    // under the limit, saying where to go on, until everything has come once.
    for cursor in ["since", "receipt"] {
        let mut since = "0".to_owned();
        let mut synced = Vec::new();
        let mut answers = 0;
        loop {
            let mut query = vec![("thread_id", thread.as_str())];
            if cursor == "since" {
                query.push(("since", since.as_str()));
            }
            let part = read(&app, Function::GetMessages, &bob, &query).await;
            assert_eq!(part.status, 200, "{cursor}: {:?}", part.body["error"]);
            assert!(
                part.body.to_string().len() < 6 * 1024 * 1024,
                "{cursor}: within the limit"
            );
            synced.extend(first_words(&texts(&part.body)));
            since = part.body["next_since"].as_u64().unwrap().to_string();
            answers += 1;
            if part.body["more"] != true {
                break;
            }
            assert!(answers < 5, "{cursor}: the parts end");
        }
        assert!(answers >= 2, "{cursor}: 6.6 MB cannot come in one answer");
        assert_eq!(synced, expected, "{cursor}: every message once, in order");
    }
}
