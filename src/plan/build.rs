//! The one planner: reads the portal through the API trait ([`crate::state`]), then runs the
//! pure diff and its passes (expiry warnings, pruning, pending invitations). `plan`, `apply`
//! (from manifests and from a saved plan) and the tests all build plans here, so the same
//! inputs always give the same plan (docs/architecture.md, "The pipeline").
//!
//! This is the only file of `plan/` that does I/O, and only through [`DocSpaceApi`]; the
//! diff below it stays pure. Values read from the environment (link passwords, as digests)
//! are inputs, never read here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Change, Plan, PortalProblems};
use crate::docspace::{ApiError, DocSpaceApi};
use crate::links::LinkPasswords;
use crate::manifest::{Desired, Subject};
use crate::model::scopes::Feature;
use crate::state::{self, Observed};

/// The options that shape a plan (`--prune`, `--expiring-within`, `--room`). A saved plan
/// records them, and `apply --plan` plans again with the same ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// `--prune`: plan archives of orphaned managed rooms.
    #[serde(default)]
    pub prune: bool,
    /// `--expiring-within DAYS`: warn about `expires:` this close.
    pub expiring_within_days: u32,
    /// `--no-new-guests`: as the manifest's `defaults: {new_guests: false}` (see
    /// [`super::newguest`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_new_guests: bool,
    /// `apply --resend-pending[=AGE]`: resend pending invitations older than this. Never in
    /// a saved plan (a resend is decided from a fresh read, at apply time).
    #[serde(skip)]
    pub resend_pending: Option<chrono::Duration>,
    /// `--room PATTERN`: plan only the manifest rooms whose titles match (see
    /// [`super::filter`]); `None` plans every room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<super::filter::RoomFilter>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            prune: false,
            expiring_within_days: super::expiry::DEFAULT_WINDOW_DAYS,
            no_new_guests: false,
            resend_pending: None,
            filter: None,
        }
    }
}

/// A plan and the portal as read for it.
pub struct Built {
    pub plan: Plan,
    pub observed: Observed,
}

/// Why no plan was built.
#[derive(Debug)]
pub enum Failure {
    /// The portal could not be read.
    Api(ApiError),
    /// The key's scopes cannot run this command (checked before the portal is read).
    Scopes(crate::observe::scopes::MissingScopes),
    /// The manifest, with these options, asks for something the portal forbids or the run
    /// cannot do (located problems).
    Problems(PortalProblems),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Failure {
        Failure::Api(e)
    }
}

/// What the planner needs besides the portal.
pub struct Inputs<'a> {
    /// The portal's display address (for the plan).
    pub portal: &'a str,
    pub desired: &'a Desired,
    /// Link password digests, read from the environment by the caller.
    pub passwords: LinkPasswords,
    pub options: Options,
    /// The moment the plan is for: which `expires:` have passed, how old invitations are.
    pub now: DateTime<Utc>,
    /// The command this plan is for (a row of `crate::model::scopes::COMMANDS`): the key's
    /// scopes are checked against it before the portal is read. `None`: not checked.
    pub scopes_for: Option<&'static str>,
}

/// Reads the portal and plans. `progress(done, total)` is called as member lists are read.
pub async fn build<A: DocSpaceApi>(
    api: &A,
    inputs: Inputs<'_>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Built, Failure> {
    let desired = super::newguest::with_option(inputs.desired, inputs.options.no_new_guests);
    let desired = desired.as_ref();
    let selected = selection(desired, &inputs.options)?;
    // Before the portal is read: a key that cannot run the command for this manifest stops
    // here, by name.
    let permissions = match inputs.scopes_for {
        Some(command) => crate::observe::scopes::check(api, command, &features(desired, None))
            .await
            .map_err(Failure::Scopes)?,
        None => None,
    };
    // With `--room`, members, people and links are read for the selected rooms only; the
    // listing, which identity needs, is read whole either way.
    let reading = match &selected {
        Some(titles) => std::borrow::Cow::Owned(super::filter::reading_scope(desired, titles)),
        None => std::borrow::Cow::Borrowed(desired),
    };
    let mut observed = state::read_with_progress(api, inputs.portal, &reading, progress).await?;
    observed.link_passwords = inputs.passwords;
    read_extras(api, &reading, &mut observed).await?;
    let now = inputs.now;
    let mut refused = super::portal_policy::check(&reading, &observed, now);
    // The `guests` rules of `policy:` need the portal to say who is a guest.
    refused.extend(crate::manifest::validate::guest_problems(
        &reading,
        &|email| {
            observed
                .users
                .get(email)
                .is_none_or(|u| u.user_type == crate::model::UserType::Guest)
        },
    ));
    let hash = desired.manifest_hash();
    let mut plan = match super::diff_selected(desired, &observed, hash, now, selected.as_ref()) {
        Ok(_) if !refused.is_empty() => return Err(Failure::Problems(refused)),
        Ok(plan) => plan,
        Err(mut problems) => {
            problems.extend(refused);
            return Err(Failure::Problems(problems));
        }
    };
    super::expiry::warn_expiring(&mut plan, desired, now, inputs.options.expiring_within_days);
    if inputs.options.prune {
        super::prune::archive_orphans(&mut plan);
    }
    super::pending::annotate(&mut plan, desired, &observed, now);
    if let Some(age) = inputs.options.resend_pending {
        super::pending::add_resends(&mut plan, age);
    }
    if let Some(selected) = &selected {
        super::filter::restrict(&mut plan, selected);
    }
    plan.filter = inputs.options.filter.clone();
    plan.options = inputs.options;
    // Before the first write: what the plan turned out to need (an archive, a resend).
    if let (Some(command), Some(permissions)) = (inputs.scopes_for, &permissions) {
        crate::observe::scopes::check_known(command, &features(desired, Some(&plan)), permissions)
            .map_err(Failure::Scopes)?;
    }
    Ok(Built { plan, observed })
}

