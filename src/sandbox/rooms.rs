//! Rooms: create, get, list, update, archive/unarchive/delete as background operations,
//! operation polling, and tags (docs/docspace-api.md, "Reading a room",
//! docs/docspace-api.md, "Updating rooms", docs/docspace-api.md, "Long-running operations").

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use std::cmp::Ordering;

use super::Shared;
use super::envelope::{
    ApiError, ApiResult, FOLDER_NOT_FOUND, NO_EDIT_PERMISSION, Params, Reply, dotnet_len,
    parse_body,
};
use super::render;
use super::room_access;
use super::rules::{self, TITLE_MAX_UNITS, natural_cmp, same_tag, stored_title};
use super::state::{
    Lifetime, Operation, OperationAction, PortalState, Room, SavedOrder, ThirdPartyRoom, Watermark,
};

/// `ErrorMessage_SecurityException_ArchiveRoom` / `_UnarchiveRoom` (FilesCommonResource.resx):
/// what a refused archive or unarchive records as the operation's error
/// (`CopyPermissionsCheck`, when the caller may not move the room).
pub const ARCHIVE_REFUSED: &str = "You don't have enough permission to archive the room";
pub const UNARCHIVE_REFUSED: &str = "You don't have enough permission to unarchive the room";

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
    lifetime: Option<LifetimeRequest>,
    watermark: Option<WatermarkRequest>,
}

/// `RoomDataLifetimeDto` in a request.
#[derive(Debug, Default, Clone, Deserialize)]
pub(super) struct LifetimeRequest {
    deletepermanently: Option<bool>,
    period: Option<Value>,
    value: Option<i64>,
    enabled: Option<bool>,
}

/// `WatermarkRequestDto`.
#[derive(Debug, Default, Clone, Deserialize)]
pub(super) struct WatermarkRequest {
    enabled: Option<bool>,
    additions: Option<i64>,
    text: Option<String>,
    rotate: Option<i64>,
    imagescale: Option<i64>,
    imageurl: Option<String>,
    imageheight: Option<f64>,
    imagewidth: Option<f64>,
}

