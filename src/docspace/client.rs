//! The transport of the DocSpace client: one `reqwest` client per run, the key as a bearer
//! header, retries with backoff and jitter, concurrency caps and pacing, envelope decoding,
//! paging, and the classification of failures. The endpoints are `impl Client` blocks by
//! resource beside this file (`rooms.rs`, `operations.rs`, `share.rs`, `people.rs`), and
//! `api.rs` forwards [`super::DocSpaceApi`] to them.
//!
//! Invariants:
//! - The API key is exposed exactly once, when the `Authorization` header value is built; that
//!   value is marked sensitive so `reqwest`/`http` never print it. Nothing else stores or logs
//!   the key (tracing lines carry method, path, status and time only).
//! - Every request carries a [`CallClass`]; whether it is retried is decided in
//!   [`super::policy`], never here ad hoc.
//! - A 2xx is a success only when its envelope does not say `status: 1` (docs/docspace-api.md, "Response envelopes").
//! - Lists are read with explicit page size and offset, people in an explicit total order
//!   (`sortBy=Email`), rooms without `sortBy` (the server would save it as the user's UI
//!   preference); paging stops on an empty page even if the server's `total` says otherwise
//!   (docs/docspace-api.md, "Response envelopes").

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Semaphore;
use url::Url;

use super::error::{ApiError, ErrorKind, NetworkKind};
use super::policy::{self, CallClass, Pacer};
use super::wire::{Envelope, ErrorBody, ValidationProblem};

/// The page size used for every list (the server allows 1..100).
pub const PAGE_SIZE: i64 = 100;

/// A hard stop for paging loops against a misbehaving server (100,000 pages of 100).
pub(super) const MAX_PAGES: usize = 100_000;

/// Everything the client needs; [`ClientConfig::new`] fills the defaults.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The portal, e.g. `https://acme.onlyoffice.com` (a path prefix is kept).
    pub base_url: Url,
    pub api_key: SecretString,
    /// Extra trusted roots (PEM bundle) for self-hosted portals with a private CA.
    pub ca_cert: Option<PathBuf>,
    pub user_agent: String,
    /// Whole-request timeout (connect, send, read the body).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries after the first attempt (so up to `max_retries + 1` requests per call).
    pub max_retries: usize,
    /// First backoff delay; doubles per retry, plus jitter of up to the same amount.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// The longest `Retry-After` (or rate-limit reset) the client waits for; longer ones (the
    /// server's daily limits, docs/docspace-api.md, "Rate limits") fail the call at once.
    pub max_retry_after: Duration,
    /// Requests in flight: the server allows 50 GETs and 15 writes per user (docs/docspace-api.md, "Rate limits").
    pub max_concurrent_reads: usize,
    pub max_concurrent_writes: usize,
    /// Requests in any rolling minute across the client (`0` for no client-side budget).
    /// The default [`DEFAULT_REQUESTS_PER_MINUTE`] stays a little under the server's 1,500 so
    /// that the same account's browser sessions keep working during a run.
    pub requests_per_minute: u32,
    /// The longest response body read (bytes); a longer one fails the call. Generous: a page
    /// of 100 rooms or 100 full profiles is well under a megabyte.
    pub max_body_bytes: usize,
    /// Whether plain `http://` to a host other than loopback is acceptable (`--insecure-http`):
    /// the same rule as for `--portal` holds for redirect targets.
    pub allow_insecure_http: bool,
}

/// The client's default budget per rolling minute (the server allows 1,500, docs/docspace-api.md, "Rate limits").
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 1_400;

impl ClientConfig {
    pub fn new(base_url: Url, api_key: SecretString) -> ClientConfig {
        ClientConfig {
            base_url,
            api_key,
            ca_cert: None,
            user_agent: concat!("docspace-provision/", env!("CARGO_PKG_VERSION")).to_string(),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_retries: 4,
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            // A little under the server's 50 and 15 (docs/docspace-api.md, "Rate limits"), for the same reason.
            max_concurrent_reads: 40,
            max_concurrent_writes: 12,
            requests_per_minute: DEFAULT_REQUESTS_PER_MINUTE,
            max_body_bytes: 32 * 1024 * 1024,
            allow_insecure_http: false,
        }
    }
}

