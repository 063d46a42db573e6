//! `apply`: plan (or load a saved plan), show it, confirm, execute with [`crate::apply`], and
//! report every item (stdout, and `--report PATH`).
//!
//! Safety rules (DESIGN.md sections 2 and 4): a person must confirm on a terminal; without a
//! terminal `--auto-approve` is required; a saved plan applies only to rooms whose fingerprint
//! did not change since planning (the others are skipped as stale, or reported as already
//! applied when the portal shows their changes); a plan with no changes makes no write call at
//! all; the `--report` path is checked before the portal is read.
//!
//! Signals: SIGINT and SIGTERM are handled from the start of the command. Before the first
//! change they stop it at once (exit 1, nothing changed). During the run the first one stops
//! new rooms; rooms in flight get [`GRACE`]; a second signal or the end of the grace time
//! abandons their calls. Every item is reported either way (see [`apply::Journal`]).

use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use miette::IntoDiagnostic;

use super::signals::Signals;
use crate::apply::{self, Options};
use crate::cli::ReportFormat;
use crate::docspace::{DocSpaceApi, SearchArea};
use crate::exit::ExitStatus;
use crate::output::{NewFileMode, OutputFile};
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
    // An unwritable report is an error now, before the portal is changed, not after.
    let report_out = settings
        .report
        .as_deref()
        .map(|p| OutputFile::check(p, "the report"))
        .transpose()?;
    let desired = match &settings.plan {
        Some(_) => None,
        None => match validate::load(&settings.files, printer) {
            Some(d) => Some(d),
            None => return Ok(ExitStatus::Error),
        },
    };
    let rt = portal::runtime()?;
    let result = rt.block_on(async {
        // Registered before the first call: from here on Ctrl-C and SIGTERM are handled, not
        // fatal, so that the report is written whatever phase they arrive in.
        let mut signals = Signals::new()?;
        let portal = portal::open(portal_settings).await?;
        let run = Run {
            settings: &settings,
            report_out: report_out.as_ref(),
            portal: &portal,
            printer,
            started_at: chrono::Utc::now(),
        };
        let result = run.go(desired, &mut signals).await;
        // Bounded: after an abandoned run the in-process sandbox may still be serving the
        // calls that were given up on.
        if tokio::time::timeout(CLOSE_TIMEOUT, portal.close())
            .await
            .is_err()
        {
            tracing::warn!("the sandbox did not stop in time");
        }
        result
    });
    // Abandoned work (a blocked stdin read at the prompt, a DNS lookup) must not keep the
    // process alive after the report is written.
    rt.shutdown_timeout(Duration::from_millis(500));
    result
}

/// After the first Ctrl-C or SIGTERM, how long rooms in flight may take to finish before
/// their calls are abandoned. Short enough for CI runners, which kill a job a few seconds
/// after SIGTERM (Docker's default is 10 s); long enough for a healthy portal to finish the
/// call in flight.
pub const GRACE: Duration = Duration::from_secs(5);

/// How long stopping the in-process sandbox may take at the end.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

/// One `apply` run's fixed parts.
struct Run<'a> {
    settings: &'a ApplySettings,
    report_out: Option<&'a OutputFile>,
    portal: &'a Portal,
    printer: &'a Printer,
    started_at: chrono::DateTime<chrono::Utc>,
}

