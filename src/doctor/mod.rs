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
//!   probes run every time; scratch probes only with `--scratch`, on one temporary room that
//!   is deleted at the end. Adding a rule to the docs means adding a row here, and a row
//!   cannot be added without its probe (the match in [`Doctor::rule`] is exhaustive).
//!
//! Invariant: without `--scratch` no request other than GET is sent.

use std::time::Duration;

use serde::Serialize;

use crate::docspace::client::{ApiKeyInfo, BuildVersion};
use crate::docspace::{
    ApiError, Client, CreateRoomRequest, ErrorKind, Invitation, RoomDto, RoomListing, SearchArea,
    ShareDto, ShareRequest, UserDto,
};
use crate::model::{self, Access, RoomType, UserType};

/// Version of the JSON output (`--format json`).
pub const FORMAT_VERSION: u32 = 1;

/// Where to report a rule that differs. A placeholder until the project has a public tracker.
pub const REPORT_URL: &str = "https://github.com/OWNER/docspace-provision/issues (placeholder)";

/// The prefix of the temporary room's title, so that a leftover is recognisable at a glance.
pub const SCRATCH_PREFIX: &str = "docspace-provision doctor";

/// How long an archive, unarchive or delete may take on the scratch room.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

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

impl Status {
    pub fn symbol(self) -> &'static str {
        match self {
            Status::Ok => "✔",
            Status::Warn => "⚠",
            Status::Fail => "✘",
        }
    }
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScratchProbe {
    TitleSanitising,
    TagCase,
    RoleRefused,
    SameAccessNoOp,
    PendingGuest,
    ArchiveOperation,
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
    /// Tags the scratch probes created, to delete portal-wide at the end.
    created_tags: Vec<String>,
    /// Random part of the scratch names.
    nonce: String,
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
            created_tags: Vec::new(),
            nonce,
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

    async fn portal(&mut self) -> bool {
        match self.client.build_version().await {
            Ok(BuildVersion {
                doc_space,
                document_server,
            }) => {
                let docs = document_server
                    .map(|d| format!(", ONLYOFFICE Docs {d}"))
                    .unwrap_or_default();
                self.checks.push(Check::ok(
                    "portal",
                    format!(
                        "the portal answers: DocSpace {}{docs}",
                        doc_space.as_deref().unwrap_or("(version not given)")
                    ),
                ));
                true
            }
            Err(e) if matches!(e.kind(), ErrorKind::Network(_)) => {
                self.checks.push(Check::fail(
                    "portal",
                    format!("the portal does not answer: {e}"),
                ));
                false
            }
            Err(e) => {
                self.checks.push(Check::warn(
                    "portal",
                    format!(
                        "the portal answers but does not say its version (HTTP {}): the \
                         version endpoint is not available to this key or portal",
                        status_text(&e)
                    ),
                ));
                true
            }
        }
    }

    async fn key(&mut self) -> bool {
        match self.client.me().await {
            Ok(me) => {
                let kind = type_name(me.user_type());
                self.checks.push(Check::ok(
                    "key",
                    format!(
                        "the key works and acts as {} <{}>, {kind}",
                        crate::redact::scrub(&me.display_name),
                        me.email
                    ),
                ));
                self.me = Some(me);
                true
            }
            Err(e) => {
                let why = match e.http_status() {
                    Some(401) => "the portal refused the key: it is wrong, expired or revoked",
                    Some(403) => {
                        "the key may not read its own profile (scope accounts.self:read), \
                         which plan and apply need"
                    }
                    Some(404) => "no DocSpace API at this address, or the portal is suspended",
                    _ => "the key could not be checked",
                };
                self.checks.push(Check::fail("key", format!("{why} ({e})")));
                false
            }
        }
    }

    async fn key_scopes(&mut self) {
        let check = match self.client.key_self().await {
            Ok(info) => scopes_check(&info),
            Err(e) if matches!(e.http_status(), Some(401 | 403 | 404 | 405)) => Check::warn(
                "key-scopes",
                format!(
                    "the portal does not describe the key (HTTP {}): its scopes are unknown; \
                     plan needs rooms:read and accounts:read, apply rooms:write",
                    status_text(&e)
                ),
            ),
            Err(e) => Check::warn("key-scopes", format!("the key's scopes are unknown: {e}")),
        };
        self.checks.push(check);
    }

    fn visibility(&mut self) {
        let Some(me) = &self.me else { return };
        let check = match me.user_type() {
            UserType::DocSpaceAdmin => Check::ok(
                "room-visibility",
                "a DocSpace admin sees every room: plans find rooms made by hand too",
            ),
            UserType::RoomAdmin => Check::warn(
                "room-visibility",
                "a room admin sees only the rooms it is a member of: a manifest room it cannot \
                 see is planned as a new room, and export leaves it out",
            ),
            UserType::User | UserType::Guest => Check::fail(
                "room-visibility",
                "this user type cannot create rooms and sees only rooms shared with it: use a \
                 key of a DocSpace admin (or a room admin)",
            ),
        };
        self.checks.push(check);
    }

    fn quotas(&mut self) {
        let Some(listing) = &self.listing else {
            self.checks.push(Check::warn(
                "room-quotas",
                "not checked: the room listing failed",
            ));
            return;
        };
        let rooms: Vec<&RoomDto> = listing
            .rooms
            .iter()
            .chain(self.archived.iter().flat_map(|l| l.rooms.iter()))
            .collect();
        let check = if rooms.iter().any(|r| r.quota_limit.is_some()) {
            Check::ok(
                "room-quotas",
                "rooms report a quota limit: room quotas are on, `quota:` in a manifest applies",
            )
        } else if rooms.is_empty() {
            Check::warn(
                "room-quotas",
                "no room is visible, so whether room quotas are on cannot be seen",
            )
        } else {
            Check::warn(
                "room-quotas",
                "no room reports a quota limit: room quotas look switched off (Settings > \
                 Storage management), so `quota:` in a manifest would have no effect",
            )
        };
        self.checks.push(check);
    }

    async fn read_rule(&mut self, probe: ReadProbe) -> Check {
        match probe {
            ReadProbe::ListingConsistent => self.listing_consistent().await,
            ReadProbe::ConnectedStorage => self.connected_storage(),
            ReadProbe::PeopleSearch => self.people_search().await,
            ReadProbe::EmailCase => self.email_case().await,
        }
    }

    async fn listing_consistent(&mut self) -> Check {
        let id = "room-listing";
        let active = self
            .client
            .list_rooms(SearchArea::Active, None)
            .await
            .and_then(|l| l.require_complete());
        let archived = self
            .client
            .list_rooms(SearchArea::Archive, None)
            .await
            .and_then(|l| l.require_complete());
        match (active, archived) {
            (Ok(active), Ok(archived)) => {
                let check = Check::ok(
                    id,
                    format!(
                        "{} active and {} archived rooms listed, pages consistent",
                        active.len(),
                        archived.len()
                    ),
                );
                self.listing = Some(active);
                self.archived = Some(archived);
                check
            }
            (Err(e), _) | (_, Err(e)) if e.kind() == ErrorKind::Decode => Check::differs(
                id,
                "the room listing is not stable across pages: plans would be built on a \
                 partial view and refuse to run",
                e.to_string(),
                "pages that neither repeat nor skip a room while nothing changes",
            ),
            (Err(e), _) | (_, Err(e)) => {
                Check::fail(id, format!("the rooms cannot be listed: {e}"))
            }
        }
    }

    fn connected_storage(&mut self) -> Check {
        let id = "connected-storage";
        let Some(listing) = &self.listing else {
            return Check::warn(id, "not checked: the room listing failed");
        };
        let connected: Vec<&crate::docspace::ConnectedRoomDto> = listing
            .connected
            .iter()
            .chain(self.archived.iter().flat_map(|l| l.connected.iter()))
            .collect();
        match connected.len() {
            0 => Check::ok(id, "no rooms in connected storage"),
            n => Check::ok(
                id,
                format!(
                    "{n} room{} in connected storage: listed, never managed (their ids are text; \
                     the integer-id calls do not reach them)",
                    if n == 1 { "" } else { "s" }
                ),
            ),
        }
    }

    async fn people_search(&mut self) -> Check {
        let id = "people-search";
        match self.client.people_total().await {
            Ok(total) => {
                // An account to try roles on in the scratch room: active, not the key's user.
                if self.options.scratch {
                    self.other = self.find_other().await;
                }
                Check::ok(
                    id,
                    format!(
                        "people search allowed ({} accounts): invitees are resolved from the \
                         listing in email order",
                        total.map_or("?".to_string(), |t| t.to_string())
                    ),
                )
            }
            Err(e) if e.http_status() == Some(403) => Check::warn(
                id,
                "people search is refused to this key's user (403): plans look each invitee's \
                 email up on its own, one call per invitee",
            ),
            Err(e) => Check::warn(id, format!("people search failed: {e}")),
        }
    }

    async fn find_other(&self) -> Option<UserDto> {
        let me = self.me.as_ref()?;
        let (people, _) = self.client.people_page(0).await.ok()?;
        let candidates: Vec<UserDto> = people
            .into_iter()
            .filter(|u| u.id != me.id && !u.is_pending() && u.status.is_none_or(|s| s == 1))
            .collect();
        // A member (type User) first: the share call silently drops guests the key's user is
        // not related to (docs/docspace-api.md, "The share call"), and admins are better left out of test rooms.
        candidates
            .iter()
            .find(|u| u.user_type() == UserType::User)
            .or_else(|| candidates.first())
            .cloned()
    }

    async fn email_case(&mut self) -> Check {
        let id = "email-case";
        let Some(me) = &self.me else {
            return Check::warn(id, "not checked: the key's profile is unknown");
        };
        let other_case = swap_case(&me.email);
        if other_case == me.email {
            return Check::warn(
                id,
                "not checked: the key user's email has no letters to change the case of",
            );
        }
        match self.client.user_by_email_as_written(&other_case).await {
            Ok(Some(u)) if u.id == me.id => Check::ok(
                id,
                "email lookups ignore case here (a MySQL install): an invitee is found however \
                 the manifest writes the address",
            ),
            Ok(_) => Check::ok(
                id,
                "email lookups are case-sensitive here (a PostgreSQL install): the tool also \
                 tries the lower-cased address and checks the people list before inviting \
                 anyone as new",
            ),
            Err(e) if e.http_status() == Some(403) => Check::warn(
                id,
                "not checked: this key's user may not look people up by email (403)",
            ),
            Err(e) => Check::warn(id, format!("not checked: {e}")),
        }
    }

    // ---- scratch ---------------------------------------------------------------------------

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
            tags: None,
            quota: None,
            deny_download: None,
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
        let again = self.client.set_share(room, &invite).await;
        let after = self.client.get_share(room).await;
        let check = match (again, after) {
            (Ok(response), Ok(after))
                if response.warning.is_none() && summary(&after) == summary(&before) =>
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
                format!("members {:?}, no warning", summary(&before)),
            ),
            (Err(e), _) | (_, Err(e)) => Check::differs(
                id,
                "sharing again with the same access failed",
                e.to_string(),
                "HTTP 200 and no change",
            ),
        };
        // Removal by id with access 0 (docs/docspace-api.md, "The share call"): the tool's
        // way of removing members.
        let removed = self
            .client
            .set_share(room, &share(vec![Invitation::by_id(&other.id, 0)]))
            .await;
        let rows = self.client.get_share(room).await;
        match (removed, rows) {
            (Ok(_), Ok(rows)) if member(&rows, &other.id).is_none() => check,
            (Ok(_), Ok(rows)) => Check::differs(
                id,
                "access 0 by id did not remove the member",
                format!(
                    "member row with access {:?}",
                    member(&rows, &other.id).map(|r| r.access)
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
        let Some(email) = self.options.invite_probe.clone() else {
            return Check::warn(
                id,
                "not checked: give --invite-probe EMAIL (an address without an account) to \
                 confirm that an email invitation creates a pending guest",
            );
        };
        match self.client.user_by_email(&email).await {
            Ok(Some(_)) => {
                return Check::warn(
                    id,
                    format!("not checked: {email} already has an account; give a new address"),
                );
            }
            Ok(None) => {}
            Err(e) => return Check::warn(id, format!("not checked: {e}")),
        }
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
        let check = match row {
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
                    response
                        .warning
                        .map(|w| format!("; warning: {w}"))
                        .unwrap_or_default()
                ),
                "a pending guest member row",
            ),
        };
        if let Some(u) = row {
            let _ = self
                .client
                .set_share(room, &share(vec![Invitation::by_id(&u.id, 0)]))
                .await;
        }
        check
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

    /// Deletes the temporary room (archived first, as the web UI does) and the tags the
    /// probes created. Runs after every scratch run, failed or interrupted.
    pub async fn cleanup(&mut self) {
        let Some((room, title)) = self.scratch_room.clone() else {
            return;
        };
        let mut notes = Vec::new();
        let state = self.client.get_room(room).await;
        let active = match &state {
            Ok(r) => !r.is_archived(),
            Err(e) if e.is_not_found() => {
                self.scratch_room = None;
                self.checks.push(Check::ok(
                    "scratch-cleanup",
                    format!("the temporary room \"{title}\" is gone"),
                ));
                return;
            }
            Err(_) => true,
        };
        if active {
            let archived = self.archive_and_wait(room).await;
            if let Err(e) = archived {
                // Deleting an active room may still be allowed (docs/docspace-api.md,
                // "Deleting rooms"): try it.
                notes.push(format!("archiving it first failed ({e})"));
            }
        }
        let deleted = async {
            self.client.delete_room(room).await?;
            self.client.wait_room_deleted(room, OPERATION_TIMEOUT).await
        }
        .await;
        let mut check = match deleted {
            Ok(()) => {
                self.scratch_room = None;
                Check::ok(
                    "scratch-cleanup",
                    format!("the temporary room \"{title}\" was deleted"),
                )
            }
            Err(e) => Check::fail(
                "scratch-cleanup",
                format!(
                    "the temporary room \"{title}\" (id {room}) could not be deleted: {e}; \
                     delete it by hand"
                ),
            ),
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
}

/// The rule row of a scratch probe.
/// (Every probe has a row: a unit test checks it; the fallback only keeps this total.)
fn rule(probe: ScratchProbe) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.probe == Probe::Scratch(probe))
        .unwrap_or(&RULES[0])
}

