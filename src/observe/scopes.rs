//! The scope check `plan`, `apply` and `export` make before anything else: read the key's
//! permissions (`GET /keys/@self`, allowed to every key) and refuse a command the key cannot
//! complete, naming the missing scopes (the table is `crate::model::scopes`). An unrestricted
//! key, or a server without that route, proceeds as before.

use crate::docspace::{ApiError, DocSpaceApi};
use crate::model::scopes;

/// A command the key's scopes cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingScopes {
    pub command: &'static str,
    pub missing: Vec<&'static str>,
}

impl std::fmt::Display for MissingScopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the API key cannot run `{}`: it lacks the scope{} {} (GET /api/2.0/keys/@self lists \
             its permissions; create a key with {})",
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

/// Checks the key against the scopes `command` (a row of `scopes::COMMANDS`) needs. A key
/// the server does not describe (404, 405, any error) passes: the calls themselves then
/// tell, as before this check existed.
pub async fn check<A: DocSpaceApi>(api: &A, command: &str) -> Result<(), MissingScopes> {
    let Some(row) = scopes::command(command) else {
        return Ok(());
    };
    let permissions = match api.key_permissions().await {
        Ok(Some(permissions)) => permissions,
        Ok(None) => return Ok(()),
        Err(e) => {
            log_unknown(&e);
            return Ok(());
        }
    };
    let missing = row.missing(&permissions);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(MissingScopes {
            command: row.command,
            missing,
        })
    }
}

fn log_unknown(e: &ApiError) {
    tracing::debug!("the key's scopes are unknown, going on: {e}");
}
