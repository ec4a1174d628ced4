//! Where converted records go: the output, the rejects report and the counts.

use super::cells::Rejection;
use super::layouts::Rows;
use crate::io::read::preview;
use crate::io::write::{Cell, TableWriter};
use anyhow::Result;

pub(super) struct IngestCounts {
    pub(super) read: u64,
    pub(super) written: u64,
    pub(super) rejected: u64,
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
    pub(super) held: Option<Vec<Vec<Option<String>>>>,
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
                for row in rows.each() {
                    match self.held.as_mut() {
                        Some(held) => held.push(
                            row.iter()
                                .map(|c| match c {
                                    Cell::Str(v) => Some(v.to_string()),
                                    _ => None,
                                })
                                .collect(),
                        ),
                        None => self.out.write_cells(row.iter().copied())?,
                    }
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
