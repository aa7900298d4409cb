//! The functions' state against an in-process emulator and moto's Secrets Manager, and the
//! scene most tests start from.

use std::time::Duration;

use acs_chat_api::acs::Scope;
use acs_chat_api::acs::chat::ChatMessage;
use acs_chat_api::acs::{
    AcsHttp, BearerToken, ChatClient, ConnectionString, IdentityClient, ThreadId, UserId,
};
use acs_chat_api::api::{AppState, Function, Needs};
use acs_chat_api::config::{AuthMode, Config};
use acs_chat_api::seal::{SealKeys, Sealed, new_session_id, parse_keys};
use acs_chat_api::session::Session;
use acs_emulator::{Config as EmulatorConfig, Emulator, Route};
use lambda_http::{Body, Request};
use serde_json::Value;

use crate::channels::Channels;
use crate::idp::IdentityProvider;
use crate::requests::{Answered, fast_retry, get, post, send_request, texts};
use crate::{moto, record};

/// The tests' sealing key (a test value).
pub const SEAL_KEY: &str = "acs-chat-api-test-sealing-key-0123456789";

/// What one person may sign for upload in a day, in the tests' deployments.
pub const DAILY_UPLOADS: u64 = 20;
pub const DAILY_UPLOAD_BYTES: u64 = 4 * 1024 * 1024;

/// Where the real-time path's secrets are, and where it publishes.
#[derive(Debug, Clone)]
pub struct RealtimeSetup {
    pub publish_key_secret_id: String,
    pub webhook_secret_id: String,
    pub publish_url: String,
}

/// Who signs people in and where they are kept, for a state that signs people in.
#[derive(Debug, Clone)]
pub struct SignInSetup {
    pub issuer: String,
    pub audience: String,
    pub jwks_url: String,
    /// `open`, `signed-in` or `off`.
    pub issuer_mode: &'static str,
}

/// How a state is built: which secret, where Secrets Manager is, in which mode, and the
/// real-time channel and sign-in if it has them.
#[derive(Debug, Clone)]
pub struct Setup {
    pub mode: AuthMode,
    pub secret_id: String,
    pub secrets_endpoint: String,
    pub realtime: Option<RealtimeSetup>,
    /// ACS at another address than the emulator's own (a forwarder in front of it, say).
    pub acs_endpoint: Option<String>,
    pub sign_in: Option<SignInSetup>,
    /// The people table in moto's DynamoDB, for a state that signs people in or takes files.
    pub people_table: Option<String>,
    /// The files' bucket in moto's S3, for a state that takes files.
    pub files_bucket: Option<String>,
    /// What one person may sign for upload a day: files, bytes.
    pub upload_quota: (u64, u64),
    pub push: Option<PushSetup>,
    /// `CLIENT_TOKENS`: `sealed` (the default) or `acs`.
    pub client_tokens: &'static str,
    /// The sealing keys' secret in moto.
    pub seal_secret_id: String,
}

/// Where pushes go and how they are signed, for a state that pushes.
#[derive(Debug, Clone)]
pub struct PushSetup {
    pub vapid_secret_id: String,
    /// The stand-in push service's host and port, as `PUSH_SERVICES` names it.
    pub service_host: String,
    /// Its certificate, which the functions' client trusts.
    pub certificate_pem: String,
    /// `PUSH_CONTENT`: `full` or `none`.
    pub content: &'static str,
}

