//! The one error type of the DocSpace client.
//!
//! Invariants:
//! - An [`ApiError`] never holds the API key, a header, or a `reqwest::Error` (whose Display can
//!   carry a full URL): only the method, the path, the HTTP status, the server's own message and
//!   a short cause. The server's message is passed through [`crate::redact::scrub`] on the way
//!   in, since a server or proxy may echo the key. Its `Debug` is therefore as safe to log as
//!   its `Display`.
//! - `Display` is one line (what happened, the server's message, where), so the CLI edge can
//!   print it once without a stack of wrapper text; the miette help line says what to check.
//! - A create whose outcome cannot be known (timeout or 5xx after the request was sent) is
//!   flagged by [`ApiError::is_ambiguous`], so the caller re-lists before deciding
//!   (docs/architecture.md, "Talking to DocSpace").

use std::fmt;
use std::time::Duration;

use miette::Diagnostic;

/// How a network-level failure happened. The split matters for retries: a refused or failed
/// connect provably never sent the request; a timeout may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetworkKind {
    /// The TCP connect was refused (nothing listens there).
    Refused,
    /// Connecting failed otherwise (unreachable, connect timeout); nothing was sent.
    Connect,
    /// The host name does not resolve. Waiting will not heal it, so it is never retried.
    UnknownHost,
    /// The request was sent, or may have been, and no answer came in time.
    Timeout,
    /// The connection broke in another way (reset mid-request, protocol error).
    Other,
}

/// What went wrong, in the terms a user acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// 400: the server rejected a value (validation problems included,
    /// docs/docspace-api.md, "Response envelopes").
    BadRequest,
    /// 401: no/invalid/expired key (docs/docspace-api.md, "Authentication").
    Unauthorized,
    /// 402: the portal is unpaid or a tariff limit was hit (docs/docspace-api.md,
    /// "Authentication"; docs/docspace-api.md, "Creating rooms").
    PaymentRequired,
    /// 403: key scope, user rights, or an invalid operation (the server maps those to 403
    /// too: docs/docspace-api.md, "Response envelopes").
    Forbidden,
    /// 404: item missing, or the portal itself is unknown/suspended (docs/docspace-api.md,
    /// "Authentication").
    NotFound,
    /// 429: the server's rate limiter (docs/docspace-api.md, "Rate limits").
    RateLimited,
    /// 5xx.
    Server,
    /// Any other non-2xx status (e.g. 415).
    OtherStatus,
    /// `status: 1` inside a 2xx envelope (docs/docspace-api.md, "Response envelopes").
    Failed,
    /// No HTTP answer.
    Network(NetworkKind),
    /// The TLS handshake failed (untrusted certificate, name mismatch).
    Tls,
    /// A 2xx whose body is not the JSON the client expects.
    Decode,
    /// A wait for an asynchronous outcome (archive, delete) ran out of time.
    WaitTimeout,
    /// The client could not be set up (unreadable CA file, bad header value).
    Config,
}

