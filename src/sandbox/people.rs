//! People and groups lookups (docspace-api.md section 7).

use axum::extract::{Path, State};
use axum::http::Uri;
use serde_json::Value;
use uuid::Uuid;

use super::Shared;
use super::envelope::{ApiError, ApiResult, Params, Reply, USER_NOT_FOUND};
use super::render;
use super::state::{PortalState, STATUS_ACTIVE, STATUS_TERMINATED, User};
use crate::model::UserType;

fn user_not_found() -> ApiError {
    ApiError::NotFound(USER_NOT_FOUND.to_string())
}

/// People sorted by display name (the real default sort is unconfirmed).
fn sorted_users(s: &PortalState, keep: impl Fn(&User) -> bool) -> Vec<&User> {
    let mut users: Vec<&User> = s.users.iter().filter(|u| keep(u)).collect();
    users.sort_by_key(|u| (u.display_name().to_lowercase(), u.id));
    users
}

/// `GET /people/@self`: the key's user.
pub async fn me(State(app): State<Shared>) -> ApiResult {
    app.read(|s| {
        let user = s.user(s.key_user).ok_or_else(user_not_found)?;
        Ok(Reply::new(render::user_full(s, user)))
    })
    .await
}

/// `GET /people/{id}`.
pub async fn by_id(State(app): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let id = Uuid::parse_str(&id).map_err(|_| user_not_found())?;
    app.read(|s| {
        let user = s.user(id).ok_or_else(user_not_found)?;
        Ok(Reply::new(render::user_full(s, user)))
    })
    .await
}

/// `GET /people/email?email=`: case-insensitive match (depends on DB collation on the real
/// server, typically case-insensitive; unconfirmed). Empty → 400.
pub async fn by_email(State(app): State<Shared>, uri: Uri) -> ApiResult {
    let params = Params::from_query(uri.query());
    let email = params
        .text("email")
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| ApiError::Argument("Value cannot be null. (Parameter 'email')".into()))?
        .to_string();
    app.read(|s| {
        let user = s.user_by_email(&email).ok_or_else(user_not_found)?;
        Ok(Reply::new(render::user_full(s, user)))
    })
    .await
}

/// `GET /people`: active users only (pending invitees are not listed).
pub async fn active(State(app): State<Shared>, uri: Uri) -> ApiResult {
    let params = Params::from_query(uri.query());
    let (start, count) = params.paging()?;
    app.read(|s| {
        let users: Vec<Value> = sorted_users(s, |u| u.status == STATUS_ACTIVE)
            .into_iter()
            .skip(start as usize)
            .take(count as usize)
            .map(|u| render::user_full(s, u))
            .collect();
        Ok(Reply::new(Value::Array(users)))
    })
    .await
}

/// `GET /people/filter`: whitespace-separated terms must all match first name, last name or
/// email (case-insensitive substring); `area` 0 all, 1 people, 2 guests. Envelope `count` is
/// the page length and `total` the number of matches (3.1).
pub async fn filter(State(app): State<Shared>, uri: Uri) -> ApiResult {
    let params = Params::from_query(uri.query());
    let (start, count) = params.paging()?;
    let terms: Vec<String> = params
        .text("filterValue")
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let area = params.int("area")?.unwrap_or(0);
    let status = params.int("employeeStatus")?;
    let activation = params.int("activationStatus")?;
    app.read(|s| {
        let matches = sorted_users(s, |u| {
            let fields = [
                u.first_name.to_lowercase(),
                u.last_name.to_lowercase(),
                u.email.to_lowercase(),
            ];
            let text_ok = terms.iter().all(|t| fields.iter().any(|f| f.contains(t)));
            let area_ok = match area {
                1 => u.user_type != UserType::Guest,
                2 => u.user_type == UserType::Guest,
                _ => true,
            };
            // Without a status filter, terminated users are left out (a guess).
            let status_ok = match status {
                Some(7) => true,
                Some(st) => u.status == st,
                None => u.status != STATUS_TERMINATED,
            };
            let activation_ok = activation.is_none_or(|a| u.activation_status == a);
            text_ok && area_ok && status_ok && activation_ok
        });
        let total = matches.len() as i64;
        let page: Vec<Value> = matches
            .into_iter()
            .skip(start as usize)
            .take(count as usize)
            .map(|u| render::user_full(s, u))
            .collect();
        let n = page.len() as i64;
        Ok(Reply::new(Value::Array(page)).count(n).total(total))
    })
    .await
}

/// `GET /group`: case-insensitive substring on the name; envelope
/// `count = min(max(total - startIndex, 0), count)` and `total` (3.1).
pub async fn groups(State(app): State<Shared>, uri: Uri) -> ApiResult {
    let params = Params::from_query(uri.query());
    let (start, count) = params.paging()?;
    let filter = params.text("filterValue").map(str::to_lowercase);
    let descending = params.int("sortOrder")?.unwrap_or(0) == 1;
    app.read(|s| {
        let mut groups: Vec<_> = s
            .groups
            .iter()
            .filter(|g| {
                filter
                    .as_ref()
                    .is_none_or(|f| g.name.to_lowercase().contains(f))
            })
            .collect();
        groups.sort_by_key(|g| (g.name.to_lowercase(), g.id));
        if descending {
            groups.reverse();
        }
        let total = groups.len() as i64;
        let page: Vec<Value> = groups
            .into_iter()
            .skip(start as usize)
            .take(count as usize)
            .map(|g| render::group(s, g, false))
            .collect();
        Ok(Reply::new(Value::Array(page))
            .count((total - start).max(0).min(count))
            .total(total))
    })
    .await
}

/// `GET /group/{id}?includeMembers=true`. The not-found message is a guess.
pub async fn group_by_id(State(app): State<Shared>, Path(id): Path<String>, uri: Uri) -> ApiResult {
    let params = Params::from_query(uri.query());
    let include = params.bool("includeMembers")?;
    let not_found = || ApiError::NotFound("Group not found".to_string());
    let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    app.read(|s| {
        let group = s.group(id).ok_or_else(not_found)?;
        Ok(Reply::new(render::group(s, group, include)))
    })
    .await
}
