//! How a command ended. Commands return this; `main` turns it into the process exit code in
//! one place (the public contract of docs/architecture.md, "Commands and exit codes").

/// The outcome of a command that did not fail outright (errors map to [`ExitStatus::Error`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: success; for `plan --detailed-exitcode`, no changes.
    Success,
    /// 1: an error before or instead of any change.
    Error,
    /// 2: `plan --detailed-exitcode` found changes; `export --check` found differences.
    Changes,
    /// 3: `apply` ran but the portal does not fully match the plan: an item failed, or was
    /// skipped (a dependency failed, the removal guard, a stale saved-plan room, Ctrl-C or
    /// SIGTERM).
    ItemsFailed,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Error => 1,
            ExitStatus::Changes => 2,
            ExitStatus::ItemsFailed => 3,
        }
    }
}
