//! A checked ingest and what it did.

use super::cells::ValueOptions;
use super::mapping::Mapping;
use crate::io::{Dest, Format, Source};
use crate::model::tables::TableKind;

/// A checked ingest: everything resolved from the command line before any record is read.
pub struct IngestJob {
    pub table: TableKind,
    pub mapping: Mapping,
    /// The Salesforce Data Export preset, which reads several objects itself.
    pub salesforce: bool,
    pub sources: Vec<Source>,
    pub dest: Dest,
    pub format: Format,
    pub rejects: Option<Dest>,
    pub max_rejects: u64,
    /// The day each snapshot file was taken (`--snapshot-date`), one per file in reading order.
    pub snapshot_dates: Vec<crate::model::time::Micros>,
    pub delimiter: Option<String>,
    pub encoding: Option<&'static encoding_rs::Encoding>,
    pub values: ValueOptions,
    pub quiet: bool,
}

/// What an ingest did: the counts add up (read = written + rejected + dropped, or held back when over
/// --max-rejects).
pub struct IngestOutcome {
    pub read: u64,
    pub written: u64,
    pub rejected: u64,
    /// Records of deals the CRM deleted, left out by rule.
    pub dropped: u64,
    /// Over --max-rejects: nothing was written.
    pub over: bool,
    pub first_problems: Vec<String>,
    /// Several snapshots read as a history: what the summary says of it.
    pub history_notes: Vec<String>,
    /// Open deals missing from a later snapshot, and their records among the dropped.
    pub removed: u64,
    pub removed_records: u64,
    /// Rows written, when records expand into several (snapshots, stage dates).
    pub events_written: Option<u64>,
    /// Events: the amounts' currencies, and what was converted.
    pub money: Option<crate::model::money::MoneyRead>,
}
