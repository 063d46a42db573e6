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
    pub lifecycle: Lifecycle,
}

/// The plan options of `managed_tag` and `expires:` (`--prune`, `--expiring-within`), shared
/// by `plan` and `apply`.
#[derive(Debug, Clone, Copy)]
pub struct Lifecycle {
    pub prune: bool,
    pub expiring_within_days: u32,
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
        let prepared = prepare(desired, &portal, printer, settings.lifecycle).await;
        portal.close().await;
        let Some(prepared) = prepared? else {
            return Ok(ExitStatus::Error);
        };
        let mut plan = prepared.plan;
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
    lifecycle: Lifecycle,
) -> miette::Result<Option<Prepared>> {
    if lifecycle.prune && desired.managed_tag.is_none() {
        miette::bail!(
            help = "add `managed_tag: NAME` to the manifest: only rooms carrying that tag can be pruned",
            "--prune needs a `managed_tag` in the manifest; without one no room outside the manifest is ever touched"
        );
    }
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
    let mut observed = observed?;
    // Sharing links cost one call per room, so only rooms whose manifest entry manages
    // links are read; passwords are read from the environment here, as digests, so that the
    // planner stays pure (docs/docspace-api.md, "Sharing links").
    observed.link_passwords = crate::links::read_passwords(&desired);
    let link_rooms = link_room_ids(&desired, &observed);
    if !link_rooms.is_empty() {
        state::read_links(&portal.client, &mut observed, &link_rooms).await?;
    }
    let stats = portal.client.stats();
    tracing::info!(
        "read the portal in {} calls ({} rooms visible, {} member lists)",
        stats.calls,
        observed.rooms.len(),
        observed.members.len()
    );
    // The one clock read of a plan: which `expires:` have passed, which are near, and how old
    // pending invitations are.
    let now = chrono::Utc::now();
    match plan::diff(&desired, &observed, desired.manifest_hash(), now) {
        Ok(mut plan) => {
            plan::expiry::warn_expiring(&mut plan, &desired, now, lifecycle.expiring_within_days);
            if lifecycle.prune {
                plan::prune::archive_orphans(&mut plan);
            }
            plan::pending::annotate(&mut plan, &desired, &observed, now);
            Ok(Some(Prepared {
                desired,
                observed,
                plan,
            }))
        }
        Err(problems) => {
            validate::report(&Problems(problems), printer);
            Ok(None)
        }
    }
}

/// The live rooms that manifest rooms with `links:` or `links_exact` match (by pinned id or
/// stored title, as the planner matches them).
fn link_room_ids(desired: &Desired, observed: &Observed) -> std::collections::BTreeSet<i64> {
    use std::collections::HashSet;
    let manages = desired
        .rooms
        .iter()
        .filter(|r| !r.links.is_empty() || r.links_exact);
    let (mut ids, mut titles) = (HashSet::new(), HashSet::new());
    for r in manages {
        match r.id {
            Some(id) => ids.insert(id),
            None => titles.insert(r.title.as_str()),
        };
    }
    observed
        .rooms
        .iter()
        .filter(|r| {
            ids.contains(&r.id) || titles.contains(crate::model::sanitize_title(&r.title).as_str())
        })
        .map(|r| r.id)
        .collect()
}

/// Writes a saved plan (JSON; a new file is 0600, as it names portal members).
pub fn save(plan: &Plan, out: &OutputFile, printer: &Printer) -> miette::Result<()> {
    let text = serde_json::to_string_pretty(plan).into_diagnostic()?;
    out.write(&(text + "\n"), NewFileMode::Private, printer)?;
    Ok(())
}
