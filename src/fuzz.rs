//! Entry points for fuzzing: each drives one part of salescoach over arbitrary bytes and
//! panics only on a real bug (a panic in salescoach or a dependency, or a broken invariant).
//! The cargo-fuzz targets under `fuzz/` and the property tests in the normal suite call these.

use crate::app::ingest::{self, IngestJob, ValueOptions};
use crate::io::read::{Verdict, scan};
use crate::io::write::{Cell, TableWriter};
use crate::io::{Dest, Format, Source};
use crate::model::playbook::Playbook;
use crate::model::tables::{EVENT_COLUMNS, TableKind, ev};
use crate::model::time::{Period, PeriodKind};

fn temp_file(bytes: &[u8], name: &str) -> (tempfile::TempDir, Source) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("writing a temporary file");
    (dir, Source::File(path))
}

/// The canonical reader over a file of arbitrary bytes, as events, every accessor called.
pub fn record_reader(bytes: &[u8]) {
    let playbook = Playbook::default_playbook();
    let (_dir, source) = temp_file(bytes, "events.csv");
    let _ = scan(&source, None, TableKind::Events, chrono_tz::Asia::Tokyo, &mut |row| {
        let _ = row.str(ev::DEAL_ID);
        let _ = row.ts(ev::TS);
        let _ = row.decimal(ev::AMOUNT);
        let _ = row.bool(ev::INFERRED);
        Verdict::Keep
    });
    let _ = ingest_bytes(bytes, &playbook);
}

/// Ingest of an export of arbitrary bytes: every record is written or rejected.
fn ingest_bytes(bytes: &[u8], playbook: &Playbook) -> anyhow::Result<()> {
    let (dir, source) = temp_file(bytes, "export.csv");
    let job = IngestJob {
        table: TableKind::Events,
        mapping: ingest::load_mapping(None, TableKind::Events, None)?,
        salesforce: false,
        sources: vec![source],
        dest: Dest::File(dir.path().join("out.parquet")),
        format: Format::Parquet,
        rejects: Some(Dest::File(dir.path().join("rejects.csv"))),
        max_rejects: u64::MAX,
        snapshot_dates: Vec::new(),
        delimiter: None,
        encoding: None,
        values: ValueOptions {
            tz: chrono_tz::America::New_York,
            date_format: Vec::new(),
            currency: true,
            group_separator: Some(','),
            decimal_comma: false,
            without_offset: std::cell::Cell::new(false),
            max_field_bytes: 1 << 16,
            trimmed: std::cell::Cell::new(0),
            decoding: std::cell::Cell::new(false),
            lossy: false,
            replaced: std::cell::Cell::new(0),
            read_as_lost: Default::default(),
        },
        quiet: true,
    };
    let outcome = ingest::run(&job, playbook)?;
    assert!(
        outcome.written + outcome.rejected + outcome.dropped >= outcome.read,
        "every record is written (one or more rows) or rejected"
    );
    Ok(())
}

/// Timestamp and period parsing over arbitrary text.
pub fn timestamps(text: &str) {
    if let Some((t, _)) = crate::model::time::parse_iso(text) {
        let _ = crate::model::time::to_rfc3339(t);
        let local = crate::model::time::localize(t, chrono_tz::America::New_York);
        let _ = crate::model::cell::timestamp_in_range(local);
    }
    for format in ["%m/%d/%Y %H:%M", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S %z", "%s"] {
        if let Some((t, _)) = crate::model::time::parse_with_format(text, format) {
            let _ = crate::model::time::localize(t, chrono_tz::Asia::Tokyo);
        }
    }
    for kind in [PeriodKind::Month, PeriodKind::Week, PeriodKind::Quarter] {
        if let Ok(p) = Period::parse(kind, text) {
            assert_eq!(Period::parse(kind, &p.label()).ok(), Some(p), "a label parses back");
        }
    }
}

/// An accepted amount survives Parquet exactly: written, read back, the same decimal (at the
/// stored scale of 4 decimals; proptest found that a fifth decimal of 5 rounds away from zero).
pub fn amounts(text: &str) {
    let Ok(d) = crate::model::cell::amount(text) else { return };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("events.parquet");
    let mut w = TableWriter::create(&Dest::File(path.clone()), Format::Parquet, EVENT_COLUMNS)
        .expect("a writer");
    w.write_row(&[
        Cell::Str("D"),
        Cell::Str("R"),
        Cell::Str("lead"),
        Cell::Ts(0),
        Cell::Dec(d),
        Cell::Null,
        Cell::Str("USD"),
    ])
    .expect("an accepted amount is stored");
    w.finish().expect("written");
    let mut back = None;
    scan(&Source::File(path), None, TableKind::Events, chrono_tz::UTC, &mut |row| {
        back = Some(row.decimal(ev::AMOUNT));
        Verdict::Keep
    })
    .expect("read back");
    let back = back.expect("one row").expect("a stored amount reads back").expect("not null");
    // Stored with AMOUNT_SCALE decimals, rounded half away from zero (rust_decimal's rescale).
    let stored = d.round_dp_with_strategy(
        crate::io::write::AMOUNT_SCALE,
        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
    );
    assert_eq!(back.normalize(), stored.normalize(), "{text}");
}

/// The playbook loader over arbitrary text (rules, templates and all).
pub fn playbook(text: &str) {
    let _ = Playbook::parse(text, "fuzz.toml");
}

/// validate over a file of arbitrary bytes, as each table.
pub fn validate(bytes: &[u8]) {
    let playbook = Playbook::default_playbook();
    for (table, name) in [
        (TableKind::Events, "events.csv"),
        (TableKind::Roster, "roster.csv"),
        (TableKind::Activities, "activities.ndjson"),
    ] {
        let (_dir, source) = temp_file(bytes, name);
        if let Ok(report) = crate::app::validation::check(
            vec![(source, table)],
            None,
            &playbook,
            Default::default(),
            false,
        ) {
            assert!(report.stats.errors as usize >= report.errors.len(), "errors are counted");
        }
    }
}
