//! Background operations of [`Client`] on rooms: archive and unarchive, deletion, and the
//! waits that confirm them (the room's state, and the file operation the server started).

use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use super::client::{Call, Client};
use super::error::{ApiError, ErrorKind};
use super::policy::CallClass;
use super::wire::{FileOperationDto, ROOT_FOLDER_ARCHIVE, ROOT_FOLDER_ROOMS, RoomDto};

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
}
