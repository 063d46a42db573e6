//! The embedded DocSpace-compatible emulator, the "sandbox"
//! (docs/architecture.md, "The sandbox").
//!
//! An axum server that answers the part of the DocSpace REST API this tool uses, copying the
//! real server's envelopes, integer enums, paging quirks, role tables and error codes as
//! documented in docs/docspace-api.md, "Response envelopes" and the sections after it. Behaviour
//! that docs could not confirm is marked as a guess in `docs/sandbox.md`.
//!
//! Layout:
//! - [`rules`]: the server rules the sandbox emulates (titles, tags, emails, role tables,
//!   sort orders), written from the server source and never borrowed from the client's code.
//! - [`state`]: the portal state and its crash-safe JSON file.
//! - [`envelope`]: response envelopes, error mapping, query/body parsing.
//! - [`render`]: the wire shapes of rooms, users, groups, shares and operations.
//! - `rooms`, `share`, `links`, `people`, `groups`, `user_types`, `templates`: the route
//!   handlers (`people_rules`: the server's rules on user types, invitations and groups;
//!   `templates`: room templates, the one create-from-template job per portal, folder contents).
//! - [`FaultConfig`]: the sandbox's own configuration (the CLI converts its flags into it).
//! - [`faults`]: latency, injected errors, commit-then-fail, the rate limiters.
//! - [`stats`]: call counters behind `GET /__sandbox/stats`.
//!
//! Request path (outer to inner): stats -> injected 429/500/503 -> auth (401) -> rate limiter
//! -> latency -> envelope -> handler; on the way out commit-then-fail may replace a write's
//! answer. The `/__sandbox` routes and unknown paths bypass all of it.

mod config;
mod envelope;
mod faults;
mod groups;
mod links;
mod people;
mod people_rules;
pub mod portal_policy;
mod render;
mod room_access;
mod room_resend;
mod rooms;
pub mod rules;
mod scopes;
mod share;
pub mod state;
mod stats;
mod templates;
mod user_types;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use rand::TryRngCore;
use tokio::sync::{Mutex, oneshot};

pub use config::FaultConfig;
use envelope::{ApiError, ApiResult};
pub use scopes::key_scopes_from_env;
use state::PortalState;

/// Everything needed to run a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The JSON state file; created with the demo seed when missing.
    pub state_path: PathBuf,
    pub faults: FaultConfig,
}

/// A state file that was read (or seeded) and holds the API key to serve with: the result of
/// [`open_state`], made before anything is printed or bound so that a bad file fails first.
#[derive(Debug)]
pub struct OpenState {
    portal: PortalState,
    /// The key clients must send as `Authorization: Bearer <key>`.
    pub api_key: String,
}

/// Reads the state file (seeding it when missing) and settles the API key: `requested` when
/// given, else the key stored in the file, else a new one. The key is written back to the file
/// so that a restart on the same file keeps it (exported `DOCSPACE_API_KEY`s keep working).
/// Writing here also proves the file can be replaced before the sandbox announces itself.
pub fn open_state(path: &Path, requested: Option<String>) -> std::io::Result<OpenState> {
    let mut portal = state::load_or_seed(path)?;
    let stored = portal.api_key.clone().filter(|k| is_valid_api_key(k));
    let api_key = requested
        .or(stored.clone())
        .unwrap_or_else(generate_api_key);
    if stored.as_deref() != Some(api_key.as_str()) {
        portal.api_key = Some(api_key.clone());
        let bytes = serde_json::to_vec(&portal).map_err(std::io::Error::other)?;
        state::write_atomically(path, &bytes)?;
    }
    Ok(OpenState { portal, api_key })
}

