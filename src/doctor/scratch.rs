//! The scratch probes of [`Doctor`] (`--scratch`): the temporary room's creation (which
//! checks the title rule), the probes run on it (tag case, a refused role, sharing with the
//! same access, a pending guest, archive and unarchive) and its cleanup, which runs whatever
//! happened before.

use std::time::Duration;

use crate::docspace::{
    ApiError, CreateRoomRequest, Invitation, RoomDto, SearchArea, ShareDto, ShareRequest, UserDto,
};
use crate::model::{self, Access, RoomType, UserType};

use super::{
    Check, Doctor, Probe, RULES, SCRATCH_PREFIX, ScratchProbe, Status, rule, status_text, type_name,
};

/// How long an archive, unarchive or delete may take on the scratch room.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

impl Doctor<'_> {
    /// The title the scratch room is created with: recognisable, unique, and holding the
    /// characters the title rule is about (`:` and an emoji outside the BMP).
    pub fn scratch_title(&self) -> String {
        format!("{SCRATCH_PREFIX} {}: title check 🩺", self.nonce)
    }

    /// Creates the temporary room. Not to be interrupted half-way (a dropped create may still
    /// make the room); the caller checks for signals after it.
    pub async fn create_scratch_room(&mut self) -> bool {
        let title = self.scratch_title();
        let request = CreateRoomRequest {
            title: title.clone(),
            room_type: RoomType::Collaboration.wire(),
            ..CreateRoomRequest::default()
        };
        match self.client.create_room(&request).await {
            Ok(created) => {
                // Read back, as the next run would see it; the create answer is the fallback.
                let room = match self.client.get_room(created.id).await {
                    Ok(room) => room,
                    Err(_) => created,
                };
                let check = title_check(&title, &room);
                self.scratch_room = Some((room.id, room.title.clone()));
                // A portal without visible rooms could not show its quota setting before.
                if room.quota_limit.is_some()
                    && let Some(quotas) = self
                        .checks
                        .iter_mut()
                        .find(|c| c.id == "room-quotas" && c.status == Status::Warn)
                {
                    *quotas = Check::ok(
                        "room-quotas",
                        "the temporary room reports a quota limit: room quotas are on, \
                         `quota:` in a manifest applies",
                    );
                }
                self.push_rule(rule(ScratchProbe::TitleSanitising), check);
                self.create_extra_rooms().await;
                true
            }
            Err(e) => {
                if e.is_ambiguous() {
                    // The room may exist: find it so that the cleanup deletes it.
                    let stored = model::sanitize_title(&title);
                    if let Ok(found) = self
                        .client
                        .list_rooms(SearchArea::Any, Some(&self.nonce))
                        .await
                        && let Some(room) = found
                            .rooms
                            .iter()
                            .find(|r| model::title_matches(&r.title, &stored))
                    {
                        self.scratch_room = Some((room.id, room.title.clone()));
                    }
                }
                self.checks.push(Check::fail(
                    "scratch-room",
                    format!("the temporary room could not be created: {e}"),
                ));
                false
            }
        }
    }

    /// Every scratch probe but the title one (done at creation), in table order.
    pub async fn scratch_rules(&mut self) {
        for rule in RULES {
            if let Probe::Scratch(probe) = rule.probe
                && probe != ScratchProbe::TitleSanitising
            {
                let check = self.rule(probe).await;
                self.push_rule(rule, check);
            }
        }
    }

    async fn rule(&mut self, probe: ScratchProbe) -> Check {
        let Some((room, _)) = self.scratch_room.clone() else {
            return Check::warn(rule(probe).id, "not checked: no temporary room");
        };
        match probe {
            ScratchProbe::TitleSanitising => Check::ok(rule(probe).id, "checked at creation"),
            ScratchProbe::TagCase => self.tag_case(room).await,
            ScratchProbe::RoleRefused => self.role_refused(room).await,
            ScratchProbe::SameAccessNoOp => self.same_access(room).await,
            ScratchProbe::PendingGuest => self.pending_guest(room).await,
            ScratchProbe::ArchiveOperation => self.archive(room).await,
            ScratchProbe::ExternalLink => self.external_link().await,
            ScratchProbe::RoomColour => self.room_colour(room).await,
            ScratchProbe::RoomCover => self.room_cover(room).await,
            ScratchProbe::RoomLifetime => self.room_lifetime().await,
            ScratchProbe::RoomWatermark => self.room_watermark().await,
            ScratchProbe::Resend => self.resend(room).await,
            ScratchProbe::RoomFromTemplate => self.room_from_template().await,
        }
    }

    async fn tag_case(&mut self, room: i64) -> Check {
        let id = "tag-case";
        let first = format!("DoctorTag{}", self.nonce);
        let second = first.to_lowercase();
        if let Err(e) = self
            .client
            .add_room_tags(room, std::slice::from_ref(&first))
            .await
        {
            return Check::fail(id, format!("a tag could not be added: {e}"));
        }
        // Tags are portal-wide (docs/docspace-api.md, "Tags"): this one outlives the room
        // unless deleted at the end.
        self.created_tags.push(first.clone());
        let after = match self
            .client
            .add_room_tags(room, std::slice::from_ref(&second))
            .await
        {
            Ok(room) => room,
            Err(e) => return Check::fail(id, format!("a tag could not be added: {e}")),
        };
        let kept: Vec<&String> = after
            .tags
            .iter()
            .filter(|t| t.eq_ignore_ascii_case(&first))
            .collect();
        let names = vec![first.clone(), second.clone()];
        let removed = self.client.remove_room_tags(room, &names).await;
        let check = if kept.len() == 1 && *kept[0] == first {
            Check::ok(
                id,
                format!("asking for `{second}` kept the existing `{first}`: tags ignore case"),
            )
        } else {
            if kept.iter().any(|t| **t == second) {
                self.created_tags.push(second.clone());
            }
            Check::differs(
                id,
                "tags differ by case here: the tool treats a case difference as no change, so a \
                 manifest tag in another case would never be applied",
                format!("the room has {kept:?} after adding `{first}` then `{second}`"),
                format!("one tag, spelt `{first}`"),
            )
        };
        match removed {
            Ok(room) if room.tags.iter().any(|t| t.eq_ignore_ascii_case(&first)) => Check::differs(
                id,
                "removing a tag from the room did not take it off",
                format!("tags after removal: {:?}", room.tags),
                "no tag spelt like the removed one",
            ),
            Ok(_) => check,
            Err(e) if check.status == Status::Ok => {
                Check::fail(id, format!("the tag could not be taken off the room: {e}"))
            }
            Err(_) => check,
        }
    }

    async fn role_refused(&mut self, room: i64) -> Check {
        let id = "role-refused";
        let Some(other) = self.other.clone() else {
            return Check::warn(
                id,
                "not checked: no other active account is visible to try a role on",
            );
        };
        let refused = Access::Review;
        debug_assert!(!RoomType::Collaboration.allows(refused, model::SubjectKind::User));
        let result = self
            .client
            .set_share(
                room,
                &share(vec![Invitation::by_id(&other.id, refused.wire())]),
            )
            .await;
        match result {
            Err(e) if e.http_status() == Some(403) => Check::ok(
                id,
                format!(
                    "`{}` for a user in a collaboration room was refused (403{})",
                    refused.name(),
                    e.message().map(|m| format!(": {m}")).unwrap_or_default()
                ),
            ),
            Err(e) => Check::differs(
                id,
                "a role the room type does not offer failed otherwise than expected",
                e.to_string(),
                "HTTP 403 \"The role is not available for this user type\"",
            ),
            Ok(response) => {
                // Undo what the portal accepted; the room is deleted at the end anyway.
                let _ = self
                    .client
                    .set_share(room, &share(vec![Invitation::by_id(&other.id, 0)]))
                    .await;
                Check::differs(
                    id,
                    "the portal accepted a role the room type does not offer: validate and \
                     plan would refuse manifests this portal accepts",
                    format!(
                        "HTTP 200{}",
                        response
                            .warning
                            .map(|w| format!(", warning: {w}"))
                            .unwrap_or_default()
                    ),
                    "HTTP 403 \"The role is not available for this user type\"",
                )
            }
        }
    }

    async fn same_access(&mut self, room: i64) -> Check {
        let id = "same-access-share";
        let Some(other) = self.other.clone() else {
            return Check::warn(
                id,
                "not checked: no other active account is visible to share the room with",
            );
        };
        let access = Access::Read.wire();
        let invite = share(vec![Invitation::by_id(&other.id, access)]);
        if let Err(e) = self.client.set_share(room, &invite).await {
            return Check::fail(id, format!("the room could not be shared: {e}"));
        }
        let before = match self.client.get_share(room).await {
            Ok(rows) => rows,
            Err(e) => return Check::fail(id, format!("the members could not be read: {e}")),
        };
        if member(&before, &other.id).map(|r| r.access) != Some(access) {
            return Check::differs(
                id,
                "the share call answered 200 but the member is not in the room",
                format!(
                    "member row: {:?}",
                    member(&before, &other.id).map(|r| r.access)
                ),
                format!("a member row with access {access}"),
            );
        }
        let check = self.share_again(room, &invite, &before).await;
        self.remove_member(room, &other.id, check).await
    }

    /// Shares the room again with the same access: the members must stay as `before`, with
    /// no warning.
    async fn share_again(&self, room: i64, invite: &ShareRequest, before: &[ShareDto]) -> Check {
        let id = "same-access-share";
        let again = self.client.set_share(room, invite).await;
        let after = self.client.get_share(room).await;
        match (again, after) {
            (Ok(response), Ok(after))
                if response.warning.is_none() && summary(&after) == summary(before) =>
            {
                Check::ok(
                    id,
                    "sharing again with the same access changed nothing and answered 200",
                )
            }
            (Ok(response), Ok(after)) => Check::differs(
                id,
                "sharing again with the same access changed the room",
                format!(
                    "members {:?}{}",
                    summary(&after),
                    response
                        .warning
                        .map(|w| format!(", warning: {w}"))
                        .unwrap_or_default()
                ),
                format!("members {:?}, no warning", summary(before)),
            ),
            (Err(e), _) | (_, Err(e)) => Check::differs(
                id,
                "sharing again with the same access failed",
                e.to_string(),
                "HTTP 200 and no change",
            ),
        }
    }

    /// Removes the member by id with access 0 (docs/docspace-api.md, "The share call"): the
    /// tool's way of removing members. Answers `check` when the member is gone.
    async fn remove_member(&self, room: i64, user: &str, check: Check) -> Check {
        let id = "same-access-share";
        let removed = self
            .client
            .set_share(room, &share(vec![Invitation::by_id(user, 0)]))
            .await;
        let rows = self.client.get_share(room).await;
        match (removed, rows) {
            (Ok(_), Ok(rows)) if member(&rows, user).is_none() => check,
            (Ok(_), Ok(rows)) => Check::differs(
                id,
                "access 0 by id did not remove the member",
                format!(
                    "member row with access {:?}",
                    member(&rows, user).map(|r| r.access)
                ),
                "no member row",
            ),
            (Err(e), _) | (_, Err(e)) => {
                Check::fail(id, format!("the member could not be removed again: {e}"))
            }
        }
    }

    async fn pending_guest(&mut self, room: i64) -> Check {
        let id = "pending-guest";
        let email = match self.invite_probe_address().await {
            Ok(email) => email,
            Err(not_checked) => return not_checked,
        };
        let response = match self
            .client
            .set_share(
                room,
                &share(vec![Invitation::by_email(&email, Access::Read.wire())]),
            )
            .await
        {
            Ok(r) => r,
            Err(e) => {
                return Check::differs(
                    id,
                    "the email invitation was refused",
                    e.to_string(),
                    "HTTP 200 and a pending guest member",
                );
            }
        };
        let rows = match self.client.get_share(room).await {
            Ok(rows) => rows,
            Err(e) => return Check::fail(id, format!("the members could not be read: {e}")),
        };
        let row = rows.iter().find_map(|r| {
            r.shared_to_user
                .as_ref()
                .filter(|u| u.email.eq_ignore_ascii_case(&email))
        });
        let check = pending_check(&email, row, response.warning);
        if let Some(u) = row {
            let _ = self
                .client
                .set_share(room, &share(vec![Invitation::by_id(&u.id, 0)]))
                .await;
        }
        check
    }

    /// The `--invite-probe` address when it has no account yet; otherwise the check that says
    /// why the probe did not run.
    async fn invite_probe_address(&self) -> Result<String, Check> {
        let id = "pending-guest";
        let Some(email) = self.options.invite_probe.clone() else {
            return Err(Check::warn(
                id,
                "not checked: give --invite-probe EMAIL (an address without an account) to \
                 confirm that an email invitation creates a pending guest",
            ));
        };
        match self.client.user_by_email(&email).await {
            Ok(Some(_)) => Err(Check::warn(
                id,
                format!("not checked: {email} already has an account; give a new address"),
            )),
            Ok(None) => Ok(email),
            Err(e) => Err(Check::warn(id, format!("not checked: {e}"))),
        }
    }

    /// Archives the scratch room and waits for the background operation to move it.
    async fn archive_and_wait(&self, room: i64) -> Result<(), ApiError> {
        let op = self.client.archive_room(room).await?;
        self.client
            .wait_room_state(room, Some(&op), true, OPERATION_TIMEOUT)
            .await
            .map(|_| ())
    }

    async fn archive(&mut self, room: i64) -> Check {
        let id = "archive";
        let expected = "the room moves to the Archive and back through background operations";
        let archived = self.archive_and_wait(room).await;
        if let Err(e) = archived {
            return Check::differs(
                id,
                "the room could not be archived",
                e.to_string(),
                expected,
            );
        }
        let restored = async {
            let op = self.client.unarchive_room(room).await?;
            self.client
                .wait_room_state(room, Some(&op), false, OPERATION_TIMEOUT)
                .await
        }
        .await;
        match restored {
            Ok(_) => Check::ok(id, "archived and unarchived through the file operation"),
            Err(e) => Check::differs(
                id,
                "the room was archived but could not be unarchived",
                e.to_string(),
                expected,
            ),
        }
    }

    /// Deletes the temporary rooms (archived first, as the web UI does) and the tags the
    /// probes created. Runs after every scratch run, failed or interrupted.
    pub async fn cleanup(&mut self) {
        let mut rooms: Vec<(i64, String)> = self.scratch_room.clone().into_iter().collect();
        rooms.extend(
            self.extra_rooms
                .iter()
                .map(|(id, title, _)| (*id, title.clone())),
        );
        if rooms.is_empty() {
            return;
        }
        let mut notes = Vec::new();
        let mut deleted = Vec::new();
        let mut failed = Vec::new();
        for (room, title) in rooms {
            match self.delete_scratch_room(room, &mut notes).await {
                Ok(()) => {
                    if self
                        .scratch_room
                        .as_ref()
                        .is_some_and(|(id, _)| *id == room)
                    {
                        self.scratch_room = None;
                    }
                    self.extra_rooms.retain(|(id, _, _)| *id != room);
                    deleted.push(format!("\"{title}\""));
                }
                Err(e) => failed.push(format!("\"{title}\" (id {room}) could not be deleted: {e}")),
            }
        }
        let rooms_text = |n: usize| if n == 1 { "room" } else { "rooms" };
        let mut check = if failed.is_empty() {
            Check::ok(
                "scratch-cleanup",
                format!(
                    "the temporary {} {} deleted",
                    rooms_text(deleted.len()),
                    if deleted.len() == 1 {
                        format!("{} was", deleted[0])
                    } else {
                        format!("{} were", deleted.join(", "))
                    }
                ),
            )
        } else {
            Check::fail(
                "scratch-cleanup",
                format!(
                    "the temporary {} {}; delete it by hand",
                    rooms_text(failed.len()),
                    failed.join("; ")
                ),
            )
        };
        if !self.created_tags.is_empty() {
            let tags = std::mem::take(&mut self.created_tags);
            if let Err(e) = self.client.delete_tags(&tags).await {
                notes.push(format!(
                    "the tag {} stays on the portal's tag list ({}); delete it there by hand",
                    tags.join(", "),
                    status_text(&e)
                ));
                if check.status == Status::Ok {
                    check.status = Status::Warn;
                }
            }
        }
        if !notes.is_empty() {
            check.message = format!("{}; {}", check.message, notes.join("; "));
        }
        self.checks.push(check);
    }

    /// Deletes one temporary room (archived first; a room already gone counts as deleted).
    /// Links and settings go with the room.
    async fn delete_scratch_room(
        &self,
        room: i64,
        notes: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let active = match self.client.get_room(room).await {
            Ok(r) => !r.is_archived(),
            Err(e) if e.is_not_found() => return Ok(()),
            Err(_) => true,
        };
        if active && let Err(e) = self.archive_and_wait(room).await {
            // Deleting an active room may still be allowed (docs/docspace-api.md,
            // "Deleting rooms"): try it.
            notes.push(format!("archiving room {room} first failed ({e})"));
        }
        self.client.delete_room(room).await?;
        self.client.wait_room_deleted(room, OPERATION_TIMEOUT).await
    }
}

