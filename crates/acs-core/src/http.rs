//! The one HTTP path every ACS call takes: a shared rustls client, a timeout on each attempt,
//! retries with exponential backoff and jitter, `Retry-After`, and error decoding.

use std::cell::RefCell;
use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode, Url};
use serde::de::DeserializeOwned;

use super::auth;
use super::error::AcsError;

/// Time spent waiting on ACS within one request, overlapping calls counted once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpstreamTime {
    /// Wall time during which at least one ACS attempt was in flight.
    pub waited: Duration,
    /// ACS attempts made (retries included).
    pub attempts: u32,
    /// Sequential round trips: how often ACS traffic started from none in flight, so calls
    /// made together count once.
    pub rounds: u32,
}

#[derive(Default)]
struct UpstreamClock {
    time: UpstreamTime,
    in_flight: u32,
    since: Option<Instant>,
    deadline: Option<Instant>,
    client_request_id: Option<String>,
}

tokio::task_local! {
    static UPSTREAM: RefCell<UpstreamClock>;
}

/// Runs `work` and reports how long it waited on ACS, so that a request's own cost can be told
/// from its upstream's (logged per request, and measured by the benchmark). ACS calls within
/// it neither start an attempt nor wait for one past `deadline`, so that a whole request,
/// retries and sequential calls included, ends in time for its caller; and each carries
/// `client_request_id` as `x-ms-client-request-id`, so ACS's side of a call can be found from
/// ours.
pub async fn measure_upstream<F: Future>(
    deadline: Option<Instant>,
    client_request_id: Option<String>,
    work: F,
) -> (F::Output, UpstreamTime) {
    let clock = UpstreamClock {
        deadline,
        client_request_id,
        ..UpstreamClock::default()
    };
    UPSTREAM
        .scope(RefCell::new(clock), async {
            let output = work.await;
            let time = UPSTREAM.with(|clock| clock.borrow().time);
            (output, time)
        })
        .await
}

/// The enclosing request's id for ACS, if it has one.
fn client_request_id() -> Option<String> {
    UPSTREAM
        .try_with(|clock| clock.borrow().client_request_id.clone())
        .ok()?
}

/// Time left before the enclosing request's deadline, if it has one.
fn time_left() -> Option<Duration> {
    let deadline = UPSTREAM.try_with(|clock| clock.borrow().deadline).ok()??;
    Some(deadline.saturating_duration_since(Instant::now()))
}

/// Marks one ACS attempt in flight for the enclosing [`measure_upstream`], if any.
struct InFlight;

impl InFlight {
    fn start() -> Self {
        let _ = UPSTREAM.try_with(|clock| {
            let mut clock = clock.borrow_mut();
            if clock.in_flight == 0 {
                clock.since = Some(Instant::now());
                clock.time.rounds += 1;
            }
            clock.in_flight += 1;
            clock.time.attempts += 1;
        });
        Self
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let _ = UPSTREAM.try_with(|clock| {
            let mut clock = clock.borrow_mut();
            clock.in_flight = clock.in_flight.saturating_sub(1);
            if clock.in_flight == 0
                && let Some(since) = clock.since.take()
            {
                clock.time.waited += since.elapsed();
            }
        });
    }
}

/// Counts `work`, a call to another upstream (the people table), as waiting with the
/// enclosing request's ACS calls, so that a request's own time leaves out every network wait
/// and its round trips count every service it waits on.
pub async fn count_upstream<F: Future>(work: F) -> F::Output {
    let _in_flight = InFlight::start();
    work.await
}

/// Whether repeating a request could repeat its effect, which decides what we retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, and writes that ACS deduplicates (a repeatability id, adding a participant twice).
    Safe,
    /// Writes a retry could repeat (sending a message, creating an identity): retried only when
    /// ACS certainly did not act on them (429, or no connection was made).
    Unsafe,
}