fn share(invitations: Vec<Invitation>) -> ShareRequest {
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

fn scopes_check(info: &ApiKeyInfo) -> Check {
    let id = "key-scopes";
    let name = info
        .name
        .as_deref()
        .map(|n| format!("key \"{}\": ", crate::redact::scrub(n)))
        .unwrap_or_default();
    let expires = info
        .expires_at
        .as_deref()
        .map(|e| format!(", expires {e}"))
        .unwrap_or_default();
    if info.is_active == Some(false) {
        return Check::fail(id, format!("{name}the key is switched off"));
    }
    let perms = &info.permissions;
    if perms.is_empty() || perms.iter().any(|p| p == "*") {
        return Check::ok(id, format!("{name}full access{expires}"));
    }
    let has = |wanted: &[&str]| {
        perms
            .iter()
            .any(|p| wanted.contains(&p.as_str()) || p == "*:write")
    };
    let read_rooms = has(&["rooms:read", "rooms:write", "*:read"]);
    let write_rooms = has(&["rooms:write"]);
    let read_people = has(&["accounts:read", "accounts:write", "*:read"]);
    let read_files = has(&["files:read", "files:write", "*:read"]);
    let scopes = perms.join(", ");
    if !read_rooms {
        return Check::fail(
            id,
            format!("{name}scopes {scopes}: without rooms:read plan cannot read the rooms"),
        );
    }
    let mut missing = Vec::new();
    if !write_rooms {
        missing.push("rooms:write (apply is refused)");
    }
    if !read_people {
        missing.push("accounts:read (invitees cannot be looked up)");
    }
    if !read_files {
        missing.push("files:read (apply cannot read archive operations and watches the room)");
    }
    if missing.is_empty() {
        Check::ok(id, format!("{name}scopes {scopes}{expires}"))
    } else {
        Check::warn(
            id,
            format!("{name}scopes {scopes}; missing {}", missing.join(", ")),
        )
    }
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

/// The address with the case of every letter swapped, so that a lookup cannot succeed by
/// exact comparison.
fn swap_case(email: &str) -> String {
    email
        .chars()
        .map(|c| {
            if c.is_lowercase() {
                c.to_uppercase().next().unwrap_or(c)
            } else {
                c.to_lowercase().next().unwrap_or(c)
            }
        })
        .collect()
}

// ---- rendering -------------------------------------------------------------------------------

/// The text answer: a line per check, details under the ones that differ, a summary.
pub fn text(outcome: &Outcome) -> String {
    let width = outcome
        .checks
        .iter()
        .map(|c| c.id.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = format!("Doctor: {}\n\n", outcome.portal);
    for check in &outcome.checks {
        out.push_str(&format!(
            "{} {:width$}  {}\n",
            check.status.symbol(),
            check.id,
            check.message
        ));
        if let Some(observed) = &check.observed {
            out.push_str(&format!("  {:width$}  observed: {observed}\n", ""));
        }
        if let Some(expected) = &check.expected {
            out.push_str(&format!("  {:width$}  expected: {expected}\n", ""));
        }
        if check.status != Status::Ok
            && let Some(section) = check.rule
        {
            out.push_str(&format!(
                "  {:width$}  rule: docs/docspace-api.md, \"{section}\"\n",
                ""
            ));
        }
    }
    let (ok, warn, fail) = (
        outcome.count(Status::Ok),
        outcome.count(Status::Warn),
        outcome.count(Status::Fail),
    );
    out.push_str(&format!(
        "\n{ok} ok, {warn} warning{}, {fail} failure{}.\n",
        if warn == 1 { "" } else { "s" },
        if fail == 1 { "" } else { "s" }
    ));
    if outcome.checks.iter().any(|c| c.expected.is_some()) {
        out.push_str(&format!(
            "This portal differs from what the tool expects: please report it, with this \
             output, at {REPORT_URL}\n"
        ));
    }
    if !outcome.scratch && outcome.healthy() {
        out.push_str(
            "Run with --scratch to confirm the server rules on a temporary room as well.\n",
        );
    }
    out
}

/// The JSON answer (`format_version` 1).
pub fn json(outcome: &Outcome) -> String {
    serde_json::to_string_pretty(outcome).unwrap_or_default() + "\n"
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
        ] {
            assert_eq!(rule(probe).probe, Probe::Scratch(probe));
        }
    }

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

    #[test]
    fn scopes_are_judged_by_what_plan_and_apply_need() {
        let info = |p: &[&str]| ApiKeyInfo {
            permissions: p.iter().map(|s| s.to_string()).collect(),
            ..ApiKeyInfo::default()
        };
        assert_eq!(scopes_check(&info(&[])).status, Status::Ok);
        assert_eq!(scopes_check(&info(&["*"])).status, Status::Ok);
        assert_eq!(
            scopes_check(&info(&["rooms:write", "accounts:read", "files:read"])).status,
            Status::Ok
        );
        let read_only = scopes_check(&info(&["rooms:read", "accounts:read", "files:read"]));
        assert_eq!(read_only.status, Status::Warn);
        assert!(read_only.message.contains("rooms:write"), "{read_only:?}");
        assert_eq!(scopes_check(&info(&["accounts:read"])).status, Status::Fail);
        let off = ApiKeyInfo {
            is_active: Some(false),
            ..ApiKeyInfo::default()
        };
        assert_eq!(scopes_check(&off).status, Status::Fail);
    }

    #[test]
    fn swapping_case_changes_every_letter() {
        assert_eq!(swap_case("Ops.Bot@Acme.test"), "oPS.bOT@aCME.TEST");
        assert_eq!(swap_case("123@4.5"), "123@4.5");
    }
}
