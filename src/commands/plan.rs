//! `plan`: read the manifests and the portal, diff, and render the plan. Never writes to the
//! portal: only GET requests are made.

use std::path::PathBuf;

use miette::IntoDiagnostic;

use crate::cli::PlanFormat;
use crate::exit::ExitStatus;
use crate::manifest::{Desired, Problems};
use crate::output::{NewFileMode, OutputFile};
use crate::plan::{self, Plan};
use crate::printer::Printer;
use crate::render;
use crate::settings::PortalSettings;
use crate::state::{self, Observed};

use super::portal::{self, Portal};
use super::validate;

/// Settings of one `plan` run.
pub struct PlanSettings {
    pub files: Vec<PathBuf>,
    pub out: Option<PathBuf>,
    pub format: PlanFormat,
    pub detailed_exitcode: bool,
}

pub fn run(
    settings: PlanSettings,
    portal_settings: &PortalSettings,
    printer: &Printer,
) -> miette::Result<ExitStatus> {
    // Checked before the portal is read: a run that cannot save its plan should fail fast.
    let out = settings
        .out
        .as_deref()
        .map(|p| OutputFile::check(p, "the plan"))
        .transpose()?;
    let Some(desired) = validate::load(&settings.files, printer) else {
        return Ok(ExitStatus::Error);
    };
    let rt = portal::runtime()?;
    rt.block_on(async {
        let portal = portal::open(portal_settings).await?;
        let prepared = prepare(desired, &portal, printer).await;
        portal.close().await;
        let Some(prepared) = prepared? else {
            return Ok(ExitStatus::Error);
        };
        let mut plan = prepared.plan;
        plan.mark_guarded_removals(false);
        if let Some(out) = &out {
            save(&plan, out, printer)?;
            printer.status(&format!(
                "Saved the plan to {}; apply it with `apply --plan {}`.\n",
                out.path().display(),
                out.path().display()
            ));
        }
        let text = match settings.format {
            PlanFormat::Text => render::plan::text(&plan, printer.color_stdout()),
            PlanFormat::Json => render::plan::json(&plan),
            PlanFormat::Markdown => render::plan::markdown(&plan),
        };
        printer.stdout(&text).into_diagnostic()?;
        if plan.summary.rooms_unreadable > 0 {
            // The plan is incomplete: a pipeline must not read it as "in step".
            printer.stderr(&format!(
                "error: {} could not be read; the plan above leaves {} out. Run it again.\n",
                if plan.summary.rooms_unreadable == 1 {
                    "1 room".to_string()
                } else {
                    format!("{} rooms", plan.summary.rooms_unreadable)
                },
                if plan.summary.rooms_unreadable == 1 {
                    "it"
                } else {
                    "them"
                }
            ));
            return Ok(ExitStatus::Error);
        }
        Ok(if settings.detailed_exitcode && plan.has_changes() {
            ExitStatus::Changes
        } else {
            ExitStatus::Success
        })
    })
}

/// What `plan` and `apply` both need: the desired state, the portal as read, and the plan.
#[allow(dead_code)] // `apply` uses every field.
pub struct Prepared {
    pub desired: Desired,
    pub observed: Observed,
    pub plan: Plan,
}

/// Reads the portal and diffs. `Ok(None)` means problems were found and printed (exit 1).
pub async fn prepare(
    desired: Desired,
    portal: &Portal,
    printer: &Printer,
) -> miette::Result<Option<Prepared>> {
    printer.status(&format!("Reading {} ...\n", portal.display));
    // On a terminal, a bar for the member lists (one read per matched room: most of the
    // time on a big portal); nothing when stderr is a pipe or log.
    let bar = printer.progress_visible().then(|| {
        let bar = indicatif::ProgressBar::hidden();
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rooms read")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let progress = |done: usize, total: usize| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    };
    let observed =
        state::read_with_progress(&portal.client, &portal.display, &desired, &progress).await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let observed = observed?;
    let stats = portal.client.stats();
    tracing::info!(
        "read the portal in {} calls ({} rooms visible, {} member lists)",
        stats.calls,
        observed.rooms.len(),
        observed.members.len()
    );
    match plan::diff(&desired, &observed, desired.manifest_hash()) {
        Ok(mut plan) => Ok(Some(Prepared {
            // Pending invitations and their age, as of this read.
            plan: {
                plan::pending::annotate(&mut plan, &desired, &observed, chrono::Utc::now());
                plan
            },
            desired,
            observed,
        })),
        Err(problems) => {
            validate::report(&Problems(problems), printer);
            Ok(None)
        }
    }
}

/// Writes a saved plan (JSON; a new file is 0600, as it names portal members).
pub fn save(plan: &Plan, out: &OutputFile, printer: &Printer) -> miette::Result<()> {
    let text = serde_json::to_string_pretty(plan).into_diagnostic()?;
    out.write(&(text + "\n"), NewFileMode::Private, printer)?;
    Ok(())
}
