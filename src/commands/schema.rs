use crate::exit::ExitStatus;
use crate::printer::Printer;

pub fn run(_printer: &Printer) -> miette::Result<ExitStatus> {
    Err(miette::miette!("schema is not implemented yet"))
}
