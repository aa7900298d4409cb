//! Files beside ACS: presigned uploads straight to S3 (moto's here; the local stack's ministack,
//! which verifies presigned requests, in tests/e2e), attachments in messages, downloads for
//! members only, and files that go with their message or thread.

use std::collections::BTreeMap;

use acs_chat_api::acs::chat::{ChatClient, MessageKind, SendMessage};
use acs_chat_api::acs::{AcsHttp, ThreadId};
use acs_chat_api::api::Function;
use serde_json::{Value, json};

use support::{
    DAILY_UPLOAD_BYTES, DAILY_UPLOADS, TestApp, User, assert_error, fast_retry, get, moto, post,
    spawn_app,
};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\nfake";

async fn scene() -> (TestApp, User, User, String) {
    let app = spawn_app().await.with_files().await;
    let (alice, bob) = app.users().await;
    let thread = app.thread(&alice, &bob).await;
    (app, alice, bob, thread)
}

async fn upload_url(app: &TestApp, who: &User, thread: &str, file: Value) -> support::Answered {
    let mut body = json!({"thread_id": thread, "user_id": who.id});
    body.as_object_mut()
        .unwrap()
        .extend(file.as_object().unwrap().clone());
    app.call(Function::UploadUrl, post(body, Some(&who.token)))
        .await
}

async fn send(
    app: &TestApp,
    who: &User,
    thread: &str,
    body: Value,
    key: Option<&str>,
) -> support::Answered {
    let mut body = body;
    body["thread_id"] = json!(thread);
    body["user_id"] = json!(who.id);
    let mut request = post(body, Some(&who.token));
    if let Some(key) = key {
        request
            .headers_mut()
            .insert("idempotency-key", key.parse().unwrap());
    }
    app.call(Function::SendMessage, request).await
}

async fn download_url(app: &TestApp, who: &User, thread: &str, id: &str) -> support::Answered {
    let query = [
        ("thread_id", thread),
        ("user_id", who.id.as_str()),
        ("attachment_id", id),
    ];
    app.call(Function::DownloadUrl, get(&query, Some(&who.token)))
        .await
}

async fn messages(app: &TestApp, who: &User, thread: &str) -> Vec<Value> {
    let query = [("thread_id", thread), ("user_id", who.id.as_str())];
    let answer = app
        .call(Function::GetMessages, get(&query, Some(&who.token)))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["messages"].as_array().unwrap().clone()
}

fn bucket(app: &TestApp) -> String {
    app.setup.files_bucket.clone().unwrap()
}

#[tokio::test]
async fn alice_sends_an_image_and_a_pdf_and_bob_lists_them_and_downloads_each() {
    let (app, alice, bob, thread) = scene().await;
    let image = app
        .upload(&alice, &thread, "cat.png", "image/png", PNG)
        .await;
    let pdf = app
        .upload(
            &alice,
            &thread,
            "Résumé 2026.pdf",
            "application/pdf",
            b"%PDF-1.7",
        )
        .await;
    let sent = send(
        &app,
        &alice,
        &thread,
        json!({"message": "two files", "attachments": [image, pdf]}),
        None,
    )
    .await;
    assert_eq!(sent.status, 200, "{:?}", sent.body);

    let listed = messages(&app, &bob, &thread).await;
    let message = listed.iter().find(|m| m["message"] == "two files").unwrap();
    assert_eq!(
        message["attachments"],
        json!([
            {"id": image, "name": "cat.png", "content_type": "image/png", "size": PNG.len()},
            {"id": pdf, "name": "Résumé 2026.pdf", "content_type": "application/pdf", "size": 8},
        ])
    );

    let shown = download_url(&app, &bob, &thread, &image).await;
    assert_eq!(shown.status, 200, "{:?}", shown.body);
    assert_eq!(shown.body["inline"], true);
    let url = shown.body["url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Expires=300"), "{url}");
    assert!(url.contains("response-content-disposition=inline"), "{url}");
    let fetched = reqwest::get(url).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), PNG);

    let saved = download_url(&app, &bob, &thread, &pdf).await;
    assert_eq!(saved.body["inline"], false);
    assert_eq!(saved.body["name"], "Résumé 2026.pdf");
    let url = saved.body["url"].as_str().unwrap();
    assert!(
        url.contains("response-content-disposition=attachment"),
        "{url}"
    );
    assert!(
        url.contains("response-content-type=application%2Foctet-stream"),
        "{url}"
    );
}