/// A snapshot of the client's counters (for benchmarks and `-v` summaries).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ClientStats {
    /// Logical API calls (one per page of a list; retries not counted).
    pub calls: u64,
    /// HTTP requests actually sent (calls + retries that reached the wire).
    pub requests: u64,
    /// Retries scheduled after a failed attempt.
    pub retries: u64,
    /// 429 answers seen.
    pub rate_limited: u64,
    /// Logical calls by method.
    pub gets: u64,
    pub posts: u64,
    pub puts: u64,
    pub deletes: u64,
}

impl ClientStats {
    /// Logical writes (POST + PUT + DELETE).
    pub fn writes(&self) -> u64 {
        self.posts + self.puts + self.deletes
    }
}

#[derive(Debug, Default)]
struct Counters {
    calls: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    gets: AtomicU64,
    posts: AtomicU64,
    puts: AtomicU64,
    deletes: AtomicU64,
}

/// The DocSpace client. Cheap to clone: all clones share one connection pool, one set of
/// semaphores, one pacer and one set of counters.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// `base_url` without a trailing slash; API paths start with `/`.
    base: String,
    auth: HeaderValue,
    reads: Semaphore,
    writes: Semaphore,
    pacer: Pacer,
    backoff: ExponentialBuilder,
    max_retry_after: Duration,
    max_body_bytes: usize,
    max_retries: usize,
    /// Set when a 429 asked for a wait longer than `max_retry_after` (a daily limit,
    /// docs/docspace-api.md, "Rate limits"): until then no further write is sent. Reads still go (they have their own budget
    /// on the server, and a plan's reads are what tells the user where things stand).
    limit_until: std::sync::Mutex<Option<SystemTime>>,
    counters: Counters,
    seeds: RandomState,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base)
            .finish_non_exhaustive()
    }
}

/// One logical call, replayable for retries.
pub(super) struct Call {
    method: Method,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    class: CallClass,
    /// The route has a rate limit of its own (the per-portal daily email invitations,
    /// docs/docspace-api.md, "People and user types"): its 429 ends this call only, and
    /// neither pauses the client nor stops the other writes.
    own_limit: bool,
}

impl Call {
    pub(super) fn new(method: Method, path: impl Into<String>, class: CallClass) -> Call {
        Call {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            class,
            own_limit: false,
        }
    }

    /// Marks a route whose 429 is its own limit (see [`Call::own_limit`]).
    pub(super) fn own_limit(mut self) -> Call {
        self.own_limit = true;
        self
    }

    pub(super) fn query(mut self, key: &'static str, value: impl ToString) -> Call {
        self.query.push((key, value.to_string()));
        self
    }

    pub(super) fn json(mut self, body: &impl Serialize) -> Result<Call, ApiError> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            ApiError::new(ErrorKind::Config, self.method.as_str(), &self.path)
                .with_message(format!("cannot encode the request body: {e}"))
        })?;
        self.body = Some(bytes);
        Ok(self)
    }

    fn error(&self, kind: ErrorKind) -> ApiError {
        ApiError::new(kind, self.method.as_str(), &self.path)
    }
}