/// Model validation of the lifetime (`[EnumDataType]` on `Period`: 0 Day, 1 Month, 2 Year, or
/// their names; `[Range(1, 999)]` on `Value`) and of the watermark (`[StringLength(255)]` on
/// `Text`). Returns the lifetime as stored: `enabled: false` switches it off (`None`).
pub(super) fn check_lifetime(req: &LifetimeRequest) -> ApiResult<Option<Lifetime>> {
    let mut errors = Vec::new();
    let period = match &req.period {
        None | Some(Value::Null) => Some(0),
        Some(Value::Number(n)) => n.as_i64().filter(|p| (0..=2).contains(p)),
        Some(Value::String(t)) => ["Day", "Month", "Year"]
            .iter()
            .position(|name| name.eq_ignore_ascii_case(t.trim()))
            .map(|i| i as i64)
            .or_else(|| t.trim().parse::<i64>().ok().filter(|p| (0..=2).contains(p))),
        Some(_) => None,
    };
    if period.is_none() {
        errors.push((
            "Lifetime.Period".to_string(),
            "The field Period is invalid.".to_string(),
        ));
    }
    if req.value.is_some_and(|v| !(1..=999).contains(&v)) {
        errors.push((
            "Lifetime.Value".to_string(),
            "The field Value must be between 1 and 999.".to_string(),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if req.enabled == Some(false) {
        return Ok(None);
    }
    Ok(Some(Lifetime {
        delete_permanently: req.deletepermanently.unwrap_or(false),
        period: period.unwrap_or(0),
        value: req.value,
        enabled: req.enabled,
    }))
}

/// The watermark as stored (`WatermarkManager.SetWatermarkAsync`, `WatermarkRequestDto.Map`):
/// text, additions and rotation always; the image scale and size only with an image.
pub(super) fn watermark(req: &WatermarkRequest) -> ApiResult<Watermark> {
    if req.text.as_deref().is_some_and(|t| dotnet_len(t) > 255) {
        return Err(ApiError::validation(
            "Watermark.Text",
            "The field Text must be a string with a maximum length of 255.",
        ));
    }
    let image = req.imageurl.clone().filter(|u| !u.is_empty());
    let with_image = image.is_some();
    Ok(Watermark {
        additions: req.additions.unwrap_or(0),
        text: req.text.clone(),
        rotate: req.rotate.unwrap_or(0),
        image_scale: if with_image {
            req.imagescale.unwrap_or(0)
        } else {
            0
        },
        image_height: if with_image {
            req.imageheight.unwrap_or(0.0)
        } else {
            0.0
        },
        image_width: if with_image {
            req.imagewidth.unwrap_or(0.0)
        } else {
            0.0
        },
        image_url: image,
    })
}

/// `RoomLogoManager.ValidateRoomCover`: a cover must be one the server ships, or empty
/// (which clears it). Otherwise `ArgumentException(null, "icon")`, a 400.
fn check_cover(cover: Option<&str>) -> ApiResult<()> {
    match cover {
        Some(c) if !c.is_empty() && !rules::COVERS.contains(&c) => Err(ApiError::Argument(
            "Value does not fall within the expected range. (Parameter 'icon')".to_string(),
        )),
        _ => Ok(()),
    }
}

/// `GET /files/rooms/covers`: the covers a room may use, as `{id, data}` (the SVG; left empty
/// here). Guests are refused (`Access denied`).
pub async fn covers(State(app): State<Shared>) -> ApiResult {
    app.read(|s| {
        let guest = s
            .user(s.key_user)
            .is_some_and(|u| u.user_type == rules::UserType::Guest);
        if guest {
            return Err(ApiError::Security);
        }
        let list: Vec<Value> = rules::COVERS
            .iter()
            .map(|id| json!({ "id": id, "data": "" }))
            .collect();
        Ok(Reply::new(Value::Array(list)))
    })
    .await
}

/// Length checks shared by create and update (docs/docspace-api.md, "Response envelopes"). Messages are
/// ASP.NET's defaults.
fn check_lengths(
    title: Option<&str>,
    color: Option<&str>,
    cover: Option<&str>,
    tags: Option<&[String]>,
) -> ApiResult<()> {
    let mut errors = Vec::new();
    if let Some(t) = title
        && dotnet_len(t) > TITLE_MAX_UNITS
    {
        errors.push((
            "Title".to_string(),
            format!("The field Title must be a string with a maximum length of {TITLE_MAX_UNITS}."),
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

/// `roomType`: an int or a name (standard string-enum converter,
/// docs/docspace-api.md, "Access as integers"). An unparsable string is
/// a model-validation 400; an unknown int is an argument error (400,
/// docs/docspace-api.md, "Creating rooms"). Returns the wire int.
fn parse_room_type(value: Option<&Value>) -> ApiResult<i64> {
    let unknown = |v: &str| ApiError::Argument(format!("Unknown room type: {v}"));
    match value {
        None | Some(Value::Null) => Err(ApiError::validation(
            "RoomType",
            "The RoomType field is required.",
        )),
        Some(Value::Number(n)) => {
            let n = n.as_i64().ok_or_else(|| unknown(&n.to_string()))?;
            rules::room_type(n)
                .map(|t| t.wire)
                .ok_or_else(|| unknown(&n.to_string()))
        }
        Some(Value::String(s)) => {
            if let Ok(n) = s.trim().parse::<i64>() {
                return rules::room_type(n)
                    .map(|t| t.wire)
                    .ok_or_else(|| unknown(s));
            }
            rules::ROOM_TYPES
                .into_iter()
                .find(|t| t.name.eq_ignore_ascii_case(s.trim()))
                .map(|t| t.wire)
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

/// `quota`: -1 unlimited, -2 back to the portal default (`None`), else bytes (docs/docspace-api.md, "Updating rooms").
fn parse_quota(quota: i64) -> ApiResult<Option<i64>> {
    match quota {
        -2 => Ok(None),
        q if q >= -1 => Ok(Some(q)),
        // Guess: other negative values are refused as an argument error.
        q => Err(ApiError::Argument(format!("Invalid quota value: {q}"))),
    }
}

/// Trims tag names, drops empty ones and duplicates (ignoring case, as the tag table does),
/// keeps the given order.
fn clean_tags(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim();
        if !t.is_empty() && !out.iter().any(|o| same_tag(o, t)) {
            out.push(t.to_string());
        }
    }
    out
}

pub async fn create(State(app): State<Shared>, body: Bytes) -> ApiResult {
    let req: CreateRoom = parse_body(&body)?;
    // [Required] rejects null, empty and whitespace-only strings (docs/docspace-api.md, "Response envelopes").
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
    // Every room type takes every setting: neither create nor update checks the type
    // (`FileStorageService.CreateRoomAsync` / `UpdateRoomAsync`, `FolderDao.UpdateFolderAsync`).
    let lifetime = req
        .lifetime
        .as_ref()
        .map(check_lifetime)
        .transpose()?
        .flatten();
    // On create the watermark is stored whatever `enabled` says (`SetWatermarkAsync`).
    let watermark = req.watermark.as_ref().map(watermark).transpose()?;
    check_cover(req.cover.as_deref())?;
    app.write(|s| {
        if let Some(i) = s.fail_create.iter().position(|t| t == title.trim()) {
            s.fail_create.remove(i);
            return Err(ApiError::Argument(
                "the sandbox refuses this create once (fail_create)".to_string(),
            ));
        }
        let id = s.next_room_id;
        s.next_room_id += 1;
        // An existing tag's spelling wins over the requested one (`CustomTagsService`).
        let tags = s.resolve_tags(&clean_tags(req.tags.as_deref().unwrap_or(&[])));
        let now = Utc::now();
        let room = Room {
            id,
            // Titles are sanitised, not made unique: duplicates are allowed
            // (docs/docspace-api.md, "Room titles").
            title: stored_title(title),
            room_type,
            archived: false,
            tags,
            deny_download: req.denydownload.unwrap_or(false),
            private: req.private.unwrap_or(false),
            indexing: req.indexing.unwrap_or(false),
            color: req
                .color
                .clone()
                .unwrap_or_else(|| COLORS[(id as usize) % COLORS.len()].to_string()),
            cover: req.cover.clone().filter(|c| !c.is_empty()),
            quota,
            created_by: s.key_user,
            created: now,
            updated: now,
            shares: Vec::new(),
            fail_archive: false,
            logo_uploaded: false,
            ignore_settings: s.ignore_settings_on_create.clone(),
            // Public and form-filling rooms are born with their primary external link
            // (`FileStorageService.CreateRoomAsync`).
            links: if matches!(room_type, 6 | 1) {
                vec![super::links::default_primary_link(room_type)]
            } else {
                Vec::new()
            },
            lifetime,
            watermark,
            folders: Vec::new(),
        };
        let mut room = room;
        drop_ignored_on_create(&mut room);
        let out = render::room(s, &room);
        s.rooms.push(room);
        Ok(Reply::new(out))
    })
    .await
}

/// Fault injection (`ignore_settings_on_create`): the create accepts the settings the room
/// ignores and stores none of them, answering 200 with the room as if they had not been
/// asked (an emulated server that drops a setting, so clients can prove they check the
/// create's answer). The title is always stored.
fn drop_ignored_on_create(room: &mut Room) {
    let ignored = room.ignore_settings.clone();
    for field in &ignored {
        match field.as_str() {
            "color" => room.color = COLORS[(room.id as usize) % COLORS.len()].to_string(),
            "cover" => room.cover = None,
            "indexing" => room.indexing = false,
            "denyDownload" => room.deny_download = false,
            "lifetime" => room.lifetime = None,
            "watermark" => room.watermark = None,
            "quota" => room.quota = None,
            "tags" => room.tags.clear(),
            _ => {}
        }
    }
}

pub async fn get_one(State(app): State<Shared>, Path(id): Path<String>) -> ApiResult {
    app.read(|s| {
        // The server routes string ids to its connected-storage controller, so a room there can
        // be read by its string id. Changing one is not emulated (see docs/sandbox.md).
        // A room the key user cannot see is refused (`room_access`).
        let refused = || ApiError::InvalidOperation(room_access::READ_FOLDER_REFUSED.to_string());
        if let Some(ext) = s.third_party_rooms.iter().find(|r| r.id == id) {
            if !room_access::can_read_third_party(s, ext) {
                return Err(refused());
            }
            return Ok(Reply::new(render::third_party_room(s, ext)));
        }
        let id = room_id(&id)?;
        // `GetRoomInfo` answers any folder the caller can read, a room template too
        // (docs/docspace-api.md, "Room templates").
        if let Some(t) = super::templates::template_by_id(s, id) {
            return Ok(Reply::new(t));
        }
        let room = s.room(id).ok_or_else(not_found)?;
        if !room_access::can_read_room(s, room) {
            return Err(refused());
        }
        Ok(Reply::new(render::room(s, room)))
    })
    .await
}

/// One entry of the room list: a room in the portal's own storage or in connected storage.
#[derive(Clone, Copy)]
enum Entry<'a> {
    Own(&'a Room),
    Connected(&'a ThirdPartyRoom),
}

impl<'a> Entry<'a> {
    fn title(&self) -> &'a str {
        match self {
            Entry::Own(r) => &r.title,
            Entry::Connected(r) => &r.title,
        }
    }
    fn archived(&self) -> bool {
        match self {
            Entry::Own(r) => r.archived,
            Entry::Connected(r) => r.archived,
        }
    }
    fn room_type(&self) -> i64 {
        match self {
            Entry::Own(r) => r.room_type,
            Entry::Connected(r) => r.room_type,
        }
    }
    fn tags(&self) -> &'a [String] {
        match self {
            Entry::Own(r) => &r.tags,
            Entry::Connected(r) => &r.tags,
        }
    }
    fn updated(&self) -> chrono::DateTime<Utc> {
        match self {
            Entry::Own(r) => r.updated,
            Entry::Connected(r) => r.updated,
        }
    }
    fn created(&self) -> chrono::DateTime<Utc> {
        match self {
            Entry::Own(r) => r.created,
            Entry::Connected(r) => r.created,
        }
    }
    fn author(&self, s: &PortalState) -> String {
        let id = match self {
            Entry::Own(r) => r.created_by,
            Entry::Connected(r) => r.created_by.unwrap_or(s.key_user),
        };
        s.user(id).map(|u| u.display_name()).unwrap_or_default()
    }
    fn render(&self, s: &PortalState) -> Value {
        match self {
            Entry::Own(r) => render::room(s, r),
            Entry::Connected(r) => render::third_party_room(s, r),
        }
    }
}

/// `EntryManager.SortEntries` for rooms. `c` is +1 ascending, -1 descending; the primary key is
/// multiplied by it, the tie-break on the title (natural order) is always ascending. `AZ` has
/// no tie-break, and unknown keys sort like `AZ`. `RoomType` compares the names of the
/// rooms' `FolderType`s, not their numbers; `Tags` compares how many tags a room has; `Author`
/// the creator's name. Entries still equal keep their listing order (LINQ `OrderBy` is stable):
/// own rooms by id, then connected ones in state-file order.
fn compare(s: &PortalState, order: &SavedOrder, x: Entry, y: Entry) -> Ordering {
    let c = |o: Ordering| if order.is_asc { o } else { o.reverse() };
    let by_title = || natural_cmp(x.title(), y.title());
    let type_name = |e: Entry| {
        rules::room_type(e.room_type())
            .map(|t| t.folder_type_name)
            .unwrap_or("")
    };
    match order.sorted_by.as_str() {
        "DateAndTime" => c(x.updated().cmp(&y.updated())).then_with(by_title),
        "DateAndTimeCreation" => c(x.created().cmp(&y.created())).then_with(by_title),
        "RoomType" => c(natural_cmp(type_name(x), type_name(y))).then_with(by_title),
        "Tags" => c(x.tags().len().cmp(&y.tags().len())).then_with(by_title),
        "Author" => c(x.author(s).cmp(&y.author(s))).then_with(by_title),
        // Size, Type, UsedSpace compare nothing between rooms here (no files, no counters).
        "Size" | "Type" | "UsedSpace" => by_title(),
        // New: by "is new" then modification date, all multiplied by the direction.
        "New" => c(x.updated().cmp(&y.updated())),
        _ => c(by_title()),
    }
}

pub async fn list(State(app): State<Shared>, uri: Uri) -> ApiResult {
    let params = Params::from_query(uri.query());
    let (start, count) = params.paging()?;
    let filter = RoomFilter::from_params(&params)?;
    if filter.area == super::templates::SEARCH_AREA_TEMPLATES {
        return app.read(|s| super::templates::listing(s, &params)).await;
    }
    let requested = requested_order(&params)?;
    if let Some(order) = &requested {
        let changed = app.read(|s| s.saved_order(s.key_user) != *order).await;
        if changed {
            let order = order.clone();
            app.write(|s| {
                s.room_sort.insert(s.key_user, order);
                Ok(())
            })
            .await?;
        }
    }
    app.read(|s| {
        let order = requested
            .clone()
            .unwrap_or_else(|| s.saved_order(s.key_user));
        let mut own: Vec<&Room> = s.rooms.iter().collect();
        own.sort_by_key(|r| r.id);
        // `FileSecurity.GetAllVirtualRoomsAsync`: own rooms first, then connected ones; the
        // sort and the paging run over both, and `total` counts both. A key user who is not a
        // DocSpace admin sees only their rooms (`room_access`).
        own.retain(|r| room_access::can_read_room(s, r));
        let mut entries: Vec<Entry> = own
            .into_iter()
            .map(Entry::Own)
            .chain(
                s.third_party_rooms
                    .iter()
                    .filter(|r| room_access::can_read_third_party(s, r))
                    .map(Entry::Connected),
            )
            .filter(|e| filter.keeps(e))
            .collect();
        entries.sort_by(|x, y| compare(s, &order, *x, *y));
        Ok(listing(s, &entries, start, count, filter.area))
    })
    .await
}

/// What a room listing asks for: the search area and the filters on title, type and tags.
struct RoomFilter {
    area: i64,
    filter: Option<String>,
    types: Vec<i64>,
    tags: Option<Vec<String>>,
    without_tags: bool,
}

impl RoomFilter {
    /// Reads the filters of a listing request; a malformed `type` or `tags` is a 400.
    fn from_params(params: &Params) -> ApiResult<RoomFilter> {
        let area = params.int("searchArea")?.unwrap_or(0);
        let filter = params.text("filterValue").map(str::to_lowercase);
        let mut types = Vec::new();
        for t in params.all("type") {
            types.push(parse_room_type(Some(&Value::String(t.to_string())))?);
        }
        let tags: Option<Vec<String>> = match params.text("tags") {
            None => None,
            // `tags` is a JSON-encoded array string
            // (docs/docspace-api.md, "Room listing and the key user's preferences").
            Some(raw) => Some(serde_json::from_str(raw).map_err(|_| {
                ApiError::validation("tags", format!("The value '{raw}' is not valid."))
            })?),
        };
        let without_tags = params.bool("withoutTags")?;
        Ok(RoomFilter {
            area,
            filter,
            types,
            tags,
            without_tags,
        })
    }

    /// Whether the listing shows this room.
    fn keeps(&self, e: &Entry) -> bool {
        let area_ok = match self.area {
            0 => !e.archived(),
            1 => e.archived(),
            2 => true,
            // Other areas (recent, templates, AI agents...) hold no rooms here.
            _ => false,
        };
        area_ok
            && self
                .filter
                .as_ref()
                .is_none_or(|f| e.title().to_lowercase().contains(f))
            && (self.types.is_empty() || self.types.contains(&e.room_type()))
            && self.tags.as_ref().is_none_or(|want| {
                want.iter()
                    .all(|t| e.tags().iter().any(|have| same_tag(have, t)))
            })
            && (!self.without_tags || e.tags().is_empty())
    }
}

/// The order a listing asks for, if any.
///
/// `VirtualRoomsCommonController.GetRoomsFolder` + `FileStorageService.GetFolderItemsAsync`:
/// a `sortBy` that parses as a `SortedByType` (ignoring case) is used with `sortOrder`
/// (0 ascending, the default; 1 descending) *and saved* as the caller's default order
/// (`FilesSettingsHelper.SetDefaultOrder`, which writes only when it differs). Without a
/// valid `sortBy`, the saved default applies as a whole: `sortOrder` alone is ignored.
fn requested_order(params: &Params) -> ApiResult<Option<SavedOrder>> {
    Ok(match params.text("sortBy").and_then(rules::room_sort) {
        Some(by) => Some(SavedOrder {
            sorted_by: by.to_string(),
            is_asc: params.int("sortOrder")?.unwrap_or(0) == 0,
        }),
        None => None,
    })
}

/// The answer of a listing: one page of the sorted rooms, in the section of `area`.
fn listing(s: &PortalState, entries: &[Entry], start: i64, count: i64, area: i64) -> Reply {
    let total = entries.len() as i64;
    let page: Vec<Value> = entries
        .iter()
        .skip(start as usize)
        .take(count as usize)
        .map(|e| e.render(s))
        .collect();
    let current = render::section(area == 1);
    let path_parts = json!([{ "id": current["id"], "title": current["title"] }]);
    // Paging lives inside `response`; the envelope count is 1 and has no total
    // (docs/docspace-api.md, "Response envelopes").
    Reply::new(json!({
        "files": [],
        "folders": page,
        "current": current,
        "pathParts": path_parts,
        "startIndex": start,
        "count": page.len(),
        "total": total,
        "new": 0,
    }))
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
    lifetime: Option<LifetimeRequest>,
    watermark: Option<WatermarkRequest>,
}

pub async fn update(State(app): State<Shared>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    // Unknown id on update is a 403, not a 404 (docs/docspace-api.md, "Updating rooms").
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
    let lifetime = req.lifetime.as_ref().map(check_lifetime).transpose()?;
    // `enabled: false` removes the watermark; otherwise the one sent replaces it.
    let watermark = match &req.watermark {
        None => None,
        Some(w) if w.enabled == Some(false) => Some(None),
        Some(w) => Some(Some(watermark(w)?)),
    };
    check_cover(req.cover.as_deref())?;
    app.write(|s| {
        let room = s
            .room_mut(id)
            .ok_or_else(|| ApiError::InvalidOperation(FOLDER_NOT_FOUND.to_string()))?;
        if room.archived {
            return Err(ApiError::InvalidOperation(NO_EDIT_PERMISSION.to_string()));
        }
        // Only fields present are applied; an empty/whitespace title means "no rename"
        // (docs/docspace-api.md, "Updating rooms").
        let ignored = room.ignore_settings.clone();
        let takes = |field: &str| !ignored.iter().any(|f| f == field);
        if let Some(title) = req.title.as_deref().filter(|t| !t.trim().is_empty())
            && takes("title")
        {
            room.title = stored_title(title);
        }
        if let Some(q) = quota.filter(|_| takes("quota")) {
            room.quota = q;
        }
        if let Some(v) = req.indexing.filter(|_| takes("indexing")) {
            room.indexing = v;
        }
        if let Some(v) = req.denydownload.filter(|_| takes("denyDownload")) {
            room.deny_download = v;
        }
        // Stored even while the room has an uploaded logo, which hides them
        // (`FileStorageService.UpdateRoomAsync` passes them to `UpdateFolderAsync` whatever
        // `SettingsHasLogo` says; `RoomLogoManager.GetLogoAsync` does not return them).
        if let Some(c) = req.color.as_ref().filter(|_| takes("color")) {
            room.color = c.clone();
        }
        if let Some(c) = req.cover.as_ref().filter(|_| takes("cover")) {
            // An empty cover clears it (`RoomLogoManager.CoverChanged`).
            room.cover = Some(c.clone()).filter(|c| !c.is_empty());
        }
        if let Some(l) = lifetime.as_ref().filter(|_| takes("lifetime")) {
            room.lifetime = l.clone();
        }
        if let Some(w) = watermark.as_ref().filter(|_| takes("watermark")) {
            room.watermark = w.clone();
        }
        room.updated = Utc::now();
        if let Some(tags) = req.tags.as_ref().filter(|_| takes("tags")) {
            // `tags` replaces the whole set (docs/docspace-api.md, "Updating rooms"), each name taking the portal's existing
            // spelling when one matches ignoring case (`FileStorageService.UpdateRoomAsync`).
            let tags = s.resolve_tags(&clean_tags(tags));
            if let Some(room) = s.room_mut(id) {
                room.tags = tags;
            }
        }
        let room = s.room(id).ok_or_else(not_found)?;
        Ok(Reply::new(render::room(s, room)))
    })
    .await
}

/// Starts an archive/unarchive/delete operation and returns its object
/// (docs/docspace-api.md, "Archive and unarchive", docs/docspace-api.md, "Deleting rooms",
/// docs/docspace-api.md, "Long-running operations").
async fn start_operation(app: Shared, raw_id: &str, action: OperationAction) -> ApiResult {
    let id = room_id(raw_id)?;
    let faults = &app.faults;
    let op = app
        .write(|s| {
            let room = s.room(id).ok_or_else(not_found)?;
            let fails_with = match action {
                OperationAction::Archive | OperationAction::Unarchive
                    if room.fail_archive || faults.fails_archive(room.id, &room.title) =>
                {
                    Some(if action == OperationAction::Archive {
                        ARCHIVE_REFUSED
                    } else {
                        UNARCHIVE_REFUSED
                    })
                }
                _ => None,
            }
            .map(str::to_string);
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
                fails_with,
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

/// Permanent delete; active rooms can be deleted directly (unconfirmed, docs/docspace-api.md, "Deleting rooms").
///
/// `VirtualRoomsController.DeleteRoom` answers with the *first* of the caller's delete
/// operations (`GetOperationResults()` without an id), not necessarily the one it started, and
/// that read dequeues every finished delete operation it reports. Emulated: the answer is the
/// oldest delete operation still queued (usually this one).
pub async fn delete(State(app): State<Shared>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let _: Value = parse_body(&body)?;
    start_operation(app.clone(), &id, OperationAction::Delete).await?;
    let listed = report_operations(&app, None, Some(2)).await?;
    let first = listed
        .response
        .as_array()
        .and_then(|ops| ops.first().cloned())
        .unwrap_or(Value::Null);
    Ok(Reply::new(first))
}

/// `GET /files/fileops[?id=]`: the caller's operations (`OperationController`,
/// `FileOperationsManagerHolder.GetOperationResults`). Move operations (archive, unarchive)
/// come before delete operations (the server asks its managers in that order), each oldest
/// first. A finished operation is reported once and then dropped from the queue: the server
/// dequeues every finished task it reports, so a second poll no longer sees it. Polling without
/// `id` therefore consumes the outcome of every finished operation of the caller.
pub async fn fileops(State(app): State<Shared>, uri: Uri) -> ApiResult {
    let params = Params::from_query(uri.query());
    let wanted = params.text("id").map(str::to_string);
    report_operations(&app, wanted, None).await
}

/// `GET /files/fileops/{operationType}`: the same, for one `FileOperationType` (a name,
/// ignoring case, or its number). Types the server has no manager for (Import, Convert) are an
/// argument error.
pub async fn fileops_by_type(
    State(app): State<Shared>,
    Path(kind): Path<String>,
    uri: Uri,
) -> ApiResult {
    const TYPES: [&str; 8] = [
        "Move",
        "Copy",
        "Delete",
        "Download",
        "MarkAsRead",
        "Import",
        "Convert",
        "Duplicate",
    ];
    let number = TYPES
        .iter()
        .position(|t| t.eq_ignore_ascii_case(kind.trim()))
        .map(|i| i as i64)
        .or_else(|| kind.trim().parse::<i64>().ok())
        .filter(|n| (0..TYPES.len() as i64).contains(n))
        .ok_or_else(|| {
            ApiError::validation("operationType", format!("The value '{kind}' is not valid."))
        })?;
    if matches!(number, 5 | 6) {
        return Err(ApiError::Argument(
            "Specified argument was out of the range of valid values.".to_string(),
        ));
    }
    let params = Params::from_query(uri.query());
    let wanted = params.text("id").map(str::to_string);
    report_operations(&app, wanted, Some(number)).await
}

async fn report_operations(app: &Shared, wanted: Option<String>, kind: Option<i64>) -> ApiResult {
    let matches = |o: &Operation| {
        wanted.as_ref().is_none_or(|w| o.id.to_string() == *w) && kind.is_none_or(|k| o.kind == k)
    };
    let list = |s: &PortalState| -> Value {
        let mut ops: Vec<&Operation> = s.operations.iter().filter(|o| matches(o)).collect();
        // Move (0) before Delete (2); the sort is stable, so each keeps its creation order.
        ops.sort_by_key(|o| o.kind != 0);
        Value::Array(ops.iter().map(|o| render::operation(o)).collect())
    };
    // Only a read that reports a finished operation changes the queue (and the state file).
    let dequeues = app
        .read(|s| s.operations.iter().any(|o| o.finished && matches(o)))
        .await;
    if !dequeues {
        return app.read(|s| Ok(Reply::new(list(s)))).await;
    }
    app.write(|s| {
        let out = list(s);
        s.operations.retain(|o| !(o.finished && matches(o)));
        Ok(Reply::new(out))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
struct TagNames {
    names: Option<Vec<String>>,
}

/// Shared part of the tag routes: the room must exist and not be archived (docs/docspace-api.md, "Tags").
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
        editable_room(s, id)?;
        // Existing spellings win (`CustomTagsService.AddRoomTagsAsync`).
        let names = s.resolve_tags(&names);
        let room = editable_room(s, id)?;
        // Stored order does not matter: rendering orders by the portal tag id.
        for name in &names {
            if !room.tags.iter().any(|t| same_tag(t, name)) {
                room.tags.insert(0, name.clone());
            }
        }
        room.updated = Utc::now();
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
        // The tag lookup is a database comparison, so removal ignores case too.
        room.tags.retain(|t| !names.iter().any(|n| same_tag(t, n)));
        room.updated = Utc::now();
        let room = s.room(id).ok_or_else(not_found)?;
        Ok(Reply::new(render::room(s, room)))
    })
    .await
}

/// `DELETE /files/tags`: deletes custom tags portal-wide, from every room too
/// (`VirtualRoomsController.DeleteCustomTags` -> `CustomTagsService.DeleteTagsAsync`, which
/// allows DocSpace admins only). Names compare ignoring case, like every tag lookup. Answers
/// with no payload.
pub async fn delete_tags(State(app): State<Shared>, body: Bytes) -> ApiResult {
    let req: TagNames = parse_body(&body)?;
    let names = clean_tags(req.names.as_deref().unwrap_or(&[]));
    app.write(|s| {
        let admin = s
            .user(s.key_user)
            .is_some_and(|u| u.is_owner || u.user_type == super::rules::UserType::DocSpaceAdmin);
        if !admin {
            return Err(ApiError::Security);
        }
        s.tags.retain(|t| !names.iter().any(|n| same_tag(t, n)));
        for room in &mut s.rooms {
            room.tags.retain(|t| !names.iter().any(|n| same_tag(t, n)));
        }
        Ok(Reply::new(Value::Null))
    })
    .await
}

/// `GET /files/tags`: portal-wide tag names (docs/docspace-api.md, "Tags"), newest first (`TagDao.GetTagsInfoAsync`
/// orders by id descending).
pub async fn list_tags(State(app): State<Shared>, uri: Uri) -> ApiResult {
    let params = Params::from_query(uri.query());
    let (start, count) = params.paging()?;
    let filter = params.text("filterValue").map(str::to_lowercase);
    app.read(|s| {
        let names: Vec<Value> = s
            .tags
            .iter()
            .rev()
            .filter(|t| filter.as_ref().is_none_or(|f| t.to_lowercase().contains(f)))
            .skip(start as usize)
            .take(count as usize)
            .map(|t| Value::String(t.clone()))
            .collect();
        Ok(Reply::new(Value::Array(names)))
    })
    .await
}
