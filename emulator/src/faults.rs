//! Faults a test can switch on, and the per-route request counts it can assert round trips with.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::lock::lock;
use crate::route::{Route, RouteName};

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status and an ACS error body; `retry_after` in seconds adds the header.
    Status {
        status: u16,
        #[serde(default)]
        retry_after: Option<u64>,
    },
    /// Wait this long, then answer normally.
    Latency { millis: u64 },
    /// Close the connection without answering.
    Drop,
    /// Do what was asked, then close the connection without answering: the caller cannot know
    /// whether it happened.
    CommitThenDrop,
}

impl FaultKind {
    /// An answer with this status, and `Retry-After` in seconds if given.
    pub fn status(status: u16, retry_after: Option<u64>) -> Self {
        Self::Status {
            status,
            retry_after,
        }
    }

    /// A short name for counts: `429`, `503`, `latency`, `drop`, `commit_then_drop`.
    pub fn name(&self) -> String {
        match self {
            Self::Status { status, .. } => status.to_string(),
            Self::Latency { .. } => "latency".into(),
            Self::Drop => "drop".into(),
            Self::CommitThenDrop => "commit_then_drop".into(),
        }
    }
}

/// A fault and which calls it hits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Only calls to this route (its label, e.g. `POST /chat/threads`); all if unset.
    #[serde(default)]
    pub route: Option<RouteName>,
    /// Only calls made with a token of this identity (its raw id); anyone's if unset. Lets a
    /// test throttle one person of a conversation while the other carries on.
    #[serde(default)]
    pub caller: Option<String>,
    /// Hit the next `count` matching calls.
    #[serde(default)]
    pub count: Option<u64>,
    /// Or hit this share of matching calls, spread evenly (0.5 hits every second call).
    #[serde(default)]
    pub share: Option<f64>,
}

impl Fault {
    /// A fault that hits the next `count` calls of any route.
    pub fn next(kind: FaultKind, count: u64) -> Self {
        Self {
            kind,
            route: None,
            caller: None,
            count: Some(count),
            share: None,
        }
    }

    /// Limits the fault to one route.
    pub fn on(mut self, route: Route<'_>) -> Self {
        self.route = Some(RouteName::of(&route));
        self
    }
}

struct Armed {
    fault: Fault,
    seen: u64,
    hits: u64,
}

impl Armed {
    /// Deterministic: call k is hit when floor(k·share) steps up, so a share is exact over runs.
    fn hits_next(&mut self, route: RouteName, caller: Option<&str>) -> bool {
        if self.fault.route.is_some_and(|r| r != route) {
            return false;
        }
        if self
            .fault
            .caller
            .as_deref()
            .is_some_and(|wanted| Some(wanted) != caller)
        {
            return false;
        }
        self.seen += 1;
        let hit = match (self.fault.count, self.fault.share) {
            (Some(count), _) => self.hits < count,
            (None, Some(share)) => {
                let share = share.clamp(0.0, 1.0);
                (self.seen as f64 * share).floor() > ((self.seen - 1) as f64 * share).floor()
            }
            (None, None) => true,
        };
        self.hits += u64::from(hit);
        hit
    }

    fn spent(&self) -> bool {
        self.fault.count.is_some_and(|count| self.hits >= count)
    }
}

/// The fault plan and request counters of one emulator.
#[derive(Default)]
pub struct Faults {
    armed: Mutex<Vec<Armed>>,
    counts: Mutex<BTreeMap<String, u64>>,
    injected: Mutex<BTreeMap<String, u64>>,
    connections: Mutex<BTreeMap<&'static str, u64>>,
}

impl Faults {
    /// Arms a fault.
    pub fn add(&self, fault: Fault) {
        lock(&self.armed).push(Armed {
            fault,
            seen: 0,
            hits: 0,
        });
    }

    /// Disarms every fault.
    pub fn clear(&self) {
        lock(&self.armed).clear();
    }

    /// Counts a call to `route` made by `caller` (the identity its token names, if any) and
    /// returns the fault that hits it, if any.
    ///
    /// Faults are tried in the order they were armed and the first that takes the call wins;
    /// later ones never see it, so faults sharing a route take different calls.
    pub fn on_request(&self, route: RouteName, caller: Option<&str>) -> Option<FaultKind> {
        *lock(&self.counts)
            .entry(route.as_str().to_owned())
            .or_default() += 1;
        let mut armed = lock(&self.armed);
        let hit = armed.iter_mut().find_map(|fault| {
            fault
                .hits_next(route, caller)
                .then(|| fault.fault.kind.clone())
        });
        armed.retain(|fault| !fault.spent());
        if let Some(kind) = &hit {
            *lock(&self.injected).entry(kind.name()).or_default() += 1;
        }
        hit
    }

