//! Validation: every table against its schema and against each other, for CI jobs and the
//! month end.

use crate::io::read::{Problem, Row, RowProblem, Verdict, column_names, scan};
use crate::io::{Format, Source};
use crate::metrics::deals::Deals;
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::model::schema::{Field, Schema};
use crate::model::tables::{Kind, TableKind, act, ev};
use crate::model::time::{Micros, to_rfc3339};
use anyhow::Result;
use rustc_hash::FxHashSet;
use std::io::Write;

/// Everything validate found.
#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub valid: bool,
    pub stats: Stats,
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Stats {
    pub tables: usize,
    pub rows: u64,
    pub errors: u64,
    pub warnings: u64,
}

/// One finding, Frictionless-style.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    #[serde(rename = "type")]
    pub kind: String,
    pub file: String,
    #[serde(rename = "rowNumber")]
    pub row_number: Option<u64>,
    pub line: Option<u64>,
    #[serde(rename = "fieldName")]
    pub field_name: Option<String>,
    pub cell: Option<String>,
    pub message: String,
}

impl From<RowProblem> for Finding {
    fn from(p: RowProblem) -> Finding {
        Finding {
            kind: p.code.to_string(),
            file: p.file,
            row_number: (p.row > 0).then_some(p.row),
            line: (p.line > 0).then_some(p.line),
            field_name: p.column,
            cell: p.value,
            message: p.message,
        }
    }
}

/// Counts every finding; keeps the first ones for printing.
#[derive(Default)]
struct Findings {
    errors: Vec<Finding>,
    warnings: Vec<Finding>,
    n_errors: u64,
    n_warnings: u64,
}

const KEEP: usize = 10_000;

impl Findings {
    fn error(&mut self, f: Finding) {
        self.n_errors += 1;
        if self.errors.len() < KEEP {
            self.errors.push(f);
        }
    }
    fn warning(&mut self, f: Finding) {
        self.n_warnings += 1;
        if self.warnings.len() < KEEP {
            self.warnings.push(f);
        }
    }
}

/// Which table a file is: from its name (`events.csv`, `q1-activities.parquet`, …), else from
/// the columns its header names.
pub fn detect_table(source: &Source, input_format: Option<Format>) -> Option<TableKind> {
    let name = source.path()?.file_name()?.to_str()?.to_lowercase();
    let by_name = [
        ("event", TableKind::Events),
        ("activit", TableKind::Activities),
        ("roster", TableKind::Roster),
        ("people", TableKind::Roster),
    ]
    .into_iter()
    .find(|(k, _)| name.contains(k))
    .map(|(_, t)| t);
    by_name.or_else(|| {
        let columns = column_names(source, input_format)?;
        let has = |c: &str| columns.iter().any(|n| n == c);
        if has("person_id") {
            Some(TableKind::Roster)
        } else if has("activity_id") || (has("type") && !has("stage")) {
            Some(TableKind::Activities)
        } else if has("deal_id") && has("stage") {
            Some(TableKind::Events)
        } else {
            None
        }
    })
}