impl Client {
    /// Builds the client. Fails only on local problems (unreadable CA file, a key that cannot
    /// be a header value); nothing is sent.
    pub fn new(config: ClientConfig) -> Result<Client, ApiError> {
        // reqwest is built with `rustls-no-provider`: the process must pick a crypto provider
        // once. A second install (another client in the same process) fails harmlessly.
        let _ = rustls::crypto::ring::default_provider().install_default();

        let config_error =
            |msg: String| ApiError::new(ErrorKind::Config, "-", "-").with_message(msg);

        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.api_key.expose_secret()))
            .map_err(|_| {
                config_error(
                    "the API key contains characters that cannot be sent in an HTTP header"
                        .to_string(),
                )
            })?;
        auth.set_sensitive(true);

        let allow_insecure_http = config.allow_insecure_http;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                redirect_decision(attempt, allow_insecure_http)
            }))
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout.min(config.timeout));
        if let Some(path) = &config.ca_cert {
            let pem = std::fs::read(path).map_err(|e| {
                config_error(format!(
                    "cannot read the CA certificate {}: {e}",
                    path.display()
                ))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|_| {
                config_error(format!(
                    "{} is not a PEM certificate bundle",
                    path.display()
                ))
            })?;
            if certs.is_empty() {
                return Err(config_error(format!(
                    "{} holds no PEM certificate",
                    path.display()
                )));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder
            .build()
            .map_err(|e| config_error(format!("cannot build the HTTP client: {e}")))?;

        let backoff = ExponentialBuilder::new()
            .with_min_delay(config.min_backoff)
            .with_max_delay(config.max_backoff.max(config.min_backoff))
            .with_max_times(config.max_retries)
            .with_jitter();

        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base: config.base_url.as_str().trim_end_matches('/').to_string(),
                auth,
                reads: Semaphore::new(config.max_concurrent_reads.max(1)),
                writes: Semaphore::new(config.max_concurrent_writes.max(1)),
                pacer: Pacer::new(config.requests_per_minute),
                max_body_bytes: config.max_body_bytes.max(1024),
                max_retries: config.max_retries,
                limit_until: std::sync::Mutex::new(None),
                backoff,
                max_retry_after: config.max_retry_after,
                counters: Counters::default(),
                seeds: RandomState::new(),
            }),
        })
    }

    /// The portal URL the client talks to (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// When the portal has said that this user's request limit is spent for longer than the
    /// client waits (a daily limit, docs/docspace-api.md, "Rate limits"): a sentence saying so and when it resets.
    pub fn limit_reached(&self) -> Option<String> {
        let until = (*self
            .inner
            .limit_until
            .lock()
            .unwrap_or_else(|e| e.into_inner()))?;
        let left = until.duration_since(SystemTime::now()).ok()?;
        let at = chrono::DateTime::<chrono::Utc>::from(until).format("%Y-%m-%d %H:%M UTC");
        let minutes = left.as_secs().div_ceil(60);
        Some(format!(
            "the portal's request limit for this user is spent (a daily limit: by default 10,000 POST and PUT requests per user per day); it resets in about {} h {:02} min, at {at}: run again after that",
            minutes / 60,
            minutes % 60
        ))
    }

    /// The counters so far.
    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ClientStats {
            calls: get(&c.calls),
            requests: get(&c.requests),
            retries: get(&c.retries),
            rate_limited: get(&c.rate_limited),
            gets: get(&c.gets),
            posts: get(&c.posts),
            puts: get(&c.puts),
            deletes: get(&c.deletes),
        }
    }

    /// Reads every page of a list whose envelope carries `total` (share list, people, groups;
    /// docs/docspace-api.md, "Response envelopes"). Stops when the offset reaches `total`, on an empty page, or - without a total -
    /// on a short page. Offsets advance by the items actually received, because the share
    /// list's envelope `count` can even be negative.
    pub(super) async fn fetch_all<T: DeserializeOwned + Send>(
        &self,
        path: &str,
        extra: &[(&'static str, String)],
    ) -> Result<Vec<T>, ApiError> {
        let mut items = Vec::new();
        let mut start: i64 = 0;
        for _ in 0..MAX_PAGES {
            let mut call = Call::new(Method::GET, path, CallClass::Read);
            for (k, v) in extra {
                call = call.query(k, v);
            }
            let call = call.query("count", PAGE_SIZE).query("startIndex", start);
            let envelope: Envelope<Vec<T>> = self.fetch_envelope(call).await?;
            let page = envelope.response.unwrap_or_default();
            let received = page.len() as i64;
            if received == 0 {
                return Ok(items);
            }
            start += received;
            items.extend(page);
            let done = match envelope.total {
                Some(total) => start >= total,
                None => received < PAGE_SIZE,
            };
            if done {
                return Ok(items);
            }
        }
        Err(self.paging_runaway(path))
    }

    pub(super) fn paging_runaway(&self, path: &str) -> ApiError {
        ApiError::new(ErrorKind::Decode, "GET", path)
            .with_message(format!("paging did not end after {MAX_PAGES} pages"))
    }

    /// A call whose envelope must carry a payload.
    pub(super) async fn fetch<T: DeserializeOwned + Send>(
        &self,
        call: Call,
    ) -> Result<T, ApiError> {
        let method = call.method.clone();
        let path = call.path.clone();
        self.fetch_envelope(call).await?.response.ok_or_else(|| {
            ApiError::new(ErrorKind::Decode, method.as_str(), path)
                .with_message("the response has no payload")
        })
    }

    /// Runs a call with the retry policy of its class and decodes the envelope.
    pub(super) async fn fetch_envelope<T: DeserializeOwned + Send>(
        &self,
        call: Call,
    ) -> Result<Envelope<T>, ApiError> {
        let counters = &self.inner.counters;
        self.count_call(&call.method);

        let attempts = AtomicU32::new(0);
        let class = call.class;
        let max_retry_after = self.inner.max_retry_after;
        // Network failures (no answer) are retried `max_retries` times: each can cost a whole
        // `--timeout`. A read answered with a server error (429, 5xx) gets a few more tries:
        // it costs only the backoff, and one plan-phase read that gives up on a flaky portal
        // would otherwise stop the whole run.
        let max_attempts = self.inner.max_retries + 1;
        let answered_retries = match class {
            CallClass::Read => self.inner.max_retries + EXTRA_READ_RETRIES,
            _ => self.inner.max_retries,
        };
        let network_failures = AtomicU32::new(0);
        // A fresh jitter seed per call (backon's default seed is fixed without its `std`
        // feature, which would make every client back off in lockstep).
        let seed = self.inner.seeds.hash_one(Instant::now());
        let backoff = self
            .inner
            .backoff
            .with_max_times(answered_retries)
            .with_jitter_seed(seed);

        let result = (|| async {
            attempts.fetch_add(1, Ordering::Relaxed);
            self.attempt::<T>(&call).await
        })
        .retry(backoff)
        .when(|e: &ApiError| {
            if matches!(e.kind(), ErrorKind::Network(_))
                && network_failures.fetch_add(1, Ordering::Relaxed) as usize
                    >= self.inner.max_retries
            {
                return false;
            }
            policy::should_retry(class, e)
        })
        .adjust(|e: &ApiError, next: Option<Duration>| retry_wait(e, next?, max_retry_after))
        .notify(|e: &ApiError, wait: Duration| {
            counters.retries.fetch_add(1, Ordering::Relaxed);
            let attempt = attempts.load(Ordering::Relaxed) + 1;
            log_retry(&call, e, wait, attempt, max_attempts);
        })
        .await;

        result.map_err(|e| {
            let e = e.with_attempts(attempts.load(Ordering::Relaxed));
            if policy::outcome_unknown(class, &e) {
                e.into_ambiguous()
            } else {
                e
            }
        })
    }

    /// Counts a call, in total and by method, for the run's statistics.
    fn count_call(&self, method: &Method) {
        let counters = &self.inner.counters;
        counters.calls.fetch_add(1, Ordering::Relaxed);
        let by_method = match *method {
            Method::GET => &counters.gets,
            Method::POST => &counters.posts,
            Method::PUT => &counters.puts,
            _ => &counters.deletes,
        };
        by_method.fetch_add(1, Ordering::Relaxed);
    }

    /// One HTTP attempt: concurrency cap, pacer, send, rate-limit headers, decode.
    async fn attempt<T: DeserializeOwned>(&self, call: &Call) -> Result<Envelope<T>, ApiError> {
        let inner = &self.inner;
        let semaphore = if call.class.is_write() {
            &inner.writes
        } else {
            &inner.reads
        };
        if call.class.is_write()
            && let Some(message) = self.limit_reached()
        {
            // Not sent: the portal said this user's limit is spent for hours.
            return Err(call
                .error(ErrorKind::RateLimited)
                .with_message(format!("not sent: {message}")));
        }
        let _permit = semaphore.acquire().await.map_err(|_| {
            call.error(ErrorKind::Config)
                .with_message("client shut down")
        })?;
        inner.pacer.wait().await;
        inner.counters.requests.fetch_add(1, Ordering::Relaxed);

        let url = format!("{}{}", inner.base, call.path);
        let mut request = inner
            .http
            .request(call.method.clone(), url)
            .header(AUTHORIZATION, inner.auth.clone())
            .header(ACCEPT, "application/json");
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }

        let started = Instant::now();
        let response = request.send().await.map_err(|e| {
            if e.is_redirect() {
                // A refused redirect is a decision, not a transient failure: never retried.
                redirect_error(&e, call)
            } else {
                classify(&e, call)
            }
        })?;
        let status = response.status();
        let retry_after = if call.own_limit && status == StatusCode::TOO_MANY_REQUESTS {
            let now = SystemTime::now();
            response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| policy::parse_retry_after(v, now))
        } else {
            self.observe_rate_limits(status, response.headers())
        };
        let body = self.read_body(call, response).await?;
        tracing::debug!(
            method = %call.method,
            path = %call.path,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "docspace request"
        );
        decode(call, status, &body, retry_after)
    }

    /// Reads a response body up to the configured cap: a body is outside input, and an
    /// endless one must fail the call, not exhaust the machine.
    async fn read_body(
        &self,
        call: &Call,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, ApiError> {
        let cap = self.inner.max_body_bytes;
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_large(call, cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e, call))? {
            if body.len() + chunk.len() > cap {
                return Err(too_large(call, cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Reads `Retry-After` and `X-RateLimit-*` and holds the pacer accordingly (docs/docspace-api.md, "Rate limits").
    /// Returns the `Retry-After` of this answer, if any.
    fn observe_rate_limits(&self, status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
        let now = SystemTime::now();
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let retry_after =
            text(RETRY_AFTER.as_str()).and_then(|v| policy::parse_retry_after(v, now));
        let window = policy::rate_limit_wait(
            text("x-ratelimit-remaining"),
            text("x-ratelimit-reset"),
            now,
        );
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.inner
                .counters
                .rate_limited
                .fetch_add(1, Ordering::Relaxed);
        }
        // The whole client pauses, not just this call: the window is per user (docs/docspace-api.md, "Rate limits").
        let pause = match (status == StatusCode::TOO_MANY_REQUESTS, retry_after) {
            (true, Some(wait)) => Some(wait.max(window.unwrap_or_default())),
            _ => window,
        };
        match pause {
            Some(wait) if wait <= self.inner.max_retry_after => {
                self.inner.pacer.block_until(Instant::now() + wait);
            }
            // A wait of hours is a daily limit: never slept through. Writes stop here; the
            // run reports what is left undone and when to run again.
            Some(wait) if status == StatusCode::TOO_MANY_REQUESTS => {
                let until = now + wait;
                let mut limit = self
                    .inner
                    .limit_until
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                *limit = Some(limit.map_or(until, |l| l.max(until)));
            }
            _ => {}
        }
        // A 429 without Retry-After but with an exhausted window waits for the reset.
        retry_after.or(if status == StatusCode::TOO_MANY_REQUESTS {
            window
        } else {
            None
        })
    }
}

/// Further retries a read gets when the portal answered with a server error (see
/// `fetch_envelope`).
const EXTRA_READ_RETRIES: usize = 3;

/// The most redirects one request follows.
const MAX_REDIRECTS: usize = 5;

/// How long to wait before the next try: the server's Retry-After when it sent one, else
/// the backoff's `next`. A very long Retry-After (a daily limit) ends the call
/// (docs/docspace-api.md, "Rate limits").
fn retry_wait(e: &ApiError, next: Duration, max_retry_after: Duration) -> Option<Duration> {
    match e.retry_after() {
        Some(wait) if wait > max_retry_after => None,
        Some(wait) => Some(wait.max(Duration::from_millis(1))),
        None => Some(next),
    }
}

/// Logs a retry. A portal that does not answer must not mean minutes of silence: say so at
/// the default verbosity. Other retries (429, 5xx) are routine and stay at debug.
fn log_retry(call: &Call, e: &ApiError, wait: Duration, attempt: u32, max_attempts: usize) {
    if let ErrorKind::Network(kind) = e.kind() {
        let what = match kind {
            NetworkKind::Timeout => "no answer from the portal",
            NetworkKind::Refused => "the portal refused the connection",
            _ => "the connection to the portal failed",
        };
        tracing::warn!(
            "{what} ({} {}); retrying in {:.1} s, attempt {} of {}",
            call.method,
            call.path,
            wait.as_secs_f64(),
            attempt,
            max_attempts
        );
    }
    tracing::debug!(
        method = %call.method,
        path = %call.path,
        error = ?e.kind(),
        wait_ms = wait.as_millis() as u64,
        "retrying docspace request"
    );
}

/// Redirects are followed only where `--portal` itself could point: a redirect to plain
/// `http://` on a host that is not loopback would send the key unencrypted, so it is refused
/// unless `--insecure-http` was given. (reqwest already drops the `Authorization` header when
/// a redirect leaves the original host.)
fn redirect_decision(
    attempt: reqwest::redirect::Attempt<'_>,
    allow_insecure_http: bool,
) -> reqwest::redirect::Action {
    if attempt.previous().len() >= MAX_REDIRECTS {
        return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
    }
    let url = attempt.url();
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => attempt.follow(),
        "http" if loopback || allow_insecure_http => attempt.follow(),
        scheme => {
            let message = format!(
                "refused a redirect to {scheme} on {}: plain HTTP is allowed only to loopback (pass --insecure-http to accept it)",
                url.host_str().unwrap_or("?")
            );
            attempt.error(message)
        }
    }
}

fn redirect_error(err: &reqwest::Error, call: &Call) -> ApiError {
    use std::error::Error as _;
    let mut cause = None;
    let mut next = err.source();
    while let Some(e) = next {
        cause = Some(e.to_string());
        next = e.source();
    }
    call.error(ErrorKind::Config).with_message(
        cause
            .filter(|c| !c.contains("://"))
            .unwrap_or_else(|| "a redirect was refused".to_string()),
    )
}

fn too_large(call: &Call, cap: usize) -> ApiError {
    call.error(ErrorKind::Decode).with_message(format!(
        "the response body is larger than {} MiB; refusing to read more",
        cap / (1024 * 1024)
    ))
}

/// Turns an HTTP answer into an envelope or an error.
fn decode<T: DeserializeOwned>(
    call: &Call,
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Result<Envelope<T>, ApiError> {
    let method = call.method.as_str();
    if !status.is_success() {
        // Bodies of errors: JSON (docs/docspace-api.md, "Response envelopes"), empty (auth failures, docs/docspace-api.md, "Authentication") or proxy HTML (502).
        let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
        let mut err = ApiError::from_status(status.as_u16(), method, &call.path)
            .with_retry_after(retry_after);
        if let Some(message) = error_message(&parsed.error, parsed.response.as_ref()) {
            err = err.with_message(message);
        }
        return Err(err);
    }

    let envelope: Envelope<Value> = serde_json::from_slice(body).map_err(|e| {
        call.error(ErrorKind::Decode)
            .with_status(status.as_u16())
            .with_message(format!("the body is not a DocSpace JSON envelope ({e})"))
    })?;
    if envelope.status == 1 {
        // docs/docspace-api.md, "Response envelopes": a failure inside a 2xx (validation problems, errors some endpoints wrap).
        let code = u16::try_from(envelope.status_code)
            .ok()
            .filter(|c| *c >= 400);
        let kind = code.map_or(ErrorKind::Failed, ErrorKind::from_status);
        let mut err = call
            .error(kind)
            .with_status(code.unwrap_or(status.as_u16()));
        if let Some(message) = error_message(&envelope.error, envelope.response.as_ref()) {
            err = err.with_message(message);
        }
        return Err(err);
    }
    let response = match envelope.response {
        None | Some(Value::Null) => None,
        Some(value) => Some(serde_json::from_value(value).map_err(|e| {
            call.error(ErrorKind::Decode)
                .with_status(status.as_u16())
                .with_message(format!("unexpected payload: {e}"))
        })?),
    };
    Ok(Envelope {
        response,
        count: envelope.count,
        total: envelope.total,
        status: envelope.status,
        status_code: envelope.status_code,
        error: None,
    })
}

/// `error.message`, else the validation problem's field errors (docs/docspace-api.md, "Response envelopes"). The API key a proxy or
/// server may echo here is removed by [`ApiError::with_message`], which every caller uses.
fn error_message(
    error: &Option<super::wire::ErrorDetail>,
    response: Option<&Value>,
) -> Option<String> {
    if let Some(message) = error
        .as_ref()
        .and_then(|e| e.message.clone())
        .filter(|m| !m.trim().is_empty())
    {
        return Some(message);
    }
    let problem: ValidationProblem = serde_json::from_value(response?.clone()).ok()?;
    problem.summary()
}

/// Classes a transport failure. Never keeps the `reqwest::Error` itself: its Display can hold
/// the full URL, and the classification is all a caller acts on.
fn classify(err: &reqwest::Error, call: &Call) -> ApiError {
    let (kind, cause, plain_http) = classify_parts(err);
    let mut e = call.error(kind);
    if plain_http {
        e = e
            .with_message("the server answered in plain HTTP, not TLS")
            .with_hint(
                "this address speaks plain HTTP: use http:// for a loopback test server (such as the sandbox), or the portal's HTTPS port (443 unless it was changed)",
            );
    } else if let Some(cause) = cause {
        // `with_message` removes the key, as for every message.
        e = e.with_message(cause);
    }
    e
}

/// The kind, the innermost cause, and whether the TLS handshake failed because the server
/// answered in plain HTTP (its first bytes, `HTTP/1.1 400`, are no TLS record).
fn classify_parts(err: &reqwest::Error) -> (ErrorKind, Option<String>, bool) {
    /// What the error chain says, gathered by [`walk`].
    #[derive(Default)]
    struct Found {
        innermost: Option<String>,
        tls: bool,
        refused: bool,
        plain_http: bool,
        /// The resolver found no such host (hyper's connector says "dns error").
        dns: bool,
    }
    // `io::Error::source` skips the error it wraps, and hyper nests io errors (an `Other`
    // around an `InvalidData` around the `rustls::Error`), so descend through `get_ref` too.
    fn walk(e: &(dyn std::error::Error + 'static), found: &mut Found, depth: usize) {
        if depth > 16 {
            return;
        }
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            found.tls = true;
            if matches!(
                tls,
                rustls::Error::InvalidMessage(
                    rustls::InvalidMessage::InvalidContentType
                        | rustls::InvalidMessage::UnknownProtocolVersion
                )
            ) {
                found.plain_http = true;
            }
        }
        let text = e.to_string();
        if text.starts_with("dns error") || text.contains("failed to lookup address") {
            found.dns = true;
        }
        found.innermost = Some(text);
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                found.refused = true;
            }
            if let Some(inner) = io.get_ref() {
                walk(inner, found, depth + 1);
                return;
            }
        }
        if let Some(next) = e.source() {
            walk(next, found, depth + 1);
        }
    }
    let mut found = Found::default();
    walk(err, &mut found, 0);
    let Found {
        innermost,
        tls,
        refused,
        plain_http,
        dns,
    } = found;
    // The outermost reqwest message names the URL; keep only a cause below it.
    let cause = innermost.filter(|c| !c.contains("://"));
    let kind = if tls {
        ErrorKind::Tls
    } else if err.is_connect() {
        if refused {
            ErrorKind::Network(NetworkKind::Refused)
        } else if dns {
            ErrorKind::Network(NetworkKind::UnknownHost)
        } else {
            ErrorKind::Network(NetworkKind::Connect)
        }
    } else if err.is_timeout() {
        ErrorKind::Network(NetworkKind::Timeout)
    } else {
        ErrorKind::Network(NetworkKind::Other)
    };
    (kind, cause, plain_http)
}