impl ErrorKind {
    /// The kind for a non-2xx HTTP status.
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            400 => ErrorKind::BadRequest,
            401 => ErrorKind::Unauthorized,
            402 => ErrorKind::PaymentRequired,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::OtherStatus,
        }
    }

    fn headline(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "the portal rejected the request as invalid",
            ErrorKind::Unauthorized => "the portal rejected the API key",
            ErrorKind::PaymentRequired => "the portal requires payment for this",
            ErrorKind::Forbidden => "access denied",
            ErrorKind::NotFound => "not found",
            ErrorKind::RateLimited => "rate limited by the portal",
            ErrorKind::Server => "the portal failed with a server error",
            ErrorKind::OtherStatus => "unexpected HTTP status from the portal",
            ErrorKind::Failed => "the portal reported a failure",
            ErrorKind::Network(NetworkKind::Refused) => {
                "cannot connect to the portal: connection refused"
            }
            ErrorKind::Network(NetworkKind::Connect) => "cannot connect to the portal",
            ErrorKind::Network(NetworkKind::UnknownHost) => {
                "cannot connect to the portal: its host name does not resolve"
            }
            ErrorKind::Network(NetworkKind::Timeout) => "the portal did not answer in time",
            ErrorKind::Network(NetworkKind::Other) => "the connection to the portal failed",
            ErrorKind::Tls => "the TLS handshake with the portal failed",
            ErrorKind::Decode => "unexpected response from the portal",
            ErrorKind::WaitTimeout => "timed out waiting for the portal",
            ErrorKind::Config => "cannot set up the HTTP client",
        }
    }

    fn code(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "docspace::bad_request",
            ErrorKind::Unauthorized => "docspace::unauthorized",
            ErrorKind::PaymentRequired => "docspace::payment_required",
            ErrorKind::Forbidden => "docspace::forbidden",
            ErrorKind::NotFound => "docspace::not_found",
            ErrorKind::RateLimited => "docspace::rate_limited",
            ErrorKind::Server => "docspace::server_error",
            ErrorKind::OtherStatus => "docspace::http_status",
            ErrorKind::Failed => "docspace::failed",
            ErrorKind::Network(NetworkKind::Timeout) => "docspace::timeout",
            ErrorKind::Network(_) => "docspace::unreachable",
            ErrorKind::Tls => "docspace::tls",
            ErrorKind::Decode => "docspace::decode",
            ErrorKind::WaitTimeout => "docspace::wait_timeout",
            ErrorKind::Config => "docspace::config",
        }
    }

    fn help(self) -> Option<&'static str> {
        Some(match self {
            ErrorKind::Unauthorized => {
                "check the API key (DOCSPACE_API_KEY or --api-key-file): it must be `sk-` followed by 64 hex characters, created on this portal, active and not expired"
            }
            ErrorKind::Forbidden => {
                "the key may lack a scope (see the scope table of `doctor`), or its user needs rights on the room or account"
            }
            ErrorKind::PaymentRequired => {
                "the portal's tariff blocks this (unpaid portal or room-count limit); check billing"
            }
            ErrorKind::NotFound => {
                "check that the item still exists and that --portal names the right portal (an unknown or suspended portal also answers 404)"
            }
            ErrorKind::RateLimited => {
                "the portal's rate limit was hit; lower --parallelism or run again later"
            }
            ErrorKind::Server => "the portal had an internal error; run again later",
            ErrorKind::Network(NetworkKind::Timeout) => {
                "the portal is slow or unreachable; check --portal, DNS, firewall and proxy settings, or allow more time with --timeout SECONDS"
            }
            ErrorKind::Network(NetworkKind::UnknownHost) => {
                "check the host name in --portal (a typo?) and this machine's DNS settings"
            }
            ErrorKind::Network(_) => {
                "check --portal (scheme, host and port), DNS, and any firewall or proxy between here and the portal"
            }
            ErrorKind::Tls => {
                "if the portal uses a private certificate authority, pass its PEM file with --ca-cert PATH; otherwise check the portal's certificate and host name"
            }
            ErrorKind::Decode => {
                "check that --portal is the DocSpace address itself, not a login page or proxy"
            }
            ErrorKind::BadRequest | ErrorKind::Failed => {
                "the server refused a value; see its message above"
            }
            ErrorKind::WaitTimeout => {
                "the operation may still finish on the portal; run again later to see its state"
            }
            ErrorKind::OtherStatus | ErrorKind::Config => return None,
        })
    }
}

/// A failed DocSpace call. See the module docs for what it may and may not contain.
#[derive(Debug, Clone)]
pub struct ApiError {
    kind: ErrorKind,
    http_status: Option<u16>,
    message: Option<String>,
    method: String,
    path: String,
    attempts: u32,
    outcome_unknown: bool,
    retry_after: Option<Duration>,
    /// A help line more specific than the kind's (e.g. a TLS failure that is really a plain
    /// HTTP server on an `https://` address).
    hint: Option<&'static str>,
}

impl ApiError {
    /// An error of `kind` for the call `method path` (path without query or host).
    pub fn new(kind: ErrorKind, method: impl Into<String>, path: impl Into<String>) -> ApiError {
        ApiError {
            kind,
            http_status: None,
            message: None,
            method: method.into(),
            path: path.into(),
            attempts: 1,
            outcome_unknown: false,
            retry_after: None,
            hint: None,
        }
    }