    /// Faults injected by kind ([`FaultKind::name`]) since start or the last reset.
    pub fn injected(&self) -> BTreeMap<String, u64> {
        lock(&self.injected).clone()
    }

    /// Requests served per route label since start or the last reset.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        lock(&self.counts).clone()
    }

    /// Requests served on one route.
    pub fn count(&self, route: Route<'_>) -> u64 {
        lock(&self.counts).get(route.label()).copied().unwrap_or(0)
    }

    /// Counts a connection accepted, by the protocol it speaks (`h2`, `http/1.1`, or `http`
    /// without TLS): how a client's fan-out is carried is a cost the tests can see.
    pub fn count_connection(&self, protocol: &'static str) {
        *lock(&self.connections).entry(protocol).or_default() += 1;
    }

    /// Connections accepted by protocol since start or the last reset.
    pub fn connections(&self) -> BTreeMap<&'static str, u64> {
        lock(&self.connections).clone()
    }

    /// Zeroes the request, fault and connection counters.
    pub fn reset_counts(&self) {
        lock(&self.counts).clear();
        lock(&self.injected).clear();
        lock(&self.connections).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::ANY;

    const ROUTE: RouteName = RouteName::of(&Route::ListThreads);

    #[test]
    fn a_counted_fault_hits_the_next_calls_then_disarms() {
        let faults = Faults::default();
        faults.add(Fault::next(FaultKind::Drop, 2));
        let hits: Vec<bool> = (0..4)
            .map(|_| faults.on_request(ROUTE, None).is_some())
            .collect();
        assert_eq!(hits, [true, true, false, false]);
        assert_eq!(faults.counts()[ROUTE.as_str()], 4);
    }

    #[test]
    fn a_share_hits_that_fraction_of_calls_evenly() {
        let faults = Faults::default();
        faults.add(Fault {
            share: Some(0.25),
            count: None,
            ..Fault::next(
                FaultKind::Status {
                    status: 503,
                    retry_after: None,
                },
                0,
            )
        });
        let hits = (0..100)
            .filter(|_| faults.on_request(ROUTE, None).is_some())
            .count();
        assert_eq!(hits, 25);
    }

    #[test]
    fn faults_sharing_a_route_take_different_calls() {
        let faults = Faults::default();
        let every_other = |kind| Fault {
            share: Some(0.5),
            count: None,
            ..Fault::next(kind, 0)
        };
        faults.add(every_other(FaultKind::Drop));
        faults.add(every_other(FaultKind::CommitThenDrop));
        let hits: Vec<Option<FaultKind>> = (0..4).map(|_| faults.on_request(ROUTE, None)).collect();
        assert_eq!(
            hits,
            [
                None,
                Some(FaultKind::Drop),
                Some(FaultKind::CommitThenDrop),
                Some(FaultKind::Drop)
            ]
        );
    }

    #[test]
    fn a_fault_naming_no_route_of_acs_s_is_refused() {
        let fault = r#"{"kind": "drop", "route": "POST /chat/thread"}"#;
        assert!(serde_json::from_str::<Fault>(fault).is_err());
        let fault = r#"{"kind": "drop", "route": "POST /chat/threads"}"#;
        assert!(serde_json::from_str::<Fault>(fault).is_ok());
    }

    #[test]
    fn a_route_fault_leaves_other_routes_alone() {
        let faults = Faults::default();
        faults.add(Fault::next(FaultKind::Drop, 1).on(Route::CreateThread));
        let get = RouteName::of(&Route::GetThread { thread_id: ANY });
        let create = RouteName::of(&Route::CreateThread);
        assert!(faults.on_request(get, None).is_none());
        assert!(faults.on_request(create, None).is_some());
        assert!(faults.on_request(create, None).is_none());
    }

    #[test]
    fn a_fault_for_one_caller_leaves_everyone_else_s_calls_alone() {
        let faults = Faults::default();
        faults.add(Fault {
            caller: Some("8:acs:bob".to_owned()),
            ..Fault::next(FaultKind::Drop, 1)
        });
        assert!(faults.on_request(ROUTE, Some("8:acs:alice")).is_none());
        assert!(faults.on_request(ROUTE, None).is_none());
        assert!(faults.on_request(ROUTE, Some("8:acs:bob")).is_some());
        assert!(
            faults.on_request(ROUTE, Some("8:acs:bob")).is_none(),
            "spent"
        );
    }
}