#[tokio::test]
async fn a_message_of_files_alone_shows_no_text_of_its_own() {
    let (app, alice, bob, thread) = scene().await;
    let image = app
        .upload(&alice, &thread, "cat.png", "image/png", PNG)
        .await;
    let sent = send(&app, &alice, &thread, json!({"attachments": [image]}), None).await;
    assert_eq!(sent.status, 200, "{:?}", sent.body);
    let listed = messages(&app, &bob, &thread).await;
    let message = listed.iter().find(|m| !m["attachments"].is_null()).unwrap();
    assert_eq!(message["message"], "");
    assert_eq!(message["attachments"][0]["name"], "cat.png");
    // ACS needs text: the names stand in for it, for clients that read ACS directly.
    let raw = app.live_texts(&thread, &bob).await;
    assert!(raw.contains(&"cat.png".to_owned()), "{raw:?}");
    // An edit gives it text of its own, which is then shown.
    let body = json!({"thread_id": thread, "user_id": alice.id,
                      "message_id": sent.body["message_id"], "message": "a cat"});
    let edited = app
        .call(Function::UpdateMessage, post(body, Some(&alice.token)))
        .await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    let query = [("thread_id", thread.as_str()), ("user_id", bob.id.as_str())];
    let history = app
        .call(Function::GetAllMessages, get(&query, Some(&bob.token)))
        .await;
    assert_eq!(
        history.body["messages"][0]["message"], "a cat",
        "{:?}",
        history.body
    );
}

#[tokio::test]
async fn an_outsider_gets_no_upload_or_download_url() {
    let (app, alice, _bob, thread) = scene().await;
    let image = app
        .upload(&alice, &thread, "cat.png", "image/png", PNG)
        .await;
    let outsider = app.outsider().await;
    let signed = upload_url(
        &app,
        &outsider,
        &thread,
        json!({"name": "x.png", "content_type": "image/png", "size": 4}),
    )
    .await;
    assert_error(&signed, 403, "forbidden");
    assert!(signed.body.get("url").is_none());
    let fetched = download_url(&app, &outsider, &thread, &image).await;
    assert_error(&fetched, 403, "forbidden");
    assert!(fetched.body.get("url").is_none());
    // A made-up id answers the same to an outsider: the refusal says nothing of what exists.
    let made_up = download_url(&app, &outsider, &thread, &"0".repeat(32)).await;
    assert_error(&made_up, 403, "forbidden");
    // Someone else's token for alice's id is refused before anything.
    let mut as_alice = json!({"thread_id": thread, "user_id": alice.id, "name": "x.png", "content_type": "image/png", "size": 4});
    as_alice["user_id"] = json!(alice.id);
    let forged = app
        .call(Function::UploadUrl, post(as_alice, Some(&outsider.token)))
        .await;
    assert_error(&forged, 403, "token_user_mismatch");
}

#[tokio::test]
async fn a_file_of_a_type_size_or_name_not_taken_is_refused_before_anything_is_signed() {
    let (app, alice, _bob, thread) = scene().await;
    let cases = [
        (
            json!({"name": "page.html", "content_type": "text/html", "size": 4}),
            "type_not_allowed",
        ),
        (
            json!({"name": "x.svg", "content_type": "image/svg+xml", "size": 4}),
            "type_not_allowed",
        ),
        (
            json!({"name": "x.png", "content_type": "image/png", "size": 0}),
            "file_too_large",
        ),
        (
            json!({"name": "x.png", "content_type": "image/png", "size": 1_048_577}),
            "file_too_large",
        ),
        (
            json!({"name": "../x.png", "content_type": "image/png", "size": 4}),
            "invalid_field",
        ),
        (
            json!({"name": "a\\b.png", "content_type": "image/png", "size": 4}),
            "invalid_field",
        ),
        (
            json!({"name": "a\nb.png", "content_type": "image/png", "size": 4}),
            "invalid_field",
        ),
    ];
    for (file, code) in cases {
        let answer = upload_url(&app, &alice, &thread, file.clone()).await;
        assert_error(&answer, 400, code);
        assert!(answer.body.get("url").is_none(), "{file}");
    }
    assert!(moto::keys(&bucket(&app), "").await.is_empty());
}