impl Run<'_> {
    fn report(&self, interrupted: bool, entries: Vec<Entry>) -> Report {
        Report::new(
            self.portal.display.clone(),
            self.started_at,
            self.settings.allow_removals,
            interrupted,
            entries,
        )
    }

    /// A signal arrived before anything was changed: the report (when asked for) says so,
    /// and the exit code is 1, as for any stop before a change.
    fn interrupted_before_change(&self) -> miette::Result<ExitStatus> {
        self.printer
            .stderr("Interrupted before any change was made; nothing was changed.\n");
        let report = self.report(true, Vec::new());
        self.write_report(&report)?;
        Ok(ExitStatus::Error)
    }

    async fn go(
        &self,
        desired: Option<crate::manifest::Desired>,
        signals: &mut Signals,
    ) -> miette::Result<ExitStatus> {
        let (portal, printer, settings) = (self.portal, self.printer, self.settings);
        let (mut plan, known_ids, changed) = match desired {
            Some(desired) => {
                let Some(prepared) = signals
                    .or_interrupted(plan_cmd::prepare(desired, portal, printer))
                    .await
                else {
                    return self.interrupted_before_change();
                };
                let Some(prepared) = prepared? else {
                    return Ok(ExitStatus::Error);
                };
                let known: HashSet<i64> = prepared.observed.rooms.iter().map(|r| r.id).collect();
                (prepared.plan, known, BTreeMap::new())
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
                let Some(rechecked) = signals.or_interrupted(recheck(&portal.client, &plan)).await
                else {
                    return self.interrupted_before_change();
                };
                let (known, changed) = rechecked?;
                (plan, known, changed)
            }
        };

        // Rooms of a saved plan that changed since leave the plan: what the portal already
        // shows is reported as already applied, the rest skipped as stale.
        let mut set_aside: Vec<Entry> = Vec::new();
        if !changed.is_empty() {
            let mut stale_items = 0;
            let mut index = 0;
            plan.rooms.retain(|room| {
                let n = index;
                index += 1;
                let Some(live) = changed.get(&n) else {
                    return true;
                };
                let done = apply::already_done(
                    room,
                    live.as_ref().map(|(r, m)| (r, m.as_slice())),
                );
                let room_id = live.as_ref().map(|(r, _)| r.id).or(room.room_id);
                let applied = done.iter().filter(|d| **d).count();
                stale_items += done.len() - applied;
                let title = &room.title;
                printer.stderr(&if applied == done.len() {
                    format!(
                        "note: room `{title}` appears to be already applied: the portal already shows the plan's changes\n"
                    )
                } else if applied > 0 {
                    format!(
                        "warning: room `{title}` changed since the plan was made ({applied} of {} changes appear to be already applied); the rest is skipped (run plan again)\n",
                        done.len()
                    )
                } else {
                    format!(
                        "warning: room `{title}` changed since the plan was made; it will be skipped (run plan again)\n"
                    )
                });
                set_aside.extend(apply::recheck_entries(room, room_id, &done));
                false
            });
            plan.summary = crate::plan::summarise(&plan.rooms);
            let left = plan.rooms.iter().filter(|r| !r.items.is_empty()).count();
            if left == 0 {
                let report = self.report(false, set_aside);
                if stale_items > 0 {
                    self.write_report(&report)?;
                    miette::bail!(
                        help = "run plan again and apply the new plan",
                        "no room of the saved plan can be applied: every room changed since it was made"
                    );
                }
                // Re-running an apply job that already went through is not a failure: the
                // portal shows every change the approved plan makes.
                printer.status(
                    "The saved plan appears to be already applied: the portal shows every change it makes.\n",
                );
                return self.deliver(&report, false);
            }
        }

        // The text plan ends with the summary line ("No changes. ..." when there are none).
        // `-q` hides it, unless a person is about to be asked to confirm it.
        plan_cmd::mark_guarded_removals(&mut plan, settings.allow_removals);
        let plan_text = render::plan::text(&plan, printer.color_stderr());
        if settings.auto_approve {
            printer.status(&plan_text);
        } else {
            printer.stderr(&plan_text);
        }
        if !plan.has_changes() {
            let entries = plan
                .rooms
                .iter()
                .flat_map(|r| apply::skip_room(r, r.room_id, "no changes"))
                .chain(set_aside)
                .collect();
            return self.deliver(&self.report(false, entries), false);
        }

        if !settings.auto_approve {
            match signals.or_interrupted(confirm(printer)).await.transpose()? {
                Some(true) => {}
                Some(false) => {
                    printer.stderr("Apply cancelled; nothing was changed.\n");
                    return Ok(ExitStatus::Error);
                }
                None => return self.interrupted_before_change(),
            }
        }

        let (entries, interrupted) = self.execute(&plan, &known_ids, signals).await;
        let report = self.report(interrupted, entries.into_iter().chain(set_aside).collect());
        let status = self.deliver(&report, true);
        let stats = portal.client.stats();
        tracing::info!(
            "{} calls ({} writes, {} retries, {} rate-limited)",
            stats.calls,
            stats.writes(),
            stats.retries,
            stats.rate_limited
        );
        status
    }

    /// Runs the plan. The first Ctrl-C or SIGTERM stops new rooms from starting and gives the
    /// rooms in flight [`GRACE`] to finish; a second one, or the end of the grace time,
    /// abandons them (their items are reported failed with an unknown outcome). Returns every
    /// item's entry and whether the run was interrupted.
    async fn execute(
        &self,
        plan: &Plan,
        known_ids: &HashSet<i64>,
        signals: &mut Signals,
    ) -> (Vec<Entry>, bool) {
        let printer = self.printer;
        let interrupted = AtomicBool::new(false);
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
                bar.set_message(
                    crate::redact::scrub(&crate::render::visible(&room.title)).into_owned(),
                );
                bar.inc(1);
            }
        };
        let options = Options {
            parallelism: self.settings.parallelism,
            allow_removals: self.settings.allow_removals,
            ..Options::default()
        };
        let journal = apply::Journal::default();
        let work = apply::execute_into(
            &self.portal.client,
            plan,
            known_ids,
            &options,
            &interrupted,
            &journal,
            &on_done,
        );
        let stop = async {
            signals.recv().await;
            interrupted.store(true, Ordering::SeqCst);
            let message = format!(
                "\nInterrupted: no new room will start; rooms in flight get {} s to finish (Ctrl-C again stops now).\n",
                GRACE.as_secs()
            );
            match &bar {
                Some(bar) => bar.suspend(|| printer.stderr(&message)),
                None => printer.stderr(&message),
            }
            tokio::select! {
                () = signals.recv() => {}
                () = tokio::time::sleep(GRACE) => {}
            }
        };
        let abandoned = tokio::select! {
            () = work => false,
            () = stop => true,
        };
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        if abandoned {
            printer.stderr(
                "Stopped: calls still in flight were abandoned; their items are reported failed with an unknown outcome.\n",
            );
        }
        (journal.finish(plan), interrupted.load(Ordering::SeqCst))
    }

    /// The report on stdout (scripts always get one, whatever happened), then in the
    /// `--report` file. A report file that cannot be written after the portal was changed
    /// exits 3, never 1: 1 promises that nothing was changed.
    fn deliver(&self, report: &Report, changed: bool) -> miette::Result<ExitStatus> {
        let text = match self.settings.format {
            ReportFormat::Text => render::report::text(report, self.report_out.is_some()),
            ReportFormat::Json => render::report::json(report),
        };
        self.printer.stdout(&text).into_diagnostic()?;
        match self.write_report(report) {
            Ok(()) => Ok(report.exit_status()),
            Err(e) if changed => {
                self.printer
                    .stderr(&self.printer.render_diagnostic(e.as_ref()));
                Ok(ExitStatus::ItemsFailed)
            }
            Err(e) => Err(e),
        }
    }

    fn write_report(&self, report: &Report) -> miette::Result<()> {
        let Some(out) = self.report_out else {
            return Ok(());
        };
        out.write(
            &render::report::json(report),
            NewFileMode::Private,
            self.printer,
        )?;
        self.printer
            .status(&format!("Wrote the report to {}.\n", out.path().display()));
        Ok(())
    }
}