impl Setup {
    /// The functions' settings, as their environment would give them, with retries short
    /// enough for tests.
    pub fn config(&self, emulator: &Emulator) -> Config {
        let endpoint = self
            .acs_endpoint
            .clone()
            .unwrap_or_else(|| emulator.endpoint().to_string());
        let mode = match self.mode {
            AuthMode::Token => "token",
            AuthMode::Trusted => "trusted",
        };
        let realtime = self.realtime.clone();
        let from_realtime = |part: fn(RealtimeSetup) -> String| realtime.clone().map(part);
        let push = self.push.clone();
        let from_push = |part: fn(PushSetup) -> String| push.clone().map(part);
        let sign_in = self.sign_in.clone();
        let from_sign_in = |part: fn(SignInSetup) -> String| sign_in.clone().map(part);
        let mut config = Config::from_lookup(|name| match name {
            "ACS_ENDPOINT" => Some(endpoint.clone()),
            "ACS_SECRET_ID" => Some(self.secret_id.clone()),
            "ACS_AUTH_MODE" => Some(mode.into()),
            "ACS_TOKEN_LIFETIME_MINUTES" => Some("60".into()),
            "METRICS_NAMESPACE" => Some("acs-chat-api-test".into()),
            "AWS_REGION" => Some("us-east-1".into()),
            "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("test".into()),
            "AWS_ENDPOINT_URL_SECRETS_MANAGER" => Some(self.secrets_endpoint.clone()),
            "REALTIME_PUBLISH_KEY_SECRET_ID" => from_realtime(|r| r.publish_key_secret_id),
            "REALTIME_WEBHOOK_SECRET_ID" => from_realtime(|r| r.webhook_secret_id),
            "REALTIME_PUBLISH_URL" => from_realtime(|r| r.publish_url),
            "AWS_ENDPOINT_URL_DYNAMODB" => Some(self.secrets_endpoint.clone()),
            "IDP_ISSUER" => from_sign_in(|s| s.issuer),
            "IDP_AUDIENCE" => from_sign_in(|s| s.audience),
            "IDP_JWKS_URL" => from_sign_in(|s| s.jwks_url),
            "PEOPLE_TABLE" => self.people_table.clone(),
            // The original app's open issuer, unless a sign-in test says otherwise.
            "ISSUER_MODE" => from_sign_in(|s| s.issuer_mode.to_owned()).or(Some("open".into())),
            "FILES_BUCKET" => self.files_bucket.clone(),
            "FILES_MAX_BYTES" => Some("1048576".into()),
            "FILES_DAILY_UPLOADS" => Some(self.upload_quota.0.to_string()),
            "FILES_DAILY_BYTES" => Some(self.upload_quota.1.to_string()),
            "AWS_ENDPOINT_URL_S3" => Some(self.secrets_endpoint.clone()),
            "PUSH_PUBLIC_KEY" => from_push(|_| crate::push::VAPID_PUBLIC.to_owned()),
            "PUSH_VAPID_SECRET_ID" => from_push(|p| p.vapid_secret_id),
            "PUSH_SERVICES" => from_push(|p| p.service_host),
            "PUSH_CONTACT" => from_push(|_| "mailto:push-tests@example.com".to_owned()),
            "PUSH_CONTENT" => from_push(|p| p.content.to_owned()),
            "CLIENT_TOKENS" => Some(self.client_tokens.into()),
            "SEAL_SECRET_ID" => Some(self.seal_secret_id.clone()),
            _ => None,
        })
        .unwrap();
        config.extra_roots_pem = self.push.as_ref().map(|p| p.certificate_pem.clone());
        config.retry = fast_retry();
        config.request_budget = Duration::from_secs(5);
        config
    }

    /// A state with every part, so that one state serves every function.
    pub fn state(&self, emulator: &Emulator) -> AppState {
        AppState::init(Needs::EVERYTHING, self.config(emulator)).unwrap()
    }
}

/// The emulator, a secret in moto holding its connection string, and the handlers' state.
pub struct TestApp {
    pub emulator: Emulator,
    pub state: AppState,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub secret_id: String,
    pub setup: Setup,
}

/// A user with a chat token, and the session it came with (empty for a user made outside the
/// API, who has none).
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub token: String,
    pub session: String,
}

/// The two values of a real-time secret made for a test.
pub struct RealtimeKeys {
    pub webhook_secret: String,
    pub publish_key: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AuthMode::Token, |_| {}).await
}

