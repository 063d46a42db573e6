//! `apply`: plan (or load a saved plan), show it, confirm, execute with [`crate::apply`], and
//! report every item (stdout, and `--report PATH`).
//!
//! Safety rules (DESIGN.md sections 2 and 4): a person must confirm on a terminal; without a
//! terminal `--auto-approve` is required; a saved plan applies only to rooms whose fingerprint
//! did not change since planning (the others are skipped as stale); a plan with no changes
//! makes no write call at all.

use std::collections::{BTreeSet, HashSet};
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use miette::IntoDiagnostic;

use crate::apply::{self, Options};
use crate::cli::ReportFormat;
use crate::docspace::{DocSpaceApi, SearchArea};
use crate::exit::ExitStatus;
use crate::plan::Plan;
use crate::printer::Printer;
use crate::render;
use crate::report::{Entry, Report};
use crate::settings::PortalSettings;
use crate::state::{self, ObservedMember, ObservedRoom};

use super::plan as plan_cmd;
use super::portal::{self, Portal};
use super::validate;

/// Settings of one `apply` run.
pub struct ApplySettings {
    pub files: Vec<PathBuf>,
    pub plan: Option<PathBuf>,
    pub auto_approve: bool,
    pub parallelism: usize,
    pub report: Option<PathBuf>,
    pub format: ReportFormat,
    pub allow_removals: bool,
}

pub fn run(
    settings: ApplySettings,
    portal_settings: &PortalSettings,
    printer: &Printer,
) -> miette::Result<ExitStatus> {
    // Refuse early, before reading anything, when nobody can confirm.
    if !settings.auto_approve && !printer.interactive() {
        miette::bail!(
            "apply needs confirmation but stdin/stderr is not a terminal; pass --auto-approve to apply without asking"
        );
    }
    let desired = match &settings.plan {
        Some(_) => None,
        None => match validate::load(&settings.files, printer) {
            Some(d) => Some(d),
            None => return Ok(ExitStatus::Error),
        },
    };
    let rt = portal::runtime()?;
    rt.block_on(async {
        let portal = portal::open(portal_settings).await?;
        let result = run_with_portal(&settings, desired, &portal, printer).await;
        portal.close().await;
        result
    })
}

