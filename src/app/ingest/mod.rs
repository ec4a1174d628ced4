//! Ingest: CRM exports in, canonical tables out, every record written or rejected.
//!
//! Layouts: *history* (one row per canonical row), *snapshot* and *stage-dates* (one row per
//! deal, expanded into events), *levels* (a roster from level columns), and the Salesforce
//! Data Export folder.

use crate::io::read::preview;
use crate::io::records::RecordStream;
use crate::io::write::{Cell, TableWriter};
use crate::io::{Dest, Format, Source};
use crate::model::playbook::{Playbook, normalize};
use crate::model::tables::{Column, Kind, TableKind, col};
use anyhow::{Context, Result};
mod cells;
mod dialect;
mod history;
mod input;
mod job;
mod joined;
mod layouts;
mod levels;
mod mapping;
mod salesforce;
mod sink;

use crate::model::money::{Converter, Currency};
pub use cells::ValueOptions;
use cells::{Fill, convert};
pub use dialect::encoding;
use dialect::encoding_hint;
use input::{open_export, open_input};
pub use job::{IngestJob, IngestOutcome};
use layouts::{Rows, expand_snapshot, expand_stage_dates, recycle};
use levels::ingest_levels;
pub use mapping::{Mapping, load_mapping, show_mapping};
use salesforce::ingest_salesforce;
use sink::{IngestCounts, Sink};

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

