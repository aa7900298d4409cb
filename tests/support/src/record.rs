//! The suites' traffic, kept for the contract check and the secret scan (`tests/contract`)
//! when `API_TEST_RECORD` names a folder (`scripts/test` sets it): every answer of every
//! function, every log line of every request in the functions' own format at debug, and the
//! secrets the suites used, to look for in both.
//!
//! Nothing is installed globally: a request's logs are captured by running it under the
//! recording subscriber ([`traced`]), unless the test has put a subscriber of its own in scope.

use std::collections::HashMap;
use std::fs::File;
use std::future::Future;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use lambda_http::{Body, Response};
use tracing::Dispatch;
use tracing::instrument::WithSubscriber;

struct Recorder {
    responses: Mutex<File>,
    secrets: Mutex<File>,
    logs: Dispatch,
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
            let logs = Mutex::new(open("logs.jsonl"));
            let writer = move || LogLine(logs.lock().unwrap().try_clone().unwrap());
            let subscriber = acs_chat_api::api::telemetry::logging::subscriber(
                tracing::Level::DEBUG,
                false,
                writer,
            );
            Some(Recorder {
                responses: Mutex::new(open("responses.jsonl")),
                secrets: Mutex::new(open("secrets.txt")),
                logs: Dispatch::new(subscriber),
            })
        })
        .as_ref()
}

/// A log file handle the subscriber writes one line through.
struct LogLine(File);

impl Write for LogLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Runs `work` with its log lines recorded, when the traffic is recorded and the test has no
/// subscriber of its own in scope.
pub async fn traced<F: Future>(work: F) -> F::Output {
    let own = tracing::dispatcher::get_default(|current| {
        !current.is::<tracing::subscriber::NoSubscriber>()
    });
    match recorder() {
        Some(recorder) if !own => work.with_subscriber(recorder.logs.clone()).await,
        _ => work.await,
    }
}

/// Keeps a function's answer for the contract check.
pub fn answer(function: &str, method: &str, response: &Response<Body>) {
    let Some(recorder) = recorder() else {
        return;
    };
    let headers: HashMap<&str, &str> = response
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let record = serde_json::json!({
        "function": function,
        "method": method,
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

/// Keeps a secret the suites used, for the scan to look for.
pub fn secret(text: &str) {
    if let Some(recorder) = recorder() {
        let line = format!("{text}\n");
        recorder
            .secrets
            .lock()
            .unwrap()
            .write_all(line.as_bytes())
            .unwrap();
    }
}

/// Writes `text` as the recorded file `name`, for a check that reads what the Rust side knows.
pub fn file(name: &str, text: &str) {
    if let Some(dir) = std::env::var_os("API_TEST_RECORD") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
    }
}
