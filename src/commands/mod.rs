//! One module per subcommand. Each takes resolved settings and the [`Printer`] and returns an
//! [`ExitStatus`]; errors are rendered here, once, as miette diagnostics on stderr.

mod access;
pub(crate) mod apply;
mod audit;
mod doctor;
mod export;
pub(crate) mod plan;
pub(crate) mod portal;
mod sandbox;
mod schema;
pub(crate) mod validate;

use crate::cli::{Cli, Command};
use crate::exit::ExitStatus;
use crate::printer::Printer;

/// Runs a parsed command line to completion.
pub fn run(cli: Cli, printer: Printer) -> ExitStatus {
    let result = match cli.command {
        Command::Validate(args) => validate::run(&args.files, &printer),
        Command::Schema => schema::run(&printer),
        Command::Completions(args) => completions(args.shell, &printer),
        Command::Man => man(&printer),
        Command::Sandbox(args) => sandbox::run(args, &printer),
        Command::Plan(args) => run_plan(args, &cli.legacy_network, &printer),
        Command::Apply(args) => run_apply(args, &cli.legacy_network, &printer),
        Command::Doctor(args) => {
            with_portal(args.network.clone().merged(&cli.legacy_network), |portal| {
                doctor::run(
                    doctor::DoctorSettings {
                        scratch: args.scratch,
                        invite_probe: args.invite_probe,
                        format: args.format,
                    },
                    portal,
                    &printer,
                )
            })
        }
        Command::Access(args) => {
            with_portal(args.network.clone().merged(&cli.legacy_network), |portal| {
                access::run(
                    access::AccessSettings {
                        files: args.files,
                        person: args.person,
                        rooms: args.room,
                        format: args.format,
                    },
                    portal,
                    &printer,
                )
            })
        }
        Command::Audit(args) => {
            with_portal(args.network.clone().merged(&cli.legacy_network), |portal| {
                audit::run(
                    audit::AuditSettings {
                        files: args.files,
                        policy: args.policy,
                        format: args.format,
                    },
                    portal,
                    &printer,
                )
            })
        }
        Command::Export(args) => {
            with_portal(args.network.clone().merged(&cli.legacy_network), |portal| {
                export::run(
                    export::ExportSettings {
                        rooms: args.room,
                        people: args.people,
                        out: args.out,
                        check: args.check,
                    },
                    portal,
                    &printer,
                )
            })
        }
    };
    match result {
        Ok(status) => status,
        Err(report) => {
            printer.stderr(&printer.render_diagnostic(report.as_ref()));
            ExitStatus::Error
        }
    }
}

fn run_plan(
    args: crate::cli::PlanArgs,
    legacy: &crate::cli::LegacyNetworkArgs,
    printer: &Printer,
) -> miette::Result<ExitStatus> {
    with_portal(args.network.clone().merged(legacy), |portal| {
        plan::run(
            plan::PlanSettings {
                files: args.files,
                out: args.out,
                format: args.format,
                detailed_exitcode: args.detailed_exitcode,
                options: plan_options(
                    args.prune,
                    args.expiring_within,
                    args.no_new_guests,
                    args.room,
                ),
            },
            portal,
            printer,
        )
    })
}

fn run_apply(
    args: crate::cli::ApplyArgs,
    legacy: &crate::cli::LegacyNetworkArgs,
    printer: &Printer,
) -> miette::Result<ExitStatus> {
    with_portal(args.network.clone().merged(legacy), |portal| {
        apply::run(
            apply::ApplySettings {
                files: args.files,
                plan: args.plan,
                auto_approve: args.auto_approve,
                parallelism: usize::from(args.parallelism),
                report: args.report,
                format: args.format,
                allow_removals: args.allow_removals,
                allow_downgrades: args.allow_downgrades,
                options: plan_options(
                    args.prune,
                    args.expiring_within,
                    args.no_new_guests,
                    args.room,
                ),
                resend_pending: args.resend_pending,
            },
            portal,
            printer,
        )
    })
}

/// The planner's options from the flags `plan` and `apply` share (`--resend-pending` is
/// apply's alone and set by it).
fn plan_options(
    prune: bool,
    expiring_within_days: u32,
    no_new_guests: bool,
    rooms: Vec<String>,
) -> crate::plan::build::Options {
    crate::plan::build::Options {
        prune,
        expiring_within_days,
        no_new_guests,
        resend_pending: None,
        filter: crate::plan::filter::RoomFilter::from_args(rooms),
    }
}

/// Resolves the portal settings, then runs a command that needs them.
fn with_portal(
    network: crate::cli::NetworkArgs,
    command: impl FnOnce(&crate::settings::PortalSettings) -> miette::Result<ExitStatus>,
) -> miette::Result<ExitStatus> {
    let portal = crate::settings::portal_settings(&network).map_err(miette::Report::new)?;
    command(&portal)
}

/// Sets up `tracing` on stderr according to `-v` / `-q`. `RUST_LOG` overrides.
pub fn init_logging(printer: &Printer) {
    let level = match (printer.quiet(), printer.verbose()) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("docspace_provision={level}"))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| ScrubbedStderr(Vec::new()))
        .with_ansi(printer.color_stderr())
        .with_target(false)
        .without_time()
        .try_init();
}