/// A fresh API key in the real format: `sk-` + 64 lowercase hex characters
/// (docs/docspace-api.md, "Authentication").
pub fn generate_api_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .unwrap_or_else(|_| {
            // No OS entropy: fall back to a v4 uuid pair (still random, from a different source).
            let a = uuid::Uuid::new_v4();
            let b = uuid::Uuid::new_v4();
            bytes[..16].copy_from_slice(a.as_bytes());
            bytes[16..].copy_from_slice(b.as_bytes());
        });
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sk-{hex}")
}

/// Whether `key` looks like a real API key (`sk-` + 64 lowercase hex).
pub fn is_valid_api_key(key: &str) -> bool {
    key.strip_prefix("sk-").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Shared server state: the portal behind one lock, plus the fault and stats machinery.
pub(crate) struct App {
    portal: Mutex<PortalState>,
    /// Mutations made to `portal` so far (bumped under its lock).
    version: AtomicU64,
    /// The highest `version` known to be in the state file.
    persisted: AtomicU64,
    /// Held by the one task writing the state file (group commit, see [`App::write`]).
    flush: Mutex<()>,
    state_path: PathBuf,
    api_key: String,
    /// The key's permissions (`FaultConfig::key_scopes`; empty is full access).
    key_scopes: Vec<String>,
    faults: faults::Faults,
    stats: stats::Stats,
    /// How long archive/unarchive/delete operations take to finish.
    operation_delay: Duration,
    /// How email columns compare (`--case-sensitive-emails` emulates PostgreSQL installs).
    emails: rules::EmailCollation,
    /// Bumped per people listing, to order ties differently each time (see `people.rs`).
    nonce: AtomicU64,
}

pub(crate) type Shared = Arc<App>;

impl App {
    /// A fresh value per call, for orders that must not be stable across requests.
    pub(crate) fn next_nonce(&self) -> u64 {
        self.nonce.fetch_add(1, Ordering::Relaxed)
    }

    /// Reads the portal under the lock.
    pub(crate) async fn read<T>(&self, f: impl FnOnce(&PortalState) -> T) -> T {
        let guard = self.portal.lock().await;
        f(&guard)
    }

    /// Mutates the portal and persists it before returning, whatever `f` answered: the real
    /// server has no transactions (docs/docspace-api.md, "The share call"), so partial changes before an error stay.
    ///
    /// Group commit: the mutation is made under the portal lock, which is then released; the
    /// response waits until a snapshot that includes it is in the state file. One task writes
    /// at a time, and each write covers every mutation made before its snapshot, so concurrent
    /// writers share one file replacement instead of queueing for one each. A response is
    /// still never sent before its change is durable.
    pub(crate) async fn write<T>(
        &self,
        f: impl FnOnce(&mut PortalState) -> ApiResult<T>,
    ) -> ApiResult<T> {
        let (result, mine) = {
            let mut guard = self.portal.lock().await;
            let result = f(&mut guard);
            (result, self.version.fetch_add(1, Ordering::SeqCst) + 1)
        };
        self.persist_up_to(mine).await?;
        result
    }

    /// Waits until the state file holds every mutation up to `version`, writing it if no other
    /// task is already doing so.
    async fn persist_up_to(&self, version: u64) -> ApiResult<()> {
        let save_error = |e: String| ApiError::Internal(format!("cannot save sandbox state: {e}"));
        while self.persisted.load(Ordering::SeqCst) < version {
            let _flush = self.flush.lock().await;
            if self.persisted.load(Ordering::SeqCst) >= version {
                break;
            }
            let (bytes, snapshot) = {
                let guard = self.portal.lock().await;
                let bytes = serde_json::to_vec(&*guard).map_err(|e| save_error(e.to_string()))?;
                (bytes, self.version.load(Ordering::SeqCst))
            };
            let path = self.state_path.clone();
            // Blocking file I/O off the async workers.
            tokio::task::spawn_blocking(move || state::write_atomically(&path, &bytes))
                .await
                .map_err(|e| save_error(e.to_string()))?
                .map_err(|e| save_error(e.to_string()))?;
            self.persisted.store(snapshot, Ordering::SeqCst);
        }
        Ok(())
    }

    /// Finishes an operation after the configured delay, in the background
    /// (docs/docspace-api.md, "Long-running operations").
    pub(crate) fn finish_later(self: &Arc<Self>, op_id: uuid::Uuid) {
        let app = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(app.operation_delay).await;
            let _ = app
                .write(|s| {
                    s.complete_operation(op_id);
                    Ok(())
                })
                .await;
        });
    }
}

