use acs_chat_api::acs::chat::{
    ChatMessage, ChatParticipant, CommunicationIdentifier, MessageKind, Page, RetentionPolicy,
    SendMessage, ThreadProperties,
};
use acs_chat_api::acs::{AcsError, AcsHttp, BearerToken, ChatClient, MessageId, ThreadId, UserId};

use crate::helpers::{fast_policy, spawn_acs, spawn_acs_with};
use acs_emulator::{ANY, Config, Route};

fn text(content: &str) -> SendMessage<'_> {
    SendMessage {
        content,
        sender_display_name: None,
        kind: MessageKind::Text,
        metadata: Default::default(),
    }
}

#[tokio::test]
async fn create_thread_adds_the_creator_and_a_repeated_request_id_returns_the_same_thread() {
    let acs = spawn_acs().await;
    let alice = acs.user().await;
    let first = acs
        .chat
        .create_thread(
            &alice.token,
            "lunch",
            &[],
            "same-id",
            &ThreadProperties::default(),
        )
        .await
        .unwrap();
    let again = acs
        .chat
        .create_thread(
            &alice.token,
            "lunch",
            &[],
            "same-id",
            &ThreadProperties::default(),
        )
        .await
        .unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(first.topic, "lunch");

    let participants = acs
        .chat
        .list_participants(&alice.token, &first.id)
        .await
        .unwrap();
    let ids: Vec<_> = participants
        .iter()
        .filter_map(|p| p.communication_identifier.id())
        .collect();
    assert_eq!(ids, [alice.id.as_str()]);
}

#[tokio::test]
async fn a_thread_keeps_its_metadata_merged_and_its_retention_and_is_gone_once_that_ends() {
    let acs = spawn_acs().await;
    let alice = acs.user().await;
    let made = ThreadProperties {
        metadata: Some([("team".into(), "blue".into()), ("case".into(), "7".into())].into()),
        retention_policy: Some(RetentionPolicy::ThreadCreationDate {
            delete_thread_after_days: 30,
        }),
    };
    let thread = acs
        .chat
        .create_thread(&alice.token, "kept", &[], "r-kept", &made)
        .await
        .unwrap();
    assert_eq!(thread.metadata, made.metadata.clone().unwrap());
    assert_eq!(thread.retention_policy, made.retention_policy);

    let changes = ThreadProperties {
        metadata: Some(
            [
                ("case".into(), String::new()),
                ("stage".into(), "open".into()),
            ]
            .into(),
        ),
        retention_policy: Some(RetentionPolicy::None),
    };
    acs.chat
        .update_thread(&alice.token, &thread.id, Some("renamed"), &changes)
        .await
        .unwrap();
    let read = acs.chat.get_thread(&alice.token, &thread.id).await.unwrap();
    assert_eq!(read.topic, "renamed");
    let expected: std::collections::BTreeMap<String, String> = [
        ("team".into(), "blue".into()),
        ("stage".into(), "open".into()),
    ]
    .into();
    assert_eq!(
        read.metadata, expected,
        "merged: an empty value removes its key"
    );
    assert_eq!(read.retention_policy, Some(RetentionPolicy::None));

    // 31 days kept for 30: ACS deletes it, for everyone.
    let short = ThreadProperties {
        retention_policy: Some(RetentionPolicy::ThreadCreationDate {
            delete_thread_after_days: 30,
        }),
        ..ThreadProperties::default()
    };
    let ending = acs
        .chat
        .create_thread(&alice.token, "ending", &[], "r-ending", &short)
        .await
        .unwrap();
    acs.emulator.age_thread(ending.id.as_str(), 31).unwrap();
    let gone = acs.chat.get_thread(&alice.token, &ending.id).await;
    assert!(matches!(gone, Err(AcsError::NotFound(_))), "{gone:?}");
    let (listed, _) = acs.chat.list_threads(&alice.token, 10, None).await.unwrap();
    let ended = listed.iter().find(|t| t.id == ending.id).unwrap();
    assert!(ended.deleted_on.is_some(), "listed as deleted");
    assert!(
        listed
            .iter()
            .any(|t| t.id == thread.id && t.deleted_on.is_none())
    );
}

#[tokio::test]
async fn a_retention_outside_30_to_90_days_is_refused_and_makes_no_thread() {
    let acs = spawn_acs().await;
    let alice = acs.user().await;
    for days in [29, 91] {
        let properties = ThreadProperties {
            retention_policy: Some(RetentionPolicy::ThreadCreationDate {
                delete_thread_after_days: days,
            }),
            ..ThreadProperties::default()
        };
        let refused = acs
            .chat
            .create_thread(&alice.token, "t", &[], &format!("r-{days}"), &properties)
            .await;
        assert!(
            matches!(refused, Err(AcsError::BadRequest(_))),
            "{days}: {refused:?}"
        );
    }
    let (listed, _) = acs.chat.list_threads(&alice.token, 10, None).await.unwrap();
    assert!(listed.is_empty(), "{listed:?}");
}

