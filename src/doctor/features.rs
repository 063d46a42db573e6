//! The feature probes of [`Doctor`] (`--scratch`): an external link's whole life (create with
//! a password and an expiry, update, read back, revoke), colour and cover, a virtual data
//! room's lifetime and watermark, and (with `--invite-probe`) a resend.
//!
//! The collaboration scratch room takes no external links and lifetime and watermark are
//! virtual data room features (docs/docspace-api.md, "Sharing links", "Room settings"), so
//! two more temporary rooms are made next to it: a custom room for the link and a virtual
//! data room for the settings. They are created with the first room (not interruptible) and
//! deleted with it by `cleanup`; their links and settings go with them.

use chrono::{Duration as Days, FixedOffset, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::docspace::wire::{LINK_TYPE_EXTERNAL, parse_api_date};
use crate::docspace::{
    CreateRoomRequest, Invitation, LifetimeDto, LinkDto, LinkRequest, RoomDto, SearchArea,
    UpdateRoomRequest, WatermarkRequest,
};
use crate::model::{self, Access, LinkKind, RoomType};

use super::{Check, Doctor};

/// The colours and covers the probes set: two of each, so that one differs from what the
/// room has (a create without `color` gets a random one).
const COLOURS: [&str; 2] = ["5C3D8F", "1F7A4D"];
const COVERS: [&str; 2] = ["anchor", "bell"];

/// The lifetime and watermark the probes set on the virtual data room.
const LIFETIME: LifetimeDto = LifetimeDto {
    enabled: None,
    value: Some(30),
    period: 0,
    delete_permanently: false,
};
/// User name and room name (bit flags 1 and 16).
const WATERMARK_ADDITIONS: i64 = 17;
const WATERMARK_ROTATE: i64 = -45;

/// How far a read-back link expiry may be from the one sent (the server stores it in the
/// portal's time zone).
const EXPIRY_TOLERANCE_SECS: i64 = 60;

impl Doctor<'_> {
    /// Creates the custom room and the virtual data room next to the first scratch room. A
    /// failure is no check of its own: the probes that needed the room say they did not run.
    pub(super) async fn create_extra_rooms(&mut self) {
        for (kind, what) in [
            (RoomType::Custom, "link check"),
            (RoomType::VirtualDataRoom, "settings check"),
        ] {
            let title = format!("{} {} {what}", super::SCRATCH_PREFIX, self.nonce);
            let request = CreateRoomRequest {
                title: title.clone(),
                room_type: kind.wire(),
                ..CreateRoomRequest::default()
            };
            match self.client.create_room(&request).await {
                Ok(room) => self.extra_rooms.push((room.id, room.title, kind)),
                Err(e) if e.is_ambiguous() => {
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
                        self.extra_rooms.push((room.id, room.title.clone(), kind));
                    }
                }
                Err(_) => {}
            }
        }
    }

    fn extra_room(&self, kind: RoomType) -> Option<i64> {
        self.extra_rooms
            .iter()
            .find(|(_, _, k)| *k == kind)
            .map(|(id, _, _)| *id)
    }

    /// Creates an external link with a password and an expiry in the custom scratch room,
    /// reads it back, updates it (title, expiry, download rights), reads it back, revokes it
    /// and reads that back.
    pub(super) async fn external_link(&mut self) -> Check {
        let id = "external-link";
        let Some(room) = self.extra_room(RoomType::Custom) else {
            return Check::warn(
                id,
                "not checked: the temporary custom room could not be created",
            );
        };
        let link_id = uuid::Uuid::new_v4().to_string();
        let password = probe_password();
        let now = Utc::now().fixed_offset();
        let mut wanted = request(
            &link_id,
            &format!("doctor link {}", self.nonce),
            &password,
            now + Days::days(7),
            false,
        );
        let steps = [("created", false), ("updated", true)];
        for (done, update) in steps {
            if update {
                wanted = request(
                    &link_id,
                    &format!("doctor link {} updated", self.nonce),
                    &password,
                    now + Days::days(14),
                    true,
                );
            }
            if let Err(e) = self.client.set_link(room, &wanted.0).await {
                return Check::differs(
                    id,
                    format!("the external link could not be {done}"),
                    e.to_string(),
                    "HTTP 200 and the link's row",
                );
            }
            let rows = match self.client.list_links(room).await {
                Ok(rows) => rows,
                Err(e) => return Check::fail(id, format!("the links could not be read: {e}")),
            };
            if let Some(differs) = link_differs(&rows, &wanted, &password) {
                let _ = self
                    .client
                    .set_link(room, &model_revoke(&link_id, &wanted.0.title))
                    .await;
                return Check::differs(
                    id,
                    format!("the external link {done} reads back otherwise"),
                    differs,
                    describe(&wanted),
                );
            }
        }
        self.revoke_probe_link(id, room, &link_id, &wanted.0.title)
            .await
    }

    /// Revokes the probe's link and checks that it is gone.
    async fn revoke_probe_link(&self, id: &str, room: i64, link_id: &str, title: &str) -> Check {
        if let Err(e) = self
            .client
            .set_link(room, &model_revoke(link_id, title))
            .await
        {
            return Check::differs(
                id,
                "the external link could not be revoked",
                e.to_string(),
                "HTTP 200",
            );
        }
        match self.client.list_links(room).await {
            Ok(rows) if find(&rows, link_id).is_none() => Check::ok(
                id,
                "an external link with a password and an expiry was created, updated, read back \
                 and revoked",
            ),
            Ok(_) => Check::differs(
                id,
                "the revoked external link is still listed",
                "a link row with the revoked id",
                "no row",
            ),
            Err(e) => Check::fail(id, format!("the links could not be read: {e}")),
        }
    }

    pub(super) async fn room_colour(&mut self, room: i64) -> Check {
        let id = "room-colour";
        let current = match self.client.get_room(room).await {
            Ok(r) => r,
            Err(e) => return Check::fail(id, format!("the room could not be read: {e}")),
        };
        let now = current
            .logo
            .as_ref()
            .and_then(|l| l.color.clone())
            .unwrap_or_default();
        let colour = if now.eq_ignore_ascii_case(COLOURS[0]) {
            COLOURS[1]
        } else {
            COLOURS[0]
        };
        let request = UpdateRoomRequest {
            color: Some(colour.to_string()),
            ..UpdateRoomRequest::default()
        };
        let read = self.update_and_read(room, &request).await;
        match read {
            Err(e) => Check::differs(id, "the colour could not be set", e, "HTTP 200"),
            Ok(r) => {
                let got = r.logo.as_ref().and_then(|l| l.color.clone());
                if got
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case(colour))
                {
                    Check::ok(id, format!("colour {colour} was set and read back"))
                } else {
                    Check::differs(
                        id,
                        "the update answered 200 but the room's colour did not change",
                        format!("logo.color {got:?}"),
                        format!("logo.color \"{colour}\""),
                    )
                }
            }
        }
    }

    pub(super) async fn room_cover(&mut self, room: i64) -> Check {
        let id = "room-cover";
        let current = match self.client.get_room(room).await {
            Ok(r) => r,
            Err(e) => return Check::fail(id, format!("the room could not be read: {e}")),
        };
        let now = cover_of(&current).unwrap_or_default();
        let cover = if now == COVERS[0] {
            COVERS[1]
        } else {
            COVERS[0]
        };
        let request = UpdateRoomRequest {
            cover: Some(cover.to_string()),
            ..UpdateRoomRequest::default()
        };
        match self.update_and_read(room, &request).await {
            Err(e) => Check::differs(id, "the cover could not be set", e, "HTTP 200"),
            Ok(r) if cover_of(&r).as_deref() == Some(cover) => {
                Check::ok(id, format!("cover `{cover}` was set and read back"))
            }
            Ok(r) => Check::differs(
                id,
                "the update answered 200 but the room's cover did not change",
                format!("logo.cover.id {:?}", cover_of(&r)),
                format!("logo.cover.id \"{cover}\""),
            ),
        }
    }

    pub(super) async fn room_lifetime(&mut self) -> Check {
        let id = "room-lifetime";
        let Some(room) = self.extra_room(RoomType::VirtualDataRoom) else {
            return Check::warn(
                id,
                "not checked: the temporary virtual data room could not be created",
            );
        };
        let request = UpdateRoomRequest {
            lifetime: Some(LIFETIME),
            ..UpdateRoomRequest::default()
        };
        match self.update_and_read(room, &request).await {
            Err(e) => Check::differs(id, "the lifetime could not be set", e, "HTTP 200"),
            Ok(r) => {
                let got = r
                    .lifetime
                    .as_ref()
                    .map(|l| (l.value, l.period, l.delete_permanently));
                let want = (LIFETIME.value, LIFETIME.period, LIFETIME.delete_permanently);
                if got == Some(want) {
                    Check::ok(id, "a 30-day file lifetime was set and read back")
                } else {
                    Check::differs(
                        id,
                        "the update answered 200 but the room's lifetime is not the one sent",
                        format!("lifetime (value, period, deletePermanently) {got:?}"),
                        format!("{want:?}"),
                    )
                }
            }
        }
    }

    pub(super) async fn room_watermark(&mut self) -> Check {
        let id = "room-watermark";
        let Some(room) = self.extra_room(RoomType::VirtualDataRoom) else {
            return Check::warn(
                id,
                "not checked: the temporary virtual data room could not be created",
            );
        };
        let text = format!("doctor {}", self.nonce);
        let request = UpdateRoomRequest {
            watermark: Some(WatermarkRequest {
                enabled: None,
                additions: WATERMARK_ADDITIONS,
                text: Some(text.clone()),
                rotate: WATERMARK_ROTATE,
            }),
            ..UpdateRoomRequest::default()
        };
        match self.update_and_read(room, &request).await {
            Err(e) => Check::differs(id, "the watermark could not be set", e, "HTTP 200"),
            Ok(r) => {
                let got = r
                    .watermark
                    .as_ref()
                    .map(|w| (w.additions, w.text.clone(), w.rotate));
                let want = (WATERMARK_ADDITIONS, Some(text), WATERMARK_ROTATE);
                if got.as_ref() == Some(&want) {
                    Check::ok(id, "a text watermark was set and read back")
                } else {
                    Check::differs(
                        id,
                        "the update answered 200 but the room's watermark is not the one sent",
                        format!("watermark (additions, text, rotate) {got:?}"),
                        format!("{want:?}"),
                    )
                }
            }
        }
    }

    /// With `--invite-probe`: resends the room invitation of the pending account the
    /// `pending-guest` probe made, through the route `apply --resend-pending` uses
    /// (`POST /files/rooms/{id}/resend`). That probe took the account out of the room again,
    /// so it is made a member once more (without an email) for the resend, then removed. The
    /// server answers nothing, so a 200 is all there is to confirm.
    pub(super) async fn resend(&mut self, room: i64) -> Check {
        let id = "resend";
        let Some(email) = self.options.invite_probe.clone() else {
            return Check::warn(
                id,
                "not checked: give --invite-probe EMAIL to confirm that a pending account's \
                 room invitation can be sent again (it sends a second email)",
            );
        };
        let user = match self.client.user_by_email(&email).await {
            Ok(Some(u)) if u.is_pending() => u,
            Ok(_) => {
                return Check::warn(
                    id,
                    format!("not checked: {email} is not a pending account (see pending-guest)"),
                );
            }
            Err(e) => return Check::warn(id, format!("not checked: {e}")),
        };
        let member = |access| super::scratch::share(vec![Invitation::by_id(&user.id, access)]);
        if let Err(e) = self
            .client
            .set_share(room, &member(Access::Read.wire()))
            .await
        {
            return Check::fail(id, format!("{email} could not be made a member again: {e}"));
        }
        let result = self
            .client
            .resend_room_invitations(room, std::slice::from_ref(&user.id))
            .await;
        let _ = self.client.set_share(room, &member(0)).await;
        match result {
            Ok(()) => Check::ok(
                id,
                format!("the room invitation of pending {email} was sent again"),
            ),
            Err(e) => Check::differs(
                id,
                "the room invitation could not be sent again",
                e.to_string(),
                "HTTP 200",
            ),
        }
    }

    /// Updates the room and reads it back as the next run would see it.
    async fn update_and_read(
        &self,
        room: i64,
        request: &UpdateRoomRequest,
    ) -> Result<RoomDto, String> {
        self.client
            .update_room(room, request)
            .await
            .map_err(|e| e.to_string())?;
        self.client.get_room(room).await.map_err(|e| e.to_string())
    }
}

