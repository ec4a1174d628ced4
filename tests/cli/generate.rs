//! `salescoach generate`: determinism, agreement with its truth, schemas, Parquet round trip.

use crate::support::{Session, csv_rows};
use salescoach::io::Source;
use salescoach::io::read::{Verdict, scan};
use salescoach::model::schema::Schema;
use salescoach::model::tables::{TableKind, ev};
use std::collections::{HashMap, HashSet};

const SMALL: &[&str] = &["--directors", "1", "--managers", "2", "--reps", "3", "--months", "3"];

fn generate(s: &Session, dir: &str, extra: &[&str]) {
    let out_dir = s.path_str(dir);
    let mut args = vec!["generate", "--out", &out_dir];
    args.extend_from_slice(extra);
    let out = s.run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

fn read(s: &Session, rel: &str) -> Vec<u8> {
    std::fs::read(s.path(rel)).unwrap()
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let s = Session::new();
    for (dir, seed, fmt) in [
        ("a", "3", "csv"),
        ("b", "3", "csv"),
        ("c", "4", "csv"),
        ("pa", "3", "parquet"),
        ("pb", "3", "parquet"),
    ] {
        let mut args = SMALL.to_vec();
        args.extend(["--seed", seed, "-f", fmt, "--truth"]);
        let truth = s.path_str(&format!("{dir}/truth.csv"));
        args.push(&truth);
        generate(&s, dir, &args);
    }
    for f in ["events.csv", "activities.csv", "roster.csv", "truth.csv"] {
        assert_eq!(read(&s, &format!("a/{f}")), read(&s, &format!("b/{f}")), "{f}");
    }
    for f in ["events.parquet", "activities.parquet", "roster.parquet"] {
        assert_eq!(read(&s, &format!("pa/{f}")), read(&s, &format!("pb/{f}")), "{f}");
    }
    assert_ne!(read(&s, "a/events.csv"), read(&s, "c/events.csv"));
    let mut no_acts = SMALL.to_vec();
    no_acts.extend(["--seed", "3", "--no-activities"]);
    generate(&s, "n", &no_acts);
    assert_eq!(
        read(&s, "a/events.csv"),
        read(&s, "n/events.csv"),
        "events do not depend on activities"
    );
}

/// Sums a rep's cohort counts of one transition over the mature months.
fn measured_rate(rows: &[HashMap<String, String>], rep: &str, from: &str, to: &str) -> (f64, f64) {
    let (mut k, mut n) = (0.0, 0.0);
    for r in rows {
        if r["group_id"] == rep
            && r["from_stage"] == from
            && r["to_stage"] == to
            && r["mature"] == "true"
        {
            k += r["converted"].parse::<f64>().unwrap();
            n += r["entered"].parse::<f64>().unwrap();
        }
    }
    (k, n)
}

#[test]
fn truth_agrees_with_the_generated_rates() {
    let s = Session::new();
    let truth_path = s.path_str("g/truth.csv");
    let mut args = vec![
        "--directors",
        "1",
        "--managers",
        "1",
        "--reps",
        "6",
        "--months",
        "12",
        "--leads",
        "120",
    ];
    args.extend(["--weak-share", "1", "--seed", "5", "--truth", &truth_path]);
    generate(&s, "g", &args);
    let truth = csv_rows(&std::fs::read_to_string(&truth_path).unwrap());
    let planted = truth
        .iter()
        .find(|t| t["planted_lever"].contains("->"))
        .expect("a rep with a planted transition");
    let lever = &planted["planted_lever"];
    let (from, to) = lever.split_once("->").unwrap();
    let out =
        s.run(&["funnel", "--events", &s.path_str("g/events.csv"), "--by", "rep", "-f", "csv"]);
    let rows = csv_rows(&out.stdout);
    for (f, t) in [
        ("lead", "case"),
        ("case", "proposal"),
        ("proposal", "quote"),
        ("quote", "won"),
        (from, to),
    ] {
        let expected: f64 = planted[&format!("rate_{f}_{t}")].parse().unwrap();
        let (k, n) = measured_rate(&rows, &planted["rep_id"], f, t);
        assert!(n > 30.0, "enough deals to test {f}->{t}: {n}");
        let sd = (expected * (1.0 - expected) / n).sqrt();
        let got = k / n;
        assert!(
            (got - expected).abs() < 4.0 * sd + 0.01,
            "{} {f}->{t}: measured {got:.3} of {n}, truth {expected:.3}",
            planted["rep_id"]
        );
    }
    // The planted lever is visibly below the rep's peers' truth.
    let peers: Vec<f64> = truth
        .iter()
        .filter(|t| t["planted_lever"] != *lever)
        .map(|t| t[&format!("rate_{from}_{to}")].parse().unwrap())
        .collect();
    let weak: f64 = planted[&format!("rate_{from}_{to}")].parse().unwrap();
    assert!(weak < peers.iter().sum::<f64>() / peers.len() as f64);
}

#[test]
fn generated_tables_pass_their_schemas() {
    let s = Session::new();
    generate(&s, "g", SMALL);
    // The same code path as a CI job's `salescoach validate`, warnings included.
    let files = ["g/events.csv", "g/activities.csv", "g/roster.csv"].map(|f| s.path_str(f));
    let mut args = vec!["validate", "--strict"];
    args.extend(files.iter().map(String::as_str));
    let v = s.run(&args);
    assert_eq!(v.code, 0, "generated data validates: {}{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains("3 tables") && v.stdout.contains("0 errors, 0 warnings"),
        "{}",
        v.stdout
    );
    let mut ids: HashMap<&str, HashSet<String>> = HashMap::new();
    for table in ["roster", "events", "activities"] {
        let schema = Schema::get(table).unwrap();
        let text = std::fs::read_to_string(s.path(&format!("g/{table}.csv"))).unwrap();
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
        let mut unique: HashMap<String, HashSet<String>> = HashMap::new();
        let mut rows = 0;
        for rec in rdr.records() {
            let rec = rec.unwrap();
            rows += 1;
            for (name, value) in header.iter().zip(rec.iter()) {
                let field =
                    schema.field(name).unwrap_or_else(|| panic!("{table}.{name} is in the schema"));
                if let Err((code, msg)) = field.check(value) {
                    panic!("{table} row {rows} {name}={value:?}: {code} {msg}");
                }
                if (field.constraints.unique || schema.primary_key.contains(name))
                    && !value.is_empty()
                {
                    assert!(
                        unique.entry(name.clone()).or_default().insert(value.to_string()),
                        "{table}.{name} {value} is unique"
                    );
                }
            }
            let get =
                |c: &str| rec.get(header.iter().position(|h| h == c).unwrap()).unwrap().to_string();
            match table {
                "roster" => {
                    ids.entry("person").or_default().insert(get("person_id"));
                }
                "events" => {
                    assert!(ids["person"].contains(&get("rep_id")), "events.rep_id in roster");
                    ids.entry("deal").or_default().insert(get("deal_id"));
                }
                _ => {
                    assert!(ids["person"].contains(&get("rep_id")), "activities.rep_id in roster");
                    let deal = get("deal_id");
                    assert!(
                        deal.is_empty() || ids["deal"].contains(&deal),
                        "activities.deal_id in events"
                    );
                }
            }
        }
        assert!(rows > 0, "{table} has rows");
        for f in &schema.fields {
            if f.constraints.required {
                assert!(header.contains(&f.name), "{table} has required {}", f.name);
            }
        }
    }
    // Every reports_to names a person.
    let roster = csv_rows(&std::fs::read_to_string(s.path("g/roster.csv")).unwrap());
    assert!(
        roster
            .iter()
            .all(|r| r["reports_to"].is_empty() || ids["person"].contains(&r["reports_to"]))
    );
}

fn event_rows(source: &Source) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    scan(source, None, TableKind::Events, chrono_tz::UTC, &mut |row| {
        rows.push(vec![
            row.str(ev::DEAL_ID).unwrap().unwrap().to_string(),
            row.str(ev::REP_ID).unwrap().unwrap().to_string(),
            row.str(ev::STAGE).unwrap().unwrap().to_string(),
            row.ts(ev::TS).unwrap().unwrap().to_string(),
            row.decimal(ev::AMOUNT).unwrap().map(|d| d.normalize().to_string()).unwrap_or_default(),
        ]);
        Verdict::Keep
    })
    .unwrap();
    rows
}

