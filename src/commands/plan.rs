//! `plan`: read the manifests and the portal, diff, and render the plan. Never writes to the
//! portal: only GET requests are made.

use std::path::PathBuf;

use miette::IntoDiagnostic;

use crate::cli::PlanFormat;
use crate::exit::ExitStatus;
use crate::manifest::{Desired, Problems};
use crate::output::{NewFileMode, OutputFile};
use crate::plan::build::{Built, Failure};
use crate::plan::{self, Plan};
use crate::printer::Printer;
use crate::render;
use crate::settings::PortalSettings;

use super::portal::{self, Portal};
use super::validate;

/// Settings of one `plan` run.
pub struct PlanSettings {
    pub files: Vec<PathBuf>,
    pub out: Option<PathBuf>,
    pub format: PlanFormat,
    pub detailed_exitcode: bool,
    pub options: plan::build::Options,
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
        let built = build(&desired, &portal, printer, settings.options.clone(), "plan").await;
        portal.close().await;
        let Some(built) = built? else {
            return Ok(ExitStatus::Error);
        };
        let mut plan = built.plan;
        plan.mark_guarded_removals(false);
        plan.mark_guarded_downgrades(false);
        if let Some(out) = &out {
            save(&plan, out, printer)?;
            printer.status(&format!(
                "Saved the plan to {}; apply it with `apply --plan {}`.\n",
                out.path().display(),
                out.path().display()
            ));
        }
        let text = match settings.format {
            PlanFormat::Text => {
                render::plan::text_with(&plan, printer.color_stdout(), printer.verbose() > 0)
            }
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

/// Reads the portal and plans with the one planner ([`plan::build`]), showing progress.
/// `Ok(None)` means problems were found and printed (exit 1).
pub async fn build(
    desired: &Desired,
    portal: &Portal,
    printer: &Printer,
    options: plan::build::Options,
    command: &'static str,
) -> miette::Result<Option<Built>> {
    printer.status(&format!("Reading {} ...\n", portal.display));
    let bar = printer.rooms_read_bar();
    let progress = |done: usize, total: usize| bar.show(done, total);
    let inputs = plan::build::Inputs {
        portal: &portal.display,
        desired,
        // Passwords are read from the environment here, as digests, so that the planner
        // stays a function of its inputs (docs/docspace-api.md, "Sharing links").
        passwords: crate::links::read_passwords(desired),
        options,
        // The one clock read of a plan: which `expires:` have passed, which are near, and
        // how old pending invitations are.
        now: chrono::Utc::now(),
        scopes_for: Some(command),
    };
    let built = plan::build::build(&portal.client, inputs, &progress).await;
    bar.finish();
    let built = match built {
        Ok(built) => built,
        Err(Failure::Api(e)) => return Err(e.into()),
        Err(Failure::Scopes(missing)) => return Err(miette::miette!("{missing}")),
        Err(Failure::Problems(problems)) => {
            validate::report(&Problems(problems), printer);
            return Ok(None);
        }
    };
    if let Some(me) = &built.observed.me
        && me.user_type != crate::model::UserType::DocSpaceAdmin
        && built.plan.summary.rooms_to_create > 0
    {
        printer.stderr(&render::plan::partial_view_note(
            &me.email,
            built.plan.summary.rooms_to_create,
        ));
    }
    let stats = portal.client.stats();
    tracing::info!(
        "read the portal in {} calls ({} rooms visible, {} member lists)",
        stats.calls,
        built.observed.rooms.len(),
        built.observed.members.len()
    );
    Ok(Some(built))
}

/// Writes a saved plan (JSON; a new file is 0600, as it names portal members).
pub fn save(plan: &Plan, out: &OutputFile, printer: &Printer) -> miette::Result<()> {
    let text = serde_json::to_string_pretty(plan).into_diagnostic()?;
    out.write(&(text + "\n"), NewFileMode::Private, printer)?;
    Ok(())
}
