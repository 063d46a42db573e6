//! Property tests of the pure planner against the in-memory portal.
//!
//! For a random manifest (a [`Desired`] built directly: at most 5 rooms and 6 invitees a room,
//! random access, state, tags, quota and members mode) and a random portal (rooms with those
//! titles or not, active or archived, owned by the key's user or another room admin, with
//! random members), planning, applying the plan to the in-memory portal and planning again from
//! what the portal then shows must yield no change: the plan converges in one apply. Along the
//! way the owner and the key's user are never removed, and `members: additive` removes no one
//! the manifest does not name with `access: none` (docs/architecture.md, "Invariants").
//!
//! The inputs are made valid the way a validated manifest and a consistent portal are (roles
//! that the room type and the person's type allow, distinct titles and invitees), so that the
//! planner never refuses them: what is tested is the diff and the executor, not validation.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use proptest::prelude::*;

use super::memory::{Holder, ME, ME_EMAIL, MemoryPortal, PortalState};
use crate::manifest::{
    Defaults, Desired, DesiredInvitee, DesiredRoom, MembersMode, Origin, Quota, RoomState,
    SourceFile, Subject,
};
use crate::model::{Access, RoomType, SubjectKind, UserType};
use crate::plan::{Change, Plan};
use crate::report::{Entry, Status};

/// People a manifest may name, by index: `p0`..`p5`, then the two groups, then the key's own
/// user, then the other room admin who owns some rooms.
const PEOPLE: usize = 6;
const GROUPS: [&str; 2] = ["Sales", "Ops"];
const SUBJECT_ME: usize = PEOPLE + GROUPS.len();
const SUBJECT_BOSS: usize = SUBJECT_ME + 1;
const SUBJECTS: usize = SUBJECT_BOSS + 1;
const BOSS_EMAIL: &str = "boss@x.test";
const TITLES: usize = 6;
const TAGS: [&str; 4] = ["acme", "Acme", "beta", "q3"];

fn email(n: usize) -> String {
    format!("p{n}@x.test")
}

/// One person of the pool: no account yet, an account of a type, or a pending guest.
#[derive(Debug, Clone, Copy)]
enum Account {
    None,
    Registered(UserType),
    PendingGuest,
}

fn account() -> impl Strategy<Value = Account> {
    prop_oneof![
        Just(Account::None),
        Just(Account::PendingGuest),
        prop_oneof![
            Just(UserType::DocSpaceAdmin),
            Just(UserType::RoomAdmin),
            Just(UserType::User),
            Just(UserType::Guest),
        ]
        .prop_map(Account::Registered),
    ]
}

#[derive(Debug, Clone)]
struct PortalRoomGenes {
    title: usize,
    archived: bool,
    tags: Vec<usize>,
    quota_gib: Option<u8>,
    deny_download: bool,
    owned_by_boss: bool,
    /// (subject index, role pick)
    members: Vec<(usize, usize)>,
}

#[derive(Debug, Clone)]
struct ManifestRoomGenes {
    title: usize,
    archived: bool,
    exact: bool,
    tags: Option<Vec<usize>>,
    /// `None`: not set; `Some(0)`: unlimited; else GiB.
    quota_gib: Option<u8>,
    deny_download: Option<bool>,
    /// (subject index, role pick, `access: none`)
    invitees: Vec<(usize, usize, bool)>,
    /// Write group names in another case.
    group_case: bool,
    /// When the portal has a room of this title: 0 match it by title, 1 pin its id, 2 pin its
    /// id and rename it.
    pin: u8,
}

#[derive(Debug, Clone)]
struct Genes {
    people: Vec<Account>,
    room_types: Vec<RoomType>,
    quotas_enabled: bool,
    portal_rooms: Vec<PortalRoomGenes>,
    manifest_rooms: Vec<ManifestRoomGenes>,
}

fn portal_room() -> impl Strategy<Value = PortalRoomGenes> {
    (
        0..TITLES,
        any::<bool>(),
        prop::collection::vec(0..TAGS.len(), 0..3),
        prop::option::of(1u8..4),
        any::<bool>(),
        prop::bool::weighted(0.3),
        prop::collection::vec((0..SUBJECTS, 0usize..8), 0..6),
    )
        .prop_map(
            |(title, archived, tags, quota_gib, deny_download, owned_by_boss, members)| {
                PortalRoomGenes {
                    title,
                    archived,
                    tags,
                    quota_gib,
                    deny_download,
                    owned_by_boss,
                    members,
                }
            },
        )
}

