//! `salescoach ingest`: CSV exports in, canonical tables out, every record written or rejected.
//!
//! This first version reads one-row-per-record exports (the *history* layout: one row per stage
//! change, or any table whose rows map one to one onto a canonical table), binding columns by
//! header name through a mapping file, in any of the usual encodings and delimiters.

use crate::ExitStatus;
use crate::cli::{Global, IngestArgs};
use crate::io::read::preview;
use crate::io::records::{OwnedTextRecord, RecordStream, TextRecord};
use crate::io::write::{Cell, TableWriter};
use crate::io::{Dest, Format, Source};
use crate::model::playbook::{Playbook, normalize};
use crate::model::tables::{Column, Kind, TableKind, col};
use crate::model::time::{Offset, localize, parse_iso, parse_with_format};
use anyhow::{Context, Result, bail};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;

/// How an export maps onto a canonical table.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// `history`: each export row is one canonical row.
    #[serde(default = "history")]
    pub layout: String,
    /// Canonical column → export header.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Export stage value → canonical stage, before the playbook's aliases.
    #[serde(default)]
    pub stages: BTreeMap<String, String>,
    /// Snapshot layout: canonical stage → the export column holding the date it was reached.
    #[serde(default)]
    pub dates: BTreeMap<String, String>,
    /// Snapshot layout: a status column whose `won` or `lost` overrides the current stage.
    #[serde(default)]
    pub status: Option<String>,
    /// Levels layout (roster): the export columns of the org levels, top first, such as
    /// `["region", "manager", "rep"]`; each value becomes a person reporting to the one before.
    #[serde(default)]
    pub levels: Vec<String>,
}

/// Built-in mappings for CRM exports (see export-formats in the README).
const PRESETS: &[(&str, &str)] = &[
    (
        "hubspot-deals",
        r#"layout = "snapshot"
[columns]
deal_id = "Record ID"
rep_id = "Deal owner"
stage = "Deal Stage"
amount = "Amount"
[dates]
lead = "Create Date"
won = "Close Date"
lost = "Close Date"
[stages]
"Appointment Scheduled" = "lead"
"Qualified To Buy" = "case"
"Presentation Scheduled" = "proposal"
"Decision Maker Bought-In" = "proposal"
"Contract Sent" = "quote"
"Closed Won" = "won"
"Closed Lost" = "lost"
"Closed: abandoned" = "lost"
"#,
    ),
    (
        "pipedrive-deals",
        r#"layout = "snapshot"
status = "Deal - Status"
[columns]
deal_id = "Deal - ID"
rep_id = "Deal - Owner"
stage = "Deal - Stage"
amount = "Deal - Value"
[dates]
lead = "Deal - Deal created"
won = "Deal - Won time"
lost = "Deal - Lost time"
[stages]
"Qualified" = "lead"
"Contact Made" = "case"
"Demo Scheduled" = "case"
"Proposal Made" = "proposal"
"Negotiations Started" = "quote"
"#,
    ),
    (
        "salesforce-history",
        r#"layout = "history"
[columns]
deal_id = "OpportunityId"
rep_id = "OwnerId"
stage = "StageName"
ts = "CreatedDate"
amount = "Amount"
[stages]
"Prospecting" = "lead"
"Qualification" = "case"
"Needs Analysis" = "case"
"Value Proposition" = "proposal"
"Id. Decision Makers" = "proposal"
"Perception Analysis" = "proposal"
"Proposal/Price Quote" = "proposal"
"Negotiation/Review" = "quote"
"Closed Won" = "won"
"Closed Lost" = "lost"
"#,
    ),
];

fn history() -> String {
    "history".into()
}

/// The rejects report's columns.
const REJECT_COLUMNS: &[Column] = &[
    col("file", Kind::String, true),
    col("line", Kind::Integer, true),
    col("record", Kind::Integer, true),
    col("column", Kind::String, false),
    col("code", Kind::String, true),
    col("message", Kind::String, true),
    col("raw", Kind::String, false),
];

fn load_mapping(spec: Option<&str>, table: TableKind) -> Result<Mapping> {
    let preset = |name: &str| PRESETS.iter().find(|(n, _)| *n == name).map(|p| p.1);
    if spec == Some("salesforce") {
        // The Data Export preset reads several objects itself; only its stage map is shared.
        return Ok(toml::from_str(preset("salesforce-history").expect("built in")).expect("valid"));
    }
    let mapping: Mapping = match spec {
        None | Some("canonical") => Mapping {
            layout: history(),
            columns: table
                .columns()
                .iter()
                .map(|c| (c.name.to_string(), c.name.to_string()))
                .collect(),
            ..Mapping::default()
        },
        Some(name) if preset(name).is_some() => {
            toml::from_str(preset(name).expect("checked")).expect("built-in presets are valid")
        }
        Some(path) => {
            let names: Vec<&str> = PRESETS.iter().map(|p| p.0).collect();
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("reading mapping {path} (presets: canonical, {})", names.join(", "))
            })?;
            toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{path} is not a valid mapping: {e}"))?
        }
    };
    match (mapping.layout.as_str(), table) {
        ("history", _) => {}
        ("snapshot" | "stage-dates", TableKind::Events) if !mapping.dates.is_empty() => {}
        ("snapshot" | "stage-dates", TableKind::Events) => {
            bail!(
                "a {} mapping needs [dates]: the export column of each stage's date",
                mapping.layout
            )
        }
        ("levels", TableKind::Roster) if mapping.levels.len() >= 2 => {}
        ("levels", TableKind::Roster) => {
            bail!("a levels mapping needs `levels`: two or more columns, top first")
        }
        ("levels", _) => bail!("the levels layout makes a roster; use --table roster"),
        ("snapshot" | "stage-dates", _) => {
            bail!("the {} layout makes events; use --table events", mapping.layout)
        }
        (other, _) => {
            bail!("layout {other:?} is not supported; use history, snapshot or stage-dates")
        }
    }
    for c in mapping.columns.keys() {
        if !table.columns().iter().any(|k| k.name == c) {
            bail!("the mapping names `{c}`, which is not a column of the {} table", table.name());
        }
    }
    Ok(mapping)
}