#[tokio::test]
async fn add_participants_adds_known_users_once_and_reports_unknown_ones() {
    let acs = spawn_acs().await;
    let (alice, bob) = (acs.user().await, acs.user().await);
    let thread = acs.thread(&alice, &[]).await;
    let stranger = UserId::parse(format!("{}9", bob.id)).unwrap();
    let invalid = acs
        .chat
        .add_participants(
            &alice.token,
            &thread,
            &[
                ChatParticipant::user(&bob.id, Some("Bob")),
                ChatParticipant::user(&stranger, None),
            ],
        )
        .await
        .unwrap();
    assert_eq!(invalid.len(), 1);
    assert_eq!(
        (invalid[0].target.as_str(), invalid[0].code.as_str()),
        (stranger.as_str(), "403")
    );

    acs.chat
        .add_participants(
            &alice.token,
            &thread,
            &[ChatParticipant::user(&bob.id, None)],
        )
        .await
        .unwrap();
    let participants = acs
        .chat
        .list_participants(&bob.token, &thread)
        .await
        .unwrap();
    assert_eq!(participants.len(), 2);
}

#[tokio::test]
async fn a_malformed_participant_id_is_a_bad_request() {
    let acs = spawn_acs().await;
    let alice = acs.user().await;
    let thread = acs.thread(&alice, &[]).await;
    let error = acs
        .chat
        .add_participants(
            &alice.token,
            &thread,
            &[ChatParticipant {
                communication_identifier: CommunicationIdentifier {
                    raw_id: Some("8:acs:fakeid===".into()),
                    communication_user: None,
                },
                display_name: None,
                share_history_time: None,
            }],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, AcsError::BadRequest(e) if e.code == "BadRequest"),
        "{error:?}"
    );
}

#[tokio::test]
async fn messages_list_newest_first_across_pages_with_system_messages_first_in_the_thread() {
    let acs = spawn_acs().await;
    let (alice, bob) = (acs.user().await, acs.user().await);
    let thread = acs.thread(&alice, &[&bob]).await;
    let mut sent = Vec::new();
    for i in 0..5 {
        let sender = if i % 2 == 0 { &alice } else { &bob };
        let id = acs
            .chat
            .send_message(&sender.token, &thread, &text(&format!("m{i}")))
            .await
            .unwrap();
        sent.push(id);
    }

    let first: Page<ChatMessage> = acs
        .chat
        .list_messages(&bob.token, &thread, Some(2), None)
        .await
        .unwrap();
    assert_eq!(first.value.len(), 2);
    assert!(first.next_link.is_some());

    let all = acs
        .chat
        .list_all_messages(&bob.token, &thread)
        .await
        .unwrap();
    let sequences: Vec<u64> = all.iter().map(|m| m.sequence_id).collect();
    assert_eq!(sequences, [7, 6, 5, 4, 3, 2, 1]);
    let kinds: Vec<MessageKind> = all.iter().rev().take(2).map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [MessageKind::ParticipantAdded, MessageKind::TopicUpdated]
    );
    let texts: Vec<&str> = all.iter().rev().filter_map(|m| m.text()).collect();
    assert_eq!(texts, ["m0", "m1", "m2", "m3", "m4"]);
    let user_messages: Vec<&str> = all
        .iter()
        .filter(|m| m.is_user_message())
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(
        user_messages,
        sent.iter().rev().map(MessageId::as_str).collect::<Vec<_>>()
    );
    assert_eq!(all[0].sender_id(), Some(alice.id.as_str()));
}

#[tokio::test]
async fn paging_follows_next_links_until_the_last_page() {
    let acs = spawn_acs().await;
    let alice = acs.user().await;
    let thread = acs.thread(&alice, &[]).await;
    for i in 0..4 {
        acs.chat
            .send_message(&alice.token, &thread, &text(&format!("m{i}")))
            .await
            .unwrap();
    }
    let mut page: Page<ChatMessage> = acs
        .chat
        .list_messages(&alice.token, &thread, Some(2), None)
        .await
        .unwrap();
    let mut pages = 1;
    let mut seen = page.value.len();
    while let Some(next) = page.next_link.take() {
        page = acs.chat.next_page(&alice.token, &next).await.unwrap();
        pages += 1;
        seen += page.value.len();
    }
    assert_eq!((pages, seen), (3, 6));
    assert_eq!(acs.count(Route::ListMessages { thread_id: ANY }), 3);
}