/// Starts everything; `secret` may rewrite the JSON secret before it is stored.
pub async fn spawn_app_with(mode: AuthMode, secret: impl FnOnce(&mut Value)) -> TestApp {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    record::secret(&emulator.connection_string().expose());
    let secrets = moto::secrets_client();
    let mut value = serde_json::json!({"connectionString": emulator.connection_string().expose()});
    secret(&mut value);
    let secret_id = moto::store_secret(&secrets, "acs-chat-api-test", &value).await;
    record::secret(SEAL_KEY);
    let seal_secret_id =
        moto::store_secret_text(&secrets, "acs-chat-api-test-seal", SEAL_KEY.into()).await;
    let setup = Setup {
        mode,
        secret_id: secret_id.clone(),
        secrets_endpoint: moto::endpoint(),
        realtime: None,
        acs_endpoint: None,
        sign_in: None,
        people_table: None,
        upload_quota: (DAILY_UPLOADS, DAILY_UPLOAD_BYTES),
        files_bucket: None,
        push: None,
        client_tokens: "sealed",
        seal_secret_id,
    };
    TestApp {
        state: setup.state(&emulator),
        emulator,
        secrets,
        secret_id,
        setup,
    }
}

/// Everything, and two users from `create_users` in a thread user1 made: the scene most tests
/// start from.
pub async fn spawn_conversation() -> (TestApp, User, User, String) {
    let app = spawn_app().await;
    let (alice, bob) = app.users().await;
    let thread = app.thread(&alice, &bob).await;
    (app, alice, bob, thread)
}

/// Serves `request` as `function` does, recording its answer and its log lines.
pub async fn serve(state: &AppState, function: Function, request: Request) -> Answered {
    let (response, _, _) = record::traced(function.handle(state, request)).await;
    let spec = function.spec();
    record::answer(spec.name, spec.method.as_str(), &response);
    let body = match response.body() {
        Body::Empty => Value::Null,
        other => serde_json::from_slice(other.as_ref()).unwrap_or_else(|_| {
            Value::String(String::from_utf8_lossy(other.as_ref()).into_owned())
        }),
    };
    Answered {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body,
    }
}

impl TestApp {
    pub async fn call(&self, function: Function, request: Request) -> Answered {
        serve(&self.state, function, request).await
    }

    pub fn count(&self, route: Route<'_>) -> u64 {
        self.emulator.faults().count(route)
    }

    /// A state like this app's but built from `setup`.
    pub fn state_with(&self, setup: &Setup) -> AppState {
        setup.state(&self.emulator)
    }

    /// Gives the handlers a real-time channel: a secret in moto and a [`Channels`] to publish
    /// to.
    pub async fn with_realtime(mut self) -> (Self, Channels, RealtimeKeys) {
        let channels = Channels::start().await;
        let (setup, keys) = self.realtime_setup(&channels).await;
        self.state = setup.state(&self.emulator);
        self.setup = setup;
        (self, channels, keys)
    }

    /// This app's setup with a fresh real-time secret in moto, publishing to `channels`.
    pub async fn realtime_setup(&self, channels: &Channels) -> (Setup, RealtimeKeys) {
        let keys = RealtimeKeys {
            webhook_secret: format!("webhook-{}", uuid::Uuid::new_v4().simple()),
            publish_key: format!("publish-{}", uuid::Uuid::new_v4().simple()),
        };
        let store =
            |prefix, key: &String| moto::store_secret_text(&self.secrets, prefix, key.clone());
        let realtime = RealtimeSetup {
            publish_key_secret_id: store("acs-chat-api-publish-key", &keys.publish_key).await,
            webhook_secret_id: store("acs-chat-api-webhook", &keys.webhook_secret).await,
            publish_url: channels.url(),
        };
        let setup = Setup {
            realtime: Some(realtime),
            ..self.setup.clone()
        };
        (setup, keys)
    }

    /// The core's identity and chat clients on the emulator, outside the API: what a client
    /// holding only a token or the connection string can do straight at ACS.
    pub fn clients(&self) -> (IdentityClient, ChatClient) {
        let http = AcsHttp::new(fast_retry()).unwrap();
        (
            IdentityClient::new(http.clone(), &self.emulator.connection_string()),
            ChatClient::new(http, self.emulator.endpoint()),
        )
    }