pub(super) fn share(invitations: Vec<Invitation>) -> ShareRequest {
    ShareRequest {
        invitations,
        notify: false,
        message: None,
        culture: None,
        force: false,
    }
}

fn member<'r>(rows: &'r [ShareDto], user: &str) -> Option<&'r ShareDto> {
    rows.iter().find(|r| {
        !r.is_owner
            && r.shared_to_user
                .as_ref()
                .is_some_and(|u| u.id.eq_ignore_ascii_case(user))
    })
}

/// Member rows as (subject id, access), sorted: what a no-op must leave unchanged.
fn summary(rows: &[ShareDto]) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            let subject = r
                .shared_to_user
                .as_ref()
                .map(|u| u.id.clone())
                .or_else(|| r.shared_to_group.as_ref().map(|g| g.id.clone()))
                .unwrap_or_default();
            (subject, r.access)
        })
        .collect();
    out.sort();
    out
}

/// The pending-guest rule, judged on the member row of the invited address (if any) and the
/// share call's warning.
fn pending_check(email: &str, row: Option<&UserDto>, warning: Option<String>) -> Check {
    let id = "pending-guest";
    match row {
        Some(u) if u.is_pending() && u.user_type() == UserType::Guest => Check::ok(
            id,
            format!(
                "{email} became a pending guest member (the account stays on the portal; \
                 the server sent it an invitation email)"
            ),
        ),
        Some(u) => Check::differs(
            id,
            "the invited address became a member, but not as a pending guest",
            format!(
                "status {:?}, activation {:?}, {}",
                u.status,
                u.activation_status,
                type_name(u.user_type())
            ),
            "a guest with activationStatus 2 (pending)",
        ),
        None => Check::differs(
            id,
            "the email invitation answered 200 but nobody joined the room",
            format!(
                "no member row for {email}{}",
                warning
                    .map(|w| format!("; warning: {w}"))
                    .unwrap_or_default()
            ),
            "a pending guest member row",
        ),
    }
}