/// A link request and the expiry it carries.
type Wanted = (LinkRequest, chrono::DateTime<FixedOffset>);

fn request(
    link_id: &str,
    title: &str,
    password: &str,
    expires: chrono::DateTime<FixedOffset>,
    deny_download: bool,
) -> Wanted {
    (
        LinkRequest {
            link_id: link_id.to_string(),
            access: Access::Read.wire(),
            expiration_date: Some(expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            internal: false,
            title: title.to_string(),
            link_type: LINK_TYPE_EXTERNAL,
            password: Some(SecretString::from(password.to_string())),
            deny_download,
            max_use_count: None,
        },
        expires,
    )
}

fn model_revoke(link_id: &str, title: &str) -> LinkRequest {
    crate::links::revoke_request(link_id, title, LinkKind::External)
}

fn find<'r>(rows: &'r [LinkDto], link_id: &str) -> Option<&'r LinkDto> {
    rows.iter().find(|r| {
        r.shared_link
            .as_ref()
            .is_some_and(|l| l.id.eq_ignore_ascii_case(link_id))
    })
}

/// The probe link's password, fresh and never printed: 30 printable ASCII characters (the
/// longest any portal takes, `PasswordSettingsManager.MaxLength`) with a capital, a digit
/// and a special character, all in the narrower alphabet of `web:password:ascii:cut`, so
/// every password policy a portal can set takes it. A portal
/// with a stricter policy is one the tool handles (the plan checks manifest passwords
/// against it), so doctor does not fail it (book: howto/doctor.md).
fn probe_password() -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    // `_` is a special character with either alphabet (`model::PASSWORD_CUT_SYMBOLS`).
    let password = format!("Dr9_{random}");
    password[..model::LINK_PASSWORD_MAX].to_string()
}