    /// Every message of the thread as ACS lists it, deleted ones and system events included,
    /// read with the core's client outside the API.
    pub async fn raw_history(&self, thread_id: &str, reader: &User) -> Vec<ChatMessage> {
        let (_, chat) = self.clients();
        chat.list_all_messages(
            &self.acs_token(reader),
            &ThreadId::parse(thread_id).unwrap(),
        )
        .await
        .unwrap()
    }

    /// The texts of the live user messages of the thread, oldest first.
    pub async fn live_texts(&self, thread_id: &str, reader: &User) -> Vec<String> {
        let mut live: Vec<ChatMessage> = self
            .raw_history(thread_id, reader)
            .await
            .into_iter()
            .filter(ChatMessage::is_user_message)
            .collect();
        live.sort_by_key(|m| m.sequence_id);
        live.iter()
            .filter_map(|m| m.text().map(str::to_owned))
            .collect()
    }

    /// Two users through `create_users`, as a client would get them.
    pub async fn users(&self) -> (User, User) {
        let answer = self
            .call(Function::CreateUsers, post(Value::Null, None))
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        let field = |name: &str| answer.body[name].as_str().unwrap().to_owned();
        (
            User {
                id: field("user1_id"),
                token: field("user1_token"),
                session: field("user1_session"),
            },
            User {
                id: field("user2_id"),
                token: field("user2_token"),
                session: field("user2_session"),
            },
        )
    }

    /// The same app letting each person sign `files` uploads a day (and the usual bytes).
    pub fn with_daily_uploads(mut self, files: u64) -> Self {
        self.setup.upload_quota.0 = files;
        self.state = self.setup.state(&self.emulator);
        self
    }

    /// A fresh people table, unless the state has one.
    async fn keep_people(&mut self) {
        if self.setup.people_table.is_none() {
            let table = moto::create_people_table(&moto::dynamodb_client()).await;
            self.setup.people_table = Some(table);
        }
    }

    /// The same app with people signing in through a stand-in identity provider into a fresh
    /// people table, issuing as `issuer_mode` says.
    pub async fn with_sign_in(mut self, issuer_mode: &'static str) -> (Self, IdentityProvider) {
        let idp = IdentityProvider::start().await;
        self.keep_people().await;
        self.setup.sign_in = Some(SignInSetup {
            issuer: idp.issuer(),
            audience: crate::idp::CLIENT_ID.to_owned(),
            jwks_url: idp.jwks_url(),
            issuer_mode,
        });
        self.state = self.setup.state(&self.emulator);
        (self, idp)
    }

    /// The same app taking files, into a fresh bucket in moto's S3 (at most 1 MiB each).
    pub async fn with_files(mut self) -> Self {
        self.keep_people().await;
        self.setup.files_bucket = Some(moto::create_bucket().await);
        self.state = self.setup.state(&self.emulator);
        self
    }

    /// The same app pushing to `service`, signed with the tests' VAPID key (kept in moto's
    /// Secrets Manager), with `content` (`full` or `none`) in each push.
    pub async fn with_push(
        mut self,
        service: &crate::push::PushService,
        content: &'static str,
    ) -> Self {
        let secret = serde_json::json!({
            "publicKey": crate::push::VAPID_PUBLIC,
            "privateKey": crate::push::VAPID_PRIVATE,
        });
        let vapid_secret_id =
            moto::store_secret(&self.secrets, "acs-chat-api-vapid", &secret).await;
        self.setup.push = Some(PushSetup {
            vapid_secret_id,
            service_host: service.service(),
            certificate_pem: service.certificate_pem(),
            content,
        });
        self.state = self.setup.state(&self.emulator);
        self
    }

