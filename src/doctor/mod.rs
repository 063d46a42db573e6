//! `doctor`: does this portal behave the way the tool believes?
//!
//! The tool's correctness rests on server behaviours read in the DocSpace source, never
//! watched on a live portal here (docs/docspace-api.md). Installs differ (cloud or
//! self-hosted, MySQL or PostgreSQL, versions), so `doctor` lets each user's portal confirm
//! them. Two kinds of checks:
//!
//! - Checks of the setup (portal version, key, scopes, the key user's type, quotas, the
//!   limiter): read-only, they say what the portal allows this key to do.
//! - [`RULES`]: the server rules the tool relies on, one row per rule, each naming the
//!   section of docs/docspace-api.md it comes from and the probe that confirms it. Read-only
//!   probes run every time; scratch probes only with `--scratch`, on temporary rooms that are
//!   deleted at the end (a collaboration room for the rules, a custom room for the link probe
//!   and a virtual data room for lifetime and watermark, see `features`). Adding a rule to the docs means adding a row here, and a row
//!   cannot be added without its probe (the match in [`Doctor::rule`] is exhaustive).
//!
//! Invariant: without `--scratch` no request other than GET is sent.

mod features;
mod read;
mod scratch;
mod templates;

use serde::Serialize;

use crate::docspace::{ApiError, Client, RoomListing, UserDto};
use crate::model::{RoomType, UserType};

/// Version of the JSON output (`--format json`).
pub const FORMAT_VERSION: u32 = 1;

/// Where to report a rule that differs. A placeholder until the project has a public tracker.
pub const REPORT_URL: &str = "https://github.com/OWNER/docspace-provision/issues (placeholder)";

/// The prefix of the temporary room's title, so that a leftover is recognisable at a glance.
pub const SCRATCH_PREFIX: &str = "docspace-provision doctor";

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The portal and the tool agree.
    Ok,
    /// Works, with a limit the user should know about, or could not be confirmed.
    Warn,
    /// Blocks use, or the portal differs from what the tool expects.
    Fail,
}

/// One line of the doctor's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: String,
    pub status: Status,
    /// One line.
    pub message: String,
    /// The section of docs/docspace-api.md the checked rule comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
    /// For a rule that differs: what the portal did, and what the tool expects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
}

impl Check {
    pub fn new(id: &str, status: Status, message: impl Into<String>) -> Check {
        Check {
            id: id.to_string(),
            status,
            message: message.into(),
            rule: None,
            observed: None,
            expected: None,
        }
    }

    fn ok(id: &str, message: impl Into<String>) -> Check {
        Check::new(id, Status::Ok, message)
    }

    fn warn(id: &str, message: impl Into<String>) -> Check {
        Check::new(id, Status::Warn, message)
    }

    fn fail(id: &str, message: impl Into<String>) -> Check {
        Check::new(id, Status::Fail, message)
    }

    fn differs(
        id: &str,
        message: impl Into<String>,
        observed: impl Into<String>,
        expected: impl Into<String>,
    ) -> Check {
        Check {
            observed: Some(observed.into()),
            expected: Some(expected.into()),
            ..Check::fail(id, message)
        }
    }
}

/// Which probe confirms a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// Read-only, part of every run.
    Read(ReadProbe),
    /// Needs the temporary room (`--scratch`).
    Scratch(ScratchProbe),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadProbe {
    ListingConsistent,
    ConnectedStorage,
    PeopleSearch,
    EmailCase,
    TemplatesListedApart,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScratchProbe {
    TitleSanitising,
    TagCase,
    RoleRefused,
    SameAccessNoOp,
    PendingGuest,
    ArchiveOperation,
    ExternalLink,
    RoomColour,
    RoomCover,
    RoomLifetime,
    RoomWatermark,
    Resend,
    RoomFromTemplate,
}

/// A server rule the tool relies on.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The check's id in the output.
    pub id: &'static str,
    /// The `## ` heading of docs/docspace-api.md that states the rule.
    pub section: &'static str,
    /// The rule in one line.
    pub statement: &'static str,
    pub probe: Probe,
}

