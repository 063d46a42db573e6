//! Injected failures and the rate limiter, all off by default (`FaultConfig`).
//!
//! - Latency: every `/api` request waits `--latency-ms` (after auth and the limiter, so it
//!   counts as time in flight).
//! - Error rates: a request is answered 429 (with `Retry-After` and `X-RateLimit-*`), 500 (error
//!   envelope) or 503 (an HTML page, as a reverse proxy would send,
//!   docs/docspace-api.md, "Response envelopes") before
//!   reaching auth or the handler, so nothing is changed.
//! - Commit-then-fail: a write (non-GET) is performed and persisted, then its success answer is
//!   replaced by a proxy-style 504 or by a dropped connection (the response body fails, which
//!   makes hyper close the connection before a complete response reaches the client).
//! - Rejected emails: see `share.rs` (the invitee creation fails,
//!   docs/docspace-api.md, "Email invitations").
//! - Rate limiter shaped like the real one (docs/docspace-api.md, "Rate limits"): a sliding one-minute window over all
//!   requests, plus concurrency caps for reads and for writes.
//!
//! All random choices come from one `StdRng` seeded by `--seed`: a client that sends the same
//! requests in the same order sees the same faults. Each request draws the same number of
//! values whatever happens to it, so one fault does not shift the next ones.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::Shared;
use super::config::FaultConfig;
use super::envelope::{ApiError, render_error};
use super::stats::Dropped;

const WINDOW: Duration = Duration::from_secs(60);

pub struct Faults {
    args: FaultConfig,
    rng: Mutex<StdRng>,
    reject_emails: Vec<String>,
    limiter: Option<Limiter>,
    /// Times of the calls admitted under the `SensitiveApi` policy, oldest first, per path
    /// (the sandbox has one user; each room's resend path is a partition of its own).
    sensitive: Mutex<std::collections::HashMap<String, VecDeque<Instant>>>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults").field("args", &self.args).finish()
    }
}

/// What one request drew from the RNG.
struct Roll {
    error: f64,
    commit: f64,
    drop: bool,
}

