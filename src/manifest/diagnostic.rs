//! One located problem in a manifest, rendered by miette: what is wrong, where (a label on the
//! offending value, with file:line:column), and what to do (a help line).
//!
//! The snippet is cut from [`SourceFile::shown`], the file's text with the values of
//! secret-looking keys masked: a label may point anywhere, next to a `password:` line or at
//! it, and the password is still not shown.

use std::fmt;

use miette::{Diagnostic, LabeledSpan, Severity, SourceSpan};

use super::source::SourceFile;
use super::yaml::Span;

/// A diagnostic about a manifest (or about reading it).
#[derive(Debug, Clone)]
pub struct Problem {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
    /// The file the labels point into (its text is shared, not copied).
    pub source: Option<SourceFile>,
    pub labels: Vec<LabeledSpan>,
    /// "file:line:column" of the primary label, kept for plain-text and JSON output.
    pub location: Option<String>,
}

impl Problem {
    pub fn error(code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Error,
            code,
            message: message.into(),
            help: None,
            source: None,
            labels: Vec::new(),
            location: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(code, message)
        }
    }

    /// A one-line remark that is neither a warning nor an error (a file skipped as not a
    /// manifest); rendered without a snippet.
    pub fn note(code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Advice,
            ..Problem::error(code, message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }

    /// Points the problem at `span` in `file`, with a label. The first call sets the primary
    /// location; later calls add secondary labels (which may be in the same file only).
    pub fn at(mut self, file: &SourceFile, span: Span, label: impl Into<String>) -> Problem {
        if self.source.is_none() {
            let (line, col) = file.line_col(span.offset);
            self.location = Some(format!("{}:{line}:{col}", file.name));
            self.source = Some(file.clone());
        }
        // Underline at most the start of a huge value (see `SourceFile::label_span`).
        let (offset, len) = file.label_span(span.offset, span.len);
        let span = SourceSpan::new(offset.into(), len);
        let label = label.into();
        self.labels.push(if self.labels.is_empty() {
            LabeledSpan::new_primary_with_span(Some(label), span)
        } else {
            LabeledSpan::new_with_span(Some(label), span)
        });
        self
    }

    pub fn is_error(&self) -> bool {
        matches!(self.severity, Severity::Error)
    }

    pub fn is_warning(&self) -> bool {
        matches!(self.severity, Severity::Warning)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}

/// Every problem found in a run, errors and warnings, in file order.
#[derive(Debug, Default, Clone)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(&mut self, p: Problem) {
        self.0.push(p);
    }
    pub fn errors(&self) -> usize {
        self.0.iter().filter(|p| p.is_error()).count()
    }
    pub fn warnings(&self) -> usize {
        self.0.iter().filter(|p| p.is_warning()).count()
    }
    pub fn has_errors(&self) -> bool {
        self.errors() > 0
    }
}
