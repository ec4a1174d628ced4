//! Regression tests for what fuzzing found (issue #19): each names what it guards. Nothing
//! panics (exit 101), hangs or is corrupted silently.

use crate::support::{Session, fixture_str, ingest_counts};
use std::sync::Arc;

fn regression(f: &str) -> String {
    fixture_str(&format!("regressions/{f}"))
}

fn no_panic(r: &crate::support::Output) {
    assert!(r.code == 0 || r.code == 1 || r.code == 2, "exit {}: {}", r.code, r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

#[test]
fn a_short_row_in_a_salesforce_export_is_a_reject_not_a_panic() {
    let s = Session::new();
    let r = s.run(&[
        "ingest",
        &regression("sf_short_row"),
        "--mapping",
        "salesforce",
        "--table",
        "events",
        "--max-rejects",
        "5",
    ]);
    no_panic(&r);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(ingest_counts(&r.stderr), Some((2, 1, 1, 0)), "{}", r.stderr);
    assert!(r.stderr.contains("missing-cell"), "{}", r.stderr);
}

#[test]
fn timestamps_near_the_calendars_ends_are_rejected_not_overflowed() {
    let s = Session::new();
    let r = s.run(&[
        "ingest",
        &regression("calendar_edges.events.csv"),
        "--table",
        "events",
        "--date-format",
        "%m/%d/%Y %H:%M",
        "--tz",
        "America/New_York",
        "--max-rejects",
        "5",
    ]);
    no_panic(&r);
    // 9999-12-31 23:59 in New York is year 10000 in UTC; 0001-01-01 00:30 is still year 1.
    assert_eq!(ingest_counts(&r.stderr), Some((3, 2, 1, 0)), "{}", r.stderr);
    assert!(
        r.stderr.contains("\"12/31/9999 23:59\" is outside the years 1 to 9999"),
        "{}",
        r.stderr
    );
    let tokyo = s.run(&[
        "ingest",
        &regression("calendar_edges.events.csv"),
        "--table",
        "events",
        "--date-format",
        "%m/%d/%Y %H:%M",
        "--tz",
        "Asia/Tokyo",
        "--max-rejects",
        "5",
    ]);
    no_panic(&tokyo);
    assert_eq!(
        ingest_counts(&tokyo.stderr),
        Some((3, 2, 1, 0)),
        "year 0 is rejected: {}",
        tokyo.stderr
    );
    for line in r.stdout.lines().chain(tokyo.stdout.lines()).skip(1) {
        assert!(
            !line.contains(",10000-") && !line.contains(",-"),
            "no year outside 1-9999: {line}"
        );
    }
}

#[test]
fn amounts_beyond_what_can_be_stored_are_rejected_with_their_row() {
    let s = Session::new();
    for out in ["a.csv", "a.parquet"] {
        let r = s.run(&[
            "ingest",
            &regression("huge_amounts.events.csv"),
            "--table",
            "events",
            "-o",
            out,
            "--max-rejects",
            "5",
        ]);
        no_panic(&r);
        assert_eq!(ingest_counts(&r.stderr), Some((3, 1, 2, 0)), "{}", r.stderr);
        assert!(r.stderr.contains("above the largest amount"), "{}", r.stderr);
    }
    // The largest amount round-trips exactly through Parquet.
    let back = s.run(&["funnel", "--events", "a.parquet", "-f", "csv"]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    let v = s.run(&["validate", "a.parquet"]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
}

/// A Parquet file (written by another engine, or by an older salescoach) with an amount far
/// beyond the decimal range: reading it used to panic in rust_decimal.
#[test]
fn a_parquet_amount_beyond_the_decimal_range_is_a_data_error() {
    use arrow::array::{Decimal128Array, RecordBatch, StringArray, TimestampMicrosecondArray};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    let s = Session::new();
    let schema = Arc::new(Schema::new(vec![
        Field::new("deal_id", DataType::Utf8, false),
        Field::new("rep_id", DataType::Utf8, false),
        Field::new("stage", DataType::Utf8, false),
        Field::new("ts", DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), false),
        Field::new("amount", DataType::Decimal128(38, 4), true),
    ]));
    let amount = Decimal128Array::from(vec![Some(10i128.pow(27) * 10_000), Some(12_5000)])
        .with_precision_and_scale(38, 4)
        .unwrap();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec!["D1", "D2"])),
            Arc::new(StringArray::from(vec!["R1", "R1"])),
            Arc::new(StringArray::from(vec!["lead", "lead"])),
            Arc::new(
                TimestampMicrosecondArray::from(vec![1_767_600_000_000_000, 1_767_600_000_000_000])
                    .with_timezone("UTC"),
            ),
            Arc::new(amount),
        ],
    )
    .unwrap();
    let path = s.path("huge.events.parquet");
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None)
            .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let v = s.run(&["validate", path.to_str().unwrap()]);
    no_panic(&v);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(v.stdout.contains("above the largest amount"), "{}", v.stdout);
    let f = s.run(&["funnel", "--events", path.to_str().unwrap(), "-f", "csv"]);
    no_panic(&f);
    assert!(f.stderr.contains("rejected 1"), "{}", f.stderr);
}

