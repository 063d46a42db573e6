//! API-key scopes: the one table of the scope each route needs and the scopes each command
//! needs (docs/docspace-api.md, "API-key scopes"). The route rules are the server's
//! (`common/ASC.Api.Core/Auth/AuthorizationExtension.cs`, `ScopesMap`: the first pattern
//! that matches `METHOD route` decides; a GET also accepts `*:read` and `*:write`, any other
//! method `*:write`; `ApiKeyBearerAuthHandler.cs`: a key with no permissions, or with `*`,
//! has full access). Used by the book's scope table, the 403 hints, `doctor` and the check
//! `plan`, `apply` and `export` make before reading (`crate::observe::scopes`).

/// The server's `ScopesMap`, in its order: (reads?, route prefix after `api/2.0/`, scopes).
/// A route no rule matches needs only the global scopes (`*:read` for a GET).
const ROUTE_RULES: &[(bool, &str, &[&str])] = &[
    (true, "files/rooms", &["rooms:read", "rooms:write"]),
    (false, "files/rooms", &["rooms:write"]),
    (true, "files", &["files:read", "files:write"]),
    (false, "files", &["files:write"]),
    (
        true,
        "people/@self",
        &["accounts.self:read", "accounts.self:write"],
    ),
    (false, "people/@self", &["accounts.self:write"]),
    (true, "people", &["accounts:read", "accounts:write"]),
    (false, "people", &["accounts:write"]),
    (true, "group", &["accounts:read"]),
    (false, "group", &["accounts:write"]),
    // `GET api/[^/]+/keys/@self?` is `*`: no scope at all.
    (true, "keys/@sel", &["*"]),
];

/// The scopes the server accepts for `method path` (`path` as sent, e.g.
/// `/api/2.0/people/@self`), or `None` when the route needs none (`GET /keys/@self`).
pub fn accepted(method: &str, path: &str) -> Option<Vec<&'static str>> {
    let reads = method.eq_ignore_ascii_case("GET");
    let route = path
        .trim_start_matches('/')
        .strip_prefix("api/")
        .and_then(|rest| rest.split_once('/'))
        .map(|(_, route)| route)
        .unwrap_or(path);
    let local: &[&str] = ROUTE_RULES
        .iter()
        .find(|(r, prefix, _)| *r == reads && route.starts_with(prefix))
        .map(|(_, _, scopes)| *scopes)
        .unwrap_or(&[]);
    if local == ["*"] {
        return None;
    }
    let mut all: Vec<&'static str> = if reads {
        vec!["*:read", "*:write"]
    } else {
        vec!["*:write"]
    };
    all.extend(local.iter().copied());
    Some(all)
}

/// The narrowest scope that lets a key make `method path`: the one to ask for.
pub fn needed(method: &str, path: &str) -> Option<&'static str> {
    let accepted = accepted(method, path)?;
    // The route's own scopes follow the global ones; the first of them is the narrowest.
    let globals = if method.eq_ignore_ascii_case("GET") {
        2
    } else {
        1
    };
    accepted.get(globals).or_else(|| accepted.first()).copied()
}

/// Whether a key with these permissions (from `GET /keys/@self`) may make `method path`.
pub fn allows(permissions: &[String], method: &str, path: &str) -> bool {
    if unrestricted(permissions) {
        return true;
    }
    match accepted(method, path) {
        None => true,
        Some(accepted) => accepted.iter().any(|s| permissions.iter().any(|p| p == s)),
    }
}

/// An empty permission list, or one holding `*`, is full access (`ApiKeyBearerAuthHandler`).
pub fn unrestricted(permissions: &[String]) -> bool {
    permissions.is_empty() || permissions.iter().any(|p| p == "*")
}

/// A command (or command with an option) and the calls it cannot do without. Calls a
/// command can do without (it warns and goes on) are not listed: `doctor`'s version read
/// (`GET /settings/version/build`, which only `*:read` allows).
#[derive(Debug, Clone, Copy)]
pub struct CommandScopes {
    /// As typed, e.g. `apply --prune`.
    pub command: &'static str,
    /// `(method, path)` of each call it needs.
    pub calls: &'static [(&'static str, &'static str)],
}

/// `(method, path)` of one call.
type Call = (&'static str, &'static str);

