//! What a request leaves behind for whoever runs it: log lines that all carry its ids, the same
//! id on every ACS call (retries included) and ACS's correlation vector beside it.

use std::io::Write;
use std::sync::{Arc, Mutex};

use acs_chat_api::api::Function;
use acs_chat_api::api::telemetry::logging;
use acs_emulator::{ANY, Fault, FaultKind, Route};
use serde_json::Value;
use tracing::instrument::WithSubscriber;

use support::{send_request, spawn_conversation};

/// Log lines written in the functions' own format, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}

#[tokio::test]
async fn every_log_line_carries_the_request_ids_and_every_acs_call_is_traceable_in_acs() {
    let (app, alice, _, thread) = spawn_conversation().await;
    // One 503 first, so the send's retry must carry the same id too.
    app.emulator.faults().add(
        Fault::next(FaultKind::status(503, None), 1).on(Route::SendMessage { thread_id: ANY }),
    );
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = logging::subscriber(tracing::Level::INFO, false, move || writer.clone());
    let answer = app
        .call(
            Function::SendMessage,
            send_request(&thread, &alice, "traced", Some("trace-key")),
        )
        .with_subscriber(subscriber)
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);

    let lines = captured.lines();
    let id = lines[0]["span"]["lambda_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for line in &lines {
        assert_eq!(line["span"]["lambda_request_id"], id.as_str(), "{line}");
        assert_eq!(line["span"]["function"], "send_message", "{line}");
    }
    let answered: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "ACS answered")
        .collect();
    // Look for the key, send (503), look again, send, then look for a twin: the send's
    // retry carries the same id. (A slow machine may add retries; the order holds.)
    let statuses: Vec<u64> = answered
        .iter()
        .filter(|l| {
            l["fields"]["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/messages"))
        })
        .filter_map(|l| l["fields"]["status"].as_u64())
        .collect();
    let failed = statuses
        .iter()
        .position(|s| *s == 503)
        .expect("the 503 is logged");
    assert!(statuses[failed..].contains(&201), "{statuses:?}");
    let journal = app.emulator.journal();
    for line in &answered {
        let fields = &line["fields"];
        assert_eq!(
            fields["client_request_id"],
            id.as_str(),
            "ACS echoed our id"
        );
        let ms_cv = fields["ms_cv"].as_str().unwrap();
        let served = journal
            .iter()
            .find(|s| s.ms_cv == ms_cv)
            .unwrap_or_else(|| panic!("{ms_cv} is not in the emulator's journal"));
        assert_eq!(served.client_request_id.as_deref(), Some(id.as_str()));
        assert_eq!(
            Some(served.status),
            fields["status"].as_u64().map(|s| s as u16)
        );
    }
    let handled = lines.last().unwrap();
    assert_eq!(handled["fields"]["message"], "handled");
    assert_eq!(handled["fields"]["status"], 200);
    let attempts = handled["fields"]["acs_attempts"]
        .as_u64()
        .unwrap_or_default();
    assert!(
        attempts >= answered.len() as u64,
        "every answer is an attempt (one that timed out has no answer)"
    );
}
