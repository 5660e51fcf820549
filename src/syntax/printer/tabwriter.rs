//! Column alignment for the formatter: the last stage before text leaves the
//! printer (`walk` → `Printer` byte stream → here → `trim` → output).
//!
//! Alloy's printer hands its byte stream to Go's `text/tabwriter` configured
//! with `minwidth 0, tabwidth 8, padding 1, padchar ' '` and the flags
//! `DiscardEmptyColumns | TabIndent`. `alloy fmt` output (the `=` and trailing
//! comment alignment, and the tab indentation) is whatever that elastic-tabstop
//! algorithm produces, including its quirks: a form feed or a one-cell line
//! ends every column, a line's last cell never belongs to a column, escaped
//! text (bracketed by [`ESCAPE`]) is opaque but still counts towards a cell's
//! width, and leading empty cells are padded with tabs.
//!
//! The `tabwriter` crate does not implement escapes, `TabIndent` nor
//! `DiscardEmptyColumns`, and flushes differently, so its output differs on
//! the corpus; this module implements the same algorithm directly, on bytes,
//! with the fixed configuration the printer needs.

/// Brackets a segment that must not be interpreted (comments). The byte can
/// never occur in UTF-8 text, so it cannot clash with the source.
pub const ESCAPE: u8 = 0xff;

const TAB_WIDTH: usize = 8;
const PADDING: usize = 1;

#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    /// Bytes of text in the cell.
    size: usize,
    /// Width in characters (escape brackets excluded).
    width: usize,
    /// Ended by a hard tab (`\t`) rather than a soft one (`\v`) or a line end.
    hard: bool,
}

/// Number of characters in `bytes`, counting every byte that does not
/// continue a UTF-8 sequence (so an [`ESCAPE`] byte counts as one).
fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xc0 != 0x80).count()
}

/// Align the cells of `input` and return the laid-out bytes. Escape brackets
/// are passed through for the trimming stage to remove.
pub fn align(input: &[u8]) -> Vec<u8> {
    let mut w = Aligner::default();
    w.feed(input);
    w.finish();
    w.out
}

#[derive(Default)]
struct Aligner {
    out: Vec<u8>,
    /// Text of the buffered cells, without their terminators.
    text: Vec<u8>,
    /// `text[..measured]` has been counted into `cell.width`.
    measured: usize,
    /// The cell being filled.
    cell: Cell,
    in_escape: bool,
    /// Buffered lines; the last one is the line being filled.
    lines: Vec<Vec<Cell>>,
    /// Widths of the columns to the left of the one being laid out.
    widths: Vec<usize>,
}

impl Aligner {
    fn push_text(&mut self, bytes: &[u8]) {
        self.text.extend_from_slice(bytes);
        self.cell.size += bytes.len();
    }

    fn measure(&mut self) {
        self.cell.width += char_count(&self.text[self.measured..]);
        self.measured = self.text.len();
    }

    fn close_escape(&mut self) {
        self.measure();
        // The two escape bytes are in the text but take no room.
        self.cell.width = self.cell.width.saturating_sub(2);
        self.in_escape = false;
    }

    /// Ends the current cell; returns how many cells its line now has.
    fn end_cell(&mut self, hard: bool) -> usize {
        self.cell.hard = hard;
        let cell = std::mem::take(&mut self.cell);
        if self.lines.is_empty() {
            self.lines.push(Vec::new());
        }
        let line = self.lines.len() - 1;
        self.lines[line].push(cell);
        self.lines[line].len()
    }

    fn feed(&mut self, input: &[u8]) {
        if self.lines.is_empty() {
            self.lines.push(Vec::new());
        }
        let mut start = 0;
        for (i, &b) in input.iter().enumerate() {
            if self.in_escape {
                if b == ESCAPE {
                    self.push_text(&input[start..=i]);
                    start = i + 1;
                    self.close_escape();
                }
                continue;
            }
            match b {
                b'\t' | 0x0b | b'\n' | 0x0c => {
                    self.push_text(&input[start..i]);
                    self.measure();
                    start = i + 1;
                    let cells = self.end_cell(b == b'\t');
                    if b == b'\n' || b == 0x0c {
                        self.lines.push(Vec::new());
                        // A form feed ends all columns; a line holding a single
                        // cell cannot influence later lines either.
                        if b == 0x0c || cells == 1 {
                            self.flush();
                        }
                    }
                }
                ESCAPE => {
                    self.push_text(&input[start..i]);
                    self.measure();
                    // The opening bracket stays in the cell's text.
                    start = i;
                    self.in_escape = true;
                }
                _ => {}
            }
        }
        self.push_text(&input[start..]);
    }

    fn finish(&mut self) {
        if self.cell.size > 0 {
            if self.in_escape {
                self.close_escape();
            }
            self.end_cell(false);
        }
        self.flush();
    }

