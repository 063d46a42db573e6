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

use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use miette::IntoDiagnostic;

use crate::apply::{self, Options};
use crate::cli::ReportFormat;
use crate::exit::ExitStatus;
use crate::output::{NewFileMode, OutputFile};
use crate::plan::Plan;
use crate::plan::approve::{Approval, Verdict, approve};
use crate::plan::saved::DesiredError;
use crate::printer::Printer;
use crate::render;
use crate::report::{Entry, Report};
use crate::settings::PortalSettings;
use crate::shell::signals::Signals;

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
    pub options: crate::plan::build::Options,
    /// `--resend-pending[=AGE]`: resend pending invitations older than this.
    pub resend_pending: Option<chrono::Duration>,
}

/// The row of `crate::model::scopes::COMMANDS` this run needs.
fn scope_row(settings: &ApplySettings) -> &'static str {
    if settings.resend_pending.is_some() {
        "apply --resend-pending"
    } else if settings.options.prune {
        "apply --prune"
    } else {
        "apply"
    }
}

pub fn run(
    settings: ApplySettings,
    portal_settings: &PortalSettings,
    printer: &Printer,
) -> miette::Result<ExitStatus> {
    let clock = std::time::Instant::now();
    // Refuse early, before reading anything, when nobody can confirm.
    if !settings.auto_approve && !printer.interactive() {
        miette::bail!(
            "apply needs confirmation but stdin/stderr is not a terminal; pass --auto-approve to apply without asking"
        );
    }
    age_meant_for_resend(&settings)?;
    // An unwritable report is an error now, before the portal is changed, not after.
    let report_out = settings
        .report
        .as_deref()
        .map(|p| OutputFile::check(p, "the report"))
        .transpose()?;
    let desired = match &settings.plan {
        Some(_) => None,
        None => match validate::load_before_changes(&settings.files, printer) {
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
            clock,
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
    /// For a saved plan: the items it approved are in `plan`; these are the others.
    set_aside: Option<Approval>,
}

/// One `apply` run's fixed parts.
struct Run<'a> {
    settings: &'a ApplySettings,
    report_out: Option<&'a OutputFile>,
    portal: &'a Portal,
    printer: &'a Printer,
    started_at: chrono::DateTime<chrono::Utc>,
    /// When the command started, for the elapsed time of the closing sentence.
    clock: std::time::Instant,
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
        let (mut plan, known_ids, approval) = match ready {
            Ready::Run(run) => {
                let ToRun {
                    plan,
                    known,
                    set_aside,
                } = *run;
                (plan, known, set_aside)
            }
            Ready::Done(status) => return Ok(status),
        };
        // A saved plan: what it approved is in `plan`; the rest is reported as already
        // applied, stale or not approved.
        let set_aside = match &approval {
            Some(a) => self.set_aside(a),
            None => Vec::new(),
        };
        if let Some(a) = &approval
            && !plan.has_changes()
            && !(a.set_aside.is_empty() && a.portal.is_empty())
        {
            return self.nothing_left(a, set_aside);
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
                .chain(apply::not_resent_entries(&plan))
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
        let options = crate::plan::build::Options {
            resend_pending: self.settings.resend_pending,
            ..self.settings.options.clone()
        };
        let build = plan_cmd::build(
            &desired,
            self.portal,
            self.printer,
            options,
            scope_row(self.settings),
        );
        let Some(built) = signals.or_interrupted(build).await else {
            return self.interrupted_before_change().map(Ready::Done);
        };
        let Some(built) = built? else {
            return Ok(Ready::Done(ExitStatus::Error));
        };
        if let Some(age) = self.settings.resend_pending
            && !built
                .plan
                .portal_items
                .iter()
                .any(|i| i.action() == crate::plan::Action::ResendInvitation)
        {
            self.printer.status(&format!(
                "No pending invitation is older than {}: nothing to resend.\n",
                crate::plan::pending::age_text(age)
            ));
        }
        let known = built.observed.rooms.iter().map(|r| r.id).collect();
        Ok(Ready::Run(Box::new(ToRun {
            plan: built.plan,
            known,
            set_aside: None,
        })))
    }

    /// A saved plan is an approval (see [`crate::plan::approve`]): it is planned again from
    /// the desired state and options it carries, with the same planner, and only the items
    /// identical in both plans are applied.
    async fn saved_plan(&self, path: &Path, signals: &mut Signals) -> miette::Result<Ready> {
        let portal = self.portal;
        let saved = crate::plan::saved::load(path)?;
        if saved.portal != portal.display {
            miette::bail!(
                "the saved plan {} is for {}, not {}",
                path.display(),
                saved.portal,
                portal.display
            );
        }
        let desired = match crate::plan::saved::desired(&saved) {
            Ok(d) => d,
            Err(DesiredError::Edited) => miette::bail!(
                help = "run plan --out again and apply the new plan",
                "the desired state in the saved plan {} was edited after the plan was made; nothing was changed",
                path.display()
            ),
            Err(DesiredError::Invalid(problems)) => {
                validate::report(&problems, self.printer);
                miette::bail!(
                    help = "run plan --out again and apply the new plan",
                    "the desired state in the saved plan {} breaks the manifest rules; nothing was changed",
                    path.display()
                );
            }
        };
        let options = saved.options.clone();
        self.printer
            .status("Planning again from the saved plan to check what it approved.\n");
        let build = plan_cmd::build(
            &desired,
            portal,
            self.printer,
            options,
            scope_row(self.settings),
        );
        let Some(built) = signals.or_interrupted(build).await else {
            return self.interrupted_before_change().map(Ready::Done);
        };
        let Some(built) = built? else {
            return Ok(Ready::Done(ExitStatus::Error));
        };
        let known = built.observed.rooms.iter().map(|r| r.id).collect();
        let (plan, approval) = approve(
            &saved,
            built.plan,
            &desired,
            &built.observed,
            chrono::Utc::now(),
        );
        Ok(Ready::Run(Box::new(ToRun {
            plan,
            known,
            set_aside: Some(approval),
        })))
    }

    /// The entries of the items a saved plan's approval set aside, with a line per room on
    /// stderr saying what happened to them.
    fn set_aside(&self, approval: &Approval) -> Vec<Entry> {
        let mut entries = Vec::new();
        for s in &approval.set_aside {
            self.printer
                .stderr(&render::report::set_aside_room(&s.room.title, &s.verdicts));
            entries.extend(apply::set_aside_entries(&s.room, &s.verdicts));
        }
        if !approval.portal.is_empty() {
            let verdicts: Vec<Verdict> = approval.portal.iter().map(|(_, v)| *v).collect();
            self.printer
                .stderr(&render::report::set_aside_portal(&verdicts));
            entries.extend(apply::portal_set_aside_entries(&approval.portal));
        }
        entries
    }

    /// Nothing of a saved plan is left to apply: an error when some of its changes are
    /// stale; success when the portal shows all of them (a re-run of an apply job), exit 3
    /// when only drift is left that the plan did not approve.
    fn nothing_left(
        &self,
        approval: &Approval,
        set_aside: Vec<Entry>,
    ) -> miette::Result<ExitStatus> {
        let report = self.report(false, set_aside);
        let stale = approval.count(|v| matches!(v, Verdict::Stale(_)));
        if stale > 0 {
            self.write_report(&report)?;
            miette::bail!(
                help = "run plan again and apply the new plan",
                "nothing of the saved plan can be applied: {} not what planning again makes now",
                if stale == 1 {
                    "its 1 remaining change is".to_string()
                } else {
                    format!("its {stale} remaining changes are")
                }
            );
        }
        if approval.count(|v| v == Verdict::NotApproved) == 0 {
            self.printer.status(
                "The saved plan appears to be already applied: the portal shows every change it makes.\n",
            );
        }
        self.deliver(&report, false)
    }

    /// The text plan ends with the summary line ("No changes. ..." when there are none).
    /// `-q` hides it, unless a person is about to be asked to confirm it.
    fn show(&self, plan: &Plan) {
        let plan_text = render::plan::text_with(
            plan,
            self.printer.color_stderr(),
            self.printer.verbose() > 0,
        );
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

    /// The report on stdout, then in the `--report` file. The text report ends with the rooms
    /// created (with their ids), the elapsed time and a closing sentence; under `-q` it is
    /// printed only when something was left undone (the JSON report is always printed:
    /// scripts asked for it). A report file that cannot be written after the portal was
    /// changed exits 3, never 1: 1 promises that nothing was changed.
    fn deliver(&self, report: &Report, changed: bool) -> miette::Result<ExitStatus> {
        let text = match self.settings.format {
            ReportFormat::Text
                if self.printer.quiet() && report.exit_status() == ExitStatus::Success =>
            {
                String::new()
            }
            ReportFormat::Text => {
                let color = self.printer.color_stdout();
                let path = self.report_out.map(|o| o.path().display().to_string());
                format!(
                    "{}\n{}",
                    render::report::text(report, path.is_some(), color),
                    render::report::ending(report, self.clock.elapsed(), path.as_deref(), color)
                )
            }
            ReportFormat::Json => render::report::json(report),
        };
        if !text.is_empty() {
            self.printer.stdout(&text).into_diagnostic()?;
        }
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

/// `apply rooms/ --resend-pending 1h`: the flag takes its age only after `=` (so that it
/// cannot swallow a manifest path), so `1h` was read as a manifest. When such a path does not
/// exist and reads as an age, say what was probably meant instead of "no such file".
fn age_meant_for_resend(settings: &ApplySettings) -> miette::Result<()> {
    if settings.resend_pending.is_none() {
        return Ok(());
    }
    let meant = settings.files.iter().find_map(|f| {
        let text = f.to_str()?;
        (!f.exists() && crate::plan::pending::parse_age(text).is_ok()).then_some(text)
    });
    if let Some(age) = meant {
        miette::bail!(
            help = format!(
                "did you mean `--resend-pending={age}`? The flag takes its age after `=` only"
            ),
            "`{age}` is not a manifest file (no such file), but it reads as an age; nothing was changed"
        );
    }
    Ok(())
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
