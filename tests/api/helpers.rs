use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use acs_chat_api::acs::chat::ChatMessage;
use acs_chat_api::acs::identity::Scope;
use acs_chat_api::acs::{AcsHttp, BearerToken, ChatClient, IdentityClient, ThreadId, UserId};
use acs_chat_api::api::{self, AppState, Function};
use acs_chat_api::config::{AuthMode, Config};
use acs_chat_api::secrets::SecretStore;
use acs_emulator::{Config as EmulatorConfig, Emulator, Route};
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use lambda_http::{Body, Request, RequestExt};
use serde_json::Value;

pub use crate::common::{fast_retry, texts};

/// The emulator, a secret in moto holding its connection string, and the handlers' state.
pub struct TestApp {
    pub emulator: Emulator,
    pub state: AppState,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub secret_id: String,
}

/// What a handler answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: Value,
}

/// A user with a chat token.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub token: String,
}

/// Where moto serves Secrets Manager.
pub fn moto_endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_SECRETS_MANAGER").expect(
        "AWS_ENDPOINT_URL_SECRETS_MANAGER must point at moto_server: run `bash scripts/test`",
    )
}

pub fn secrets_client() -> aws_sdk_secretsmanager::Client {
    secrets_client_at(&moto_endpoint())
}

/// A Secrets Manager client for the service at `endpoint`.
pub fn secrets_client_at(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AuthMode::Token, |_| {}).await
}

/// Where the suite's traffic is kept for the contract check and the secret scan
/// (`tests/contract`): `API_TEST_RECORD` names a folder, which `scripts/test` sets.
struct Recorder {
    responses: Mutex<std::fs::File>,
    secrets: Mutex<std::fs::File>,
}

fn recorder() -> Option<&'static Recorder> {
    static RECORDER: OnceLock<Option<Recorder>> = OnceLock::new();
    RECORDER
        .get_or_init(|| {
            let dir = std::path::PathBuf::from(std::env::var_os("API_TEST_RECORD")?);
            std::fs::create_dir_all(&dir).unwrap();
            let open = |name: &str| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join(name))
                    .unwrap()
            };
            // Every log line of every request, in the functions' own format and at debug.
            let logs = Mutex::new(open("logs.jsonl"));
            let writer = move || LogLine(logs.lock().unwrap().try_clone().unwrap());
            let subscriber = api::logging::subscriber(tracing::Level::DEBUG, false, writer);
            let _ = tracing::subscriber::set_global_default(subscriber);
            Some(Recorder {
                responses: Mutex::new(open("responses.jsonl")),
                secrets: Mutex::new(open("secrets.txt")),
            })
        })
        .as_ref()
}

/// Keeps a handler's answer for the contract check, when the suite's traffic is recorded.
pub fn record_answer(function: Function, response: &lambda_http::Response<Body>) {
    let Some(recorder) = recorder() else {
        return;
    };
    let headers: HashMap<&str, &str> = response
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let record = serde_json::json!({
        "function": function.name(),
        "method": function.method(),
        "status": response.status().as_u16(),
        "headers": headers,
        "body": String::from_utf8_lossy(response.body().as_ref()),
    });
    let line = format!("{record}\n");
    recorder
        .responses
        .lock()
        .unwrap()
        .write_all(line.as_bytes())
        .unwrap();
}

/// A log file handle the subscriber writes one line through.
struct LogLine(std::fs::File);

impl Write for LogLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
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

/// Starts everything; `secret` may rewrite the JSON secret before it is stored.
pub async fn spawn_app_with(mode: AuthMode, secret: impl FnOnce(&mut Value)) -> TestApp {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    if let Some(recorder) = recorder() {
        let line = format!("{}\n", emulator.connection_string().expose());
        recorder
            .secrets
            .lock()
            .unwrap()
            .write_all(line.as_bytes())
            .unwrap();
    }
    let secrets = secrets_client();
    let mut value = serde_json::json!({"connectionString": emulator.connection_string().expose()});
    secret(&mut value);
    let secret_id = store_secret(&secrets, "acs-chat-api-test", &value).await;
    let state = state_for(&emulator, &secrets, &secret_id, mode);
    TestApp {
        emulator,
        state,
        secrets,
        secret_id,
    }
}

pub fn state_for(
    emulator: &Emulator,
    secrets: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    mode: AuthMode,
) -> AppState {
    let config = Config {
        acs_endpoint: Some(emulator.endpoint()),
        secret_id: Some(secret_id.to_owned()),
        auth_mode: mode,
        token_lifetime_minutes: 60,
        retry: fast_retry(),
        request_budget: std::time::Duration::from_secs(5),
        metrics_namespace: "acs-chat-api-test".into(),
    };
    let store = SecretStore::new(secrets.clone(), secret_id.to_owned());
    AppState::new(config, Some(store)).unwrap()
}