const SELF: (&str, &str) = ("GET", "/api/2.0/people/@self");
const ROOMS_READ: (&str, &str) = ("GET", "/api/2.0/files/rooms");
const PEOPLE_READ: (&str, &str) = ("GET", "/api/2.0/people/email");
const GROUP_READ: (&str, &str) = ("GET", "/api/2.0/group");
const ROOMS_WRITE: (&str, &str) = ("PUT", "/api/2.0/files/rooms/{id}/share");
const FILEOPS: (&str, &str) = ("GET", "/api/2.0/files/fileops");
/// The room's resend route, which `apply --resend-pending` and doctor's resend probe use
/// (`rooms:write`, which `ROOMS_WRITE` already asks).
const ROOM_RESEND: (&str, &str) = ("POST", "/api/2.0/files/rooms/{id}/resend");
const TAGS_WRITE: (&str, &str) = ("DELETE", "/api/2.0/files/tags");
/// Rooms from templates (docs/docspace-api.md, "Room templates"): the templates listing is
/// the room listing (`searchArea=4`); the job's start and status are under `files/rooms`.
const TEMPLATE_START: (&str, &str) = ("POST", "/api/2.0/files/rooms/fromTemplate");
const TEMPLATE_STATUS: (&str, &str) = ("GET", "/api/2.0/files/rooms/fromTemplate/status");
/// A folder's content (`doctor --scratch` compares a template's folders with its room's).
const FOLDER_READ: (&str, &str) = ("GET", "/api/2.0/files/{id}");

const GROUP_WRITE: (&str, &str) = ("POST", "/api/2.0/group");
const PEOPLE_INVITE: (&str, &str) = ("POST", "/api/2.0/people/invite");
const PEOPLE_TYPE: (&str, &str) = ("PUT", "/api/2.0/people/type/{type}");

const FILES_SETTINGS: (&str, &str) = ("GET", "/api/2.0/files/settings");
const PASSWORD_SETTINGS: (&str, &str) = ("GET", "/api/2.0/settings/security/password");
const COVERS: (&str, &str) = ("GET", "/api/2.0/files/rooms/covers");

/// A part of a run that only some manifests (or plans) need. The command rows below list
/// every call a command may make; a run asks only for the calls of the features it needs
/// ([`CommandScopes::missing_for`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// A manifest invitee by `email:`: the people lookups.
    EmailInvitees,
    /// A manifest invitee by `group:`: the group listing.
    GroupInvitees,
    /// A plan that archives or unarchives a room: the operation is polled.
    Archives,
    /// A plan that resends invitations (`--resend-pending`).
    Resends,
    /// The portal's link restrictions, read when the manifest manages links.
    LinkRestrictions,
    /// The portal's password policy, read when a link names `password_env`.
    PasswordPolicy,
    /// The portal's covers, read when a room sets `cover`.
    Covers,
    /// `groups:`: groups read with their members, created and updated.
    Groups,
    /// `people:`: accounts looked up, invited with a type, their types raised.
    People,
}

/// A [`Feature`] and the calls it makes.
#[derive(Debug, Clone, Copy)]
pub struct FeatureScopes {
    pub feature: Feature,
    /// In the book's words.
    pub what: &'static str,
    pub calls: &'static [(&'static str, &'static str)],
    /// A read the plan can do without: a key that may not make it gets the server's default,
    /// with one warning (`plan::portal_policy`), and is never refused for it.
    pub optional: bool,
}

/// Every feature a manifest or plan may need, with its calls. Every feature adds its rows.
pub const FEATURES: &[FeatureScopes] = &[
    FeatureScopes {
        feature: Feature::EmailInvitees,
        what: "invitees by `email:`",
        calls: &[PEOPLE_READ],
        optional: false,
    },
    FeatureScopes {
        feature: Feature::GroupInvitees,
        what: "invitees by `group:`",
        calls: &[GROUP_READ],
        optional: false,
    },
    FeatureScopes {
        feature: Feature::Archives,
        what: "archiving or unarchiving a room (`state: archived`, `--prune`, a room found archived)",
        calls: &[FILEOPS],
        optional: false,
    },
    FeatureScopes {
        feature: Feature::Resends,
        what: "resending invitations (`--resend-pending`)",
        calls: &[ROOM_RESEND],
        optional: false,
    },
    FeatureScopes {
        feature: Feature::LinkRestrictions,
        what: "the portal's link restrictions (read when the manifest manages `links:`)",
        calls: &[FILES_SETTINGS],
        optional: true,
    },
    FeatureScopes {
        feature: Feature::PasswordPolicy,
        what: "the portal's password policy (read when a link names `password_env`)",
        calls: &[PASSWORD_SETTINGS],
        optional: true,
    },
    FeatureScopes {
        feature: Feature::Covers,
        what: "the portal's covers (read when a room sets `cover`)",
        calls: &[COVERS],
        optional: true,
    },
    FeatureScopes {
        feature: Feature::Groups,
        what: "groups as code (`groups:`)",
        calls: &[PEOPLE_READ, GROUP_READ, GROUP_WRITE],
        optional: false,
    },
    FeatureScopes {
        feature: Feature::People,
        what: "people as code (`people:`)",
        calls: &[PEOPLE_READ, PEOPLE_INVITE, PEOPLE_TYPE],
        optional: false,
    },
];