/// A log line on its way to stderr: buffered, and written with the API key removed when the
/// event is complete (log messages can quote the portal's error text).
struct ScrubbedStderr(Vec<u8>);

impl std::io::Write for ScrubbedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.0);
        let text = crate::redact::scrub(&text);
        let result = std::io::stderr().lock().write_all(text.as_bytes());
        self.0.clear();
        result
    }
}

impl Drop for ScrubbedStderr {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

fn completions(shell: clap_complete::Shell, printer: &Printer) -> miette::Result<ExitStatus> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN_NAME, &mut buf);
    let mut script = String::from_utf8_lossy(&buf).into_owned();
    if shell == clap_complete::Shell::Bash {
        script = fix_bash_labels(&script);
    }
    printer
        .stdout(&script)
        .map_err(|e| miette::miette!("cannot write to stdout: {e}"))?;
    Ok(ExitStatus::Success)
}

const BIN_NAME: &str = "docspace-provision";

/// clap_complete's bash script computes the command names of subcommands from the binary
/// name with `-` turned into `__` (`docspace__provision__subcmd__apply`), but writes the
/// `case` labels that select each subcommand's options with the hyphen turned into
/// `__subcmd__` (`docspace__subcmd__provision__subcmd__apply`), so no subcommand option or
/// value ever completed. The labels are rewritten to the names the script computes.
fn fix_bash_labels(script: &str) -> String {
    let computed = BIN_NAME.replace('-', "__");
    let written = BIN_NAME.replace('-', "__subcmd__");
    script.replace(
        &format!("{written}__subcmd__"),
        &format!("{computed}__subcmd__"),
    )
}

fn man(printer: &Printer) -> miette::Result<ExitStatus> {
    let page = man_page().map_err(|e| miette::miette!("cannot render the man page: {e}"))?;
    printer
        .stdout(&page)
        .map_err(|e| miette::miette!("cannot write to stdout: {e}"))?;
    Ok(ExitStatus::Success)
}

/// One man page for the whole tool: the common options, then a subsection per command with
/// its description, synopsis and every option, then the exit codes and the environment. One
/// page, because `man docspace-provision` is what people type, and the options a command takes
/// differ (only the commands that talk to a portal take the portal options).
pub fn man_page() -> std::io::Result<String> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let top = clap_mangen::Man::new(cmd.clone());
    let mut buf = Vec::new();
    top.render_title(&mut buf)?;
    top.render_name_section(&mut buf)?;
    top.render_synopsis_section(&mut buf)?;
    top.render_description_section(&mut buf)?;
    top.render_options_section(&mut buf)?;
    buf.extend_from_slice(b".SH COMMANDS\nEvery command also accepts the options above.\n");
    for sub in cmd.get_subcommands() {
        let name = format!("{} {}", cmd.get_name(), sub.get_name());
        buf.extend_from_slice(format!(".SS \"{}\"\n", roff_escape(&name)).as_bytes());
        // The command alone (not built from the top), so the common options are not repeated
        // under every command.
        let man = clap_mangen::Man::new(sub.clone().bin_name(name));
        let mut part = Vec::new();
        man.render_description_section(&mut part)?;
        man.render_synopsis_section(&mut part)?;
        man.render_options_section(&mut part)?;
        // `.SS` does not nest: the sections of a command become bold paragraph headings.
        for line in String::from_utf8_lossy(&part).lines() {
            match line.strip_prefix(".SH ") {
                Some("DESCRIPTION") => {}
                Some(heading) => {
                    let heading = heading.trim_matches('"');
                    let heading = heading[..1].to_string() + &heading[1..].to_lowercase();
                    buf.extend_from_slice(format!(".P\n\\fB{heading}:\\fR\n").as_bytes());
                }
                None => {
                    buf.extend_from_slice(line.as_bytes());
                    buf.push(b'\n');
                }
            }
        }
    }
    buf.extend_from_slice(b".SH \"EXIT STATUS\"\n");
    for (code, meaning) in crate::cli::exit_codes() {
        buf.extend_from_slice(
            format!(".TP\n\\fB{code}\\fR\n{}\n", roff_escape(&meaning)).as_bytes(),
        );
    }
    buf.extend_from_slice(
        b".SH ENVIRONMENT\n\
.TP\n\\fBDOCSPACE_URL\\fR\nThe portal, when \\fB\\-\\-portal\\fR is not given.\n\
.TP\n\\fBDOCSPACE_API_KEY\\fR\nThe API key, when \\fB\\-\\-api\\-key\\-file\\fR is not given. A key is never taken from a flag value.\n\
.TP\n\\fBNO_COLOR\\fR\nNo colours under \\fB\\-\\-color auto\\fR.\n",
    );
    top.render_version_section(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Text made safe for a roff line: backslashes doubled as `\e`, and a leading `.` or `'`
/// (which roff would read as a request) guarded.
fn roff_escape(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    if text.starts_with('.') || text.starts_with('\'') {
        format!("\\&{text}")
    } else {
        text
    }
}
