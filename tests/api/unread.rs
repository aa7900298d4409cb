//! What's new for me: read positions kept per person in the people table, unread counts in the
//! inbox at any group size, "mark unread from here", mutes, and who may touch any of it.

use acs_chat_api::api::Function;
use serde_json::{Value, json};

use support::channels::channel_of;
use support::{TestApp, User, assert_error, get, post, spawn_app};

async fn app() -> TestApp {
    spawn_app().await.with_sign_in("open").await.0
}

async fn inbox(app: &TestApp, user: &User) -> Value {
    let answer = app
        .call(
            Function::ListThreads,
            get(&[("user_id", &user.id)], Some(&user.token)),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body
}

/// The unread count `user`'s inbox shows for `thread`.
async fn unread(app: &TestApp, user: &User, thread: &str) -> Value {
    let listed = inbox(app, user).await;
    listed["threads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["thread_id"] == thread)
        .map(|t| t["unread_count"].clone())
        .unwrap_or_else(|| panic!("{thread} is not in the inbox: {listed}"))
}

async fn mark_read(
    app: &TestApp,
    user: &User,
    thread: &str,
    sequence_id: u64,
    unread: bool,
) -> Value {
    let body = json!({"thread_id": thread, "user_id": user.id, "sequence_id": sequence_id, "unread": unread});
    let answer = app
        .call(Function::MarkRead, post(body, Some(&user.token)))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body
}

/// The sequence ids of `thread`'s chat messages, oldest first.
async fn sequence_ids(app: &TestApp, thread: &str, reader: &User) -> Vec<u64> {
    let mut ids: Vec<u64> = app
        .raw_history(thread, reader)
        .await
        .iter()
        .filter(|m| m.is_user_message())
        .map(|m| m.sequence_id)
        .collect();
    ids.sort();
    ids
}

/// The same person on another device: another token of the same identity.
fn other_device(app: &TestApp, user: &User) -> User {
    User {
        token: app.minted(&user.id, time::Duration::hours(1)),
        ..user.clone()
    }
}

#[tokio::test]
async fn in_a_thread_of_25_seven_messages_are_seven_unread_to_each_other_member_and_none_to_the_sender()
 {
    let app = app().await;
    let (thread, members) = app.group(25).await;
    let sender = &members[3];
    for i in 0..7 {
        app.send(&thread, sender, &format!("news {i}")).await;
    }
    for member in &members {
        let expected = if member.id == sender.id { 0 } else { 7 };
        assert_eq!(
            unread(&app, member, &thread).await,
            json!(expected),
            "{}",
            member.id
        );
        assert_eq!(inbox(&app, member).await["unread_total"], json!(expected));
    }
    let listed = inbox(&app, &members[0]).await;
    let last = &listed["threads"][0]["last_message"];
    assert_eq!(
        (last["preview"].clone(), last["sender"].clone()),
        (json!("news 6"), json!(sender.id))
    );
}

#[tokio::test]
async fn a_thread_of_250_counts_as_a_thread_of_2() {
    let app = app().await;
    let (thread, members) = app.group(250).await;
    for i in 0..3 {
        app.send(&thread, &members[0], &format!("to all {i}")).await;
    }
    for member in [&members[1], &members[100], &members[249]] {
        assert_eq!(unread(&app, member, &thread).await, json!(3));
    }
    assert_eq!(unread(&app, &members[0], &thread).await, json!(0));
}

#[tokio::test]
async fn reading_on_one_device_clears_the_count_on_another_and_marking_unread_brings_back_the_rest()
{
    let app = app().await;
    let (thread, members) = app.group(3).await;
    let (alice, bob) = (&members[0], &members[1]);
    for i in 0..7 {
        app.send(&thread, alice, &format!("m{i}")).await;
    }
    let ids = sequence_ids(&app, &thread, bob).await;
    let laptop = other_device(&app, bob);
    assert_eq!(unread(&app, &laptop, &thread).await, json!(7));
    let marked = mark_read(&app, bob, &thread, ids[6], false).await;
    assert_eq!(marked["read_up_to"], json!(ids[6]));
    assert_eq!(unread(&app, &laptop, &thread).await, json!(0));

    // An older position never wins over a newer one: devices catching up at once.
    let stale = mark_read(&app, &laptop, &thread, ids[1], false).await;
    assert_eq!(stale["moved"], json!(false));
    assert_eq!(unread(&app, bob, &thread).await, json!(0));

    // "Mark unread from here", at the fifth message: it and the two after it.
    mark_read(&app, &laptop, &thread, ids[4], true).await;
    assert_eq!(unread(&app, bob, &thread).await, json!(3));
    // Alice's own position is untouched by Bob's.
    assert_eq!(unread(&app, &members[2], &thread).await, json!(7));
}

#[tokio::test]
async fn a_read_on_one_device_is_pushed_to_the_person_s_own_channel_and_one_that_moves_nothing_is_not()
 {
    let (app, channels, _keys) = app().await.with_realtime().await;
    let (thread, members) = app.group(2).await;
    let (alice, bob) = (&members[0], &members[1]);
    for i in 0..3 {
        app.send(&thread, alice, &format!("m{i}")).await;
    }
    let ids = sequence_ids(&app, &thread, bob).await;
    mark_read(&app, bob, &thread, ids[2], false).await;
    mark_read(&app, &other_device(&app, bob), &thread, ids[0], false).await;
    let reads = |user: &User| -> Vec<Value> {
        channels
            .events(&channel_of(user))
            .into_iter()
            .filter(|event| event["kind"] == "read")
            .collect()
    };
    assert_eq!(
        reads(bob),
        vec![json!({"kind": "read", "thread_id": thread, "sequence_id": ids[2]})]
    );
    assert!(reads(alice).is_empty(), "a read is the reader's own");
}

#[tokio::test]
async fn more_than_99_unread_is_99_plus_and_a_muted_thread_is_counted_but_not_in_the_total() {
    let app = app().await;
    let (busy, members) = app.group(2).await;
    let (alice, bob) = (&members[0], &members[1]);
    for i in 0..101 {
        app.send(&busy, alice, &format!("m{i}")).await;
    }
    let quiet = app.thread(alice, bob).await;
    app.send(&quiet, alice, "just one").await;
    assert_eq!(unread(&app, bob, &busy).await, json!("99+"));
    assert_eq!(inbox(&app, bob).await["unread_total"], json!(101));

    let mute = |muted: bool| {
        post(
            json!({"thread_id": busy, "user_id": bob.id, "muted": muted}),
            Some(&bob.token),
        )
    };
    let muted = app.call(Function::MuteThread, mute(true)).await;
    assert_eq!(muted.body, json!({"thread_id": busy, "muted": true}));
    let listed = inbox(&app, bob).await;
    let busy_row = listed["threads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["thread_id"] == busy.as_str())
        .unwrap();
    assert_eq!(
        (busy_row["muted"].clone(), busy_row["unread_count"].clone()),
        (json!(true), json!("99+"))
    );
    assert_eq!(
        listed["unread_total"],
        json!(1),
        "only the quiet thread's message"
    );
    app.call(Function::MuteThread, mute(false)).await;
    assert_eq!(inbox(&app, bob).await["unread_total"], json!(101));
}

#[tokio::test]
async fn an_inbox_of_50_threads_with_counts_takes_two_sequential_round_trips() {
    let app = app().await;
    let (alice, bob) = app.users().await;
    for _ in 0..50 {
        let thread = app.thread(&alice, &bob).await;
        app.send(&thread, &alice, "hi").await;
    }
    let request = get(
        &[("user_id", &bob.id), ("max_page_size", "50")],
        Some(&bob.token),
    );
    let (response, timing, _) = Function::ListThreads.handle(&app.state, request).await;
    assert_eq!(response.status(), 200);
    let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert_eq!(body["threads"].as_array().unwrap().len(), 50);
    assert_eq!(body["unread_total"], json!(50));
    assert_eq!(
        timing.upstream.rounds, 2,
        "the threads beside the positions, then each thread's news"
    );
}

#[tokio::test]
async fn strangers_removed_members_and_other_people_cannot_read_or_mute_for_anyone() {
    let app = app().await;
    let (thread, members) = app.group(3).await;
    let (alice, bob, carol) = (&members[0], &members[1], &members[2]);
    app.send(&thread, alice, "hello").await;
    let stranger = app.outsider().await;
    let body = |user: &User, extra: Value| {
        let mut body = json!({"thread_id": thread, "user_id": user.id});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let read = json!({"sequence_id": 1_000_000});
    let mute = json!({"muted": true});
    for (function, extra) in [(Function::MarkRead, &read), (Function::MuteThread, &mute)] {
        // A stranger, for their own identity: ACS says they are not in the thread.
        let answer = app
            .call(
                function,
                post(body(&stranger, extra.clone()), Some(&stranger.token)),
            )
            .await;
        assert_error(&answer, 403, "forbidden");
        // A member, for another member: the token is not theirs.
        let answer = app
            .call(function, post(body(bob, extra.clone()), Some(&carol.token)))
            .await;
        assert_error(&answer, 403, "token_user_mismatch");
    }
    // Carol leaves; from then on she cannot keep positions there either.
    let leave = json!({"thread_id": thread, "user_id": carol.id, "remove_user_id": carol.id});
    app.call(Function::RemoveUser, post(leave, Some(&carol.token)))
        .await;
    let answer = app
        .call(
            Function::MarkRead,
            post(body(carol, read.clone()), Some(&carol.token)),
        )
        .await;
    assert_error(&answer, 403, "forbidden");

    // None of it moved Bob's count, and nothing was written for the stranger or Carol.
    assert_eq!(unread(&app, bob, &thread).await, json!(1));
    let items = app.people_items().await;
    assert!(items.is_empty(), "{items:?}");
}

#[tokio::test]
async fn in_a_thread_of_25_the_default_cursor_loses_and_doubles_nothing_and_reading_clears_the_count()
 {
    let app = app().await;
    let (thread, members) = app.group(25).await;
    let (alice, bob) = (&members[0], &members[1]);
    for i in 0..7 {
        app.send(&thread, alice, &format!("first {i}")).await;
    }
    let first: Vec<String> = (0..7).map(|i| format!("first {i}")).collect();
    assert_eq!(app.fetch(&thread, bob, None).await.0, first);
    // ACS keeps no receipts above 20 participants: the position is what remembers.
    assert_eq!(app.fetch(&thread, bob, None).await.0, Vec::<String>::new());
    assert_eq!(
        unread(&app, &other_device(&app, bob), &thread).await,
        json!(0)
    );
    app.send(&thread, alice, "later").await;
    app.send(&thread, bob, "mine").await;
    assert_eq!(app.fetch(&thread, bob, None).await.0, ["later"]);
    assert_eq!(
        unread(&app, &members[2], &thread).await,
        json!(9),
        "another member's count is their own"
    );
}
