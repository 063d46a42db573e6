//! The executor against the in-memory portal: the branches a real portal reaches only now and
//! then (a refused share batch, an ambiguous create, the removal guard, a stale saved plan, an
//! interruption, the daily limit, a silently dropped invitee). Each test plans from a manifest
//! with the real planner, runs the plan, and checks both the reported outcomes and what the
//! portal holds afterwards.

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;

use super::memory::{Holder, ME, MemoryPortal, Write};
use crate::apply::{self, Options};
use crate::manifest::{
    Defaults, Desired, DesiredInvitee, DesiredRoom, MembersMode, Origin, RoomState, SourceFile,
    Subject,
};
use crate::model::{Access, RoomType, UserType};
use crate::plan::{self, Action, GuardReason, Plan};
use crate::report::{Entry, Outcome, SkipReason};

fn room(title: &str, invitees: &[(&str, Access)]) -> DesiredRoom {
    DesiredRoom {
        title: title.into(),
        room_type: RoomType::Custom,
        id: None,
        tags: None,
        quota: None,
        deny_download: None,
        members: MembersMode::Additive,
        state: RoomState::Present,
        invitees: invitees
            .iter()
            .map(|(email, access)| DesiredInvitee {
                subject: Subject::Email(email.to_string()),
                written_email: None,
                expires: None,
                access: *access,
                new_account: false,
                origin: Origin::default(),
            })
            .collect(),
        links: Vec::new(),
        links_exact: false,
        color: None,
        cover: None,
        indexing: None,
        lifetime: None,
        watermark: None,
        template: None,
        origin: Origin::default(),
    }
}

fn manifest(rooms: Vec<DesiredRoom>) -> Desired {
    Desired {
        files: vec![SourceFile::new("rooms.yaml", "")],
        defaults: Defaults::default(),
        rooms,
        ..Desired::default()
    }
}

/// Reads the portal and plans, as `plan` does.
async fn plan_for(portal: &MemoryPortal, desired: &Desired) -> (Plan, HashSet<i64>) {
    let built = super::build_plan(portal, desired, chrono::Utc::now()).await;
    let known = built.observed.rooms.iter().map(|r| r.id).collect();
    (built.plan, known)
}

/// Runs `plan` on `portal` with the executor's default options but for the removal guard
/// and the interruption flag.
pub(super) async fn run(
    portal: &MemoryPortal,
    plan: &Plan,
    known: &HashSet<i64>,
    allow_removals: bool,
    interrupted: bool,
) -> Vec<Entry> {
    let options = Options {
        allow_removals,
        ..Options::default()
    };
    apply::execute(
        portal,
        plan,
        known,
        &options,
        &AtomicBool::new(interrupted),
        &|_| {},
    )
    .await
}

/// The outcome of the item with `key`.
fn outcome<'a>(entries: &'a [Entry], key: &str) -> &'a Outcome {
    let e = entries
        .iter()
        .find(|e| e.key == key)
        .unwrap_or_else(|| panic!("no entry {key} in {entries:#?}"));
    &e.outcome
}

fn access_of(portal: &MemoryPortal, room: i64, email: &str) -> Option<i64> {
    let person = portal.person_by_email(email)?;
    portal.room(room)?.access_of(&Holder::User(person.id))
}

#[tokio::test]
async fn a_refused_share_batch_is_resent_item_by_item() {
    let portal = MemoryPortal::new();
    let r = portal.add_room("R", RoomType::Custom);
    portal.add_person("ann@x.test", UserType::User);
    portal.add_person("bob@x.test", UserType::User);
    portal.faults(|f| {
        f.refused_emails.insert("bad@x.test".into());
    });
    let desired = manifest(vec![room(
        "R",
        &[
            ("ann@x.test", Access::Editing),
            ("bad@x.test", Access::Read),
            ("bob@x.test", Access::Read),
        ],
    )]);
    let (plan, known) = plan_for(&portal, &desired).await;
    let entries = run(&portal, &plan, &known, false, false).await;

    assert_eq!(outcome(&entries, "R / ann@x.test"), &Outcome::Applied);
    assert_eq!(outcome(&entries, "R / bob@x.test"), &Outcome::Applied);
    match outcome(&entries, "R / bad@x.test") {
        Outcome::Failed(e) => assert_eq!(e.http_status, Some(403)),
        other => panic!("{other:?}"),
    }
    // The batch of three was refused at its second entry after applying the first; the first
    // is not re-sent, the other two go one by one.
    assert_eq!(
        portal.writes(),
        vec![
            Write::Share {
                room: r,
                entries: 3
            },
            Write::Share {
                room: r,
                entries: 1
            },
            Write::Share {
                room: r,
                entries: 1
            },
        ]
    );
    assert_eq!(access_of(&portal, r, "ann@x.test"), Some(10));
    assert_eq!(access_of(&portal, r, "bob@x.test"), Some(2));
    assert!(portal.person_by_email("bad@x.test").is_none());
}

