//! API-key scopes on the sandbox (docs/docspace-api.md, "API-key scopes"), written from the
//! server: `common/ASC.Api.Core/Auth/AuthorizationExtension.cs` (`ScopesMap`, the first
//! pattern matching `METHOD route` decides; GETs also take `*:read`/`*:write`, writes
//! `*:write`), `ApiKeyBearerAuthHandler.cs` (no permissions or `*` is full access) and
//! `Middleware/ApiKeyScopesFilter.cs` (routes open to anonymous callers refuse through a
//! resource filter instead). A missing scope is a 403 with an empty body; on the two
//! anonymous-capable routes the sandbox serves (`GET /files/rooms/{id}`,
//! `GET /files/fileops`) it is a bare problem document, not the API envelope.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Shared;

/// The server's `ScopesMap`: (GET?, route prefix after `api/2.0/`, scopes). `*` = no scope.
const SCOPES_MAP: &[(bool, &str, &[&str])] = &[
    (true, "files/rooms", &["rooms:read", "rooms:write"]),
    (false, "files/rooms", &["rooms:write"]),
    (true, "files", &["files:read", "files:write"]),
    (false, "files", &["files:write"]),
    (
        true,
        "people/@self",
        &["accounts.self:read", "accounts.self:write"],
    ),
    (false, "people/@self", &["accounts.self:write"]),
    (true, "people", &["accounts:read", "accounts:write"]),
    (false, "people", &["accounts:write"]),
    (true, "group", &["accounts:read"]),
    (false, "group", &["accounts:write"]),
    (true, "keys/@sel", &["*"]),
];

/// Routes marked `[AllowAnonymous]` on the server (refused by `ApiKeyScopesFilter`).
const ANONYMOUS_CAPABLE: &[(&str, &str)] = &[
    ("GET", "/api/2.0/files/rooms/{id}"),
    ("GET", "/api/2.0/files/fileops"),
    ("GET", "/api/2.0/settings/invitationsettings"),
];

/// `DOCSPACE_SANDBOX_KEY_SCOPES` (comma-separated): the embedded `sandbox:` portal's key
/// permissions. Unset or empty: full access.
pub fn key_scopes_from_env() -> Vec<String> {
    std::env::var("DOCSPACE_SANDBOX_KEY_SCOPES")
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a key with `permissions` may call `method route` (the route pattern).
pub(crate) fn permits(permissions: &[String], method: &str, route: &str) -> bool {
    if permissions.is_empty() || permissions.iter().any(|p| p == "*") {
        return true;
    }
    let get = method == "GET";
    let tail = route
        .trim_start_matches('/')
        .strip_prefix("api/2.0/")
        .unwrap_or(route);
    let local: &[&str] = SCOPES_MAP
        .iter()
        .find(|(g, prefix, _)| *g == get && tail.starts_with(prefix))
        .map(|(_, _, s)| *s)
        .unwrap_or(&[]);
    if local == ["*"] {
        return true;
    }
    let global: &[&str] = if get {
        &["*:read", "*:write"]
    } else {
        &["*:write"]
    };
    global
        .iter()
        .chain(local.iter())
        .any(|s| permissions.iter().any(|p| p == s))
}

/// The middleware: refuses a call the key's scopes do not allow.
pub(crate) async fn enforce(State(app): State<Shared>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| request.uri().path().to_string());
    if permits(&app.key_scopes, &method, &route) {
        return next.run(request).await;
    }
    if ANONYMOUS_CAPABLE
        .iter()
        .any(|(m, r)| *m == method && *r == route)
    {
        let body = serde_json::json!({
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.4",
            "title": "Forbidden",
            "status": 403
        });
        return (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response();
    }
    StatusCode::FORBIDDEN.into_response()
}

#[cfg(test)]
mod tests {
    use super::permits;

    #[test]
    fn the_first_matching_pattern_decides() {
        let key: Vec<String> = ["accounts:read", "accounts:write", "rooms:write"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(!permits(&key, "GET", "/api/2.0/people/@self"));
        assert!(permits(&key, "GET", "/api/2.0/people/email"));
        assert!(permits(&key, "GET", "/api/2.0/files/rooms/{id}"));
        assert!(!permits(&key, "GET", "/api/2.0/files/fileops"));
        assert!(!permits(&key, "GET", "/api/2.0/settings/version/build"));
        assert!(permits(&key, "GET", "/api/2.0/keys/@self"));
        assert!(permits(&[], "PUT", "/api/2.0/people/invite"));
    }

    #[test]
    fn group_and_people_writes_need_accounts_write_and_group_reads_accounts_read() {
        let scopes =
            |list: &[&str]| -> Vec<String> { list.iter().map(|s| s.to_string()).collect() };
        let write = scopes(&["accounts:write"]);
        let read = scopes(&["accounts:read"]);
        for (method, route) in [
            ("POST", "/api/2.0/group"),
            ("PUT", "/api/2.0/group/{id}"),
            ("DELETE", "/api/2.0/group/{id}"),
            ("POST", "/api/2.0/group/{id}/members"),
            ("PUT", "/api/2.0/group/{id}/manager"),
            ("POST", "/api/2.0/people/invite"),
            ("PUT", "/api/2.0/people/type/{type}"),
        ] {
            assert!(permits(&write, method, route), "{method} {route}");
            assert!(!permits(&read, method, route), "{method} {route}");
        }
        // `GET api/[^/]+/group` lists `accounts:read` only: a write scope does not read groups.
        assert!(permits(&read, "GET", "/api/2.0/group/{id}"));
        assert!(!permits(&write, "GET", "/api/2.0/group"));
        // Settings match no pattern: only the global scopes.
        assert!(!permits(
            &read,
            "GET",
            "/api/2.0/settings/invitationsettings"
        ));
        assert!(permits(
            &scopes(&["*:read"]),
            "GET",
            "/api/2.0/settings/invitationsettings"
        ));
    }
}
