//! Hostile input through every endpoint: malformed bodies, wrong types, odd Unicode, ids built
//! to escape into ACS URLs, bad tokens, wrong methods and content types. Each case must get a
//! 4xx JSON error that names the problem, cost no ACS call where the input alone was wrong,
//! and change nothing.

use acs_chat_api::acs::chat::ChatParticipant;
use acs_chat_api::acs::{ThreadId, UserId};
use acs_chat_api::api::Function;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::http::HeaderValue;
use lambda_http::{Body, Request, RequestExt};
use serde_json::{Value, json};

use support::{TestApp, User, get, post, request, spawn_conversation};

/// One hostile request and what it must get.
struct Case {
    what: String,
    function: Function,
    request: Request,
    status: u16,
    /// A word the error message must contain (the field at fault), if any.
    names: Option<&'static str>,
    /// ACS calls it may cost: only a token that looks right can need ACS to refuse it.
    acs_calls: u64,
}

impl Case {
    fn new(what: impl Into<String>, function: Function, request: Request, status: u16) -> Self {
        Self {
            what: what.into(),
            function,
            request,
            status,
            names: None,
            acs_calls: 0,
        }
    }

    fn naming(mut self, field: &'static str) -> Self {
        self.names = Some(field);
        self
    }
}

/// Values that are not an id of any kind, each with the status it earns.
fn bad_ids() -> Vec<(&'static str, Value, u16)> {
    vec![
        ("a number", json!(7), 400),
        ("a float", json!(1.5), 400),
        ("a boolean", json!(true), 400),
        ("an array", json!(["8:acs:x"]), 400),
        ("an object", json!({"id": "8:acs:x"}), 400),
        ("null", Value::Null, 400),
        ("empty", json!(""), 400),
        ("white space", json!(" \t\n"), 400),
        ("padded", json!(" 8:acs:res_a "), 400),
        (
            "300 characters",
            json!(format!("8:acs:{}", "a".repeat(300))),
            400,
        ),
        ("an emoji", json!("8:acs:res_😀"), 400),
        (
            "right-to-left override",
            json!("8:acs:res_\u{202e}abc"),
            400,
        ),
        ("a zero-width space", json!("8:acs:res_a\u{200b}b"), 400),
        ("a NUL", json!("8:acs:res_a\u{0}b"), 400),
        (
            "path traversal",
            json!("19:../../identities@thread.v2"),
            400,
        ),
        ("a bare traversal", json!("../../identities"), 400),
        ("an encoded slash", json!("19:a%2Fb@thread.v2"), 400),
        ("a slash", json!("19:a/b@thread.v2"), 400),
        (
            "a smuggled query",
            json!("19:a?api-version=1@thread.v2"),
            400,
        ),
        ("a smuggled fragment", json!("19:a#f@thread.v2"), 400),
        ("a smuggled parameter", json!("8:acs:a&skip=1"), 400),
        ("a CRLF", json!("8:acs:a\r\nx-evil: 1"), 400),
        (
            "a Teams id",
            json!("8:orgid:00000000-0000-0000-0000-000000000000"),
            400,
        ),
        ("a phone number", json!("4:+14255550123"), 400),
    ]
}

