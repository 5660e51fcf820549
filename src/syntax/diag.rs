//! Diagnostics: errors and warnings with positions, and their pretty form.
//!
//! Every stage that reads configuration (scanner, parser, evaluator, graph
//! loader) reports through [`Diagnostic`], so `smelter validate`, `smelter run`
//! and a rejected reload all print the same `file:line:col: message` lines, and
//! [`render`] draws the numbered source lines with a `^^^` underline exactly as
//! Alloy's diagnostic printer does.

use std::fmt::{self, Write as _};

use super::token::Position;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One error or warning, with the range of text it is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub severity: Severity,
    pub start: Position,
    /// Inclusive end; invalid (line 0) when the diagnostic is a single point.
    pub end: Position,
    pub message: String,
}

impl Diagnostic {
    pub fn error(start: Position, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            start,
            end: Position::default(),
            message: message.into(),
        }
    }

    pub fn warning(start: Position, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(start, message)
        }
    }

    pub fn with_end(mut self, end: Position) -> Self {
        self.end = end;
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.start, self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// All diagnostics of one operation, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
}

impl fmt::Display for Diagnostics {
    /// Like Alloy: the first diagnostic, then how many more there are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [] => f.write_str("no diagnostics"),
            [one] => write!(f, "{one}"),
            [first, rest @ ..] => write!(f, "{first} (and {} more diagnostics)", rest.len()),
        }
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

const TAB_WIDTH: usize = 4;

/// Render diagnostics the way `alloy validate` prints them: a header line,
/// then one line of context before and after, with `^` under the range.
/// `source` looks a file's bytes up by name.
pub fn render<'a>(diags: &Diagnostics, source: impl Fn(&str) -> Option<&'a [u8]>) -> String {
    let mut out = String::new();
    for (i, d) in diags.iter().enumerate() {
        let prefix = match d.severity {
            Severity::Error => "Error: ",
            Severity::Warning => "Warning: ",
        };
        let _ = writeln!(out, "{prefix}{}: {}", d.start, d.message);
        let end = if d.end.is_valid() {
            d.end.clone()
        } else {
            d.start.clone()
        };
        if d.start.is_valid() && d.start.filename == end.filename {
            if let Some(src) = source(&d.start.filename) {
                render_range(&mut out, src, &d.start, &end);
            }
        }
        if i + 1 < diags.len() {
            out.push('\n');
        }
    }
    out
}

fn render_range(out: &mut String, src: &[u8], start: &Position, end: &Position) {
    let text = String::from_utf8_lossy(src);
    let lines: Vec<&str> = text.split('\n').collect();
    let start_line = (start.line as usize).saturating_sub(1).max(1);
    let end_line = (end.line as usize + 1).min(lines.len());
    let multiline = end.line > start.line;
    let width = end_line.to_string().len();
    out.push('\n');
    for line_num in start_line..=end_line {
        let line = lines[line_num - 1];
        let _ = write!(out, "{line_num:>width$} | ");
        if multiline {
            out.push_str(if in_range(line_num, 0, start, end) {
                "| "
            } else {
                "  "
            });
        }
        for ch in line.chars() {
            match ch {
                '\r' => {}
                '\t' | '\u{b}' => out.push_str(&" ".repeat(TAB_WIDTH)),
                c => out.push(c),
            }
        }
        out.push('\n');
        if line_num == start.line as usize || (multiline && line_num == end.line as usize) {
            out.push_str(&" ".repeat(width));
            out.push_str(match (multiline, line_num == start.line as usize) {
                (true, true) => " |  _",
                (true, false) => " | |_",
                _ => " | ",
            });
            render_focus(out, line, line_num, start, end);
            out.push('\n');
        }
    }
}

fn render_focus(out: &mut String, line: &str, line_num: usize, start: &Position, end: &Position) {
    let blank = if end.line > start.line { '_' } else { ' ' };
    for (i, ch) in line.char_indices() {
        let column = i + 1;
        if line_num == end.line as usize && column > end.column as usize {
            break;
        }
        if ch == '\t' || ch == '\u{b}' {
            out.extend(std::iter::repeat_n(blank, TAB_WIDTH));
        } else if in_range(line_num, column, start, end) {
            out.push('^');
        } else {
            out.push(blank);
        }
    }
}

fn in_range(line: usize, col: usize, start: &Position, end: &Position) -> bool {
    let (sl, el) = (start.line as usize, end.line as usize);
    if line < sl || line > el {
        return false;
    }
    if line == sl {
        col >= start.column as usize
    } else if line == el {
        col <= end.column as usize
    } else {
        true
    }
}
