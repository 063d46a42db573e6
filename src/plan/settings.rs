//! The room settings of issue 13 (colour, cover, indexing, file lifetime, watermark):
//! compared with the live room, sent on create and update through the existing
//! `create_room` / `update_room` items (docs/docspace-api.md, "Room settings").
//!
//! A setting the manifest does not write is not managed: it is never compared and never sent.

use super::{RoomNote, RoomSettings, SettingChange};
use crate::manifest::DesiredRoom;
#[cfg(test)]
use crate::model::RoomType;
use crate::model::{Lifetime, Watermark};
use crate::room_settings::{RoomSettings as LiveSettings, normalise_color};
use crate::state::ObservedRoom;

/// Copies the manifest's settings into a create's settings.
pub(super) fn for_create(room: &DesiredRoom, s: &mut RoomSettings) {
    s.color = room.color.as_deref().map(normalise_color);
    s.cover.clone_from(&room.cover);
    s.indexing = room.indexing;
    s.lifetime = room.lifetime;
    s.watermark.clone_from(&room.watermark);
}

/// The note of a room whose manifest entry sets `color` or `cover` while the live room has
/// an uploaded logo: the portal shows neither then, so they are not managed (and not
/// planned) while it has one (docs/docspace-api.md, "Room settings").
pub(super) fn logo_note(room: &DesiredRoom, live: &ObservedRoom) -> Option<RoomNote> {
    (live.settings.logo_uploaded && (room.color.is_some() || room.cover.is_some()))
        .then_some(RoomNote::UploadedLogo)
}

/// The settings of this module that differ between the manifest and the live room.
pub(super) fn changes(room: &DesiredRoom, live: &ObservedRoom) -> Vec<SettingChange> {
    let have = &live.settings;
    let mut out = Vec::new();
    // Colours compare as the server stores them: hex without `#`, case ignored. Neither
    // colour nor cover is compared while the room has an uploaded logo (see `logo_note`).
    let logo = have.logo_uploaded;
    if let Some(want) = room.color.as_deref().map(normalise_color)
        && !logo
        && have.color.as_deref() != Some(want.as_str())
    {
        out.push(SettingChange::Color {
            from: have.color.clone(),
            to: want,
        });
    }
    if let Some(want) = &room.cover
        && !logo
        && have.cover.as_ref() != Some(want)
    {
        out.push(SettingChange::Cover {
            from: have.cover.clone(),
            to: want.clone(),
        });
    }
    // A room object without `indexing` reads as not indexed, the server's default.
    if let Some(want) = room.indexing
        && have.indexing.unwrap_or(false) != want
    {
        out.push(SettingChange::Indexing {
            from: have.indexing.unwrap_or(false),
            to: want,
        });
    }
    if let Some(want) = room.lifetime
        && (have.lifetime_unknown || have.lifetime != Some(want))
    {
        out.push(SettingChange::Lifetime {
            from: have.lifetime,
            to: want,
        });
    }
    if let Some(want) = &room.watermark
        && watermark_differs(have, want)
    {
        out.push(SettingChange::Watermark {
            from: have.watermark.clone(),
            to: want.clone(),
        });
    }
    out
}

/// Whether the live room's watermark is not `want`. An image watermark is never replaced:
/// the tool does not manage images and would destroy one it cannot restore
/// (docs/docspace-api.md, "Room settings").
fn watermark_differs(have: &LiveSettings, want: &Watermark) -> bool {
    !have.watermark_image && have.watermark.as_ref() != Some(want)
}

/// The manifest keys of the settings of this module that `s` sends and the live room does
/// not show (the read-back after an ambiguous failure, see `plan::done`, and the check of
/// every create and update answer).
pub(super) fn unshown(s: &RoomSettings, live: &ObservedRoom) -> Vec<&'static str> {
    let have = &live.settings;
    let shown = [
        (
            "color",
            s.color
                .as_deref()
                .is_none_or(|c| have.color.as_deref() == Some(normalise_color(c).as_str())),
        ),
        (
            "cover",
            s.cover
                .as_ref()
                .is_none_or(|c| have.cover.as_ref() == Some(c)),
        ),
        (
            "indexing",
            s.indexing
                .is_none_or(|i| have.indexing.unwrap_or(false) == i),
        ),
        (
            "lifetime",
            s.lifetime
                .is_none_or(|l: Lifetime| !have.lifetime_unknown && have.lifetime == Some(l)),
        ),
        (
            "watermark",
            s.watermark
                .as_ref()
                .is_none_or(|w| !watermark_differs(have, w)),
        ),
    ];
    shown
        .into_iter()
        .filter_map(|(key, shown)| (!shown).then_some(key))
        .collect()
}

