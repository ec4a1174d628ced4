//! One streaming table writer for every output format: CSV, TSV, JSON, NDJSON, Parquet and
//! the human table. Files are written to a temporary sibling and renamed into place on finish,
//! so that a failed run never leaves half a file.

use crate::io::place::Named;
use crate::io::{Dest, Format};
use crate::model::tables::{Column, Kind};
use crate::model::time::{Micros, format_utc};
use anyhow::{Context, Result};
use arrow::array::{
    ArrayRef, BooleanBuilder, Decimal128Builder, Float64Builder, Int64Builder, RecordBatch,
    StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rust_decimal::Decimal;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// One value of an output row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Null,
    Str(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    Ts(Micros),
    Dec(Decimal),
}

impl<'a> From<Option<&'a str>> for Cell<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Cell::Null, Cell::Str)
    }
}

impl From<Option<f64>> for Cell<'_> {
    fn from(v: Option<f64>) -> Self {
        v.filter(|f| f.is_finite()).map_or(Cell::Null, Cell::Float)
    }
}

impl From<Option<i64>> for Cell<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Cell::Null, Cell::Int)
    }
}

/// Amounts are written with this many decimals in Parquet (Decimal128(38, 10)): more than any
/// currency's minor units, so that what was read is written back exactly.
pub const AMOUNT_SCALE: u32 = 10;

/// A leading `=`, `+`, `-`, `@`, tab or CR makes spreadsheets run a cell as a formula.
pub fn neutralise_formula(s: &str) -> std::borrow::Cow<'_, str> {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{s}").into(),
        _ => s.into(),
    }
}

fn format_float(f: f64, out: &mut String) {
    use std::fmt::Write as _;
    if f == f.trunc() && f.abs() < 1e15 {
        let _ = write!(out, "{f:.1}");
    } else {
        let _ = write!(out, "{}", (f * 1e6).round() / 1e6);
    }
}

fn cell_text(cell: &Cell, out: &mut String) {
    out.clear();
    match cell {
        Cell::Null => {}
        Cell::Str(s) => out.push_str(s),
        Cell::Int(i) => out.push_str(itoa_buf(*i).as_str()),
        Cell::Float(f) => format_float(*f, out),
        Cell::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Cell::Ts(t) => format_utc(*t, out),
        Cell::Dec(d) => out.push_str(&d.normalize().to_string()),
    }
}

fn itoa_buf(i: i64) -> String {
    i.to_string()
}

enum Sink {
    Csv(Box<csv::Writer<Box<dyn Write>>>),
    Json { out: Box<dyn Write>, first: bool, lines: bool },
    Parquet { encoder: ParquetEncoder, builders: Vec<Builder>, pending: usize },
    Pretty { rows: Vec<Vec<String>>, out: Box<dyn Write> },
}

enum Builder {
    Str(StringBuilder),
    Ts(TimestampMicrosecondBuilder),
    Dec(Decimal128Builder),
    Float(Float64Builder),
    Int(Int64Builder),
    Bool(BooleanBuilder),
}

const PARQUET_BATCH: usize = 64 * 1024;

/// Parquet encoding and compression run on a thread of their own, fed whole batches, so that
/// they overlap with reading and converting the input. Batches, not rows, cross the channel:
/// a row at a time costs more in hand-offs than the thread saves.
struct ParquetEncoder {
    batches: Option<std::sync::mpsc::SyncSender<RecordBatch>>,
    thread: Option<std::thread::JoinHandle<Result<Box<dyn Write + Send>>>>,
}

impl ParquetEncoder {
    fn start(mut writer: ArrowWriter<Box<dyn Write + Send>>) -> ParquetEncoder {
        let (tx, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(2);
        let thread = std::thread::spawn(move || {
            for batch in rx {
                writer.write(&batch)?;
            }
            Ok(writer.into_inner()?)
        });
        ParquetEncoder { batches: Some(tx), thread: Some(thread) }
    }

    fn write(&mut self, batch: RecordBatch) -> Result<()> {
        let sent = self.batches.as_ref().is_some_and(|tx| tx.send(batch).is_ok());
        if sent {
            return Ok(());
        }
        // The thread stopped early: its error says why.
        self.batches = None;
        match self.join() {
            Err(e) => Err(e),
            Ok(_) => anyhow::bail!("internal error: the Parquet encoder stopped"),
        }
    }

    /// Waits for every batch to be encoded and gives back the output.
    fn join(&mut self) -> Result<Box<dyn Write + Send>> {
        self.batches = None;
        let thread = self.thread.take().context("internal error: Parquet encoder joined twice")?;
        thread.join().map_err(|_| anyhow::anyhow!("the Parquet encoder panicked"))?
    }
}

/// Writes rows of one table to one destination in one format.
pub struct TableWriter {
    columns: Vec<Column>,
    sink: Sink,
    scratch: String,
    /// Temporary file to rename into place on finish.
    commit: Option<(Option<tempfile::TempPath>, PathBuf)>,
    rows: u64,
    /// Columns a human table may take.
    width: Option<u16>,
}

fn arrow_type(kind: Kind) -> DataType {
    match kind {
        Kind::String => DataType::Utf8,
        Kind::Datetime => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        Kind::Decimal => DataType::Decimal128(38, AMOUNT_SCALE as i8),
        Kind::Number => DataType::Float64,
        Kind::Integer => DataType::Int64,
        Kind::Boolean => DataType::Boolean,
    }
}

fn new_builder(kind: Kind) -> Builder {
    match kind {
        Kind::String => Builder::Str(StringBuilder::new()),
        Kind::Datetime => Builder::Ts(TimestampMicrosecondBuilder::new().with_timezone("UTC")),
        Kind::Decimal => Builder::Dec(
            Decimal128Builder::new()
                .with_precision_and_scale(38, AMOUNT_SCALE as i8)
                .expect("valid"),
        ),
        Kind::Number => Builder::Float(Float64Builder::new()),
        Kind::Integer => Builder::Int(Int64Builder::new()),
        Kind::Boolean => Builder::Bool(BooleanBuilder::new()),
    }
}

/// The Arrow schema of an output table.
pub fn arrow_schema(columns: &[Column]) -> Arc<Schema> {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(c.name, arrow_type(c.kind), !c.required))
            .collect::<Vec<_>>(),
    ))
}

