//! Where converted records go: the output, the rejects report and the counts.

use super::cells::{DELETED, Rejection};
use super::layouts::Rows;
use crate::io::read::preview;
use crate::io::write::{Cell, TableWriter};
use anyhow::Result;

pub(super) struct IngestCounts {
    pub(super) read: u64,
    pub(super) written: u64,
    pub(super) rejected: u64,
    /// Records of deals the CRM marks deleted: left out by rule, not as errors.
    pub(super) dropped: u64,
}

/// A roster row held back, with where it was read.
pub(super) struct HeldPerson {
    pub(super) at: String,
    pub(super) cells: Vec<Option<String>>,
}

/// Where converted records go: the output, the rejects report and the counts.
pub(super) struct Sink<'a> {
    pub(super) out: &'a mut TableWriter,
    pub(super) rejects: &'a mut Option<TableWriter>,
    pub(super) counts: &'a mut IngestCounts,
    pub(super) first_problems: &'a mut Vec<String>,
    /// Progress on a terminal's standard error: a bar over the input's bytes when their total
    /// is known, else a spinner with the record count.
    pub(super) progress: Option<indicatif::ProgressBar>,
    /// Bytes of the inputs already read through, for the bar.
    pub(super) bytes_done: u64,
    /// A roster's rows, held until every person is known: `reports_to` may name a manager by
    /// name rather than id.
    pub(super) held: Option<Vec<HeldPerson>>,
    /// Events: each amount's currency counted, and converted when there are rates.
    pub(super) money: Option<crate::model::money::Converter>,
    /// Several snapshots of one portal: records gathered until every snapshot is read.
    pub(super) history: Option<super::history::SnapshotHistory>,
    /// The snapshot the record being settled belongs to.
    pub(super) snapshot_at: crate::model::time::Micros,
    /// Rows written to the output.
    pub(super) rows_out: u64,
}

impl Sink<'_> {
    /// Writes a record's rows, or its rejection, and counts it once either way.
    pub(super) fn settle(
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
                match self.history.as_mut() {
                    Some(history) => history.observe(rows.each(), self.snapshot_at),
                    None => {
                        for row in rows.each() {
                            self.emit(row, &|| format!("{file}:{line}"))?;
                        }
                    }
                }
                self.counts.written += 1;
            }
            Err((_, code, _)) if *code == DELETED => self.counts.dropped += 1,
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

    /// Writes one output row (a roster's is held until every person is known).
    pub(super) fn emit(&mut self, row: &[Cell], at: &dyn Fn() -> String) -> Result<()> {
        match self.held.as_mut() {
            Some(held) => held.push(HeldPerson {
                at: at(),
                cells: row
                    .iter()
                    .map(|c| match c {
                        Cell::Str(v) => Some(v.to_string()),
                        _ => None,
                    })
                    .collect(),
            }),
            None => match self.money.as_mut() {
                Some(money) => write_converted(self.out, row, money)?,
                None => self.out.write_cells(row.iter().copied())?,
            },
        }
        self.rows_out += 1;
        Ok(())
    }
}

/// An event row with its amount converted (or only counted) by its currency.
fn write_converted(
    out: &mut TableWriter,
    row: &[Cell],
    money: &mut crate::model::money::Converter,
) -> Result<()> {
    use crate::model::money::Currency;
    use crate::model::tables::ev;
    let Some(Cell::Dec(amount)) = row.get(ev::AMOUNT).copied() else {
        return out.write_cells(row.iter().copied());
    };
    let currency = match row.get(ev::CURRENCY) {
        Some(Cell::Str(c)) => Currency::parse(c),
        _ => None,
    };
    let ts = match row.get(ev::TS) {
        Some(Cell::Ts(t)) => *t,
        _ => i64::MAX,
    };
    let (amount, currency) = money.read(amount, currency, ts);
    let code = currency.map(|c| c.to_string());
    let mut cells: Vec<Cell> = row.to_vec();
    cells[ev::AMOUNT] = amount.map_or(Cell::Null, Cell::Dec);
    cells[ev::CURRENCY] = code.as_deref().map_or(Cell::Null, Cell::Str);
    out.write_cells(cells)
}
