//! Room templates and rooms made from them (docs/docspace-api.md, "Room templates"), written
//! from the server source:
//!
//! - Templates are rooms in the templates section, listed only by `GET /files/rooms` with
//!   `searchArea=4` (`SearchArea.Templates`; `VirtualRoomsCommonController.GetRoomsFolder`,
//!   `FileSecurity.GetVirtualRoomsAsync`): the other areas never show them.
//! - `POST /files/rooms/fromTemplate` starts a background job (`RoomTemplatesWorker.StartCreateRoomAsync`)
//!   and answers the status of the portal's job (`VirtualRoomsController.CreateRoomFromTemplate`).
//!   One job per portal, across users: a start while a job runs creates nothing and answers that
//!   job's status; a finished job is replaced by the next start and stays visible until then.
//! - `GET /files/rooms/fromTemplate/status`: `{roomId, progress, error, isCompleted}` of that one
//!   job, or `null` when the portal never ran one (`RoomFromTemplateStatusDto`). Nothing in it
//!   names the job, the template, the title or the user.
//! - The job (`CreateRoomFromTemplateOperation.DoJob`) creates the room first (its `roomId` is
//!   known from then on), with the template's room type, quota, indexing, download and
//!   private settings unless the request gives them, and the request's tags, colour, cover,
//!   lifetime and watermark (and a public or form-filling room's primary link, as any create);
//!   then it copies the template's folders. A template that is not one, or that the caller may
//!   not read, ends the job with an error and no room. A failure after the room exists deletes
//!   the room. Members are not copied.
//! - `GET /files/{folderId}` lists a folder's content (`FoldersController.GetFolderByFolderId`):
//!   here a room's folders (the copied skeleton).
//!
//! Sandbox switches (state file): `templates` (the portal's templates), `template_job` (a job
//! already running, e.g. started by another user: [`PortalState::start_outside_template_job`]),
//! `template_start_timeouts` (the next starts are accepted, then answered 504),
//! `template_start_lost` (the next starts never reach the server, answered 504),
//! `template_status_nulls` (the next status reads answer `null`), a template's
//! `keeps_room_on_failure` (its failing job leaves the room),
//! `outside_job_before_next_start` (another user's job begins just before the next start).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::Shared;
use super::envelope::{ApiError, ApiResult, FOLDER_NOT_FOUND, Params, Reply, parse_body};
use super::render;
use super::rules::stored_title;
use super::state::{PortalState, Room};

/// Id of the templates section folder (`GlobalFolder.GetFolderRoomTemplatesAsync`). A guess,
/// like the other section ids.
pub const TEMPLATES_FOLDER_ID: i64 = 3;
/// `FolderType.RoomTemplates` (`Folder.cs`): the `rootFolderType` of a template.
const ROOT_FOLDER_TYPE_TEMPLATES: i64 = 30;
/// `SearchArea.Templates` (`SearchArea.cs`: Active 0, Archive 1, Any 2, RecentByLinks 3, Templates 4).
pub const SEARCH_AREA_TEMPLATES: i64 = 4;
/// `ErrorMessage_SecurityException_ViewFolder`: the job's error for a template id that is not
/// a template (`FileStorageService.CreateRoomFromTemplateAsync`).
const NOT_A_TEMPLATE: &str = "You don't have enough permission to view the folder content";

/// A room template: a room kept in the templates section.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Template {
    pub id: i64,
    pub title: String,
    /// `RoomType` wire value of the rooms made from it.
    pub room_type: i64,
    /// Titles of its top-level folders, copied into each room made from it.
    #[serde(default)]
    pub folders: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<i64>,
    /// Fault injection: the job copying this template fails with this error after the room
    /// was created (the room is then deleted, as on the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fails_with: Option<String>,
    /// Fault injection, with `fails_with`: the room is left in place (the delete in the
    /// job's catch failed too), so the job reports an error and a `roomId` that exists.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keeps_room_on_failure: bool,
}

/// A folder inside a room (the sandbox only knows folders one level down).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubFolder {
    pub id: i64,
    pub title: String,
}

/// The portal's one create-from-template job (`CreateRoomFromTemplateOperation`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TemplateJob {
    pub id: Uuid,
    /// Who started it (any user: the job is the portal's, not the caller's).
    pub user: Uuid,
    pub template_id: i64,
    pub title: String,
    /// `-1` until the room exists.
    pub room_id: i64,
    pub progress: f64,
    pub error: String,
    pub completed: bool,
    /// Sandbox switch for jobs started outside the tool: the job finishes after this many
    /// status reads instead of after the operation delay (so a test decides, without clocks,
    /// how long it runs). `None`: finishes after `--operation-delay-ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_after_status_reads: Option<u32>,
}