pub fn request(method: &str, body: Option<&Value>, token: Option<&str>) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri("/");
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let body = body.map_or(Body::Empty, |b| Body::Text(b.to_string()));
    builder.body(body).unwrap()
}

pub fn get(query: &[(&str, &str)], token: Option<&str>) -> Request {
    let params: HashMap<String, String> = query
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    request("GET", None, token).with_query_string_parameters(params)
}

pub fn post(body: Value, token: Option<&str>) -> Request {
    request("POST", Some(&body), token)
}

impl TestApp {
    pub async fn call(&self, function: Function, request: Request) -> Answer {
        let response = api::handle(&self.state, function, request).await;
        let body = match response.body() {
            Body::Empty => Value::Null,
            other => serde_json::from_slice(other.as_ref()).unwrap(),
        };
        record_answer(function, &response);
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body,
        }
    }

    pub fn count(&self, route: Route<'_>) -> u64 {
        self.emulator.faults().count(route)
    }

    /// Every message of the thread as ACS lists it, deleted ones and system events included,
    /// read with the core's client outside the API.
    pub async fn raw_history(&self, thread_id: &str, reader: &User) -> Vec<ChatMessage> {
        let chat = ChatClient::new(
            AcsHttp::new(fast_retry()).unwrap(),
            self.emulator.endpoint(),
        );
        chat.list_all_messages(
            &BearerToken::new(reader.token.as_str()),
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
        live.sort_by_key(|m| m.sequence());
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
            },
            User {
                id: field("user2_id"),
                token: field("user2_token"),
            },
        )
    }

    /// A user made directly with the identity client, outside the API.
    pub async fn outsider(&self) -> User {
        let identity = IdentityClient::new(
            AcsHttp::new(fast_retry()).unwrap(),
            &self.emulator.connection_string(),
        );
        let made = identity
            .create_user_with_token(&[Scope::Chat], None)
            .await
            .unwrap();
        User {
            id: made.user_id.to_string(),
            token: made.token.token.expose().to_owned(),
        }
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

    /// Revokes every token of `user`, outside the API.
    pub async fn revoke(&self, user: &User) {
        let identity = IdentityClient::new(
            AcsHttp::new(fast_retry()).unwrap(),
            &self.emulator.connection_string(),
        );
        identity
            .revoke_tokens(&UserId::parse(user.id.as_str()).unwrap())
            .await
            .unwrap();
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

/// A `send_message` request from `from`, with an `Idempotency-Key` if given.
pub fn send_request(thread_id: &str, from: &User, text: &str, key: Option<&str>) -> Request {
    let body = serde_json::json!({"thread_id": thread_id, "user_id": from.id, "message": text});
    let mut request = post(body, Some(&from.token));
    if let Some(key) = key {
        request
            .headers_mut()
            .insert("idempotency-key", key.parse().unwrap());
    }
    request
}

/// A TCP forwarder that can be switched off, to play an outage of the service behind it:
/// while off, it closes every connection it accepts.
pub struct Outage {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
}

impl Outage {
    pub async fn forward_to(target: &str) -> Self {
        let target: SocketAddr = target
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let switch = up.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !switch.load(Ordering::SeqCst) {
                    continue;
                }
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Self { addr, up }
    }

    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }
}

/// Asserts status and error code of an answer.
#[track_caller]
pub fn assert_error(answer: &Answer, status: u16, code: &str) {
    assert_eq!(
        (answer.status, answer.body["error"]["code"].as_str()),
        (status, Some(code)),
        "{:?}",
        answer.body
    );
    assert!(
        answer.body["error"]["message"].is_string(),
        "{:?}",
        answer.body
    );
}

/// A request a [`TinyServer`] received: its target (path and query), headers (lower-cased
/// names) and body.
pub struct Received {
    pub target: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

type Respond = Arc<
    dyn Fn(Received) -> std::pin::Pin<Box<dyn std::future::Future<Output = (u16, String)> + Send>>
        + Send
        + Sync,
>;

/// A loopback HTTP/1.1 server answering each request with `respond`: enough for a stand-in
/// of AppSync Events' publish endpoint, and to put a handler where the emulator's Event Grid
/// deliveries can reach it.
pub struct TinyServer {
    pub addr: SocketAddr,
}

impl TinyServer {
    pub async fn start(respond: Respond) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_connection(stream, respond.clone()));
            }
        });
        Self { addr }
    }
}

