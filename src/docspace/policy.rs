//! Where a retry is decided and how fast the client may go: call classes, the retry rule,
//! `Retry-After` / `X-RateLimit-*` parsing, and the shared pacer.
//!
//! Invariants:
//! - A [`CallClass::Create`] is retried only when the request provably did not run: the
//!   connect failed (nothing was sent) or the server's rate limiter answered 429 (it rejects
//!   before the handler runs). Everything else after sending may have created a room
//!   (titles are not unique and there are no idempotency keys: docs/docspace-api.md,
//!   "Retries and idempotency").
//! - The pacer never lets the client send more than its budget in any rolling minute (shaped
//!   like the server's sliding window), and when the server says its window is used up
//!   (`X-RateLimit-Remaining: 0`, or a 429), every request of the client waits until the
//!   window resets, not just the one that saw it.
//! - Every duration read from a server header is capped ([`MAX_SERVER_WAIT`]).
//! - These are pure functions or a mutex-guarded clock computation; no I/O except sleeping.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::error::{ApiError, ErrorKind, NetworkKind};

/// How a call may be retried (docs/architecture.md, "Talking to DocSpace").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallClass {
    /// GETs: retried on transient failures.
    Read,
    /// Writes whose repetition changes nothing (PUT room, PUT share with the same access,
    /// archive): retried like reads.
    IdempotentWrite,
    /// Writes that must not run twice (POST room): retried only when provably not run.
    Create,
}

impl CallClass {
    /// Whether the call counts against the write concurrency cap (the server allows fewer
    /// concurrent writes than reads: docs/docspace-api.md, "Rate limits").
    pub fn is_write(self) -> bool {
        !matches!(self, CallClass::Read)
    }
}

/// Whether `err` (from one attempt of a `class` call) may be retried.
pub fn should_retry(class: CallClass, err: &ApiError) -> bool {
    let status = err.http_status();
    match class {
        // A GET has no effect and repeating an idempotent write (PUT share with the same
        // access, PUT room settings, archive) changes nothing, so a 500 is retried too: a
        // transient server error must not fail a whole unattended run.
        // An unknown host name cannot heal by waiting: not retried.
        CallClass::Read | CallClass::IdempotentWrite => {
            (matches!(err.kind(), ErrorKind::Network(_))
                && err.kind() != ErrorKind::Network(NetworkKind::UnknownHost))
                || matches!(status, Some(429 | 500 | 502 | 503 | 504))
        }
        CallClass::Create => {
            matches!(
                err.kind(),
                ErrorKind::Network(NetworkKind::Refused | NetworkKind::Connect)
            ) || status == Some(429)
        }
    }
}

/// Whether a failed `class` call may have had its effect anyway (see [`ApiError::is_ambiguous`]).
pub fn outcome_unknown(class: CallClass, err: &ApiError) -> bool {
    class == CallClass::Create
        && match err.kind() {
            ErrorKind::Network(NetworkKind::Timeout | NetworkKind::Other) => true,
            ErrorKind::Server => true,
            // A 2xx we could not read: the room was most likely created.
            ErrorKind::Decode => true,
            _ => false,
        }
}

/// The longest wait a server-given duration (`Retry-After`, `X-RateLimit-Reset`) is read as.
/// Headers are hostile input: `1e300` or a 24-digit number must not overflow a `Duration`.
/// Anything this long is a daily limit to the caller anyway (see `max_retry_after`).
pub const MAX_SERVER_WAIT: Duration = Duration::from_secs(2 * 24 * 3600);

/// Seconds as a `Duration`, capped at [`MAX_SERVER_WAIT`]; `None` for negative or NaN.
fn capped_secs(secs: f64) -> Option<Duration> {
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(secs).map_or(MAX_SERVER_WAIT, |d| d.min(MAX_SERVER_WAIT)))
}

/// Parses `Retry-After`: delta seconds (what DocSpace sends: docs/docspace-api.md,
/// "Rate limits") or an HTTP date.
/// Capped at [`MAX_SERVER_WAIT`].
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(MAX_SERVER_WAIT));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return capped_secs(secs);
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    // Checked: a date too far for the platform's clock type is the longest wait, not a panic.
    let Some(at) = UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(at.timestamp()).ok()?))
    else {
        return Some(MAX_SERVER_WAIT);
    };
    Some(
        at.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_SERVER_WAIT),
    )
}