/// How hard to try. The defaults keep a Lambda invocation well inside API Gateway's 30 s.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    /// Delay before the first retry; doubles after each.
    pub base_delay: Duration,
    /// Ceiling on any computed delay.
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is passed on to our caller instead of waited out.
    pub max_retry_after: Duration,
    /// Timeout of each attempt, connection included.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
        }
    }
}

/// A cheaply cloneable handle on the shared connection pool and its retry policy.
#[derive(Debug, Clone)]
pub struct AcsHttp {
    client: reqwest::Client,
    policy: RetryPolicy,
    first: Arc<FirstConnections>,
}

/// The HTTPS origins this client has reached, and the gate a first call to another one takes.
///
/// Before a connection is up, the pool cannot know that ALPN will pick HTTP/2, so calls made
/// together on a cold start would each open a connection and pay a TLS handshake (about 2 ms of
/// CPU apiece) that HTTP/2 would have shared. The first call to an origin goes alone; the
/// others wait for its answer, then share its connection. Plain HTTP has nothing to share.
#[derive(Debug, Default)]
struct FirstConnections {
    reached: std::sync::Mutex<HashSet<String>>,
    gate: tokio::sync::Mutex<()>,
}

impl FirstConnections {
    fn reached(&self, origin: &str) -> bool {
        self.reached
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(origin)
    }

    /// Held while the first call to `url`'s origin is made; `None` once it has been reached.
    async fn first_call(&self, url: &Url) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        if url.scheme() != "https" {
            return None;
        }
        let origin = url.origin().ascii_serialization();
        if self.reached(&origin) {
            return None;
        }
        let gate = self.gate.lock().await;
        (!self.reached(&origin)).then_some(gate)
    }

    fn reach(&self, url: &Url) {
        self.reached
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(url.origin().ascii_serialization());
    }
}

impl AcsHttp {
    /// Builds the shared client. Call once per process: it owns the connection pool.
    pub fn new(policy: RetryPolicy) -> Result<Self, AcsError> {
        Self::with_resolve(policy, None)
    }

    /// [`new`](Self::new), reaching `resolve`'s host at its address instead of through DNS.
    pub fn with_resolve(
        policy: RetryPolicy,
        resolve: Option<(&str, SocketAddr)>,
    ) -> Result<Self, AcsError> {
        Self::trusting(policy, resolve, None)
    }