fn encoding(name: Option<&str>) -> Result<Option<&'static encoding_rs::Encoding>> {
    let Some(name) = name else { return Ok(None) };
    let label = match name.to_ascii_lowercase().as_str() {
        "cp932" | "shift_jis" | "sjis" => "shift_jis",
        "latin1" => "iso-8859-1",
        other => {
            return encoding_rs::Encoding::for_label(other.as_bytes())
                .map(Some)
                .with_context(|| format!("unknown --encoding {name}"));
        }
    };
    Ok(encoding_rs::Encoding::for_label(label.as_bytes()))
}

/// The delimiter that splits the header into the most columns.
fn sniff_delimiter(header_line: &[u8]) -> u8 {
    let count = |d: u8| header_line.iter().filter(|b| **b == d).count();
    // Ties go to the comma, then to the order below.
    [b';', b'\t', b'|']
        .into_iter()
        .fold(b',', |best, d| if count(d) > count(best) { d } else { best })
}

/// Bytes that look like Shift_JIS (CP932) double-byte characters, for the hint.
fn looks_like_cp932(bytes: &[u8]) -> bool {
    let (text, _, malformed) = encoding_rs::SHIFT_JIS.decode(bytes);
    !malformed
        && text.chars().any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
}

/// The hint for bytes that are not UTF-8: the encoding they most look like.
fn encoding_hint(bytes: &[u8]) -> &'static str {
    if looks_like_cp932(bytes) {
        "; it looks like CP932 (Japanese Excel): try --encoding cp932"
    } else if bytes.iter().any(|b| matches!(b, 0xc0..=0xff)) {
        "; it looks like a Western European code page: try --encoding windows-1252"
    } else {
        "; give --encoding"
    }
}

struct Counts {
    read: u64,
    written: u64,
    rejected: u64,
}

