//! Where a retry is decided and how fast the client may go: call classes, the retry rule,
//! `Retry-After` / `X-RateLimit-*` parsing, and the shared pacer.
//!
//! Invariants:
//! - A [`CallClass::Create`] is retried only when the request provably did not run: the
//!   connect failed (nothing was sent) or the server's rate limiter answered 429 (it rejects
//!   before the handler runs). Everything else after sending may have created a room
//!   (docspace-api.md 5.1: titles are not unique; section 9: no idempotency keys).
//! - The pacer never lets the client exceed its configured sustained rate, and when the server
//!   says its window is used up (`X-RateLimit-Remaining: 0`, or a 429), every request of the
//!   client waits until the window resets, not just the one that saw it.
//! - These are pure functions or a mutex-guarded clock computation; no I/O except sleeping.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::error::{ApiError, ErrorKind, NetworkKind};

/// How a call may be retried (DESIGN.md section 5).
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
    /// Whether the call counts against the write concurrency cap (section 9: the server allows
    /// fewer concurrent writes than reads).
    pub fn is_write(self) -> bool {
        !matches!(self, CallClass::Read)
    }
}

/// Whether `err` (from one attempt of a `class` call) may be retried.
pub fn should_retry(class: CallClass, err: &ApiError) -> bool {
    let status = err.http_status();
    match class {
        // A GET has no effect, so a 500 is retried too: a transient server error must not
        // fail a whole unattended run (issue 5: 10% random 5xx must converge in two applies).
        // Writes keep the documented set (DESIGN.md section 5).
        CallClass::Read => {
            matches!(err.kind(), ErrorKind::Network(_))
                || matches!(status, Some(429 | 500 | 502 | 503 | 504))
        }
        CallClass::IdempotentWrite => {
            matches!(err.kind(), ErrorKind::Network(_))
                || matches!(status, Some(429 | 502 | 503 | 504))
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

/// Parses `Retry-After`: delta seconds (what DocSpace sends, section 9) or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(at.timestamp()).ok()?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// How long until the server's window resets, from `X-RateLimit-Remaining` and
/// `X-RateLimit-Reset`; `None` unless the remaining budget is zero. The reset is documented
/// as unix seconds (section 9); small values are read as "seconds from now", which is what
/// other rate limiters send.
pub fn rate_limit_wait(
    remaining: Option<&str>,
    reset: Option<&str>,
    now: SystemTime,
) -> Option<Duration> {
    let remaining: i64 = remaining?.trim().parse().ok()?;
    if remaining > 0 {
        return None;
    }
    let reset: f64 = reset?.trim().parse().ok()?;
    if !reset.is_finite() || reset < 0.0 {
        return None;
    }
    const EPOCH_THRESHOLD: f64 = 1_000_000_000.0;
    if reset >= EPOCH_THRESHOLD {
        let now_secs = now.duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
        Some(Duration::from_secs_f64((reset - now_secs).max(0.0)))
    } else {
        Some(Duration::from_secs_f64(reset))
    }
}

/// A shared pacer: a token bucket in GCRA form (one slot every `interval`, `burst` slots may
/// be taken at once), plus a "blocked until" instant set from the server's rate-limit headers.
#[derive(Debug)]
pub struct Pacer {
    /// `None` = no sustained limit.
    interval: Option<Duration>,
    /// How far ahead of the steady schedule a caller may run (`interval * (burst - 1)`).
    tolerance: Duration,
    state: Mutex<PacerState>,
}

#[derive(Debug)]
struct PacerState {
    /// Theoretical arrival time of the next slot.
    tat: Option<Instant>,
    blocked_until: Option<Instant>,
}

impl Pacer {
    /// `per_second <= 0` disables the sustained limit (the server's headers still apply).
    pub fn new(per_second: f64, burst: u32) -> Pacer {
        let interval = (per_second > 0.0 && per_second.is_finite())
            .then(|| Duration::from_secs_f64(1.0 / per_second));
        let tolerance = interval.map_or(Duration::ZERO, |i| i * burst.saturating_sub(1));
        Pacer {
            interval,
            tolerance,
            state: Mutex::new(PacerState {
                tat: None,
                blocked_until: None,
            }),
        }
    }

    /// Reserves the next slot and returns when the caller may send. The slot is taken even
    /// if the caller then gives up, which only makes the pacer more conservative.
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
        if let Some(interval) = self.interval {
            let tat = state.tat.map_or(at, |t| t.max(at));
            let earliest = tat.checked_sub(self.tolerance).unwrap_or(at);
            at = at.max(earliest);
            state.tat = Some(tat.max(at) + interval);
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
        assert!(!should_retry(
            CallClass::IdempotentWrite,
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
    fn pacer_allows_a_burst_then_spaces_requests() {
        let pacer = Pacer::new(10.0, 3);
        let t0 = Instant::now();
        let slots: Vec<Duration> = (0..6).map(|_| pacer.reserve(t0) - t0).collect();
        let ms: Vec<u128> = slots.iter().map(|d| d.as_millis()).collect();
        // Three at once, then one every 100 ms.
        assert_eq!(ms, vec![0, 0, 0, 100, 200, 300]);
        // After a quiet second the bucket is full again.
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(pacer.reserve(t1), t1);
    }

    #[test]
    fn pacer_sustained_rate_holds_over_many_requests() {
        let pacer = Pacer::new(20.0, 5);
        let t0 = Instant::now();
        let last = (0..1000).map(|_| pacer.reserve(t0)).last().unwrap();
        // 1000 requests at 20/s with a burst of 5 need (1000 - 5) / 20 s.
        assert_eq!((last - t0).as_millis(), 49_750);
    }

    #[test]
    fn pacer_block_holds_everyone() {
        let pacer = Pacer::new(0.0, 1);
        let t0 = Instant::now();
        assert_eq!(pacer.reserve(t0), t0);
        pacer.block_until(t0 + Duration::from_secs(3));
        pacer.block_until(t0 + Duration::from_secs(1));
        assert_eq!(pacer.reserve(t0), t0 + Duration::from_secs(3));
        let t5 = t0 + Duration::from_secs(5);
        assert_eq!(pacer.reserve(t5), t5);
    }
}