    /// [`with_resolve`](Self::with_resolve), also trusting the certificates of `extra_roots`
    /// (PEM) besides the platform's.
    pub fn trusting(
        policy: RetryPolicy,
        resolve: Option<(&str, SocketAddr)>,
        extra_roots: Option<&str>,
    ) -> Result<Self, AcsError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(policy.timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(50))
            .tcp_nodelay(true)
            // No call of ours is redirected, and a redirect would take a token, a signed
            // request or a push to a host nobody checked (a push service's, a JWKS's).
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("acs-chat-api/", env!("CARGO_PKG_VERSION")));
        if let Some((host, addr)) = resolve {
            builder = builder.resolve(host, addr);
        }
        if let Some(pem) = extra_roots {
            let certificates = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| AcsError::Connection(e.to_string()))?;
            builder = builder.tls_certs_merge(certificates);
        }
        let client = builder
            .build()
            .map_err(|e| AcsError::Connection(e.without_url().to_string()))?;
        Ok(Self {
            client,
            policy,
            first: Arc::default(),
        })
    }

    /// The underlying client, for building requests; every other HTTP call of the container
    /// (AWS, the real-time channel, Entra's keys) goes through it too.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends a request built afresh for each attempt (so signatures carry a fresh date) and
    /// returns the success body.
    pub async fn send(
        &self,
        idempotency: Idempotency,
        build: impl Fn() -> Result<RequestBuilder, AcsError>,
    ) -> Result<Vec<u8>, AcsError> {
        let mut attempt = 1;
        let request_id = client_request_id();
        loop {
            let timeout =
                time_left().map_or(self.policy.timeout, |left| left.min(self.policy.timeout));
            if timeout.is_zero() {
                return Err(AcsError::Timeout);
            }
            let in_flight = InFlight::start();
            let mut request = build()?.timeout(timeout);
            if let Some(id) = &request_id {
                request = request.header("x-ms-client-request-id", id);
            }
            let request = request.build().map_err(|e| transport_error(&e))?;
            let url = request.url().clone();
            let started = Instant::now();
            let first = self.first.first_call(&url).await;
            let outcome = self.client.execute(request).await;
            if outcome.is_ok() && first.is_some() {
                self.first.reach(&url);
            }
            drop(first);
            if let Ok(response) = &outcome {
                let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
                tracing::info!(
                    path = %response.url().path(),
                    status = response.status().as_u16(),
                    attempt,
                    ms = started.elapsed().as_secs_f64() * 1e3,
                    ms_cv = header("ms-cv").unwrap_or_default(),
                    client_request_id = header("x-ms-client-request-id").unwrap_or_default(),
                    "ACS answered"
                );
            }
            let (error, wait) = match outcome {
                Ok(response) if response.status().is_success() => {
                    return response
                        .bytes()
                        .await
                        .map(|b| b.to_vec())
                        .map_err(|e| transport_error(&e));
                }
                Ok(response) => {
                    let status = response.status();
                    let retry_after = retry_after(response.headers());
                    let body = response.bytes().await.unwrap_or_default();
                    drop(in_flight);
                    let error = AcsError::from_response(status.as_u16(), &body, retry_after);
                    let wait = retryable_status(status, idempotency)
                        .then(|| retry_after.unwrap_or_else(|| self.backoff(attempt)));
                    (error, wait)
                }
                Err(e) => {
                    drop(in_flight);
                    let retry = idempotency == Idempotency::Safe || e.is_connect();
                    (transport_error(&e), retry.then(|| self.backoff(attempt)))
                }
            };
            match wait {
                Some(delay) if attempt < self.policy.max_attempts => {
                    let past_deadline = time_left().is_some_and(|left| delay >= left);
                    if delay > self.policy.max_retry_after || past_deadline {
                        return Err(error);
                    }
                    tracing::warn!(attempt, ?delay, %error, "retrying ACS call");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                _ => return Err(error),
            }
        }
    }

    /// Like [`send`](Self::send), then decodes the body as JSON.
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        idempotency: Idempotency,
        build: impl Fn() -> Result<RequestBuilder, AcsError>,
    ) -> Result<T, AcsError> {
        decode_json(&self.send(idempotency, build).await?)
    }

    /// Exponential backoff with full jitter in the upper half, so retries from many
    /// containers spread out instead of arriving together.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .policy
            .base_delay
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(self.policy.max_delay);
        let random = RandomState::new().build_hasher().finish();
        let fraction = 0.5 + (random % 1000) as f64 / 2000.0;
        exp.mul_f64(fraction)
    }
}

/// How many calls of one fan-out are in flight at once where nothing says otherwise. Over
/// HTTP/1.1 each needs a connection of its own, and a container's first request pays a TLS
/// handshake for each; with this many, later calls reuse the first ones' connections.
pub const FAN_OUT: usize = 6;

/// Runs `call` for each of `items`, at most `limit` at once, and gives the outcomes in the
/// items' order.
pub async fn fan_out<I, T, F, Fut>(limit: usize, items: I, call: F) -> Vec<T>
where
    I: IntoIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future<Output = T>,
{
    use futures_util::stream::{self, StreamExt};
    stream::iter(items)
        .map(call)
        .buffered(limit.max(1))
        .collect()
        .await
}

/// `path` under `endpoint`, with the `api-version` every ACS route requires.
pub(crate) fn versioned_url(endpoint: &Url, path: &str, version: &str) -> Result<Url, AcsError> {
    let mut url = endpoint
        .join(path)
        .map_err(|e| AcsError::InvalidResponse(format!("bad ACS URL: {e}")))?;
    url.query_pairs_mut().append_pair("api-version", version);
    Ok(url)
}

/// Serialises a request body; our request types cannot fail to serialise, but we do not panic.
pub(crate) fn encode_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, AcsError> {
    serde_json::to_vec(value).map_err(|e| AcsError::InvalidResponse(e.to_string()))
}

