//! Time-boxed access (`expires:` on an invitee): before the moment the member is ensured as
//! any other; from the moment on the plan removes the member, with the moment as the reason,
//! and never invites them again. The diff stays pure: the caller passes the clock's `now`
//! (docs/architecture.md, "The pipeline").
//!
//! Memberships that end within a window (default [`DEFAULT_WINDOW_DAYS`] days, `plan
//! --expiring-within DAYS`) are listed in the plan as [`Expiring`], in every format, so that
//! a scheduled drift check can announce them before access ends.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::Plan;
use crate::manifest::{Desired, DesiredInvitee};

/// The default warning window for memberships about to expire, in days.
pub const DEFAULT_WINDOW_DAYS: u32 = 14;

/// The longest warning window accepted, in days (ten years: beyond that a window means
/// "every expiry", which `validate` output already shows).
pub const MAX_WINDOW_DAYS: u32 = 3650;

/// The moment an invitee's access ended, when it has (`expires:` at or before `now`).
pub fn expired(inv: &DesiredInvitee, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    inv.expires.filter(|at| *at <= now)
}

/// A membership that ends within the warning window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiring {
    /// The room's title (as the server stores it).
    pub room: String,
    /// The email or group name.
    pub subject: String,
    /// When the membership ends.
    pub at: DateTime<Utc>,
}

/// The memberships that end within the plan's warning window (never empty in a plan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiringSoon {
    /// The window, in days from the moment of planning.
    pub within_days: u32,
    /// By moment, then room and subject.
    pub memberships: Vec<Expiring>,
}

/// The memberships of `desired` ending after `now` and at most `window` later, by moment,
/// then room and subject.
pub fn expiring(desired: &Desired, now: DateTime<Utc>, window: Duration) -> Vec<Expiring> {
    // Checked: a window reaching past the last moment chrono can hold means "every later
    // expiry" rather than a panic.
    let until = now
        .checked_add_signed(window)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let mut out: Vec<Expiring> = desired
        .rooms
        .iter()
        .flat_map(|room| {
            room.invitees.iter().filter_map(move |inv| {
                let at = inv.expires.filter(|at| *at > now && *at <= until)?;
                Some(Expiring {
                    room: room.title.clone(),
                    subject: inv.subject.label().to_string(),
                    at,
                })
            })
        })
        .collect();
    out.sort_by(|a, b| (a.at, &a.room, &a.subject).cmp(&(b.at, &b.room, &b.subject)));
    out
}

/// Sets the plan's list of memberships expiring within `window_days` of `now` (`None` when
/// there are none).
pub fn warn_expiring(plan: &mut Plan, desired: &Desired, now: DateTime<Utc>, window_days: u32) {
    let window = Duration::try_days(i64::from(window_days)).unwrap_or(Duration::MAX);
    let memberships = expiring(desired, now, window);
    plan.expiring = (!memberships.is_empty()).then_some(ExpiringSoon {
        within_days: window_days,
        memberships,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{self, SourceFile};

    fn desired(yaml: &str) -> Desired {
        let mut problems = manifest::Problems::default();
        let d = manifest::load_sources(vec![SourceFile::new("m.yaml", yaml)], &mut problems);
        assert!(!problems.has_errors(), "{problems:?}");
        d
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_expired_member_is_removed_and_an_expired_newcomer_never_invited() {
        use crate::model::{RoomType, UserType};
        use crate::plan::{Change, RemovalReason};
        use crate::state::{MemberSubject, Observed, ObservedMember, ObservedRoom, ObservedUser};
        let uma = ObservedUser {
            id: "u".into(),
            email: "uma@x.test".into(),
            user_type: UserType::User,
            pending: false,
            terminated: false,
            type_known: true,
            created: None,
            owner: false,
            invited_by: None,
        };
        let observed = Observed {
            portal: "p".into(),
            rooms: vec![ObservedRoom {
                id: 1,
                title: "R".into(),
                room_type: Some(RoomType::Custom),
                raw_room_type: Some(5),
                archived: false,
                tags: Default::default(),
                quota: None,
                custom_quota: false,
                deny_download: None,
                settings: Default::default(),
            }],
            members: [(
                1,
                vec![ObservedMember {
                    subject: MemberSubject::User(uma.clone()),
                    access: Some(crate::model::Access::Editing),
                    raw_access: 10,
                    is_owner: false,
                    can_edit_access: true,
                }],
            )]
            .into_iter()
            .collect(),
            users: [("uma@x.test".to_string(), uma)].into_iter().collect(),
            ..Observed::default()
        };
        let d = desired(
            "version: 1\nrooms:\n  - title: R\n    type: custom\n    invitees:\n      - email: uma@x.test\n        access: editing\n        expires: 2030-01-04\n      - email: new@x.test\n        access: read\n        expires: 2030-01-02\n",
        );
        // Before: Uma is in step, the newcomer is invited.
        let before =
            crate::plan::diff(&d, &observed, String::new(), at("2030-01-01T00:00:00Z")).unwrap();
        let actions: Vec<&str> = before.rooms[0]
            .items
            .iter()
            .map(|i| i.action().name())
            .collect();
        assert_eq!(actions, ["invite"]);
        // After: Uma is removed with the moment, the newcomer is not invited.
        let after =
            crate::plan::diff(&d, &observed, String::new(), at("2030-01-05T00:00:00Z")).unwrap();
        let items = &after.rooms[0].items;
        assert_eq!(items.len(), 1, "{items:?}");
        assert!(matches!(
            items[0].change,
            Change::Remove { reason: RemovalReason::Expired { at: moment }, .. } if moment == at("2030-01-04T00:00:00Z")
        ));
    }

    #[test]
    fn only_memberships_ending_inside_the_window_are_listed() {
        let d = desired(
            "version: 1\nrooms:\n  - title: R\n    type: custom\n    invitees:\n      - email: soon@x.test\n        access: read\n        expires: 2030-01-04\n      - email: later@x.test\n        access: read\n        expires: 2030-01-31\n      - email: gone@x.test\n        access: read\n        expires: 2029-12-31\n      - email: always@x.test\n        access: read\n",
        );
        let now = at("2030-01-01T00:00:00Z");
        let list = expiring(&d, now, Duration::days(14));
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].subject, "soon@x.test");
        assert_eq!(list[0].at, at("2030-01-04T00:00:00Z"));
        assert_eq!(expiring(&d, now, Duration::days(30)).len(), 2);
        let gone = &d.rooms[0].invitees[2];
        assert_eq!(expired(gone, now), Some(at("2029-12-31T00:00:00Z")));
        assert_eq!(expired(&d.rooms[0].invitees[0], now), None);
        // The moment itself is already past: access ends at `expires`, not after it.
        assert!(expired(&d.rooms[0].invitees[0], at("2030-01-04T00:00:00Z")).is_some());
    }
}