/// Asks on stderr, reads a line from stdin. Only `yes` confirms. The read runs on a blocking
/// thread so that a signal can interrupt the wait.
async fn confirm(printer: &Printer) -> miette::Result<bool> {
    printer.stderr("\nApply these changes? Type 'yes' to continue: ");
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await
    .into_diagnostic()?
    .into_diagnostic()?;
    Ok(line.trim() == "yes")
}

/// How many rooms of a saved plan are re-read at once.
const RECHECK_CONCURRENCY: usize = 8;

/// A room of a saved plan as re-read: `None` when it is gone (or not visible).
type Live = Option<(ObservedRoom, Vec<ObservedMember>)>;

/// Re-reads the rooms a saved plan touches and returns (ids of rooms that exist now, the rooms
/// whose fingerprint changed by index in the plan, each with its live state). Only rooms with
/// items are checked: the others are not written to.
async fn recheck<A: DocSpaceApi>(
    api: &A,
    plan: &Plan,
) -> miette::Result<(HashSet<i64>, BTreeMap<usize, Live>)> {
    use futures::stream::{self, StreamExt, TryStreamExt};
    // Rooms planned as creates are checked against one full listing: a title search may go
    // through the portal's full-text index, which can lag or not match exactly (5.3), and a
    // room made by hand since the plan must not be created a second time.
    let listing = if plan
        .rooms
        .iter()
        .any(|r| r.room_id.is_none() && !r.items.is_empty())
    {
        api.list_rooms(SearchArea::Any, None)
            .await?
            .require_complete()?
            .rooms
    } else {
        Vec::new()
    };
    // Rooms by stored title, once: a saved plan of many creates must not scan the listing per
    // room (the first of several same-titled rooms counts, as before).
    let mut by_title: std::collections::HashMap<String, &crate::docspace::RoomDto> =
        std::collections::HashMap::new();
    for r in listing.iter().filter(|r| r.room_type.is_some()) {
        by_title
            .entry(crate::model::sanitize_title(&r.title))
            .or_insert(r);
    }
    let by_title = &by_title;
    let members_of = |id: i64| async move {
        Ok::<_, miette::Report>(
            api.get_share(id)
                .await?
                .iter()
                .filter_map(ObservedMember::from_dto)
                .collect::<Vec<ObservedMember>>(),
        )
    };
    /// Per room: ids seen, and the room's index and live state when it changed.
    type Checked = (Vec<i64>, Option<(usize, Live)>);
    let checked: Vec<Checked> = stream::iter(
        plan.rooms
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.items.is_empty()),
    )
    .map(|(n, room)| async move {
        let mut known = Vec::new();
        let (now, live) = match room.room_id {
            Some(id) => match api.get_room(id).await {
                Ok(dto) => {
                    known.push(dto.id);
                    let observed = ObservedRoom::from_dto(&dto);
                    let members = members_of(id).await?;
                    let now = state::fingerprint(Some(&observed), Some(&members));
                    (now, Some((observed, members)))
                }
                Err(e) if e.is_not_found() || e.http_status() == Some(403) => {
                    (state::fingerprint(None, None), None)
                }
                Err(e) => return Err(e.into()),
            },
            None => {
                // Planned as a create: stale if a room with that exact title appeared since.
                match by_title.get(&room.title).copied() {
                    Some(dto) => {
                        let observed = ObservedRoom::from_dto(dto);
                        let now = state::fingerprint(Some(&observed), Some(&[]));
                        if now == room.fingerprint {
                            (now, None)
                        } else {
                            // Read only when needed: to tell an earlier apply of this plan
                            // from a room made by hand.
                            let members = members_of(dto.id).await?;
                            (now, Some((observed, members)))
                        }
                    }
                    None => (state::fingerprint(None, None), None),
                }
            }
        };
        let changed = (now != room.fingerprint).then_some((n, live));
        Ok::<_, miette::Report>((known, changed))
    })
    .buffer_unordered(RECHECK_CONCURRENCY)
    .try_collect()
    .await?;
    // Every listed room existed before this run (see `apply::execute`'s `known_room_ids`).
    let mut known: HashSet<i64> = listing.iter().map(|r| r.id).collect();
    let mut changed = BTreeMap::new();
    for (ids, room) in checked {
        known.extend(ids);
        changed.extend(room);
    }
    Ok((known, changed))
}