#[tokio::test]
async fn an_ambiguous_create_is_reconciled_by_listing_and_never_sent_twice() {
    let portal = MemoryPortal::new();
    portal.add_person("ann@x.test", UserType::User);
    portal.faults(|f| f.creates_time_out_after_commit = 1);
    let desired = manifest(vec![room("New", &[("ann@x.test", Access::Editing)])]);
    let (plan, known) = plan_for(&portal, &desired).await;
    let entries = run(&portal, &plan, &known, false, false).await;

    assert_eq!(outcome(&entries, "New"), &Outcome::Applied);
    assert_eq!(outcome(&entries, "New / ann@x.test"), &Outcome::Applied);
    let created = portal.rooms_titled("New");
    assert_eq!(created.len(), 1, "exactly one room exists afterwards");
    assert_eq!(created[0].owner, ME);
    assert_eq!(
        entries.iter().find(|e| e.key == "New").unwrap().room_id,
        Some(created[0].id)
    );
    assert_eq!(access_of(&portal, created[0].id, "ann@x.test"), Some(10));
    let creates = portal
        .writes()
        .iter()
        .filter(|w| matches!(w, Write::Create { .. }))
        .count();
    assert_eq!(creates, 1, "the timed-out create was not sent again");
}

/// A room with four members, of which a `members: exact` manifest keeps one.
fn crowded(portal: &MemoryPortal) -> (i64, Desired) {
    let r = portal.add_room("R", RoomType::Custom);
    for name in ["a", "b", "c", "d"] {
        let id = portal.add_person(&format!("{name}@x.test"), UserType::User);
        portal.add_member(r, Holder::User(id), Access::Read);
    }
    let mut keep = room("R", &[("a@x.test", Access::Read)]);
    keep.members = MembersMode::Exact;
    (r, manifest(vec![keep]))
}

#[tokio::test]
async fn the_removal_guard_refuses_without_the_flag_and_removes_with_it() {
    let portal = MemoryPortal::new();
    let (r, desired) = crowded(&portal);
    let (plan, known) = plan_for(&portal, &desired).await;
    let entries = run(&portal, &plan, &known, false, false).await;
    for who in ["b", "c", "d"] {
        assert_eq!(
            outcome(&entries, &format!("R / {who}@x.test")),
            &Outcome::Skipped(SkipReason::RemovalGuard(GuardReason::TooMany {
                removals: 3,
                members: 4
            }))
        );
    }
    assert_eq!(portal.room(r).unwrap().members.len(), 4);
    assert!(portal.writes().is_empty());

    let entries = run(&portal, &plan, &known, true, false).await;
    for who in ["b", "c", "d"] {
        assert_eq!(
            outcome(&entries, &format!("R / {who}@x.test")),
            &Outcome::Applied
        );
    }
    let left = portal.room(r).unwrap().members;
    assert_eq!(left.len(), 1);
    assert_eq!(access_of(&portal, r, "a@x.test"), Some(2));
}

#[tokio::test]
async fn an_interrupted_run_starts_no_room() {
    let portal = MemoryPortal::new();
    portal.add_person("ann@x.test", UserType::User);
    let desired = manifest(vec![
        room("A", &[("ann@x.test", Access::Read)]),
        room("B", &[]),
    ]);
    let (plan, known) = plan_for(&portal, &desired).await;
    let entries = run(&portal, &plan, &known, false, true).await;
    assert_eq!(entries.len(), 3);
    for e in &entries {
        assert_eq!(e.outcome, Outcome::Skipped(SkipReason::Interrupted));
    }
    assert!(portal.writes().is_empty());
    assert!(portal.state().rooms.is_empty());
}

#[tokio::test]
async fn a_spent_daily_limit_skips_every_room_with_changes() {
    let portal = MemoryPortal::new();
    let same = portal.add_room("Same", RoomType::Custom);
    let desired = manifest(vec![room("New", &[]), room("Same", &[])]);
    let (plan, known) = plan_for(&portal, &desired).await;
    portal.faults(|f| f.limit_reached = Some("try again after midnight UTC".into()));
    let entries = run(&portal, &plan, &known, false, false).await;
    assert_eq!(
        outcome(&entries, "New"),
        &Outcome::Skipped(SkipReason::LimitReached {
            why: "try again after midnight UTC".into()
        })
    );
    // A room with nothing to do is still reported, as unchanged.
    assert_eq!(outcome(&entries, "Same"), &Outcome::Unchanged(None));
    assert!(portal.writes().is_empty());
    assert_eq!(
        portal.state().rooms.keys().copied().collect::<Vec<_>>(),
        [same]
    );
}