/// Checks tables (roster, then events, then activities, each against the ones before).
pub fn check(
    mut inputs: Vec<(Source, TableKind)>,
    input_format: Option<Format>,
    playbook: &Playbook,
    as_of: Option<Micros>,
    strict: bool,
) -> Result<Report> {
    // Roster first, then events, then activities: later tables are checked against earlier ones.
    inputs.sort_by_key(|(_, t)| match t {
        TableKind::Roster => 0,
        TableKind::Events => 1,
        _ => 2,
    });
    let mut findings = Findings::default();
    let mut rows = 0;
    let mut people: Option<FxHashSet<String>> = None;
    let mut deals: Option<FxHashSet<u64>> = None;
    // Files of the same table are checked as one table, so that a duplicate across monthly
    // exports is found as it is within a folder source.
    let mut start = 0;
    while start < inputs.len() {
        let table = inputs[start].1;
        let end = start + inputs[start..].iter().take_while(|(_, t)| *t == table).count();
        let group = &inputs[start..end];
        start = end;
        let schema = Schema::get(table.name())?;
        let mut ctx = TableCheck::new(table, &schema, playbook, as_of);
        for (source, _) in group {
            let stats = scan(source, input_format, table, playbook.timezone, &mut |row| {
                ctx.check_row(row, people.as_ref(), deals.as_ref(), &mut findings);
                Verdict::Keep
            });
            let stats = match stats {
                Ok(s) => s,
                Err(e) if e.downcast_ref::<crate::DataError>().is_some() => {
                    let data_error = e.downcast_ref::<crate::DataError>().expect("checked");
                    findings.error(Finding {
                        kind: data_error.code.unwrap_or("schema-error").into(),
                        file: source.to_string(),
                        row_number: Some(1),
                        line: Some(1),
                        field_name: None,
                        cell: None,
                        message: data_error.message.clone(),
                    });
                    continue;
                }
                Err(e) => return Err(e),
            };
            rows += stats.read;
            // The reader keeps the first problems only; every rejected record still counts.
            let kept = stats.problems.len() as u64;
            for p in stats.problems {
                findings.error(p.into());
            }
            findings.n_errors += stats.rejected.saturating_sub(kept);
        }
        let names: Vec<String> = group.iter().map(|(s, _)| s.to_string()).collect();
        ctx.finish(&names.join(", "), &mut findings);
        match table {
            TableKind::Roster => {
                people = Some(std::mem::take(&mut ctx.people));
                for (source, _) in group {
                    let (roster, _) =
                        crate::io::roster::read_roster(source, input_format, playbook)?;
                    check_tree(&roster, &source.to_string(), &mut findings);
                }
            }
            TableKind::Events => deals = Some(ctx.deal_hashes()),
            _ => {}
        }
    }
    Ok(Report {
        valid: findings.n_errors == 0 && !(strict && findings.n_warnings > 0),
        stats: Stats {
            tables: inputs.len(),
            rows,
            errors: findings.n_errors,
            warnings: findings.n_warnings,
        },
        errors: findings.errors,
        warnings: findings.warnings,
    })
}

pub fn print_report(r: &Report, max: usize, out: &mut dyn Write) -> Result<()> {
    for (label, list) in [("error", &r.errors), ("warning", &r.warnings)] {
        for f in list.iter().take(max) {
            let place = match (f.line, f.row_number) {
                (Some(l), Some(row)) if l != row => format!("{}:{l}: row {row}", f.file),
                (_, Some(row)) => format!("{}: row {row}", f.file),
                _ => f.file.clone(),
            };
            let field = f.field_name.as_ref().map_or(String::new(), |c| format!(", column {c}"));
            let cell = f.cell.as_ref().map_or(String::new(), |c| format!(" ({c:?})"));
            writeln!(out, "{label}: {place}{field}: {} [{}]{cell}", f.message, f.kind)?;
        }
        let total = if label == "error" { r.stats.errors } else { r.stats.warnings };
        if total as usize > max.min(list.len()) {
            writeln!(
                out,
                "… {} more {label}s (--max-errors shows more)",
                total as usize - max.min(list.len())
            )?;
        }
    }
    use crate::io::output::count;
    writeln!(
        out,
        "{}: {}, {}, {}, {}",
        if r.valid { "valid" } else { "invalid" },
        count(r.stats.tables as u64, "table", "tables"),
        count(r.stats.rows, "row", "rows"),
        count(r.stats.errors, "error", "errors"),
        count(r.stats.warnings, "warning", "warnings")
    )?;
    Ok(())
}

fn hash_of(parts: &[&[u8]]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    for p in parts {
        h.write(p);
        h.write_u8(0xff);
    }
    h.finish()
}

/// A unique column's value: (hash of the value, row, line, part).
type UniqueKey = (u64, u32, u32, u16);

/// Per-table state of the checks. Keys are kept as 64-bit hashes and deals as interned indexes,
/// so that memory stays near the size of the ids, not of the rows.
struct TableCheck<'a> {
    table: TableKind,
    fields: Vec<Option<&'a Field>>,
    playbook: &'a Playbook,
    as_of: Option<Micros>,
    /// (hash of the value, row, line, part) of unique columns, per column: sorted at the end,
    /// which is several times cheaper than a hash-set insert per row on tens of millions of rows.
    unique: Vec<Option<Vec<UniqueKey>>>,
    /// The files of a folder or glob source, in the order read: a finding names the file its
    /// row is in.
    parts: Vec<String>,
    /// Roster: the person ids (few), for foreign keys and messages.
    people: FxHashSet<String>,
    /// Events: the deals as the funnel reads them (one deal model, one outcome rule).
    deals: Deals,
    /// Events: (hash of deal, stage and time; hash of rep and amount; row; line; part), sorted
    /// at the end to find duplicates.
    seen: Vec<(u64, u32, u32, u32, u16)>,
}

