//! `export`: the live portal as a manifest, to adopt existing rooms; `--check FILE` compares
//! the export with a file and exits 2 when they differ (a drift check that needs no manifest).

use std::path::PathBuf;

use miette::IntoDiagnostic;

use crate::exit::ExitStatus;
use crate::output::{NewFileMode, OutputFile};
use crate::printer::Printer;
use crate::settings::PortalSettings;
use crate::{export, state};

use super::portal;

pub struct ExportSettings {
    pub rooms: Vec<String>,
    pub out: Option<PathBuf>,
    pub check: Option<PathBuf>,
}

pub fn run(
    settings: ExportSettings,
    portal_settings: &PortalSettings,
    printer: &Printer,
) -> miette::Result<ExitStatus> {
    // Checked before the portal is read: a run that cannot save its result should fail fast.
    let out = settings
        .out
        .as_deref()
        .map(|p| OutputFile::check(p, "the export"))
        .transpose()?;
    let rt = portal::runtime()?;
    let text = rt.block_on(async {
        let portal = portal::open(portal_settings).await?;
        printer.status(&format!("Reading {} ...\n", portal.display));
        let mut observed = state::read_all(&portal.client, &portal.display, &settings.rooms).await;
        // Every exported room's links (one call per room, as its members).
        if let Ok(observed) = &mut observed {
            let ids = observed.rooms.iter().map(|r| r.id).collect();
            if let Err(e) = state::read_links(&portal.client, observed, &ids).await {
                portal.close().await;
                return Err(e.into());
            }
        }
        portal.close().await;
        let observed = observed?;
        // An export is a whole manifest: a room whose links cannot be read is an error.
        if let Some((id, e)) = observed.links_unreadable.iter().next() {
            miette::bail!("the links of room {id} could not be read: {e}");
        }
        if !settings.rooms.is_empty() {
            let missing: Vec<&String> = settings
                .rooms
                .iter()
                .filter(|t| {
                    !observed.rooms.iter().any(|r| &r.title == *t)
                        && !observed.connected_rooms.iter().any(|r| &r.title == *t)
                })
                .collect();
            if !missing.is_empty() {
                let names: Vec<String> = missing.iter().map(|t| format!("`{t}`")).collect();
                miette::bail!(
                    help = "titles are matched exactly, as the portal stores them",
                    "no room titled {} on the portal",
                    names.join(", ")
                );
            }
        }
        Ok::<_, miette::Report>(export::manifest(&observed))
    })?;
    if let Some(path) = &settings.check {
        let current = std::fs::read_to_string(path)
            .into_diagnostic()
            .map_err(|e| e.wrap_err(format!("cannot read {}", path.display())))?;
        let diff = export::diff(&path.display().to_string(), &current, &text);
        if diff.is_empty() {
            printer.status(&format!("{} matches the portal.\n", path.display()));
            return Ok(ExitStatus::Success);
        }
        printer.stdout(&diff).into_diagnostic()?;
        printer.status(&format!(
            "{} differs from the portal (exit 2).\n",
            path.display()
        ));
        return Ok(ExitStatus::Changes);
    }
    match &out {
        // An export is meant to be committed: a new file gets the usual permissions; an
        // existing one keeps its own.
        Some(out) => {
            out.write(&text, NewFileMode::Default, printer)?;
            printer.status(&format!("Wrote {}.\n", out.path().display()));
        }
        None => printer.stdout(&text).into_diagnostic()?,
    }
    Ok(ExitStatus::Success)
}
