//! The sandbox's own configuration: fault injection, server variants and limits, as a plain
//! struct with its own defaults. The command line converts its flags into it (`src/shell/cli.rs`),
//! so nothing here depends on clap and tests build it directly.

use std::time::Duration;

/// Fault injection and server variants (all faults off by default).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// Added latency per request, in milliseconds.
    pub latency_ms: u64,
    /// Fraction (0..1) of requests answered 429 with Retry-After.
    pub error_rate_429: f64,
    /// Fraction (0..1) of requests answered 500.
    pub error_rate_500: f64,
    /// Fraction (0..1) of requests answered 503.
    pub error_rate_503: f64,
    /// Fraction (0..1) of writes that are performed and then answered 504 or dropped.
    pub commit_then_fail_rate: f64,
    /// Emails the share call rejects.
    pub reject_email: Vec<String>,
    /// Whether the general rate limiter (sliding minute window plus concurrency caps) runs.
    pub rate_limit: bool,
    /// Requests per minute allowed by the general rate limiter.
    pub rate_limit_per_minute: u32,
    /// Concurrent GETs allowed by the general rate limiter.
    pub max_concurrent_reads: u32,
    /// Concurrent writes allowed by the general rate limiter.
    pub max_concurrent_writes: u32,
    /// Seed for the fault RNG so runs repeat.
    pub seed: u64,
    /// How long archive, unarchive and delete operations take before they finish.
    pub operation_delay_ms: u64,
    /// Rooms (id or title) whose archive and unarchive fail inside the background operation.
    pub fail_archive: Vec<String>,
    /// Compare emails case-sensitively, like DocSpace on PostgreSQL.
    pub case_sensitive_emails: bool,
    /// Calls allowed per window on the endpoints under the server's `SensitiveApi` policy
    /// (`PUT /people/invite`); 0 turns the limit off. The server's default is 5
    /// (`RateLimiterSettings.SensitiveApiLimit`), see docs/docspace-api.md, "Rate limits".
    pub sensitive_api_limit: u32,
    /// The sliding window of that policy (`SensitiveApiWindowMinutes`, 15 minutes).
    pub sensitive_api_window: Duration,
    /// The key's permissions, as `GET /keys/@self` lists them; the server's scope rules are
    /// enforced on every route (`scopes.rs`). Empty: full access.
    pub key_scopes: Vec<String>,
}

impl Default for FaultConfig {
    fn default() -> FaultConfig {
        FaultConfig {
            latency_ms: 0,
            error_rate_429: 0.0,
            error_rate_500: 0.0,
            error_rate_503: 0.0,
            commit_then_fail_rate: 0.0,
            reject_email: Vec::new(),
            rate_limit: false,
            rate_limit_per_minute: 1500,
            max_concurrent_reads: 50,
            max_concurrent_writes: 15,
            seed: 0,
            operation_delay_ms: 200,
            fail_archive: Vec::new(),
            case_sensitive_emails: false,
            // Cheap and deterministic (a count per window), so on by default like the server.
            sensitive_api_limit: 5,
            sensitive_api_window: Duration::from_secs(15 * 60),
            key_scopes: Vec::new(),
        }
    }
}
