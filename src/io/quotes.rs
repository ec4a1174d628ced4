//! A bound on quoted CSV fields. A stray `"` at the start of a field opens a quote that a CSV
//! parser closes only at the next `"`, often the end of the file: every row after it becomes
//! one field of one row. [`QuoteGuard`] sits between the file and the parser: a quote that runs
//! on for more lines or bytes than the bound (or to the end of the input) loses only the line it
//! opened on, whose bytes are blanked (the file's length and lines stay as they were) and
//! reported as a [`Runaway`]; reading resumes at the next line.

use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Lines a quoted field may span before it is taken for a stray quote.
pub const DEFAULT_MAX_QUOTED_LINES: usize = 100;
/// Bytes a quoted field may hold (as a cell may: `MAX_FIELD_BYTES`).
const MAX_QUOTED_BYTES: usize = crate::model::cell::MAX_FIELD_BYTES;
/// An unquoted line held back no longer than this.
const LONG_LINE: usize = 8 << 20;

static MAX_QUOTED_LINES: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_QUOTED_LINES);

/// Sets the bound for this run (`--max-quoted-lines`).
pub fn set_max_quoted_lines(lines: usize) {
    MAX_QUOTED_LINES.store(lines.max(1), Ordering::Relaxed);
}

pub fn max_quoted_lines() -> usize {
    MAX_QUOTED_LINES.load(Ordering::Relaxed)
}

/// A line whose quote was never closed within the bound.
#[derive(Debug, Clone)]
pub struct Runaway {
    /// Where the line starts in the input.
    pub byte: u64,
    /// The line as it was (its start).
    pub text: String,
}

impl Runaway {
    pub fn message(&self) -> String {
        format!(
            "a quote opened on this line is not closed within {} lines: the line is skipped and \
             reading goes on at the next line (a stray \" in a cell? --max-quoted-lines raises \
             the bound for long quoted notes)",
            max_quoted_lines()
        )
    }
}

/// The runaways found so far, in input order; shared with the reader of the records.
pub type Runaways = Arc<RunawayList>;

/// The runaways behind a lock, and a flag read without it: most files have none, and the
/// reader asks for every record.
#[derive(Debug, Default)]
pub struct RunawayList {
    list: Mutex<Vec<Runaway>>,
    any: AtomicBool,
}

impl RunawayList {
    pub fn lock(&self) -> std::sync::LockResult<std::sync::MutexGuard<'_, Vec<Runaway>>> {
        self.list.lock()
    }

    fn push(&self, runaway: Runaway) {
        self.lock().expect("the runaways are not poisoned").push(runaway);
        self.any.store(true, Ordering::Release);
    }

    /// Whether any runaway was ever found (then the list is worth locking).
    pub fn any(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }
}

/// The runaway whose blanked line is the record starting at byte `at`, when it is one.
pub fn take_at(runaways: &Runaways, at: u64) -> Option<Runaway> {
    if !runaways.any() {
        return None;
    }
    let mut list = runaways.lock().expect("the runaways are not poisoned");
    (list.first().is_some_and(|r| r.byte == at)).then(|| list.remove(0))
}

/// The next runaway, for a record that is a blanked line (one cell of spaces) starting at or
/// after byte `from` (a parser that skips blank lines counts them in the record).
pub fn take_blanked(runaways: &Runaways, from: u64, cells: &[&[u8]]) -> Option<Runaway> {
    if !runaways.any() {
        return None;
    }
    let blank = matches!(cells, [only] if !only.is_empty() && only.iter().all(|&b| b == b' '));
    let mut list = runaways.lock().expect("the runaways are not poisoned");
    (blank && list.first().is_some_and(|r| r.byte >= from)).then(|| list.remove(0))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    InField,
    Quoted,
    /// A `"` inside a quoted field: an escaped `""` or the end of the quote.
    QuoteInQuoted,
}

/// An open quote: where its line starts in the buffer, and the lines it spans so far.
#[derive(Debug, Clone, Copy)]
struct Open {
    line_start: usize,
    lines: usize,
}

pub struct QuoteGuard<R> {
    inner: R,
    delimiter: u8,
    buf: Vec<u8>,
    /// Bytes of `buf` handed to the parser, and scanned for quotes.
    handed: usize,
    scanned: usize,
    /// The input offset of `buf[0]`.
    base: u64,
    /// The start (in `buf`) of the line being scanned.
    line_start: usize,
    state: State,
    open: Option<Open>,
    eof: bool,
    max_lines: usize,
    runaways: Runaways,
}

impl<R: Read> QuoteGuard<R> {
    pub fn new(inner: R, delimiter: u8) -> QuoteGuard<R> {
        QuoteGuard {
            inner,
            delimiter,
            buf: Vec::new(),
            handed: 0,
            scanned: 0,
            base: 0,
            line_start: 0,
            state: State::FieldStart,
            open: None,
            eof: false,
            max_lines: max_quoted_lines(),
            runaways: Runaways::default(),
        }
    }

    pub fn runaways(&self) -> Runaways {
        Arc::clone(&self.runaways)
    }

