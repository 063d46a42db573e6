//! The read-only probes of [`Doctor`]: the portal, the key and its scopes, what the key's
//! user sees, quotas, and the read-only rules of [`super::RULES`] (room listing, connected
//! storage, people search, email case). None of them sends anything but a GET.

use crate::docspace::{ApiKeyInfo, BuildVersion, ErrorKind, RoomDto, SearchArea, UserDto};
use crate::model::UserType;

use super::{Check, Doctor, ReadProbe, status_text, type_name};

impl Doctor<'_> {
    pub(super) async fn portal(&mut self) -> bool {
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
                         version endpoint is not available to this key or portal (a \
                         restricted key needs *:read for it)",
                        status_text(&e)
                    ),
                ));
                true
            }
        }
    }

    pub(super) async fn key(&mut self) -> bool {
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

    pub(super) async fn key_scopes(&mut self) {
        let check = match self.client.key_self().await {
            Ok(info) => scopes_check(&info),
            Err(e) if matches!(e.http_status(), Some(401 | 403 | 404 | 405)) => Check::warn(
                "key-scopes",
                format!(
                    "the portal does not describe the key (HTTP {}): its scopes are unknown; \
                     see the scope table (plan needs accounts.self:read, rooms:read and \
                     accounts:read; apply also rooms:write and files:read)",
                    status_text(&e)
                ),
            ),
            Err(e) => Check::warn("key-scopes", format!("the key's scopes are unknown: {e}")),
        };
        self.checks.push(check);
    }

    pub(super) fn visibility(&mut self) {
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

    pub(super) fn quotas(&mut self) {
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

    pub(super) async fn read_rule(&mut self, probe: ReadProbe) -> Check {
        match probe {
            ReadProbe::ListingConsistent => self.listing_consistent().await,
            ReadProbe::ConnectedStorage => self.connected_storage(),
            ReadProbe::PeopleSearch => self.people_search().await,
            ReadProbe::EmailCase => self.email_case().await,
            ReadProbe::TemplatesListedApart => self.templates_listed_apart().await,
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
}

/// The most of the key's permissions `doctor` lists (the answer is the server's: a key made
/// by hand has a dozen at most, and a list past this says nothing more).
const SHOWN_SCOPES: usize = 30;

/// The longest text of the key's record shown, in characters.
const SHOWN_CHARS: usize = 80;

/// Text of the key's record (`GET /keys/@self`, hostile like any answer) as `doctor` shows
/// it: secrets scrubbed, controls escaped, cut to [`SHOWN_CHARS`].
fn shown(text: &str) -> String {
    let scrubbed = crate::redact::scrub(text);
    let visible = crate::text::visible(&scrubbed);
    if visible.chars().count() > SHOWN_CHARS {
        let cut: String = visible.chars().take(SHOWN_CHARS).collect();
        format!("{cut}…")
    } else {
        visible.into_owned()
    }
}

fn scopes_check(info: &ApiKeyInfo) -> Check {
    let id = "key-scopes";
    let name = info
        .name
        .as_deref()
        .map(|n| format!("key \"{}\": ", shown(n)))
        .unwrap_or_default();
    let expires = info
        .expires_at
        .as_deref()
        .map(|e| format!(", expires {}", shown(e)))
        .unwrap_or_default();
    if info.is_active == Some(false) {
        return Check::fail(id, format!("{name}the key is switched off"));
    }
    let perms = &info.permissions;
    if crate::model::scopes::unrestricted(perms) {
        return Check::ok(id, format!("{name}full access{expires}"));
    }
    let mut scopes: Vec<String> = perms.iter().take(SHOWN_SCOPES).map(|p| shown(p)).collect();
    if perms.len() > SHOWN_SCOPES {
        scopes.push(format!("and {} more", perms.len() - SHOWN_SCOPES));
    }
    let scopes = scopes.join(", ");
    // Per command of the one scope table (`crate::model::scopes::COMMANDS`): can this key
    // run it, and if not, what it lacks.
    let mut lines = Vec::new();
    let mut plan_ok = true;
    let mut all_ok = true;
    for row in crate::model::scopes::COMMANDS {
        let missing = row.missing(perms);
        let always = row.missing_for(&[], perms);
        if missing.is_empty() {
            lines.push(format!("{}: yes", row.command));
        } else if always.is_empty() {
            // The key runs the command, but not for manifests that need these features.
            all_ok = false;
            lines.push(format!(
                "{}: yes, except {}",
                row.command,
                features_lacking(row, perms).join(", ")
            ));
        } else {
            all_ok = false;
            if row.command == "plan" {
                plan_ok = false;
            }
            lines.push(format!(
                "{}: no, missing {}",
                row.command,
                missing.join(", ")
            ));
        }
    }
    // The reads a plan can do without (`optional` rows of `crate::model::scopes::FEATURES`):
    // named, so that the warning a plan gives is expected.
    for f in crate::model::scopes::FEATURES.iter().filter(|f| f.optional) {
        let missing = f.missing(perms);
        if !missing.is_empty() {
            lines.push(format!(
                "{}: not readable, missing {} (the server's default is assumed)",
                f.what,
                missing.join(", ")
            ));
        }
    }
    let message = format!("{name}scopes {scopes}{expires}; {}", lines.join("; "));
    if !plan_ok {
        Check::fail(id, message)
    } else if all_ok {
        Check::ok(id, message)
    } else {
        Check::warn(id, message)
    }
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

/// The features of a command's row this key cannot run (`name (missing scopes)`): a key may
/// run `apply` for rooms yet lack what `groups:` needs.
fn features_lacking(row: &crate::model::scopes::CommandScopes, perms: &[String]) -> Vec<String> {
    crate::model::scopes::FEATURES
        .iter()
        .filter(|f| !f.optional && f.calls.iter().any(|c| row.calls.contains(c)))
        .filter_map(|f| {
            let missing = row.missing_for(&[f.feature], perms);
            (!missing.is_empty()).then(|| format!("{} (missing {})", f.what, missing.join(", ")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    /// The key's record is the server's answer: its scope strings, name and expiry are
    /// shown with controls escaped, each cut short, and a huge list is not listed whole.
    #[test]
    fn a_hostile_key_record_is_shown_bounded_and_escaped() {
        let mut permissions: Vec<String> = vec!["rooms:write\u{1b}[2J".into(), "x".repeat(5000)];
        permissions.extend((0..10_000).map(|i| format!("junk:{i}")));
        let info = ApiKeyInfo {
            name: Some("evil\u{1b}]0;title\u{7}".into()),
            expires_at: Some("2030\r\n✔ fake".into()),
            permissions,
            ..ApiKeyInfo::default()
        };
        let check = scopes_check(&info);
        assert_eq!(check.status, Status::Fail);
        assert!(
            !check.message.chars().any(char::is_control),
            "{}",
            check.message
        );
        assert!(
            check.message.contains("rooms:write\\u{1b}[2J"),
            "{}",
            check.message
        );
        assert!(check.message.contains("and 9972 more"), "{}", check.message);
        assert!(check.message.len() < 6000, "{}", check.message.len());
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
            scopes_check(&info(&[
                "accounts.self:read",
                "rooms:write",
                "accounts:read",
                "accounts:write",
                "files:write"
            ]))
            .status,
            Status::Ok
        );
        let read_only = scopes_check(&info(&[
            "accounts.self:read",
            "rooms:read",
            "accounts:read",
            "files:read",
        ]));
        assert_eq!(read_only.status, Status::Warn);
        assert!(
            read_only
                .message
                .contains("plan: yes; apply: no, missing rooms:write"),
            "{read_only:?}"
        );
        // accounts:* does not cover /people/@self.
        let no_self = scopes_check(&info(&["rooms:write", "accounts:read", "accounts:write"]));
        assert_eq!(no_self.status, Status::Fail);
        assert!(
            no_self
                .message
                .contains("plan: no, missing accounts.self:read")
        );
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