impl<'a> TableCheck<'a> {
    fn new(
        table: TableKind,
        schema: &'a Schema,
        playbook: &'a Playbook,
        as_of: Option<Micros>,
    ) -> TableCheck<'a> {
        let fields: Vec<Option<&Field>> =
            table.columns().iter().map(|c| schema.field(c.name)).collect();
        let unique = fields
            .iter()
            .map(|f| {
                f.filter(|f| f.constraints.unique || schema.primary_key.contains(&f.name))
                    .map(|_| Vec::new())
            })
            .collect();
        TableCheck {
            table,
            fields,
            playbook,
            as_of,
            unique,
            parts: Vec::new(),
            people: FxHashSet::default(),
            deals: Deals::new(playbook.stages.len()),
            seen: Vec::new(),
        }
    }

    /// Checks one cell by its type; returns its text when the table's checks need it.
    fn check_cell(
        &mut self,
        row: &Row,
        c: usize,
        kind: Kind,
        out: &mut Findings,
    ) -> Option<Option<f64>> {
        let number = match kind {
            Kind::String => row.str(c).map(|v| v.map(|_| f64::NAN)),
            Kind::Datetime => row.ts(c).map(|v| v.map(|_| f64::NAN)),
            Kind::Decimal => {
                row.decimal(c).map(|v| v.map(|d| d.to_string().parse().unwrap_or(f64::NAN)))
            }
            Kind::Number => row.float(c),
            Kind::Integer => row.int(c).map(|v| v.map(|i| i as f64)),
            Kind::Boolean => row.bool(c).map(|v| v.map(|_| f64::NAN)),
        };
        let value = match number {
            Ok(v) => v,
            Err(p) => {
                out.error(row.locate(p).into());
                return None;
            }
        };
        let Some(field) = self.fields[c] else { return Some(value) };
        let name = &field.name;
        let constraint = |message: String, cell: Option<String>| Problem {
            column: Some(c),
            code: "constraint-error",
            message,
            value: cell,
        };
        match value {
            None if field.constraints.required => {
                out.error(row.locate(constraint(format!("{name} is required"), None)).into())
            }
            Some(v) if !v.is_nan() => {
                if let Some(min) = field.constraints.minimum.filter(|m| v < *m) {
                    out.error(
                        row.locate(constraint(
                            format!("below the minimum {min}"),
                            Some(v.to_string()),
                        ))
                        .into(),
                    );
                }
                if let Some(max) = field.constraints.maximum.filter(|m| v > *m) {
                    out.error(
                        row.locate(constraint(
                            format!("above the maximum {max}"),
                            Some(v.to_string()),
                        ))
                        .into(),
                    );
                }
            }
            _ => {}
        }
        if kind == Kind::String
            && let (Some(allowed), Ok(Some(text))) = (&field.constraints.allowed, row.str(c))
            && !allowed.iter().any(|a| a == text)
        {
            out.error(
                row.locate(constraint(
                    format!("not one of {}", allowed.join(", ")),
                    Some(text.to_string()),
                ))
                .into(),
            );
        }
        let part = self.part();
        if let Some(seen) = self.unique[c].as_mut()
            && let Ok(Some(text)) = row.str(c)
        {
            seen.push((hash_of(&[text.as_bytes()]), row.row as u32, row.line as u32, part));
        }
        Some(value)
    }

    /// The index of the file the current row is in, among the source's files.
    fn part(&self) -> u16 {
        self.parts.len().saturating_sub(1).min(u16::MAX as usize) as u16
    }

    fn check_row(
        &mut self,
        row: &Row,
        people: Option<&FxHashSet<String>>,
        deals: Option<&FxHashSet<u64>>,
        out: &mut Findings,
    ) {
        if self.parts.last() != Some(&row.ctx.file) {
            self.parts.push(row.ctx.file.clone());
        }
        let columns = self.table.columns();
        let mut ok = true;
        for (c, col) in columns.iter().enumerate() {
            ok &= self.check_cell(row, c, col.kind, out).is_some();
        }
        let text = |c: usize| row.str(c).ok().flatten();
        match self.table {
            TableKind::Roster => {
                if let Some(id) = text(0) {
                    self.people.insert(id.trim().to_string());
                }
            }
            TableKind::Events if ok => self.check_event(row, people, out),
            TableKind::Activities => {
                if let (Some(set), Some(rep)) = (people, text(1))
                    && !set.contains(rep)
                {
                    out.error(row.locate(fk(1, "rep_id", rep, "roster.person_id")).into());
                }
                if let (Some(set), Some(deal)) = (deals, text(2))
                    && !set.contains(&hash_of(&[deal.as_bytes()]))
                {
                    out.error(row.locate(fk(2, "deal_id", deal, "events.deal_id")).into());
                }
                if let (Some(a), Ok(Some(ts))) = (self.as_of, row.ts(act::TS))
                    && ts > a
                {
                    out.error(row.locate(after_as_of(act::TS, a, text(act::TS))).into());
                }
            }
            _ => {}
        }
    }

    fn check_event(&mut self, row: &Row, people: Option<&FxHashSet<String>>, out: &mut Findings) {
        let text = |c: usize| row.str(c).ok().flatten();
        let (Some(deal), Some(rep), Some(stage_text), Ok(Some(ts))) =
            (text(ev::DEAL_ID), text(ev::REP_ID), text(ev::STAGE), row.ts(ev::TS))
        else {
            return;
        };
        if let Some(set) = people
            && !set.contains(rep)
        {
            out.error(row.locate(fk(ev::REP_ID, "rep_id", rep, "roster.person_id")).into());
        }
        let Some(stage) = self.playbook.resolve_stage(stage_text) else {
            out.error(
                row.locate(crate::app::funnel::unknown_stage(stage_text, self.playbook)).into(),
            );
            return;
        };
        if let Some(a) = self.as_of
            && ts > a
        {
            out.error(row.locate(after_as_of(ev::TS, a, text(ev::TS))).into());
        }
        let amount = text(ev::AMOUNT).unwrap_or("");
        let key = hash_of(&[deal.as_bytes(), &[stage], &ts.to_le_bytes()]);
        // 32 bits tell an exact duplicate from a conflicting one among rows of the same key.
        let who = hash_of(&[rep.as_bytes(), amount.as_bytes()]) as u32;
        let part = self.part();
        self.seen.push((key, who, row.row as u32, row.line as u32, part));
        self.deals.add(deal.trim(), rep.trim(), stage, ts, None);
    }

    /// Checks that need a whole table: stage order and events after a terminal outcome.
    fn finish(&mut self, file: &str, out: &mut Findings) {
        let parts = std::mem::take(&mut self.parts);
        let part_file = |part: u16| parts.get(part as usize).map_or(file, String::as_str);
        // "row 3", or "row 3 of jan.csv" when the earlier row is in another file of the source.
        let earlier = |row: u32, part: u16, of: u16| {
            if part == of {
                format!("row {row}")
            } else {
                format!("row {row} of {}", part_file(part))
            }
        };
        let finding = |kind: &str,
                       (row, line, part): (u32, u32, u16),
                       field: Option<&str>,
                       message: String| Finding {
            kind: kind.into(),
            file: part_file(part).to_string(),
            row_number: Some(row as u64),
            line: (line > 0).then_some(line as u64),
            field_name: field.map(str::to_string),
            cell: None,
            message,
        };
        for (c, seen) in self.unique.iter_mut().enumerate() {
            let Some(seen) = seen.as_mut() else { continue };
            seen.sort_unstable_by_key(|e| (e.0, e.3, e.1));
            let name = self.table.columns()[c].name;
            for w in seen.windows(2) {
                if w[0].0 == w[1].0 {
                    let msg = format!(
                        "{name} is not unique (the same as {})",
                        earlier(w[0].1, w[0].3, w[1].3)
                    );
                    out.error(finding("unique-error", (w[1].1, w[1].2, w[1].3), Some(name), msg));
                }
            }
        }
        if self.table != TableKind::Events {
            return;
        }
        self.seen.sort_unstable_by_key(|e| (e.0, e.4, e.2));
        let mut first = 0;
        for i in 1..self.seen.len() {
            let (a, b) = (self.seen[first], self.seen[i]);
            let at = (b.2, b.3, b.4);
            if a.0 != b.0 {
                first = i;
            } else if a.1 == b.1 {
                let msg = format!("exact duplicate of {} (counted once)", earlier(a.2, a.4, b.4));
                out.warning(finding("duplicate-row", at, None, msg));
            } else {
                let msg = format!(
                    "same deal, stage and time as {} but another rep or amount",
                    earlier(a.2, a.4, b.4)
                );
                out.error(finding("conflicting-duplicate", at, None, msg));
            }
        }
        let stages = self.playbook.stages.len();
        let warn = |kind: &str, field: &str, deal: &str, message: String| Finding {
            kind: kind.into(),
            file: file.to_string(),
            row_number: None,
            line: None,
            field_name: Some(field.into()),
            cell: Some(deal.to_string()),
            message,
        };
        for d in 0..self.deals.len() {
            let deal = self.deals.ids.str(d as u32);
            let first: Vec<Micros> = (0..stages).map(|s| self.deals.entry(d, s).ts).collect();
            let terminal = self.deals.latest_loss(d).unwrap_or(Micros::MIN);
            let mut latest: Option<(usize, Micros)> = None;
            for (s, &ts) in first.iter().enumerate().filter(|(_, t)| **t != Micros::MAX) {
                if let Some((prev, prev_ts)) = latest
                    && ts < prev_ts
                {
                    let msg = format!(
                        "deal {deal} reached {} ({}) before {} ({})",
                        self.playbook.stages[s],
                        to_rfc3339(ts),
                        self.playbook.stages[prev],
                        to_rfc3339(prev_ts)
                    );
                    out.warning(warn("stage-order", "ts", deal, msg));
                }
                if latest.is_none_or(|(_, t)| ts >= t) {
                    latest = Some((s, ts));
                }
            }
            let last = first
                .iter()
                .enumerate()
                .filter(|(_, t)| **t != Micros::MAX)
                .max_by_key(|(_, t)| **t);
            if let (Some(won), Some(lost)) = (self.deals.latest_win(d), self.deals.latest_loss(d)) {
                let msg = format!(
                    "deal {deal} was both won (last {}) and lost (last {}): it counts as {}, its latest outcome",
                    to_rfc3339(won),
                    to_rfc3339(lost),
                    self.deals.outcome(d).as_str()
                );
                out.warning(warn("reclosed", "stage", deal, msg));
            }
            if let Some((s, &ts)) = last
                && terminal != Micros::MIN
                && ts > terminal
            {
                let msg = format!(
                    "deal {deal} reached {} after its terminal outcome (reopened?)",
                    self.playbook.stages[s]
                );
                out.warning(warn("after-terminal", "stage", deal, msg));
            }
        }
    }

    /// The hashed deal ids, for the activities' foreign key.
    fn deal_hashes(&self) -> FxHashSet<u64> {
        (0..self.deals.len() as u32).map(|d| hash_of(&[self.deals.ids.str(d).as_bytes()])).collect()
    }
}

