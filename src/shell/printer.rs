//! The one place that writes to the terminal. stdout carries data (plans, reports, exports,
//! schemas); stderr carries progress, logs and diagnostics. Nothing else in the crate prints.
//!
//! Every write passes through [`crate::redact::scrub`] last, so text that came from the portal
//! (error messages, titles, names) cannot put the API key on the terminal or into a pipe.

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

    /// A "rooms read" bar on stderr for reading the portal (one read per matched room: most
    /// of the time on a big portal); draws nothing when stderr is a pipe or log, or quiet.
    pub fn rooms_read_bar(&self) -> ReadBar {
        ReadBar(self.progress_visible().then(|| {
            let bar = indicatif::ProgressBar::hidden();
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rooms read")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        }))
    }

    /// Writes data to stdout.
    pub fn stdout(&self, text: &str) -> io::Result<()> {
        let text = crate::redact::scrub(text);
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
        let text = crate::redact::scrub(text);
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
    // Lines break at spaces only: the default splitter also breaks at hyphens, which cut a
    // date example (`2027-01-31`) or a flag name in two.
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
        .with_context_lines(1);
    let mut out = String::new();
    let deduped = Deduped::new(diagnostic);
    if handler.render_report(&mut out, &deduped).is_err() {
        out = format!("{diagnostic}\n");
    }
    out
}

pub use crate::text::repeats;

/// A cause of a diagnostic, reduced to its text.
#[derive(Debug)]
struct Cause {
    text: String,
    next: Option<Box<Cause>>,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.next.as_deref().map(|c| c as _)
    }
}

/// A diagnostic whose cause chain leaves out links that repeat the text above them
/// ("cannot read the key file k: No such file or directory" over "No such file or directory").
/// Everything else (code, help, labels, source) is the wrapped diagnostic's.
struct Deduped<'a> {
    inner: &'a dyn miette::Diagnostic,
    causes: Option<Box<Cause>>,
}

impl<'a> Deduped<'a> {
    fn new(inner: &'a dyn miette::Diagnostic) -> Deduped<'a> {
        let mut texts: Vec<String> = Vec::new();
        let mut shown = inner.to_string();
        // Inner diagnostics first (what miette itself follows), plain sources otherwise.
        let mut next: Option<&dyn std::error::Error> = match inner.diagnostic_source() {
            Some(d) => Some(d as &dyn std::error::Error),
            None => inner.source().map(|e| e as &dyn std::error::Error),
        };
        let mut depth = 0;
        while let Some(e) = next {
            depth += 1;
            if depth > 32 {
                break;
            }
            let text = e.to_string();
            if !repeats(&shown, &text) {
                shown = text.clone();
                texts.push(text);
            }
            next = e.source();
        }
        let causes = texts
            .into_iter()
            .rev()
            .fold(None, |next, text| Some(Box::new(Cause { text, next })));
        Deduped { inner, causes }
    }
}

impl std::fmt::Debug for Deduped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.inner, f)
    }
}

impl std::fmt::Display for Deduped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.inner, f)
    }
}

impl std::error::Error for Deduped<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.causes.as_deref().map(|c| c as _)
    }
}

impl miette::Diagnostic for Deduped<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.inner.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.inner.severity()
    }
    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.inner.help()
    }
    fn url<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.inner.url()
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.inner.source_code()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.inner.labels()
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        self.inner.related()
    }
}

/// See [`Printer::rooms_read_bar`].
pub struct ReadBar(Option<indicatif::ProgressBar>);

impl ReadBar {
    /// `done` of `total` rooms read.
    pub fn show(&self, done: usize, total: usize) {
        if let Some(bar) = &self.0 {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    }

    /// Clears the bar once the reads are over.
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_ignores_case_and_os_error_suffix() {
        assert!(repeats(
            "cannot connect to the portal: connection refused",
            "Connection refused (os error 111)"
        ));
        assert!(repeats(
            "cannot read the API key file k: No such file or directory (os error 2)",
            "No such file or directory (os error 2)"
        ));
        assert!(!repeats("cannot start the sandbox", "permission denied"));
    }

    #[test]
    fn a_help_line_never_breaks_inside_a_date() {
        // Wherever the line ends, the date stays whole.
        for pad in 60..110 {
            let help = format!(
                "{} a date alone (2027-01-31) means midnight",
                "x".repeat(pad)
            );
            let e = miette::miette!(help = help, "bad date");
            let out = render_diagnostic(e.as_ref(), false);
            assert!(out.contains("2027-01-31"), "{out}");
        }
    }

    #[test]
    fn a_repeated_cause_is_rendered_once() {
        let e = miette::Report::msg("entity not found")
            .wrap_err("cannot read rooms.yaml: entity not found");
        let out = render_diagnostic(e.as_ref(), false);
        assert_eq!(out.matches("entity not found").count(), 1, "{out}");
        let e = miette::Report::msg("entity not found").wrap_err("cannot read rooms.yaml");
        let out = render_diagnostic(e.as_ref(), false);
        assert!(out.contains("entity not found"), "{out}");
    }
}