fn build_router(app: Shared) -> Router {
    let api = Router::new()
        .route("/api/2.0/files/rooms", post(rooms::create).get(rooms::list))
        .route(
            "/api/2.0/files/rooms/{id}",
            get(rooms::get_one).put(rooms::update).delete(rooms::delete),
        )
        .route("/api/2.0/files/rooms/covers", get(rooms::covers))
        .route("/api/2.0/files/rooms/fromTemplate", post(templates::start))
        .route(
            "/api/2.0/files/rooms/fromTemplate/status",
            get(templates::status),
        )
        .route("/api/2.0/files/{id}", get(templates::folder_content))
        .route(
            "/api/2.0/files/settings",
            get(portal_policy::files_settings),
        )
        .route(
            "/api/2.0/settings/security/password",
            get(portal_policy::password_settings),
        )
        .route(
            "/api/2.0/files/rooms/{id}/links",
            get(links::list).put(links::set),
        )
        .route("/api/2.0/files/rooms/{id}/archive", put(rooms::archive))
        .route(
            "/api/2.0/files/rooms/{id}/resend",
            post(room_resend::resend),
        )
        .route("/api/2.0/files/rooms/{id}/unarchive", put(rooms::unarchive))
        .route(
            "/api/2.0/files/rooms/{id}/tags",
            put(rooms::add_tags).delete(rooms::remove_tags),
        )
        .route(
            "/api/2.0/files/tags",
            get(rooms::list_tags).delete(rooms::delete_tags),
        )
        .route("/api/2.0/keys/@self", get(people::key_self))
        .route(
            "/api/2.0/settings/version/build",
            get(people::build_version),
        )
        .route("/api/2.0/files/fileops", get(rooms::fileops))
        .route("/api/2.0/files/fileops/{kind}", get(rooms::fileops_by_type))
        .route(
            "/api/2.0/files/rooms/{id}/share",
            get(share::list).put(share::set),
        )
        .route("/api/2.0/people", get(people::active))
        .route("/api/2.0/people/@self", get(people::me))
        .route("/api/2.0/people/email", get(people::by_email))
        .route("/api/2.0/people/filter", get(people::filter))
        .route(
            "/api/2.0/people/invite",
            put(people::resend_invites).post(user_types::invite),
        )
        .route("/api/2.0/people/type/{type}", put(user_types::change))
        .route("/api/2.0/people/{id}", get(people::by_id))
        .route(
            "/api/2.0/settings/invitationsettings",
            get(user_types::invitation_settings),
        )
        .route("/api/2.0/portal/payment/quota", get(user_types::quota))
        .route("/api/2.0/group", get(groups::list).post(groups::create))
        .route(
            "/api/2.0/group/{id}",
            get(groups::get_one)
                .put(groups::update)
                .delete(groups::delete),
        )
        .route(
            "/api/2.0/group/{id}/members",
            post(groups::set_members)
                .put(groups::add_members)
                .delete(groups::remove_members),
        )
        .route("/api/2.0/group/{id}/manager", put(groups::set_manager))
        // Innermost first. Route layers run after routing, so every layer knows the matched
        // route pattern (for stats) and unknown paths get a plain 404 untouched by faults.
        .route_layer(middleware::from_fn(envelope::wrap))
        .route_layer(middleware::from_fn_with_state(app.clone(), faults::latency))
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            faults::rate_limit,
        ))
        .route_layer(middleware::from_fn_with_state(app.clone(), scopes::enforce))
        .route_layer(middleware::from_fn_with_state(app.clone(), auth))
        .route_layer(middleware::from_fn_with_state(app.clone(), faults::inject))
        .route_layer(middleware::from_fn_with_state(app.clone(), stats::count));
    Router::new()
        .merge(stats::routes())
        .merge(api)
        .with_state(app)
}