fn manifest_room() -> impl Strategy<Value = ManifestRoomGenes> {
    (
        0..TITLES,
        prop::bool::weighted(0.25),
        any::<bool>(),
        prop::option::of(prop::collection::vec(0..TAGS.len(), 0..3)),
        prop::option::of(0u8..4),
        prop::option::of(any::<bool>()),
        prop::collection::vec((0..SUBJECTS, 0usize..8, prop::bool::weighted(0.15)), 0..7),
        any::<bool>(),
        0u8..3,
    )
        .prop_map(
            |(
                title,
                archived,
                exact,
                tags,
                quota_gib,
                deny_download,
                invitees,
                group_case,
                pin,
            )| {
                ManifestRoomGenes {
                    pin,
                    title,
                    archived,
                    exact,
                    tags,
                    quota_gib,
                    deny_download,
                    invitees,
                    group_case,
                }
            },
        )
}

fn genes() -> impl Strategy<Value = Genes> {
    (
        prop::collection::vec(account(), PEOPLE),
        prop::collection::vec(prop::sample::select(RoomType::MANIFEST.to_vec()), TITLES),
        any::<bool>(),
        prop::collection::vec(portal_room(), 0..5),
        prop::collection::vec(manifest_room(), 0..6),
    )
        .prop_map(
            |(people, room_types, quotas_enabled, portal_rooms, manifest_rooms)| Genes {
                people,
                room_types,
                quotas_enabled,
                portal_rooms,
                manifest_rooms,
            },
        )
}

/// What a subject index is on this portal.
#[derive(Debug, Clone)]
enum Who {
    /// A person: email, account type (`None`: no account, invited as a new guest).
    Person(String, Option<UserType>),
    Group(String),
}

fn who(genes: &Genes, n: usize) -> Who {
    match n {
        n if n < PEOPLE => Who::Person(
            email(n),
            match genes.people[n] {
                Account::None => None,
                Account::Registered(t) => Some(t),
                Account::PendingGuest => Some(UserType::Guest),
            },
        ),
        n if n < SUBJECT_ME => Who::Group(GROUPS[n - PEOPLE].to_string()),
        SUBJECT_ME => Who::Person(ME_EMAIL.into(), Some(UserType::DocSpaceAdmin)),
        _ => Who::Person(BOSS_EMAIL.into(), Some(UserType::RoomAdmin)),
    }
}

/// The roles `who` may hold in a room of `room_type`: what validation and the planner's
/// portal checks let through (a new guest is never a room manager).
fn roles(room_type: RoomType, who: &Who) -> Vec<Access> {
    room_type
        .user_roles()
        .iter()
        .copied()
        .filter(|a| *a != Access::None)
        .filter(|a| match who {
            Who::Group(_) => room_type.allows(*a, SubjectKind::Group),
            Who::Person(_, Some(t)) => {
                *a != Access::RoomManager
                    || matches!(t, UserType::DocSpaceAdmin | UserType::RoomAdmin)
            }
            Who::Person(_, None) => *a != Access::RoomManager,
        })
        .collect()
}