#[tokio::test]
async fn start_time_leaves_out_older_messages() {
    let acs = spawn_acs().await;
    let alice = acs.user().await;
    let thread = acs.thread(&alice, &[]).await;
    let future = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let page: Page<ChatMessage> = acs
        .chat
        .list_messages(&alice.token, &thread, None, Some(future))
        .await
        .unwrap();
    assert!(page.value.is_empty());
    let past = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let page: Page<ChatMessage> = acs
        .chat
        .list_messages(&alice.token, &thread, None, Some(past))
        .await
        .unwrap();
    assert_eq!(page.value.len(), 2);
}

#[tokio::test]
async fn read_receipts_record_the_latest_message_each_reader_has_seen() {
    let acs = spawn_acs().await;
    let (alice, bob) = (acs.user().await, acs.user().await);
    let thread = acs.thread(&alice, &[&bob]).await;
    let id = acs
        .chat
        .send_message(&alice.token, &thread, &text("hi"))
        .await
        .unwrap();
    acs.chat
        .send_read_receipt(&bob.token, &thread, &id)
        .await
        .unwrap();
    let receipts = acs
        .chat
        .list_read_receipts(&alice.token, &thread)
        .await
        .unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].chat_message_id, id);
    assert_eq!(
        receipts[0].sender_communication_identifier.id(),
        Some(bob.id.as_str())
    );

    let error = acs
        .chat
        .send_read_receipt(&bob.token, &thread, &MessageId::parse("1").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(error, AcsError::NotFound(_)), "{error:?}");
}

#[tokio::test]
async fn a_non_participant_is_forbidden_and_an_unknown_thread_is_not_found() {
    let acs = spawn_acs().await;
    let (alice, mallory) = (acs.user().await, acs.user().await);
    let thread = acs.thread(&alice, &[]).await;
    let error = acs
        .chat
        .list_all_messages(&mallory.token, &thread)
        .await
        .unwrap_err();
    assert!(matches!(error, AcsError::Forbidden(_)), "{error:?}");
    let error = acs
        .chat
        .send_message(&mallory.token, &thread, &text("hi"))
        .await
        .unwrap_err();
    assert!(matches!(error, AcsError::Forbidden(_)), "{error:?}");

    let error = acs
        .chat
        .list_all_messages(
            &alice.token,
            &ThreadId::parse("19:doesnotexist@thread.v2").unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, AcsError::NotFound(e) if e.code == "NotFound"),
        "{error:?}"
    );
}

#[tokio::test]
async fn expired_and_forged_tokens_are_unauthorized() {
    let acs = spawn_acs().await;
    let alice = acs.user().await;
    let expired = acs
        .emulator
        .mint_token(alice.id.as_str(), time::Duration::seconds(-1))
        .unwrap();
    let forged = format!("{}x", alice.token.expose());
    for token in [expired.as_str(), forged.as_str(), "not-a-token"] {
        let error = acs
            .chat
            .create_thread(
                &BearerToken::new(token),
                "t",
                &[],
                "r",
                &ThreadProperties::default(),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(error, AcsError::Unauthorized(_)),
            "{token}: {error:?}"
        );
    }
}

#[tokio::test]
async fn an_oversized_or_empty_message_is_a_bad_request() {
    let acs = spawn_acs().await;
    let alice = acs.user().await;
    let thread = acs.thread(&alice, &[]).await;
    let big = "x".repeat(28 * 1024 + 1);
    for content in ["", big.as_str()] {
        let error = acs
            .chat
            .send_message(&alice.token, &thread, &text(content))
            .await
            .unwrap_err();
        assert!(
            matches!(error, AcsError::BadRequest(_)),
            "{}: {error:?}",
            content.len()
        );
    }
}

#[tokio::test]
async fn a_cold_client_s_first_calls_made_together_share_one_http2_connection() {
    let acs = spawn_acs_with(Config {
        tls: true,
        ..Config::default()
    })
    .await;
    let alice = acs.user().await;
    let thread = acs.thread(&alice, &[]).await;
    // A container's first request, with a client that has reached nobody yet.
    let cold = ChatClient::new(
        AcsHttp::trusting(fast_policy(), None, acs.emulator.certificate_pem()).unwrap(),
        acs.emulator.endpoint(),
    );
    acs.emulator.faults().reset_counts();
    let (thread_read, participants, messages) = tokio::join!(
        cold.get_thread(&alice.token, &thread),
        cold.list_participants(&alice.token, &thread),
        cold.messages_page(&alice.token, &thread, 10, None),
    );
    assert!(thread_read.is_ok() && participants.is_ok() && messages.is_ok());
    let connections = acs.emulator.faults().connections();
    assert_eq!(
        connections.into_iter().collect::<Vec<_>>(),
        [("h2", 1)],
        "one TLS handshake, not one per call"
    );
}