impl PortalState {
    /// Adds a template with these folders; returns its id (ids are shared with rooms and
    /// folders, as on the server).
    pub fn add_template(&mut self, title: &str, room_type: i64, folders: &[&str]) -> i64 {
        let id = self.next_room_id;
        self.next_room_id += 1;
        self.templates.push(Template {
            id,
            title: stored_title(title),
            room_type,
            folders: folders.iter().map(|f| f.to_string()).collect(),
            tags: Vec::new(),
            cover: None,
            quota: None,
            fails_with: None,
            keeps_room_on_failure: false,
        });
        id
    }

    /// Starts a job as `user` (someone other than the tool), still running when the sandbox
    /// starts: it finishes after `status_reads` reads of the status. Its room exists at once,
    /// as on the server. Returns the room id.
    pub fn start_outside_template_job(
        &mut self,
        user: Uuid,
        template_id: i64,
        title: &str,
        status_reads: u32,
    ) -> i64 {
        let mut job = new_job(user, template_id, title);
        job.finish_after_status_reads = Some(status_reads);
        let room_id = begin_job(self, &mut job, &Start::default());
        self.template_job = Some(job);
        room_id
    }
}

fn new_job(user: Uuid, template_id: i64, title: &str) -> TemplateJob {
    TemplateJob {
        id: Uuid::new_v4(),
        user,
        template_id,
        title: title.to_string(),
        room_id: -1,
        progress: 0.0,
        error: String::new(),
        completed: false,
        finish_after_status_reads: None,
    }
}

/// Sandbox switch: a job another user starts a moment before the tool's next start (the race
/// between a client's status check and its start), so that start is refused and answered
/// with that job's status.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutsideJob {
    pub user: Uuid,
    pub template_id: i64,
    pub title: String,
    /// The job finishes after this many status reads.
    pub status_reads: u32,
}

/// `CreateRoomFromTemplateDto` (the logo is not emulated).
#[derive(Debug, Default, Deserialize)]
struct Start {
    lifetime: Option<super::rooms::LifetimeRequest>,
    watermark: Option<super::rooms::WatermarkRequest>,
    templateid: Option<i64>,
    title: Option<String>,
    tags: Option<Vec<String>>,
    color: Option<String>,
    cover: Option<String>,
    quota: Option<i64>,
    indexing: Option<bool>,
    denydownload: Option<bool>,
    private: Option<bool>,
}

/// The job's first step: the room, made from the template (`CreateRoomFromTemplateAsync`).
/// A template id that is not a template ends the job with the server's error. Returns the
/// room id (`-1` when none was made).
fn begin_job(s: &mut PortalState, job: &mut TemplateJob, req: &Start) -> i64 {
    let Some(template) = s
        .templates
        .iter()
        .find(|t| t.id == job.template_id)
        .cloned()
    else {
        job.error = NOT_A_TEMPLATE.to_string();
        job.completed = true;
        return -1;
    };
    let id = s.next_room_id;
    s.next_room_id += 1;
    let tags = s.resolve_tags(req.tags.as_deref().unwrap_or(&[]));
    let now = Utc::now();
    s.rooms.push(Room {
        id,
        title: stored_title(&job.title),
        room_type: template.room_type,
        archived: false,
        tags,
        deny_download: req.denydownload.unwrap_or(false),
        private: req.private.unwrap_or(false),
        indexing: req.indexing.unwrap_or(false),
        color: req.color.clone().unwrap_or_else(|| "6D4AF2".to_string()),
        cover: req.cover.clone().filter(|c| !c.is_empty()),
        quota: req.quota.or(template.quota),
        created_by: job.user,
        created: now,
        updated: now,
        shares: Vec::new(),
        fail_archive: false,
        logo_uploaded: false,
        ignore_settings: Vec::new(),
        // Public and form-filling rooms are born with their primary external link: the job
        // goes through the same `CreateRoomAsync` as a plain create, whose parent here is
        // the rooms folder, not the templates one.
        links: if matches!(template.room_type, 6 | 1) {
            vec![super::links::default_primary_link(template.room_type)]
        } else {
            Vec::new()
        },
        // The request's lifetime and watermark, as a plain create stores them (checked by
        // `start` before the job began: model validation).
        lifetime: req
            .lifetime
            .as_ref()
            .and_then(|l| super::rooms::check_lifetime(l).ok().flatten()),
        watermark: req
            .watermark
            .as_ref()
            .and_then(|w| super::rooms::watermark(w).ok()),
        folders: Vec::new(),
    });
    job.room_id = id;
    id
}