/// Bodies that are not one JSON object with each key once.
fn bad_bodies(valid: &Value) -> Vec<(&'static str, Body)> {
    let mut duplicated = valid.to_string();
    duplicated.insert_str(1, r#""thread_id":"19:x@thread.v2","user1_id":"8:acs:x","#);
    vec![
        ("an open brace", Body::Text("{".into())),
        (
            "a truncated object",
            Body::Text(valid.to_string()[..8].to_owned()),
        ),
        ("an array", Body::Text("[1,2]".into())),
        ("a string", Body::Text("\"text\"".into())),
        ("a number", Body::Text("123".into())),
        ("null", Body::Text("null".into())),
        ("a missing value", Body::Text(r#"{"a":}"#.into())),
        ("trailing garbage", Body::Text(format!("{valid} x"))),
        (
            "a lone surrogate",
            Body::Text(r#"{"thread_id":"\ud800"}"#.into()),
        ),
        ("keys given twice", Body::Text(duplicated)),
        (
            "bytes that are not UTF-8",
            Body::Binary(vec![0xff, 0xfe, b'{', b'}']),
        ),
        ("a NUL byte", Body::Binary(b"{\0}".to_vec())),
        (
            "XML",
            Body::Text("<thread_id>19:x@thread.v2</thread_id>".into()),
        ),
        (
            "a form",
            Body::Text("thread_id=19%3Ax%40thread.v2&user_id=8%3Aacs%3Ax".into()),
        ),
        ("single quotes", Body::Text("{'thread_id': 'x'}".into())),
        ("a comment", Body::Text("{/* x */}".into())),
    ]
}

fn with_header(mut request: Request, name: &'static str, value: &str) -> Request {
    request
        .headers_mut()
        .insert(name, HeaderValue::from_str(value).unwrap());
    request
}

fn query(pairs: &[(&str, &str)], token: &str) -> Request {
    get(pairs, Some(token))
}

/// Every hostile case, built for this world.
fn cases(alice: &User, bob: &User, thread: &str, expired: &str, revoked: &User) -> Vec<Case> {
    let mut cases = Vec::new();
    let t = alice.token.as_str();
    let posts: [(Function, Value, &[&'static str]); 3] = [
        (
            Function::CreateThread,
            json!({"user1_id": alice.id}),
            &["user1_id"],
        ),
        (
            Function::AddUser,
            json!({"thread_id": thread, "user2_id": bob.id}),
            &["thread_id", "user2_id", "user1_id"],
        ),
        (
            Function::SendMessage,
            json!({"thread_id": thread, "user_id": alice.id, "message": "hi"}),
            &["thread_id", "user_id"],
        ),
    ];
    for (function, valid, id_fields) in &posts {
        let name = function.name();
        for field in *id_fields {
            for (what, value, status) in bad_ids() {
                let mut body = valid.clone();
                body[*field] = value.clone();
                // An optional field set to null is simply absent.
                if *field == "user1_id" && *function == Function::AddUser && value.is_null() {
                    continue;
                }
                cases.push(
                    Case::new(
                        format!("{name}: {field} {what}"),
                        *function,
                        post(body, Some(t)),
                        status,
                    )
                    .naming(field),
                );
            }
        }
        for (what, body) in bad_bodies(valid) {
            let request = request("POST", None, Some(t)).map(|_| body);
            cases.push(Case::new(
                format!("{name}: body {what}"),
                *function,
                request,
                400,
            ));
        }
        for (what, content_type, body) in [
            ("as XML", "application/xml", "<a/>"),
            ("as a form", "application/x-www-form-urlencoded", "a=1"),
            ("as multipart", "multipart/form-data; boundary=x", "--x--"),
        ] {
            let request = request("POST", None, Some(t)).map(|_| Body::Text(body.into()));
            cases.push(Case::new(
                format!("{name}: a body {what}"),
                *function,
                with_header(request, "content-type", content_type),
                400,
            ));
        }
        let big = json!({"pad": "x".repeat(70 * 1024)});
        cases.push(Case::new(
            format!("{name}: a 70 KB body"),
            *function,
            post(big, Some(t)),
            413,
        ));
        let with_query = post(valid.clone(), Some(t)).with_query_string_parameters(
            [("thread_id".to_owned(), thread.to_owned())]
                .into_iter()
                .collect::<std::collections::HashMap<_, _>>(),
        );
        cases.push(Case::new(
            format!("{name}: a query string"),
            *function,
            with_query,
            400,
        ));
    }

    let send = json!({"thread_id": thread, "user_id": alice.id});
    for (what, value, status) in [
        ("a number", json!(5), 400),
        ("an object", json!({"text": "hi"}), 400),
        ("an array", json!(["hi"]), 400),
        ("null", Value::Null, 400),
        ("empty", json!(""), 400),
        ("white space", json!(" \n\t "), 400),
        ("past 28 KB", json!("x".repeat(28 * 1024 + 1)), 413),
        ("past 28 KB in bytes", json!("é".repeat(14 * 1024 + 1)), 413),
    ] {
        let mut body = send.clone();
        body["message"] = value;
        cases.push(
            Case::new(
                format!("send_message: message {what}"),
                Function::SendMessage,
                post(body, Some(t)),
                status,
            )
            .naming("message"),
        );
    }
    for key in ["", "a b", "a/b", "ключ", &"k".repeat(65)] {
        let body = json!({"thread_id": thread, "user_id": alice.id, "message": "hi"});
        let mut request = post(body, Some(t));
        request.headers_mut().insert(
            "idempotency-key",
            HeaderValue::from_bytes(key.as_bytes()).unwrap(),
        );
        cases.push(
            Case::new(
                format!("send_message: Idempotency-Key {key:?}"),
                Function::SendMessage,
                request,
                400,
            )
            .naming("Idempotency-Key"),
        );
    }
    for (what, value) in [
        ("a number", json!(1)),
        ("empty", json!("")),
        ("white space", json!("   ")),
        ("past 256 characters", json!("t".repeat(257))),
    ] {
        let body = json!({"user1_id": alice.id, "topic": value});
        cases.push(
            Case::new(
                format!("create_thread: topic {what}"),
                Function::CreateThread,
                post(body, Some(t)),
                400,
            )
            .naming("topic"),
        );
    }

    for function in [Function::GetMessages, Function::GetAllMessages] {
        let name = function.name();
        for field in ["thread_id", "user_id"] {
            for (what, value, status) in bad_ids() {
                let Some(text) = value.as_str() else { continue };
                if text.is_empty() {
                    continue;
                }
                let mut pairs = vec![("thread_id", thread), ("user_id", alice.id.as_str())];
                pairs.retain(|(k, _)| *k != field);
                pairs.push((field, text));
                cases.push(
                    Case::new(
                        format!("{name}: {field} {what}"),
                        function,
                        query(&pairs, t),
                        status,
                    )
                    .naming(field),
                );
            }
            let pairs: Vec<_> = [("thread_id", thread), ("user_id", alice.id.as_str())]
                .into_iter()
                .filter(|(k, _)| *k != field)
                .collect();
            cases.push(
                Case::new(
                    format!("{name}: no {field}"),
                    function,
                    query(&pairs, t),
                    400,
                )
                .naming(field),
            );
        }
        for extra in ["page", "THREAD_ID", "since[]", "user_id ", "x"] {
            let pairs = [
                ("thread_id", thread),
                ("user_id", alice.id.as_str()),
                (extra, "1"),
            ];
            cases.push(Case::new(
                format!("{name}: unknown parameter {extra:?}"),
                function,
                query(&pairs, t),
                400,
            ));
        }
    }
    // A cursor is ACS's continuation only: one made up to ask ACS for more, or for anything
    // else, is refused before ACS is called.
    for crafted in [
        "maxPageSize=200",
        "skip=0&maxPageSize=200",
        "api-version=2020-01-01",
        "skip=1&skip=2",
        "top=1000",
        "skip=",
    ] {
        let page = URL_SAFE_NO_PAD.encode(crafted);
        let list = [("user_id", alice.id.as_str()), ("page", page.as_str())];
        let history = [
            ("thread_id", thread),
            ("user_id", alice.id.as_str()),
            ("page", page.as_str()),
        ];
        for (function, pairs) in [
            (Function::ListThreads, &list[..]),
            (Function::GetAllMessages, &history[..]),
        ] {
            cases.push(
                Case::new(
                    format!("{}: a crafted page {crafted:?}", function.name()),
                    function,
                    query(pairs, t),
                    400,
                )
                .naming("page"),
            );
        }
    }
    for since in [
        "-1",
        "abc",
        "1.5",
        "1e3",
        "99999999999999999999999",
        " 1",
        "0x10",
    ] {
        let pairs = [
            ("thread_id", thread),
            ("user_id", alice.id.as_str()),
            ("since", since),
        ];
        cases.push(
            Case::new(
                format!("get_messages: since {since:?}"),
                Function::GetMessages,
                query(&pairs, t),
                400,
            )
            .naming("since"),
        );
    }

    let requests_as = |user: &str, token: Option<&str>| -> Vec<(Function, Request)> {
        let ids = [("thread_id", thread), ("user_id", user)];
        vec![
            (
                Function::CreateThread,
                post(json!({"user1_id": user}), token),
            ),
            (
                Function::AddUser,
                post(json!({"thread_id": thread, "user2_id": bob.id}), token),
            ),
            (
                Function::SendMessage,
                post(
                    json!({"thread_id": thread, "user_id": user, "message": "hi"}),
                    token,
                ),
            ),
            (Function::GetMessages, get(&ids, token)),
            (Function::GetAllMessages, get(&ids, token)),
        ]
    };
    let chat_requests = |token| requests_as(&alice.id, token);
    for (function, request) in chat_requests(None) {
        cases.push(Case::new(
            format!("{}: no token", function.name()),
            function,
            request,
            401,
        ));
    }
    for header in [
        "Bearer",
        "Bearer ",
        "Basic YTpi",
        "Token abc",
        "Bearer not-a-jwt",
        "Bearer a.b",
        "Bearer a.b.c.d",
        "Bearer a.!!!.c",
        "Bearer e30.e30.e30",
    ] {
        for (function, request) in chat_requests(None) {
            cases.push(Case::new(
                format!("{}: Authorization {header:?}", function.name()),
                function,
                with_header(request, "authorization", header),
                401,
            ));
        }
    }
    for (function, request) in chat_requests(Some(expired)) {
        cases.push(Case::new(
            format!("{}: an expired token", function.name()),
            function,
            request,
            401,
        ));
    }
    for (function, request) in chat_requests(Some(&bob.token)) {
        // add_user acts as whoever the token names; bob may add himself again.
        if function == Function::AddUser {
            continue;
        }
        cases.push(Case::new(
            format!("{}: another user's token", function.name()),
            function,
            request,
            403,
        ));
    }
    let forged = format!("{}x", alice.token);
    for (label, user, token) in [
        ("a forged token", alice.id.as_str(), forged.as_str()),
        (
            "a revoked token",
            revoked.id.as_str(),
            revoked.token.as_str(),
        ),
    ] {
        for (function, request) in requests_as(user, Some(token)) {
            let mut case = Case::new(
                format!("{}: {label}", function.name()),
                function,
                request,
                401,
            );
            // Only ACS can tell that a token which reads right is not genuine: one refused
            // round trip (get_messages and get_all_messages make their first calls together:
            // receipts, participants and messages; participants and messages).
            case.acs_calls = match function {
                Function::GetMessages => 3,
                Function::GetAllMessages => 2,
                _ => 1,
            };
            cases.push(case);
        }
    }

    for &function in Function::ALL {
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            if method == function.spec().method.as_str() {
                continue;
            }
            cases.push(Case::new(
                format!("{}: method {method}", function.name()),
                function,
                request(method, None, Some(t)),
                405,
            ));
        }
    }
    cases
}

async fn world_state(app: &TestApp, thread: &str, reader: &User) -> Vec<String> {
    app.raw_history(thread, reader)
        .await
        .iter()
        .map(|m| format!("{} {} {:?} {:?}", m.id, m.version(), m.text(), m.deleted_on))
        .collect()
}

#[tokio::test]
async fn two_hundred_hostile_requests_get_a_clear_4xx_cost_no_acs_call_and_change_nothing() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    app.send(&thread, &alice, "before").await;
    app.send(&thread, &bob, "and after").await;
    let expired = app.minted(&alice.id, time::Duration::seconds(-30));
    let revoked = app.outsider().await;
    app.revoke(&revoked).await;
    let before = world_state(&app, &thread, &bob).await;

    let cases = cases(&alice, &bob, &thread, &expired, &revoked);
    let mut failures = Vec::new();
    let mut acs_calls = 0;
    for case in &cases {
        app.emulator.faults().reset_counts();
        let answer = app.call(case.function, clone_request(&case.request)).await;
        let calls: u64 = app.emulator.faults().counts().values().sum();
        acs_calls += calls;
        let code = answer.body["error"]["code"].as_str().unwrap_or_default();
        let message = answer.body["error"]["message"].as_str().unwrap_or_default();
        let named = case.names.is_none_or(|field| message.contains(field));
        if answer.status != case.status || code.is_empty() || message.is_empty() || !named {
            failures.push(format!("{}: {} {}", case.what, answer.status, answer.body));
        } else if calls > case.acs_calls {
            failures.push(format!("{}: {calls} ACS calls", case.what));
        }
    }
    let after = world_state(&app, &thread, &bob).await;
    println!(
        "hostile cases: {} tried, {} failed, {acs_calls} ACS calls (only forged and revoked tokens may cost a round trip each)",
        cases.len(),
        failures.len()
    );
    assert!(cases.len() >= 200, "{} cases", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(before, after, "no hostile request changed the thread");
}

/// Requests are not `Clone`; the cases keep theirs to report what they sent.
fn clone_request(request: &Request) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method(request.method())
        .uri(request.uri());
    for (name, value) in request.headers() {
        builder = builder.header(name, value);
    }
    let body = match request.body() {
        Body::Empty => Body::Empty,
        Body::Text(text) => Body::Text(text.clone()),
        Body::Binary(bytes) => Body::Binary(bytes.clone()),
        _ => Body::Empty,
    };
    builder
        .body(body)
        .unwrap()
        .with_query_string_parameters(request.query_string_parameters())
}

#[tokio::test]
async fn names_and_topics_written_straight_to_acs_come_out_of_the_api_without_hidden_characters() {
    let (app, alice, bob, thread) = spawn_conversation().await;
    let mallory = app.outsider().await;
    let (_, chat) = app.clients();
    let (token, thread_id) = (app.acs_token(&alice), ThreadId::parse(&thread).unwrap());
    // What the API would refuse, written by a member who holds an ACS token.
    let hidden_name = "Mallory\u{202e}knaB ruoY\u{200b}";
    let added = ChatParticipant::user(&UserId::parse(&mallory.id).unwrap(), Some(hidden_name));
    chat.add_participants(&token, &thread_id, &[added])
        .await
        .unwrap();
    let topic = "\u{2066}Payroll\u{2069}\u{feff} update";
    chat.update_thread(&token, &thread_id, Some(topic), &Default::default())
        .await
        .unwrap();
    app.send(&thread, &mallory, "hello").await;

    let read = |function, extra: Vec<(&'static str, String)>| {
        let mut query = vec![("user_id", bob.id.clone())];
        query.extend(extra);
        let token = bob.token.clone();
        let app = &app;
        async move {
            let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let answer = app.call(function, get(&pairs, Some(&token))).await;
            assert_eq!(answer.status, 200, "{:?}", answer.body);
            answer.body
        }
    };
    let in_thread = || vec![("thread_id", thread.clone())];
    let shown = "MalloryknaB ruoY";
    let participants = read(Function::GetParticipants, in_thread()).await;
    let names: Vec<&str> = participants["participants"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["display_name"].as_str())
        .collect();
    assert!(names.contains(&shown), "{names:?}");
    let got = read(Function::GetThread, in_thread()).await;
    assert_eq!(got["topic"], "Payroll update");
    let inbox = read(Function::ListThreads, vec![]).await;
    assert_eq!(inbox["threads"][0]["topic"], "Payroll update");
    assert_eq!(
        inbox["threads"][0]["last_message"]["sender_display_name"],
        shown
    );
    let history = read(Function::GetAllMessages, in_thread()).await;
    let last = history["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["sender_display_name"], shown);
    for answer in [participants, got, inbox, history] {
        let text = answer.to_string();
        for c in ['\u{202e}', '\u{200b}', '\u{2066}', '\u{2069}', '\u{feff}'] {
            assert!(!text.contains(c), "{c:?} in {text}");
        }
    }
}
