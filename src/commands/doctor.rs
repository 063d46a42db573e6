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
use crate::render;
use crate::settings::PortalSettings;
use crate::shell::signals::Signals;

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
        if settings.scratch {
            // The scratch probes write: a key that cannot finish them is refused first.
            let row = if settings.invite_probe.is_some() {
                "doctor --scratch --invite-probe"
            } else {
                "doctor --scratch"
            };
            portal::check_scopes(&portal, row).await?;
        }
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
            scratch(&mut doctor, &mut signals, printer).await;
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
        ReportFormat::Text => render::doctor::text(&outcome, printer.color_stdout()),
        ReportFormat::Json => render::doctor::json(&outcome),
    };
    printer.stdout(&text).into_diagnostic()?;
    Ok(if outcome.healthy() {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    })
}

/// The scratch probes: the temporary rooms are created, probed (a signal ends the probes)
/// and always deleted.
async fn scratch(doctor: &mut Doctor<'_>, signals: &mut Signals, printer: &Printer) {
    printer.status(&format!(
        "Creating the temporary rooms (\"{}\" and two more) ...\n",
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
    if doctor.scratch_room.is_some() || !doctor.extra_rooms.is_empty() {
        // Not interruptible: the room must not be left behind. Every wait is bounded.
        printer.status("Deleting the temporary rooms ...\n");
    }
    doctor.cleanup().await;
}

fn interrupted() -> Check {
    Check::new(
        "interrupted",
        Status::Fail,
        "stopped by a signal before every check ran",
    )
}
