//! Per-request metrics in CloudWatch's embedded metric format (EMF): one JSON line per request
//! on stdout, which CloudWatch Logs turns into metrics with no agent and no API call of ours.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{RequestIds, Timing};

/// What one request measured.
pub struct Record<'a> {
    pub namespace: &'a str,
    pub function: &'static str,
    pub status: u16,
    pub timing: Timing,
    pub ids: &'a RequestIds,
}

impl Record<'_> {
    /// The EMF document: the metrics `total_ms`, `upstream_ms` and `acs_attempts` under the
    /// dimensions `function` and `status_class`, and the request ids as plain properties so
    /// that a record can be found from a log line.
    pub fn emf(&self, at: OffsetDateTime) -> Value {
        let timestamp_ms = at.unix_timestamp_nanos() / 1_000_000;
        json!({
            "_aws": {
                "Timestamp": timestamp_ms as i64,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [["function", "status_class"]],
                    "Metrics": [
                        {"Name": "total_ms", "Unit": "Milliseconds"},
                        {"Name": "upstream_ms", "Unit": "Milliseconds"},
                        {"Name": "acs_attempts", "Unit": "Count"},
                    ],
                }],
            },
            "function": self.function,
            "status_class": format!("{}xx", self.status / 100),
            "status": self.status,
            "total_ms": self.timing.total.as_secs_f64() * 1e3,
            "upstream_ms": self.timing.upstream.waited.as_secs_f64() * 1e3,
            "acs_attempts": self.timing.upstream.attempts,
            "request_id": self.ids.api_gateway,
            "lambda_request_id": self.ids.lambda,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::acs::http::UpstreamTime;

    /// The rules of the EMF specification a document must meet to become metrics.
    fn emf_violations(document: &Value) -> Vec<String> {
        let mut found = Vec::new();
        let aws = &document["_aws"];
        if !aws["Timestamp"].is_i64() {
            found.push("_aws.Timestamp must be epoch milliseconds".to_owned());
        }
        let Some(directives) = aws["CloudWatchMetrics"]
            .as_array()
            .filter(|d| !d.is_empty())
        else {
            return vec!["_aws.CloudWatchMetrics must be a non-empty array".to_owned()];
        };
        for directive in directives {
            let namespace = directive["Namespace"].as_str().unwrap_or_default();
            if namespace.is_empty() || namespace.len() > 1024 {
                found.push("Namespace must be 1 to 1024 characters".to_owned());
            }
            for set in directive["Dimensions"].as_array().into_iter().flatten() {
                let names = set.as_array().cloned().unwrap_or_default();
                if names.is_empty() || names.len() > 30 {
                    found.push("a dimension set has 1 to 30 names".to_owned());
                }
                for name in names {
                    let name = name.as_str().unwrap_or_default();
                    if !document[name].is_string() {
                        found.push(format!("dimension {name} must be a string member"));
                    }
                }
            }
            let metrics = directive["Metrics"].as_array().cloned().unwrap_or_default();
            if metrics.is_empty() || metrics.len() > 100 {
                found.push("Metrics has 1 to 100 entries".to_owned());
            }
            for metric in metrics {
                let name = metric["Name"].as_str().unwrap_or_default();
                if name.is_empty() || !document[name].is_number() {
                    found.push(format!("metric {name:?} must be a number member"));
                }
                let units = ["Milliseconds", "Count", "Seconds", "None"];
                if !metric["Unit"].as_str().is_none_or(|u| units.contains(&u)) {
                    found.push(format!("metric {name} has an unknown unit"));
                }
            }
        }
        found
    }

    #[test]
    fn a_request_record_is_valid_emf_with_its_dimensions_and_ids() {
        let ids = RequestIds {
            api_gateway: Some("JKJaXmPLvHcESHA=".into()),
            lambda: "5f3c2b1a-0000-4000-8000-000000000001".into(),
        };
        let record = Record {
            namespace: "acs-chat-api",
            function: "send_message",
            status: 429,
            timing: Timing {
                total: Duration::from_micros(12_500),
                upstream: UpstreamTime {
                    waited: Duration::from_millis(11),
                    attempts: 3,
                    rounds: 1,
                },
            },
            ids: &ids,
        };
        let at = OffsetDateTime::from_unix_timestamp(1_795_600_800).unwrap();
        let document = record.emf(at);
        assert_eq!(
            emf_violations(&document),
            Vec::<String>::new(),
            "{document}"
        );
        assert_eq!(document["_aws"]["Timestamp"], 1_795_600_800_000_i64);
        assert_eq!(document["status_class"], "4xx");
        assert_eq!(document["function"], "send_message");
        assert_eq!(document["total_ms"], 12.5);
        assert_eq!(document["acs_attempts"], 3);
        assert_eq!(document["lambda_request_id"], ids.lambda.as_str());
    }

    #[test]
    fn the_checker_catches_what_emf_refuses() {
        let broken = json!({"_aws": {"Timestamp": "now", "CloudWatchMetrics": [{
            "Namespace": "", "Dimensions": [["function"]], "Metrics": [{"Name": "total_ms"}]}]}});
        assert_eq!(
            emf_violations(&broken).len(),
            4,
            "{:?}",
            emf_violations(&broken)
        );
    }
}