/// The title rule, judged on the room the create call answered with.
fn title_check(requested: &str, room: &RoomDto) -> Check {
    let id = "title-sanitising";
    let expected = model::sanitize_title(requested);
    if room.title == expected {
        Check::ok(
            id,
            format!("\"{requested}\" was stored as \"{expected}\", as the tool expects"),
        )
    } else if model::title_matches(&room.title, &expected) {
        Check {
            observed: Some(format!("stored \"{}\"", room.title)),
            expected: Some(format!("stored \"{expected}\"")),
            ..Check::warn(
                id,
                "the portal kept characters the tool expected replaced; rooms still match, \
                 but please report it",
            )
        }
    } else {
        Check::differs(
            id,
            "the portal stores titles differently: plans would not find rooms whose title has \
             these characters",
            format!("stored \"{}\"", room.title),
            format!("stored \"{expected}\""),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_check_tells_the_three_outcomes_apart() {
        let requested = "doctor x: title 🩺";
        let room = |title: &str| RoomDto {
            title: title.to_string(),
            ..RoomDto::default()
        };
        assert_eq!(
            title_check(requested, &room("doctor x_ title __")).status,
            Status::Ok
        );
        // The old rule (one `_` per emoji) is a difference the tool would not survive.
        let old = title_check(requested, &room("doctor x_ title _"));
        assert_eq!(old.status, Status::Fail);
        assert_eq!(
            old.expected.as_deref(),
            Some("stored \"doctor x_ title __\"")
        );
        // A portal that keeps the emoji still matches through `title_matches`.
        assert_eq!(
            title_check(requested, &room("doctor x_ title 🩺")).status,
            Status::Warn
        );
    }
}
