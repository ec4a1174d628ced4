//! Several snapshots of one portal read as a history: a deal's stages are dated by the snapshot
//! that first shows them, outcomes by the first snapshot that shows them, and a deal that
//! disappears is removed rather than left open.
//!
//! The dating rule: a stage with its own date column keeps that date. A stage first shown by
//! the earliest snapshot takes the nearest known date, as a lone snapshot does. A stage first
//! shown by a later snapshot is entered halfway between the snapshot before (or the deal's
//! previous stage, if later) and the one that shows it; an outcome without a close date at the
//! first snapshot that shows it. Both are marked `inferred`, so their timing feeds no
//! time-to-step.

use crate::io::write::Cell;
use crate::model::playbook::{Playbook, StageCode};
use crate::model::tables::ev;
use crate::model::time::Micros;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A cell kept past its record.
#[derive(Debug, Clone)]
enum Kept {
    Null,
    Str(Box<str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    Ts(Micros),
    Dec(Decimal),
}

impl Kept {
    fn of(cell: &Cell) -> Kept {
        match *cell {
            Cell::Null => Kept::Null,
            Cell::Str(s) => Kept::Str(s.into()),
            Cell::Int(v) => Kept::Int(v),
            Cell::Float(v) => Kept::Float(v),
            Cell::Bool(v) => Kept::Bool(v),
            Cell::Ts(v) => Kept::Ts(v),
            Cell::Dec(v) => Kept::Dec(v),
        }
    }

    fn cell(&self) -> Cell<'_> {
        match self {
            Kept::Null => Cell::Null,
            Kept::Str(s) => Cell::Str(s),
            Kept::Int(v) => Cell::Int(*v),
            Kept::Float(v) => Cell::Float(*v),
            Kept::Bool(v) => Cell::Bool(*v),
            Kept::Ts(v) => Cell::Ts(*v),
            Kept::Dec(v) => Cell::Dec(*v),
        }
    }
}

/// One stage of a deal as the snapshots show it.
#[derive(Debug)]
struct Sighting {
    /// The earliest snapshot showing the stage.
    first: Micros,
    /// The stage's own date, from its date column (the earliest snapshot's that has one).
    own: Option<(Micros, Micros)>,
    /// The date a lone snapshot gives it (the nearest known one).
    nearest: Micros,
    /// The event row of the earliest snapshot showing it (the owner and amount then).
    row: Vec<Kept>,
}

#[derive(Debug, Default)]
struct DealSeen {
    /// The snapshots showing the deal.
    seen: BTreeSet<Micros>,
    /// Export records read for it, over all snapshots.
    records: u64,
    stages: BTreeMap<StageCode, Sighting>,
}

/// What reading the snapshots as a history did, for the summary.
#[derive(Debug, Default, PartialEq)]
pub(super) struct HistoryRead {
    /// The snapshots' dates, earliest first.
    pub(super) snapshots: Vec<Micros>,
    pub(super) deals: usize,
    /// Stages first shown by a later snapshot, dated inside the interval before it.
    pub(super) dated_between: u64,
    /// Outcomes without a close date, dated at the first snapshot that shows them.
    pub(super) outcomes_at_snapshot: u64,
    /// Open deals absent from the next snapshot (deleted or merged in the CRM), with their
    /// records: dropped.
    pub(super) removed: Vec<String>,
    pub(super) removed_records: u64,
    /// Deals whose later snapshot shows another outcome than the first: the first is kept.
    pub(super) outcome_changed: u64,
    /// Consecutive snapshots sharing under half their deals: no removal is read across them.
    pub(super) unrelated: Vec<(Micros, Micros)>,
}

impl HistoryRead {
    /// What the summary says about the history (nothing for a lone snapshot).
    pub(super) fn notes(&self, tz: chrono_tz::Tz) -> Vec<String> {
        if self.snapshots.len() < 2 {
            return Vec::new();
        }
        let day = |t: Micros| {
            chrono::DateTime::from_timestamp_micros(t)
                .map(|d| d.with_timezone(&tz).date_naive().to_string())
                .unwrap_or_default()
        };
        let days: Vec<String> = self.snapshots.iter().map(|&t| day(t)).collect();
        let mut dated = Vec::new();
        if self.dated_between > 0 {
            dated.push(format!(
                "{} first shown by a later snapshot dated inside the interval before it (halfway from the snapshot before, or from the deal's previous stage when later)",
                counted(self.dated_between, "stage", "stages")
            ));
        }
        if self.outcomes_at_snapshot > 0 {
            dated.push(format!(
                "{} without a close date dated at the first snapshot that shows it",
                counted(self.outcomes_at_snapshot, "outcome", "outcomes")
            ));
        }
        let dated = if dated.is_empty() {
            String::new()
        } else {
            format!(": {} (marked inferred)", dated.join("; "))
        };
        let mut out = vec![format!(
            "snapshots: {} read as one history ({}), {} deals{dated}",
            self.snapshots.len(),
            days.join(", "),
            self.deals
        )];
        if !self.removed.is_empty() {
            let mut ids: Vec<&str> = self.removed.iter().map(String::as_str).collect();
            ids.sort_unstable();
            let shown = &ids[..ids.len().min(10)];
            let more = if self.removed.len() > 10 { ", …" } else { "" };
            out.push(format!(
                "snapshots: {} missing from the next snapshot taken as removed in the CRM (deleted or merged): dropped, not counted: {}{more}",
                counted(self.removed.len() as u64, "open deal", "open deals"),
                shown.join(", ")
            ));
        }
        if self.outcome_changed > 0 {
            out.push(format!(
                "snapshots: {} another outcome in a later snapshot (reopened?): the outcome shown first is kept",
                counted(self.outcome_changed, "deal shows", "deals show")
            ));
        }
        for (a, b) in &self.unrelated {
            out.push(format!(
                "warning: snapshots {} and {} share under half their deals: read as exports of different deals, so no deal missing from {} is taken as removed",
                day(*a),
                day(*b),
                day(*b)
            ));
        }
        out
    }
}

fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Snapshots of one portal, gathered deal by deal until every snapshot is read.
pub(super) struct SnapshotHistory {
    /// More than one snapshot file: each needs its day.
    pub(super) several: bool,
    stage_names: Vec<String>,
    closing: Vec<bool>,
    snapshots: BTreeSet<Micros>,
    index: HashMap<Box<str>, usize>,
    deals: Vec<(Box<str>, DealSeen)>,
}

impl SnapshotHistory {
    pub(super) fn new(playbook: &Playbook, several: bool) -> SnapshotHistory {
        let codes = 0..(playbook.stages.len() + playbook.terminal.len()) as StageCode;
        SnapshotHistory {
            several,
            stage_names: codes.clone().map(|c| playbook.stage_name(c).to_string()).collect(),
            closing: codes.map(|c| playbook.is_outcome(c)).collect(),
            snapshots: BTreeSet::new(),
            index: HashMap::new(),
            deals: Vec::new(),
        }
    }

    /// One record of a snapshot taken at `snapshot`: the events it implies.
    pub(super) fn observe(&mut self, rows: &[Vec<Cell>], snapshot: Micros) {
        self.snapshots.insert(snapshot);
        let Some(Cell::Str(id)) = rows.first().map(|r| r[ev::DEAL_ID]) else { return };
        let at = match self.index.get(id) {
            Some(&i) => i,
            None => {
                self.index.insert(id.into(), self.deals.len());
                self.deals.push((id.into(), DealSeen::default()));
                self.deals.len() - 1
            }
        };
        let deal = &mut self.deals[at].1;
        deal.seen.insert(snapshot);
        deal.records += 1;
        for row in rows {
            let Cell::Str(name) = row[ev::STAGE] else { continue };
            let Some(code) = self.stage_names.iter().position(|n| n == name) else { continue };
            let Cell::Ts(ts) = row[ev::TS] else { continue };
            let own = matches!(row[ev::INFERRED], Cell::Bool(false)).then_some((snapshot, ts));
            let kept = || row.iter().map(Kept::of).collect();
            match deal.stages.get_mut(&(code as StageCode)) {
                None => {
                    let s = Sighting { first: snapshot, own, nearest: ts, row: kept() };
                    deal.stages.insert(code as StageCode, s);
                }
                Some(s) => {
                    if snapshot < s.first {
                        (s.first, s.nearest, s.row) = (snapshot, ts, kept());
                    }
                    if let Some(o) = own
                        && s.own.is_none_or(|(from, _)| o.0 < from)
                    {
                        s.own = Some(o);
                    }
                }
            }
        }
    }

    /// Every deal's events, dated by the rule above, in the order the deals were first read.
    pub(super) fn finish(
        mut self,
        emit: &mut dyn FnMut(&[Cell]) -> anyhow::Result<()>,
    ) -> anyhow::Result<HistoryRead> {
        let snapshots: Vec<Micros> = self.snapshots.iter().copied().collect();
        let mut read = HistoryRead { deals: self.deals.len(), ..Default::default() };
        let related = self.related(&snapshots, &mut read);
        for (id, deal) in std::mem::take(&mut self.deals) {
            let ended = deal.stages.keys().any(|&c| self.closing[c as usize]);
            let last = *deal.seen.last().expect("a deal is seen once at least");
            let at = snapshots.partition_point(|&s| s < last);
            if !ended && at + 1 < snapshots.len() && related[at] {
                read.removed.push(id.to_string());
                read.removed_records += deal.records;
                continue;
            }
            for row in self.dated(&deal, &snapshots, &mut read) {
                let cells: Vec<Cell> = row.iter().map(Kept::cell).collect();
                emit(&cells)?;
            }
        }
        read.snapshots = snapshots;
        Ok(read)
    }

