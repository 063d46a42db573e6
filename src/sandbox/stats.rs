//! Call counters for tests and benchmarks: `GET /__sandbox/stats` and
//! `POST /__sandbox/stats/reset` (no auth, no faults, not under `/api`).
//!
//! Every `/api` request is counted once, whatever answered it (a handler, auth, the limiter
//! or an injected fault), under "METHOD /route/{pattern}" so that call counts per room do not
//! depend on ids.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Serialize;

use super::Shared;

#[derive(Debug, Default)]
pub struct Stats {
    counters: Mutex<Counters>,
    in_flight: AtomicU64,
}

/// The JSON answered by `GET /__sandbox/stats`.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    /// All `/api` requests seen.
    pub total: u64,
    /// GET requests.
    pub reads: u64,
    /// POST/PUT/DELETE requests.
    pub writes: u64,
    pub status_2xx: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
    /// 429s, from injected faults or the rate limiter.
    pub status_429: u64,
    /// Writes performed and then answered by a dropped connection (commit-then-fail).
    pub dropped: u64,
    /// Requests being handled right now.
    pub in_flight: u64,
    /// The most requests ever handled at once since the last reset.
    pub max_in_flight: u64,
    /// Calls per "METHOD /route/{pattern}".
    pub routes: BTreeMap<String, u64>,
}

/// Marks a response whose connection is to be dropped (commit-then-fail).
#[derive(Debug, Clone, Copy)]
pub struct Dropped;

/// Decrements the in-flight gauge even when the client hangs up mid-request.
struct InFlight<'a>(&'a AtomicU64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Outermost layer: counts the request and its outcome.
pub async fn count(State(app): State<Shared>, request: Request, next: Next) -> Response {
    let stats = &app.stats;
    let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let _guard = InFlight(&stats.in_flight);
    {
        let mut c = stats.counters.lock().unwrap_or_else(|e| e.into_inner());
        c.max_in_flight = c.max_in_flight.max(now);
    }
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let mut c = stats.counters.lock().unwrap_or_else(|e| e.into_inner());
    c.total += 1;
    if method == Method::GET || method == Method::HEAD {
        c.reads += 1;
    } else {
        c.writes += 1;
    }
    if response.extensions().get::<Dropped>().is_some() {
        c.dropped += 1;
    } else {
        match status {
            200..=299 => c.status_2xx += 1,
            400..=499 => c.status_4xx += 1,
            500..=599 => c.status_5xx += 1,
            _ => {}
        }
        if status == 429 {
            c.status_429 += 1;
        }
    }
    *c.routes.entry(format!("{method} {route}")).or_default() += 1;
    response
}

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/__sandbox/stats", get(show))
        .route("/__sandbox/stats/reset", post(reset))
}

async fn show(State(app): State<Shared>) -> Json<Counters> {
    let mut c = app
        .stats
        .counters
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    c.in_flight = app.stats.in_flight.load(Ordering::SeqCst);
    Json(c)
}

async fn reset(State(app): State<Shared>) -> Json<Counters> {
    let mut c = app.stats.counters.lock().unwrap_or_else(|e| e.into_inner());
    *c = Counters::default();
    Json(c.clone())
}
