//! Rooms: create, get, list, update, archive/unarchive/delete as background operations,
//! operation polling, and tags (docspace-api.md sections 5 and 8).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Shared;
use super::envelope::{
    ApiError, ApiResult, FOLDER_NOT_FOUND, NO_EDIT_PERMISSION, Params, Reply, dotnet_len,
    parse_body,
};
use super::render;
use super::state::{Operation, OperationAction, PortalState, Room};
use crate::model::{RoomType, TITLE_MAX_CHARS, sanitize_title};

/// Room colours picked when `color` is omitted (the server picks a random one).
const COLORS: [&str; 8] = [
    "6D4AF2", "16A34A", "EA580C", "0891B2", "DB2777", "CA8A04", "4F46E5", "DC2626",
];

/// A room id from the path. The real route has an int constraint, so anything else does not
/// match any room.
fn room_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .map_err(|_| ApiError::NotFound(FOLDER_NOT_FOUND.to_string()))
}

fn not_found() -> ApiError {
    ApiError::NotFound(FOLDER_NOT_FOUND.to_string())
}

#[derive(Debug, Default, Deserialize)]
struct CreateRoom {
    title: Option<String>,
    roomtype: Option<Value>,
    tags: Option<Vec<String>>,
    quota: Option<i64>,
    indexing: Option<bool>,
    denydownload: Option<bool>,
    color: Option<String>,
    cover: Option<String>,
    private: Option<bool>,
}