/// Whether the live room shows every setting of this module that `s` sends.
#[cfg(test)]
fn shown(s: &RoomSettings, live: &ObservedRoom) -> bool {
    unshown(s, live).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LifetimePeriod, WatermarkAddition};

    fn live(settings: LiveSettings) -> ObservedRoom {
        ObservedRoom {
            id: 1,
            title: "VDR".into(),
            room_type: Some(RoomType::VirtualDataRoom),
            raw_room_type: Some(8),
            archived: false,
            tags: Default::default(),
            quota: None,
            custom_quota: false,
            deny_download: None,
            settings,
        }
    }

    fn wanted() -> DesiredRoom {
        let mut problems = crate::manifest::Problems::default();
        let desired = crate::manifest::load_sources(
            vec![crate::manifest::SourceFile::new(
                "m.yaml",
                "version: 1\nrooms:\n  - title: VDR\n    type: virtual-data-room\n    color: '#1B6CA8'\n    cover: book\n    indexing: true\n    lifetime: {value: 6, period: months}\n    watermark: {text: Secret, additions: [room_name, user_email], rotation: -45}\n",
            )],
            &mut problems,
        );
        assert!(!problems.has_errors(), "{problems:?}");
        desired.rooms[0].clone()
    }

    fn matching() -> LiveSettings {
        LiveSettings {
            color: Some("1b6ca8".into()),
            cover: Some("book".into()),
            indexing: Some(true),
            lifetime: Some(Lifetime {
                value: 6,
                period: LifetimePeriod::Months,
                delete_permanently: false,
            }),
            logo_uploaded: false,
            lifetime_unknown: false,
            watermark: Some(Watermark {
                text: Some("Secret".into()),
                additions: [WatermarkAddition::UserEmail, WatermarkAddition::RoomName]
                    .into_iter()
                    .collect(),
                rotation: -45,
            }),
            watermark_image: false,
        }
    }

    #[test]
    fn a_matching_room_has_no_changes_and_case_and_order_do_not_count() {
        let room = wanted();
        assert_eq!(changes(&room, &live(matching())), vec![]);
        let mut s = RoomSettings::default();
        for_create(&room, &mut s);
        assert!(shown(&s, &live(matching())));
    }

    #[test]
    fn each_differing_setting_is_one_change_with_the_live_value() {
        let room = wanted();
        let c = changes(&room, &live(LiveSettings::default()));
        assert_eq!(c.len(), 5, "{c:?}");
        assert_eq!(
            c[0],
            SettingChange::Color {
                from: None,
                to: "1b6ca8".into()
            }
        );
        assert_eq!(
            c[2],
            SettingChange::Indexing {
                from: false,
                to: true
            }
        );
        let mut s = RoomSettings::default();
        for_create(&room, &mut s);
        assert!(!shown(&s, &live(LiveSettings::default())));
    }

    #[test]
    fn an_uploaded_logo_leaves_colour_and_cover_alone_with_one_note() {
        let room = wanted();
        let mut s = matching();
        s.color = None;
        s.cover = None;
        s.logo_uploaded = true;
        assert_eq!(changes(&room, &live(s.clone())), vec![]);
        assert_eq!(logo_note(&room, &live(s)), Some(RoomNote::UploadedLogo));
        assert_eq!(logo_note(&room, &live(matching())), None);
    }

    #[test]
    fn an_image_watermark_is_left_alone_and_an_unreadable_lifetime_is_replaced() {
        let room = wanted();
        let mut s = matching();
        s.watermark = None;
        s.watermark_image = true;
        s.lifetime_unknown = true;
        s.lifetime = None;
        let c = changes(&room, &live(s));
        assert_eq!(c.len(), 1, "{c:?}");
        assert!(matches!(c[0], SettingChange::Lifetime { from: None, .. }));
    }
}