/// Every rule the tool relies on, in the order they are checked.
pub const RULES: &[Rule] = &[
    Rule {
        id: "room-listing",
        section: "Room listing and the key user's preferences",
        statement: "the room listing pages without overlap while nothing changes",
        probe: Probe::Read(ReadProbe::ListingConsistent),
    },
    Rule {
        id: "connected-storage",
        section: "Rooms in connected storage",
        statement: "rooms in connected storage are listed with string ids and never managed",
        probe: Probe::Read(ReadProbe::ConnectedStorage),
    },
    Rule {
        id: "people-search",
        section: "Paging people",
        statement: "people are listed page by page in email order",
        probe: Probe::Read(ReadProbe::PeopleSearch),
    },
    Rule {
        id: "email-case",
        section: "Email case",
        statement: "an email lookup ignores case on MySQL installs, not on PostgreSQL ones",
        probe: Probe::Read(ReadProbe::EmailCase),
    },
    Rule {
        id: "templates-apart",
        section: "Room templates",
        statement: "room templates are listed only with `searchArea` 4, never among the rooms",
        probe: Probe::Read(ReadProbe::TemplatesListedApart),
    },
    Rule {
        id: "title-sanitising",
        section: "Room titles",
        statement: "a stored title has `:` and each UTF-16 surrogate unit replaced by `_`",
        probe: Probe::Scratch(ScratchProbe::TitleSanitising),
    },
    Rule {
        id: "tag-case",
        section: "Tags",
        statement: "asking for a tag in another case gives the room the existing spelling",
        probe: Probe::Scratch(ScratchProbe::TagCase),
    },
    Rule {
        id: "role-refused",
        section: "Roles per room type",
        statement: "a role the room type does not offer is refused with 403",
        probe: Probe::Scratch(ScratchProbe::RoleRefused),
    },
    Rule {
        id: "same-access-share",
        section: "Sharing with the same access",
        statement: "sharing again with the same access changes nothing; access 0 removes",
        probe: Probe::Scratch(ScratchProbe::SameAccessNoOp),
    },
    Rule {
        id: "pending-guest",
        section: "Email invitations",
        statement: "inviting an unknown email creates a pending guest member",
        probe: Probe::Scratch(ScratchProbe::PendingGuest),
    },
    Rule {
        id: "archive",
        section: "Archive and unarchive",
        statement: "archive and unarchive run as background operations that move the room",
        probe: Probe::Scratch(ScratchProbe::ArchiveOperation),
    },
    Rule {
        id: "external-link",
        section: "Sharing links",
        statement: "an external link with a password and an expiry is created, updated, read \
                    back and revoked by `PUT /files/rooms/{id}/links`",
        probe: Probe::Scratch(ScratchProbe::ExternalLink),
    },
    Rule {
        id: "room-colour",
        section: "Room settings",
        statement: "an update's `color` is stored and read back as `logo.color`",
        probe: Probe::Scratch(ScratchProbe::RoomColour),
    },
    Rule {
        id: "room-cover",
        section: "Room settings",
        statement: "an update's `cover` is stored and read back as `logo.cover.id`",
        probe: Probe::Scratch(ScratchProbe::RoomCover),
    },
    Rule {
        id: "room-lifetime",
        section: "Room settings",
        statement: "a virtual data room's file lifetime is stored and read back",
        probe: Probe::Scratch(ScratchProbe::RoomLifetime),
    },
    Rule {
        id: "room-watermark",
        section: "Room settings",
        statement: "a virtual data room's text watermark is stored and read back",
        probe: Probe::Scratch(ScratchProbe::RoomWatermark),
    },
    Rule {
        id: "resend",
        section: "Pending invitations",
        statement: "`POST /files/rooms/{id}/resend` resends a pending member's room invitation",
        probe: Probe::Scratch(ScratchProbe::Resend),
    },
    Rule {
        id: "template-room",
        section: "Room templates",
        statement: "a room made from a template (when the portal has one) gets its folders, \
                    and the job's status names the room",
        probe: Probe::Scratch(ScratchProbe::RoomFromTemplate),
    },
];

/// What a doctor run was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub scratch: bool,
    pub invite_probe: Option<String>,
}

/// The full answer of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub format_version: u32,
    pub portal: String,
    pub scratch: bool,
    pub checks: Vec<Check>,
}

impl Outcome {
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// Nothing blocks use and no rule differs.
    pub fn healthy(&self) -> bool {
        self.count(Status::Fail) == 0
    }
}

/// One run's state: the client and what earlier checks learnt.
pub struct Doctor<'a> {
    client: &'a Client,
    options: Options,
    pub checks: Vec<Check>,
    me: Option<UserDto>,
    listing: Option<RoomListing>,
    archived: Option<RoomListing>,
    /// Another active account, to try roles on.
    other: Option<UserDto>,
    /// The temporary room, once created (id, stored title).
    pub scratch_room: Option<(i64, String)>,
    /// The other temporary rooms (id, stored title, type): a custom room for the link probe
    /// and a virtual data room for lifetime and watermark (the collaboration room takes no
    /// external links, and those settings are virtual data room features).
    pub extra_rooms: Vec<(i64, String, RoomType)>,
    /// Tags the scratch probes created, to delete portal-wide at the end.
    created_tags: Vec<String>,
    /// Random part of the scratch names.
    nonce: String,
    /// The portal's room templates, as the read-only probe listed them.
    templates: Vec<crate::docspace::RoomDto>,
}

