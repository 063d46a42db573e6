//! The one place that writes to the terminal. stdout carries data (plans, reports, exports,
//! schemas); stderr carries progress, logs and diagnostics. Nothing else in the crate prints.

use std::io::{self, IsTerminal, Write};

use crate::cli::ColorChoice;

/// Output settings for one run.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    color_stdout: bool,
    color_stderr: bool,
    quiet: bool,
    verbose: u8,
    stdin_terminal: bool,
    stderr_terminal: bool,
}

impl Printer {
    /// Resolves `--color` against `NO_COLOR`, `CLICOLOR_FORCE` and whether each stream is a terminal.
    pub fn new(color: ColorChoice, quiet: bool, verbose: u8) -> Printer {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let decide = |is_tty: bool| match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color && is_tty,
        };
        Printer {
            color_stdout: decide(io::stdout().is_terminal()),
            color_stderr: decide(io::stderr().is_terminal()),
            quiet,
            verbose,
            stdin_terminal: io::stdin().is_terminal(),
            stderr_terminal: io::stderr().is_terminal(),
        }
    }

    /// A printer with no colour and no terminal, for tests.
    pub fn plain() -> Printer {
        Printer {
            color_stdout: false,
            color_stderr: false,
            quiet: false,
            verbose: 0,
            stdin_terminal: false,
            stderr_terminal: false,
        }
    }

    pub fn color_stdout(&self) -> bool {
        self.color_stdout
    }

    pub fn color_stderr(&self) -> bool {
        self.color_stderr
    }

    pub fn quiet(&self) -> bool {
        self.quiet
    }

    pub fn verbose(&self) -> u8 {
        self.verbose
    }

    /// Whether a person can answer a prompt.
    pub fn interactive(&self) -> bool {
        self.stdin_terminal && self.stderr_terminal
    }

    /// Whether progress bars may be drawn (stderr is a terminal and not quiet).
    pub fn progress_visible(&self) -> bool {
        self.stderr_terminal && !self.quiet
    }

    /// Writes data to stdout.
    pub fn stdout(&self, text: &str) -> io::Result<()> {
        let mut out = anstream::AutoStream::new(
            io::stdout().lock(),
            if self.color_stdout {
                anstream::ColorChoice::Always
            } else {
                anstream::ColorChoice::Never
            },
        );
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// Writes a status line to stderr unless `--quiet`.
    pub fn status(&self, text: &str) {
        if !self.quiet {
            self.stderr(text);
        }
    }

    /// Writes to stderr whatever `--quiet` says (errors, warnings).
    pub fn stderr(&self, text: &str) {
        let mut err = anstream::AutoStream::new(
            io::stderr().lock(),
            if self.color_stderr {
                anstream::ColorChoice::Always
            } else {
                anstream::ColorChoice::Never
            },
        );
        // A closed stderr is not worth failing the run over.
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
    }

    /// Renders a miette diagnostic the way every diagnostic of this tool is shown: with a
    /// colour theme only on a terminal, and at a fixed width when not on one so that output is
    /// reproducible (`COLUMNS` overrides).
    pub fn render_diagnostic(&self, diagnostic: &dyn miette::Diagnostic) -> String {
        render_diagnostic(diagnostic, self.color_stderr)
    }
}

/// See [`Printer::render_diagnostic`].
pub fn render_diagnostic(diagnostic: &dyn miette::Diagnostic, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100);
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_context_lines(1);
    let mut out = String::new();
    if handler.render_report(&mut out, diagnostic).is_err() {
        out = format!("{diagnostic}\n");
    }
    out
}
