//! ACS's documented rate limits (its service-limits page), off unless switched on, answered as
//! ACS answers them: 429 `TooManyRequests` with `Retry-After`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::lock::lock;
use crate::route::Route;

/// At most `calls` within `per`, counted per scope.
#[derive(Debug, Clone, Copy)]
struct Limit {
    calls: usize,
    per: Duration,
}

const fn limit(calls: usize, seconds: u64) -> Limit {
    Limit {
        calls,
        per: Duration::from_secs(seconds),
    }
}

/// The limits a call to `route` by `caller` counts against, each with the scope it is kept
/// per (a user, a thread, a user in a thread, or the resource).
fn limits_of(route: &Route<'_>, caller: &str) -> Vec<(Limit, String)> {
    let label = route.label();
    let per_thread = |l, thread: &str| (l, format!("{label}|{thread}"));
    let per_user_in = |l, thread: &str| (l, format!("{label}|{thread}|{caller}"));
    let per_resource = |l| (l, label.to_owned());
    match *route {
        Route::CreateIdentity | Route::IssueToken { .. } => vec![per_resource(limit(1000, 30))],
        Route::DeleteIdentity { .. } | Route::RevokeTokens { .. } => {
            vec![per_resource(limit(500, 30))]
        }
        // Creating and deleting threads share one budget per user; so do getting and listing.
        Route::CreateThread | Route::DeleteThread { .. } => {
            vec![(limit(10, 10), format!("create or delete|{caller}"))]
        }
        Route::GetThread { .. } | Route::ListThreads => {
            vec![(limit(50, 10), format!("get or list|{caller}"))]
        }
        Route::UpdateThread { thread_id } => vec![per_thread(limit(5, 10), thread_id)],
        Route::AddParticipants { thread_id } | Route::RemoveParticipant { thread_id } => vec![
            (limit(10, 10), format!("participants|{thread_id}")),
            (limit(30, 60), format!("participants|{thread_id}")),
        ],
        Route::SendTyping { thread_id } => vec![
            per_user_in(limit(5, 10), thread_id),
            per_user_in(limit(15, 60), thread_id),
            per_thread(limit(10, 10), thread_id),
            per_thread(limit(30, 60), thread_id),
        ],
        // Sending, editing and deleting share one budget per thread.
        Route::SendMessage { thread_id }
        | Route::UpdateMessage { thread_id, .. }
        | Route::DeleteMessage { thread_id, .. } => vec![
            (limit(10, 10), format!("write|{thread_id}")),
            (limit(30, 60), format!("write|{thread_id}")),
        ],
        Route::ListMessages { thread_id } => vec![
            per_user_in(limit(50, 10), thread_id),
            per_user_in(limit(200, 60), thread_id),
            per_thread(limit(250, 10), thread_id),
            per_thread(limit(400, 60), thread_id),
        ],
        Route::SendReadReceipt { thread_id } => vec![
            per_user_in(limit(10, 10), thread_id),
            per_user_in(limit(30, 60), thread_id),
        ],
        Route::ListParticipants { .. }
        | Route::GetMessage { .. }
        | Route::ListReadReceipts { .. } => Vec::new(),
    }
}

/// The switch and the recent calls per limit and scope.
#[derive(Default)]
pub struct Limits {
    enabled: AtomicBool,
    calls: Mutex<HashMap<(Duration, usize, String), VecDeque<Instant>>>,
}

impl Limits {
    /// Switches enforcement on or off; switching clears what was counted.
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::SeqCst);
        lock(&self.calls).clear();
    }

    /// Counts a call to `route` by `caller`, or refuses it with how long until it would pass.
    /// A refused call is not counted, as ACS does not count what it throttles.
    pub fn admit(&self, route: &Route<'_>, caller: &str) -> Result<(), Duration> {
        if !self.enabled.load(Ordering::SeqCst) {
            return Ok(());
        }
        let now = Instant::now();
        let mut calls = lock(&self.calls);
        let mut wait = Duration::ZERO;
        let checks = limits_of(route, caller);
        for (limit, scope) in &checks {
            let window = calls
                .entry((limit.per, limit.calls, scope.clone()))
                .or_default();
            while window.front().is_some_and(|at| now - *at >= limit.per) {
                window.pop_front();
            }
            if window.len() >= limit.calls
                && let Some(oldest) = window.front()
            {
                wait = wait.max(limit.per - (now - *oldest));
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for (limit, scope) in checks {
            calls
                .entry((limit.per, limit.calls, scope))
                .or_default()
                .push_back(now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::ANY;

    #[test]
    fn sends_past_ten_in_ten_seconds_to_one_thread_wait_for_the_oldest_to_leave() {
        let limits = Limits::default();
        let send = Route::SendMessage { thread_id: "t1" };
        assert!(limits.admit(&send, "alice").is_ok(), "off by default");
        limits.set_enabled(true);
        for i in 0..10 {
            let sender = if i % 2 == 0 { "alice" } else { "bob" };
            assert!(limits.admit(&send, sender).is_ok(), "call {i}");
        }
        let wait = limits.admit(&send, "carol").unwrap_err();
        assert!(
            wait > Duration::from_secs(9) && wait <= Duration::from_secs(10),
            "{wait:?}"
        );
        let other = Route::SendMessage { thread_id: "t2" };
        assert!(
            limits.admit(&other, "alice").is_ok(),
            "another thread has its own"
        );
    }

    #[test]
    fn reads_are_limited_per_user_in_a_thread() {
        let limits = Limits::default();
        limits.set_enabled(true);
        let list = Route::ListMessages { thread_id: "t" };
        for _ in 0..50 {
            assert!(limits.admit(&list, "alice").is_ok());
        }
        assert!(limits.admit(&list, "alice").is_err());
        assert!(limits.admit(&list, "bob").is_ok());
        assert!(
            limits
                .admit(
                    &Route::GetMessage {
                        thread_id: ANY,
                        message_id: ANY
                    },
                    "alice"
                )
                .is_ok()
        );
    }
}