/// Decodes a success body.
pub(crate) fn decode_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AcsError> {
    serde_json::from_slice(body).map_err(|e| AcsError::InvalidResponse(e.to_string()))
}

fn transport_error(e: &reqwest::Error) -> AcsError {
    if e.is_timeout() {
        AcsError::Timeout
    } else if e.is_connect() {
        AcsError::Connection("connection failed".into())
    } else {
        AcsError::NoAnswer
    }
}

fn retryable_status(status: StatusCode, idempotency: Idempotency) -> bool {
    match status.as_u16() {
        429 => true,
        408 | 500 | 502 | 503 | 504 => idempotency == Idempotency::Safe,
        _ => false,
    }
}

/// Reads `retry-after-ms`, `x-ms-retry-after-ms`, then `Retry-After` (seconds or an HTTP date).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) = text(name).and_then(|v| v.trim().parse::<u64>().ok()) {
            return Some(Duration::from_millis(ms));
        }
    }
    let value = text("retry-after")?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = auth::parse_date(value)?;
    let left = at - time::OffsetDateTime::now_utc();
    Some(left.try_into().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn retry_after_reads_every_form_azure_sends() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "250"), ("retry-after", "3")])),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_after(&headers(&[("x-ms-retry-after-ms", "40")])),
            Some(Duration::from_millis(40))
        );
        let past = retry_after(&headers(&[(
            "retry-after",
            "Fri, 05 Jan 2024 10:20:30 GMT",
        )]));
        assert_eq!(past, Some(Duration::ZERO));
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn only_safe_requests_are_retried_on_server_errors() {
        for status in [500, 502, 503, 504] {
            let status = StatusCode::from_u16(status).unwrap();
            assert!(retryable_status(status, Idempotency::Safe), "{status}");
            assert!(!retryable_status(status, Idempotency::Unsafe), "{status}");
        }
        assert!(retryable_status(
            StatusCode::TOO_MANY_REQUESTS,
            Idempotency::Unsafe
        ));
        assert!(!retryable_status(
            StatusCode::BAD_REQUEST,
            Idempotency::Safe
        ));
    }

    #[tokio::test]
    async fn upstream_time_counts_overlapping_calls_once() {
        let ((), time) = measure_upstream(None, None, async {
            let call = || async {
                let _in_flight = InFlight::start();
                tokio::time::sleep(Duration::from_millis(30)).await;
            };
            tokio::join!(call(), call());
        })
        .await;
        assert_eq!((time.attempts, time.rounds), (2, 1));
        assert!(time.waited >= Duration::from_millis(30), "{time:?}");
        assert!(time.waited < Duration::from_millis(55), "{time:?}");
    }

    #[test]
    fn backoff_grows_and_stays_under_the_ceiling() {
        let http = AcsHttp::new(RetryPolicy::default()).unwrap();
        for attempt in 1..10 {
            let delay = http.backoff(attempt);
            let full =
                Duration::from_millis(200 * (1 << (attempt - 1))).min(Duration::from_secs(2));
            assert!(
                delay >= full / 2 && delay <= full,
                "attempt {attempt}: {delay:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_redirect_is_answered_as_it_came_and_never_followed() {
        use std::io::{Read, Write};
        let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        elsewhere.set_nonblocking(true).unwrap();
        let redirecting = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let (port, target) = (
            redirecting.local_addr().unwrap().port(),
            elsewhere.local_addr().unwrap(),
        );
        std::thread::spawn(move || {
            let (mut stream, _) = redirecting.accept().unwrap();
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let answer = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://{target}/keys\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(answer.as_bytes()).unwrap();
        });
        let http = AcsHttp::new(RetryPolicy::default()).unwrap();
        let answer = http
            .client()
            .post(format!("http://127.0.0.1:{port}/push"))
            .body("sealed")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::TEMPORARY_REDIRECT);
        assert!(
            elsewhere.accept().is_err(),
            "the redirect's target was reached"
        );
    }
}