pub fn run(global: &Global, args: IngestArgs) -> Result<ExitStatus> {
    let playbook = Playbook::load(global.config.as_deref())?;
    let mapping = load_mapping(args.mapping.as_deref(), args.table)?;
    let tz: chrono_tz::Tz = match &args.tz {
        Some(t) => t.parse().map_err(|_| anyhow::anyhow!("--tz {t}: not an IANA time zone"))?,
        None => playbook.timezone,
    };
    let enc = encoding(args.encoding.as_deref())?;
    let opts = ValueOptions {
        tz,
        date_format: args.date_format.clone(),
        currency: args.currency_symbols,
        group_separator: args.group_separator,
        decimal_comma: args.decimal_comma,
        without_offset: std::cell::Cell::new(false),
        max_field_bytes: args.max_field_bytes,
        trimmed: std::cell::Cell::new(0),
    };
    if opts.decimal_comma && opts.group_separator == Some(',') {
        bail!("--decimal-comma and --group-separator , cannot both hold");
    }
    let dest = Dest::parse(global.output.as_deref());
    let format = match global.format {
        Some(f) => f,
        None => match &dest {
            Dest::File(p) => Format::from_path(p).unwrap_or(Format::Csv),
            Dest::Stdout => Format::Csv,
        },
    };
    let sources: Vec<Source> = args.inputs.iter().map(|i| Source::parse(i)).collect();
    crate::io::ensure_distinct(&dest, &sources.iter().collect::<Vec<_>>())?;
    let columns = args.table.columns();
    // Standard output is written only once ingest knows it is within --max-rejects.
    let staged = tempfile::NamedTempFile::new().context("creating a temporary file")?;
    let target = match &dest {
        Dest::Stdout => Dest::File(staged.path().to_path_buf()),
        file => file.clone(),
    };
    let mut out = TableWriter::create(&target, format, columns)?;
    let mut rejects = match &args.rejects {
        Some(p) => Some(TableWriter::create(
            &Dest::File(p.clone()),
            Format::from_path(p).unwrap_or(Format::Csv),
            REJECT_COLUMNS,
        )?),
        None => None,
    };
    let mut counts = Counts { read: 0, written: 0, rejected: 0 };
    let mut first_problems = Vec::new();
    let progress = (!global.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .then(|| progress_bar(&sources, enc.is_none()));
    let mut sink = Sink {
        out: &mut out,
        rejects: &mut rejects,
        counts: &mut counts,
        first_problems: &mut first_problems,
        progress: progress.clone(),
        bytes_done: 0,
    };
    if args.mapping.as_deref() == Some("salesforce") {
        ingest_salesforce(&sources, &args, &mapping, &playbook, &opts, enc, global, &mut sink)?;
    } else {
        for source in &sources {
            ingest_one(source, &args, &mapping, &playbook, &opts, enc, global, &mut sink)?;
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Some(r) = rejects {
        r.finish()?;
    }
    let over = counts.rejected > args.max_rejects;
    if !over {
        out.finish()?;
        if dest == Dest::Stdout {
            std::io::copy(&mut std::fs::File::open(staged.path())?, &mut std::io::stdout().lock())?;
        }
    }
    if !global.quiet && opts.trimmed.get() > 0 {
        eprintln!("warning: {} cells had spaces around them, trimmed", opts.trimmed.get());
    }
    if !global.quiet && opts.without_offset.get() {
        eprintln!(
            "warning: timestamps without a UTC offset were read as {} time (--tz)",
            opts.tz.name()
        );
    }
    if !global.quiet {
        // Over the limit nothing is written: the records that passed are counted as held back,
        // so that the figures still add up to what was read.
        let held_back = if over {
            format!(", held back {} (over --max-rejects)", counts.written)
        } else {
            String::new()
        };
        eprintln!(
            "ingest: read {}, written {}, rejected {}{held_back}",
            counts.read,
            if over { 0 } else { counts.written },
            counts.rejected
        );
        for p in first_problems.iter().take(5) {
            eprintln!("  {p}");
        }
        if over {
            eprintln!("  more rejects than --max-rejects {}: no output written", args.max_rejects);
        }
    }
    Ok(if over { ExitStatus::DataFailed } else { ExitStatus::Success })
}

#[allow(clippy::too_many_arguments)]
fn ingest_one(
    source: &Source,
    args: &IngestArgs,
    mapping: &Mapping,
    playbook: &Playbook,
    opts: &ValueOptions,
    enc: Option<&'static encoding_rs::Encoding>,
    global: &Global,
    sink: &mut Sink,
) -> Result<()> {
    let file = source.to_string();
    let no_header =
        || crate::DataError::new(format!("{file}: no header line (is the file empty?)"));
    if mapping.layout == "levels" {
        let (mut rdr, headers) = open_export(source, args, enc, global)?;
        if headers.iter().all(|h| h.trim().is_empty()) {
            return Err(no_header().into());
        }
        return ingest_levels(&mut rdr, &file, &headers, mapping, sink);
    }
    // Streamed: the decoder transcodes to UTF-8 as the parser asks for bytes, and the parser
    // runs ahead on its own thread, so memory does not grow with the file.
    let (input, delimiter) = open_input(source, args, enc, global)?;
    // A record may hold several fields at the limit, but not without end.
    let max_record = opts.max_field_bytes.saturating_mul(8);
    let mut stream = RecordStream::start(input, delimiter, max_record);
    let headers = stream
        .header()
        .with_context(|| format!("reading the header of {file}"))?
        .unwrap_or_default();
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err(no_header().into());
    }
    let columns = args.table.columns();
    let mut bind = vec![None; columns.len()];
    for (i, c) in columns.iter().enumerate() {
        let Some(want) = mapping.columns.get(c.name) else { continue };
        let same: Vec<usize> =
            (0..headers.len()).filter(|&h| normalize(&headers[h]) == normalize(want)).collect();
        if let [first, second, ..] = same[..] {
            return Err(crate::DataError::new(format!(
                "{file}: the header has column {want:?} more than once (columns {} and {}), so which one feeds {} is unclear",
                first + 1,
                second + 1,
                c.name
            ))
            .into());
        }
        let exact = headers.iter().position(|h| h == want);
        let loose = || headers.iter().position(|h| normalize(h) == normalize(want));
        bind[i] = exact.or_else(loose);
        if exact.is_none() && bind[i].is_some() && !global.quiet {
            eprintln!(
                "warning: {file}: column {want:?} matched {:?} (trimmed, ignoring case)",
                headers[bind[i].unwrap()]
            );
        }
    }
    let missing: Vec<&str> = columns
        .iter()
        .zip(&bind)
        .filter(|(c, b)| {
            c.required
                && b.is_none()
                && !(mapping.layout != "history" && c.name == "ts")
                && !(mapping.layout == "stage-dates" && c.name == "stage")
        })
        .map(|(c, _)| c.name)
        .collect();
    if !missing.is_empty() {
        return Err(crate::DataError::new(format!(
            "{file}: no column for {} (header has: {}){}",
            missing.join(", "),
            headers.iter().take(12).map(|h| preview(h)).collect::<Vec<_>>().join(", "),
            if headers.len() == 1 { "; is the delimiter right? (--delimiter)" } else { "" }
        ))
        .into());
    }
    let find = |want: &str| headers.iter().position(|h| normalize(h) == normalize(want));
    let snapshot = mapping.layout != "history";
    let mut date_columns: Vec<(crate::model::playbook::StageCode, Option<usize>)> = Vec::new();
    for (stage, column) in &mapping.dates {
        let code = playbook
            .resolve_stage(stage)
            .with_context(|| format!("mapping [dates]: {stage} is not a stage of the playbook"))?;
        date_columns.push((code, find(column)));
    }
    date_columns.sort_by_key(|(code, _)| *code);
    let status_column = mapping.status.as_deref().and_then(find);
    let stages: Vec<_> = date_columns.iter().map(|(c, _)| *c).collect();
    // The row's buffer is reused from one record to the next.
    let mut spare: Vec<Cell<'static>> = Vec::with_capacity(columns.len());
    let mut number = 0u64;
    while let Some(batch) = stream.next_batch().with_context(|| format!("reading {file}"))? {
        for raw in batch.records() {
            number += 1;
            sink.counts.read += 1;
            let line = raw.line;
            if let Some(size) = raw.oversized {
                let message = format!(
                    "a record of {size} bytes (at most {max_record}, 8 × --max-field-bytes): is a quote left open?"
                );
                let outcome = Err((None, "constraint-error", message));
                sink.settle(&outcome, &file, line, number, &String::new)?;
                continue;
            }
            let record = match raw.text() {
                Ok(r) => r,
                Err((field, valid_up_to)) => {
                    let cell = raw.get(field).unwrap_or(b"");
                    // Unquoted fields and one delimiter each: exact for the usual export.
                    let before: usize =
                        (0..field).filter_map(|i| raw.get(i)).map(|f| f.len() + 1).sum();
                    let offset = raw.byte as usize + before + valid_up_to;
                    let column =
                        headers.get(field).map_or(String::new(), |h| format!(", column {h}"));
                    let hint = encoding_hint(cell);
                    return Err(crate::DataError::new(format!(
                        "{file}:{line}{column}: invalid UTF-8 near byte offset {offset}{hint}"
                    ))
                    .into());
                }
            };
            let row = recycle(std::mem::take(&mut spare));
            let outcome = convert(
                record,
                &bind,
                columns,
                headers.len(),
                mapping,
                playbook,
                opts,
                snapshot,
                row,
            )
            .and_then(|row| {
                if snapshot {
                    let dates = |code| {
                        date_columns
                            .iter()
                            .find(|(c, _)| *c == code)
                            .and_then(|(_, i)| i.map(|i| record.get(i).unwrap_or("")))
                    };
                    let status = status_column.and_then(|i| record.get(i));
                    if mapping.layout == "stage-dates" {
                        expand_stage_dates(row, &stages, &dates, playbook, opts)
                    } else {
                        expand_snapshot(row, &dates, status, playbook, opts)
                    }
                } else {
                    Ok(Rows::One(row))
                }
            });
            sink.settle(&outcome, &file, line, number, &|| {
                record.iter().collect::<Vec<_>>().join(",")
            })?;
            if let Some(row) = outcome.ok().and_then(Rows::into_spare) {
                spare = recycle(row);
            }
        }
        if let Some(bar) = sink.progress.as_ref().filter(|b| b.length().is_some())
            && let Some(last) = batch.records().last()
        {
            bar.set_position(sink.bytes_done + last.byte);
        }
        stream.give_back(batch);
    }
    sink.bytes_done += source.path().and_then(|p| std::fs::metadata(p).ok()).map_or(0, |m| m.len());
    Ok(())
}

/// A CSV reader over a decoded export.
type ExportReader = csv::Reader<Box<dyn std::io::Read + Send>>;

/// Opens an export as UTF-8 bytes (decoded as it streams) and finds its delimiter (sniffed from
/// the header, or given). The reader still starts at the header.
fn open_input(
    source: &Source,
    args: &IngestArgs,
    enc: Option<&'static encoding_rs::Encoding>,
    global: &Global,
) -> Result<(Box<dyn std::io::Read + Send>, u8)> {
    let file = source.to_string();
    let mut input = decoded(source.open()?, enc).with_context(|| format!("reading {file}"))?;
    let mut header_line = Vec::new();
    std::io::BufRead::read_until(&mut input, b'\n', &mut header_line)
        .with_context(|| format!("reading {file}"))?;
    let delimiter = match &args.delimiter {
        Some(d) if d == "\\t" || d == "tab" => b'\t',
        Some(d) if d.len() == 1 => d.as_bytes()[0],
        Some(d) => bail!("--delimiter {d:?}: give one character (or `tab`)"),
        None => sniff_delimiter(&header_line),
    };
    if !global.quiet && args.delimiter.is_none() {
        eprintln!("{file}: delimiter {:?}", delimiter as char);
    }
    Ok((Box::new(std::io::Read::chain(std::io::Cursor::new(header_line), input)), delimiter))
}

/// Opens an export as a CSV reader, its header read.
fn open_export(
    source: &Source,
    args: &IngestArgs,
    enc: Option<&'static encoding_rs::Encoding>,
    global: &Global,
) -> Result<(ExportReader, Vec<String>)> {
    let (input, delimiter) = open_input(source, args, enc, global)?;
    let mut rdr = csv::ReaderBuilder::new()
        .buffer_capacity(1 << 20)
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(input);
    let headers = rdr
        .headers()
        .with_context(|| format!("reading the header of {source}"))?
        .iter()
        .map(String::from)
        .collect();
    Ok((rdr, headers))
}

/// An export as UTF-8 bytes, its BOM stripped. Plain UTF-8 (the usual case) is read as it
/// is; an `--encoding` or a UTF-16 BOM puts a streaming decoder in between.
fn decoded(
    raw: Box<dyn std::io::Read + Send>,
    enc: Option<&'static encoding_rs::Encoding>,
) -> std::io::Result<Box<dyn std::io::BufRead + Send>> {
    use std::io::BufRead;
    // Reads of at least this size go straight from the file into the CSV reader's buffer.
    const CAPACITY: usize = 64 * 1024;
    let mut input = std::io::BufReader::with_capacity(CAPACITY, raw);
    let start = input.fill_buf()?;
    let utf16 = start.starts_with(&[0xFF, 0xFE]) || start.starts_with(&[0xFE, 0xFF]);
    if enc.is_none() && !utf16 {
        if start.starts_with(&[0xEF, 0xBB, 0xBF]) {
            input.consume(3);
        }
        return Ok(Box::new(input));
    }
    let mut decoder = encoding_rs_io::DecodeReaderBytesBuilder::new();
    decoder.encoding(enc).strip_bom(true);
    Ok(Box::new(std::io::BufReader::with_capacity(CAPACITY, decoder.build(input))))
}

/// Salesforce's null reference id.
const SF_NULL_ID: &str = "000000000000000AAA";

/// A Salesforce Data Export (a folder, or its files): OpportunityHistory for the stage changes
/// with the owner joined from Opportunity, Lead for the lead stage, User for the roster.
#[allow(clippy::too_many_arguments)]
fn ingest_salesforce(
    sources: &[Source],
    args: &IngestArgs,
    mapping: &Mapping,
    playbook: &Playbook,
    opts: &ValueOptions,
    enc: Option<&'static encoding_rs::Encoding>,
    global: &Global,
    sink: &mut Sink,
) -> Result<()> {
    let mut files: BTreeMap<String, Source> = BTreeMap::new();
    for s in sources {
        let path = s
            .path()
            .context("the salesforce preset reads files or a folder, not standard input")?;
        let entries: Vec<std::path::PathBuf> = if path.is_dir() {
            std::fs::read_dir(path)?.filter_map(|e| e.ok().map(|e| e.path())).collect()
        } else {
            vec![path.to_path_buf()]
        };
        for p in entries {
            if let Some(name) = p.file_name().and_then(|n| n.to_str()) {
                files.insert(name.to_lowercase(), Source::File(p.clone()));
            }
        }
    }
    let need = |name: &str| {
        files.get(name).cloned().with_context(|| {
            format!(
                "the salesforce preset needs {name} (found: {})",
                files.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    };
    let columns = |headers: &[String], file: &str, wanted: &[&str]| -> Result<Vec<usize>> {
        wanted
            .iter()
            .map(|w| {
                headers
                    .iter()
                    .position(|h| h == w)
                    .ok_or_else(|| crate::DataError::new(format!("{file}: no column {w}")).into())
            })
            .collect()
    };
    let id = |v: &str| if v == SF_NULL_ID { String::new() } else { v.trim().to_string() };
    let identity: Vec<Option<usize>> = (0..args.table.columns().len()).map(Some).collect();
    let width = args.table.columns().len();
    let convert_row =
        |cells: Vec<String>, file: &str, line: u64, number: u64, sink: &mut Sink| -> Result<()> {
            let owned = OwnedTextRecord::new(&cells);
            let record = owned.record();
            let outcome = convert(
                record,
                &identity,
                args.table.columns(),
                width,
                mapping,
                playbook,
                opts,
                false,
                Vec::new(),
            )
            .map(Rows::One);
            sink.counts.read += 1;
            sink.settle(&outcome, file, line, number, &|| cells.join(","))
        };
    match args.table {
        TableKind::Events => {
            let opp = need("opportunity.csv")?;
            let (mut rdr, headers) = open_export(&opp, args, enc, global)?;
            let c = columns(&headers, &opp.to_string(), &["Id", "OwnerId"])?;
            let mut owners: BTreeMap<String, String> = BTreeMap::new();
            for r in rdr.records() {
                let r = r.with_context(|| format!("reading {opp}"))?;
                owners.insert(id(&r[c[0]]), id(&r[c[1]]));
            }
            let hist = need("opportunityhistory.csv")?;
            let (mut rdr, headers) = open_export(&hist, args, enc, global)?;
            let c = columns(
                &headers,
                &hist.to_string(),
                &["OpportunityId", "StageName", "CreatedDate", "Amount"],
            )?;
            for (n, r) in rdr.records().enumerate() {
                let r = r.with_context(|| format!("reading {hist}"))?;
                let line = r.position().map_or(0, |p| p.line());
                let deal = id(&r[c[0]]);
                let Some(owner) = owners.get(&deal).cloned().filter(|o| !o.is_empty()) else {
                    sink.counts.read += 1;
                    let message = format!("opportunity {deal} has no owner in Opportunity.csv");
                    let raw = r.iter().collect::<Vec<_>>().join(",");
                    sink.settle(
                        &Err((Some("OpportunityId".into()), "foreign-key", message)),
                        &hist.to_string(),
                        line,
                        n as u64 + 1,
                        &|| raw.clone(),
                    )?;
                    continue;
                };
                convert_row(
                    vec![
                        deal,
                        owner,
                        r[c[1]].to_string(),
                        r[c[2]].to_string(),
                        r[c[3]].to_string(),
                        String::new(),
                    ],
                    &hist.to_string(),
                    line,
                    n as u64 + 1,
                    sink,
                )?;
            }
            if let Some(lead) = files.get("lead.csv").cloned() {
                let (mut rdr, headers) = open_export(&lead, args, enc, global)?;
                let c = columns(
                    &headers,
                    &lead.to_string(),
                    &["Id", "OwnerId", "CreatedDate", "ConvertedOpportunityId"],
                )?;
                for (n, r) in rdr.records().enumerate() {
                    let r = r.with_context(|| format!("reading {lead}"))?;
                    let line = r.position().map_or(0, |p| p.line());
                    let converted = id(&r[c[3]]);
                    let deal = if converted.is_empty() { id(&r[c[0]]) } else { converted };
                    let stage = playbook.stages[0].clone();
                    convert_row(
                        vec![
                            deal,
                            id(&r[c[1]]),
                            stage,
                            r[c[2]].to_string(),
                            String::new(),
                            String::new(),
                        ],
                        &lead.to_string(),
                        line,
                        n as u64 + 1,
                        sink,
                    )?;
                }
            }
        }
        TableKind::Roster => {
            let user = need("user.csv")?;
            let (mut rdr, headers) = open_export(&user, args, enc, global)?;
            let c = columns(
                &headers,
                &user.to_string(),
                &["Id", "FirstName", "LastName", "UserRoleId", "ManagerId"],
            )?;
            for (n, r) in rdr.records().enumerate() {
                let r = r.with_context(|| format!("reading {user}"))?;
                let line = r.position().map_or(0, |p| p.line());
                let name = format!("{} {}", r[c[1]].trim(), r[c[2]].trim()).trim().to_string();
                convert_row(
                    vec![id(&r[c[0]]), name, id(&r[c[3]]), id(&r[c[4]])],
                    &user.to_string(),
                    line,
                    n as u64 + 1,
                    sink,
                )?;
            }
        }
        _ => bail!(
            "the salesforce preset makes events (OpportunityHistory, Opportunity, Lead) or a roster (User)"
        ),
    }
    Ok(())
}

/// A bar over the inputs' bytes when they are files read as they are (their sizes are the
/// total), else a spinner counting records.
fn progress_bar(sources: &[Source], undecoded: bool) -> indicatif::ProgressBar {
    let sizes: Option<u64> = sources
        .iter()
        .map(|s| s.path().and_then(|p| std::fs::metadata(p).ok()).map(|m| m.len()))
        .sum();
    let (bar, template) = match sizes.filter(|_| undecoded) {
        Some(total) => (
            indicatif::ProgressBar::new(total),
            "{bar:30} {bytes}/{total_bytes} {bytes_per_sec}, {eta} left",
        ),
        None => (indicatif::ProgressBar::new_spinner(), "{spinner} {pos} records {per_sec}"),
    };
    bar.set_style(indicatif::ProgressStyle::with_template(template).expect("valid template"));
    bar
}

/// Where converted records go: the output, the rejects report and the counts.
struct Sink<'a> {
    out: &'a mut TableWriter,
    rejects: &'a mut Option<TableWriter>,
    counts: &'a mut Counts,
    first_problems: &'a mut Vec<String>,
    /// Progress on a terminal's standard error: a bar over the input's bytes when their total
    /// is known, else a spinner with the record count.
    progress: Option<indicatif::ProgressBar>,
    /// Bytes of the inputs already read through, for the bar.
    bytes_done: u64,
}

impl Sink<'_> {
    /// Writes a record's rows, or its rejection, and counts it once either way.
    fn settle(
        &mut self,
        outcome: &Result<Rows, Rejection>,
        file: &str,
        line: u64,
        number: u64,
        raw: &dyn Fn() -> String,
    ) -> Result<()> {
        // The record count comes first: the bar's length sits behind a lock.
        if self.counts.read.is_multiple_of(65_536)
            && let Some(bar) = self.progress.as_ref().filter(|b| b.length().is_none())
        {
            bar.set_position(self.counts.read);
        }
        match outcome {
            Ok(rows) => {
                for row in rows.each() {
                    self.out.write_cells(row.iter().copied())?;
                }
                self.counts.written += 1;
            }
            Err((column, code, message)) => {
                self.counts.rejected += 1;
                if self.first_problems.len() < 5 {
                    let at = column.as_ref().map_or(String::new(), |c| format!(", column {c}"));
                    self.first_problems
                        .push(format!("{file}:{line}: record {number}{at}: {message} ({code})"));
                }
                if let Some(r) = self.rejects.as_mut() {
                    r.write_row(&[
                        Cell::Str(file),
                        Cell::Int(line as i64),
                        Cell::Int(number as i64),
                        column.as_deref().into(),
                        Cell::Str(code),
                        Cell::Str(message),
                        Cell::Str(&preview(&raw())),
                    ])?;
                }
            }
        }
        Ok(())
    }
}

/// A roster given as level columns (one row per rep: region, manager, rep): every value becomes
/// a person reporting to the value on its left, the intermediate nodes created once each.
#[allow(clippy::too_many_arguments)]
fn ingest_levels<R: std::io::Read>(
    rdr: &mut csv::Reader<R>,
    file: &str,
    headers: &[String],
    mapping: &Mapping,
    sink: &mut Sink,
) -> Result<()> {
    let mut bind = Vec::new();
    for level in &mapping.levels {
        let i = headers.iter().position(|h| normalize(h) == normalize(level));
        let Some(i) = i else {
            return Err(crate::DataError::new(format!(
                "{file}: no column {level:?} (header has: {})",
                headers.join(", ")
            ))
            .into());
        };
        bind.push((level.trim().to_lowercase(), i));
    }
    let mut parents: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut record = csv::StringRecord::new();
    let mut number = 0u64;
    while rdr.read_record(&mut record).with_context(|| format!("reading {file}"))? {
        number += 1;
        sink.counts.read += 1;
        let line = record.position().map_or(0, |p| p.line());
        let mut parent: Option<String> = None;
        let mut new_people = Vec::new();
        let mut problem = None;
        for (role, i) in &bind {
            let v = record.get(*i).unwrap_or("").trim();
            if v.is_empty() {
                continue;
            }
            match parents.get(v) {
                Some(p) if *p != parent => {
                    problem = Some(format!(
                        "{v} reports to {} here but to {} on an earlier row",
                        parent.as_deref().unwrap_or("no one"),
                        p.as_deref().unwrap_or("no one")
                    ));
                    break;
                }
                Some(_) => {}
                None => new_people.push((v.to_string(), role.clone(), parent.clone())),
            }
            parent = Some(v.to_string());
        }
        match problem {
            None if parent.is_some() => {
                for (id, role, reports_to) in new_people {
                    sink.out.write_row(&[
                        Cell::Str(&id),
                        Cell::Str(&id),
                        Cell::Str(&role),
                        reports_to.as_deref().into(),
                    ])?;
                    parents.insert(id, reports_to);
                }
                sink.counts.written += 1;
            }
            other => {
                let message = other.unwrap_or_else(|| "the row is empty".into());
                let raw = record.iter().collect::<Vec<_>>().join(",");
                sink.settle(
                    &Err((None, "constraint-error", message)),
                    file,
                    line,
                    number,
                    &|| raw.clone(),
                )?;
            }
        }
    }
    Ok(())
}

/// How values are read: the time zone and date format of timestamps, and what an amount may
/// carry besides digits (each only when asked for, so that nothing is guessed).
pub struct ValueOptions {
    pub tz: chrono_tz::Tz,
    pub date_format: Option<String>,
    pub currency: bool,
    pub group_separator: Option<char>,
    pub decimal_comma: bool,
    /// Set once a timestamp without a UTC offset has been read in `tz`.
    pub without_offset: std::cell::Cell<bool>,
    pub max_field_bytes: usize,
    /// Cells that had spaces around them, trimmed.
    pub trimmed: std::cell::Cell<u64>,
}

impl ValueOptions {
    fn amount<'v>(&self, v: &'v str) -> std::borrow::Cow<'v, str> {
        if !self.currency && self.group_separator.is_none() && !self.decimal_comma {
            return v.into();
        }
        let mut t = v.to_string();
        if self.currency {
            t = t.trim_matches(|c: char| "$€£¥￥₩₹".contains(c) || c.is_whitespace()).to_string();
        }
        if let Some(g) = self.group_separator {
            t = t.replace(g, "");
        }
        if self.decimal_comma {
            t = t.replace(',', ".");
        }
        t.into()
    }
}

type Rejection = (Option<String>, &'static str, String);

/// The rows one record becomes: one for most layouts, several for a snapshot or stage dates.
enum Rows<'a> {
    One(Vec<Cell<'a>>),
    Many(Vec<Vec<Cell<'a>>>),
}

impl<'a> Rows<'a> {
    fn each(&self) -> &[Vec<Cell<'a>>] {
        match self {
            Rows::One(row) => std::slice::from_ref(row),
            Rows::Many(rows) => rows,
        }
    }

    /// The single row's buffer, for the next record to reuse.
    fn into_spare(self) -> Option<Vec<Cell<'a>>> {
        match self {
            Rows::One(row) => Some(row),
            Rows::Many(_) => None,
        }
    }
}

/// An empty buffer of values, borrowing from nothing yet, that keeps `row`'s allocation (a
/// collect from a vector's own iterator into the same element size reuses it in place).
fn recycle<'b>(mut row: Vec<Cell<'_>>) -> Vec<Cell<'b>> {
    row.clear();
    row.into_iter().map(|_| unreachable!("the row was cleared")).collect()
}

