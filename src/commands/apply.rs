//! `apply`: plan (or load a saved plan), show it, confirm, execute with [`crate::apply`], and
//! report every item (stdout, and `--report PATH`).
//!
//! Safety rules (docs/architecture.md, "Apply"; docs/architecture.md, "Saved plans"): a person must confirm on a terminal; without a
//! terminal `--auto-approve` is required; a saved plan is checked in full before anything
//! else ([`crate::plan::saved`]) and applies only to rooms whose fingerprint
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
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use miette::IntoDiagnostic;

use super::signals::Signals;
use crate::apply::{self, Options};
use crate::cli::ReportFormat;
use crate::exit::ExitStatus;
use crate::output::{NewFileMode, OutputFile};
use crate::plan::Plan;
use crate::plan::done::already_done;
use crate::printer::Printer;
use crate::recheck::{self, Live};
use crate::render;
use crate::report::{Entry, Report};
use crate::settings::PortalSettings;

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
    /// `--allow-downgrades`: make link changes that lower protection.
    pub allow_downgrades: bool,
    pub lifecycle: plan_cmd::Lifecycle,
    /// `--resend-pending[=AGE]`: resend pending invitations older than this.
    pub resend_pending: Option<chrono::Duration>,
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

/// What a run applies, or how the command already ended.
enum Ready {
    Run(Box<ToRun>),
    Done(ExitStatus),
}

