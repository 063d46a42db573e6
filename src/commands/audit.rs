//! `audit`: checks the live portal (managed and unmanaged rooms) against the `policy:` rules
//! of the manifests and `--policy` files, with the one checker (`model::policy::check`) that
//! `validate` uses on manifests. Reads only. Exit 0 clean, 2 violations, 1 errors.

use std::path::PathBuf;

use miette::IntoDiagnostic;

use crate::cli::AuditFormat;
use crate::exit::ExitStatus;
use crate::printer::Printer;
use crate::render;
use crate::settings::PortalSettings;

use super::portal;
use super::validate;

pub struct AuditSettings {
    pub files: Vec<PathBuf>,
    pub policy: Vec<PathBuf>,
    pub format: AuditFormat,
}

pub fn run(
    settings: AuditSettings,
    portal_settings: &PortalSettings,
    printer: &Printer,
) -> miette::Result<ExitStatus> {
    let files: Vec<PathBuf> = settings
        .files
        .iter()
        .chain(&settings.policy)
        .cloned()
        .collect();
    if files.is_empty() {
        return Err(miette::miette!(
            help = "give a policy file (`audit --policy policy.yaml`) or manifests with a `policy:` block",
            "audit has no rules to check"
        ));
    }
    let Some(desired) = validate::load(&files, printer) else {
        return Ok(ExitStatus::Error);
    };
    if desired.policy.is_empty() {
        return Err(miette::miette!(
            help = "add a `policy:` block (see `docs/book/src/howto/policy.md`)",
            "the files given hold no `policy:` rules"
        ));
    }
    let rt = portal::runtime()?;
    let view = rt.block_on(async {
        let portal = portal::open(portal_settings).await?;
        // A policy file alone manages no room: "managed" is then left unsaid.
        let manifest = (!desired.rooms.is_empty()).then_some(&desired);
        let view = super::access::read(&portal, &[], manifest, printer, "audit").await;
        portal.close().await;
        view
    })?;
    let found =
        crate::model::policy::check(&desired.policy, &view.policy_views(), chrono::Utc::now());
    let text = match settings.format {
        AuditFormat::Text => render::audit::text(&view, &found),
        AuditFormat::Json => render::audit::json(&view, &found),
        AuditFormat::Csv => render::audit::csv(&view, &found),
        AuditFormat::Markdown => render::audit::markdown(&view, &found),
    };
    printer.stdout(&text).into_diagnostic()?;
    super::access::note_partial(&view, printer);
    if super::access::unreadable_is_an_error(&view, printer, "the audit above") == ExitStatus::Error
    {
        return Ok(ExitStatus::Error);
    }
    let policy = &desired.policy;
    if view.people_unknown && (policy.guests.is_some() || policy.room_managers.is_some()) {
        printer.stderr(
            "error: the people list or a group's members could not be read, so the `guests` and `room_managers` rules could not be checked for everyone; give the key a user who may list people and groups.\n",
        );
        return Ok(ExitStatus::Error);
    }
    if view.hidden_links() > 0 && policy.external_links.is_some() {
        printer.stderr(&format!(
            "error: the links of {} room(s) are not visible to the key's user (it does not manage them), so the `external_links` rule could not be checked there; use a DocSpace admin's key.\n",
            view.hidden_links()
        ));
        return Ok(ExitStatus::Error);
    }
    Ok(if found.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Changes
    })
}
