//! Room templates (docs/docspace-api.md, "Room templates"): how a manifest names one, and
//! the server's rules about the one create-from-template job per portal.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How a manifest room names its template (`template:`): an integer is the template's id,
/// a string its title (stored form: trimmed and sanitised like room titles, see
/// [`crate::model::sanitize_title`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateRef {
    Id(i64),
    Title(String),
}

impl TemplateRef {
    /// As people read it: the title in backticks, or `id N`.
    pub fn label(&self) -> String {
        match self {
            TemplateRef::Id(id) => format!("id {id}"),
            TemplateRef::Title(t) => format!("`{t}`"),
        }
    }
}

/// `FolderType.RoomTemplates`: the `rootFolderType` of a template. A server without templates
/// would answer the templates area with its rooms, so only entries rooted here are templates.
pub const TEMPLATES_ROOT_FOLDER_TYPE: i64 = 30;

/// The server runs one create-from-template job per portal, across all users, and its
/// status names neither the job, the template nor the title (docs/docspace-api.md, "Room
/// templates"). How long the tool waits for the portal's job (its own or another's) to end.
pub const TEMPLATE_JOB_TIMEOUT: Duration = Duration::from_secs(600);
/// The first and the longest pause between two status reads (bounded backoff).
pub const TEMPLATE_POLL_FIRST: Duration = Duration::from_millis(100);
pub const TEMPLATE_POLL_MAX: Duration = Duration::from_secs(5);
/// How many `null` status reads right after its own start the tool takes for "no job": the
/// server answers `null` also when reading its job failed, so one `null` proves nothing.
pub const TEMPLATE_NULL_READS: u32 = 5;
/// How often the tool starts a job for one room when the portal answered with another job
/// (its start was refused because someone else's job was running) and re-listing proved the
/// room absent.
pub const TEMPLATE_START_ATTEMPTS: usize = 3;
