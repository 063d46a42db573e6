//! The HTTP client for the DocSpace API: one `reqwest` client per run, the key as a bearer
//! header, retries with backoff and jitter, concurrency caps and pacing, envelope decoding,
//! paging.
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

use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::future::Future;
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
use super::wire::{
    ConnectedRoomDto, CreateRoomRequest, Envelope, ErrorBody, FileOperationDto, GroupDto, LinkDto,
    LinkRequest, ListedRoom, ROOT_FOLDER_ARCHIVE, ROOT_FOLDER_ROOMS, ResendInvitationsRequest,
    RoomDto, RoomsPage, ShareDto, ShareRequest, ShareResponse, UpdateRoomRequest, UserDto,
    ValidationProblem,
};

/// The page size used for every list (the server allows 1..100).
pub const PAGE_SIZE: i64 = 100;

/// The most link rows `GET /files/rooms/{id}/links` returns (the server reads 100 and does
/// not page).
pub const MAX_LINKS: usize = 100;

/// A hard stop for paging loops against a misbehaving server (100,000 pages of 100).
const MAX_PAGES: usize = 100_000;

/// How people are paged: by email, ascending. Without `sortBy` the server orders by status and
/// first name only (`DbUserService`), and SQL OFFSET pages over ties overlap or skip once a
/// portal has more than a page of accounts; a skipped person would be planned as a new guest.
/// Email is unique per portal, so this order is total (docs/docspace-api.md, "Paging people").
pub const PEOPLE_ORDER: [(&str, &str); 2] = [("sortBy", "Email"), ("sortOrder", "0")];

fn people_query() -> Vec<(&'static str, String)> {
    let mut q = vec![("area", "0".to_string())];
    q.extend(PEOPLE_ORDER.iter().map(|(k, v)| (*k, v.to_string())));
    q
}

/// Every room a listing returned: the rooms the tool can manage, and those kept in connected
/// third-party storage, which it can only report (docs/docspace-api.md, "Rooms in connected
/// storage").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoomListing {
    pub rooms: Vec<RoomDto>,
    pub connected: Vec<ConnectedRoomDto>,
    /// Whether the pages were read from an unchanging listing (no room repeated, the same
    /// `total` on every page). An incomplete listing may have skipped a room.
    pub complete: bool,
}

impl RoomListing {
    /// The listing, or an error when it may have skipped a room: what anything that plans
    /// from it needs (a skipped room would be planned as a create).
    pub fn require_complete(self) -> Result<RoomListing, ApiError> {
        if self.complete {
            return Ok(self);
        }
        Err(ApiError::new(ErrorKind::Decode, "GET", "/api/2.0/files/rooms").with_message(
            format!(
                "the room listing changed while it was read, twice ({} distinct rooms, pages overlapped or skipped); run again",
                self.len()
            ),
        ))
    }

