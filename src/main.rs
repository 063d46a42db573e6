//! The thin binary: parse arguments, set up output and logging, run the command, and map its
//! outcome to the exit code in one place.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use docspace_provision::{ExitStatus, cli::Cli, commands, printer::Printer};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap exits 2 on usage errors, but 2 means "changes pending" here
            // (docs/architecture.md, "Commands and exit codes"): bad flags are exit 1. Help and version are successes.
            let _ = e.print();
            let status = match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitStatus::Success,
                _ => ExitStatus::Error,
            };
            return ExitCode::from(status.code());
        }
    };
    let printer = Printer::new(cli.global.color, cli.global.quiet, cli.global.verbose);
    commands::init_logging(&printer);
    let status = commands::run(cli, printer);
    ExitCode::from(status.code())
}