    /// Whether each snapshot and the next are of one portal: the next still shows at least half
    /// of its deals (exports of different deals, such as monthly files, share none).
    fn related(&self, snapshots: &[Micros], read: &mut HistoryRead) -> Vec<bool> {
        let mut shown = vec![0u64; snapshots.len()];
        let mut again = vec![0u64; snapshots.len()];
        for (_, deal) in &self.deals {
            for (i, s) in snapshots.iter().enumerate() {
                if deal.seen.contains(s) {
                    shown[i] += 1;
                    if snapshots.get(i + 1).is_some_and(|n| deal.seen.contains(n)) {
                        again[i] += 1;
                    }
                }
            }
        }
        (0..snapshots.len())
            .map(|i| {
                let ok = again[i] * 2 >= shown[i];
                if !ok && i + 1 < snapshots.len() {
                    read.unrelated.push((snapshots[i], snapshots[i + 1]));
                }
                ok
            })
            .collect()
    }

    /// A deal's event rows with their dates and `inferred` flags; a deal shown with two outcomes
    /// keeps the one shown first.
    fn dated(
        &self,
        deal: &DealSeen,
        snapshots: &[Micros],
        read: &mut HistoryRead,
    ) -> Vec<Vec<Kept>> {
        let first_outcome = deal
            .stages
            .iter()
            .filter(|(c, _)| self.closing[**c as usize])
            .min_by_key(|(c, s)| (s.first, **c))
            .map(|(c, _)| *c);
        let outcomes = deal.stages.keys().filter(|&&c| self.closing[c as usize]).count();
        if outcomes > 1 {
            read.outcome_changed += 1;
        }
        let mut rows = Vec::new();
        let mut previous = Micros::MIN;
        let stages: Vec<(&StageCode, &Sighting)> = deal.stages.iter().collect();
        for (i, &(&code, s)) in stages.iter().enumerate() {
            let closing = self.closing[code as usize];
            if closing && Some(code) != first_outcome {
                continue;
            }
            let (ts, inferred) = match s.own {
                Some((_, own)) => (own, false),
                None if s.first == snapshots[0] => (s.nearest, true),
                None => {
                    let k = snapshots.partition_point(|&t| t < s.first);
                    let lower = snapshots[k - 1].max(previous);
                    // Not after a later stage's own date.
                    let later_own = stages[i + 1..].iter().filter_map(|(_, l)| l.own).map(|o| o.1);
                    let upper = later_own.fold(s.first, Micros::min).max(lower);
                    if closing {
                        read.outcomes_at_snapshot += 1;
                        (upper, true)
                    } else {
                        read.dated_between += 1;
                        (lower + (upper - lower) / 2, true)
                    }
                }
            };
            previous = previous.max(ts);
            let mut row = s.row.clone();
            row[ev::TS] = Kept::Ts(ts);
            row[ev::INFERRED] = Kept::Bool(inferred);
            rows.push(row);
        }
        rows
    }
}

/// A snapshot's day or instant as given (a column, `--snapshot-date`): a bare date is the end
/// of that day in the playbook's zone, as an export "as of" a day holds that day.
pub(super) fn snapshot_instant(v: &str, tz: chrono_tz::Tz) -> Option<Micros> {
    crate::model::time::parse_cli_as_of(v, tz).ok()
}

/// The day a snapshot was taken, from its file's name: `deals-2026-10-01.csv`,
/// `deals_20261001.csv`, `2026.10.01 deals.csv`.
pub(super) fn date_in_name(name: &str) -> Option<String> {
    let b = name.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let valid = |y: &[u8], m: &[u8], d: &[u8]| {
        let text = format!(
            "{}-{}-{}",
            std::str::from_utf8(y).ok()?,
            std::str::from_utf8(m).ok()?,
            std::str::from_utf8(d).ok()?
        );
        crate::model::time::parse_iso(&text).map(|_| text)
    };
    for start in 0..b.len() {
        let boundary = start == 0 || !b[start - 1].is_ascii_digit();
        if !boundary {
            continue;
        }
        let rest = &b[start..];
        if rest.len() >= 10
            && digits(&rest[..4])
            && matches!(rest[4], b'-' | b'_' | b'.')
            && rest[7] == rest[4]
            && digits(&rest[5..7])
            && digits(&rest[8..10])
            && rest.get(10).is_none_or(|c| !c.is_ascii_digit())
            && let Some(day) = valid(&rest[..4], &rest[5..7], &rest[8..10])
        {
            return Some(day);
        }
        if rest.len() >= 8
            && digits(&rest[..8])
            && rest.get(8).is_none_or(|c| !c.is_ascii_digit())
            && let Some(day) = valid(&rest[..4], &rest[4..6], &rest[6..8])
        {
            return Some(day);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_read_from_common_file_names() {
        assert_eq!(date_in_name("deals-2026-10-01.csv").as_deref(), Some("2026-10-01"));
        assert_eq!(date_in_name("hubspot_20261101.csv").as_deref(), Some("2026-11-01"));
        assert_eq!(date_in_name("2026.09.01 all deals.csv").as_deref(), Some("2026-09-01"));
        assert_eq!(date_in_name("deals-2026-10.csv"), None);
        assert_eq!(date_in_name("deals-2026-13-01.csv"), None);
        assert_eq!(date_in_name("export123456789.csv"), None);
    }
}
