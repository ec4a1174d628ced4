//! Parquet from any engine (every common codec), and a folder or glob of monthly exports read
//! as one table. The fixtures were written by DuckDB from `tests/fixtures/parquet/events.csv`.

use crate::support::{Session, csv_rows, fixture_str};

/// (from, to, entered, converted) per step for the whole company, counted by hand from
/// events.csv: 5 leads, 4 cases (D2 lost as a lead), 3 proposals (D3 lost as a case), 2 quotes
/// (D4 lost at proposal), 2 won.
const BY_HAND: &[(&str, &str, &str, &str)] = &[
    ("lead", "case", "5", "4"),
    ("case", "proposal", "4", "3"),
    ("proposal", "quote", "3", "2"),
    ("quote", "won", "2", "2"),
];

fn steps(s: &Session, events: &str) -> Vec<(String, String, String, String)> {
    let out = s.run(&[
        "funnel", "--events", events, "--by", "company", "--period", "all", "--window", "none",
        "-f", "csv",
    ]);
    assert_eq!(out.code, 0, "{events}: {}", out.stderr);
    csv_rows(&out.stdout)
        .into_iter()
        .filter(|r| r["to_stage"] != "won" || r["from_stage"] == "quote")
        .map(|r| {
            (
                r["from_stage"].clone(),
                r["to_stage"].clone(),
                r["entered"].clone(),
                r["converted"].clone(),
            )
        })
        .collect()
}

fn by_hand() -> Vec<(String, String, String, String)> {
    BY_HAND
        .iter()
        .map(|(a, b, n, k)| (a.to_string(), b.to_string(), n.to_string(), k.to_string()))
        .collect()
}

#[test]
fn parquet_with_every_common_codec_reads_the_same_table() {
    let s = Session::new();
    assert_eq!(steps(&s, &fixture_str("parquet/events.csv")), by_hand());
    for codec in ["zstd", "lz4", "gzip", "brotli", "snappy"] {
        let file = fixture_str(&format!("parquet/events-{codec}.parquet"));
        assert_eq!(steps(&s, &file), by_hand(), "{codec}");
    }
}

#[test]
fn a_folder_or_a_glob_of_monthly_exports_is_one_table() {
    let s = Session::new();
    // Hive-style partitions (month=2026-01/, month=2026-02/), as DuckDB, Spark and Polars write.
    assert_eq!(steps(&s, &fixture_str("parquet/monthly")), by_hand());
    assert_eq!(steps(&s, &fixture_str("parquet/monthly/*/*.parquet")), by_hand());
    let none = s.run(&["funnel", "--events", &fixture_str("parquet/monthly/*/*.csv")]);
    assert_eq!(none.code, 2);
    assert!(none.stderr.contains("no file matches"), "{}", none.stderr);
}

#[test]
fn ingest_reads_a_glob_of_csv_exports_as_one_table() {
    let s = Session::new();
    let text = std::fs::read_to_string(fixture_str("parquet/events.csv")).unwrap();
    let (header, rows) = text.split_once('\n').unwrap();
    let (jan, feb): (Vec<&str>, Vec<&str>) = rows.lines().partition(|l| l.contains(",2026-01-"));
    s.write("exports/2026-01/events.csv", &format!("{header}\n{}\n", jan.join("\n")));
    s.write("exports/2026-02/events.csv", &format!("{header}\n{}\n", feb.join("\n")));
    let out = s.path_str("events.csv");
    let r =
        s.run(&["ingest", "--table", "events", &s.path_str("exports/*/events.csv"), "-o", &out]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(steps(&s, &out), by_hand());
}