impl TableWriter {
    pub fn create(dest: &Dest, format: Format, columns: &[Column]) -> Result<TableWriter> {
        let (out, commit): (Box<dyn Write + Send>, _) = match dest {
            Dest::Stdout => (Box::new(Named::stdout(std::io::stdout())), None),
            Dest::File(path) => {
                let (file, staged) = crate::io::place::create_output(path)?;
                let file = Named::file(file, path);
                (Box::new(BufWriter::with_capacity(1 << 20, file)), Some((staged, path.clone())))
            }
        };
        let sink = match format {
            Format::Csv | Format::Tsv => {
                let mut w = csv::WriterBuilder::new()
                    .delimiter(if format == Format::Tsv { b'\t' } else { b',' })
                    .buffer_capacity(1 << 16)
                    .from_writer(out as Box<dyn Write>);
                w.write_record(columns.iter().map(|c| c.name))?;
                Sink::Csv(Box::new(w))
            }
            Format::Json | Format::Ndjson => {
                let mut out = out as Box<dyn Write>;
                if format == Format::Json {
                    out.write_all(b"[")?;
                }
                Sink::Json { out, first: true, lines: format == Format::Ndjson }
            }
            Format::Parquet => {
                let mut props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_dictionary_enabled(true);
                // A table's leading id (events' deal_id, activities' activity_id) is nearly
                // unique per row: a dictionary of it costs encoding time and saves no space.
                if let Some(first) = columns.first().filter(|c| c.name.ends_with("_id")) {
                    props = props.set_column_dictionary_enabled(first.name.into(), false);
                }
                let props = props
                    .set_max_row_group_row_count(Some(512 * 1024))
                    .set_created_by(format!("salescoach {}", env!("CARGO_PKG_VERSION")))
                    .build();
                let writer = ArrowWriter::try_new(out, arrow_schema(columns), Some(props))?;
                Sink::Parquet {
                    encoder: ParquetEncoder::start(writer),
                    builders: columns.iter().map(|c| new_builder(c.kind)).collect(),
                    pending: 0,
                }
            }
            Format::Table => Sink::Pretty { rows: Vec::new(), out: out as Box<dyn Write> },
        };
        Ok(TableWriter {
            columns: columns.to_vec(),
            sink,
            scratch: String::new(),
            commit,
            rows: 0,
            width: None,
        })
    }

    pub fn write_row(&mut self, cells: &[Cell]) -> Result<()> {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.write_cells(cells.iter().copied())
    }