#[tokio::test]
async fn an_invitee_dropped_without_an_error_is_reported_failed() {
    let portal = MemoryPortal::new();
    let r = portal.add_room("R", RoomType::Custom);
    let hidden = portal.add_person("hidden@x.test", UserType::User);
    portal.add_person("ann@x.test", UserType::User);
    portal.faults(|f| {
        f.dropped_invitees.insert(hidden.clone());
    });
    let desired = manifest(vec![room(
        "R",
        &[
            ("ann@x.test", Access::Read),
            ("hidden@x.test", Access::Read),
        ],
    )]);
    let (plan, known) = plan_for(&portal, &desired).await;
    let entries = run(&portal, &plan, &known, false, false).await;
    assert_eq!(outcome(&entries, "R / ann@x.test"), &Outcome::Applied);
    match outcome(&entries, "R / hidden@x.test") {
        Outcome::Failed(e) => assert!(e.message.starts_with(apply::DROPPED), "{e:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(access_of(&portal, r, "ann@x.test"), Some(2));
    assert_eq!(
        portal.room(r).unwrap().access_of(&Holder::User(hidden)),
        None
    );
    // One batch, accepted: nothing is re-sent for a silent drop.
    assert_eq!(
        portal.writes(),
        vec![Write::Share {
            room: r,
            entries: 2
        }]
    );
}

#[tokio::test]
async fn a_room_whose_members_cannot_be_read_is_skipped_and_the_others_go_on() {
    let portal = MemoryPortal::new();
    let bad = portal.add_room("Bad", RoomType::Custom);
    let good = portal.add_room("Good", RoomType::Custom);
    portal.add_person("ann@x.test", UserType::User);
    portal.faults(|f| {
        f.unreadable_members.insert(bad);
    });
    let desired = manifest(vec![
        room("Bad", &[("ann@x.test", Access::Read)]),
        room("Good", &[("ann@x.test", Access::Read)]),
    ]);
    let (plan, known) = plan_for(&portal, &desired).await;
    let entries = run(&portal, &plan, &known, false, false).await;
    match outcome(&entries, "Bad") {
        Outcome::Skipped(SkipReason::Unreadable { error }) => {
            assert!(error.contains("cannot be read"), "{error}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(outcome(&entries, "Good / ann@x.test"), &Outcome::Applied);
    assert!(portal.room(bad).unwrap().members.is_empty());
    assert_eq!(access_of(&portal, good, "ann@x.test"), Some(2));
}

#[tokio::test]
async fn a_saved_plan_applies_only_items_identical_when_planned_again() {
    let portal = MemoryPortal::new();
    let changed = portal.add_room("Changed", RoomType::Custom);
    let steady = portal.add_room("Steady", RoomType::Custom);
    let ann = portal.add_person("ann@x.test", UserType::User);
    portal.add_person("cy@x.test", UserType::User);
    let desired = manifest(vec![
        room(
            "Changed",
            &[("ann@x.test", Access::Read), ("cy@x.test", Access::Read)],
        ),
        room("Steady", &[("ann@x.test", Access::Read)]),
    ]);
    let saved = plan_for(&portal, &desired).await.0;
    // Someone gives ann another access by hand between `plan --out` and `apply --plan`, and
    // adds bob: the invitation of ann is no longer what the planner makes, cy's still is.
    let bob = portal.add_person("bob@x.test", UserType::User);
    portal.add_member(changed, Holder::User(bob), Access::Editing);
    portal.add_member(changed, Holder::User(ann), Access::Editing);

    // What `apply --plan` does: plan again, keep the items identical in both.
    let now = chrono::Utc::now();
    let built = super::build_plan(&portal, &desired, now).await;
    let known = built.observed.rooms.iter().map(|r| r.id).collect();
    let (to_apply, approval) =
        plan::approve::approve(&saved, built.plan, &desired, &built.observed, now);
    let mut entries: Vec<Entry> = approval
        .set_aside
        .iter()
        .flat_map(|s| apply::set_aside_entries(&s.room, &s.verdicts))
        .collect();
    entries.extend(run(&portal, &to_apply, &known, false, false).await);

    // The saved invitation of ann is stale; the access change planning again makes now
    // was not approved.
    let ann_entries: Vec<(Action, &Outcome)> = entries
        .iter()
        .filter(|e| e.key == "Changed / ann@x.test")
        .map(|e| (e.action, &e.outcome))
        .collect();
    assert_eq!(
        ann_entries,
        vec![
            (
                Action::ChangeAccess,
                &Outcome::Skipped(SkipReason::NotApproved)
            ),
            (
                Action::Invite,
                &Outcome::Skipped(SkipReason::Stale(plan::approve::StaleWhy::PortalChanged))
            ),
        ]
    );
    assert_eq!(outcome(&entries, "Changed / cy@x.test"), &Outcome::Applied);
    assert_eq!(outcome(&entries, "Steady / ann@x.test"), &Outcome::Applied);
    // The hand-made changes are kept: ann stays an editor (the new plan's access change
    // was not approved), bob stays.
    assert_eq!(access_of(&portal, changed, "ann@x.test"), Some(10));
    assert_eq!(access_of(&portal, changed, "bob@x.test"), Some(10));
    assert_eq!(access_of(&portal, steady, "ann@x.test"), Some(2));
}