#[test]
fn parquet_reads_back_into_the_same_rows() {
    let s = Session::new();
    let mut csv_args = SMALL.to_vec();
    csv_args.extend(["--seed", "9"]);
    generate(&s, "c", &csv_args);
    let mut pq_args = csv_args.clone();
    pq_args.extend(["-f", "parquet"]);
    generate(&s, "p", &pq_args);
    let from_csv = event_rows(&Source::File(s.path("c/events.csv")));
    let from_pq = event_rows(&Source::File(s.path("p/events.parquet")));
    assert!(!from_csv.is_empty());
    assert_eq!(from_csv, from_pq);
    // And the funnel over either is the same.
    let a = s.run(&[
        "funnel",
        "--events",
        &s.path_str("c/events.csv"),
        "--activities",
        &s.path_str("c/activities.csv"),
        "-f",
        "csv",
    ]);
    let b = s.run(&[
        "funnel",
        "--events",
        &s.path_str("p/events.parquet"),
        "--activities",
        &s.path_str("p/activities.parquet"),
        "-f",
        "csv",
    ]);
    assert_eq!(a.stdout, b.stdout);
}

/// A month-end cut and an uncut run of one seed hold the same deals: the cut only hides what
/// came after it, so the two compare the month end with hindsight.
#[test]
fn a_cut_hides_later_rows_and_changes_nothing_before() {
    let s = Session::new();
    let args = ["--seed", "7", "--start", "2026-01"];
    let cut = "2026-02-28T23:59:59Z";
    generate(&s, "whole", &[SMALL, &args].concat());
    generate(&s, "cut", &[SMALL, &args, &["--as-of", cut]].concat());
    for table in ["events", "activities"] {
        let rows = |dir: &str| -> Vec<Vec<(String, String)>> {
            let text = std::fs::read_to_string(s.path(&format!("{dir}/{table}.csv"))).unwrap();
            let mut rows: Vec<Vec<(String, String)>> = csv_rows(&text)
                .into_iter()
                .filter(|r| r["ts"].as_str() <= cut)
                .map(|r| {
                    let mut v: Vec<(String, String)> = r.into_iter().collect();
                    v.sort();
                    v
                })
                .collect();
            rows.sort();
            rows
        };
        let (whole, cut_rows) = (rows("whole"), rows("cut"));
        assert!(!cut_rows.is_empty());
        assert_eq!(whole, cut_rows, "{table}: the rows up to the cut differ");
    }
}