/// Checks made before the portal is read: a pattern that selects no room is a typo, not an
/// empty run, and a pruning run must be given exactly its manifest set. The rooms `--room`
/// selects, if given.
fn selection(
    desired: &Desired,
    options: &Options,
) -> Result<Option<std::collections::BTreeSet<String>>, Failure> {
    let selected = match &options.filter {
        Some(filter) => {
            if let Some(refused) = filter_problems(options) {
                return Err(Failure::Problems(refused));
            }
            Some(filter.select(desired).map_err(Failure::Problems)?)
        }
        None => None,
    };
    if options.prune {
        let scope = super::prune::scope_problems(desired);
        if !scope.is_empty() {
            return Err(Failure::Problems(scope));
        }
    }
    Ok(selected)
}

/// What the plan reads beyond rooms and members, only when `reading` needs it.
async fn read_extras<A: DocSpaceApi>(
    api: &A,
    reading: &Desired,
    observed: &mut Observed,
) -> Result<(), ApiError> {
    // Sharing links cost one call per room, so only rooms whose manifest entry manages
    // links are read (docs/docspace-api.md, "Sharing links").
    let link_rooms = crate::identity::link_room_ids(reading, &observed.rooms);
    if !link_rooms.is_empty() {
        state::read_links(api, observed, &link_rooms).await?;
    }
    // The portal's link restrictions, password policy and covers, when the manifest needs
    // them (docs/docspace-api.md, "Portal link policies").
    super::portal_policy::read(api, reading, observed).await?;
    // Templates cost one listing, read only when a room to be created names one
    // (docs/docspace-api.md, "Room templates").
    if crate::identity::creates_from_template(reading, &observed.rooms) {
        observed.templates = state::read_templates(api).await?;
    }
    Ok(())
}

/// Whether a run of this manifest (and, once made, this plan) needs a feature.
type NeededWhen = fn(&Desired, Option<&Plan>) -> bool;

/// When a run needs each [`Feature`], from its manifest and, once made, its plan: the table
/// the scope checks ask from (`crate::model::scopes::FEATURES` lists each feature's calls).
const NEEDS: &[(Feature, NeededWhen)] = &[
    (Feature::EmailInvitees, |d, _| {
        invitee_subjects(d).any(|s| matches!(s, Subject::Email(_)))
    }),
    (Feature::GroupInvitees, |d, _| {
        invitee_subjects(d).any(|s| matches!(s, Subject::Group(_)))
    }),
    (Feature::Archives, |_, plan| {
        plan.is_some_and(|p| {
            p.rooms
                .iter()
                .flat_map(|r| &r.items)
                .any(|i| matches!(i.change, Change::Archive | Change::Unarchive))
        })
    }),
    (Feature::Resends, |_, plan| {
        plan.is_some_and(|p| {
            p.portal_items.iter().any(|i| {
                matches!(
                    i.change,
                    Change::ResendInvitation {
                        not_resent: None,
                        ..
                    }
                )
            })
        })
    }),
    (Feature::LinkRestrictions, |d, _| {
        d.rooms.iter().any(|r| !r.links.is_empty())
    }),
    (Feature::PasswordPolicy, |d, _| {
        d.rooms
            .iter()
            .flat_map(|r| &r.links)
            .any(|l| l.password.is_some())
    }),
    (Feature::Covers, |d, _| {
        d.rooms.iter().any(|r| r.cover.is_some())
    }),
    (Feature::Groups, |d, _| !d.groups.is_empty()),
    (Feature::People, |d, _| !d.people.is_empty()),
];

fn invitee_subjects(desired: &Desired) -> impl Iterator<Item = &Subject> {
    desired
        .rooms
        .iter()
        .flat_map(|r| &r.invitees)
        .map(|i| &i.subject)
}

/// The features a run of `desired` needs; with `plan`, also those only the plan shows.
fn features(desired: &Desired, plan: Option<&Plan>) -> Vec<Feature> {
    NEEDS
        .iter()
        .filter(|(_, needs)| needs(desired, plan))
        .map(|(f, _)| *f)
        .collect()
}

/// Options a filtered run refuses (the command line refuses them too; a saved plan could
/// carry them): pruning and resends are about the portal as a whole, not about some rooms.
fn filter_problems(options: &Options) -> Option<Vec<crate::manifest::Problem>> {
    let flag = if options.prune {
        "--prune"
    } else if options.resend_pending.is_some() {
        "--resend-pending"
    } else {
        return None;
    };
    Some(vec![
        crate::manifest::Problem::error(
            "plan::room_filter_refused",
            format!("{flag} cannot be combined with --room: it is about the whole portal, and a run with --room changes only the rooms it names"),
        )
        .with_help(format!("run {flag} without --room")),
    ])
}