fn parse_ts(v: &str, opts: &ValueOptions) -> Option<i64> {
    let (tz, date_format) = (opts.tz, opts.date_format.as_deref());
    match parse_iso(v.trim()) {
        Some((t, Offset::Explicit)) => Some(t),
        Some((t, Offset::Missing)) => {
            opts.without_offset.set(true);
            Some(localize(t, tz))
        }
        None => date_format.and_then(|f| parse_with_format(v.trim(), f)).map(|t| localize(t, tz)),
    }
}

/// One stage-dates row (a deal with a date column per stage) as one event per dated stage.
fn expand_stage_dates<'a>(
    row: Vec<Cell<'a>>,
    stages: &[crate::model::playbook::StageCode],
    dates: &dyn Fn(crate::model::playbook::StageCode) -> Option<&'a str>,
    playbook: &'a Playbook,
    opts: &ValueOptions,
) -> Result<Rows<'a>, Rejection> {
    use crate::model::tables::ev;
    let mut out = Vec::new();
    for &code in stages {
        let Some(d) = dates(code).filter(|d| !d.trim().is_empty()) else { continue };
        let ts = parse_ts(d, opts).ok_or((
            Some("date".to_string()),
            "type-error",
            format!("{d:?} is not a date (give --date-format)"),
        ))?;
        let mut r = row.clone();
        r[ev::STAGE] = Cell::Str(playbook.stage_name(code));
        r[ev::TS] = Cell::Ts(ts);
        r[ev::INFERRED] = Cell::Bool(false);
        out.push(r);
    }
    if out.is_empty() {
        return Err((Some("date".into()), "constraint-error", "no stage has a date".into()));
    }
    Ok(Rows::Many(out))
}