/// Length checks shared by create and update (3.3). Messages are ASP.NET's defaults.
fn check_lengths(
    title: Option<&str>,
    color: Option<&str>,
    cover: Option<&str>,
    tags: Option<&[String]>,
) -> ApiResult<()> {
    let mut errors = Vec::new();
    if let Some(t) = title
        && dotnet_len(t) > TITLE_MAX_CHARS
    {
        errors.push((
            "Title".to_string(),
            format!("The field Title must be a string with a maximum length of {TITLE_MAX_CHARS}."),
        ));
    }
    if let Some(c) = color
        && dotnet_len(c) > 6
    {
        errors.push((
            "Color".to_string(),
            "The field Color must be a string or array type with a maximum length of '6'."
                .to_string(),
        ));
    }
    if let Some(c) = cover
        && dotnet_len(c) > 50
    {
        errors.push((
            "Cover".to_string(),
            "The field Cover must be a string or array type with a maximum length of '50'."
                .to_string(),
        ));
    }
    if tags.is_some_and(|tags| tags.iter().any(|t| dotnet_len(t) > 255)) {
        errors.push((
            "Tags".to_string(),
            "A tag name must be at most 255 characters.".to_string(),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// `roomType`: an int or a name (standard string-enum converter, 6.4). An unparsable string is
/// a model-validation 400; an unknown int is an argument error (400, 5.1).
fn parse_room_type(value: Option<&Value>) -> ApiResult<RoomType> {
    let unknown = |v: &str| ApiError::Argument(format!("Unknown room type: {v}"));
    match value {
        None | Some(Value::Null) => Err(ApiError::validation(
            "RoomType",
            "The RoomType field is required.",
        )),
        Some(Value::Number(n)) => {
            let n = n.as_i64().ok_or_else(|| unknown(&n.to_string()))?;
            RoomType::from_wire(n).ok_or_else(|| unknown(&n.to_string()))
        }
        Some(Value::String(s)) => {
            if let Ok(n) = s.trim().parse::<i64>() {
                return RoomType::from_wire(n).ok_or_else(|| unknown(s));
            }
            [
                RoomType::FormFilling,
                RoomType::Collaboration,
                RoomType::Custom,
                RoomType::Public,
                RoomType::VirtualDataRoom,
                RoomType::Ai,
            ]
            .into_iter()
            .find(|t| t.docspace_name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                ApiError::validation(
                    "roomType",
                    format!("The JSON value '{s}' could not be converted to RoomType."),
                )
            })
        }
        Some(_) => Err(ApiError::validation(
            "roomType",
            "The JSON value could not be converted to RoomType.",
        )),
    }
}

/// `quota`: -1 unlimited, -2 back to the portal default (`None`), else bytes (5.4).
fn parse_quota(quota: i64) -> ApiResult<Option<i64>> {
    match quota {
        -2 => Ok(None),
        q if q >= -1 => Ok(Some(q)),
        // Guess: other negative values are refused as an argument error.
        q => Err(ApiError::Argument(format!("Invalid quota value: {q}"))),
    }
}

/// Trims tag names, drops empty ones and duplicates, keeps the given order.
fn clean_tags(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim();
        if !t.is_empty() && !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

pub async fn create(State(app): State<Shared>, body: Bytes) -> ApiResult {
    let req: CreateRoom = parse_body(&body)?;
    // [Required] rejects null, empty and whitespace-only strings (3.3).
    let title = req.title.as_deref().unwrap_or("");
    if title.trim().is_empty() {
        return Err(ApiError::validation(
            "Title",
            "The Title field is required.",
        ));
    }
    check_lengths(
        Some(title),
        req.color.as_deref(),
        req.cover.as_deref(),
        req.tags.as_deref(),
    )?;
    let room_type = parse_room_type(req.roomtype.as_ref())?;
    let quota = req.quota.map(parse_quota).transpose()?.flatten();
    app.write(|s| {
        let id = s.next_room_id;
        s.next_room_id += 1;
        let tags = clean_tags(req.tags.as_deref().unwrap_or(&[]));
        s.register_tags(&tags);
        let now = Utc::now();
        let room = Room {
            id,
            // Titles are sanitised, not made unique: duplicates are allowed (5.1).
            title: sanitize_title(title),
            room_type: room_type.wire(),
            archived: false,
            tags,
            deny_download: req.denydownload.unwrap_or(false),
            private: req.private.unwrap_or(false),
            indexing: req.indexing.unwrap_or(false),
            color: req
                .color
                .clone()
                .unwrap_or_else(|| COLORS[(id as usize) % COLORS.len()].to_string()),
            cover: req.cover.clone(),
            quota,
            created_by: s.key_user,
            created: now,
            updated: now,
            shares: Vec::new(),
        };
        let out = render::room(s, &room);
        s.rooms.push(room);
        Ok(Reply::new(out))
    })
    .await
}

pub async fn get_one(State(app): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let id = room_id(&id)?;
    app.read(|s| {
        let room = s.room(id).ok_or_else(not_found)?;
        Ok(Reply::new(render::room(s, room)))
    })
    .await
}

/// Sort keys of the room list (5.3). Unknown names fall back to `DateAndTime` (a guess).
fn sort_rooms(rooms: &mut [&Room], sort_by: &str, descending: bool) {
    rooms.sort_by(|a, b| {
        let ord = match sort_by {
            "AZ" | "Title" => a
                .title
                .to_lowercase()
                .cmp(&b.title.to_lowercase())
                .then(a.title.cmp(&b.title)),
            "DateAndTimeCreation" => a.created.cmp(&b.created),
            "RoomType" => a.room_type.cmp(&b.room_type),
            "Tags" => a.tags.first().cmp(&b.tags.first()),
            _ => a.updated.cmp(&b.updated),
        }
        .then(a.id.cmp(&b.id));
        if descending { ord.reverse() } else { ord }
    });
}

pub async fn list(State(app): State<Shared>, uri: Uri) -> ApiResult {
    let params = Params::from_query(uri.query());
    let (start, count) = params.paging()?;
    let area = params.int("searchArea")?.unwrap_or(0);
    let filter = params.text("filterValue").map(str::to_lowercase);
    let mut types = Vec::new();
    for t in params.all("type") {
        let t = parse_room_type(Some(&Value::String(t.to_string())))?;
        types.push(t.wire());
    }
    let tags: Option<Vec<String>> = match params.text("tags") {
        None => None,
        // `tags` is a JSON-encoded array string (5.3).
        Some(raw) => Some(serde_json::from_str(raw).map_err(|_| {
            ApiError::validation("tags", format!("The value '{raw}' is not valid."))
        })?),
    };
    let without_tags = params.bool("withoutTags")?;
    // Passing sortBy saves it as the user's default; omitting it uses the saved one (5.3).
    let (sort_by, order) = {
        let mut saved = app.room_sort.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(by) = params.text("sortBy") {
            saved.0 = by.to_string();
            if let Some(o) = params.int("sortOrder")? {
                saved.1 = o;
            }
            saved.clone()
        } else {
            (saved.0.clone(), params.int("sortOrder")?.unwrap_or(saved.1))
        }
    };
    app.read(|s| {
        let mut rooms: Vec<&Room> = s
            .rooms
            .iter()
            .filter(|r| match area {
                0 => !r.archived,
                1 => r.archived,
                2 => true,
                // Other areas (recent, templates, AI agents...) hold no rooms here.
                _ => false,
            })
            .filter(|r| {
                filter
                    .as_ref()
                    .is_none_or(|f| r.title.to_lowercase().contains(f))
            })
            .filter(|r| types.is_empty() || types.contains(&r.room_type))
            .filter(|r| {
                tags.as_ref()
                    .is_none_or(|want| want.iter().all(|t| r.tags.contains(t)))
            })
            .filter(|r| !without_tags || r.tags.is_empty())
            .collect();
        sort_rooms(&mut rooms, &sort_by, order == 1);
        let total = rooms.len() as i64;
        let page: Vec<Value> = rooms
            .iter()
            .skip(start as usize)
            .take(count as usize)
            .map(|r| render::room(s, r))
            .collect();
        let current = render::section(area == 1);
        let path_parts = json!([{ "id": current["id"], "title": current["title"] }]);
        // Paging lives inside `response`; the envelope count is 1 and has no total (3.1).
        Ok(Reply::new(json!({
            "files": [],
            "folders": page,
            "current": current,
            "pathParts": path_parts,
            "startIndex": start,
            "count": page.len(),
            "total": total,
            "new": 0,
        })))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
struct UpdateRoom {
    title: Option<String>,
    tags: Option<Vec<String>>,
    quota: Option<i64>,
    indexing: Option<bool>,
    denydownload: Option<bool>,
    color: Option<String>,
    cover: Option<String>,
}

pub async fn update(State(app): State<Shared>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    // Unknown id on update is a 403, not a 404 (5.4).
    let id = id
        .parse::<i64>()
        .map_err(|_| ApiError::InvalidOperation(FOLDER_NOT_FOUND.to_string()))?;
    let req: UpdateRoom = parse_body(&body)?;
    check_lengths(
        req.title.as_deref(),
        req.color.as_deref(),
        req.cover.as_deref(),
        req.tags.as_deref(),
    )?;
    let quota = req.quota.map(parse_quota).transpose()?;
    app.write(|s| {
        let room = s
            .room_mut(id)
            .ok_or_else(|| ApiError::InvalidOperation(FOLDER_NOT_FOUND.to_string()))?;
        if room.archived {
            return Err(ApiError::InvalidOperation(NO_EDIT_PERMISSION.to_string()));
        }
        // Only fields present are applied; an empty/whitespace title means "no rename" (5.4).
        if let Some(title) = req.title.as_deref().filter(|t| !t.trim().is_empty()) {
            room.title = sanitize_title(title);
        }
        let mut new_tags = None;
        if let Some(tags) = &req.tags {
            // `tags` replaces the whole set (5.4).
            let tags = clean_tags(tags);
            room.tags = tags.clone();
            new_tags = Some(tags);
        }
        if let Some(q) = quota {
            room.quota = q;
        }
        if let Some(v) = req.indexing {
            room.indexing = v;
        }
        if let Some(v) = req.denydownload {
            room.deny_download = v;
        }
        if let Some(c) = &req.color {
            room.color = c.clone();
        }
        if let Some(c) = &req.cover {
            room.cover = Some(c.clone());
        }
        room.updated = Utc::now();
        if let Some(tags) = new_tags {
            s.register_tags(&tags);
        }
        let room = s.room(id).ok_or_else(not_found)?;
        Ok(Reply::new(render::room(s, room)))
    })
    .await
}

/// Starts an archive/unarchive/delete operation and returns its object (5.5, 5.6, 8).
async fn start_operation(app: Shared, raw_id: &str, action: OperationAction) -> ApiResult {
    let id = room_id(raw_id)?;
    let op = app
        .write(|s| {
            if s.room(id).is_none() {
                return Err(not_found());
            }
            let op = Operation {
                id: render::new_operation_id(),
                kind: if action == OperationAction::Delete {
                    2
                } else {
                    0
                },
                room_id: id,
                action,
                finished: false,
                error: String::new(),
            };
            s.operations.push(op.clone());
            // Keep the operation list bounded.
            let excess = s.operations.len().saturating_sub(200);
            s.operations.drain(..excess);
            Ok(op)
        })
        .await?;
    app.finish_later(op.id);
    Ok(Reply::new(render::operation(&op)))
}

pub async fn archive(State(app): State<Shared>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let _: Value = parse_body(&body)?;
    start_operation(app, &id, OperationAction::Archive).await
}

pub async fn unarchive(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let _: Value = parse_body(&body)?;
    start_operation(app, &id, OperationAction::Unarchive).await
}

/// Permanent delete; active rooms can be deleted directly (unconfirmed, 5.6).
pub async fn delete(State(app): State<Shared>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let _: Value = parse_body(&body)?;
    start_operation(app, &id, OperationAction::Delete).await
}

/// `GET /files/fileops[?id=]`: the caller's operations, newest first.
pub async fn fileops(State(app): State<Shared>, uri: Uri) -> ApiResult {
    let params = Params::from_query(uri.query());
    let wanted = params.text("id").map(str::to_string);
    app.read(|s| {
        let ops: Vec<Value> = s
            .operations
            .iter()
            .rev()
            .filter(|o| wanted.as_ref().is_none_or(|w| o.id.to_string() == *w))
            .map(render::operation)
            .collect();
        Ok(Reply::new(Value::Array(ops)))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
struct TagNames {
    names: Option<Vec<String>>,
}

/// Shared part of the tag routes: the room must exist and not be archived (5.7).
fn editable_room(s: &mut PortalState, id: i64) -> ApiResult<&mut Room> {
    let room = s.room_mut(id).ok_or_else(not_found)?;
    if room.archived {
        return Err(ApiError::InvalidOperation(NO_EDIT_PERMISSION.to_string()));
    }
    Ok(room)
}

pub async fn add_tags(State(app): State<Shared>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let id = room_id(&id)?;
    let req: TagNames = parse_body(&body)?;
    let names = clean_tags(req.names.as_deref().unwrap_or(&[]));
    check_lengths(None, None, None, Some(&names))?;
    app.write(|s| {
        let room = editable_room(s, id)?;
        // Tags are listed newest first (5.2).
        for name in &names {
            if !room.tags.contains(name) {
                room.tags.insert(0, name.clone());
            }
        }
        room.updated = Utc::now();
        s.register_tags(&names);
        let room = s.room(id).ok_or_else(not_found)?;
        Ok(Reply::new(render::room(s, room)))
    })
    .await
}

pub async fn remove_tags(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let id = room_id(&id)?;
    let req: TagNames = parse_body(&body)?;
    let names = clean_tags(req.names.as_deref().unwrap_or(&[]));
    app.write(|s| {
        let room = editable_room(s, id)?;
        room.tags.retain(|t| !names.contains(t));
        room.updated = Utc::now();
        let room = s.room(id).ok_or_else(not_found)?;
        Ok(Reply::new(render::room(s, room)))
    })
    .await
}

/// `GET /files/tags`: portal-wide tag names (5.7).
pub async fn list_tags(State(app): State<Shared>, uri: Uri) -> ApiResult {
    let params = Params::from_query(uri.query());
    let (start, count) = params.paging()?;
    let filter = params.text("filterValue").map(str::to_lowercase);
    app.read(|s| {
        let names: Vec<Value> = s
            .tags
            .iter()
            .filter(|t| filter.as_ref().is_none_or(|f| t.to_lowercase().contains(f)))
            .skip(start as usize)
            .take(count as usize)
            .map(|t| Value::String(t.clone()))
            .collect();
        Ok(Reply::new(Value::Array(names)))
    })
    .await
}
