//! The thin binary: parse arguments, set up output and logging, run the command, and map its
//! outcome to the exit code in one place.

use std::process::ExitCode;

use clap::Parser;
use docspace_provision::{cli::Cli, commands, printer::Printer};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer::new(cli.global.color, cli.global.quiet, cli.global.verbose);
    commands::init_logging(&printer);
    let status = commands::run(cli, printer);
    ExitCode::from(status.code())
}