    /// An error for a non-2xx status; the kind follows from the status.
    pub fn from_status(status: u16, method: impl Into<String>, path: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::from_status(status), method, path).with_status(status)
    }

    pub fn with_status(mut self, status: u16) -> ApiError {
        self.http_status = Some(status);
        self
    }

    /// The server's message (or a short cause); blank text is dropped, the API key is
    /// removed (a server may quote the request's headers back), and control characters are
    /// escaped so the message stays one line and cannot drive the terminal.
    pub fn with_message(mut self, message: impl Into<String>) -> ApiError {
        let message = message.into();
        let message = crate::redact::scrub(message.trim());
        let message = crate::text::visible(message.trim());
        let message = message.trim();
        self.message = (!message.is_empty()).then(|| message.to_string());
        self
    }

    /// Replaces the kind's help line.
    pub(crate) fn with_hint(mut self, hint: &'static str) -> ApiError {
        self.hint = Some(hint);
        self
    }

    pub(crate) fn with_retry_after(mut self, retry_after: Option<Duration>) -> ApiError {
        self.retry_after = retry_after;
        self
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> ApiError {
        self.attempts = attempts.max(1);
        self
    }

    /// Marks a create whose effect on the server is unknown.
    pub(crate) fn into_ambiguous(mut self) -> ApiError {
        self.outcome_unknown = true;
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// The server's `error.message` or validation summary, or the network cause.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    pub fn method(&self) -> &str {
        &self.method
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// How many HTTP attempts were made (1 when not retried).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The server's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// True when a create may have run on the server although it failed here (a timeout, a
    /// 5xx or a broken connection after sending). The caller must re-list before retrying:
    /// room titles are not unique and the server has no idempotency keys
    /// (docs/docspace-api.md, "Retries and idempotency").
    pub fn is_ambiguous(&self) -> bool {
        self.outcome_unknown
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headline = self.kind.headline();
        f.write_str(headline)?;
        if let Some(msg) = &self.message {
            // 403 bodies say "Access denied" and a refused connect says "Connection refused
            // (os error 111)": both would only repeat the headline.
            if !crate::text::repeats(headline, msg) {
                write!(f, ": {msg}")?;
            }
        }
        write!(f, " ({} {}", self.method, self.path)?;
        if let Some(status) = self.http_status {
            write!(f, ", HTTP {status}")?;
        }
        if self.attempts > 1 {
            write!(f, ", {} attempts", self.attempts)?;
        }
        f.write_str(")")?;
        if self.outcome_unknown {
            f.write_str("; the request may have been applied on the portal")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl Diagnostic for ApiError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.kind.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        if self.outcome_unknown {
            return Some(Box::new(
                "the outcome is unknown: list the rooms on the portal before trying again, so nothing is created twice",
            ));
        }
        self.hint
            .or_else(|| {
                // A missing scope is an empty 403: name the scope the call needs.
                (self.kind == ErrorKind::Forbidden)
                    .then(|| crate::model::scopes::forbidden_hint(&self.method, &self.path))
                    .flatten()
            })
            .or_else(|| self.kind.help())
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_403_names_the_scope_the_call_needs() {
        let help = |method: &str, path: &str| {
            ApiError::from_status(403, method, path)
                .help()
                .map(|h| h.to_string())
                .unwrap_or_default()
        };
        assert!(help("GET", "/api/2.0/people/@self").contains("accounts.self:read"));
        assert!(help("PUT", "/api/2.0/people/invite").contains("accounts:write"));
        assert!(help("GET", "/api/2.0/files/fileops").contains("files:read"));
        assert!(help("DELETE", "/api/2.0/files/tags").contains("files:write"));
    }

    #[test]
    fn display_is_one_line_with_status_and_message() {
        let e = ApiError::from_status(403, "PUT", "/api/2.0/files/rooms/5/share")
            .with_message("The role is not available for this user type");
        assert_eq!(
            e.to_string(),
            "access denied: The role is not available for this user type (PUT /api/2.0/files/rooms/5/share, HTTP 403)"
        );
        let e = ApiError::from_status(403, "GET", "/x").with_message("Access denied");
        assert_eq!(e.to_string(), "access denied (GET /x, HTTP 403)");
        let e = ApiError::new(ErrorKind::Network(NetworkKind::Refused), "GET", "/x")
            .with_message("Connection refused (os error 111)");
        assert_eq!(
            e.to_string(),
            "cannot connect to the portal: connection refused (GET /x)"
        );
    }

    #[test]
    fn a_server_message_stays_one_line_without_terminal_controls() {
        let e =
            ApiError::from_status(400, "POST", "/r").with_message("bad title\n\u{1b}[2Jpwned\u{7}");
        let text = e.to_string();
        assert!(!text.contains('\n') && !text.contains('\u{1b}'), "{text}");
        assert!(
            text.contains("bad title\\u{a}\\u{1b}[2Jpwned\\u{7}"),
            "{text}"
        );
    }

    #[test]
    fn ambiguous_and_attempts_are_shown() {
        let e = ApiError::new(ErrorKind::Network(NetworkKind::Timeout), "POST", "/r")
            .with_attempts(1)
            .into_ambiguous();
        assert!(e.is_ambiguous());
        assert!(e.to_string().contains("may have been applied"));
        let e = ApiError::from_status(503, "GET", "/r").with_attempts(4);
        assert!(e.to_string().contains("4 attempts"));
        assert!(!e.to_string().contains('\n'));
    }

    #[test]
    fn help_names_what_to_check() {
        let e = ApiError::from_status(401, "GET", "/api/2.0/people/@self");
        let help = e.help().unwrap().to_string();
        assert!(help.contains("sk-"));
        let e = ApiError::new(ErrorKind::Tls, "GET", "/");
        assert!(e.help().unwrap().to_string().contains("--ca-cert"));
        let e = ApiError::from_status(403, "GET", "/");
        assert!(e.help().unwrap().to_string().contains("scope"));
    }
}