async fn run_with_portal(
    settings: &ApplySettings,
    desired: Option<crate::manifest::Desired>,
    portal: &Portal,
    printer: &Printer,
) -> miette::Result<ExitStatus> {
    let started_at = chrono::Utc::now();
    let (mut plan, known_ids, stale) = match desired {
        Some(desired) => {
            let Some(prepared) = plan_cmd::prepare(desired, portal, printer).await? else {
                return Ok(ExitStatus::Error);
            };
            let known: HashSet<i64> = prepared.observed.rooms.iter().map(|r| r.id).collect();
            (prepared.plan, known, BTreeSet::new())
        }
        None => {
            let path = settings.plan.as_ref().expect("files or --plan");
            let plan = plan_cmd::load_saved(path)?;
            if plan.portal != portal.display {
                miette::bail!(
                    "the saved plan {} is for {}, not {}",
                    path.display(),
                    plan.portal,
                    portal.display
                );
            }
            printer.status(&format!(
                "Re-reading the rooms of the plan on {} ...\n",
                portal.display
            ));
            let (known, stale) = recheck(&portal.client, &plan).await?;
            (plan, known, stale)
        }
    };

    // Stale rooms leave the plan; their items are reported skipped.
    let mut stale_entries: Vec<Entry> = Vec::new();
    if !stale.is_empty() {
        let changing = plan.rooms.iter().filter(|r| !r.items.is_empty()).count();
        plan.rooms.retain(|room| {
            if stale.contains(&room.title) {
                stale_entries.extend(apply::skip_room(room, room.room_id, apply::STALE));
                false
            } else {
                true
            }
        });
        for title in &stale {
            printer.stderr(&format!(
                "warning: room `{title}` changed since the plan was made; it will be skipped (run plan again)\n"
            ));
        }
        plan.summary = crate::plan::summarise(&plan.rooms);
        if stale.len() >= changing {
            let report = Report::new(
                portal.display.clone(),
                started_at,
                settings.allow_removals,
                false,
                stale_entries,
            );
            write_report(settings, &report, printer)?;
            miette::bail!("every room of the saved plan changed since it was made; run plan again");
        }
    }

    // The text plan ends with the summary line ("No changes. ..." when there are none).
    // `-q` hides it, unless a person is about to be asked to confirm it.
    let plan_text = render::plan::text(&plan, printer.color_stderr());
    if settings.auto_approve {
        printer.status(&plan_text);
    } else {
        printer.stderr(&plan_text);
    }
    if !plan.has_changes() {
        let report = Report::new(
            portal.display.clone(),
            started_at,
            settings.allow_removals,
            false,
            plan.rooms
                .iter()
                .flat_map(|r| apply::skip_room(r, r.room_id, "no changes"))
                .chain(stale_entries)
                .collect(),
        );
        write_report(settings, &report, printer)?;
        print_report(settings, &report, printer)?;
        return Ok(report.exit_status());
    }

    if !settings.auto_approve && !confirm(printer)? {
        printer.stderr("Apply cancelled; nothing was changed.\n");
        return Ok(ExitStatus::Error);
    }

    let interrupted = Arc::new(AtomicBool::new(false));
    let watcher = {
        let flag = interrupted.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                flag.store(true, Ordering::SeqCst);
            }
        })
    };
    printer.status("Applying; Ctrl-C stops starting new rooms.\n");
    let bar = printer.progress_visible().then(|| {
        let bar = indicatif::ProgressBar::new(plan.rooms.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rooms {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let on_done = |room: &crate::plan::RoomPlan| {
        if let Some(bar) = &bar {
            bar.set_message(room.title.clone());
            bar.inc(1);
        }
    };
    let options = Options {
        parallelism: settings.parallelism,
        allow_removals: settings.allow_removals,
        ..Options::default()
    };
    let mut entries = apply::execute(
        &portal.client,
        &plan,
        &known_ids,
        &options,
        &interrupted,
        &on_done,
    )
    .await;
    watcher.abort();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    entries.extend(stale_entries);
    let report = Report::new(
        portal.display.clone(),
        started_at,
        settings.allow_removals,
        interrupted.load(Ordering::SeqCst),
        entries,
    );
    write_report(settings, &report, printer)?;
    print_report(settings, &report, printer)?;
    let stats = portal.client.stats();
    tracing::info!(
        "{} calls ({} writes, {} retries, {} rate-limited)",
        stats.calls,
        stats.writes(),
        stats.retries,
        stats.rate_limited
    );
    Ok(report.exit_status())
}

/// The report on stdout, in the chosen format: scripts always get one, whatever happened.
fn print_report(
    settings: &ApplySettings,
    report: &Report,
    printer: &Printer,
) -> miette::Result<()> {
    let text = match settings.format {
        ReportFormat::Text => render::report::text(report),
        ReportFormat::Json => render::report::json(report),
    };
    printer.stdout(&text).into_diagnostic()
}

fn write_report(
    settings: &ApplySettings,
    report: &Report,
    printer: &Printer,
) -> miette::Result<()> {
    let Some(path) = &settings.report else {
        return Ok(());
    };
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, render::report::json(report))
        .and_then(|()| std::fs::rename(&tmp, path))
        .into_diagnostic()
        .map_err(|e| e.wrap_err(format!("cannot write the report to {}", path.display())))?;
    printer.status(&format!("Wrote the report to {}.\n", path.display()));
    Ok(())
}

/// Asks on stderr, reads a line from stdin. Only `yes` confirms.
fn confirm(printer: &Printer) -> miette::Result<bool> {
    printer.stderr("\nApply these changes? Type 'yes' to continue: ");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .into_diagnostic()?;
    Ok(line.trim() == "yes")
}

/// How many rooms of a saved plan are re-read at once.
const RECHECK_CONCURRENCY: usize = 8;

/// Re-reads the rooms a saved plan touches and returns (ids of rooms that exist now, titles of
/// rooms whose fingerprint changed). Only rooms with items are checked: the others are not
/// written to.
async fn recheck<A: DocSpaceApi>(
    api: &A,
    plan: &Plan,
) -> miette::Result<(HashSet<i64>, BTreeSet<String>)> {
    use futures::stream::{self, StreamExt, TryStreamExt};
    // Rooms planned as creates are checked against one full listing: a title search may go
    // through the portal's full-text index, which can lag or not match exactly (5.3), and a
    // room made by hand since the plan must not be created a second time.
    let listing = if plan
        .rooms
        .iter()
        .any(|r| r.room_id.is_none() && !r.items.is_empty())
    {
        api.list_rooms(SearchArea::Any, None).await?.rooms
    } else {
        Vec::new()
    };
    let listing = &listing;
    let checked: Vec<(Vec<i64>, Option<String>)> =
        stream::iter(plan.rooms.iter().filter(|r| !r.items.is_empty()))
            .map(|room| async move {
                let mut known = Vec::new();
                let now = match room.room_id {
                    Some(id) => match api.get_room(id).await {
                        Ok(dto) => {
                            known.push(dto.id);
                            let observed = ObservedRoom::from_dto(&dto);
                            let members: Vec<ObservedMember> = api
                                .get_share(id)
                                .await?
                                .iter()
                                .filter_map(ObservedMember::from_dto)
                                .collect();
                            state::fingerprint(Some(&observed), Some(&members))
                        }
                        Err(e) if e.is_not_found() || e.http_status() == Some(403) => {
                            state::fingerprint(None, None)
                        }
                        Err(e) => return Err(e.into()),
                    },
                    None => {
                        // Planned as a create: stale if a room with that exact title appeared since.
                        known.extend(listing.iter().map(|r| r.id));
                        match listing.iter().find(|r| {
                            crate::model::title_matches(&r.title, &room.title)
                                && r.room_type.is_some()
                        }) {
                            Some(dto) => {
                                state::fingerprint(Some(&ObservedRoom::from_dto(dto)), Some(&[]))
                            }
                            None => state::fingerprint(None, None),
                        }
                    }
                };
                let stale = (now != room.fingerprint).then(|| room.title.clone());
                Ok::<_, miette::Report>((known, stale))
            })
            .buffer_unordered(RECHECK_CONCURRENCY)
            .try_collect()
            .await?;
    let mut known = HashSet::new();
    let mut stale = BTreeSet::new();
    for (ids, title) in checked {
        known.extend(ids);
        stale.extend(title);
    }
    Ok((known, stale))
}