/// The row of `feature` (as in [`FEATURES`]).
pub fn feature(feature: Feature) -> Option<&'static FeatureScopes> {
    FEATURES.iter().find(|f| f.feature == feature)
}

impl FeatureScopes {
    /// The narrowest scope of each of the feature's calls.
    pub fn scopes(&self) -> Vec<&'static str> {
        narrowest(self.calls.iter(), |_, _| true)
    }

    /// The scopes this key lacks for the feature (empty: it has them).
    pub fn missing(&self, permissions: &[String]) -> Vec<&'static str> {
        missing_of(self.calls.iter(), permissions)
    }
}

/// The narrowest scope of each call `permissions` does not allow, once each.
fn missing_of<'a>(
    calls: impl Iterator<Item = &'a (&'static str, &'static str)>,
    permissions: &[String],
) -> Vec<&'static str> {
    narrowest(calls, |method, path| !allows(permissions, method, path))
}

/// The narrowest scope of each call that `keep` keeps, once each, in the calls' order.
fn narrowest<'a>(
    calls: impl Iterator<Item = &'a (&'static str, &'static str)>,
    keep: impl Fn(&str, &str) -> bool,
) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (method, path) in calls {
        if keep(method, path)
            && let Some(s) = needed(method, path)
            && !out.contains(&s)
        {
            out.push(s);
        }
    }
    out
}

/// The reads of a command that reads rooms, members, people and groups without writing.
const READ_ALL: &[(&str, &str)] = &[SELF, ROOMS_READ, PEOPLE_READ, GROUP_READ];

/// Every call `apply` may make, with or without `--prune` (an archive is the operation
/// `FILEOPS` polls, as for `state: archived`).
const APPLY: [Call; 11] = [
    SELF,
    ROOMS_READ,
    PEOPLE_READ,
    GROUP_READ,
    ROOMS_WRITE,
    FILEOPS,
    TEMPLATE_START,
    TEMPLATE_STATUS,
    GROUP_WRITE,
    PEOPLE_INVITE,
    PEOPLE_TYPE,
];

/// `apply --resend-pending`: `apply` and the room's resend route.
const APPLY_RESENDING: [Call; 12] = with_call(APPLY, ROOM_RESEND);

/// Every call `doctor --scratch` may make: the reads, and the scratch room's writes.
const DOCTOR_SCRATCH: [Call; 9] = [
    SELF,
    ROOMS_READ,
    PEOPLE_READ,
    ROOMS_WRITE,
    FILEOPS,
    TAGS_WRITE,
    TEMPLATE_START,
    TEMPLATE_STATUS,
    FOLDER_READ,
];

/// `doctor --scratch --invite-probe`: `--scratch` and the resend probe.
const DOCTOR_SCRATCH_RESENDING: [Call; 10] = with_call(DOCTOR_SCRATCH, ROOM_RESEND);

/// `calls` and then `extra` (`M` is `N + 1`, checked when the constant is built).
const fn with_call<const N: usize, const M: usize>(calls: [Call; N], extra: Call) -> [Call; M] {
    assert!(M == N + 1);
    let mut out = [extra; M];
    let mut i = 0;
    while i < N {
        out[i] = calls[i];
        i += 1;
    }
    out
}

