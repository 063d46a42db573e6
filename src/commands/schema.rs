//! `schema`: the JSON Schema of the manifest format on stdout.

use crate::exit::ExitStatus;
use crate::printer::Printer;

pub fn run(printer: &Printer) -> miette::Result<ExitStatus> {
    printer
        .stdout(&crate::manifest::schema::schema_json())
        .map_err(|e| miette::miette!("cannot write to stdout: {e}"))?;
    Ok(ExitStatus::Success)
}
