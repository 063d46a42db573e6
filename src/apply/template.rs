//! Creating a room from a template (docs/docspace-api.md, "Room templates"). The server runs
//! one create-from-template job per portal, across all users, and its status names neither
//! the job nor the title: a start while any job runs creates nothing and answers that job's
//! status. So the tool
//!
//! - runs its template jobs one at a time ([`JOBS`], one lock across the rooms that
//!   otherwise run in parallel; a run talks to one portal);
//! - waits for any running job (someone else's, or an earlier run's) before it starts one,
//!   and takes the room the portal's last job made when it is ours: an earlier run's job may
//!   have made it since the plan;
//! - after the start, waits for the portal's job to end and accepts its `roomId` only when
//!   that room carries the requested title and type and did not exist before the run;
//! - otherwise reconciles by title (as for any create, docs/docspace-api.md, "Retries and
//!   idempotency"): never a blind second start. A second start happens only when the start
//!   provably did not run: it was refused for another caller's job (the status names that
//!   job's room, not ours, and no error) or it failed in a way that provably finished
//!   (`create::provably_finished`), at most [`TEMPLATE_START_ATTEMPTS`] times. A start whose
//!   answer was lost (a timeout, a gateway's 504) or a status that shows no job at all fails
//!   the item when no room of ours is found: the next run reconciles by title.
//! - a job that ended with an error but left our room (the server's delete failed) gives the
//!   room, with the job's error as the item's: its content may be incomplete.

use crate::docspace::templates::wait_until_idle;
use crate::docspace::{
    ApiError, DocSpaceApi, FromTemplateRequest, RoomDto, SearchArea, TemplateJobStatus,
};
use crate::model::template::{TEMPLATE_JOB_TIMEOUT, TEMPLATE_START_ATTEMPTS};
use crate::plan::{PlannedTemplate, RoomPlan, RoomSettings};
use crate::report::EntryError;
use std::collections::HashSet;

/// One template job at a time from this process (docs/docspace-api.md, "Room templates").
static JOBS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Creates `room` from `template`; with the new id comes the error of settings the room does
/// not show (the portal ignored them), if any.
pub(super) async fn create<A: DocSpaceApi>(
    api: &A,
    room: &RoomPlan,
    settings: &RoomSettings,
    template: &PlannedTemplate,
    known_room_ids: &HashSet<i64>,
) -> Result<(i64, Option<EntryError>), EntryError> {
    let _turn = JOBS.lock().await;
    let title = settings.title.clone().unwrap_or_else(|| room.title.clone());
    let request = request(template, &title, settings);
    let new = NewRoom {
        title: &title,
        room_type: room.room_type.wire(),
        known: known_room_ids,
    };
    for _ in 0..TEMPLATE_START_ATTEMPTS {
        // The portal's last job may be an earlier run's, which made our room after the plan.
        let before = wait_idle(api, false).await?;
        if let Some(r) = new.named_by(api, before.as_ref()).await? {
            tracing::info!("room `{title}` exists already (id {}): adopting it", r.id);
            return Ok(new.taken(&r, before.as_ref(), settings));
        }
        let lost = match api.start_room_from_template(&request).await {
            Ok(_) => None,
            Err(e) if e.is_ambiguous() => Some(e),
            Err(e) => return Err(super::api_err(&e)),
        };
        let last = wait_idle(api, true).await?;
        if let Some(r) = new.named_by(api, last.as_ref()).await? {
            return Ok(new.taken(&r, last.as_ref(), settings));
        }
        // The status was not our job's (or the start's answer was lost): the title decides.
        if let Some(id) = new.find(api).await? {
            return Ok((id, checked(api, id, settings).await));
        }
        if let Some(failure) = last.as_ref().and_then(TemplateJobStatus::failure) {
            return Err(EntryError::new(
                None,
                format!(
                    "the portal's template job ended with an error and no room `{title}` exists: {failure}"
                ),
            ));
        }
        not_again(lost.as_ref(), before.as_ref(), last.as_ref(), &title)?;
    }
    Err(EntryError::new(
        None,
        format!(
            "the portal kept running other template jobs: room `{title}` was not created after {TEMPLATE_START_ATTEMPTS} starts; run apply again"
        ),
    ))
}