/// A plan to run and what the run needs to know about the portal.
struct ToRun {
    plan: Plan,
    /// Ids of rooms that existed before the run.
    known: HashSet<i64>,
    /// Rooms of a saved plan that changed since it was made (see [`recheck`]).
    changed: BTreeMap<usize, Live>,
}

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
        let mut report = Report::new(
            self.portal.display.clone(),
            self.started_at,
            self.settings.allow_removals,
            interrupted,
            entries,
        );
        report.allow_downgrades = self.settings.allow_downgrades;
        report
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
        let ready = match (desired, &self.settings.plan) {
            (Some(desired), _) => self.fresh_plan(desired, signals).await?,
            (None, Some(path)) => self.saved_plan(path, signals).await?,
            (None, None) => miette::bail!("apply needs manifest files or --plan"),
        };
        let (mut plan, known_ids, changed) = match ready {
            Ready::Run(run) => {
                let ToRun {
                    plan,
                    known,
                    changed,
                } = *run;
                (plan, known, changed)
            }
            Ready::Done(status) => return Ok(status),
        };
        // Rooms of a saved plan that changed since leave the plan: what the portal already
        // shows is reported as already applied, the rest skipped as stale.
        let (set_aside, stale_items) = self.set_aside(&mut plan, &changed);
        if !changed.is_empty() && plan.rooms.iter().all(|r| r.items.is_empty()) {
            return self.nothing_left(set_aside, stale_items);
        }
        plan.mark_guarded_removals(self.settings.allow_removals);
        plan.mark_guarded_downgrades(self.settings.allow_downgrades);
        self.show(&plan);
        if !plan.has_changes() {
            let entries = plan
                .rooms
                .iter()
                .map(apply::unchanged_room)
                .chain(set_aside)
                .collect();
            return self.deliver(&self.report(false, entries), false);
        }
        if !self.settings.auto_approve {
            match signals
                .or_interrupted(confirm(self.printer))
                .await
                .transpose()?
            {
                Some(true) => {}
                Some(false) => {
                    self.printer
                        .stderr("Apply cancelled; nothing was changed.\n");
                    return Ok(ExitStatus::Error);
                }
                None => return self.interrupted_before_change(),
            }
        }
        let (entries, interrupted) = self.execute(&plan, &known_ids, signals).await;
        let report = self.report(interrupted, entries.into_iter().chain(set_aside).collect());
        let status = self.deliver(&report, true);
        let stats = self.portal.client.stats();
        tracing::info!(
            "{} calls ({} writes, {} retries, {} rate-limited)",
            stats.calls,
            stats.writes(),
            stats.retries,
            stats.rate_limited
        );
        status
    }

    /// Reads the portal and plans from the manifests.
    async fn fresh_plan(
        &self,
        desired: crate::manifest::Desired,
        signals: &mut Signals,
    ) -> miette::Result<Ready> {
        let prepare =
            plan_cmd::prepare(desired, self.portal, self.printer, self.settings.lifecycle);
        let Some(prepared) = signals.or_interrupted(prepare).await else {
            return self.interrupted_before_change().map(Ready::Done);
        };
        let Some(prepared) = prepared? else {
            return Ok(Ready::Done(ExitStatus::Error));
        };
        let known = prepared.observed.rooms.iter().map(|r| r.id).collect();
        let mut plan = prepared.plan;
        if let Some(age) = self.settings.resend_pending {
            crate::plan::pending::add_resends(&mut plan, age);
        }
        Ok(Ready::Run(Box::new(ToRun {
            plan,
            known,
            changed: BTreeMap::new(),
        })))
    }

    /// Loads and checks a saved plan (see [`crate::plan::saved`]), then re-reads its rooms.
    async fn saved_plan(&self, path: &Path, signals: &mut Signals) -> miette::Result<Ready> {
        let portal = self.portal;
        let plan = crate::plan::saved::load(path)?;
        if plan.portal != portal.display {
            miette::bail!(
                "the saved plan {} is for {}, not {}",
                path.display(),
                plan.portal,
                portal.display
            );
        }
        self.printer.status(&format!(
            "Re-reading the rooms of the plan on {} ...\n",
            portal.display
        ));
        let Some(rechecked) = signals
            .or_interrupted(recheck::recheck(&portal.client, &plan))
            .await
        else {
            return self.interrupted_before_change().map(Ready::Done);
        };
        let rechecked = rechecked?;
        Ok(Ready::Run(Box::new(ToRun {
            plan,
            known: rechecked.known,
            changed: rechecked.changed,
        })))
    }

    /// Takes the rooms of a saved plan that changed since it was made out of the plan and
    /// returns their entries (already applied, or stale) and how many items are stale.
    fn set_aside(&self, plan: &mut Plan, changed: &BTreeMap<usize, Live>) -> (Vec<Entry>, usize) {
        let mut entries = Vec::new();
        let mut stale = 0;
        if changed.is_empty() {
            return (entries, stale);
        }
        for (n, room) in std::mem::take(&mut plan.rooms).into_iter().enumerate() {
            let Some(live) = changed.get(&n) else {
                plan.rooms.push(room);
                continue;
            };
            let done = already_done(&room, live.as_ref().map(|(r, m)| (r, m.as_slice())));
            let room_id = live.as_ref().map(|(r, _)| r.id).or(room.room_id);
            let applied = done.iter().filter(|d| **d).count();
            stale += done.len() - applied;
            self.printer.stderr(&render::report::changed_room(
                &room.title,
                applied,
                done.len(),
            ));
            entries.extend(apply::recheck_entries(&room, room_id, &done));
        }
        plan.summary = crate::plan::summarise(&plan.rooms);
        (entries, stale)
    }

    /// Every room of a saved plan changed since: an error when some of its changes are not
    /// there; success when the portal shows all of them (a re-run of an apply job).
    fn nothing_left(
        &self,
        set_aside: Vec<Entry>,
        stale_items: usize,
    ) -> miette::Result<ExitStatus> {
        let report = self.report(false, set_aside);
        if stale_items > 0 {
            self.write_report(&report)?;
            miette::bail!(
                help = "run plan again and apply the new plan",
                "no room of the saved plan can be applied: every room changed since it was made"
            );
        }
        self.printer.status(
            "The saved plan appears to be already applied: the portal shows every change it makes.\n",
        );
        self.deliver(&report, false)
    }

    /// The text plan ends with the summary line ("No changes. ..." when there are none).
    /// `-q` hides it, unless a person is about to be asked to confirm it.
    fn show(&self, plan: &Plan) {
        let plan_text = render::plan::text(plan, self.printer.color_stderr());
        if self.settings.auto_approve {
            self.printer.status(&plan_text);
        } else {
            self.printer.stderr(&plan_text);
        }
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
            allow_downgrades: self.settings.allow_downgrades,
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
