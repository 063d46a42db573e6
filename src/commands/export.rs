//! `export`: the live portal as a manifest, to adopt existing rooms; `--check FILE` compares
//! the export with a file and exits 2 when they differ (a drift check that needs no manifest).

use std::path::PathBuf;

use miette::IntoDiagnostic;

use crate::exit::ExitStatus;
use crate::export;
use crate::output::{NewFileMode, OutputFile};
use crate::printer::Printer;
use crate::settings::PortalSettings;

use super::portal;

pub struct ExportSettings {
    pub rooms: Vec<String>,
    /// `--people`: write `people:` with every account's type too.
    pub people: bool,
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
        portal::check_scopes(&portal, "export").await?;
        printer.status(&format!("Reading {} ...\n", portal.display));
        let mut observed = export::read(&portal.client, &portal.display, &settings.rooms).await;
        // The portal section is about the portal as a whole: not written with `--room`.
        if let Ok(observed) = &mut observed
            && settings.rooms.is_empty()
        {
            let read = crate::observe::groups::read_all(&portal.client, observed, settings.people);
            if let Err(e) = read.await {
                portal.close().await;
                return Err(miette::Report::new(e));
            }
        }
        portal.close().await;
        let observed = observed?;
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
        printer
            .stdout(&crate::render::unified_diff(&diff, printer.color_stdout()))
            .into_diagnostic()?;
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