/// Builds the portal the genes describe; returns it with the room ids by title index.
fn build_portal(genes: &Genes) -> (MemoryPortal, BTreeMap<usize, i64>) {
    let portal = MemoryPortal::new();
    portal.with(|s| s.quotas_enabled = genes.quotas_enabled);
    let mut holders = BTreeMap::new();
    for n in 0..SUBJECTS {
        let holder = match who(genes, n) {
            Who::Person(_, _) if n == SUBJECT_ME => Holder::User(ME.into()),
            Who::Person(_, None) => continue,
            Who::Person(email, Some(t)) => {
                let id = portal.add_person(&email, t);
                if n < PEOPLE && matches!(genes.people[n], Account::PendingGuest) {
                    portal.with(|s| {
                        if let Some(p) = s.people.iter_mut().find(|p| p.id == id) {
                            p.pending = true;
                        }
                    });
                }
                Holder::User(id)
            }
            Who::Group(name) => Holder::Group(portal.add_group(&name)),
        };
        holders.insert(n, holder);
    }
    let mut rooms = BTreeMap::new();
    for r in &genes.portal_rooms {
        if rooms.contains_key(&r.title) {
            continue;
        }
        let room_type = genes.room_types[r.title];
        let id = portal.add_room(&format!("Room {}", r.title), room_type);
        rooms.insert(r.title, id);
        let owner = match (r.owned_by_boss, holders.get(&SUBJECT_BOSS)) {
            (true, Some(Holder::User(boss))) => boss.clone(),
            _ => ME.to_string(),
        };
        let mut members = Vec::new();
        for &(subject, pick) in &r.members {
            let Some(holder) = holders.get(&subject) else {
                continue;
            };
            if *holder == Holder::User(owner.clone()) || members.iter().any(|(h, _)| h == holder) {
                continue;
            }
            let roles = roles(room_type, &who(genes, subject));
            if let Some(a) = roles.get(pick % roles.len().max(1)) {
                members.push((holder.clone(), a.wire()));
            }
        }
        portal.with(|s| {
            let mut tags: Vec<String> = Vec::new();
            for &t in &r.tags {
                // One spelling per tag on a portal.
                if !tags.iter().any(|x| x.eq_ignore_ascii_case(TAGS[t])) {
                    tags.push(TAGS[t].to_string());
                }
            }
            for t in &tags {
                if !s.tags.iter().any(|x| x.eq_ignore_ascii_case(t)) {
                    s.tags.push(t.clone());
                }
            }
            let room = s.rooms.get_mut(&id).expect("just added");
            room.archived = r.archived;
            room.tags = tags;
            room.quota = r.quota_gib.map(|g| i64::from(g) << 30);
            room.deny_download = r.deny_download;
            room.owner = owner;
            room.members = members;
        });
    }
    (portal, rooms)
}

/// The manifest the genes describe; `live` are the portal's room ids by title index.
fn build_desired(genes: &Genes, live: &BTreeMap<usize, i64>) -> Desired {
    let mut rooms = Vec::new();
    let mut seen = BTreeSet::new();
    for r in &genes.manifest_rooms {
        if !seen.insert(r.title) {
            continue;
        }
        let room_type = genes.room_types[r.title];
        let mut invitees = Vec::new();
        let mut named = BTreeSet::new();
        for &(subject, pick, remove) in &r.invitees {
            if !named.insert(subject) {
                continue;
            }
            let who = who(genes, subject);
            let roles = roles(room_type, &who);
            let access = if remove {
                Access::None
            } else {
                match roles.get(pick % roles.len().max(1)) {
                    Some(a) => *a,
                    None => continue,
                }
            };
            let subject = match who {
                Who::Person(email, _) => Subject::Email(email),
                Who::Group(name) if r.group_case => Subject::Group(name.to_uppercase()),
                Who::Group(name) => Subject::Group(name),
            };
            invitees.push(DesiredInvitee {
                written_email: None,
                expires: None,
                subject,
                access,
                new_account: false,
                origin: Origin::default(),
            });
        }
        rooms.push(DesiredRoom {
            title: match (r.pin, live.get(&r.title)) {
                (2, Some(_)) => format!("Room {} renamed", r.title),
                _ => format!("Room {}", r.title),
            },
            room_type,
            id: live.get(&r.title).copied().filter(|_| r.pin > 0),
            tags: r
                .tags
                .as_ref()
                .map(|t| t.iter().map(|&n| TAGS[n].to_string()).collect()),
            quota: r.quota_gib.map(|g| match g {
                0 => Quota::Unlimited,
                g => Quota::Bytes(u64::from(g) << 30),
            }),
            deny_download: r.deny_download,
            members: if r.exact {
                MembersMode::Exact
            } else {
                MembersMode::Additive
            },
            state: if r.archived {
                RoomState::Archived
            } else {
                RoomState::Present
            },
            invitees,
            links: Vec::new(),
            links_exact: false,
            color: None,
            cover: None,
            indexing: None,
            lifetime: None,
            watermark: None,
            template: None,
            origin: Origin::default(),
        });
    }
    Desired {
        files: vec![SourceFile::new("props.yaml", "")],
        defaults: Defaults::default(),
        rooms,
        ..Desired::default()
    }
}

/// Reads the portal through the engine's own state reading and plans.
async fn plan_once(portal: &MemoryPortal, desired: &Desired) -> (Plan, HashSet<i64>) {
    let built = super::build_plan(portal, desired, chrono::Utc::now()).await;
    let known = built.observed.rooms.iter().map(|r| r.id).collect();
    (built.plan, known)
}