/// The job's end: the template's folders copied into the room, or, for a template that fails,
/// the error and the room deleted (`DoJob`'s catch).
fn finish_job(s: &mut PortalState) {
    let Some(mut job) = s.template_job.take() else {
        return;
    };
    if !job.completed {
        let template = s
            .templates
            .iter()
            .find(|t| t.id == job.template_id)
            .cloned();
        match template {
            Some(t) if t.fails_with.is_some() => {
                job.error = t.fails_with.unwrap_or_default();
                if !t.keeps_room_on_failure {
                    s.rooms.retain(|r| r.id != job.room_id);
                }
            }
            Some(t) => {
                let mut next = s.next_room_id;
                if let Some(room) = s.rooms.iter_mut().find(|r| r.id == job.room_id) {
                    for title in &t.folders {
                        room.folders.push(SubFolder {
                            id: next,
                            title: title.clone(),
                        });
                        next += 1;
                    }
                }
                s.next_room_id = next;
                job.progress = 100.0;
            }
            None => job.error = NOT_A_TEMPLATE.to_string(),
        }
        job.completed = true;
    }
    s.template_job = Some(job);
}

/// `RoomFromTemplateStatusDto`, or `null` when the portal has no job.
fn status_value(job: Option<&TemplateJob>) -> Value {
    match job {
        None => Value::Null,
        Some(j) => json!({
            "roomId": j.room_id,
            "progress": j.progress,
            "error": j.error,
            "isCompleted": j.completed,
        }),
    }
}

/// Marks a response whose write was committed and whose answer must become a gateway
/// timeout (`template_start_timeouts`); `faults::inject` draws it.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutAfterCommit;

/// `POST /files/rooms/fromTemplate`.
pub async fn start(State(app): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let req: Start = parse_body(&body)?;
    let (Some(template_id), Some(title)) = (req.templateid, req.title.clone()) else {
        return Err(ApiError::validation(
            "TemplateId",
            "The TemplateId and Title fields are required.",
        ));
    };
    // Model validation of the lifetime and watermark DTOs, before anything starts.
    if let Some(l) = &req.lifetime {
        super::rooms::check_lifetime(l)?;
    }
    if let Some(w) = &req.watermark {
        super::rooms::watermark(w)?;
    }
    let (status, started, timeout) = app
        .write(|s| {
            if s.template_start_lost > 0 {
                s.template_start_lost -= 1;
                return Ok((Value::Null, None, true));
            }
            if let Some(o) = s.outside_job_before_next_start.take() {
                s.start_outside_template_job(o.user, o.template_id, &o.title, o.status_reads);
            }
            let running = s.template_job.as_ref().is_some_and(|j| !j.completed);
            let mut started = None;
            if !running {
                let mut job = new_job(s.key_user, template_id, &title);
                begin_job(s, &mut job, &req);
                started = (!job.completed).then_some(job.id);
                s.template_job = Some(job);
            }
            let timeout = !running && s.template_start_timeouts > 0;
            if timeout {
                s.template_start_timeouts -= 1;
            }
            Ok((status_value(s.template_job.as_ref()), started, timeout))
        })
        .await?;
    if let Some(id) = started {
        finish_template_job_later(&app, id);
    }
    let mut response = Reply::new(status).into_response();
    if timeout {
        response.extensions_mut().insert(TimeoutAfterCommit);
    }
    Ok(response)
}

/// Finishes the job `id` after the operation delay, if it is still the portal's job.
pub(crate) fn finish_template_job_later(app: &Shared, id: Uuid) {
    let app = std::sync::Arc::clone(app);
    tokio::spawn(async move {
        tokio::time::sleep(app.operation_delay).await;
        let _ = app
            .write(|s| {
                if s.template_job.as_ref().is_some_and(|j| j.id == id) {
                    finish_job(s);
                }
                Ok(())
            })
            .await;
    });
}

/// At start: a job left running in the state file finishes after the delay, unless it
/// counts status reads.
pub(crate) fn resume(app: &Shared, state: &PortalState) {
    if let Some(job) = &state.template_job
        && !job.completed
        && job.finish_after_status_reads.is_none()
    {
        finish_template_job_later(app, job.id);
    }
}

/// `GET /files/rooms/fromTemplate/status`.
pub async fn status(State(app): State<Shared>) -> ApiResult {
    if app.read(|s| s.template_status_nulls > 0).await {
        app.write(|s| {
            s.template_status_nulls = s.template_status_nulls.saturating_sub(1);
            Ok(())
        })
        .await?;
        return Ok(Reply::new(Value::Null));
    }
    let counts = app
        .read(|s| {
            s.template_job
                .as_ref()
                .is_some_and(|j| !j.completed && j.finish_after_status_reads.is_some())
        })
        .await;
    if counts {
        app.write(|s| {
            if let Some(job) = s.template_job.as_mut()
                && let Some(n) = job.finish_after_status_reads.as_mut()
            {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    finish_job(s);
                }
            }
            Ok(())
        })
        .await?;
    }
    app.read(|s| Ok(Reply::new(status_value(s.template_job.as_ref()))))
        .await
}

