use acs_chat_api::acs::Scope;
use acs_chat_api::acs::chat::ThreadProperties;
use acs_chat_api::acs::{
    AccessKey, AcsError, AcsHttp, ConnectionString, IdentityClient, ThreadId, UserId,
};

use crate::helpers::{fast_policy, spawn_acs};
use acs_emulator::Route;

#[tokio::test]
async fn create_user_with_token_returns_an_acs_id_and_a_readable_token_in_one_round_trip() {
    let acs = spawn_acs().await;
    let created = acs
        .identity
        .create_user_with_token(&[Scope::Chat], Some(60))
        .await
        .unwrap();
    let claims = created.token.token.claims().unwrap();
    assert_eq!(claims.user_id, created.user_id);
    assert_eq!(
        claims.expires_at.unix_timestamp(),
        created.token.expires_on.unix_timestamp()
    );
    let minutes = (created.token.expires_on - time::OffsetDateTime::now_utc()).whole_minutes();
    assert!((58..=60).contains(&minutes), "{minutes}");
    assert_eq!(acs.count(Route::CreateIdentity), 1);
}

#[tokio::test]
async fn a_token_lifetime_outside_acs_bounds_is_a_bad_request() {
    let acs = spawn_acs().await;
    let error = acs
        .identity
        .create_user_with_token(&[Scope::Chat], Some(59))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, AcsError::BadRequest(e) if e.code == "ValidationError"),
        "{error:?}"
    );
}

#[tokio::test]
async fn issue_token_works_for_a_known_identity_and_is_not_found_for_an_unknown_one() {
    let acs = spawn_acs().await;
    let id = acs.identity.create_user().await.unwrap();
    let token = acs
        .identity
        .issue_token(&id, &[Scope::Chat], None)
        .await
        .unwrap();
    let claims = token.token.claims().unwrap();
    assert_eq!(claims.user_id, id);

    let unknown = UserId::parse(format!("{id}0")).unwrap();
    let error = acs
        .identity
        .issue_token(&unknown, &[Scope::Chat], None)
        .await
        .unwrap_err();
    assert!(matches!(error, AcsError::NotFound(_)), "{error:?}");
}

#[tokio::test]
async fn revoked_tokens_are_refused_but_tokens_issued_afterwards_work() {
    let acs = spawn_acs().await;
    let user = acs.user().await;
    acs.identity.revoke_tokens(&user.id).await.unwrap();
    let error = acs
        .chat
        .list_read_receipts(&user.token, &ThreadId::parse("19:x@thread.v2").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(error, AcsError::Unauthorized(_)), "{error:?}");

    let fresh = acs
        .identity
        .issue_token(&user.id, &[Scope::Chat], None)
        .await
        .unwrap();
    acs.chat
        .create_thread(
            &fresh.token,
            "after revoke",
            &[],
            "r1",
            &ThreadProperties::default(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_deleted_identity_can_no_longer_chat() {
    let acs = spawn_acs().await;
    let user = acs.user().await;
    acs.identity.delete_user(&user.id).await.unwrap();
    let error = acs
        .chat
        .create_thread(&user.token, "t", &[], "r", &ThreadProperties::default())
        .await
        .unwrap_err();
    assert!(matches!(error, AcsError::Unauthorized(_)), "{error:?}");
    let again = acs.identity.delete_user(&user.id).await.unwrap_err();
    assert!(matches!(again, AcsError::NotFound(_)), "{again:?}");
}

#[tokio::test]
async fn a_request_signed_with_the_wrong_key_is_denied() {
    let acs = spawn_acs().await;
    let wrong = ConnectionString::new(
        acs.emulator.endpoint(),
        AccessKey::from_base64("d3Jvbmcga2V5").unwrap(),
    );
    let client = IdentityClient::new(AcsHttp::new(fast_policy()).unwrap(), &wrong);
    let error = client.create_user().await.unwrap_err();
    assert!(
        matches!(&error, AcsError::Unauthorized(e) if e.code == "Denied"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_correctly_signed_request_dated_outside_the_skew_window_is_denied() {
    let acs = spawn_acs().await;
    let connection = acs.emulator.connection_string();
    let url = connection
        .endpoint()
        .join("identities?api-version=2023-10-01")
        .unwrap();
    let send = |at: time::OffsetDateTime| {
        let signed =
            acs_chat_api::acs::auth::sign(connection.access_key(), "POST", &url, b"", at).unwrap();
        reqwest::Client::new()
            .post(url.clone())
            .header("x-ms-date", signed.date)
            .header("x-ms-content-sha256", signed.content_sha256)
            .header("authorization", signed.authorization)
            .send()
    };
    let now = time::OffsetDateTime::now_utc();
    assert_eq!(send(now).await.unwrap().status(), 201);
    let stale = send(now - time::Duration::minutes(20)).await.unwrap();
    assert_eq!(stale.status(), 401);
    let body: serde_json::Value = stale.json().await.unwrap();
    assert_eq!(body["error"]["code"], "Denied");
}
