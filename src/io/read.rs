//! Streaming readers of the canonical tables from CSV, TSV, Parquet, JSON and NDJSON.
//!
//! A reader binds the file's columns to the table's by header name, then hands each record to
//! a visitor as a [`Row`] with typed accessors. Structural problems (a wrong cell count, bad
//! UTF-8) are found here; value problems are reported by the accessors with the column, so
//! that every rejected row can name its file, line, column and value.

use crate::io::{Format, Source};

use crate::model::cell;

use crate::model::tables::{Column, Kind, TableKind};

use crate::model::time::{Micros, Offset, localize, parse_iso};

use anyhow::{Context, Result, bail};

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Decimal128Array, Float64Array, Int64Array, RecordBatch,
    StringArray, TimestampMicrosecondArray,
};

use arrow::datatypes::{DataType, TimeUnit};

use chrono_tz::Tz;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use rust_decimal::Decimal;

use std::io::Read;

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
fn unneutralise(s: &str) -> &str {
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

/// A record's cells as the user would read them: separated, each quoted when it needs it.
fn cells_joined(rec: &csv::ByteRecord) -> String {
    let cells: Vec<String> = rec
        .iter()
        .take(50)
        .map(|c| {
            let c = String::from_utf8_lossy(&c[..c.len().min(200)]).into_owned();
            if c.contains([',', '"', '\n']) { format!("{c:?}") } else { c }
        })
        .collect();

    cells.join(",")
}

fn problem(column: usize, code: &'static str, message: impl Into<String>, value: &str) -> Problem {
    Problem { column: Some(column), code, message: message.into(), value: Some(preview(value)) }
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

/// Reads one canonical table from `source`, calling `visit` for each record.
pub fn scan(
    source: &Source,
    format: Option<Format>,
    table: TableKind,
    tz: Tz,
    visit: &mut dyn FnMut(&Row) -> Verdict,
) -> Result<ScanStats> {
    if let Some(files) = source.parts()? {
        let mut stats = ScanStats::default();
        for f in files {
            stats.add(scan(&Source::File(f), format, table, tz, visit)?);
        }
        return Ok(stats);
    }
    let ctx = Ctx { file: source.to_string(), columns: table.columns(), tz };
    let mut stats = ScanStats::default();
    let mut on_row = |row: &Row, stats: &mut ScanStats| {
        stats.read += 1;
        if let Verdict::Reject(p) = visit(row) {
            stats.rejected += 1;
            if stats.problems.len() < KEEP_PROBLEMS {
                stats.problems.push(row.locate(p));
            }
        }
        stats.naive_timestamps += row.naive.get();
    };
    match source.format(format)? {
        Format::Csv => scan_csv(source, b',', &ctx, &mut stats, &mut on_row)?,
        Format::Tsv => scan_csv(source, b'\t', &ctx, &mut stats, &mut on_row)?,
        Format::Parquet => crate::io::guard_dependency(&ctx.file, || {
            scan_parquet(source, &ctx, &mut stats, &mut on_row)
        })?,
        Format::Json | Format::Ndjson => {
            crate::io::read_json::scan_json(source, &ctx, &mut stats, &mut on_row)?
        }
        Format::Table => bail!("`table` is an output format only"),
    }
    Ok(stats)
}

/// Binds canonical columns to positions in a header, by trimmed, case-insensitive name.
pub fn bind_header(header: &[String], ctx: &Ctx) -> Result<Vec<Option<usize>>> {
    let norm: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    for (i, h) in norm.iter().enumerate() {
        if !h.is_empty() && norm[..i].contains(h) {
            return Err(anyhow::Error::new(crate::DataError::with_code(
                "duplicate-label",
                format!(
                    "the header names column `{}` twice (columns {} and {}); which one holds the data is ambiguous",
                    preview(&header[i]),
                    norm.iter().position(|x| x == h).expect("found") + 1,
                    i + 1
                ),
            ))
            .context(ctx.file.clone()));
        }
    }
    let bind: Vec<Option<usize>> =
        ctx.columns.iter().map(|c| norm.iter().position(|h| h == c.name)).collect();
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

/// Line numbers of a file with `\r` line ends (CRLF, or a lone CR), where the csv crate's
/// count of `\n` is wrong: a second handle on the file, advanced to each record's byte offset.
struct LineIndex {
    reader: std::io::BufReader<std::fs::File>,
    offset: u64,
    breaks: crate::io::records::Breaks,
}

impl LineIndex {
    /// Only for a file whose first 64 KiB hold a `\r`; `None` otherwise (and for stdin).
    fn for_file(source: &Source) -> Option<LineIndex> {
        let path = source.path()?;
        let mut head = vec![0u8; 64 * 1024];
        let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
        if !head[..n].contains(&b'\r') {
            return None;
        }
        let reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path).ok()?);
        Some(LineIndex { reader, offset: 0, breaks: Default::default() })
    }

    /// The line holding byte `at` (1-based); offsets only move forward.
    fn line_at(&mut self, at: u64) -> u64 {
        use std::io::BufRead;
        while self.offset < at {
            let Ok(buf) = self.reader.fill_buf() else { break };
            if buf.is_empty() {
                break;
            }
            let take = buf.len().min((at - self.offset) as usize);
            self.breaks.feed(&buf[..take]);
            self.reader.consume(take);
            self.offset += take as u64;
        }
        // Blank lines before the record's first byte are before its line.
        while let Ok(buf) = self.reader.fill_buf() {
            match buf.first() {
                Some(&b) if b == b'\r' || b == b'\n' => {
                    self.breaks.feed(&[b]);
                    self.reader.consume(1);
                    self.offset += 1;
                }
                _ => break,
            }
        }
        self.breaks.count + 1
    }
}

/// The UTF-8 byte-order mark, which belongs at the start of a file only.
const BOM: &[u8] = "\u{feff}".as_bytes();

fn scan_csv(
    source: &Source,
    delimiter: u8,
    ctx: &Ctx,
    stats: &mut ScanStats,
    on_row: &mut dyn FnMut(&Row, &mut ScanStats),
) -> Result<()> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .buffer_capacity(1 << 20)
        .from_reader(source.open()?);
    let mut rec = csv::ByteRecord::new();
    if !rdr.read_byte_record(&mut rec).with_context(|| format!("reading {}", ctx.file))? {
        return Err(
            crate::DataError::new(format!("{}: the file is empty (no header)", ctx.file)).into()
        );
    }
    let header: Vec<String> = rec
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = String::from_utf8_lossy(h).into_owned();
            if i == 0 { h.trim_start_matches('\u{feff}').to_string() } else { h }
        })
        .collect();
    let bind = bind_header(&header, ctx)?;
    let width = header.len();
    let mut row_no = 1u64;
    let mut carriage_returns = LineIndex::for_file(source);
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // A UTF-8 or IO failure mid-file: the remaining rows cannot be trusted.
                return Err(anyhow::Error::new(e).context(format!("reading {}", ctx.file)));
            }
        }
        row_no += 1;
        let position = rec.position();
        let line = match (&mut carriage_returns, position) {
            (Some(index), Some(p)) => index.line_at(p.byte()),
            (None, Some(p)) => p.line(),
            (_, None) => 0,
        };
        let structural = if rec.get(0).is_some_and(|f| f.starts_with(BOM)) {
            Some((
                "bom-mid-file",
                "the line starts with a byte-order mark: a second header or a concatenated export?"
                    .to_string(),
            ))
        } else if rec.len() > width {
            Some(("extra-cell", format!("{} cells, the header has {width}", rec.len())))
        } else if rec.len() < width && !(rec.len() == 1 && rec[0].is_empty()) {
            Some(("missing-cell", format!("{} cells, the header has {width}", rec.len())))
        } else if rec.iter().all(|f| f.is_empty()) {
            Some(("blank-row", "the row is empty".to_string()))
        } else {
            None
        };
        if let Some((code, message)) = structural {
            stats.reject_record(|| RowProblem {
                file: ctx.file.clone(),
                line,
                row: row_no,
                column: None,
                code,
                message,
                value: Some(preview(&cells_joined(&rec))),
            });
            continue;
        }
        let row = Row {
            cells: Cells::Csv { rec: &rec, bind: &bind },
            line,
            row: row_no,
            ctx,
            naive: std::cell::Cell::new(0),
        };
        on_row(&row, stats);
    }
    Ok(())
}