/// `GET /files/rooms?searchArea=4`: the templates, paged like rooms.
pub fn listing(s: &PortalState, params: &Params) -> ApiResult<Reply> {
    let (start, count) = params.paging()?;
    let filter = params.text("filterValue").map(str::to_lowercase);
    let kept: Vec<&Template> = s
        .templates
        .iter()
        .filter(|t| {
            filter
                .as_ref()
                .is_none_or(|f| t.title.to_lowercase().contains(f))
        })
        .collect();
    let page: Vec<Value> = kept
        .iter()
        .skip(start as usize)
        .take(count as usize)
        .map(|t| template_value(s, t))
        .collect();
    let current = json!({ "id": TEMPLATES_FOLDER_ID, "title": "Templates",
        "rootFolderType": ROOT_FOLDER_TYPE_TEMPLATES, "fileEntryType": 1 });
    Ok(Reply::new(json!({
        "files": [],
        "folders": page,
        "current": current,
        "pathParts": [{ "id": TEMPLATES_FOLDER_ID, "title": "Templates" }],
        "startIndex": start,
        "count": page.len(),
        "total": kept.len(),
        "new": 0,
    })))
}

/// A template as `GET /files/rooms/{id}` shows it (`GetRoomInfo` reads any folder), if `id`
/// is one.
pub(super) fn template_by_id(s: &PortalState, id: i64) -> Option<Value> {
    let t = s.templates.iter().find(|t| t.id == id)?;
    Some(template_value(s, t))
}

fn template_value(s: &PortalState, t: &Template) -> Value {
    let owner = s.user(s.key_user).map(render::user_short);
    json!({
        "id": t.id,
        "title": t.title,
        "roomType": t.room_type,
        "rootFolderType": ROOT_FOLDER_TYPE_TEMPLATES,
        "parentId": TEMPLATES_FOLDER_ID,
        "rootFolderId": TEMPLATES_FOLDER_ID,
        "fileEntryType": 1,
        "tags": t.tags,
        "foldersCount": t.folders.len(),
        "filesCount": 0,
        "createdBy": owner,
        "isTemplate": true,
    })
}

/// A template's content: its folders (ids are not kept for them: the template's id plus
/// their position, a guess that only needs to be stable).
fn template_content(s: &PortalState, t: &Template) -> Value {
    let folders: Vec<Value> = t
        .folders
        .iter()
        .enumerate()
        .map(|(n, title)| {
            json!({ "id": 900_000_000 + t.id * 100 + n as i64, "title": title,
            "parentId": t.id, "rootFolderType": ROOT_FOLDER_TYPE_TEMPLATES, "fileEntryType": 1 })
        })
        .collect();
    json!({
        "files": [],
        "folders": folders,
        "current": template_value(s, t),
        "pathParts": [{ "id": t.id, "title": t.title }],
        "startIndex": 0,
        "count": folders.len(),
        "total": folders.len(),
        "new": 0,
    })
}

/// `GET /files/{folderId}`: a room's folders (the sandbox keeps no files).
pub async fn folder_content(State(app): State<Shared>, Path(raw): Path<String>) -> ApiResult {
    let id: i64 = raw
        .parse()
        .map_err(|_| ApiError::NotFound(FOLDER_NOT_FOUND.to_string()))?;
    app.read(|s| {
        if let Some(t) = s.templates.iter().find(|t| t.id == id) {
            return Ok(Reply::new(template_content(s, t)));
        }
        let room = s
            .rooms
            .iter()
            .find(|r| r.id == id)
            .ok_or_else(|| ApiError::NotFound(FOLDER_NOT_FOUND.to_string()))?;
        let folders: Vec<Value> = room
            .folders
            .iter()
            .map(|f| {
                json!({ "id": f.id, "title": f.title, "parentId": room.id,
                "rootFolderType": render::root_folder_type(room), "fileEntryType": 1 })
            })
            .collect();
        Ok(Reply::new(json!({
            "files": [],
            "folders": folders,
            "current": render::room(s, room),
            "pathParts": [{ "id": room.id, "title": room.title }],
            "startIndex": 0,
            "count": folders.len(),
            "total": folders.len(),
            "new": 0,
        })))
    })
    .await
}