impl<'a> Doctor<'a> {
    pub fn new(client: &'a Client, options: Options) -> Doctor<'a> {
        let nonce = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
        Doctor {
            client,
            options,
            checks: Vec::new(),
            me: None,
            listing: None,
            archived: None,
            other: None,
            scratch_room: None,
            extra_rooms: Vec::new(),
            created_tags: Vec::new(),
            nonce,
            templates: Vec::new(),
        }
    }

    /// The read-only checks. Returns false when the portal or the key does not work at all
    /// (later checks would only repeat that failure).
    pub async fn read_only(&mut self) -> bool {
        if !self.portal().await || !self.key().await {
            return false;
        }
        self.key_scopes().await;
        self.visibility();
        for rule in RULES {
            if let Probe::Read(probe) = rule.probe {
                let check = self.read_rule(probe).await;
                self.push_rule(rule, check);
            }
        }
        self.quotas();
        true
    }

    /// The limiter as far as it shows without provoking it; last, so it covers every call.
    pub fn limiter(&mut self) {
        let limited = self.client.stats().rate_limited;
        let check = if limited == 0 {
            Check::ok(
                "rate-limiter",
                format!(
                    "no request was rate-limited in {} calls (the portal shows its limiter only \
                     with a 429); the tool paces itself below 1500 requests a minute",
                    self.client.stats().calls
                ),
            )
        } else {
            Check::warn(
                "rate-limiter",
                format!(
                    "the portal answered 429 to {limited} requests of this check: its limiter \
                     is on and this key is near its limit (other clients share it); large \
                     applies will wait"
                ),
            )
        };
        self.checks.push(check);
    }

    fn push_rule(&mut self, rule: &Rule, mut check: Check) {
        check.rule = Some(rule.section);
        self.checks.push(check);
    }
}

/// The rule row of a scratch probe.
/// (Every probe has a row: a unit test checks it; the fallback only keeps this total.)
fn rule(probe: ScratchProbe) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.probe == Probe::Scratch(probe))
        .unwrap_or(&RULES[0])
}

fn type_name(t: UserType) -> &'static str {
    match t {
        UserType::DocSpaceAdmin => "a DocSpace admin",
        UserType::RoomAdmin => "a room admin",
        UserType::User => "a user (type User)",
        UserType::Guest => "a guest",
    }
}

fn status_text(e: &ApiError) -> String {
    e.http_status()
        .map_or_else(|| e.to_string(), |s| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule names a `## ` heading of docs/docspace-api.md, so the docs and the checks
    /// cannot drift apart.
    #[test]
    fn every_rule_names_a_section_of_the_api_docs() {
        let docs = include_str!("../../docs/docspace-api.md");
        let headings: Vec<&str> = docs
            .lines()
            .filter_map(|l| l.strip_prefix("## "))
            .map(str::trim)
            .collect();
        for rule in RULES {
            assert!(
                headings.contains(&rule.section),
                "rule {} names \"{}\", not a section of docs/docspace-api.md ({headings:?})",
                rule.id,
                rule.section
            );
        }
    }

    /// The other direction: a section of docs/docspace-api.md that says a `doctor` rule
    /// confirms it names a row of [`RULES`] whose section it is, and every row is claimed by
    /// its section, so the docs cannot promise a probe that does not exist (or hide one).
    #[test]
    fn the_api_docs_name_exactly_the_rules_doctor_probes() {
        let docs = include_str!("../../docs/docspace-api.md");
        let marker = "Confirmed on a user's portal by `doctor` rule `";
        let mut section = "";
        let mut claimed = Vec::new();
        for line in docs.lines() {
            if let Some(heading) = line.strip_prefix("## ") {
                section = heading.trim();
            }
            if let Some(rest) = line.split(marker).nth(1) {
                let id = rest.split('`').next().unwrap_or_default();
                let row = RULES.iter().find(|r| r.id == id);
                assert!(
                    row.is_some_and(|r| r.section == section),
                    "docs/docspace-api.md, \"{section}\" claims doctor rule `{id}`, but RULES \
                     has {:?}",
                    row.map(|r| r.section)
                );
                claimed.push(id);
            }
        }
        for rule in RULES {
            assert!(
                claimed.contains(&rule.id),
                "rule {} is not claimed in docs/docspace-api.md, \"{}\" (add: {marker}{}`)",
                rule.id,
                rule.section,
                rule.id
            );
        }
    }

    #[test]
    fn rule_ids_are_unique_and_every_scratch_probe_has_a_row() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        for probe in [
            ScratchProbe::TitleSanitising,
            ScratchProbe::TagCase,
            ScratchProbe::RoleRefused,
            ScratchProbe::SameAccessNoOp,
            ScratchProbe::PendingGuest,
            ScratchProbe::ArchiveOperation,
            ScratchProbe::ExternalLink,
            ScratchProbe::RoomColour,
            ScratchProbe::RoomCover,
            ScratchProbe::RoomLifetime,
            ScratchProbe::RoomWatermark,
            ScratchProbe::Resend,
            ScratchProbe::RoomFromTemplate,
        ] {
            assert_eq!(rule(probe).probe, Probe::Scratch(probe));
        }
    }
}