/// What the link's row shows otherwise than `wanted`, without any password value.
fn link_differs(rows: &[LinkDto], wanted: &Wanted, password: &str) -> Option<String> {
    let Some(row) = find(rows, &wanted.0.link_id) else {
        return Some("no link row with the id sent".into());
    };
    let Some(link) = row.shared_link.as_ref() else {
        return Some("a row without its link".into());
    };
    let mut out = Vec::new();
    if row.access != wanted.0.access {
        out.push(format!("access {}", row.access));
    }
    if link.title.as_deref() != Some(wanted.0.title.as_str()) {
        out.push(format!("title {:?}", link.title));
    }
    match link
        .password
        .as_ref()
        .map(|p| p.expose_secret() == password)
    {
        Some(true) => {}
        Some(false) => out.push("another password".into()),
        None => out.push("no password".into()),
    }
    let expiry = link.expiration_date.as_deref().and_then(parse_api_date);
    if expiry.is_none_or(|d| (d - wanted.1).num_seconds().abs() > EXPIRY_TOLERANCE_SECS) {
        out.push(format!("expiry {:?}", link.expiration_date));
    }
    if link.deny_download.unwrap_or(false) != wanted.0.deny_download {
        out.push(format!("denyDownload {:?}", link.deny_download));
    }
    (!out.is_empty()).then(|| out.join(", "))
}