/// One connection's requests, kept alive as reqwest does.
async fn serve_connection(mut stream: tokio::net::TcpStream, respond: Respond) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let head_end = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        let mut lines = head.lines();
        let target = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .unwrap_or("/")
            .to_owned();
        let headers: HashMap<String, String> = lines
            .filter_map(|line| line.split_once(": "))
            .map(|(name, value)| (name.to_lowercase(), value.to_owned()))
            .collect();
        let length: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        while buffer.len() < head_end + length {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buffer[head_end..head_end + length].to_vec();
        buffer.drain(..head_end + length);
        let (status, text) = respond(Received {
            target,
            headers,
            body,
        })
        .await;
        let answer = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{text}",
            text.len()
        );
        if stream.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// A stand-in for AppSync Events' HTTP publish endpoint: keeps every publish (its
/// `Authorization` and body) and answers as AppSync does, or with a 500 while told to fail.
pub struct Channels {
    server: TinyServer,
    published: Arc<Mutex<Vec<(String, Value)>>>,
    failures: Arc<std::sync::atomic::AtomicUsize>,
}

impl Channels {
    pub async fn start() -> Self {
        let published: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
        let failures: Arc<std::sync::atomic::AtomicUsize> = Arc::default();
        let (kept, failing) = (published.clone(), failures.clone());
        let server = TinyServer::start(Arc::new(move |received: Received| {
            let fail = failing
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if !fail {
                let authorization = received.headers.get("authorization").cloned();
                let body = serde_json::from_slice(&received.body).unwrap_or_default();
                kept.lock()
                    .unwrap()
                    .push((authorization.unwrap_or_default(), body));
            }
            Box::pin(async move {
                if fail {
                    (500, String::new())
                } else {
                    (200, r#"{"successful":[],"failed":[]}"#.to_owned())
                }
            })
        }))
        .await;
        Self {
            server,
            published,
            failures,
        }
    }

    /// The URL to publish to.
    pub fn url(&self) -> String {
        format!("http://{}/event", self.server.addr)
    }

    /// Answers the next `n` publishes with a 500.
    pub fn fail_next(&self, n: usize) {
        self.failures.store(n, Ordering::SeqCst);
    }

    /// Every publish so far: its `Authorization`, and its body.
    pub fn publishes(&self) -> Vec<(String, Value)> {
        self.published.lock().unwrap().clone()
    }

    /// Every event published to `channel`, decoded, in order.
    pub fn events(&self, channel: &str) -> Vec<Value> {
        self.publishes()
            .iter()
            .filter(|(_, body)| body["channel"] == channel)
            .flat_map(|(_, body)| body["events"].as_array().cloned().unwrap_or_default())
            .map(|event| serde_json::from_str(event.as_str().unwrap()).unwrap())
            .collect()
    }
}

/// Stores `value` as a new secret named `prefix` and a fresh suffix; its id.
async fn store_secret(
    secrets: &aws_sdk_secretsmanager::Client,
    prefix: &str,
    value: &Value,
) -> String {
    let secret_id = format!("{prefix}-{}", uuid::Uuid::new_v4());
    secrets
        .create_secret()
        .name(&secret_id)
        .secret_string(value.to_string())
        .send()
        .await
        .unwrap();
    secret_id
}

/// The two values of a real-time secret made for a test.
pub struct RealtimeKeys {
    pub webhook_secret: String,
    pub publish_key: String,
}

/// A real-time secret stored in moto, and the state's real-time part reading it and
/// publishing to `channels`.
pub async fn realtime_for(
    secrets: &aws_sdk_secretsmanager::Client,
    channels: &Channels,
) -> (api::Realtime, RealtimeKeys) {
    let keys = RealtimeKeys {
        webhook_secret: format!("webhook-{}", uuid::Uuid::new_v4()),
        publish_key: format!("publish-{}", uuid::Uuid::new_v4()),
    };
    let value =
        serde_json::json!({"webhookSecret": keys.webhook_secret, "publishKey": keys.publish_key});
    let secret_id = store_secret(secrets, "acs-chat-api-realtime", &value).await;
    let url = channels.url();
    let publisher = acs_chat_api::realtime::publish::from_lookup(|name| {
        (name == "REALTIME_PUBLISH_URL").then(|| url.clone())
    })
    .unwrap();
    let realtime = api::Realtime {
        secret: SecretStore::reading(
            secrets.clone(),
            secret_id,
            acs_chat_api::realtime::parse_secret,
        ),
        publisher,
        sent: Default::default(),
        entra: None,
    };
    (realtime, keys)
}

impl TestApp {
    /// Gives the handlers a real-time channel: a secret in moto and a [`Channels`] to publish
    /// to.
    pub async fn with_realtime(mut self) -> (Self, Channels, RealtimeKeys) {
        let channels = Channels::start().await;
        let (realtime, keys) = realtime_for(&self.secrets, &channels).await;
        self.state = self.state.with_realtime(Some(realtime));
        (self, channels, keys)
    }
}
