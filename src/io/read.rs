//! Streaming readers of the canonical tables from CSV, TSV, Parquet, JSON and NDJSON.
//!
//! A reader binds the file's columns to the table's by header name, then hands each record to
//! a visitor as a [`Row`] with typed accessors. Structural problems (a wrong cell count, bad
//! UTF-8) are found here; value problems are reported by the accessors with the column, so
//! that every rejected row can name its file, line, column and value.

use crate::io::row::{ArrowCol, Cells, Ctx, KEEP_PROBLEMS};
pub use crate::io::row::{
    MAX_FIELD_BYTES, Problem, Row, RowProblem, ScanStats, Verdict, bind_header, impossible_text,
    preview,
};
use crate::io::{Format, Source};
use crate::model::tables::{Kind, TableKind};
use anyhow::{Context, Result, bail};
use arrow::array::{ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, TimeUnit};
use chrono_tz::Tz;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::io::Read;

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

/// A record whose cells are the header's names (two exports joined with `cat`).
fn repeats_header(rec: &csv::ByteRecord, header: &[String]) -> bool {
    let same =
        |cell: &[u8], name: &str| cell.trim_ascii().eq_ignore_ascii_case(name.trim().as_bytes());
    rec.len() == header.len()
        && rec.get(0).is_some_and(|c| same(c, &header[0]))
        && rec.iter().zip(header).all(|(c, h)| same(c, h))
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
    let guard = crate::io::quotes::QuoteGuard::new(source.open()?, delimiter);
    let runaways = guard.runaways();
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .buffer_capacity(1 << 20)
        .from_reader(guard);
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
    let mut last_line = 1;
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => {
                reject_runaways(&runaways, u64::MAX, last_line, ctx, stats, &mut row_no);
                break;
            }
            Err(e) => {
                // A UTF-8 or IO failure mid-file: the remaining rows cannot be trusted.
                return Err(anyhow::Error::new(e).context(format!("reading {}", ctx.file)));
            }
        }
        let position = rec.position();
        let at = position.map_or(0, |p| p.byte());
        reject_runaways(&runaways, at, last_line, ctx, stats, &mut row_no);
        row_no += 1;
        let line = match (&mut carriage_returns, position) {
            (Some(index), Some(p)) => index.line_at(p.byte()),
            (None, Some(p)) => p.line(),
            (_, None) => 0,
        };
        last_line = line;
        if let Some(runaway) = crate::io::quotes::take_at(&runaways, at) {
            stats.reject_record(|| runaway_problem(&runaway, ctx, line, row_no));
            continue;
        }
        let structural = if rec.get(0).is_some_and(|f| f.starts_with(BOM)) {
            Some((
                "bom-mid-file",
                "the line starts with a byte-order mark: a second header or a concatenated export?"
                    .to_string(),
            ))
        } else if repeats_header(&rec, &header) {
            Some((
                "repeated-header",
                "the line repeats the header: a second header or a concatenated export?"
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

/// Rejects the lines with a runaway quote that start before byte `before` and are not a
/// record's start (they were inside a record that began on an earlier line).
fn reject_runaways(
    runaways: &crate::io::quotes::Runaways,
    before: u64,
    line: u64,
    ctx: &Ctx,
    stats: &mut ScanStats,
    row_no: &mut u64,
) {
    if !runaways.any() {
        return;
    }
    let mut list = runaways.lock().expect("the runaways are not poisoned");
    let k = list.iter().take_while(|r| r.byte < before).count();
    for runaway in list.drain(..k) {
        *row_no += 1;
        stats.reject_record(|| runaway_problem(&runaway, ctx, line, *row_no));
    }
}

fn runaway_problem(
    runaway: &crate::io::quotes::Runaway,
    ctx: &Ctx,
    line: u64,
    row: u64,
) -> RowProblem {
    RowProblem {
        file: ctx.file.clone(),
        line,
        row,
        column: None,
        code: "runaway-quote",
        message: runaway.message(),
        value: Some(preview(&runaway.text)),
    }
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
        // A decimal column keeps its own scale (money read exactly); other numbers get ten
        // decimals, as amounts are written.
        Kind::Decimal if matches!(dt, DataType::Decimal128(_, s) if (0..=28).contains(s)) => {
            let DataType::Decimal128(_, scale) = dt else { unreachable!("matched above") };
            ArrowCol::Dec(array.as_primitive().clone(), *scale as u32)
        }
        Kind::Decimal if dt.is_numeric() => {
            let scale = crate::io::write::AMOUNT_SCALE;
            let a = cast(array, &DataType::Decimal128(38, scale as i8))?;
            ArrowCol::Dec(a.as_primitive().clone(), scale)
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

/// About how many records a file holds, for sizing tables up front: a Parquet file says in its
/// footer; for a text file, about 40 bytes per record (an events row: two ids, a stage, a time).
pub fn records_hint(source: &Source) -> usize {
    let Some(path) = source.path() else { return 0 };
    let parquet = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let footer = || {
        let f = std::fs::File::open(path).ok()?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(f).ok()?;
        usize::try_from(builder.metadata().file_metadata().num_rows()).ok()
    };
    match parquet.then(footer).flatten() {
        Some(rows) => rows,
        None => std::fs::metadata(path).map_or(0, |m| (m.len() / 40) as usize),
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