/// Every command and option that talks to a portal, with the calls it needs. Every feature
/// adds its rows here.
pub const COMMANDS: &[CommandScopes] = &[
    CommandScopes {
        command: "validate",
        calls: &[],
    },
    CommandScopes {
        command: "plan",
        calls: READ_ALL,
    },
    CommandScopes {
        command: "apply",
        calls: &APPLY,
    },
    CommandScopes {
        command: "apply --prune",
        calls: &APPLY,
    },
    CommandScopes {
        command: "apply --resend-pending",
        calls: &APPLY_RESENDING,
    },
    CommandScopes {
        command: "export",
        calls: READ_ALL,
    },
    CommandScopes {
        command: "access",
        calls: READ_ALL,
    },
    CommandScopes {
        command: "audit",
        calls: READ_ALL,
    },
    CommandScopes {
        command: "doctor",
        calls: &[SELF, ROOMS_READ, PEOPLE_READ],
    },
    CommandScopes {
        command: "doctor --scratch",
        calls: &DOCTOR_SCRATCH,
    },
    CommandScopes {
        command: "doctor --scratch --invite-probe",
        calls: &DOCTOR_SCRATCH_RESENDING,
    },
];

/// The row of `command` (as in [`COMMANDS`]).
pub fn command(command: &str) -> Option<&'static CommandScopes> {
    COMMANDS.iter().find(|c| c.command == command)
}

impl CommandScopes {
    /// The fewest scopes a key made for this command needs: the narrowest scope of each
    /// call, without those another of them already covers (`rooms:write` covers the reads
    /// of `rooms:read`; `accounts:write` does not cover `GET /group`).
    pub fn scopes(&self) -> Vec<&'static str> {
        let mut out = narrowest(self.calls.iter(), |_, _| true);
        let mut i = 0;
        while i < out.len() {
            let rest: Vec<String> = out
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, s)| s.to_string())
                .collect();
            let covered = self
                .calls
                .iter()
                .all(|(method, path)| allows(&rest, method, path));
            if covered && !rest.is_empty() {
                out.remove(i);
            } else {
                i += 1;
            }
        }
        out
    }

    /// The scopes this key lacks for the command (empty: it can run it), whatever the
    /// manifest: every call the command may make.
    pub fn missing(&self, permissions: &[String]) -> Vec<&'static str> {
        missing_of(self.calls.iter(), permissions)
    }

    /// The calls a run of this command needs when it needs only `features`: the command's
    /// calls that belong to no feature (always made), and those of the features it needs.
    /// An optional feature's calls are never needed (the run goes on without them).
    pub fn calls_for(&self, features: &[Feature]) -> Vec<(&'static str, &'static str)> {
        let conditional = |call: &(&str, &str)| FEATURES.iter().any(|f| f.calls.contains(call));
        let wanted = |call: &(&str, &str)| {
            FEATURES
                .iter()
                .filter(|f| !f.optional && features.contains(&f.feature))
                .any(|f| f.calls.contains(call))
        };
        self.calls
            .iter()
            .filter(|c| !conditional(c) || wanted(c))
            .copied()
            .collect()
    }

    /// The scopes this key lacks for a run of the command that needs only `features`.
    pub fn missing_for(&self, features: &[Feature], permissions: &[String]) -> Vec<&'static str> {
        missing_of(self.calls_for(features).iter(), permissions)
    }
}

/// The help line of a 403 on `method path`: the scope the key probably lacks (the server
/// answers a missing scope with an empty 403, so the tool can only name the likely cause).
pub fn forbidden_hint(method: &str, path: &str) -> Option<&'static str> {
    if !path.trim_start_matches('/').starts_with("api/") {
        return None;
    }
    Some(match needed(method, path)? {
        "rooms:read" => {
            "the key may lack the scope rooms:read (or rooms:write), or its user has no rights on the room"
        }
        "rooms:write" => {
            "the key may lack the scope rooms:write, or its user has no rights on the room or account"
        }
        "files:read" => {
            "the key may lack the scope files:read: rooms:* does not cover /files/tags or /files/fileops"
        }
        "files:write" => {
            "the key may lack the scope files:write: rooms:* does not cover /files/tags or /files/fileops"
        }
        "accounts.self:read" => {
            "the key may lack the scope accounts.self:read: accounts:* does not cover /people/@self"
        }
        "accounts:read" => {
            "the key may lack the scope accounts:read, or its user may not see this account"
        }
        "accounts:write" => {
            "the key may lack the scope accounts:write, or its user may not change this account"
        }
        "*:read" => "this call needs a key with the scope *:read (or full access)",
        _ => return None,
    })
}