    /// Uploads `bytes` as `who` the way the page does: `upload_url`, then the PUT it signed, to
    /// moto's S3; the attachment's id.
    pub async fn upload(
        &self,
        who: &User,
        thread: &str,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> String {
        let body = serde_json::json!({"thread_id": thread, "user_id": who.id, "name": name,
                                      "content_type": content_type, "size": bytes.len()});
        let signed = self
            .call(Function::UploadUrl, post(body, Some(&who.token)))
            .await;
        assert_eq!(signed.status, 200, "{:?}", signed.body);
        assert_eq!(signed.body["method"], "PUT");
        let mut put = reqwest::Client::new().put(signed.body["url"].as_str().unwrap());
        for (name, value) in signed.body["headers"].as_object().unwrap() {
            put = put.header(name, value.as_str().unwrap());
        }
        let stored = put.body(bytes.to_vec()).send().await.unwrap();
        assert!(stored.status().is_success(), "{}", stored.status());
        signed.body["attachment_id"].as_str().unwrap().to_owned()
    }

    /// A user made directly with the identity client, outside the API.
    pub async fn outsider(&self) -> User {
        let (identity, _) = self.clients();
        let made = identity
            .create_user_with_token(&[Scope::Chat], None)
            .await
            .unwrap();
        User {
            id: made.user_id.to_string(),
            token: self.hand_out(made.token.token.expose()),
            session: String::new(),
        }
    }

    /// What a client of this deployment holds for the ACS token `token`: its seal, made with
    /// the tests' key as the functions make them, or in `acs` mode the token itself.
    pub fn hand_out(&self, token: &str) -> String {
        if self.setup.client_tokens == "acs" {
            return token.to_owned();
        }
        let token = BearerToken::new(token);
        let claims = token.claims().unwrap();
        seal_keys().seal(&Sealed {
            audience: self.audience(),
            token,
            user_id: claims.user_id,
            scopes: claims.scopes.unwrap_or_default(),
            token_expires: claims.expires_at.unix_timestamp(),
            session_id: new_session_id(),
            session_ends: claims.expires_at.unix_timestamp(),
        })
    }

    /// A client's token for `user_id`, minted by the emulator to expire after `life`
    /// (negative: already expired), as this deployment hands it out.
    pub fn minted(&self, user_id: &str, life: time::Duration) -> String {
        self.hand_out(&self.emulator.mint_token(user_id, life).unwrap())
    }

    /// The ACS token inside what `user` holds: what a test reads ACS with outside the API.
    pub fn acs_token(&self, user: &User) -> BearerToken {
        self.acs_token_in(&user.token)
    }

    /// The ACS token inside `handed`, a token this deployment handed out.
    pub fn acs_token_in(&self, handed: &str) -> BearerToken {
        if self.setup.client_tokens == "acs" {
            return BearerToken::new(handed);
        }
        let now = time::OffsetDateTime::now_utc();
        seal_keys()
            .open(handed, &self.audience(), now)
            .unwrap()
            .token
    }

    /// The deployment seals are for: the ACS endpoint the functions call.
    pub fn audience(&self) -> String {
        self.state.config.acs_endpoint.as_ref().unwrap().to_string()
    }

    /// The same app handing its clients `mode` (`sealed` or `acs`).
    pub fn with_client_tokens(mut self, mode: &'static str) -> Self {
        self.setup.client_tokens = mode;
        self.state = self.setup.state(&self.emulator);
        self
    }

    /// Stores the emulator's current connection string as the secret, as an operator does
    /// after regenerating the key.
    pub async fn store_connection_string(&self) {
        self.secrets
            .put_secret_value()
            .secret_id(&self.secret_id)
            .secret_string(self.emulator.connection_string().expose())
            .send()
            .await
            .unwrap();
    }

    /// A session for `user` from `started` to `ends`, signed as the API signs them.
    pub fn session_for(
        &self,
        user: &User,
        started: time::OffsetDateTime,
        ends: time::OffsetDateTime,
    ) -> String {
        let connection =
            ConnectionString::parse(&self.emulator.connection_string().expose()).unwrap();
        Session {
            user_id: UserId::parse(user.id.as_str()).unwrap(),
            started,
            ends,
        }
        .sign(connection.access_key())
    }

    /// Deletes `user`'s identity, outside the API.
    pub async fn delete_identity(&self, user: &User) {
        let (identity, _) = self.clients();
        identity
            .delete_user(&UserId::parse(user.id.as_str()).unwrap())
            .await
            .unwrap();
    }

    /// Revokes every token of `user`, outside the API.
    pub async fn revoke(&self, user: &User) {
        let (identity, _) = self.clients();
        identity
            .revoke_tokens(&UserId::parse(user.id.as_str()).unwrap())
            .await
            .unwrap();
    }

    /// Every item of the people table, as the functions left it (an app made `with_sign_in`).
    pub async fn people_items(
        &self,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let table = self.setup.people_table.as_ref().unwrap();
        let scanned = crate::moto::dynamodb_client()
            .scan()
            .table_name(table)
            .send()
            .await
            .unwrap();
        scanned.items().to_vec()
    }

    /// A thread of `size` people: its maker first, the others added by them through the API.
    pub async fn group(&self, size: usize) -> (String, Vec<User>) {
        let (maker, second) = self.users().await;
        let thread = self.thread(&maker, &second).await;
        let mut members = vec![maker, second];
        while members.len() < size {
            let other = self.outsider().await;
            let add = serde_json::json!({"thread_id": thread, "user2_id": other.id});
            let added = self
                .call(Function::AddUser, post(add, Some(&members[0].token)))
                .await;
            assert_eq!(added.status, 200, "{:?}", added.body);
            members.push(other);
        }
        (thread, members)
    }

    /// A thread made by user1 with user2 added, through the API, each under a name.
    pub async fn named_thread(
        &self,
        user1: &User,
        name1: &str,
        user2: &User,
        name2: &str,
    ) -> String {
        let body = serde_json::json!({"user1_id": user1.id, "display_name": name1});
        let made = self
            .call(Function::CreateThread, post(body, Some(&user1.token)))
            .await;
        assert_eq!(made.status, 200, "{:?}", made.body);
        let thread = made.body["thread_id"].as_str().unwrap().to_owned();
        let add =
            serde_json::json!({"thread_id": thread, "user2_id": user2.id, "display_name": name2});
        let added = self
            .call(Function::AddUser, post(add, Some(&user1.token)))
            .await;
        assert_eq!(added.status, 200, "{:?}", added.body);
        thread
    }

    /// A thread made by user1 with user2 added, through the API.
    pub async fn thread(&self, user1: &User, user2: &User) -> String {
        let created = self
            .call(
                Function::CreateThread,
                post(
                    serde_json::json!({"user1_id": user1.id}),
                    Some(&user1.token),
                ),
            )
            .await;
        assert_eq!(created.status, 200, "{:?}", created.body);
        let thread_id = created.body["thread_id"].as_str().unwrap().to_owned();
        let added = self
            .call(
                Function::AddUser,
                post(
                    serde_json::json!({"thread_id": thread_id, "user2_id": user2.id}),
                    Some(&user1.token),
                ),
            )
            .await;
        assert_eq!(added.status, 200, "{:?}", added.body);
        thread_id
    }

    pub async fn send(&self, thread_id: &str, from: &User, text: &str) -> String {
        let answer = self
            .call(
                Function::SendMessage,
                send_request(thread_id, from, text, None),
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        answer.body["message_id"].as_str().unwrap().to_owned()
    }

    /// The texts `get_messages` returns to `reader`, with `since` if given, and `next_since`.
    pub async fn fetch(
        &self,
        thread_id: &str,
        reader: &User,
        since: Option<u64>,
    ) -> (Vec<String>, u64) {
        let since = since.map(|s| s.to_string());
        let mut query = vec![("thread_id", thread_id), ("user_id", reader.id.as_str())];
        if let Some(since) = since.as_deref() {
            query.push(("since", since));
        }
        let answer = self
            .call(Function::GetMessages, get(&query, Some(&reader.token)))
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        (
            texts(&answer.body),
            answer.body["next_since"].as_u64().unwrap(),
        )
    }
}

/// The tests' sealing keys, as the functions read them.
pub fn seal_keys() -> SealKeys {
    parse_keys(SEAL_KEY).unwrap()
}
