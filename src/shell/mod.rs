//! The command-line shell: the arguments (clap types stay here and in `commands`), the
//! settings resolved from them, the printer (the only writer to the terminal), the files the
//! tool writes, signal handling and exit codes. Nothing below `commands` depends on it but
//! for plain settings and the printer's diagnostic style.

pub mod cli;
pub mod exit;
pub mod output;
pub mod printer;
pub mod settings;
pub mod signals;