    /// Rooms of both kinds.
    pub fn len(&self) -> usize {
        self.rooms.len() + self.connected.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Which rooms `list_rooms` returns (`searchArea`, docs/docspace-api.md, "Enums").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchArea {
    /// 0: active rooms.
    Active,
    /// 1: archived rooms.
    Archive,
    /// 2: active and archived.
    Any,
}

impl SearchArea {
    pub fn wire(self) -> i64 {
        match self {
            SearchArea::Active => 0,
            SearchArea::Archive => 1,
            SearchArea::Any => 2,
        }
    }
}

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
struct Call {
    method: Method,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    class: CallClass,
}

impl Call {
    fn new(method: Method, path: impl Into<String>, class: CallClass) -> Call {
        Call {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            class,
        }
    }

    fn query(mut self, key: &'static str, value: impl ToString) -> Call {
        self.query.push((key, value.to_string()));
        self
    }

    fn json(mut self, body: &impl Serialize) -> Result<Call, ApiError> {
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

/// Body of archive, unarchive and delete: the server wants a JSON body (docs/docspace-api.md, "Archive and unarchive"; docs/docspace-api.md, "Deleting rooms"), and
/// `deleteAfter: false` keeps the operation result around for polling.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeleteAfter {
    delete_after: bool,
}

const KEEP_OPERATION: DeleteAfter = DeleteAfter {
    delete_after: false,
};

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

    // ---- API calls -------------------------------------------------------------------------

    /// The key owner's profile (`GET /api/2.0/people/@self`): the smoke test for key and scopes.
    pub async fn me(&self) -> Result<UserDto, ApiError> {
        let call = Call::new(Method::GET, "/api/2.0/people/@self", CallClass::Read);
        self.fetch(call).await
    }

    /// All rooms in `area`, optionally narrowed by the server's title search. The search is a
    /// substring or full-text match (docs/docspace-api.md, "Room listing and the key user's preferences"): callers must re-check exact titles.
    ///
    /// No `sortBy` is sent: the server saves a passed `sortBy` as the key user's default sort
    /// in the web UI (`FileStorageService` -> `SetDefaultOrder`), and a read must leave no
    /// trace. Without it the user's saved order applies, which the server makes total with the
    /// title as tie-break, so pages are stable while nothing changes. Rooms are still keyed by
    /// id across pages: if a room is created or removed mid-listing and pages overlap or skip,
    /// the listing is read once more. When the second pass moves too, the listing comes back
    /// with `complete: false`: a plan must not be built on it ([`RoomListing::require_complete`],
    /// a missed room would be planned as a create), but a room it *does* show is there, which
    /// is all the create reconciliation needs while other rooms are being created.
    pub async fn list_rooms(
        &self,
        area: SearchArea,
        filter_value: Option<&str>,
    ) -> Result<RoomListing, ApiError> {
        let mut last = RoomListing::default();
        for _ in 0..2 {
            let (listing, consistent) = self.list_rooms_once(area, filter_value).await?;
            last = RoomListing {
                complete: consistent,
                ..listing
            };
            if consistent {
                break;
            }
        }
        Ok(last)
    }

    /// One pass over every page. `consistent` is false when a page repeated a room or the
    /// `total` the server announced changed between pages (a room was created or removed
    /// mid-listing, so offsets shifted and a room may have been skipped).
    async fn list_rooms_once(
        &self,
        area: SearchArea,
        filter_value: Option<&str>,
    ) -> Result<(RoomListing, bool), ApiError> {
        let mut listing = RoomListing::default();
        let mut seen_int: HashSet<i64> = HashSet::new();
        let mut seen_text: HashSet<String> = HashSet::new();
        let mut consistent = true;
        let mut first_total: Option<i64> = None;
        let mut start: i64 = 0;
        for _ in 0..MAX_PAGES {
            let mut call = Call::new(Method::GET, "/api/2.0/files/rooms", CallClass::Read)
                .query("searchArea", area.wire());
            if let Some(filter) = filter_value {
                call = call.query("filterValue", filter);
            }
            let call = call.query("count", PAGE_SIZE).query("startIndex", start);
            let page: RoomsPage = self.fetch(call).await?;
            // docs/docspace-api.md, "Response envelopes": rooms page inside `response`; the envelope has no total.
            if *first_total.get_or_insert(page.total) != page.total {
                consistent = false;
            }
            if page.folders.is_empty() {
                return Ok((listing, consistent));
            }
            start += page.folders.len() as i64;
            for folder in page.folders {
                let new = match folder {
                    ListedRoom::Room(r) => seen_int.insert(r.id).then(|| listing.rooms.push(r)),
                    ListedRoom::Connected(c) => seen_text
                        .insert(c.id.clone())
                        .then(|| listing.connected.push(c)),
                };
                consistent &= new.is_some();
            }
            if start >= page.total {
                return Ok((listing, consistent));
            }
        }
        Err(self.paging_runaway("/api/2.0/files/rooms"))
    }

    /// One room (`GET /api/2.0/files/rooms/{id}`).
    pub async fn get_room(&self, id: i64) -> Result<RoomDto, ApiError> {
        let call = Call::new(
            Method::GET,
            format!("/api/2.0/files/rooms/{id}"),
            CallClass::Read,
        );
        self.fetch(call).await
    }

    /// Creates a room. Not idempotent (titles are not unique, docs/docspace-api.md, "Creating rooms"): retried only when the
    /// request provably did not run; otherwise a failure may be [`ApiError::is_ambiguous`].
    pub async fn create_room(&self, request: &CreateRoomRequest) -> Result<RoomDto, ApiError> {
        let call =
            Call::new(Method::POST, "/api/2.0/files/rooms", CallClass::Create).json(request)?;
        self.fetch(call).await
    }

    /// Changes title, tags (replacing the set), quota or deny-download (docs/docspace-api.md, "Updating rooms").
    pub async fn update_room(
        &self,
        id: i64,
        request: &UpdateRoomRequest,
    ) -> Result<RoomDto, ApiError> {
        let call = Call::new(
            Method::PUT,
            format!("/api/2.0/files/rooms/{id}"),
            CallClass::IdempotentWrite,
        )
        .json(request)?;
        self.fetch(call).await
    }

    /// Starts moving the room to the Archive (docs/docspace-api.md, "Archive and unarchive"). Poll with [`Client::wait_room_state`].
    pub async fn archive_room(&self, id: i64) -> Result<FileOperationDto, ApiError> {
        self.room_operation(id, "archive").await
    }

    /// Starts moving the room back from the Archive (docs/docspace-api.md, "Archive and unarchive").
    pub async fn unarchive_room(&self, id: i64) -> Result<FileOperationDto, ApiError> {
        self.room_operation(id, "unarchive").await
    }

    async fn room_operation(&self, id: i64, action: &str) -> Result<FileOperationDto, ApiError> {
        let call = Call::new(
            Method::PUT,
            format!("/api/2.0/files/rooms/{id}/{action}"),
            CallClass::IdempotentWrite,
        )
        .json(&KEEP_OPERATION)?;
        self.fetch(call).await
    }

    /// Waits until the room is archived (`rootFolderType` 20) or active (14), polling with
    /// backoff, and returns it.
    ///
    /// The move runs as a background operation whose failure shows only in the operation's
    /// `error` (docs/docspace-api.md, "Archive and unarchive"): the room just stays where it
    /// was. So when the start call returned an operation id, each round also reads that
    /// operation (`GET /files/fileops?id=`) and a non-empty `error` ends the wait at once as
    /// a failure carrying the server's message. The room's own state stays the proof of
    /// success. A key that may not read operations (no `files:read` scope) falls back to
    /// watching the room alone. An operation that reports finished without an error while the
    /// room has not moved is failed after a few more rounds rather than waited out.
    pub async fn wait_room_state(
        &self,
        id: i64,
        operation: Option<&FileOperationDto>,
        archived: bool,
        timeout: Duration,
    ) -> Result<RoomDto, ApiError> {
        let want = if archived {
            ROOT_FOLDER_ARCHIVE
        } else {
            ROOT_FOLDER_ROOMS
        };
        let state = if archived { "archived" } else { "active" };
        let verb = if archived { "archive" } else { "unarchive" };
        let path = format!("/api/2.0/files/rooms/{id}");
        let failed = |message: &str| {
            ApiError::new(ErrorKind::Failed, "PUT", format!("{path}/{verb}")).with_message(format!(
                "the portal could not {verb} room {id}: {}",
                message.trim()
            ))
        };
        let mut op_id = operation.map(|o| o.id.clone()).filter(|i| !i.is_empty());
        if let Some(op) = operation
            && let Some(e) = op.error.as_deref().filter(|e| !e.trim().is_empty())
        {
            return Err(failed(e));
        }
        let started_finished = operation.is_some_and(|o| o.finished);
        let deadline = Instant::now() + timeout;
        let mut delay = Duration::from_millis(200);
        // The server hands a finished operation out once and then forgets it
        // (`FileOperationsManager.GetOperationResults` dequeues it), so "finished" is
        // remembered here and counted in rounds of the room's state.
        let mut seen_finished = started_finished;
        let mut rounds_after_finish = 0u32;
        loop {
            if let Some(op) = op_id.clone() {
                match self.file_operation(&op).await {
                    Ok(Some(found)) => {
                        if let Some(e) = found.error.as_deref().filter(|e| !e.trim().is_empty()) {
                            return Err(failed(e));
                        }
                        seen_finished |= found.finished;
                    }
                    // Results are kept only while the server holds them; the room decides.
                    Ok(None) => op_id = None,
                    Err(e) if matches!(e.http_status(), Some(401 | 403 | 404)) => op_id = None,
                    Err(e) => return Err(e),
                }
            }
            let room = self.get_room(id).await?;
            if room.root_folder_type == Some(want) {
                return Ok(room);
            }
            if seen_finished {
                rounds_after_finish += 1;
            }
            if rounds_after_finish > 3 {
                return Err(failed(&format!(
                    "the operation finished without an error, but the room is still not {state}"
                )));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(
                    ApiError::new(ErrorKind::WaitTimeout, "GET", path).with_message(format!(
                        "room {id} was not {state} after {} s",
                        timeout.as_secs()
                    )),
                );
            }
            tokio::time::sleep(delay.min(deadline - now)).await;
            delay = (delay * 3 / 2).min(Duration::from_secs(2));
        }
    }

    /// One of the caller's background file operations by id (`GET /api/2.0/files/fileops?id=`,
    /// which answers a list), or `None` when the server no longer holds it.
    pub async fn file_operation(&self, id: &str) -> Result<Option<FileOperationDto>, ApiError> {
        let call =
            Call::new(Method::GET, "/api/2.0/files/fileops", CallClass::Read).query("id", id);
        let ops: Vec<FileOperationDto> = self.fetch(call).await?;
        Ok(ops.into_iter().find(|o| o.id == id))
    }

    /// Deletes a room permanently (docs/docspace-api.md, "Deleting rooms"). The pre-checks are synchronous (404, 403); the
    /// deletion itself runs in the background: confirm with [`Client::wait_room_deleted`]. The
    /// operation object the server returns may be another one of the caller's, so it is
    /// not returned.
    pub async fn delete_room(&self, id: i64) -> Result<(), ApiError> {
        let call = Call::new(
            Method::DELETE,
            format!("/api/2.0/files/rooms/{id}"),
            CallClass::IdempotentWrite,
        )
        .json(&KEEP_OPERATION)?;
        match self.fetch_envelope::<Value>(call).await {
            Ok(_) => Ok(()),
            // A retry after a timeout that finds the room gone means the first attempt did it.
            Err(e) if e.is_not_found() && e.attempts() > 1 => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Polls until the room answers 404.
    pub async fn wait_room_deleted(&self, id: i64, timeout: Duration) -> Result<(), ApiError> {
        self.poll(id, timeout, "deleted", |room| match room {
            Err(e) if e.is_not_found() => Some(()),
            _ => None,
        })
        .await
        .map(|_| ())
    }

    /// Polls `get_room` until `done` says so. `done` sees each result; a result it does not
    /// accept that is an error ends the wait with that error.
    async fn poll(
        &self,
        id: i64,
        timeout: Duration,
        state: &str,
        done: impl Fn(&Result<RoomDto, ApiError>) -> Option<()>,
    ) -> Result<Option<RoomDto>, ApiError> {
        let deadline = Instant::now() + timeout;
        let mut delay = Duration::from_millis(200);
        loop {
            let result = self.get_room(id).await;
            if done(&result).is_some() {
                return Ok(result.ok());
            }
            result?;
            let now = Instant::now();
            if now >= deadline {
                return Err(ApiError::new(
                    ErrorKind::WaitTimeout,
                    "GET",
                    format!("/api/2.0/files/rooms/{id}"),
                )
                .with_message(format!(
                    "room {id} was not {state} after {} s",
                    timeout.as_secs()
                )));
            }
            tokio::time::sleep(delay.min(deadline - now)).await;
            delay = (delay * 3 / 2).min(Duration::from_secs(2));
        }
    }

    /// Every member row of a room, owner row included (docs/docspace-api.md, "Reading members"), all pages.
    pub async fn get_share(&self, room_id: i64) -> Result<Vec<ShareDto>, ApiError> {
        let path = format!("/api/2.0/files/rooms/{room_id}/share");
        // filterType 0: users and groups, not links (docs/docspace-api.md, "Enums", ShareFilterType).
        self.fetch_all(&path, &[("filterType", "0".to_string())])
            .await
    }

    /// Invites, changes or removes members in one call (docs/docspace-api.md, "The share call"). Idempotent on the server: the
    /// same access again is skipped, removing a non-member is a no-op.
    pub async fn set_share(
        &self,
        room_id: i64,
        request: &ShareRequest,
    ) -> Result<ShareResponse, ApiError> {
        let call = Call::new(
            Method::PUT,
            format!("/api/2.0/files/rooms/{room_id}/share"),
            CallClass::IdempotentWrite,
        )
        .json(request)?;
        self.fetch(call).await
    }

    /// The sharing links of a room (`GET /files/rooms/{id}/links`): external and invitation
    /// links, the primary one first (docs/docspace-api.md, "Sharing links").
    ///
    /// The server answers with at most [`MAX_LINKS`] rows and no paging, whatever the query
    /// says; more is a server the tool does not understand, and an error rather than a guess.
    /// Rows are decoded one by one from plain JSON so that a row of an unexpected shape never
    /// puts any of its values (a password is among them) into an error message.
    pub async fn list_links(&self, room_id: i64) -> Result<Vec<LinkDto>, ApiError> {
        let path = format!("/api/2.0/files/rooms/{room_id}/links");
        let call = Call::new(Method::GET, path.clone(), CallClass::Read);
        let rows: Vec<Value> = self
            .fetch_envelope::<Vec<Value>>(call)
            .await?
            .response
            .unwrap_or_default();
        if rows.len() > MAX_LINKS {
            return Err(
                ApiError::new(ErrorKind::Decode, "GET", &path).with_message(format!(
                    "the room has {} links; the server sends at most {MAX_LINKS}",
                    rows.len()
                )),
            );
        }
        rows.into_iter()
            .enumerate()
            .map(|(i, row)| {
                serde_json::from_value::<LinkDto>(row).map_err(|_| {
                    ApiError::new(ErrorKind::Decode, "GET", &path).with_message(format!(
                        "link row {} is not a link (its fields have unexpected types)",
                        i + 1
                    ))
                })
            })
            .collect()
    }

    /// Creates, changes or revokes (access 0) one link (`PUT /files/rooms/{id}/links`,
    /// docs/docspace-api.md, "Sharing links"). Returns the link's row, or `None` when the
    /// server answers without one (a revoke).
    ///
    /// Safe to repeat: a new link carries an id the tool chose (see
    /// [`crate::links::create_request`]), so a retry finds it instead of adding a second one.
    /// The password in `request` is registered with [`crate::redact`] before anything is
    /// sent, so that a server or proxy echoing it in an error cannot put it into any output;
    /// request bodies are never logged.
    pub async fn set_link(
        &self,
        room_id: i64,
        request: &LinkRequest,
    ) -> Result<Option<LinkDto>, ApiError> {
        if let Some(password) = &request.password {
            crate::redact::register(password.expose_secret());
        }
        let call = Call::new(
            Method::PUT,
            format!("/api/2.0/files/rooms/{room_id}/links"),
            CallClass::IdempotentWrite,
        )
        .json(request)?;
        Ok(self.fetch_envelope::<LinkDto>(call).await?.response)
    }

    /// Sends the invitation emails of pending accounts again, in one call
    /// (`PUT /api/2.0/people/invite` with `userIds`, docs/docspace-api.md, "Pending
    /// invitations"). The server allows this path only a few calls per 15 minutes per user,
    /// and every call sends emails: it is retried only when it provably did not run (like a
    /// create), and one call carries every id. Returns the accounts the server answered with.
    pub async fn resend_invitations(&self, user_ids: &[String]) -> Result<Vec<UserDto>, ApiError> {
        let call = Call::new(Method::PUT, "/api/2.0/people/invite", CallClass::Create).json(
            &ResendInvitationsRequest {
                user_ids: user_ids.to_vec(),
                resend_all: false,
            },
        )?;
        Ok(self
            .fetch_envelope::<Vec<UserDto>>(call)
            .await?
            .response
            .unwrap_or_default())
    }

    /// The user with this email, or `None` when the portal has none (docs/docspace-api.md, "People and groups lookup").
    ///
    /// The server matches with SQL equality, which folds case on MySQL installs but not on
    /// PostgreSQL ones (docs/docspace-api.md, "Email case"). So the email is looked up as
    /// written first and, when that finds nothing and the lower-cased form differs, lower-cased
    /// (the form most accounts are stored in). Whatever comes back is accepted only when it
    /// is the same address compared case-insensitively.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserDto>, ApiError> {
        let written = email.trim();
        let wanted = crate::model::normalise_email(written);
        let mut forms = vec![written.to_string()];
        if wanted != written {
            forms.push(wanted.clone());
        }
        for form in forms {
            if let Some(user) = self.user_by_exact_email(&form).await?
                && crate::model::normalise_email(&user.email) == wanted
            {
                return Ok(Some(user));
            }
        }
        Ok(None)
    }

    async fn user_by_exact_email(&self, email: &str) -> Result<Option<UserDto>, ApiError> {
        let call =
            Call::new(Method::GET, "/api/2.0/people/email", CallClass::Read).query("email", email);
        match self.fetch(call).await {
            Ok(user) => Ok(Some(user)),
            // An unknown email is 404 with a JSON message ("The user could not be found";
            // docs/docspace-api.md, "People and groups lookup"). An unknown or suspended portal is also 404 but with an empty body
            // (docs/docspace-api.md, "Authentication"): that must stay an error, or every invitee would look new.
            Err(e) if e.is_not_found() && e.message().is_some() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every account, pending invitees included (`GET /people/filter`, area 0 = all; the plain
    /// `GET /people` lists active users only, docs/docspace-api.md, "People and groups lookup"), in a total order (see
    /// [`PEOPLE_ORDER`]).
    pub async fn list_people(&self) -> Result<Vec<UserDto>, ApiError> {
        self.fetch_all("/api/2.0/people/filter", &people_query())
            .await
    }

    /// One page of people (`count=100` from `start`, in a total order) and the envelope
    /// `total`, so a caller can choose between listing everyone and per-email lookups
    /// (docs/architecture.md, "Performance model").
    pub async fn people_page(&self, start: i64) -> Result<(Vec<UserDto>, Option<i64>), ApiError> {
        self.people_filter(start, PAGE_SIZE).await
    }

    /// `count` people from `start` (in [`PEOPLE_ORDER`]) and the envelope `total`.
    async fn people_filter(
        &self,
        start: i64,
        count: i64,
    ) -> Result<(Vec<UserDto>, Option<i64>), ApiError> {
        let mut call = Call::new(Method::GET, "/api/2.0/people/filter", CallClass::Read);
        for (k, v) in people_query() {
            call = call.query(k, v);
        }
        let call = call.query("count", count).query("startIndex", start);
        let envelope: Envelope<Vec<UserDto>> = self.fetch_envelope(call).await?;
        Ok((envelope.response.unwrap_or_default(), envelope.total))
    }

    /// Every group (`GET /api/2.0/group`).
    pub async fn list_groups(&self) -> Result<Vec<GroupDto>, ApiError> {
        self.fetch_all("/api/2.0/group", &[]).await
    }

    /// One group by id.
    pub async fn get_group(&self, id: &str) -> Result<GroupDto, ApiError> {
        let call = Call::new(Method::GET, format!("/api/2.0/group/{id}"), CallClass::Read);
        self.fetch(call).await
    }

    // ---- calls `doctor` makes (README, "Check your portal first") ----

    /// The portal's build versions (`GET /api/2.0/settings/version/build`, anonymous on the
    /// server: `VersionController.GetBuildVersions`).
    pub async fn build_version(&self) -> Result<BuildVersion, ApiError> {
        let call = Call::new(
            Method::GET,
            "/api/2.0/settings/version/build",
            CallClass::Read,
        );
        self.fetch(call).await
    }

    /// The key's own record (`GET /api/2.0/keys/@self`, `ApiKeysController.GetApiKey`,
    /// allowed to every key whatever its scopes). Only the name, scopes, expiry and state are
    /// decoded: the record also carries a `key` field, which is never read.
    pub async fn key_self(&self) -> Result<ApiKeyInfo, ApiError> {
        let call = Call::new(Method::GET, "/api/2.0/keys/@self", CallClass::Read);
        self.fetch(call).await
    }

    /// The number of accounts (`total` of one `GET /people/filter` page of a single person),
    /// which also shows whether the key's user may search people at all (docs/docspace-api.md, "People and groups lookup": User and
    /// Guest callers get 403).
    pub async fn people_total(&self) -> Result<Option<i64>, ApiError> {
        Ok(self.people_filter(0, 1).await?.1)
    }

    /// The user with exactly this email as the server compares it (no lower-cased second
    /// try, unlike [`Client::user_by_email`]): how the portal's own email comparison behaves.
    pub async fn user_by_email_as_written(&self, email: &str) -> Result<Option<UserDto>, ApiError> {
        self.user_by_exact_email(email).await
    }

    /// Adds tags to a room (`PUT /files/rooms/{id}/tags`, docs/docspace-api.md, "Tags"); missing tags are created
    /// portal-wide. Returns the room.
    pub async fn add_room_tags(&self, id: i64, names: &[String]) -> Result<RoomDto, ApiError> {
        let call = Call::new(
            Method::PUT,
            format!("/api/2.0/files/rooms/{id}/tags"),
            CallClass::IdempotentWrite,
        )
        .json(&TagNames { names })?;
        self.fetch(call).await
    }

    /// Takes tags off a room (`DELETE /files/rooms/{id}/tags`, docs/docspace-api.md, "Tags"). Returns the room.
    pub async fn remove_room_tags(&self, id: i64, names: &[String]) -> Result<RoomDto, ApiError> {
        let call = Call::new(
            Method::DELETE,
            format!("/api/2.0/files/rooms/{id}/tags"),
            CallClass::IdempotentWrite,
        )
        .json(&TagNames { names })?;
        self.fetch(call).await
    }

    /// Deletes custom tags portal-wide (`DELETE /api/2.0/files/tags`, docs/docspace-api.md, "Tags").
    pub async fn delete_tags(&self, names: &[String]) -> Result<(), ApiError> {
        let call = Call::new(
            Method::DELETE,
            "/api/2.0/files/tags",
            CallClass::IdempotentWrite,
        )
        .json(&TagNames { names })?;
        self.fetch_envelope::<Value>(call).await.map(|_| ())
    }

    // ---- machinery -------------------------------------------------------------------------

    /// Reads every page of a list whose envelope carries `total` (share list, people, groups;
    /// docs/docspace-api.md, "Response envelopes"). Stops when the offset reaches `total`, on an empty page, or - without a total -
    /// on a short page. Offsets advance by the items actually received, because the share
    /// list's envelope `count` can even be negative.
    async fn fetch_all<T: DeserializeOwned + Send>(
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

    fn paging_runaway(&self, path: &str) -> ApiError {
        ApiError::new(ErrorKind::Decode, "GET", path)
            .with_message(format!("paging did not end after {MAX_PAGES} pages"))
    }

    /// A call whose envelope must carry a payload.
    async fn fetch<T: DeserializeOwned + Send>(&self, call: Call) -> Result<T, ApiError> {
        let method = call.method.clone();
        let path = call.path.clone();
        self.fetch_envelope(call).await?.response.ok_or_else(|| {
            ApiError::new(ErrorKind::Decode, method.as_str(), path)
                .with_message("the response has no payload")
        })
    }

    /// Runs a call with the retry policy of its class and decodes the envelope.
    async fn fetch_envelope<T: DeserializeOwned + Send>(
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
        let retry_after = self.observe_rate_limits(status, response.headers());
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

// The trait impl lives next to the inherent methods it forwards to.
impl super::DocSpaceApi for Client {
    fn me(&self) -> impl Future<Output = Result<UserDto, ApiError>> + Send {
        Client::me(self)
    }
    fn limit_reached(&self) -> Option<String> {
        Client::limit_reached(self)
    }
    fn list_rooms(
        &self,
        area: SearchArea,
        filter_value: Option<&str>,
    ) -> impl Future<Output = Result<RoomListing, ApiError>> + Send {
        Client::list_rooms(self, area, filter_value)
    }
    fn get_room(&self, id: i64) -> impl Future<Output = Result<RoomDto, ApiError>> + Send {
        Client::get_room(self, id)
    }
    fn create_room(
        &self,
        request: &CreateRoomRequest,
    ) -> impl Future<Output = Result<RoomDto, ApiError>> + Send {
        Client::create_room(self, request)
    }
    fn update_room(
        &self,
        id: i64,
        request: &UpdateRoomRequest,
    ) -> impl Future<Output = Result<RoomDto, ApiError>> + Send {
        Client::update_room(self, id, request)
    }
    fn archive_room(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<FileOperationDto, ApiError>> + Send {
        Client::archive_room(self, id)
    }
    fn unarchive_room(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<FileOperationDto, ApiError>> + Send {
        Client::unarchive_room(self, id)
    }
    fn wait_room_state(
        &self,
        id: i64,
        operation: Option<&FileOperationDto>,
        archived: bool,
        timeout: Duration,
    ) -> impl Future<Output = Result<RoomDto, ApiError>> + Send {
        Client::wait_room_state(self, id, operation, archived, timeout)
    }
    fn get_share(
        &self,
        room_id: i64,
    ) -> impl Future<Output = Result<Vec<ShareDto>, ApiError>> + Send {
        Client::get_share(self, room_id)
    }
    fn list_links(
        &self,
        room_id: i64,
    ) -> impl Future<Output = Result<Vec<LinkDto>, ApiError>> + Send {
        Client::list_links(self, room_id)
    }
    fn set_link(
        &self,
        room_id: i64,
        request: &LinkRequest,
    ) -> impl Future<Output = Result<Option<LinkDto>, ApiError>> + Send {
        Client::set_link(self, room_id, request)
    }
    fn resend_invitations(
        &self,
        user_ids: &[String],
    ) -> impl Future<Output = Result<Vec<UserDto>, ApiError>> + Send {
        Client::resend_invitations(self, user_ids)
    }
    fn set_share(
        &self,
        room_id: i64,
        request: &ShareRequest,
    ) -> impl Future<Output = Result<ShareResponse, ApiError>> + Send {
        Client::set_share(self, room_id, request)
    }
    fn user_by_email(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Option<UserDto>, ApiError>> + Send {
        Client::user_by_email(self, email)
    }
    fn people_page(
        &self,
        start: i64,
    ) -> impl Future<Output = Result<(Vec<UserDto>, Option<i64>), ApiError>> + Send {
        Client::people_page(self, start)
    }
    fn list_groups(&self) -> impl Future<Output = Result<Vec<GroupDto>, ApiError>> + Send {
        Client::list_groups(self)
    }
}

/// Body of the tag calls (docs/docspace-api.md, "Tags").
#[derive(Serialize)]
struct TagNames<'a> {
    names: &'a [String],
}

/// `GET /api/2.0/settings/version/build` (`BuildVersion`): the DocSpace version and, when a
/// document server is connected, its version.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildVersion {
    #[serde(default)]
    pub doc_space: Option<String>,
    #[serde(default)]
    pub document_server: Option<String>,
}

/// What `GET /api/2.0/keys/@self` says about the key (`ApiKeyResponseDto`), without its `key`
/// field. An empty `permissions` list or one holding `*` means full access
/// (`ApiKeyBearerAuthHandler`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyInfo {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "null_vec")]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
}

fn null_vec<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    use serde::Deserialize;
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}