impl Faults {
    pub fn new(args: FaultConfig) -> Faults {
        let reject_emails = args.reject_email.iter().map(|e| fault_key(e)).collect();
        let limiter = args.rate_limit.then(|| Limiter {
            per_minute: args.rate_limit_per_minute.max(1),
            max_reads: args.max_concurrent_reads.max(1),
            max_writes: args.max_concurrent_writes.max(1),
            window: Mutex::new(VecDeque::new()),
            reads: AtomicU32::new(0),
            writes: AtomicU32::new(0),
        });
        Faults {
            rng: Mutex::new(StdRng::seed_from_u64(args.seed)),
            args,
            reject_emails,
            limiter,
            sensitive: Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// The server's `SensitiveApi` policy (`BaseStartup`: a sliding window per user and path,
    /// `RateLimiterSettings.SensitiveApiLimit` calls per `SensitiveApiWindowMinutes`, 5 per 15
    /// minutes by default; docs/docspace-api.md, "Rate limits"). A call over the limit gets the
    /// limiter's 429 with `Retry-After` (returned here) and never reaches the handler; `None`
    /// admits the call.
    pub fn admit_sensitive(&self, path: &str, now: Instant) -> Option<Response> {
        let limit = self.args.sensitive_api_limit;
        if limit == 0 {
            return None;
        }
        let window_len = self.args.sensitive_api_window;
        let mut windows = self.sensitive.lock().unwrap_or_else(|e| e.into_inner());
        let window = windows.entry(path.to_string()).or_default();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window_len)
        {
            window.pop_front();
        }
        if window.len() as u32 >= limit {
            let wait = window
                .front()
                .map(|t| window_len.saturating_sub(now.duration_since(*t)))
                .unwrap_or(window_len);
            let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
            let mut response = StatusCode::TOO_MANY_REQUESTS.into_response();
            set_limit_headers(response.headers_mut(), limit, 0, unix_now() + secs);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            return Some(response);
        }
        window.push_back(now);
        None
    }

    /// Whether the share call must fail to create an invitee for this email (matched ignoring
    /// case and surrounding spaces: a test switch, not a server rule).
    pub fn rejects_email(&self, email: &str) -> bool {
        self.reject_emails.contains(&fault_key(email))
    }

    /// Whether `--fail-archive` names this room, by id or by stored title.
    pub fn fails_archive(&self, id: i64, title: &str) -> bool {
        self.args
            .fail_archive
            .iter()
            .any(|r| r.trim() == id.to_string() || r.trim() == title)
    }

    fn roll(&self) -> Roll {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        Roll {
            error: rng.random::<f64>(),
            commit: rng.random::<f64>(),
            drop: rng.random::<bool>(),
        }
    }
}

/// How fault switches name emails: trimmed and lower-cased.
fn fault_key(text: &str) -> String {
    text.trim().to_lowercase()
}

fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// Injected latency. Runs inside the rate limiter so that, like server processing time, it
/// keeps requests in flight and the concurrency caps bind.
pub(crate) async fn latency(State(app): State<Shared>, request: Request, next: Next) -> Response {
    let ms = app.faults.args.latency_ms;
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    next.run(request).await
}

/// Injected error answers and commit-then-fail.
pub(crate) async fn inject(State(app): State<Shared>, request: Request, next: Next) -> Response {
    let faults = &app.faults;
    let args = &faults.args;
    let roll = faults.roll();
    let mut threshold = args.error_rate_429;
    if roll.error < threshold {
        let mut response = StatusCode::TOO_MANY_REQUESTS.into_response();
        let limit = args.rate_limit_per_minute.max(1);
        set_limit_headers(response.headers_mut(), limit, 0, unix_now() + 1);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(1));
        return response;
    }
    threshold += args.error_rate_500;
    if roll.error < threshold {
        return render_error(&ApiError::Internal(
            "Internal server error (injected by the sandbox)".to_string(),
        ));
    }
    threshold += args.error_rate_503;
    if roll.error < threshold {
        return proxy_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Temporarily Unavailable",
        );
    }
    let fail_after_commit = !is_read(request.method()) && roll.commit < args.commit_then_fail_rate;
    let response = next.run(request).await;
    if response
        .extensions()
        .get::<super::templates::TimeoutAfterCommit>()
        .is_some()
    {
        return proxy_page(StatusCode::GATEWAY_TIMEOUT, "Gateway Time-out");
    }
    if !(fail_after_commit && response.status().is_success()) {
        return response;
    }
    if roll.drop {
        dropped_connection()
    } else {
        proxy_page(StatusCode::GATEWAY_TIMEOUT, "Gateway Time-out")
    }
}