/// When no room of ours exists after a start and the job ended without an error: `Ok` when
/// the start provably did not run, so starting again is safe: it was refused for another
/// caller's job (the status names that job's room, which is not the room the status named
/// before our start: the same status again may be a stale read that says nothing about our
/// job), or its failure provably finished on the server (see
/// [`super::create::provably_finished`]). Otherwise the start may still reach the
/// server (a gateway gave up on it, or the status could not show a job at all), and a second
/// start could make a second room: never sent blindly (docs/docspace-api.md, "Retries and
/// idempotency").
fn not_again(
    lost: Option<&ApiError>,
    before: Option<&TemplateJobStatus>,
    last: Option<&TemplateJobStatus>,
    title: &str,
) -> Result<(), EntryError> {
    let other = last
        .and_then(TemplateJobStatus::room)
        .filter(|id| before.and_then(TemplateJobStatus::room) != Some(*id));
    match lost {
        Some(e) if super::create::provably_finished(e) => Ok(()),
        Some(e) => Err(EntryError::new(
            e.http_status(),
            format!(
                "the start of the template job got no answer ({e}) and no room `{title}` exists after the portal's job ended; the start may still reach the server, so it is not sent again: run plan to see, then apply again"
            ),
        )),
        None if other.is_some() => {
            tracing::info!(
                "room `{title}`: the portal ran another caller's template job instead of ours; starting again"
            );
            Ok(())
        }
        None => Err(EntryError::new(
            None,
            format!(
                "the portal's template job status showed no room and no error after the start, and no room `{title}` exists: whether the start was taken could not be confirmed, so it is not sent again; run plan to see, then apply again"
            ),
        )),
    }
}

/// The body of the start: the title and the settings the plan sends with a create.
fn request(template: &PlannedTemplate, title: &str, s: &RoomSettings) -> FromTemplateRequest {
    FromTemplateRequest {
        template_id: template.id,
        title: title.to_string(),
        settings: super::create_settings(s),
    }
}

/// The settings the room shows, read back (an adopted room's answer was lost).
async fn checked<A: DocSpaceApi>(api: &A, id: i64, s: &RoomSettings) -> Option<EntryError> {
    match api.get_room(id).await {
        Ok(r) => super::ignored(s, &r, "create from the template"),
        Err(e) => Some(EntryError::new(
            e.http_status(),
            format!(
                "the room was created from the template (id {id}) but could not be read back: {e}"
            ),
        )),
    }
}

/// The room a template job of ours would make.
struct NewRoom<'a> {
    title: &'a str,
    room_type: i64,
    /// Rooms that existed before the run: never ours.
    known: &'a HashSet<i64>,
}