fn arrow_col(array: &ArrayRef, kind: Kind) -> Result<ArrowCol> {
    use arrow::compute::cast;
    let dt = array.data_type();
    let as_str = |a: &ArrayRef| -> Result<ArrowCol> {
        Ok(ArrowCol::Str(cast(a, &DataType::Utf8)?.as_string::<i32>().clone()))
    };
    Ok(match kind {
        Kind::Datetime
            if matches!(dt, DataType::Timestamp(..) | DataType::Date32 | DataType::Date64) =>
        {
            let a = cast(array, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            ArrowCol::Ts(a.as_primitive().clone())
        }
        Kind::Number if dt.is_numeric() => {
            ArrowCol::F64(cast(array, &DataType::Float64)?.as_primitive().clone())
        }
        Kind::Decimal if dt.is_numeric() => {
            let a = cast(array, &DataType::Decimal128(38, 6))?;
            ArrowCol::Dec(a.as_primitive().clone(), 6)
        }
        Kind::Integer if dt.is_integer() => {
            ArrowCol::Int(cast(array, &DataType::Int64)?.as_primitive().clone())
        }
        Kind::Boolean if *dt == DataType::Boolean => ArrowCol::Bool(array.as_boolean().clone()),
        _ => as_str(array)?,
    })
}

/// The column names of a file (a CSV or TSV header, or a Parquet schema), without reading its
/// rows; `None` for standard input and other formats, which cannot be peeked at.
pub fn column_names(source: &Source, explicit: Option<Format>) -> Option<Vec<String>> {
    let path = source.path()?;
    match source.format(explicit).ok()? {
        Format::Parquet => crate::io::guard_dependency(&source.to_string(), || {
            let f = std::fs::File::open(path)?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(f)?;
            Ok(builder.schema().fields().iter().map(|f| f.name().clone()).collect())
        })
        .ok(),
        format @ (Format::Csv | Format::Tsv) => {
            let mut rdr = csv::ReaderBuilder::new()
                .delimiter(if format == Format::Tsv { b'\t' } else { b',' })
                .from_path(path)
                .ok()?;
            Some(rdr.headers().ok()?.iter().map(|h| h.trim().to_lowercase()).collect())
        }
        _ => None,
    }
}

fn scan_parquet(
    source: &Source,
    ctx: &Ctx,
    stats: &mut ScanStats,
    on_row: &mut dyn FnMut(&Row, &mut ScanStats),
) -> Result<()> {
    let builder = match source {
        Source::File(p) => {
            let f = std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?;
            ParquetRecordBatchReaderBuilder::try_new(f)
                .map_err(|e| {
                    crate::DataError::new(format!(
                        "{}: not a readable Parquet file ({e})",
                        ctx.file
                    ))
                })?
                .with_batch_size(64 * 1024)
                .build()?
        }
        Source::Stdin => {
            // Parquet needs random access, so standard input is buffered whole.
            let mut buf = Vec::new();
            source.open()?.read_to_end(&mut buf).context("reading Parquet from stdin")?;
            ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(buf))
                .map_err(|e| {
                    crate::DataError::new(format!(
                        "standard input is not a readable Parquet file ({e})"
                    ))
                })?
                .with_batch_size(64 * 1024)
                .build()?
        }
    };
    let mut bind: Option<Vec<Option<usize>>> = None;
    let mut row_no = 1u64;
    for batch in builder {
        let batch: RecordBatch = batch.map_err(|e| {
            crate::DataError::new(format!("{}: a damaged Parquet page ({e})", ctx.file))
        })?;
        let bind = match &bind {
            Some(b) => b,
            None => {
                let header: Vec<String> =
                    batch.schema().fields().iter().map(|f| f.name().clone()).collect();
                bind.insert(bind_header(&header, ctx)?)
            }
        };
        let cols: Vec<Option<ArrowCol>> = ctx
            .columns
            .iter()
            .zip(bind.iter())
            .map(|(c, b)| b.map(|i| arrow_col(batch.column(i), c.kind)).transpose())
            .collect::<Result<_>>()?;
        for i in 0..batch.num_rows() {
            row_no += 1;
            let row = Row {
                cells: Cells::Arrow { cols: &cols, i },
                line: 0,
                row: row_no,
                ctx,
                naive: std::cell::Cell::new(0),
            };
            on_row(&row, stats);
        }
    }
    Ok(())
}
