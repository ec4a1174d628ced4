//! One record of a canonical table with typed accessors, the problems a record can have, and
//! the binding of a file's header to the table's columns: what every reader shares.

use crate::model::cell;
use crate::model::tables::Column;
use crate::model::time::{Micros, Offset, localize, parse_iso};
use anyhow::Result;
use arrow::array::{
    Array, BooleanArray, Decimal128Array, Float64Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use chrono_tz::Tz;
use rust_decimal::Decimal;

/// A problem with one value or record, before its position is attached.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub column: Option<usize>,
    pub code: &'static str,
    pub message: String,
    pub value: Option<String>,
}

/// A problem with its place in the file: what a rejects report and `validate` print.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RowProblem {
    pub file: String,
    /// Physical line where the record starts (1-based); 0 for Parquet.
    pub line: u64,
    /// Frictionless row number: the header is row 1.
    pub row: u64,
    pub column: Option<String>,
    pub code: &'static str,
    pub message: String,
    pub value: Option<String>,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        write!(f, ": row {}", self.row)?;
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
        }
        write!(f, ": {} ({})", self.message, self.code)?;
        if let Some(v) = &self.value {
            write!(f, ": {v:?}")?;
        }
        Ok(())
    }
}

/// Undoes the `'` that this tool's CSV writer puts before a leading `=`, `+`, `-`, `@`, tab
/// or CR, so that its own files read back as written.
pub(crate) fn unneutralise(s: &str) -> &str {
    match s.as_bytes() {
        [b'\'', b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r', ..] => &s[1..],
        _ => s,
    }
}

pub use crate::model::cell::{MAX_FIELD_BYTES, impossible_text};

/// Truncates a value for display so that a 5 MB field is never echoed whole.
pub fn preview(s: &str) -> String {
    const MAX: usize = 60;
    let clean: String = s.chars().map(|c| if c == '\0' { '␀' } else { c }).collect();
    if clean.chars().count() <= MAX {
        clean
    } else {
        let head: String = clean.chars().take(MAX).collect();
        format!("{head}… ({} bytes)", s.len())
    }
}

pub(crate) fn problem(
    column: usize,
    code: &'static str,
    message: impl Into<String>,
    value: &str,
) -> Problem {
    let message = message.into() + &spans_lines_hint(value);
    Problem { column: Some(column), code, message, value: Some(preview(value)) }
}

/// For a cell that runs over several lines: how many, since two stray quotes make one cell of
/// the rows between them.
pub fn spans_lines_hint(cell: &str) -> String {
    match cell.matches('\n').count() {
        0 => String::new(),
        n => format!(
            " (the cell spans {} lines, taking in {n} more row{}: is a quote left open?)",
            n + 1,
            if n == 1 { "" } else { "s" }
        ),
    }
}

/// What a scan saw: records read, how many the visitor rejected, and the first problems.
#[derive(Debug, Default, Clone)]
pub struct ScanStats {
    pub read: u64,
    pub rejected: u64,
    pub problems: Vec<RowProblem>,
    /// Timestamps without an offset, read in the playbook's time zone.
    pub naive_timestamps: u64,
}

pub(crate) const KEEP_PROBLEMS: usize = 1000;

impl ScanStats {
    /// Adds the counts of another file of the same table.
    pub(crate) fn add(&mut self, other: ScanStats) {
        self.read += other.read;
        self.rejected += other.rejected;
        self.naive_timestamps += other.naive_timestamps;
        let room = KEEP_PROBLEMS.saturating_sub(self.problems.len());
        self.problems.extend(other.problems.into_iter().take(room));
    }

    /// Counts a record rejected by the reader itself (its shape, not its values), keeping the
    /// first problems only.
    pub(crate) fn reject_record(&mut self, problem: impl FnOnce() -> RowProblem) {
        self.read += 1;
        self.rejected += 1;
        if self.problems.len() < KEEP_PROBLEMS {
            self.problems.push(problem());
        }
    }
}

/// Per-file reading context shared by the rows.
pub struct Ctx {
    pub file: String,
    pub columns: &'static [Column],
    pub tz: Tz,
}

pub(crate) enum ArrowCol {
    Str(StringArray),
    F64(Float64Array),
    Ts(TimestampMicrosecondArray),
    Dec(Decimal128Array, u32),
    Int(Int64Array),
    Bool(BooleanArray),
}

pub(crate) enum Cells<'a> {
    Csv { rec: &'a csv::ByteRecord, bind: &'a [Option<usize>] },
    Arrow { cols: &'a [Option<ArrowCol>], i: usize },
    Text { cells: &'a [Option<String>] },
}

/// One record of a canonical table, with accessors by canonical column index.
pub struct Row<'a> {
    pub(crate) cells: Cells<'a>,
    pub line: u64,
    pub row: u64,
    pub(crate) ctx: &'a Ctx,
    pub(crate) naive: std::cell::Cell<u64>,
}

impl<'a> Row<'a> {
    /// The text of a column; `None` when the column is absent or the cell empty. A cell that
    /// cannot be data (a NUL byte, a runaway field) is a problem here, for every command alike:
    /// what `validate` rejects, `funnel` rejects and counts too.
    pub fn str(&self, c: usize) -> Result<Option<&'a str>, Problem> {
        let text = self.raw_str(c)?;
        if let Some(t) = text
            && let Some(why) = impossible_text(t, MAX_FIELD_BYTES)
        {
            return Err(Problem {
                column: Some(c),
                code: "constraint-error",
                message: why,
                value: Some(preview(t)),
            });
        }
        Ok(text)
    }

    fn raw_str(&self, c: usize) -> Result<Option<&'a str>, Problem> {
        match &self.cells {
            Cells::Csv { rec, bind } => {
                let Some(i) = bind[c] else { return Ok(None) };
                let bytes = rec.get(i).unwrap_or(b"");
                if bytes.is_empty() {
                    return Ok(None);
                }
                match std::str::from_utf8(bytes) {
                    Ok(s) => Ok(Some(unneutralise(s))),
                    Err(e) => Err(Problem {
                        column: Some(c),
                        code: "encoding-error",
                        message: format!(
                            "invalid UTF-8 at byte {} of the cell; is the file in another encoding (cp932, latin1)?",
                            e.valid_up_to()
                        ),
                        value: Some(preview(&String::from_utf8_lossy(bytes))),
                    }),
                }
            }
            Cells::Arrow { cols, i } => match &cols[c] {
                Some(ArrowCol::Str(a)) if a.is_valid(*i) => {
                    let s = a.value(*i);
                    Ok(if s.is_empty() { None } else { Some(s) })
                }
                _ => Ok(None),
            },
            Cells::Text { cells } => Ok(cells[c].as_deref().filter(|s| !s.is_empty())),
        }
    }

    /// A required text column.
    pub fn required_str(&self, c: usize) -> Result<&'a str, Problem> {
        self.str(c)?.ok_or_else(|| self.missing(c))
    }

    fn missing(&self, c: usize) -> Problem {
        Problem {
            column: Some(c),
            code: "constraint-error",
            message: format!("{} is required", self.ctx.columns[c].name),
            value: None,
        }
    }

    pub fn ts(&self, c: usize) -> Result<Option<Micros>, Problem> {
        if let Cells::Arrow { cols, i } = &self.cells
            && let Some(ArrowCol::Ts(a)) = &cols[c]
        {
            if !a.is_valid(*i) {
                return Ok(None);
            }
            let t = a.value(*i);
            return cell::timestamp_in_range(t)
                .map(Some)
                .map_err(|e| problem(c, e.code, format!("value {}", e.message), &t.to_string()));
        }
        let Some(s) = self.str(c)? else { return Ok(None) };
        let in_range = |t: Micros| {
            cell::timestamp_in_range(t)
                .map(Some)
                .map_err(|e| problem(c, e.code, format!("value {}", e.message), s))
        };
        match parse_iso(s) {
            Some((t, Offset::Explicit)) => in_range(t),
            Some((t, Offset::Missing)) => {
                self.naive.set(self.naive.get() + 1);
                in_range(localize(t, self.ctx.tz))
            }
            None => Err(problem(
                c,
                "type-error",
                "not an ISO 8601 timestamp (expected e.g. 2026-04-03T09:15:00Z)",
                s,
            )),
        }
    }

    pub fn required_ts(&self, c: usize) -> Result<Micros, Problem> {
        self.ts(c)?.ok_or_else(|| self.missing(c))
    }

    pub fn decimal(&self, c: usize) -> Result<Option<Decimal>, Problem> {
        if let Cells::Arrow { cols, i } = &self.cells
            && let Some(ArrowCol::Dec(a, scale)) = &cols[c]
        {
            if !a.is_valid(*i) {
                return Ok(None);
            }
            let raw = a.value(*i);
            let too_large = || {
                let message = format!("value is above the largest amount, {}", cell::MAX_AMOUNT);
                problem(c, "constraint-error", message, &raw.to_string())
            };
            let d = Decimal::try_from_i128_with_scale(raw, *scale).map_err(|_| too_large())?;
            return cell::checked_amount(d)
                .map(Some)
                .map_err(|e| problem(c, e.code, format!("value {}", e.message), &d.to_string()));
        }
        let Some(s) = self.str(c)? else { return Ok(None) };
        cell::amount(s).map(Some).map_err(|e| problem(c, e.code, format!("value {}", e.message), s))
    }

    pub fn int(&self, c: usize) -> Result<Option<i64>, Problem> {
        if let Cells::Arrow { cols, i } = &self.cells
            && let Some(ArrowCol::Int(a)) = &cols[c]
        {
            return Ok(a.is_valid(*i).then(|| a.value(*i)));
        }
        let Some(s) = self.str(c)? else { return Ok(None) };
        cell::count(s).map(Some).map_err(|e| problem(c, e.code, format!("value {}", e.message), s))
    }

    pub fn float(&self, c: usize) -> Result<Option<f64>, Problem> {
        if let Cells::Arrow { cols, i } = &self.cells
            && let Some(ArrowCol::F64(a)) = &cols[c]
        {
            return Ok(a.is_valid(*i).then(|| a.value(*i)));
        }
        let Some(s) = self.str(c)? else { return Ok(None) };
        cell::number(s).map(Some).map_err(|e| problem(c, e.code, format!("value {}", e.message), s))
    }

    pub fn bool(&self, c: usize) -> Result<Option<bool>, Problem> {
        if let Cells::Arrow { cols, i } = &self.cells
            && let Some(ArrowCol::Bool(a)) = &cols[c]
        {
            return Ok(a.is_valid(*i).then(|| a.value(*i)));
        }
        let Some(s) = self.str(c)? else { return Ok(None) };
        cell::boolean(s)
            .map(Some)
            .map_err(|e| problem(c, e.code, format!("value {}", e.message), s))
    }

    /// Attaches this row's position to a problem.
    pub fn locate(&self, p: Problem) -> RowProblem {
        RowProblem {
            file: self.ctx.file.clone(),
            line: self.line,
            row: self.row,
            column: p.column.map(|c| self.ctx.columns[c].name.to_string()),
            code: p.code,
            message: p.message,
            value: p.value,
        }
    }
}