/// The book's scope table (docs/book/src/reference/portal.md, "Scopes"), generated so a test
/// can hold the book to it.
pub fn markdown_table() -> String {
    let mut out = command_table();
    out.push_str(
        "\nSome calls are made only when the manifest or the plan needs them, and only then \
         are their scopes asked for:\n\n\
         | Only when the run needs | Scopes | Without them |\n|---|---|---|\n",
    );
    for f in FEATURES {
        let scopes: Vec<String> = f.scopes().iter().map(|s| format!("`{s}`")).collect();
        let without = if f.optional {
            "the server's default is assumed, with a warning"
        } else {
            "the command stops before any write, naming the scope"
        };
        out.push_str(&format!(
            "| {} | {} | {without} |\n",
            f.what,
            scopes.join(", ")
        ));
    }
    out
}

/// The scopes of each command (the README's table; the book's begins with it).
pub fn command_table() -> String {
    let mut out = String::from("| Command | Scopes the key needs |\n|---|---|\n");
    for c in COMMANDS {
        let scopes = c.scopes();
        let scopes = if scopes.is_empty() {
            "none (no portal)".to_string()
        } else {
            scopes
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&format!("| `{}` | {scopes} |\n", c.command));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_first_matching_rule_decides() {
        assert_eq!(
            needed("GET", "/api/2.0/people/@self"),
            Some("accounts.self:read")
        );
        assert_eq!(
            needed("PUT", "/api/2.0/people/invite"),
            Some("accounts:write")
        );
        assert_eq!(needed("GET", "/api/2.0/files/tags"), Some("files:read"));
        assert_eq!(needed("GET", "/api/2.0/files/fileops"), Some("files:read"));
        assert_eq!(needed("GET", "/api/2.0/files/rooms/5"), Some("rooms:read"));
        assert_eq!(needed("GET", "/api/2.0/group/x"), Some("accounts:read"));
        assert_eq!(
            needed("GET", "/api/2.0/settings/version/build"),
            Some("*:read")
        );
        assert_eq!(needed("GET", "/api/2.0/keys/@self"), None);
    }

    #[test]
    fn a_run_asks_only_for_the_features_it_needs() {
        let apply = command("apply").unwrap();
        let lean = p(&["accounts.self:read", "rooms:write"]);
        assert!(apply.missing_for(&[], &lean).is_empty());
        assert_eq!(
            apply.missing_for(&[Feature::EmailInvitees], &lean),
            vec!["accounts:read"]
        );
        assert_eq!(
            apply.missing_for(&[Feature::Archives], &lean),
            vec!["files:read"]
        );
        // Optional reads never make a run fail, and every call of a command without a
        // manifest is asked for.
        assert!(
            apply
                .missing_for(&[Feature::PasswordPolicy], &lean)
                .is_empty()
        );
        assert_eq!(
            apply.missing(&lean),
            vec!["accounts:read", "files:read", "accounts:write"]
        );
        assert_eq!(
            apply.missing_for(&[Feature::Groups], &lean),
            vec!["accounts:read", "accounts:write"]
        );
        let policy = feature(Feature::PasswordPolicy).unwrap();
        assert_eq!(policy.scopes(), vec!["*:read"]);
        assert!(policy.optional);
    }

    #[test]
    fn accounts_star_does_not_cover_self_and_rooms_star_not_tags() {
        let key = p(&[
            "accounts:read",
            "accounts:write",
            "rooms:read",
            "rooms:write",
        ]);
        assert!(!allows(&key, "GET", "/api/2.0/people/@self"));
        assert!(!allows(&key, "DELETE", "/api/2.0/files/tags"));
        assert!(allows(&key, "GET", "/api/2.0/files/rooms"));
        assert!(allows(&p(&[]), "GET", "/api/2.0/people/@self"));
        assert!(allows(&p(&["*"]), "PUT", "/api/2.0/people/invite"));
        assert_eq!(
            command("plan").map(|c| c.missing(&key)),
            Some(vec!["accounts.self:read"])
        );
    }

    /// Rooms from templates add no scope to `apply` (docs/docspace-api.md, "Room templates"):
    /// the start and the status are `files/rooms` calls, which `rooms:write` covers.
    #[test]
    fn template_calls_need_rooms_scopes_only() {
        assert_eq!(
            needed("POST", "/api/2.0/files/rooms/fromTemplate"),
            Some("rooms:write")
        );
        assert_eq!(
            needed("GET", "/api/2.0/files/rooms/fromTemplate/status"),
            Some("rooms:read")
        );
        let apply = command("apply")
            .map(CommandScopes::scopes)
            .unwrap_or_default();
        assert!(!apply.contains(&"files:write"), "{apply:?}");
    }
}