    /// Scans `buf[scanned..]`, advancing the state; a quote over the bound is cut at once.
    fn scan(&mut self) {
        while self.scanned < self.buf.len() {
            let i = self.scanned;
            let b = self.buf[i];
            self.scanned += 1;
            let line_end = b == b'\n' || b == b'\r';
            match self.state {
                State::FieldStart | State::InField => {
                    if line_end {
                        self.state = State::FieldStart;
                        self.line_start = i + 1;
                    } else if b == self.delimiter {
                        self.state = State::FieldStart;
                    } else if b == b'"' && self.state == State::FieldStart {
                        self.state = State::Quoted;
                        self.open = Some(Open { line_start: self.line_start, lines: 0 });
                    } else {
                        self.state = State::InField;
                        self.skip_to_special();
                    }
                }
                State::Quoted => {
                    if b == b'"' {
                        self.state = State::QuoteInQuoted;
                    } else if b == b'\n' {
                        self.line_start = i + 1;
                        let open = self.open.as_mut().expect("a quoted field has an open quote");
                        open.lines += 1;
                        if open.lines > self.max_lines || i - open.line_start > MAX_QUOTED_BYTES {
                            self.cut();
                        }
                    }
                }
                State::QuoteInQuoted => {
                    if b == b'"' {
                        self.state = State::Quoted;
                    } else {
                        self.open = None;
                        self.state = if line_end {
                            self.line_start = i + 1;
                            State::FieldStart
                        } else if b == self.delimiter {
                            State::FieldStart
                        } else {
                            State::InField
                        };
                    }
                }
            }
        }
    }

    /// Inside an unquoted field nothing matters until the next delimiter or line end.
    fn skip_to_special(&mut self) {
        let rest = &self.buf[self.scanned..];
        let skip = memchr::memchr3(self.delimiter, b'\n', b'\r', rest).unwrap_or(rest.len());
        self.scanned += skip;
    }

    /// Blanks the line the open quote started on and scans again from its end.
    fn cut(&mut self) {
        let open = self.open.take().expect("cut with an open quote");
        // Past a line let go for its length, only what the parser has not had yet.
        let start = open.line_start.max(self.handed);
        let end =
            memchr::memchr2(b'\n', b'\r', &self.buf[start..]).map_or(self.buf.len(), |k| start + k);
        let text = String::from_utf8_lossy(&self.buf[start..end.min(start + 200)]).into_owned();
        self.runaways.push(Runaway { byte: self.base + start as u64, text });
        self.buf[start..end].fill(b' ');
        self.state = State::FieldStart;
        self.scanned = end;
        self.line_start = end;
    }

    /// Bytes the parser may have: whole lines, up to the line of an open quote, which is held
    /// back until the quote closes. A line without end is let go past a few MiB.
    fn releasable(&self) -> usize {
        match self.open {
            Some(open) => open.line_start.max(self.handed),
            None if self.eof || self.scanned - self.line_start > LONG_LINE => self.scanned,
            None => self.line_start.max(self.handed),
        }
    }

    fn fill(&mut self) -> std::io::Result<()> {
        if self.handed > 0 {
            self.buf.drain(..self.handed);
            self.base += self.handed as u64;
            self.scanned -= self.handed;
            self.line_start = self.line_start.saturating_sub(self.handed);
            if let Some(open) = self.open.as_mut() {
                open.line_start = open.line_start.saturating_sub(self.handed);
            }
            self.handed = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + (1 << 16), 0);
        let n = loop {
            match self.inner.read(&mut self.buf[len..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        self.buf.truncate(len + *n.as_ref().unwrap_or(&0));
        if n? == 0 {
            self.eof = true;
        }
        self.scan();
        Ok(())
    }
}

impl<R: Read> Read for QuoteGuard<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let ready = self.releasable();
            if self.handed < ready {
                let n = out.len().min(ready - self.handed);
                out[..n].copy_from_slice(&self.buf[self.handed..self.handed + n]);
                self.handed += n;
                return Ok(n);
            }
            if self.eof {
                if self.open.is_some() {
                    // The input ends inside the quote.
                    self.cut();
                    self.scan();
                    continue;
                }
                return Ok(0);
            }
            self.fill()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guarded(text: &str, max_lines: usize) -> (String, Vec<Runaway>) {
        let mut g = QuoteGuard::new(std::io::Cursor::new(text.as_bytes().to_vec()), b',');
        g.max_lines = max_lines;
        let runaways = g.runaways();
        let mut out = String::new();
        g.read_to_string(&mut out).unwrap();
        let found = runaways.lock().unwrap().clone();
        (out, found)
    }

    #[test]
    fn well_formed_quotes_pass_through_untouched() {
        let text = "a,b\n\"x\ny\",\"q\"\"q\"\nplain,\"\"\nlast,1";
        let (out, runaways) = guarded(text, 1);
        assert_eq!(out, text);
        assert!(runaways.is_empty());
    }

    #[test]
    fn a_stray_quote_loses_only_its_line() {
        let mut text = String::from("id,note\n");
        for i in 0..10 {
            text += &if i == 4 { format!("{i},\"oops\n") } else { format!("{i},fine\n") };
        }
        let (out, runaways) = guarded(&text, 3);
        assert_eq!(out.len(), text.len(), "the file keeps its length and lines");
        assert_eq!(runaways.len(), 1);
        assert_eq!(runaways[0].text, "4,\"oops");
        assert_eq!(runaways[0].byte, text.find("4,\"oops").unwrap() as u64);
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(out.as_bytes());
        let ids: Vec<String> = rdr.records().map(|r| r.unwrap()[0].trim().to_string()).collect();
        assert_eq!(ids, ["0", "1", "2", "3", "", "5", "6", "7", "8", "9"]);
    }

    #[test]
    fn a_quote_open_at_the_end_of_the_input_is_cut_too() {
        let (out, runaways) = guarded("a,b\n1,\"never closed\n2,x\n", 100);
        assert_eq!(runaways.len(), 1);
        assert!(out.ends_with("\n2,x\n"), "{out:?}");
    }

    #[test]
    fn a_quote_inside_a_field_is_a_character() {
        let text = "a,b\n1,5\" screen\n2,x\n";
        let (out, runaways) = guarded(text, 1);
        assert_eq!(out, text);
        assert!(runaways.is_empty());
    }
}