/// A row dated after the export was taken.
fn after_as_of(column: usize, as_of: Micros, value: Option<&str>) -> Problem {
    Problem {
        column: Some(column),
        code: "constraint-error",
        message: format!("after --as-of {}", to_rfc3339(as_of)),
        value: value.map(str::to_string),
    }
}

fn fk(column: usize, name: &str, value: &str, target: &str) -> Problem {
    Problem {
        column: Some(column),
        code: "foreign-key",
        message: format!("{name} {value:?} is not in {target}"),
        value: Some(value.to_string()),
    }
}

fn check_tree(roster: &Roster, file: &str, out: &mut Findings) {
    for p in tree_problems(roster, file) {
        out.error(p.into());
    }
    let roots: Vec<&str> = roster
        .people
        .iter()
        .zip(&roster.parent)
        .filter(|(p, parent)| parent.is_none() && p.reports_to.is_none())
        .map(|(p, _)| p.person_id.as_str())
        .collect();
    if roots.len() > 1 {
        out.warning(Finding {
            kind: "several-roots".into(),
            file: file.to_string(),
            row_number: None,
            line: None,
            field_name: Some("reports_to".into()),
            cell: None,
            message: format!(
                "{} people report to no one: {}",
                roots.len(),
                roots.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            ),
        });
    }
}
/// Problems with the tree: unknown `reports_to` and cycles.
pub fn tree_problems(roster: &Roster, file: &str) -> Vec<RowProblem> {
    let mut out = Vec::new();
    for (i, p) in roster.people.iter().enumerate() {
        if let Some(r) = &p.reports_to
            && roster.parent[i].is_none()
        {
            out.push(RowProblem {
                file: file.to_string(),
                line: 0,
                row: roster.rows[i],
                column: Some("reports_to".into()),
                code: "foreign-key",
                message: format!("{} reports to {r}, who is not in the roster", p.person_id),
                value: Some(r.clone()),
            });
        }
    }
    for p in roster.tree_problems() {
        out.push(RowProblem {
            file: file.to_string(),
            line: 0,
            row: p.row,
            column: Some("reports_to".into()),
            code: p.code,
            message: p.message,
            value: None,
        });
    }
    out
}