    /// Writes one row given as its cells in column order, without collecting them first.
    pub fn write_cells<'c>(&mut self, cells: impl IntoIterator<Item = Cell<'c>>) -> Result<()> {
        self.rows += 1;
        match &mut self.sink {
            Sink::Csv(w) => {
                for c in cells {
                    cell_text(&c, &mut self.scratch);
                    if let Cell::Str(_) = c {
                        w.write_field(neutralise_formula(&self.scratch).as_bytes())?;
                    } else {
                        w.write_field(self.scratch.as_bytes())?;
                    }
                }
                w.write_record(None::<&[u8]>)?;
            }
            Sink::Json { out, first, lines } => {
                let mut obj = serde_json::Map::new();
                for (col, c) in self.columns.iter().zip(cells) {
                    obj.insert(col.name.to_string(), json_value(&c));
                }
                if *lines {
                    serde_json::to_writer(&mut *out, &obj)?;
                    out.write_all(b"\n")?;
                } else {
                    out.write_all(if *first { b"\n" } else { b",\n" })?;
                    serde_json::to_writer(&mut *out, &obj)?;
                }
                *first = false;
            }
            Sink::Parquet { builders, pending, .. } => {
                for (b, c) in builders.iter_mut().zip(cells) {
                    append(b, &c)?;
                }
                *pending += 1;
                if *pending >= PARQUET_BATCH {
                    self.flush_parquet()?;
                }
            }
            Sink::Pretty { rows, .. } => {
                let mut row = Vec::with_capacity(self.columns.len());
                for c in cells {
                    cell_text(&c, &mut self.scratch);
                    if let Cell::Float(f) = c {
                        self.scratch = format!("{f:.3}");
                    }
                    row.push(self.scratch.clone());
                }
                rows.push(row);
            }
        }
        Ok(())
    }

    fn flush_parquet(&mut self) -> Result<()> {
        if let Sink::Parquet { encoder, builders, pending } = &mut self.sink {
            if *pending == 0 {
                return Ok(());
            }
            let arrays: Vec<ArrayRef> = builders.iter_mut().map(finish_builder).collect();
            let batch = RecordBatch::try_new(arrow_schema(&self.columns), arrays)?;
            encoder.write(batch)?;
            *pending = 0;
        }
        Ok(())
    }

    /// Fits a human table to this many columns.
    pub fn fit(mut self, width: Option<u16>) -> TableWriter {
        self.width = width;
        self
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes everything and moves a file output into place.
    pub fn finish(mut self) -> Result<()> {
        self.flush_parquet()?;
        match self.sink {
            Sink::Csv(w) => {
                let mut out = w.into_inner().map_err(|e| e.into_error())?;
                out.flush()?;
            }
            Sink::Json { mut out, first, lines } => {
                if !lines {
                    out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
                }
                out.flush()?;
            }
            Sink::Parquet { mut encoder, .. } => {
                let mut out = encoder.join()?;
                out.flush()?;
            }
            Sink::Pretty { rows, mut out } => {
                let header: Vec<&str> = self.columns.iter().map(|c| c.name).collect();
                let table = crate::io::human::render_table(&header, &rows, self.width);
                writeln!(out, "{table}")?;
                out.flush()?;
            }
        }
        if let Some((staged, path)) = self.commit {
            crate::io::place::commit_output(staged, &path)?;
        }
        Ok(())
    }
}

fn json_value(c: &Cell) -> serde_json::Value {
    use serde_json::Value;
    match c {
        Cell::Null => Value::Null,
        Cell::Str(s) => Value::String(s.to_string()),
        Cell::Int(i) => Value::from(*i),
        Cell::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Cell::Bool(b) => Value::Bool(*b),
        Cell::Ts(t) => Value::String(crate::model::time::to_rfc3339(*t)),
        Cell::Dec(d) => Value::String(d.normalize().to_string()),
    }
}

fn append(b: &mut Builder, c: &Cell) -> Result<()> {
    match (b, c) {
        (Builder::Str(b), Cell::Str(s)) => b.append_value(s),
        (Builder::Str(b), Cell::Null) => b.append_null(),
        (Builder::Ts(b), Cell::Ts(t)) => b.append_value(*t),
        (Builder::Ts(b), Cell::Null) => b.append_null(),
        (Builder::Dec(b), Cell::Dec(d)) => {
            let mut scaled = *d;
            scaled.rescale(AMOUNT_SCALE);
            // rust_decimal keeps a smaller scale when the larger one does not fit: storing
            // that mantissa at the column's scale would silently divide the amount.
            if scaled.scale() != AMOUNT_SCALE {
                anyhow::bail!("the amount {d} cannot be stored with {AMOUNT_SCALE} decimals");
            }
            b.append_value(scaled.mantissa())
        }
        (Builder::Dec(b), Cell::Null) => b.append_null(),
        (Builder::Float(b), Cell::Float(f)) => b.append_value(*f),
        (Builder::Float(b), Cell::Int(i)) => b.append_value(*i as f64),
        (Builder::Float(b), Cell::Null) => b.append_null(),
        (Builder::Int(b), Cell::Int(i)) => b.append_value(*i),
        (Builder::Int(b), Cell::Null) => b.append_null(),
        (Builder::Bool(b), Cell::Bool(v)) => b.append_value(*v),
        (Builder::Bool(b), Cell::Null) => b.append_null(),
        (_, c) => anyhow::bail!("internal error: cell {c:?} does not fit its column type"),
    }
    Ok(())
}

fn finish_builder(b: &mut Builder) -> ArrayRef {
    match b {
        Builder::Str(b) => Arc::new(b.finish()),
        Builder::Ts(b) => Arc::new(b.finish().with_timezone("UTC")),
        Builder::Dec(b) => Arc::new(
            b.finish().with_precision_and_scale(38, AMOUNT_SCALE as i8).expect("valid precision"),
        ),
        Builder::Float(b) => Arc::new(b.finish()),
        Builder::Int(b) => Arc::new(b.finish()),
        Builder::Bool(b) => Arc::new(b.finish()),
    }
}
