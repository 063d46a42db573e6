//! `doctor [--scratch]`: check the portal against the server rules the tool relies on
//! ([`crate::doctor`]), print a line per check, exit 1 when one fails.
//!
//! With `--scratch` a temporary room is created; it is deleted at the end whatever happens in
//! between: a failed probe, or Ctrl-C / SIGTERM (the probes are abandoned, the cleanup runs).

use std::time::Duration;

use miette::IntoDiagnostic;

use crate::cli::ReportFormat;
use crate::doctor::{self, Check, Doctor, Outcome, Status};
use crate::exit::ExitStatus;
use crate::printer::Printer;
use crate::settings::PortalSettings;

use super::portal;

pub struct DoctorSettings {
    pub scratch: bool,
    pub invite_probe: Option<String>,
    pub format: ReportFormat,
}

/// How long stopping the in-process sandbox may take at the end.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

pub fn run(
    settings: DoctorSettings,
    portal_settings: &PortalSettings,
    printer: &Printer,
) -> miette::Result<ExitStatus> {
    let rt = portal::runtime()?;
    let outcome = rt.block_on(async {
        // Registered before anything is created: a signal during the room's creation is
        // noticed right after it, and the room is still deleted.
        let mut signals = Signals::new()?;
        let portal = portal::open(portal_settings).await?;
        printer.status(&format!("Checking {} ...\n", portal.display));
        let mut doctor = Doctor::new(
            &portal.client,
            doctor::Options {
                scratch: settings.scratch,
                invite_probe: settings.invite_probe.clone(),
            },
        );
        let usable = match signals.or_interrupted(doctor.read_only()).await {
            Some(usable) => usable,
            None => {
                doctor.checks.push(interrupted());
                false
            }
        };
        if usable && settings.scratch {
            printer.status(&format!(
                "Creating the temporary room \"{}\" ...\n",
                doctor.scratch_title()
            ));
            let created = doctor.create_scratch_room().await;
            // A signal during the creation is seen here; one during the probes ends them.
            let finished = !signals.pending()
                && (!created
                    || signals
                        .or_interrupted(doctor.scratch_rules())
                        .await
                        .is_some());
            if !finished {
                doctor.checks.push(interrupted());
            }
            if doctor.scratch_room.is_some() {
                // Not interruptible: the room must not be left behind. Every wait is bounded.
                printer.status("Deleting the temporary room ...\n");
            }
            doctor.cleanup().await;
        }
        doctor.limiter();
        let outcome = Outcome {
            format_version: doctor::FORMAT_VERSION,
            portal: portal.display.clone(),
            scratch: settings.scratch,
            checks: doctor.checks,
        };
        if tokio::time::timeout(CLOSE_TIMEOUT, portal.close())
            .await
            .is_err()
        {
            tracing::warn!("the sandbox did not stop in time");
        }
        Ok::<_, miette::Report>(outcome)
    })?;
    rt.shutdown_timeout(Duration::from_millis(500));
    let text = match settings.format {
        ReportFormat::Text => doctor::text(&outcome),
        ReportFormat::Json => doctor::json(&outcome),
    };
    printer.stdout(&text).into_diagnostic()?;
    Ok(if outcome.healthy() {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    })
}

fn interrupted() -> Check {
    Check::new(
        "interrupted",
        Status::Fail,
        "stopped by a signal before every check ran",
    )
}

/// SIGINT (Ctrl-C) and SIGTERM, handled alike.
struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> miette::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                int: signal(SignalKind::interrupt()).into_diagnostic()?,
                term: signal(SignalKind::terminate()).into_diagnostic()?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            Some(()) = self.int.recv() => {}
            Some(()) = self.term.recv() => {}
            else => std::future::pending::<()>().await,
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Whether a signal arrived and has not been seen yet.
    fn pending(&mut self) -> bool {
        use std::task::{Context, Poll, Waker};
        let mut cx = Context::from_waker(Waker::noop());
        #[cfg(unix)]
        {
            matches!(self.int.poll_recv(&mut cx), Poll::Ready(Some(())))
                || matches!(self.term.poll_recv(&mut cx), Poll::Ready(Some(())))
        }
        #[cfg(not(unix))]
        {
            let _ = &mut cx;
            false
        }
    }

    /// Runs `work` unless a signal comes first (`None` then).
    async fn or_interrupted<T>(&mut self, work: impl std::future::Future<Output = T>) -> Option<T> {
        tokio::select! {
            value = work => Some(value),
            () = self.recv() => None,
        }
    }
}