    /// Lays out every buffered line and starts afresh.
    fn flush(&mut self) {
        let n = self.lines.len();
        self.layout(0, 0, n);
        self.text.clear();
        self.measured = 0;
        self.cell = Cell::default();
        self.in_escape = false;
        self.lines.clear();
        self.lines.push(Vec::new());
        self.widths.clear();
    }

    /// Lays out lines `first..end`, whose text starts at `text_pos`, knowing
    /// the widths of the columns left of `self.widths.len()`. A run of
    /// consecutive lines that all have a cell in the next column forms a
    /// column block; its width is decided, then the columns to its right are
    /// laid out recursively. Returns the text position after `end`.
    fn layout(&mut self, mut text_pos: usize, mut first: usize, end: usize) -> usize {
        let column = self.widths.len();
        let mut line = first;
        while line < end {
            if column + 1 < self.lines[line].len() {
                text_pos = self.emit(text_pos, first, line);
                first = line;
                let mut width = 0;
                let mut empty_and_soft = true;
                while line < end {
                    let cells = &self.lines[line];
                    if column + 1 >= cells.len() {
                        break;
                    }
                    let c = cells[column];
                    width = width.max(c.width + PADDING);
                    if c.width > 0 || c.hard {
                        empty_and_soft = false;
                    }
                    line += 1;
                }
                if empty_and_soft {
                    width = 0;
                }
                self.widths.push(width);
                text_pos = self.layout(text_pos, first, line);
                self.widths.pop();
                first = line;
            }
            // The line that ended the block has too few cells to start a new
            // one, so it is skipped as well.
            line += 1;
        }
        self.emit(text_pos, first, end)
    }

    fn pad(&mut self, text_width: usize, cell_width: usize, tabs: bool) {
        if tabs {
            let cell_width = cell_width.div_ceil(TAB_WIDTH) * TAB_WIDTH;
            let n = cell_width.saturating_sub(text_width);
            let count = n.div_ceil(TAB_WIDTH);
            self.out.extend(std::iter::repeat_n(b'\t', count));
        } else {
            let n = cell_width.saturating_sub(text_width);
            self.out.extend(std::iter::repeat_n(b' ', n));
        }
    }

    /// Writes lines `first..end` with the current column widths.
    fn emit(&mut self, mut text_pos: usize, first: usize, end: usize) -> usize {
        for i in first..end {
            // Leading empty cells are indentation and padded with tabs.
            let mut indenting = true;
            for j in 0..self.lines[i].len() {
                let c = self.lines[i][j];
                let col_width = self.widths.get(j).copied();
                if c.size == 0 {
                    if let Some(w) = col_width {
                        self.pad(c.width, w, indenting);
                    }
                } else {
                    indenting = false;
                    let end_pos = text_pos + c.size;
                    self.out.extend_from_slice(&self.text[text_pos..end_pos]);
                    text_pos = end_pos;
                    if let Some(w) = col_width {
                        self.pad(c.width, w, false);
                    }
                }
            }
            if i + 1 == self.lines.len() {
                // The line being filled has no terminator yet: write what
                // text its open cell holds.
                let end_pos = text_pos + self.cell.size;
                self.out.extend_from_slice(&self.text[text_pos..end_pos]);
                text_pos = end_pos;
            } else {
                self.out.push(b'\n');
            }
        }
        text_pos
    }
}

/// Removes the escape brackets, drops blanks and tabs that end a line or the
/// text, and turns form feeds into newlines. Escaped text is copied verbatim.
pub fn trim(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut pending: Vec<u8> = Vec::new();
    let mut in_escape = false;
    for &b in input {
        if in_escape {
            if b == ESCAPE {
                in_escape = false;
            } else {
                out.push(b);
            }
            continue;
        }
        match b {
            b' ' | b'\t' => pending.push(b),
            0x0b => pending.push(b'\t'),
            b'\n' | 0x0c => {
                pending.clear();
                out.push(b'\n');
            }
            ESCAPE => {
                out.append(&mut pending);
                in_escape = true;
            }
            _ => {
                out.append(&mut pending);
                out.push(b);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> String {
        String::from_utf8(trim(&align(s.as_bytes()))).unwrap()
    }

    #[test]
    fn aligns_soft_tab_columns() {
        assert_eq!(run("a\x0b= 1\nlong\x0b= 2\n"), "a    = 1\nlong = 2\n");
    }

    #[test]
    fn form_feed_breaks_alignment() {
        assert_eq!(run("a\x0b= 1\x0clong\x0b= 2\n"), "a = 1\nlong = 2\n");
    }

    #[test]
    fn indentation_uses_tabs() {
        assert_eq!(run("\ta\x0b= 1\n\tbb\x0b= 2\n"), "\ta  = 1\n\tbb = 2\n");
    }

    #[test]
    fn escaped_text_is_opaque() {
        let out = trim(&align(b"x\t\xff// a\tb\xff\n"));
        assert_eq!(out, b"x // a\tb\n");
    }
}
