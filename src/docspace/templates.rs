//! Room templates on [`Client`] (docs/docspace-api.md, "Room templates"): the templates
//! listing (`searchArea` Templates), the one create-from-template job of the portal and its
//! status, and a folder's subfolders (to see what a job copied).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use std::time::Instant;

use super::DocSpaceApi;
use super::client::{Call, Client};
use super::error::ApiError;
use super::policy::CallClass;
use super::rooms::SearchArea;
use super::wire::{RoomCreateSettings, RoomDto};
use crate::model::template::{
    TEMPLATE_JOB_TIMEOUT, TEMPLATE_NULL_READS, TEMPLATE_POLL_FIRST, TEMPLATE_POLL_MAX,
};

/// Body of `POST /files/rooms/fromTemplate` (`CreateRoomFromTemplateDto`): the template, the
/// title, then the same settings as a plain create (omitted: the template's).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FromTemplateRequest {
    pub template_id: i64,
    pub title: String,
    #[serde(flatten)]
    pub settings: RoomCreateSettings,
}

/// `RoomFromTemplateStatusDto`: the portal's one job, whoever started it. Nothing in it
/// names the job, the template or the title.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateJobStatus {
    /// `-1` until the job has made the room.
    #[serde(default = "no_room")]
    pub room_id: i64,
    #[serde(default)]
    pub progress: f64,
    /// Empty, or the message of the job's failure.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub is_completed: bool,
}

fn no_room() -> i64 {
    -1
}

impl TemplateJobStatus {
    /// The job's failure message, if it failed.
    pub fn failure(&self) -> Option<&str> {
        self.error.as_deref().filter(|e| !e.trim().is_empty())
    }

    /// The room the job made, if it made one.
    pub fn room(&self) -> Option<i64> {
        (self.room_id > 0).then_some(self.room_id)
    }
}

/// `GET /files/{id}`: a folder's content (only what the tool reads).
#[derive(Debug, Clone, Default, Deserialize)]
struct FolderContent {
    #[serde(default)]
    folders: Vec<RoomDto>,
}

impl Client {
    /// The portal's room templates: the room listing of the templates area, which the
    /// normal listing never includes.
    pub async fn list_templates(&self) -> Result<Vec<RoomDto>, ApiError> {
        let listing = self.list_rooms(SearchArea::Templates, None).await?;
        Ok(listing.require_complete()?.rooms)
    }

    /// Starts a create-from-template job. Not idempotent; the answer is the status of the
    /// portal's job, which may be another caller's (`None`: the server answered `null`).
    pub async fn start_room_from_template(
        &self,
        request: &FromTemplateRequest,
    ) -> Result<Option<TemplateJobStatus>, ApiError> {
        let call = Call::new(
            Method::POST,
            "/api/2.0/files/rooms/fromTemplate",
            CallClass::Create,
        )
        .json(request)?;
        Ok(self.fetch_envelope(call).await?.response)
    }

    /// The status of the portal's create-from-template job; `None` when it never ran one.
    pub async fn template_job_status(&self) -> Result<Option<TemplateJobStatus>, ApiError> {
        let call = Call::new(
            Method::GET,
            "/api/2.0/files/rooms/fromTemplate/status",
            CallClass::Read,
        );
        Ok(self.fetch_envelope(call).await?.response)
    }

    /// The titles of a room's (or folder's) subfolders, first page (`GET /files/{id}`).
    pub async fn folder_titles(&self, id: i64) -> Result<Vec<String>, ApiError> {
        let call = Call::new(Method::GET, format!("/api/2.0/files/{id}"), CallClass::Read);
        let content: FolderContent = self.fetch(call).await?;
        Ok(content.folders.into_iter().map(|f| f.title).collect())
    }
}

/// Polls the portal's job status until no job runs (bounded backoff, at most
/// [`TEMPLATE_JOB_TIMEOUT`]): `Ok(Some(last status))`, `Ok(None)` when the portal shows no job,
/// `Err(None)` when a job still runs at the deadline, `Err(Some(e))` when the status could not
/// be read. Not cut short by Ctrl-C: a started job runs on regardless, and the room it makes
/// must be known.
///
/// `after_start`: the caller has just started a job, so a `null` status cannot mean "no job"
/// (the server answers `null` also when reading the job fails, docs/docspace-api.md, "Room
/// templates"): it is read again, at most [`TEMPLATE_NULL_READS`] times, before `Ok(None)`.
pub async fn wait_until_idle<A: DocSpaceApi>(
    api: &A,
    after_start: bool,
) -> Result<Option<TemplateJobStatus>, Option<ApiError>> {
    let started = Instant::now();
    let mut pause = TEMPLATE_POLL_FIRST;
    let mut nulls = 0;
    loop {
        let status = api.template_job_status().await.map_err(Some)?;
        match &status {
            Some(s) if s.is_completed => return Ok(status),
            None if !after_start => return Ok(None),
            None => {
                nulls += 1;
                if nulls >= TEMPLATE_NULL_READS {
                    return Ok(None);
                }
            }
            Some(_) => {}
        }
        if started.elapsed() >= TEMPLATE_JOB_TIMEOUT {
            return Err(None);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(TEMPLATE_POLL_MAX);
    }
}