fn describe(wanted: &Wanted) -> String {
    format!(
        "title {:?}, a password, expiry {}, denyDownload {}",
        wanted.0.title,
        wanted.0.expiration_date.as_deref().unwrap_or_default(),
        wanted.0.deny_download
    )
}

fn cover_of(room: &RoomDto) -> Option<String> {
    room.logo.as_ref()?.cover.as_ref()?.id.clone()
}

#[cfg(test)]
mod tests {
    /// The probe password passes the strictest policy a portal can set.
    #[test]
    fn the_probe_password_fits_every_password_policy() {
        let strictest = crate::model::PortalPolicy {
            password_min: crate::model::LINK_PASSWORD_MAX,
            password_upper: true,
            password_digits: true,
            password_special: true,
            ..crate::model::PortalPolicy::default()
        };
        let password = super::probe_password();
        let shape = crate::model::PasswordShape::of(&password);
        assert!(shape.breaks(&strictest).is_empty(), "{shape:?}");
        // A portal run with `web:password:ascii:cut` takes fewer symbols (no `-`).
        let cut = crate::model::PortalPolicy {
            password_ascii_cut: true,
            ..strictest
        };
        assert!(shape.breaks(&cut).is_empty(), "{shape:?}");
        assert_ne!(password, super::probe_password(), "fresh each time");
    }

    use super::*;

    fn row(password: &str, expires: &str) -> LinkDto {
        serde_json::from_value(serde_json::json!({
            "access": 2,
            "sharedLink": {
                "id": "6f1c0d3e-0000-4000-8000-000000000001",
                "title": "doctor link",
                "expirationDate": expires,
                "linkType": 1,
                "password": password,
                "denyDownload": false,
                "primary": false
            }
        }))
        .unwrap()
    }

    /// A link read back as sent passes; a different password or expiry is named, and no
    /// password value ever reaches the check's text.
    #[test]
    fn a_link_read_back_is_compared_without_showing_its_password() {
        let at = chrono::DateTime::parse_from_rfc3339("2030-01-02T03:04:05+00:00").unwrap();
        let wanted = request(
            "6f1c0d3e-0000-4000-8000-000000000001",
            "doctor link",
            "Secret-one-123",
            at,
            false,
        );
        let same = row("Secret-one-123", "2030-01-02T04:04:05.0000000+01:00");
        assert_eq!(link_differs(&[same], &wanted, "Secret-one-123"), None);
        let other = row("Secret-two-456", "2030-02-02T03:04:05.0000000+00:00");
        let text = link_differs(&[other], &wanted, "Secret-one-123").unwrap();
        assert!(text.contains("another password"), "{text}");
        assert!(text.contains("expiry"), "{text}");
        assert!(!text.contains("Secret"), "{text}");
        assert!(!describe(&wanted).contains("Secret"));
        assert_eq!(
            link_differs(&[], &wanted, "Secret-one-123").as_deref(),
            Some("no link row with the id sent")
        );
    }
}
