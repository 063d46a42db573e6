//! The scope check `plan`, `apply` and `export` make before anything else: read the key's
//! permissions (`GET /keys/@self`, allowed to every key) and refuse a command the key cannot
//! complete, naming the missing scopes (the table is `crate::model::scopes`). What a run needs
//! follows its manifest (`plan::build` says which features, before the portal is read) and
//! its plan (checked again before the first write). An unrestricted key, or a server without
//! that route, proceeds as before.

use crate::docspace::{ApiError, DocSpaceApi};
use crate::model::scopes::{self, Feature};

/// A command the key's scopes cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingScopes {
    pub command: &'static str,
    pub missing: Vec<&'static str>,
    /// What of this run needs a missing scope, in the book's words (the features of
    /// `scopes::FEATURES`); empty when the command itself needs it.
    pub for_what: Vec<&'static str>,
}

impl std::fmt::Display for MissingScopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let for_what = if self.for_what.is_empty() {
            String::new()
        } else {
            format!(", which this run needs for {}", self.for_what.join("; "))
        };
        write!(
            f,
            "the API key cannot run `{}`: it lacks the scope{} {}{for_what} (GET \
             /api/2.0/keys/@self lists its permissions; create a key with {})",
            self.command,
            if self.missing.len() == 1 { "" } else { "s" },
            self.missing.join(", "),
            scopes::command(self.command)
                .map(|c| c.scopes().join(", "))
                .unwrap_or_default()
        )
    }
}

impl std::error::Error for MissingScopes {}

/// Checks the key against the scopes a run of `command` (a row of `scopes::COMMANDS`) needs
/// when it needs only `features` (`scopes::CommandScopes::missing_for`). Returns the key's
/// permissions, for a later check against what the plan turned out to need
/// ([`check_known`]); `None` when the server does not describe the key (404, 405, any
/// error), which passes: the calls themselves then tell, as before this check existed.
pub async fn check<A: DocSpaceApi>(
    api: &A,
    command: &str,
    features: &[Feature],
) -> Result<Option<Vec<String>>, MissingScopes> {
    let permissions = match api.key_permissions().await {
        Ok(Some(permissions)) => permissions,
        Ok(None) => return Ok(None),
        Err(e) => {
            log_unknown(&e);
            return Ok(None);
        }
    };
    check_known(command, features, &permissions)?;
    Ok(Some(permissions))
}

/// [`check`] with permissions already read.
pub fn check_known(
    command: &str,
    features: &[Feature],
    permissions: &[String],
) -> Result<(), MissingScopes> {
    let Some(row) = scopes::command(command) else {
        return Ok(());
    };
    let missing = row.missing_for(features, permissions);
    if missing.is_empty() {
        Ok(())
    } else {
        // Only the features of this command that need one of the scopes it lacks.
        let for_what = scopes::FEATURES
            .iter()
            .filter(|f| !f.optional && features.contains(&f.feature))
            .filter(|f| f.calls.iter().any(|c| row.calls.contains(c)))
            .filter(|f| f.missing(permissions).iter().any(|s| missing.contains(s)))
            .map(|f| f.what)
            .collect();
        Err(MissingScopes {
            command: row.command,
            missing,
            for_what,
        })
    }
}

/// Checks the key against every call `command` may make, whatever the manifest: for commands
/// without one (`doctor --scratch`).
pub async fn check_all<A: DocSpaceApi>(api: &A, command: &str) -> Result<(), MissingScopes> {
    let all: Vec<Feature> = scopes::FEATURES.iter().map(|f| f.feature).collect();
    // Without a manifest the command itself needs every scope: no feature is named.
    check(api, command, &all)
        .await
        .map(|_| ())
        .map_err(|e| MissingScopes {
            for_what: Vec::new(),
            ..e
        })
}

fn log_unknown(e: &ApiError) {
    tracing::debug!("the key's scopes are unknown, going on: {e}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// The refusal names, as what needs the scope, only the features of this command that
    /// need a scope the key lacks: not a resend for `export`, not the email lookups for a
    /// missing `accounts.self:read`.
    #[test]
    fn a_refusal_names_only_the_features_that_need_the_missing_scope() {
        let all: Vec<Feature> = scopes::FEATURES.iter().map(|f| f.feature).collect();
        let e = check_known(
            "apply",
            &all,
            &p(&[
                "rooms:write",
                "accounts:read",
                "accounts:write",
                "files:read",
            ]),
        )
        .unwrap_err();
        assert_eq!(e.missing, vec!["accounts.self:read"]);
        assert!(e.for_what.is_empty(), "{e}");
        let e = check_known("export", &all, &p(&["accounts.self:read", "rooms:read"])).unwrap_err();
        assert_eq!(e.missing, vec!["accounts:read"]);
        assert!(!e.to_string().contains("resending"), "{e}");
        assert!(!e.to_string().contains("archiving"), "{e}");
        let e = check_known(
            "apply",
            &[Feature::EmailInvitees, Feature::Archives],
            &p(&["accounts.self:read", "rooms:write", "accounts:read"]),
        )
        .unwrap_err();
        assert_eq!(e.missing, vec!["files:read"]);
        assert_eq!(e.for_what.len(), 1, "{e}");
        assert!(e.for_what[0].starts_with("archiving"), "{e}");
    }
}