/// Runs an ingest: every record is written or rejected; over the limit nothing is written.
pub fn run(job: &IngestJob, playbook: &Playbook) -> Result<IngestOutcome> {
    let columns = job.table.columns();
    // Standard output is written only once ingest knows it is within --max-rejects.
    let staged = crate::io::place::temp_file_in(&std::env::temp_dir())?;
    let target = match &job.dest {
        Dest::Stdout => Dest::File(staged.path().to_path_buf()),
        file => file.clone(),
    };
    let mut out = TableWriter::create(&target, job.format, columns)?;
    let mut rejects = match &job.rejects {
        Some(dest) => {
            let format = match dest {
                Dest::File(p) => Format::from_path(p).unwrap_or(Format::Csv),
                Dest::Stdout => Format::Csv,
            };
            Some(TableWriter::create(dest, format, REJECT_COLUMNS)?)
        }
        None => None,
    };
    let mut counts = IngestCounts { read: 0, written: 0, rejected: 0, dropped: 0 };
    let mut first_problems = Vec::new();
    let progress = (!job.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .then(|| progress_bar(&job.sources, job.encoding.is_none()));
    let mut sink = Sink {
        out: &mut out,
        rejects: &mut rejects,
        counts: &mut counts,
        first_problems: &mut first_problems,
        progress: progress.clone(),
        bytes_done: 0,
        held: (job.table == TableKind::Roster && job.mapping.layout != "levels").then(Vec::new),
        money: (job.table == TableKind::Events).then(|| {
            let fallback = playbook.currency.as_deref().and_then(Currency::parse);
            Converter::new(playbook.rates.clone(), fallback)
        }),
        history: None,
        snapshot_at: 0,
        rows_out: 0,
    };
    let mut history_read = None;
    if job.salesforce {
        ingest_salesforce(&job.sources, job, playbook, &mut sink)?;
    } else {
        // A folder or a pattern of monthly exports is read as one table.
        let mut parts = Vec::new();
        for source in &job.sources {
            parts.extend(source.clone().expand()?);
        }
        let days = snapshot_days(&parts, job)?;
        let several = parts.len() > 1;
        let as_history = job.table == TableKind::Events
            && job.mapping.layout == "snapshot"
            && (several || !job.snapshot_dates.is_empty() || job.mapping.snapshot_date.is_some());
        sink.history = as_history.then(|| history::SnapshotHistory::new(playbook, several));
        for (part, day) in parts.iter().zip(days) {
            ingest_one(part, job, playbook, &mut sink, day)?;
        }
        if let Some(history) = sink.history.take() {
            let read = history.finish(&mut |row| sink.emit(row, &String::new))?;
            sink.counts.written -= read.removed_records;
            sink.counts.dropped += read.removed_records;
            history_read = Some(read);
        }
    }
    let sink_money = sink.money.take().map(|m| m.read);
    let rows_out = sink.rows_out;
    if let Some(held) = sink.held.take() {
        let mut people = one_row_per_person(held, job.quiet)?;
        managers_by_name(&mut people, sink.out, job.quiet)?;
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Some(r) = rejects {
        r.finish()?;
    }
    let over = counts.rejected > job.max_rejects;
    if !over {
        out.finish()?;
        if job.dest == Dest::Stdout {
            let mut stdout = crate::io::place::Named::stdout(std::io::stdout().lock());
            std::io::copy(&mut std::fs::File::open(staged.path())?, &mut stdout)?;
        }
    }
    Ok(IngestOutcome {
        read: counts.read,
        written: counts.written,
        rejected: counts.rejected,
        dropped: counts.dropped,
        over,
        first_problems,
        history_notes: history_read.as_ref().map_or(Vec::new(), |h| h.notes(job.values.tz)),
        removed: history_read.as_ref().map_or(0, |h| h.removed.len() as u64),
        removed_records: history_read.map_or(0, |h| h.removed_records),
        events_written: (job.mapping.layout == "snapshot" || job.mapping.layout == "stage-dates")
            .then_some(rows_out),
        money: sink_money,
    })
}

/// Each snapshot file's day: its `--snapshot-date`, else a date in its name. Several snapshots
/// without a day of their own need a snapshot date column.
fn snapshot_days(
    parts: &[Source],
    job: &IngestJob,
) -> Result<Vec<Option<crate::model::time::Micros>>> {
    let given = &job.snapshot_dates;
    if !given.is_empty() && job.mapping.layout != "snapshot" {
        anyhow::bail!(
            "--snapshot-date is for the snapshot layout (the mapping's is {}); add --layout snapshot",
            job.mapping.layout
        );
    }
    if !given.is_empty() && job.sources.len() != parts.len() {
        anyhow::bail!(
            "--snapshot-date dates the files named one by one, in the order given; a folder or a glob is read in name order, which need not be the order of the days: list the files, or name them by date (deals-2026-10-01.csv)"
        );
    }
    if !given.is_empty() && given.len() != parts.len() {
        let names: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        anyhow::bail!(
            "--snapshot-date is given {} times for {} snapshot files ({}): give it once per file, in this order",
            given.len(),
            parts.len(),
            names.join(", ")
        );
    }
    let by_name = |p: &Source| {
        let name = p.path()?.file_name()?.to_string_lossy().to_string();
        history::snapshot_instant(&history::date_in_name(&name)?, job.values.tz)
    };
    let days: Vec<_> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| given.get(i).copied().or_else(|| by_name(p)))
        .collect();
    let undated: Vec<String> =
        parts.iter().zip(&days).filter(|(_, d)| d.is_none()).map(|(p, _)| p.to_string()).collect();
    let needs_days = job.mapping.layout == "snapshot" && parts.len() > 1;
    if needs_days && !undated.is_empty() && job.mapping.snapshot_date.is_none() {
        anyhow::bail!(
            "{} snapshot files are read as one history, so each needs the day it was taken; {} {} none: name the files with their dates (deals-2026-10-01.csv), pass --snapshot-date once per file, or map a snapshot date column (snapshot_date = \"…\" in the mapping)",
            parts.len(),
            undated.join(", "),
            if undated.len() == 1 { "has" } else { "have" }
        );
    }
    Ok(days)
}

/// A flat roster read from a deals export has a row per deal: rows of one person that agree
/// (an empty cell agrees with any) are one person; two that disagree are an error naming both.
fn one_row_per_person(
    held: Vec<sink::HeldPerson>,
    quiet: bool,
) -> Result<Vec<Vec<Option<String>>>> {
    use crate::model::tables::{ROSTER_COLUMNS, ros};
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    let mut people: Vec<sink::HeldPerson> = Vec::with_capacity(held.len());
    let mut merged = 0u64;
    for row in held {
        let Some(id) = row.cells[ros::PERSON_ID].clone() else {
            people.push(row);
            continue;
        };
        let Some(&i) = index.get(&id) else {
            index.insert(id, people.len());
            people.push(row);
            continue;
        };
        let first = &mut people[i];
        for (c, cell) in row.cells.into_iter().enumerate() {
            match (&first.cells[c], cell) {
                (_, None) => {}
                (None, Some(v)) => first.cells[c] = Some(v),
                (Some(a), Some(b)) if *a == b => {}
                (Some(a), Some(b)) => {
                    return Err(crate::DataError::new(format!(
                        "{}: person {id:?} has {} {b:?}, but {} gives {a:?}: one person, two rows that disagree; fix one of them",
                        row.at, ROSTER_COLUMNS[c].name, first.at
                    ))
                    .into());
                }
            }
        }
        merged += 1;
    }
    if merged > 0 && !quiet {
        crate::note!(
            "roster: {} rows for {} people: {merged} repeated rows of a person merged (they agree)",
            people.len() as u64 + merged,
            people.len()
        );
    }
    Ok(people.into_iter().map(|p| p.cells).collect())
}

/// Writes a held roster, with each `reports_to` that names a person (and is no one's id)
/// turned into that person's id; returns how many were.
fn managers_by_name(
    rows: &mut [Vec<Option<String>>],
    out: &mut TableWriter,
    quiet: bool,
) -> Result<usize> {
    // A roster's cells are all text.
    use crate::model::tables::ros as r;
    let ids: std::collections::HashSet<String> =
        rows.iter().filter_map(|p| p[r::PERSON_ID].clone()).collect();
    let mut by_name: std::collections::HashMap<String, Option<String>> = Default::default();
    for p in rows.iter() {
        if let (Some(name), Some(id)) = (&p[r::NAME], &p[r::PERSON_ID]) {
            by_name
                .entry(name.clone())
                .and_modify(|v| *v = None) // two people of one name: ambiguous
                .or_insert(Some(id.clone()));
        }
    }
    let mut named = 0;
    for p in rows.iter_mut() {
        if let Some(boss) = p[r::REPORTS_TO].clone()
            && !ids.contains(&boss)
            && let Some(Some(id)) = by_name.get(&boss)
        {
            p[r::REPORTS_TO] = Some(id.clone());
            named += 1;
        }
    }
    for p in rows.iter() {
        out.write_row(&p.iter().map(|c| c.as_deref().into()).collect::<Vec<Cell>>())?;
    }
    if named > 0 && !quiet {
        crate::note!(
            "roster: {named} reports_to values named a person; written as their person_id"
        );
    }
    Ok(named)
}

fn ingest_one(
    source: &Source,
    args: &IngestJob,
    playbook: &Playbook,
    sink: &mut Sink,
    snapshot_day: Option<crate::model::time::Micros>,
) -> Result<()> {
    let (mapping, opts) = (&args.mapping, &args.values);
    let file = source.to_string();
    let no_header =
        || crate::DataError::new(format!("{file}: no header line (is the file empty?)"));
    if mapping.layout == "levels" {
        let (mut rdr, headers) = open_export(source, args)?;
        if headers.iter().all(|h| h.trim().is_empty()) {
            return Err(no_header().into());
        }
        return ingest_levels(&mut rdr, &file, &headers, mapping, sink);
    }
    // Streamed: the decoder transcodes to UTF-8 as the parser asks for bytes, and the parser
    // runs ahead on its own thread, so memory does not grow with the file.
    let (input, delimiter, runaways) = open_input(source, args)?;
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
        if exact.is_none() && bind[i].is_some() && !args.quiet {
            crate::note!(
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
                && !mapping.fills(c.name)
                && !(mapping.layout != "history" && c.name == "ts")
                && !(mapping.layout == "stage-dates" && c.name == "stage")
        })
        .map(|(c, _)| c.name)
        .collect();
    if !missing.is_empty() {
        let looked_for: Vec<String> = missing
            .iter()
            .map(|c| match mapping.columns.get(*c) {
                Some(h) => format!("{c} (looked for {h:?}: set [columns] {c})"),
                None => format!("{c} (no [columns] {c} in the mapping)"),
            })
            .collect();
        return Err(crate::DataError::new(format!(
            "{file}: no column for {}; the header has: {}{}{}; the mapping is {}, {}",
            looked_for.join(", "),
            headers.iter().take(20).map(|h| preview(h)).collect::<Vec<_>>().join(", "),
            if headers.len() > 20 {
                format!(", … ({} columns)", headers.len())
            } else {
                String::new()
            },
            if headers.len() == 1 { " (is the delimiter right? --delimiter)" } else { "" },
            mapping.name,
            mapping.show_hint()
        ))
        .into());
    }
    let find = |want: &str| headers.iter().position(|h| normalize(h) == normalize(want));
    let snapshot = mapping.layout != "history";
    let mut date_columns: Vec<(crate::model::playbook::StageCode, Vec<usize>)> = Vec::new();
    for (stage, columns) in &mapping.dates {
        let code = playbook
            .resolve_stage(stage)
            .with_context(|| format!("mapping [dates]: {stage} is not a stage of the playbook"))?;
        date_columns.push((code, columns.names().into_iter().filter_map(&find).collect()));
    }
    date_columns.sort_by_key(|(code, _)| *code);
    let status_column = mapping.status.as_deref().and_then(find);
    let stages: Vec<_> = date_columns.iter().map(|(c, _)| *c).collect();
    let snapshot_of = snapshot_of_rows(mapping, &headers, &file, snapshot_day, sink)?;
    let defaults: Vec<Option<&str>> =
        columns.iter().map(|c| mapping.defaults.get(c.name).map(String::as_str)).collect();
    let constants: Vec<Option<&str>> =
        columns.iter().map(|c| mapping.constants.get(c.name).map(String::as_str)).collect();
    let join = joined::JoinTable::load(mapping, args, columns, &headers, &file)?;
    let mut given = constants.clone();
    // The row's buffer is reused from one record to the next.
    let mut spare: Vec<Cell<'static>> = Vec::with_capacity(columns.len());
    let mut number = 0u64;
    while let Some(batch) = stream.next_batch().with_context(|| format!("reading {file}"))? {
        for raw in batch.records() {
            number += 1;
            sink.counts.read += 1;
            let line = raw.line;
            let cells: Vec<&[u8]> =
                if raw.len() == 1 { raw.get(0).into_iter().collect() } else { Vec::new() };
            if let Some(runaway) = crate::io::quotes::take_blanked(&runaways, raw.byte, &cells) {
                let outcome = Err((None, "runaway-quote", runaway.message()));
                sink.settle(&outcome, &file, line, number, &|| runaway.text.clone())?;
                continue;
            }
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
            let matched = match &join {
                Some(j) => j.fill(record, &constants, &mut given),
                None => Ok(()),
            };
            let fill = Fill { given: &given, defaults: &defaults };
            let outcome = matched
                .and_then(|()| {
                    convert(
                        record,
                        &bind,
                        columns,
                        headers.len(),
                        mapping,
                        playbook,
                        opts,
                        snapshot,
                        fill,
                        row,
                    )
                })
                .and_then(|row| {
                    if snapshot {
                        // The first of a stage's columns with a value.
                        let dates = |code| {
                            let (_, found) = date_columns.iter().find(|(c, _)| *c == code)?;
                            let values = found.iter().map(|&i| record.get(i).unwrap_or(""));
                            let mut values = values.peekable();
                            values.peek()?;
                            Some(values.clone().find(|v| !v.trim().is_empty()).unwrap_or(""))
                        };
                        let status = status_column.and_then(|i| record.get(i));
                        if mapping.layout == "stage-dates" {
                            expand_stage_dates(
                                row,
                                &stages,
                                &dates,
                                status,
                                (mapping, playbook),
                                opts,
                            )
                        } else {
                            expand_snapshot(row, &dates, status, (mapping, playbook), opts)
                        }
                    } else {
                        Ok(Rows::One(row))
                    }
                });
            let outcome = match (outcome, &snapshot_of) {
                (Ok(rows), Some(of)) => of.day(&record, opts).map(|day| {
                    sink.snapshot_at = day;
                    rows
                }),
                (outcome, _) => outcome,
            };
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

/// Where a snapshot record's day comes from: its snapshot date column, else its file's day.
struct SnapshotOf {
    column: Option<(usize, String)>,
    file_day: Option<crate::model::time::Micros>,
}

impl SnapshotOf {
    fn day(
        &self,
        record: &crate::io::records::TextRecord,
        opts: &ValueOptions,
    ) -> Result<crate::model::time::Micros, cells::Rejection> {
        let Some((i, name)) = &self.column else {
            return Ok(self.file_day.expect("a file without the column has its day"));
        };
        match record.get(*i).map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => history::snapshot_instant(v, opts.tz).ok_or_else(|| {
                (Some(name.clone()), "type-error", format!("the snapshot date {v:?} is not a date"))
            }),
            None => self.file_day.ok_or_else(|| {
                (
                    Some(name.clone()),
                    "constraint-error",
                    "no snapshot date: the cell is empty and the file's name has no date".into(),
                )
            }),
        }
    }
}

/// How a file's snapshot records are dated, when snapshots are read as a history.
fn snapshot_of_rows(
    mapping: &Mapping,
    headers: &[String],
    file: &str,
    file_day: Option<crate::model::time::Micros>,
    sink: &Sink,
) -> Result<Option<SnapshotOf>> {
    let Some(history) = &sink.history else { return Ok(None) };
    let column = mapping.snapshot_date.as_ref().and_then(|want| {
        let i = headers.iter().position(|h| normalize(h) == normalize(want))?;
        Some((i, headers[i].clone()))
    });
    // A lone snapshot without a day is dated by nothing: its stages keep their own dates.
    let file_day = file_day.or((!history.several && column.is_none()).then_some(0));
    if column.is_none() && file_day.is_none() {
        let want = mapping.snapshot_date.as_deref().unwrap_or_default();
        return Err(crate::DataError::new(format!(
            "{file}: no snapshot date column {want:?} and no date in the file name: which day is this snapshot? pass --snapshot-date once per file"
        ))
        .into());
    }
    Ok(Some(SnapshotOf { column, file_day }))
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
