//! People signing in with the app's identity provider: one ACS identity for life, however
//! they sign in and however many sign in at once; every bad token refused before ACS or the
//! table is touched; the issuer switch.

use acs_chat_api::api::Function;
use acs_emulator::{ANY, Route};
use futures_util::future::join_all;
use serde_json::{Value, json};

use support::idp::{IdentityProvider, Signer, hs256, unsigned};
use support::{Answered, TestApp, assert_error, get, post, spawn_app};

async fn sign_in(app: &TestApp, token: &str, body: Value) -> Answered {
    app.call(Function::SignIn, post(body, Some(token))).await
}

/// The people table's items, as the functions left them.
async fn table_items(app: &TestApp) -> usize {
    app.people_items().await.len()
}

async fn signing_in(issuer_mode: &'static str) -> (TestApp, IdentityProvider) {
    spawn_app().await.with_sign_in(issuer_mode).await
}

#[tokio::test]
async fn a_person_keeps_one_identity_and_its_threads_across_sign_ins_and_keys() {
    let (app, idp) = signing_in("open").await;
    let first = sign_in(
        &app,
        &idp.id_token("alice"),
        json!({"display_name": "Alice"}),
    )
    .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["created"], true);
    assert_eq!(first.body["display_name"], "Alice");
    let user_id = first.body["user_id"].as_str().unwrap().to_owned();
    let token = first.body["token"].as_str().unwrap().to_owned();
    let made = app
        .call(
            Function::CreateThread,
            post(json!({"user1_id": user_id, "topic": "mine"}), Some(&token)),
        )
        .await;
    assert_eq!(made.status, 200, "{:?}", made.body);

    // Later, with no ACS token at all (the first one may long have expired), and with a token
    // signed by the issuer's other key: the same person, the same identity, the same threads.
    let es256 = idp.es.token(&idp.claims("alice"));
    for again in [idp.id_token("alice"), es256] {
        let answer = sign_in(&app, &again, json!({})).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        assert_eq!(answer.body["user_id"], user_id.as_str());
        assert_eq!(
            (
                answer.body["created"].clone(),
                answer.body["display_name"].clone()
            ),
            (json!(false), json!("Alice"))
        );
        let token = answer.body["token"].as_str().unwrap();
        let inbox = app
            .call(
                Function::ListThreads,
                get(&[("user_id", &user_id)], Some(token)),
            )
            .await;
        assert_eq!(
            inbox.body["threads"][0]["topic"], "mine",
            "{:?}",
            inbox.body
        );
    }
    let bob = sign_in(&app, &idp.id_token("bob"), json!({})).await;
    assert_ne!(
        bob.body["user_id"],
        user_id.as_str(),
        "another person, another identity"
    );
}

#[tokio::test]
async fn a_known_person_s_sign_in_is_the_table_read_then_the_token() {
    let (app, idp) = signing_in("open").await;
    sign_in(&app, &idp.id_token("carol"), json!({})).await;
    app.emulator.faults().reset_counts();
    let again = sign_in(&app, &idp.id_token("carol"), json!({})).await;
    assert_eq!(again.status, 200);
    assert_eq!(
        app.emulator.faults().counts(),
        [("POST /identities/{id}/:issueAccessToken".to_owned(), 1)].into(),
        "one ACS call: the token"
    );
    let rounds = |subject: &str| {
        let request = post(json!({}), Some(&idp.id_token(subject)));
        async {
            Function::SignIn
                .handle(&app.state, request)
                .await
                .1
                .upstream
                .rounds
        }
    };
    assert_eq!(
        rounds("carol").await,
        2,
        "the table read, then the token beside the last-seen time"
    );
    assert_eq!(
        rounds("erin").await,
        3,
        "a new person: the table read, the identity with its token, the claim"
    );
}