#[tokio::test]
async fn bob_cannot_attach_alice_s_upload_nor_one_of_another_thread() {
    let (app, alice, bob, thread) = scene().await;
    let image = app
        .upload(&alice, &thread, "cat.png", "image/png", PNG)
        .await;
    let stolen = send(
        &app,
        &bob,
        &thread,
        json!({"message": "mine now", "attachments": [image]}),
        None,
    )
    .await;
    assert_error(&stolen, 403, "attachment_not_yours");
    let other = app.thread(&alice, &bob).await;
    let elsewhere = send(
        &app,
        &alice,
        &other,
        json!({"message": "moved", "attachments": [image]}),
        None,
    )
    .await;
    assert_error(&elsewhere, 404, "attachment_not_found");
    for bad in [
        json!(["not-an-id"]),
        json!("x"),
        json!([image, image]),
        json!(vec![image.clone(); 11]),
    ] {
        let answer = send(
            &app,
            &alice,
            &thread,
            json!({"message": "x", "attachments": bad}),
            None,
        )
        .await;
        assert_error(&answer, 400, "invalid_field");
    }
    let texts = app.live_texts(&thread, &alice).await;
    assert!(
        !texts.iter().any(|t| t == "mine now" || t == "x"),
        "{texts:?}"
    );
}

#[tokio::test]
async fn an_upload_belongs_to_one_message_and_a_retry_of_its_send_finds_that_message() {
    let (app, alice, _bob, thread) = scene().await;
    let image = app
        .upload(&alice, &thread, "cat.png", "image/png", PNG)
        .await;
    let body = json!({"message": "once", "attachments": [image]});
    let first = send(&app, &alice, &thread, body.clone(), Some("send-1")).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let retried = send(&app, &alice, &thread, body.clone(), Some("send-1")).await;
    assert_eq!(retried.body["message_id"], first.body["message_id"]);
    let again = send(&app, &alice, &thread, body, Some("send-2")).await;
    assert_error(&again, 409, "attachment_in_use");
}

#[tokio::test]
async fn deleting_a_message_deletes_its_files_and_deleting_the_thread_deletes_the_rest() {
    let (app, alice, _bob, thread) = scene().await;
    let prefix = format!("threads/{thread}/");
    let sent_file = app.upload(&alice, &thread, "a.png", "image/png", PNG).await;
    let kept_file = app.upload(&alice, &thread, "b.png", "image/png", PNG).await;
    let staged = app.upload(&alice, &thread, "c.png", "image/png", PNG).await;
    let sent = send(
        &app,
        &alice,
        &thread,
        json!({"message": "a", "attachments": [sent_file]}),
        None,
    )
    .await;
    send(
        &app,
        &alice,
        &thread,
        json!({"message": "b", "attachments": [kept_file]}),
        None,
    )
    .await;
    assert_eq!(moto::keys(&bucket(&app), &prefix).await.len(), 3);

    let body =
        json!({"thread_id": thread, "user_id": alice.id, "message_id": sent.body["message_id"]});
    let deleted = app
        .call(Function::DeleteMessage, post(body, Some(&alice.token)))
        .await;
    assert_eq!(deleted.status, 200, "{:?}", deleted.body);
    let left = moto::keys(&bucket(&app), &prefix).await;
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(!left.iter().any(|k| k.ends_with(&sent_file)), "{left:?}");
    assert!(left.iter().any(|k| k.ends_with(&staged)), "{left:?}");

    let body = json!({"thread_id": thread, "user_id": alice.id});
    let gone = app
        .call(Function::DeleteThread, post(body, Some(&alice.token)))
        .await;
    assert_eq!(gone.status, 200, "{:?}", gone.body);
    assert!(moto::keys(&bucket(&app), &prefix).await.is_empty());
}

