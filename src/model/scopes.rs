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

const SELF: (&str, &str) = ("GET", "/api/2.0/people/@self");
const ROOMS_READ: (&str, &str) = ("GET", "/api/2.0/files/rooms");
const PEOPLE_READ: (&str, &str) = ("GET", "/api/2.0/people/email");
const GROUP_READ: (&str, &str) = ("GET", "/api/2.0/group");
const ROOMS_WRITE: (&str, &str) = ("PUT", "/api/2.0/files/rooms/{id}/share");
const FILEOPS: (&str, &str) = ("GET", "/api/2.0/files/fileops");
const INVITE: (&str, &str) = ("PUT", "/api/2.0/people/invite");
const TAGS_WRITE: (&str, &str) = ("DELETE", "/api/2.0/files/tags");
const GROUP_WRITE: (&str, &str) = ("POST", "/api/2.0/group");
const PEOPLE_INVITE: (&str, &str) = ("POST", "/api/2.0/people/invite");
const PEOPLE_TYPE: (&str, &str) = ("PUT", "/api/2.0/people/type/{type}");

/// The row `plan::build` checks besides the command's own when an `apply` manifest has
/// `groups:` or `people:` (their writes need `accounts:write`).
pub const APPLY_ORG: &str = "apply with groups: or people:";

/// Every command and option that talks to a portal, with the calls it needs. Every feature
/// adds its rows here.
pub const COMMANDS: &[CommandScopes] = &[
    CommandScopes {
        command: "validate",
        calls: &[],
    },
    CommandScopes {
        command: "plan",
        calls: &[SELF, ROOMS_READ, PEOPLE_READ, GROUP_READ],
    },
    CommandScopes {
        command: "apply",
        calls: &[
            SELF,
            ROOMS_READ,
            PEOPLE_READ,
            GROUP_READ,
            ROOMS_WRITE,
            FILEOPS,
        ],
    },
    CommandScopes {
        command: "apply --prune",
        calls: &[
            SELF,
            ROOMS_READ,
            PEOPLE_READ,
            GROUP_READ,
            ROOMS_WRITE,
            FILEOPS,
        ],
    },
    CommandScopes {
        command: "apply --resend-pending",
        calls: &[
            SELF,
            ROOMS_READ,
            PEOPLE_READ,
            GROUP_READ,
            ROOMS_WRITE,
            FILEOPS,
            INVITE,
        ],
    },
    CommandScopes {
        command: APPLY_ORG,
        calls: &[
            SELF,
            ROOMS_READ,
            PEOPLE_READ,
            GROUP_READ,
            ROOMS_WRITE,
            FILEOPS,
            GROUP_WRITE,
            PEOPLE_INVITE,
            PEOPLE_TYPE,
        ],
    },
    CommandScopes {
        command: "export",
        calls: &[SELF, ROOMS_READ, PEOPLE_READ, GROUP_READ],
    },
    CommandScopes {
        command: "doctor",
        calls: &[SELF, ROOMS_READ, PEOPLE_READ],
    },
    CommandScopes {
        command: "doctor --scratch",
        calls: &[
            SELF,
            ROOMS_READ,
            PEOPLE_READ,
            ROOMS_WRITE,
            FILEOPS,
            TAGS_WRITE,
        ],
    },
    CommandScopes {
        command: "doctor --scratch --invite-probe",
        calls: &[
            SELF,
            ROOMS_READ,
            PEOPLE_READ,
            ROOMS_WRITE,
            FILEOPS,
            TAGS_WRITE,
            INVITE,
        ],
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
        let mut out: Vec<&'static str> = Vec::new();
        for (method, path) in self.calls {
            if let Some(s) = needed(method, path)
                && !out.contains(&s)
            {
                out.push(s);
            }
        }
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

    /// The scopes this key lacks for the command (empty: it can run it).
    pub fn missing(&self, permissions: &[String]) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for (method, path) in self.calls {
            if !allows(permissions, method, path)
                && let Some(s) = needed(method, path)
                && !out.contains(&s)
            {
                out.push(s);
            }
        }
        out
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
}