/// One snapshot row (a deal at its current stage) as the events it implies: every earlier stage
/// counts as reached; a stage without its own date takes the nearest known one and is marked
/// inferred. A terminal outcome implies only the first stage before it.
fn expand_snapshot<'a>(
    row: Vec<Cell<'a>>,
    dates: &dyn Fn(crate::model::playbook::StageCode) -> Option<&'a str>,
    status: Option<&str>,
    playbook: &'a Playbook,
    opts: &ValueOptions,
) -> Result<Rows<'a>, Rejection> {
    use crate::model::tables::ev;
    let Cell::Str(stage_name) = &row[ev::STAGE] else {
        return Err((Some("stage".into()), "constraint-error", "stage is required".into()));
    };
    let mut current = playbook.resolve_stage(stage_name).expect("converted stages resolve");
    let status = status.map(|s| s.trim().to_ascii_lowercase());
    if let Some(s) = status.filter(|s| s == "won" || s == "lost")
        && let Some(code) = playbook.resolve_stage(&s)
    {
        current = code;
    }
    let reached: Vec<crate::model::playbook::StageCode> =
        if playbook.is_terminal(current) { vec![0, current] } else { (0..=current).collect() };
    let known: Vec<(usize, i64)> = reached
        .iter()
        .enumerate()
        .filter_map(|(i, code)| dates(*code).filter(|d| !d.trim().is_empty()).map(|d| (i, d)))
        .map(|(i, d)| {
            parse_ts(d, opts).map(|t| (i, t)).ok_or((
                Some("date".to_string()),
                "type-error",
                format!("{d:?} is not a date (give --date-format)"),
            ))
        })
        .collect::<Result<_, _>>()?;
    if known.is_empty() {
        return Err((
            Some("date".into()),
            "constraint-error",
            "no date for any stage the deal reached".into(),
        ));
    }
    Ok(Rows::Many(
        reached
            .iter()
            .enumerate()
            .map(|(i, code)| {
                let own = known.iter().find(|(k, _)| *k == i).map(|(_, t)| *t);
                let nearest = known
                    .iter()
                    .min_by_key(|(k, _)| (k.abs_diff(i), *k))
                    .map(|(_, t)| *t)
                    .expect("known is not empty");
                let mut r = row.clone();
                r[ev::STAGE] = Cell::Str(playbook.stage_name(*code));
                r[ev::TS] = Cell::Ts(own.unwrap_or(nearest));
                r[ev::INFERRED] = Cell::Bool(own.is_none());
                r
            })
            .collect(),
    ))
}