/// What the visitor says of a row.
pub enum Verdict {
    Keep,
    Reject(Problem),
}

/// Binds canonical columns to positions in a header, by trimmed, case-insensitive name.
pub fn bind_header(header: &[String], ctx: &Ctx) -> Result<Vec<Option<usize>>> {
    let norm: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    // First position of each name: linear in the header's width (100,000 columns included).
    let mut first_at: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(norm.len());
    for (i, h) in norm.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        if let Some(&first) = first_at.get(h.as_str()) {
            return Err(anyhow::Error::new(crate::DataError::with_code(
                "duplicate-label",
                format!(
                    "the header names column `{}` twice (columns {} and {}); which one holds the data is ambiguous",
                    preview(&header[i]),
                    first + 1,
                    i + 1
                ),
            ))
            .context(ctx.file.clone()));
        }
        first_at.insert(h.as_str(), i);
    }
    let bind: Vec<Option<usize>> =
        ctx.columns.iter().map(|c| first_at.get(c.name).copied()).collect();
    let missing: Vec<&str> = ctx
        .columns
        .iter()
        .zip(&bind)
        .filter(|(c, b)| c.required && b.is_none())
        .map(|(c, _)| c.name)
        .collect();
    if !missing.is_empty() {
        let shown: Vec<String> = header.iter().take(12).map(|h| preview(h)).collect();
        let hint = if header.len() == 1 && (header[0].contains(';') || header[0].contains('\t')) {
            "; the header holds `;` or tabs: is this a semicolon- or tab-separated file?"
        } else {
            ""
        };
        return Err(anyhow::Error::new(crate::DataError::with_code(
            "schema-error",
            format!(
                "missing required column{} {} (header has: {}){hint}",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", "),
                shown.join(", ")
            ),
        ))
        .context(ctx.file.clone()));
    }
    Ok(bind)
}