/// Bearer API-key auth (docs/docspace-api.md, "Authentication"): anything but `Bearer <the key>` is a 401 with an empty body.
async fn auth(State(app): State<Shared>, request: Request, next: Next) -> Response {
    let ok = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|key| key.trim() == app.api_key);
    if ok {
        next.run(request).await
    } else {
        ApiError::Unauthorized.into_response()
    }
}

/// Runs a sandbox on `listener` until `shutdown` resolves, serving the state `opened` from
/// `config.state_path` by [`open_state`].
pub async fn serve(
    opened: OpenState,
    config: SandboxConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Arc::new(App {
        portal: Mutex::new(opened.portal),
        version: AtomicU64::new(0),
        persisted: AtomicU64::new(0),
        flush: Mutex::new(()),
        state_path: config.state_path,
        api_key: opened.api_key,
        key_scopes: config.faults.key_scopes.clone(),
        operation_delay: Duration::from_millis(config.faults.operation_delay_ms),
        emails: if config.faults.case_sensitive_emails {
            rules::EmailCollation::CaseSensitive
        } else {
            rules::EmailCollation::CaseInsensitive
        },
        faults: faults::Faults::new(config.faults),
        stats: stats::Stats::default(),
        nonce: AtomicU64::new(0),
    });
    {
        let portal = app.portal.lock().await;
        templates::resume(&app, &portal);
    }
    axum::serve(listener, build_router(app))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A sandbox running on the current tokio runtime (see [`start_in_process`]). Stops when
/// [`SandboxHandle::stop`] is called or when dropped.
#[derive(Debug)]
pub struct SandboxHandle {
    /// `http://127.0.0.1:PORT/`
    pub base_url: url::Url,
    /// The key the in-process client must send.
    pub api_key: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl SandboxHandle {
    /// The socket address the sandbox listens on.
    pub fn addr(&self) -> SocketAddr {
        let host = self.base_url.host_str().unwrap_or("127.0.0.1");
        let port = self.base_url.port().unwrap_or(80);
        SocketAddr::new(host.parse().unwrap_or([127, 0, 0, 1].into()), port)
    }

    /// Stops accepting requests, lets in-flight ones finish, and waits for the server to end.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts a sandbox on `127.0.0.1:0` in the current tokio runtime, for `--portal sandbox:PATH`
/// and tests, with the API key stored in the state file (a new one for a new file). The state
/// file is loaded (or seeded) before this returns, so a bad state file is reported here.
pub async fn start_in_process(
    state_path: &Path,
    faults: impl Into<FaultConfig>,
) -> std::io::Result<SandboxHandle> {
    let faults = faults.into();
    let path = state_path.to_path_buf();
    let opened = tokio::task::spawn_blocking(move || open_state(&path, None))
        .await
        .map_err(std::io::Error::other)??;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let api_key = opened.api_key.clone();
    let config = SandboxConfig {
        state_path: state_path.to_path_buf(),
        faults,
    };
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(opened, config, listener, async move {
        let _ = rx.await;
    }));
    let base_url = url::Url::parse(&format!("http://{addr}/")).map_err(std::io::Error::other)?;
    Ok(SandboxHandle {
        base_url,
        api_key,
        shutdown: Some(tx),
        task: Some(task),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_real_format() {
        let key = generate_api_key();
        assert!(is_valid_api_key(&key), "{key}");
        assert_ne!(key, generate_api_key());
        assert!(!is_valid_api_key("sk-ABC"));
    }
}