async fn apply_all(portal: &MemoryPortal, plan: &Plan, known: &HashSet<i64>) -> Vec<Entry> {
    super::executor_tests::run(portal, plan, known, true, false).await
}

/// The ids of the members each live room's plan removes, by room id.
fn removed_ids(plan: &Plan) -> BTreeMap<i64, Vec<String>> {
    let mut out: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for r in &plan.rooms {
        let Some(room_id) = r.room_id else { continue };
        for i in &r.items {
            if let Change::Remove { target, .. } = &i.change {
                out.entry(room_id)
                    .or_default()
                    .push(target.id().to_string());
            }
        }
    }
    out
}

/// The live room a manifest room manages before the run: its pinned id, else the room with
/// its title.
fn live_id(room: &DesiredRoom, before: &PortalState) -> Option<i64> {
    room.id.or_else(|| {
        before
            .rooms
            .values()
            .find(|r| r.title == room.title)
            .map(|r| r.id)
    })
}

/// Per live room of a `members: additive` manifest room, the holders the manifest names with
/// `access: none` (the only ones it may remove).
fn additive_rooms(
    desired: &Desired,
    before: &PortalState,
    after: &PortalState,
) -> BTreeMap<i64, BTreeSet<Holder>> {
    let mut out: BTreeMap<i64, BTreeSet<Holder>> = BTreeMap::new();
    for r in desired
        .rooms
        .iter()
        .filter(|r| r.members == MembersMode::Additive)
    {
        let Some(id) = live_id(r, before) else {
            continue;
        };
        let named = out.entry(id).or_default();
        for inv in r.invitees.iter().filter(|i| i.access == Access::None) {
            let holder = match &inv.subject {
                Subject::Email(e) => after
                    .people
                    .iter()
                    .find(|p| p.email.eq_ignore_ascii_case(e))
                    .map(|p| Holder::User(p.id.clone())),
                Subject::Group(g) => after
                    .groups
                    .iter()
                    .find(|x| x.name.eq_ignore_ascii_case(g))
                    .map(|x| Holder::Group(x.id.clone())),
            };
            named.extend(holder);
        }
    }
    out
}

fn check(genes: &Genes) -> Result<(), TestCaseError> {
    let (portal, live) = build_portal(genes);
    let desired = build_desired(genes, &live);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a test runtime");
    runtime.block_on(async {
        let before = portal.state();
        let (first, known) = plan_once(&portal, &desired).await;
        for (room_id, removed) in removed_ids(&first) {
            prop_assert!(
                !removed.iter().any(|id| id == ME),
                "the key's user is planned for removal from room {}",
                room_id
            );
            let owner = &before.rooms[&room_id].owner;
            prop_assert!(
                !removed.contains(owner),
                "the owner of room {} is planned for removal",
                room_id
            );
        }

        let entries = apply_all(&portal, &first, &known).await;
        let failed: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.status == Status::Failed)
            .collect();
        prop_assert!(failed.is_empty(), "items failed: {failed:#?}");

        let after = portal.state();
        let additive = additive_rooms(&desired, &before, &after);
        for (id, old) in &before.rooms {
            let new = after.rooms.get(id).expect("no room is deleted");
            prop_assert_eq!(&new.owner, &old.owner, "the owner of room {} changed", id);
            let had_me = old.access_of(&Holder::User(ME.into())).is_some();
            prop_assert!(
                !had_me || new.access_of(&Holder::User(ME.into())).is_some(),
                "the key's user lost its place in room {}",
                id
            );
            if let Some(named) = additive.get(id) {
                for (holder, _) in &old.members {
                    if named.contains(holder) {
                        continue;
                    }
                    prop_assert!(
                        new.access_of(holder).is_some(),
                        "`members: additive` room {} lost {:?}",
                        id,
                        holder
                    );
                }
            }
        }

        let (second, _) = plan_once(&portal, &desired).await;
        let left: Vec<_> = second
            .rooms
            .iter()
            .filter(|r| !r.items.is_empty())
            .collect();
        prop_assert!(
            left.is_empty(),
            "planning again after apply still changes: {left:#?}\nfirst plan: {first:#?}"
        );
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        // A failure prints its inputs; nothing is written into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn one_apply_converges_and_never_removes_the_owner_the_key_user_or_additive_members(
        genes in genes()
    ) {
        check(&genes)?;
    }
}
