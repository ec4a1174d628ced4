//! The checks of one table: each cell by its schema, keys, references to the tables checked
//! before, and, for events, the deals as the funnel reads them.

use super::findings::{Finding, Findings};
use crate::io::read::{Problem, Row};
use crate::metrics::deals::Deals;
use crate::model::playbook::Playbook;
use crate::model::schema::{Field, Schema};
use crate::model::tables::{Kind, TableKind, act, ev};
use crate::model::time::{Micros, to_rfc3339};
use rustc_hash::FxHashSet;

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

/// The moments a validation is made at.
#[derive(Debug, Clone, Copy, Default)]
pub struct Moment {
    /// Events after it are errors (`validate --as-of`).
    pub cut: Option<Micros>,
    /// Quiet deals are judged at it (the report's as-of); else at `cut`, else the latest event.
    pub judged: Option<Micros>,
}

/// Per-table state of the checks. Keys are kept as 64-bit hashes and deals as interned indexes,
/// so that memory stays near the size of the ids, not of the rows.
pub(super) struct TableCheck<'a> {
    table: TableKind,
    fields: Vec<Option<&'a Field>>,
    playbook: &'a Playbook,
    as_of: Option<Micros>,
    /// Quiet deals are judged at this moment, else at `as_of`, else the latest event.
    judged: Option<Micros>,
    dates: crate::model::dates::DatePolicy,
    /// (hash of the value, row, line, part) of unique columns, per column: sorted at the end,
    /// which is several times cheaper than a hash-set insert per row on tens of millions of rows.
    unique: Vec<Option<Vec<UniqueKey>>>,
    /// The files of a folder or glob source, in the order read: a finding names the file its
    /// row is in.
    parts: Vec<String>,
    /// Roster: the person ids (few), for foreign keys and messages.
    pub(super) people: FxHashSet<String>,
    /// Events: the deals as the funnel reads them (one deal model, one outcome rule).
    deals: Deals,
    /// Events: (hash of deal, stage and time; hash of rep and amount; row; line; part), sorted
    /// at the end to find duplicates.
    seen: Vec<(u64, u32, u32, u32, u16)>,
}

impl<'a> TableCheck<'a> {
    pub(super) fn new(
        table: TableKind,
        schema: &'a Schema,
        playbook: &'a Playbook,
        moment: Moment,
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
            as_of: moment.cut,
            judged: moment.judged.or(moment.cut),
            dates: playbook.date_policy(),
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
        if kind == Kind::String
            && field.name == "currency"
            && let Ok(Some(text)) = row.str(c)
            && let Err(e) = crate::model::cell::currency(text)
        {
            out.error(row.locate(constraint(e.message, Some(text.to_string()))).into());
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

    pub(super) fn check_row(
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
                if let Ok(Some(ts)) = row.ts(act::TS) {
                    self.check_date(row, act::TS, ts, out);
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
        self.check_date(row, ev::TS, ts, out);
        let amount = text(ev::AMOUNT).unwrap_or("");
        let key = hash_of(&[deal.as_bytes(), &[stage], &ts.to_le_bytes()]);
        // 32 bits tell an exact duplicate from a conflicting one among rows of the same key.
        let who = hash_of(&[rep.as_bytes(), amount.as_bytes()]) as u32;
        let part = self.part();
        self.seen.push((key, who, row.row as u32, row.line as u32, part));
        self.deals.add(deal.trim(), rep.trim(), stage, ts, None);
    }

    /// A timestamp after --as-of, after the run's clock or in an implausible year.
    fn check_date(&self, row: &Row, column: usize, ts: Micros, out: &mut Findings) {
        let text = row.str(column).ok().flatten();
        if let Err((code, message)) = self.dates.check(ts) {
            let value = Some(text.map_or_else(|| to_rfc3339(ts), str::to_string));
            out.error(row.locate(Problem { column: Some(column), code, message, value }).into());
        } else if let Some(a) = self.as_of
            && ts > a
        {
            out.error(row.locate(after_as_of(column, a, text)).into());
        }
    }

    /// Checks that need a whole table: stage order and events after a terminal outcome.
    pub(super) fn finish(&mut self, file: &str, out: &mut Findings) {
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
        // The moment quiet deals are judged at: --as-of, else the latest event.
        let as_of = self.judged.unwrap_or(self.deals.max_ts);
        let stale = self.playbook.stale_after_days as i64 * crate::model::time::MICROS_PER_DAY;
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
            let first_ts = first.iter().copied().filter(|t| *t != Micros::MAX).min();
            if let Some(created) = first_ts
                && terminal != Micros::MIN
                && terminal < created
                && self.deals.outcome(d) == crate::metrics::deals::Outcome::Lost
            {
                let msg = format!(
                    "deal {deal} was lost ({}) before its first stage date ({}): a backfilled close date? It counts as lost at its last stage date",
                    to_rfc3339(terminal),
                    to_rfc3339(created)
                );
                out.warning(warn("closed-before-created", "ts", deal, msg));
            } else if let Some((s, &ts)) = last
                && terminal != Micros::MIN
                && ts > terminal
            {
                let msg = format!(
                    "deal {deal} reached {} after its terminal outcome (reopened?)",
                    self.playbook.stages[s]
                );
                out.warning(warn("after-terminal", "stage", deal, msg));
            }
            if let Some((_, &ts)) = last
                && self.deals.outcome(d) == crate::metrics::deals::Outcome::Open
                && ts.saturating_add(stale) < as_of
            {
                let msg = format!(
                    "deal {deal} is open with no event since {} ({} days before the as-of): it counts as lost (funnel.stale_after_days = {})",
                    to_rfc3339(ts),
                    (as_of - ts) / crate::model::time::MICROS_PER_DAY,
                    self.playbook.stale_after_days
                );
                out.warning(warn("stale", "ts", deal, msg));
            }
        }
    }

    /// The hashed deal ids, for the activities' foreign key.
    pub(super) fn deal_hashes(&self) -> FxHashSet<u64> {
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