/// How long until the server's window resets, from `X-RateLimit-Remaining` and
/// `X-RateLimit-Reset`; `None` unless the remaining budget is zero. The reset is documented
/// as unix seconds (docs/docspace-api.md, "Rate limits"); small values are read as "seconds from now", which is what
/// other rate limiters send. Capped at [`MAX_SERVER_WAIT`].
pub fn rate_limit_wait(
    remaining: Option<&str>,
    reset: Option<&str>,
    now: SystemTime,
) -> Option<Duration> {
    let remaining: f64 = remaining?.trim().parse().ok()?;
    if remaining.is_nan() || remaining > 0.0 {
        return None;
    }
    let reset: f64 = reset?.trim().parse().ok()?;
    if !reset.is_finite() || reset < 0.0 {
        return capped_secs(reset);
    }
    const EPOCH_THRESHOLD: f64 = 1_000_000_000.0;
    if reset >= EPOCH_THRESHOLD {
        let now_secs = now.duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
        capped_secs((reset - now_secs).max(0.0))
    } else {
        capped_secs(reset)
    }
}

/// The length of the server's sliding window (requests per minute: docs/docspace-api.md,
/// "Rate limits").
pub const WINDOW: Duration = Duration::from_secs(60);

/// A client-side budget shaped like the server's limiter: at most `per_minute` requests in
/// any rolling [`WINDOW`], as fast as they come while the window has room, plus a "blocked
/// until" instant set when the server says its window is spent (a 429).
///
/// Why hand-written rather than `governor`: the pacer models the server's own limiter
/// (docs/docspace-api.md, "Rate limits"), which is a sliding window of accepted requests per
/// minute, in-flight caps for reads and writes (the client's semaphores) and a daily write
/// cap (a 429 asking for a wait that long ends the call instead of sleeping), and it honours
/// `Retry-After`. governor implements GCRA, a different limiter: it
/// spreads requests evenly, so it cannot let the first 1,400 of a run go at full speed the way
/// the server's window allows, and it knows nothing of "everyone waits until the server's
/// reset" after a 429, which is a few lines here. It would also be one more dependency for a
/// weaker model. The server sends rate headers only on 429s, so the budget cannot wait for
/// headers to slow it down: it counts itself.
#[derive(Debug)]
pub struct Pacer {
    /// `None` = no client-side budget (the server's 429s still apply).
    per_minute: Option<usize>,
    state: Mutex<PacerState>,
}

#[derive(Debug)]
struct PacerState {
    /// Send times of the requests in the current window, oldest first (at most
    /// `per_minute` of them).
    sent: std::collections::VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

impl Pacer {
    /// `per_minute == 0` disables the budget.
    pub fn new(per_minute: u32) -> Pacer {
        Pacer {
            per_minute: (per_minute > 0).then_some(per_minute as usize),
            state: Mutex::new(PacerState {
                sent: std::collections::VecDeque::new(),
                blocked_until: None,
            }),
        }
    }

    /// Reserves the next slot and returns when the caller may send. The slot is taken even
    /// if the caller then gives up, which only makes the budget more conservative.
    pub fn reserve(&self, now: Instant) -> Instant {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut at = now;
        if let Some(blocked) = state.blocked_until {
            if blocked > at {
                at = blocked;
            } else {
                state.blocked_until = None;
            }
        }
        if let Some(limit) = self.per_minute {
            // Slots whose window has passed by `at` are free again.
            while state.sent.front().is_some_and(|t| *t + WINDOW <= at) {
                state.sent.pop_front();
            }
            if state.sent.len() >= limit {
                // The window is full: this request goes when the oldest one leaves it.
                let oldest = state.sent.pop_front().unwrap_or(at);
                at = at.max(oldest + WINDOW);
            }
            state.sent.push_back(at);
        }
        at
    }

    /// Waits for the next slot.
    pub async fn wait(&self) {
        let at = self.reserve(Instant::now());
        if at > Instant::now() {
            tokio::time::sleep_until(at.into()).await;
        }
    }