/// An nginx-style error page, as a reverse proxy in front of DocSpace answers.
fn proxy_page(status: StatusCode, text: &str) -> Response {
    let code = status.as_u16();
    let body = format!(
        "<html>\r\n<head><title>{code} {text}</title></head>\r\n<body>\r\n<center><h1>{code} {text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}

/// A response whose body fails at once: hyper then closes the connection without completing
/// the response, which the client sees as a connection error after its write was committed.
fn dropped_connection() -> Response {
    let stream = futures::stream::once(async {
        Err::<axum::body::Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox: dropping the connection after the commit",
        ))
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.extensions_mut().insert(Dropped);
    response
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn set_limit_headers(headers: &mut HeaderMap, limit: u32, remaining: u32, reset: u64) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
}

/// The real limiter's shape (docs/docspace-api.md, "Rate limits"): sliding window + concurrency caps, per user. The
/// sandbox has one key, so one partition.
struct Limiter {
    per_minute: u32,
    max_reads: u32,
    max_writes: u32,
    /// Times of the requests admitted in the last minute, oldest first.
    window: Mutex<VecDeque<Instant>>,
    reads: AtomicU32,
    writes: AtomicU32,
}

/// Outcome of the window check.
enum Window {
    /// `remaining` is what an `X-RateLimit-Remaining` would say; the server sends none on
    /// admitted requests, so only the tests read it.
    Admitted {
        #[cfg_attr(not(test), allow(dead_code))]
        remaining: u32,
    },
    Rejected {
        retry_after: u64,
        reset: u64,
    },
}

impl Limiter {
    fn admit(&self, now: Instant) -> Window {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            window.pop_front();
        }
        // When the oldest admitted request leaves the window, a slot frees up.
        let frees_in = |oldest: Option<&Instant>| {
            oldest
                .map(|t| WINDOW.saturating_sub(now.duration_since(*t)))
                .unwrap_or(WINDOW)
        };
        if window.len() as u32 >= self.per_minute {
            let wait = frees_in(window.front());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let secs = secs.max(1);
            return Window::Rejected {
                retry_after: secs,
                reset: unix_now() + secs,
            };
        }
        window.push_back(now);
        Window::Admitted {
            remaining: self.per_minute - window.len() as u32,
        }
    }
}

/// Releases a concurrency slot when the request ends (or is cancelled).
struct Slot<'a>(&'a AtomicU32);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The rate limiter (runs after auth, like the real per-user limiter).
pub(crate) async fn rate_limit(
    State(app): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    let Some(limiter) = &app.faults.limiter else {
        return next.run(request).await;
    };
    let (counter, max) = if is_read(request.method()) {
        (&limiter.reads, limiter.max_reads)
    } else {
        (&limiter.writes, limiter.max_writes)
    };
    if counter.fetch_add(1, Ordering::SeqCst) >= max {
        counter.fetch_sub(1, Ordering::SeqCst);
        // Concurrency rejections carry no Retry-After (docs/docspace-api.md, "Rate limits").
        let mut response = StatusCode::TOO_MANY_REQUESTS.into_response();
        set_limit_headers(response.headers_mut(), max, 0, unix_now() + 1);
        return response;
    }
    let _slot = Slot(counter);
    match limiter.admit(Instant::now()) {
        Window::Rejected { retry_after, reset } => {
            let mut response = StatusCode::TOO_MANY_REQUESTS.into_response();
            set_limit_headers(response.headers_mut(), limiter.per_minute, 0, reset);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        // The server sends X-RateLimit-* only with its 429s (`RateLimitMetadata.OnRejected`
        // of RedisRateLimiting; docs/docspace-api.md, "Rate limits"): an admitted request gets
        // none, so a client cannot wait for headers to slow it down.
        Window::Admitted { .. } => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_admits_its_limit_then_rejects_with_retry_after() {
        let faults = Faults::new(FaultConfig {
            rate_limit: true,
            rate_limit_per_minute: 3,
            ..FaultConfig::default()
        });
        let limiter = faults.limiter.as_ref().unwrap();
        let start = Instant::now();
        for expected in [2, 1, 0] {
            match limiter.admit(start) {
                Window::Admitted { remaining, .. } => assert_eq!(remaining, expected),
                Window::Rejected { .. } => panic!("rejected too early"),
            }
        }
        match limiter.admit(start + Duration::from_secs(10)) {
            Window::Rejected { retry_after, .. } => assert_eq!(retry_after, 50),
            Window::Admitted { .. } => panic!("admitted over the limit"),
        }
        assert!(matches!(
            limiter.admit(start + WINDOW),
            Window::Admitted { .. }
        ));
    }

    #[test]
    fn the_same_seed_gives_the_same_rolls() {
        let a = Faults::new(FaultConfig {
            seed: 7,
            ..FaultConfig::default()
        });
        let b = Faults::new(FaultConfig {
            seed: 7,
            ..FaultConfig::default()
        });
        for _ in 0..5 {
            assert_eq!(a.roll().error, b.roll().error);
        }
    }
}
