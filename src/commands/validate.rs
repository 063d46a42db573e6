use std::path::PathBuf;

use crate::exit::ExitStatus;
use crate::printer::Printer;

pub fn run(_files: &[PathBuf], _printer: &Printer) -> miette::Result<ExitStatus> {
    Err(miette::miette!("validate is not implemented yet"))
}