/// `str::trim`, with a shortcut for the usual cell that starts and ends in a visible ASCII
/// character.
fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if f.is_ascii_graphic() && l.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Converts a record's bound cells into `out` (cleared first, its allocation reused).
#[allow(clippy::too_many_arguments)]
fn convert<'a>(
    record: TextRecord<'a>,
    bind: &[Option<usize>],
    columns: &[Column],
    width: usize,
    mapping: &'a Mapping,
    playbook: &'a Playbook,
    opts: &ValueOptions,
    snapshot: bool,
    mut out: Vec<Cell<'a>>,
) -> Result<Vec<Cell<'a>>, Rejection> {
    out.clear();
    if record.len() > width {
        return Err((
            None,
            "extra-cell",
            format!("{} cells, the header has {width}", record.len()),
        ));
    }
    if record.iter().all(|f| trim(f).is_empty()) {
        return Err((None, "blank-row", "the row is empty".into()));
    }
    // One search of the whole record, rather than one per cell, in the usual case of no NUL.
    let has_nul = record.as_str().contains('\0');
    for (c, b) in columns.iter().zip(bind) {
        let raw = match b {
            Some(i) if *i >= record.len() => {
                return Err((
                    Some(c.name.into()),
                    "missing-cell",
                    format!("{} cells, the header has {width}", record.len()),
                ));
            }
            Some(i) => record.get(*i).unwrap_or(""),
            None => "",
        };
        let reject = |code: &'static str, message: String| {
            let hint = if raw.contains('\n') {
                " (the cell spans lines: is a quote left open?)"
            } else {
                ""
            };
            (Some(c.name.to_string()), code, format!("{message}{hint}"))
        };
        if has_nul && raw.contains('\0') {
            return Err(reject("constraint-error", format!("a NUL byte in {:?}", preview(raw))));
        }
        if raw.len() > opts.max_field_bytes {
            return Err(reject(
                "constraint-error",
                format!(
                    "a field of {} bytes (at most {}, --max-field-bytes): {:?}",
                    raw.len(),
                    opts.max_field_bytes,
                    preview(raw)
                ),
            ));
        }
        let v = trim(raw);
        if v.len() != raw.len() {
            opts.trimmed.set(opts.trimmed.get() + 1);
        }
        if v.is_empty() {
            if c.required && !(snapshot && (c.name == "ts" || c.name == "stage")) {
                return Err(reject("constraint-error", format!("{} is required", c.name)));
            }
            out.push(Cell::Null);
            continue;
        }
        out.push(match c.kind {
            Kind::String if c.name == "stage" => {
                let stage = mapping.stages.get(v).map(String::as_str).unwrap_or(v);
                match playbook.resolve_stage(stage) {
                    Some(code) => Cell::Str(playbook.stage_name(code)),
                    None => {
                        let p = crate::commands::funnel::unknown_stage(v, playbook);
                        return Err(reject(p.code, format!("{:?}: {}", preview(v), p.message)));
                    }
                }
            }
            Kind::String => Cell::Str(v),
            Kind::Datetime => match parse_ts(v, opts) {
                Some(t) => Cell::Ts(t),
                None => {
                    let message = match &opts.date_format {
                        Some(f) => format!("{v:?} does not match --date-format {f}"),
                        None => {
                            format!("{v:?} is not ISO 8601; give --date-format for other forms")
                        }
                    };
                    return Err(reject("type-error", message));
                }
            },
            Kind::Decimal | Kind::Number => {
                let normalized = opts.amount(v);
                let v = normalized.as_ref();
                let plain = v
                    .trim_start_matches(['-', '+'])
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'.');
                match Decimal::from_str(v) {
                    Ok(d) if plain && !d.is_sign_negative() => Cell::Dec(d),
                    Ok(_) if plain => {
                        return Err(reject("constraint-error", format!("{v:?} is negative")));
                    }
                    _ => {
                        return Err(reject(
                            "type-error",
                            format!("{v:?} is not a plain decimal number"),
                        ));
                    }
                }
            }
            Kind::Integer => match v.parse::<i64>() {
                Ok(i) if i >= 0 => Cell::Int(i),
                _ => {
                    return Err(reject(
                        "type-error",
                        format!("{v:?} is not a non-negative integer"),
                    ));
                }
            },
            Kind::Boolean => match v.to_ascii_lowercase().as_str() {
                "true" | "t" | "1" | "yes" | "y" => Cell::Bool(true),
                "false" | "f" | "0" | "no" | "n" => Cell::Bool(false),
                _ => return Err(reject("type-error", format!("{v:?} is not a boolean"))),
            },
        });
    }
    Ok(out)
}