#[tokio::test]
async fn ten_first_sign_ins_of_one_person_at_once_end_with_one_identity() {
    let (app, idp) = signing_in("open").await;
    let tokens: Vec<String> = (0..10).map(|_| idp.id_token("dana")).collect();
    let answers = join_all(tokens.iter().map(|t| sign_in(&app, t, json!({})))).await;
    let ids: std::collections::HashSet<&str> = answers
        .iter()
        .map(|a| {
            assert_eq!(a.status, 200, "{:?}", a.body);
            a.body["user_id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one identity for everyone: {ids:?}");
    let created = answers.iter().filter(|a| a.body["created"] == true).count();
    assert_eq!(created, 1, "one sign-in made it");
    let made = app.count(Route::CreateIdentity);
    let deleted = app.count(Route::DeleteIdentity { user_id: ANY });
    assert_eq!(
        made - deleted,
        1,
        "{made} made, {deleted} deleted: one left"
    );
    assert_eq!(
        table_items(&app).await,
        2,
        "one person: its identity and its way back"
    );
}

#[tokio::test]
async fn every_bad_identity_token_is_401_with_no_acs_call_and_no_write() {
    let (app, idp) = signing_in("open").await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let with = |key: &str, value: Value| {
        let mut claims = idp.claims("eve");
        claims[key] = value;
        idp.rsa.token(&claims)
    };
    let impostor = Signer::rsa(&idp.rsa.kid);
    let public_key_as_secret = idp.rsa.jwk()["n"].as_str().unwrap().as_bytes().to_vec();
    let no_kid = idp
        .rsa
        .token_with_header(&json!({"alg": "RS256", "typ": "JWT"}), &idp.claims("eve"));
    let cases = [
        (
            "signed by another key under the issuer's key id",
            impostor.token(&idp.claims("eve")),
        ),
        ("alg none", unsigned(&idp.claims("eve"))),
        (
            "HS256 with the public key as the secret",
            hs256(&idp.rsa.kid, &public_key_as_secret, &idp.claims("eve")),
        ),
        ("expired", with("exp", json!(now - 3600))),
        ("not yet valid", with("nbf", json!(now + 3600))),
        ("for another audience", with("aud", json!("someone-else"))),
        (
            "from another issuer",
            with(
                "iss",
                json!("https://cognito-idp.us-east-1.amazonaws.com/other"),
            ),
        ),
        ("a refresh token's use", with("token_use", json!("refresh"))),
        ("no subject", with("sub", json!(""))),
        ("no key id", no_kid),
        (
            "a key id the issuer does not list",
            Signer::rsa("unlisted").token(&idp.claims("eve")),
        ),
        ("not a JWT", "not-a-jwt".to_owned()),
    ];
    app.emulator.faults().reset_counts();
    for (what, token) in &cases {
        let answer = sign_in(&app, token, json!({})).await;
        assert_error(&answer, 401, "invalid_identity_token");
        assert!(
            !answer.body.to_string().contains("eyJ"),
            "{what}: no token in the answer"
        );
    }
    let missing = app.call(Function::SignIn, post(json!({}), None)).await;
    assert_error(&missing, 401, "missing_identity_token");
    assert!(app.emulator.faults().counts().is_empty(), "no ACS call");
    assert_eq!(table_items(&app).await, 0, "no write");
}

#[tokio::test]
async fn an_identity_provider_whose_keys_cannot_be_read_is_503_not_401() {
    let (app, idp) = signing_in("open").await;
    idp.set_down(true);
    let answer = sign_in(&app, &idp.id_token("frank"), json!({})).await;
    assert_error(&answer, 503, "identity_provider_unavailable");
    assert!(app.emulator.faults().counts().is_empty());
}

#[tokio::test]
async fn the_issuer_switch_decides_who_may_create_users_and_refresh() {
    let (open, _idp) = signing_in("open").await;
    let users = open
        .call(Function::CreateUsers, post(json!(null), None))
        .await;
    assert_eq!(users.status, 200, "open: anyone");

    // Signed in, a person has one identity, from sign_in: create_users makes none, not even
    // for someone the provider vouches for (each would be tied to nobody, and unbounded).
    for mode in ["signed-in", "off"] {
        let (signed_in, idp) = signing_in(mode).await;
        for token in [None, Some(idp.id_token("gina"))] {
            let refused = signed_in
                .call(Function::CreateUsers, post(json!(null), token.as_deref()))
                .await;
            assert_error(&refused, 403, "issuer_closed");
        }
        assert!(
            signed_in.emulator.faults().counts().is_empty(),
            "{mode}: no ACS call"
        );
        let alice = signed_in.outsider().await;
        let refresh = json!({"user_id": alice.id, "session": "any.session"});
        let renewed = signed_in
            .call(Function::RefreshToken, post(refresh, Some(&alice.token)))
            .await;
        assert_error(&renewed, 403, "issuer_closed");
        assert_eq!(
            sign_in(&signed_in, &idp.id_token("hal"), json!({}))
                .await
                .status,
            200,
            "{mode}: sign_in stays"
        );
    }
}

#[tokio::test]
async fn a_deleted_identity_is_forgotten_and_the_next_sign_in_starts_a_fresh_one() {
    let (app, idp) = signing_in("open").await;
    let first = sign_in(&app, &idp.id_token("ivy"), json!({})).await;
    let (user_id, token) = (
        first.body["user_id"].as_str().unwrap(),
        first.body["token"].as_str().unwrap(),
    );
    // What they said about a thread of theirs is theirs too, and goes with them.
    let made = app
        .call(
            Function::CreateThread,
            post(json!({"user1_id": user_id}), Some(token)),
        )
        .await;
    let thread = made.body["thread_id"].as_str().unwrap();
    let about = json!({"thread_id": thread, "user_id": user_id, "sequence_id": 1, "muted": true});
    for function in [Function::MarkRead, Function::MuteThread] {
        let answer = app.call(function, post(about.clone(), Some(token))).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
    }
    assert_eq!(
        table_items(&app).await,
        4,
        "the person, the way back, a position, a mute"
    );
    let deleted = app
        .call(
            Function::DeleteUser,
            post(json!({"user_id": user_id}), Some(token)),
        )
        .await;
    assert_eq!(deleted.status, 200, "{:?}", deleted.body);
    assert_eq!(
        table_items(&app).await,
        0,
        "every item of the person's gone"
    );
    let again = sign_in(&app, &idp.id_token("ivy"), json!({})).await;
    assert_eq!(again.body["created"], true);
    assert_ne!(again.body["user_id"], user_id);
}

#[tokio::test]
async fn a_person_whose_identity_vanished_from_acs_gets_a_new_one_and_stays_themselves() {
    let (app, idp) = signing_in("open").await;
    let first = sign_in(&app, &idp.id_token("jo"), json!({"display_name": "Jo"})).await;
    let vanished = support::User {
        id: first.body["user_id"].as_str().unwrap().to_owned(),
        token: first.body["token"].as_str().unwrap().to_owned(),
        session: String::new(),
    };
    let about = json!({"thread_id": "19:gone@thread.v2", "user_id": vanished.id, "sequence_id": 1, "muted": true});
    app.call(Function::MuteThread, post(about, Some(&vanished.token)))
        .await;
    // Deleted outside delete_user (the portal, or a delete_user that stopped half way).
    app.delete_identity(&vanished).await;

    let tokens: Vec<String> = (0..4).map(|_| idp.id_token("jo")).collect();
    let together = join_all(tokens.iter().map(|token| sign_in(&app, token, json!({})))).await;
    let ids: std::collections::HashSet<_> = together
        .iter()
        .map(|answer| {
            assert_eq!(answer.status, 200, "{:?}", answer.body);
            answer.body["user_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "four sign-ins at once agree on one new identity"
    );
    let new_id = ids.into_iter().next().unwrap();
    assert_ne!(new_id, vanished.id);
    assert_eq!(
        together
            .iter()
            .filter(|a| a.body["created"] == true)
            .count(),
        1
    );
    assert!(
        together.iter().all(|a| a.body["display_name"] == "Jo"),
        "the name kept"
    );

    let again = sign_in(&app, &idp.id_token("jo"), json!({})).await;
    assert_eq!(again.body["user_id"], new_id.as_str());
    assert_eq!(again.body["created"], false);
    assert_eq!(
        table_items(&app).await,
        2,
        "the person and the way back from the new identity; the vanished one's mute is gone"
    );
    let made = app
        .call(
            Function::CreateThread,
            post(json!({"user1_id": new_id}), again.body["token"].as_str()),
        )
        .await;
    assert_eq!(made.status, 200, "the new identity chats: {:?}", made.body);
}