    /// Holds every caller until `until` (keeps the later of two blocks).
    pub fn block_until(&self, until: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.blocked_until = Some(state.blocked_until.map_or(until, |b| b.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(kind: ErrorKind, status: Option<u16>) -> ApiError {
        let e = ApiError::new(kind, "GET", "/");
        match status {
            Some(s) => e.with_status(s),
            None => e,
        }
    }

    #[test]
    fn reads_retry_transient_failures_only() {
        for s in [429, 502, 503, 504] {
            assert!(should_retry(
                CallClass::Read,
                &err(ErrorKind::from_status(s), Some(s))
            ));
            assert!(should_retry(
                CallClass::IdempotentWrite,
                &err(ErrorKind::from_status(s), Some(s))
            ));
        }
        assert!(should_retry(
            CallClass::Read,
            &err(ErrorKind::from_status(500), Some(500))
        ));
        // Repeating an idempotent write is harmless: a 500 is retried.
        assert!(should_retry(
            CallClass::IdempotentWrite,
            &err(ErrorKind::from_status(500), Some(500))
        ));
        assert!(!should_retry(
            CallClass::Create,
            &err(ErrorKind::from_status(500), Some(500))
        ));
        for s in [400, 401, 403, 404] {
            assert!(!should_retry(
                CallClass::Read,
                &err(ErrorKind::from_status(s), Some(s))
            ));
        }
        assert!(should_retry(
            CallClass::Read,
            &err(ErrorKind::Network(NetworkKind::Timeout), None)
        ));
        assert!(!should_retry(CallClass::Read, &err(ErrorKind::Tls, None)));
        assert!(!should_retry(
            CallClass::Read,
            &err(ErrorKind::Network(NetworkKind::UnknownHost), None)
        ));
        assert!(!should_retry(
            CallClass::Read,
            &err(ErrorKind::Failed, Some(200))
        ));
    }

    #[test]
    fn creates_retry_only_when_provably_not_run() {
        assert!(should_retry(
            CallClass::Create,
            &err(ErrorKind::Network(NetworkKind::Refused), None)
        ));
        assert!(should_retry(
            CallClass::Create,
            &err(ErrorKind::Network(NetworkKind::Connect), None)
        ));
        assert!(should_retry(
            CallClass::Create,
            &err(ErrorKind::RateLimited, Some(429))
        ));
        for e in [
            err(ErrorKind::Network(NetworkKind::Timeout), None),
            err(ErrorKind::Network(NetworkKind::Other), None),
            err(ErrorKind::Server, Some(500)),
            err(ErrorKind::Server, Some(503)),
        ] {
            assert!(!should_retry(CallClass::Create, &e));
            assert!(outcome_unknown(CallClass::Create, &e));
            assert!(!outcome_unknown(CallClass::Read, &e));
        }
        assert!(!outcome_unknown(
            CallClass::Create,
            &err(ErrorKind::Forbidden, Some(403))
        ));
    }

    #[test]
    fn retry_after_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 0.5 ", now),
            Some(Duration::from_millis(500))
        );
        // 2023-11-14T22:13:30Z is 10 s after `now`.
        assert_eq!(
            parse_retry_after("Tue, 14 Nov 2023 22:13:30 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn rate_limit_wait_only_when_exhausted() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(rate_limit_wait(Some("3"), Some("5"), now), None);
        assert_eq!(
            rate_limit_wait(Some("0"), Some("5"), now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            rate_limit_wait(Some("0"), Some("1700000007"), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            rate_limit_wait(Some("0"), Some("1600000000"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(rate_limit_wait(Some("0"), None, now), None);
        assert_eq!(rate_limit_wait(None, Some("5"), now), None);
    }

    #[test]
    fn hostile_durations_are_capped_not_a_panic() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for v in [
            "1e300",
            "99999999999999999999999",
            "inf",
            "18446744073709551615",
        ] {
            assert_eq!(parse_retry_after(v, now), Some(MAX_SERVER_WAIT), "{v}");
            assert_eq!(
                rate_limit_wait(Some("0"), Some(v), now),
                Some(MAX_SERVER_WAIT),
                "{v}"
            );
        }
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("NaN", now), None);
        assert_eq!(rate_limit_wait(Some("0"), Some("-1"), now), None);
        assert_eq!(rate_limit_wait(Some("1e300"), Some("5"), now), None);
    }

    #[test]
    fn the_budget_lets_a_full_window_go_at_once_then_slides() {
        let pacer = Pacer::new(3);
        let t0 = Instant::now();
        let ms = |at: Instant, from: Instant| (at - from).as_millis();
        // Three at once: the window has room.
        for _ in 0..3 {
            assert_eq!(pacer.reserve(t0), t0);
        }
        // The fourth waits for the first to leave the window.
        assert_eq!(ms(pacer.reserve(t0), t0), 60_000);
        // Later, requests spread as the window slides.
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(ms(pacer.reserve(t1), t0), 60_000);
        assert_eq!(ms(pacer.reserve(t1), t0), 60_000);
        assert_eq!(ms(pacer.reserve(t1), t0), 120_000);
    }

    #[test]
    fn the_budget_never_exceeds_its_limit_in_any_window() {
        let pacer = Pacer::new(100);
        let t0 = Instant::now();
        let times: Vec<Instant> = (0..1000)
            .map(|i| pacer.reserve(t0 + Duration::from_millis(i * 7)))
            .collect();
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..].iter().filter(|u| **u < *t + WINDOW).count();
            assert!(in_window <= 100, "{in_window} requests in one window");
        }
        // 1000 requests at 100 per minute need nine further windows after the first.
        assert_eq!((*times.last().unwrap() - t0).as_secs(), 9 * 60);
    }

    #[test]
    fn pacer_block_holds_everyone() {
        let pacer = Pacer::new(0);
        let t0 = Instant::now();
        assert_eq!(pacer.reserve(t0), t0);
        pacer.block_until(t0 + Duration::from_secs(3));
        pacer.block_until(t0 + Duration::from_secs(1));
        assert_eq!(pacer.reserve(t0), t0 + Duration::from_secs(3));
        let t5 = t0 + Duration::from_secs(5);
        assert_eq!(pacer.reserve(t5), t5);
    }
}