impl NewRoom<'_> {
    fn is(&self, id: i64, title: &str, room_type: Option<i64>) -> bool {
        crate::model::title_matches(title, self.title)
            && room_type == Some(self.room_type)
            && !self.known.contains(&id)
    }

    /// The room a job status names, when it is ours (title, type, new): one read. A room
    /// that is gone (the server deletes it when the job fails) is not ours; a read that fails
    /// otherwise is the item's error, since the room may well be ours.
    async fn named_by<A: DocSpaceApi>(
        &self,
        api: &A,
        status: Option<&TemplateJobStatus>,
    ) -> Result<Option<RoomDto>, EntryError> {
        let Some(id) = status.and_then(TemplateJobStatus::room) else {
            return Ok(None);
        };
        match api.get_room(id).await {
            // The room route answers a template too: never taken for our room.
            Ok(room) => Ok((self.is(room.id, &room.title, room.room_type)
                && room.root_folder_type
                    != Some(crate::model::template::TEMPLATES_ROOT_FOLDER_TYPE))
            .then_some(room)),
            Err(e) if e.is_not_found() || e.http_status() == Some(403) => Ok(None),
            Err(e) => Err(EntryError::new(
                e.http_status(),
                format!(
                    "the room the portal's template job made (id {id}) could not be read to check whether it is `{}`: {e}; run plan to see",
                    self.title
                ),
            )),
        }
    }

    /// Our room, named by the job's status: created, with the error of settings it does not
    /// show, or of the job's failure when the job ended with an error and left the room (the
    /// server deletes it on failure unless that fails too; its content may be incomplete).
    fn taken(
        &self,
        room: &RoomDto,
        status: Option<&TemplateJobStatus>,
        settings: &RoomSettings,
    ) -> (i64, Option<EntryError>) {
        let failed = status.and_then(TemplateJobStatus::failure).map(|f| {
            EntryError::new(
                None,
                format!(
                    "the portal's template job made room `{}` (id {}) but ended with an error, so its folders and files may be incomplete: {f}",
                    self.title, room.id
                ),
            )
        });
        let failed = failed.or_else(|| super::ignored(settings, room, "create from the template"));
        (room.id, failed)
    }

    /// The id of the one new room with the title and type; an error when there are several
    /// or when the listing could not prove there is none.
    async fn find<A: DocSpaceApi>(&self, api: &A) -> Result<Option<i64>, EntryError> {
        let read = |e: crate::docspace::ApiError| {
            EntryError::new(
                e.http_status(),
                format!(
                    "the rooms could not be listed to check whether `{}` exists: {e}",
                    self.title
                ),
            )
        };
        let mut listed = api
            .list_rooms(SearchArea::Any, Some(self.title))
            .await
            .map_err(read)?;
        let ids = |l: &crate::docspace::RoomListing| -> Vec<i64> {
            l.rooms
                .iter()
                .filter(|r| self.is(r.id, &r.title, r.room_type))
                .map(|r| r.id)
                .collect()
        };
        if ids(&listed).is_empty() {
            // The title search may go through a lagging full-text index: a full listing decides.
            listed = api.list_rooms(SearchArea::Any, None).await.map_err(read)?;
        }
        match ids(&listed).as_slice() {
            [] if !listed.complete => Err(EntryError::new(
                None,
                format!(
                    "the room listing kept changing while it was read, so whether `{}` exists could not be confirmed; run plan again to see",
                    self.title
                ),
            )),
            [] => Ok(None),
            [id] => Ok(Some(*id)),
            many => Err(EntryError::new(
                None,
                format!(
                    "several new rooms titled `{}` exist (ids {}); pin one with `id:` and delete the others",
                    self.title,
                    many.iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
}

/// [`wait_until_idle`], its failures as the item's error.
async fn wait_idle<A: DocSpaceApi>(
    api: &A,
    after_start: bool,
) -> Result<Option<TemplateJobStatus>, EntryError> {
    wait_until_idle(api, after_start).await.map_err(|e| match e {
        Some(e) => EntryError::new(
            e.http_status(),
            format!("the portal's template job status could not be read: {e}"),
        ),
        None => EntryError::new(
            None,
            format!(
                "a template job was still running on the portal after {} s; run apply again later",
                TEMPLATE_JOB_TIMEOUT.as_secs()
            ),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(room_id: i64) -> TemplateJobStatus {
        TemplateJobStatus {
            room_id,
            progress: 100.0,
            error: Some(String::new()),
            is_completed: true,
        }
    }

    #[test]
    fn a_start_refused_for_another_callers_job_may_be_sent_again() {
        assert!(not_again(None, Some(&done(5)), Some(&done(9)), "R").is_ok());
        assert!(not_again(None, None, Some(&done(9)), "R").is_ok());
    }

    #[test]
    fn the_status_from_before_the_start_again_proves_nothing_and_is_not_sent_again() {
        // A stale read (a cache behind the job queue) shows the job that ended before ours
        // began: our start may well be running, so a second one could make a second room.
        let e = not_again(None, Some(&done(5)), Some(&done(5)), "R").unwrap_err();
        assert!(e.message.contains("not sent again"), "{}", e.message);
        assert!(not_again(None, None, None, "R").is_err());
        assert!(not_again(None, None, Some(&done(-1)), "R").is_err());
    }
}