#[test]
fn a_month_label_with_a_huge_year_is_refused() {
    let s = Session::new();
    let r = s.run(&[
        "diagnose",
        "--events",
        &fixture_str("../../sample-data/events.csv"),
        "--period",
        "111111111111111112-02",
    ]);
    no_panic(&r);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn malformed_bytes_under_a_forced_encoding_are_rejected_not_merged() {
    let s = Session::new();
    let file = regression("malformed_utf8.events.csv");
    let r =
        s.run(&["ingest", &file, "--table", "events", "--encoding", "utf-8", "--max-rejects", "5"]);
    no_panic(&r);
    assert_eq!(ingest_counts(&r.stderr), Some((3, 1, 2, 0)), "{}", r.stderr);
    assert!(r.stderr.contains("encoding-error"), "{}", r.stderr);
    let lossy = s.run(&["ingest", &file, "--table", "events", "--encoding", "utf-8", "--lossy"]);
    assert_eq!(lossy.code, 0, "{}", lossy.stderr);
    assert_eq!(ingest_counts(&lossy.stderr), Some((3, 3, 0, 0)), "{}", lossy.stderr);
    assert!(lossy.stderr.contains("2 records kept with malformed bytes"), "{}", lossy.stderr);
}

#[test]
fn rejects_output_and_inputs_are_distinct_files() {
    let s = Session::new();
    let input = s.write("export.csv", "deal_id,rep_id,stage,ts\nD1,R1,lead,2026-01-05T10:00:00Z\n");
    let before = std::fs::read(&input).unwrap();
    let r = s.run(&["ingest", &input, "--table", "events", "--rejects", &input]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(std::fs::read(&input).unwrap(), before, "the export is intact");
    let r =
        s.run(&["ingest", &input, "--table", "events", "-o", "same.csv", "--rejects", "same.csv"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("same file"), "{}", r.stderr);
    let r = s.run(&["ingest", &input, "--table", "events", "-o", &input]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn a_looping_rule_template_is_refused_at_load_with_its_rule() {
    let s = Session::new();
    let playbook = include_str!("../../templates/playbook.toml");
    let original = "evidence = \"{{ rep.contacts_per_deal.case | round(1) }} contacts per case vs {{ peers.contacts_per_deal.case | round(1) }} for peers\"";
    assert!(playbook.contains(original));
    for evil in [
        "evidence = \"{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}\"",
        "evidence = \"{% for i in range(100000) %}{{ i }}{% endfor %}\"",
        "evidence = \"{{ 'x' * 90000000 }}\"",
    ] {
        let path = s.write("evil.toml", &playbook.replace(original, evil));
        let r = s.run(&[
            "--config",
            &path,
            "funnel",
            "--events",
            &fixture_str("../../sample-data/events.csv"),
        ]);
        no_panic(&r);
        assert_eq!(r.code, 2, "{evil}: {}", r.stderr);
        assert!(r.stderr.contains("insufficient-contacts"), "names the rule: {}", r.stderr);
    }
}

#[test]
fn json_that_is_not_records_is_counted_with_bounded_problems() {
    let s = Session::new();
    let r = s.run(&["validate", &regression("not_objects.events.ndjson"), "--max-errors", "3"]);
    no_panic(&r);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("3000 rows, 3000 errors"), "{}", r.stdout);
    assert!(r.stdout.lines().filter(|l| l.starts_with("error:")).count() <= 3, "{}", r.stdout);
    let array = s.write("arr.events.json", "[1, {\"deal_id\": \"D1\", \"rep_id\": \"R1\", \"stage\": \"lead\", \"ts\": \"2026-01-05T10:00:00Z\"}]");
    let a = s.run(&["validate", &array]);
    assert!(a.stdout.contains("2 rows, 1 error,"), "{}", a.stdout);
}