#[tokio::test]
async fn a_message_that_names_someone_else_s_upload_in_its_metadata_cannot_delete_it() {
    let (app, alice, bob, thread) = scene().await;
    let image = app
        .upload(&alice, &thread, "cat.png", "image/png", PNG)
        .await;
    send(
        &app,
        &alice,
        &thread,
        json!({"message": "mine", "attachments": [image]}),
        None,
    )
    .await;
    // Bob writes to ACS directly, as any participant can, claiming alice's file.
    let claimed =
        json!([{"id": image, "name": "cat.png", "content_type": "image/png", "size": 12}])
            .to_string();
    let chat = ChatClient::new(AcsHttp::new(fast_retry()).unwrap(), app.emulator.endpoint());
    let forged = chat
        .send_message(
            &app.acs_token(&bob),
            &ThreadId::parse(thread.clone()).unwrap(),
            &SendMessage {
                content: "claimed",
                sender_display_name: None,
                kind: MessageKind::Text,
                metadata: BTreeMap::from([("attachments", claimed.as_str())]),
            },
        )
        .await
        .unwrap();
    let body = json!({"thread_id": thread, "user_id": bob.id, "message_id": forged.as_str()});
    let deleted = app
        .call(Function::DeleteMessage, post(body, Some(&bob.token)))
        .await;
    assert_eq!(deleted.status, 200, "{:?}", deleted.body);
    let left = moto::keys(&bucket(&app), &format!("threads/{thread}/")).await;
    assert_eq!(left.len(), 1, "alice's file is still there: {left:?}");
}

#[tokio::test]
async fn a_deployment_without_a_bucket_refuses_files_and_deletes_as_before() {
    let app = spawn_app().await;
    let (alice, bob) = app.users().await;
    let thread = app.thread(&alice, &bob).await;
    let signed = upload_url(
        &app,
        &alice,
        &thread,
        json!({"name": "x.png", "content_type": "image/png", "size": 4}),
    )
    .await;
    assert_error(&signed, 500, "misconfigured");
    let id = app.send(&thread, &alice, "plain").await;
    let body = json!({"thread_id": thread, "user_id": alice.id, "message_id": id});
    let deleted = app
        .call(Function::DeleteMessage, post(body, Some(&alice.token)))
        .await;
    assert_eq!(deleted.status, 200, "{:?}", deleted.body);
}

#[tokio::test]
async fn a_person_signs_a_day_s_worth_of_uploads_at_most_even_all_at_once() {
    let (app, alice, bob, thread) = scene().await;
    let outsider = app.outsider().await;
    let mib = 1024 * 1024;
    let file = |size: u64| json!({"name": "big.png", "content_type": "image/png", "size": size});
    // Refused by ACS first: counts nothing.
    for _ in 0..3 {
        let refused = upload_url(&app, &outsider, &thread, file(mib)).await;
        assert_error(&refused, 403, "forbidden");
    }
    let at_once = futures_util::future::join_all(
        (0..3 * DAILY_UPLOAD_BYTES / mib).map(|_| upload_url(&app, &alice, &thread, file(mib))),
    )
    .await;
    let signed = at_once.iter().filter(|answer| answer.status == 200).count() as u64;
    assert_eq!(
        signed,
        DAILY_UPLOAD_BYTES / mib,
        "a day's bytes, and no more"
    );
    for answer in at_once.iter().filter(|answer| answer.status != 200) {
        assert_error(answer, 429, "quota_exceeded");
        let wait: u64 = answer.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=86_400).contains(&wait), "{wait}");
    }
    // Bob's day is his own; and a day's count of files holds as its bytes do.
    let small = futures_util::future::join_all(
        (0..DAILY_UPLOADS + 5).map(|_| upload_url(&app, &bob, &thread, file(4))),
    )
    .await;
    assert_eq!(
        small.iter().filter(|answer| answer.status == 200).count() as u64,
        DAILY_UPLOADS
    );
}
