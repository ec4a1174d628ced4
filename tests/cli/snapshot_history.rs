//! Several snapshots of one HubSpot portal read as a history: stage dates inside the right
//! intervals, outcomes at the first snapshot showing them, removed deals reported and dropped.

use crate::support::{Session, csv_rows, fixture_str, ingest_counts};
use std::collections::HashMap;

const FOLDER: &str = "ingest/hubspot_snapshots";

fn snapshot(day: &str) -> String {
    fixture_str(&format!("{FOLDER}/all-deals-{day}.csv"))
}

/// deal → stage → (ts, inferred)
fn by_deal(csv: &str) -> HashMap<String, HashMap<String, (String, String)>> {
    let mut out: HashMap<String, HashMap<String, (String, String)>> = HashMap::new();
    for r in csv_rows(csv) {
        let at = (r["ts"].clone(), r["inferred"].clone());
        out.entry(r["deal_id"].clone()).or_default().insert(r["stage"].clone(), at);
    }
    out
}

fn inside(ts: &str, after: &str, until: &str) -> bool {
    after < ts && ts <= until
}

#[test]
fn three_snapshots_date_each_stage_inside_its_interval_and_drop_removed_deals() {
    let s = Session::new();
    let r =
        s.run(&["ingest", "--table", "events", "--preset", "hubspot-deals", &fixture_str(FOLDER)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // 15 records over 3 snapshots; 202 (open on 09-01, gone on 10-01) and 207 (open on 10-01,
    // gone on 11-01) are removed: their 1 + 2 records are dropped.
    assert_eq!(ingest_counts(&r.stderr), Some((15, 12, 0, 0)), "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "written 12, rejected 0, dropped 3 (records of 2 deals removed between snapshots: not counted); 19 events written"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("2 open deals missing from the next snapshot")
            && r.stderr.contains("202, 207"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("3 read as one history (2026-09-01, 2026-10-01, 2026-11-01)"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("duplicate"), "{}", r.stderr);
    let deals = by_deal(&r.stdout);
    assert!(!deals.contains_key("202") && !deals.contains_key("207"));
    let end = |day: &str| format!("{day}T23:59:59.999999Z");
    // 201: a lead on 09-01, a case on 10-01, won (closed 10-20) on 11-01.
    let d = &deals["201"];
    assert_eq!(d["lead"], ("2026-08-20T00:00:00Z".into(), "false".into()));
    assert!(inside(&d["case"].0, &end("2026-09-01"), &end("2026-10-01")), "{d:?}");
    for stage in ["proposal", "quote"] {
        assert!(inside(&d[stage].0, &end("2026-10-01"), "2026-10-20T00:00:00Z"), "{d:?}");
        assert_eq!(d[stage].1, "true");
    }
    assert_eq!(d["won"], ("2026-10-20T00:00:00Z".into(), "false".into()));
    // 203: at quote on 09-01, lost without a close date on 10-01: the quote stage is kept, the
    // loss dated at the first snapshot that shows it.
    let d = &deals["203"];
    assert!(d.contains_key("quote"), "{d:?}");
    assert_eq!(d["lost"], (end("2026-10-01"), "true".into()));
    // 204: created 09-10, a lead on 10-01, at proposal on 11-01.
    let d = &deals["204"];
    for stage in ["case", "proposal"] {
        assert!(inside(&d[stage].0, &end("2026-10-01"), &end("2026-11-01")), "{d:?}");
    }
    // By hand: 201, 203, 204, 205, 206 reach lead; 206 is open there; 204 open at proposal;
    // 203 lost at quote.
    let f = s.write("events.csv", &r.stdout);
    let steps = crate::real_exports::steps(&s, &f);
    let step = |a: &str, b: &str| steps[&(a.to_string(), b.to_string())];
    assert_eq!(step("lead", "case"), (5, 4, 0, 1));
    assert_eq!(step("case", "proposal"), (4, 4, 0, 0));
    assert_eq!(step("proposal", "quote"), (4, 3, 0, 1));
    assert_eq!(step("quote", "won"), (3, 2, 1, 0));
    // No step has a real date: none takes "zero days".
    let out = s.run(&[
        "funnel", "--events", &f, "--by", "company", "--period", "all", "--window", "none", "-f",
        "csv",
    ]);
    assert!(out.stdout.lines().skip(1).all(|l| !l.contains(",0.0,")), "{}", out.stdout);
}

#[test]
fn the_snapshot_day_comes_from_the_flag_or_a_column_when_the_names_have_none() {
    let s = Session::new();
    let days = ["2026-09-01", "2026-10-01", "2026-11-01"];
    let by_folder =
        s.run(&["ingest", "--table", "events", "--preset", "hubspot-deals", &fixture_str(FOLDER)]);
    let plain: Vec<String> = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            s.write(&format!("plain/export{i}.csv"), &std::fs::read_to_string(snapshot(d)).unwrap())
        })
        .collect();
    let mut args = vec!["ingest", "--table", "events", "--preset", "hubspot-deals"];
    args.extend(plain.iter().map(String::as_str));
    let undated = s.run(&args);
    assert_eq!(undated.code, 2, "{}", undated.stderr);
    assert!(
        undated.stderr.contains("each needs the day it was taken")
            && undated.stderr.contains("export0.csv"),
        "{}",
        undated.stderr
    );
    let mut flagged = args.clone();
    for d in days {
        flagged.extend(["--snapshot-date", d]);
    }
    let r = s.run(&flagged);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, by_folder.stdout);
    // A folder is read in name order, which need not be the days' order: refused.
    let folder = s.run(&[
        "ingest",
        "--table",
        "events",
        "--preset",
        "hubspot-deals",
        &s.path_str("plain"),
        "--snapshot-date",
        days[0],
        "--snapshot-date",
        days[1],
        "--snapshot-date",
        days[2],
    ]);
    assert_eq!(folder.code, 2, "{}", folder.stderr);
    assert!(folder.stderr.contains("list the files"), "{}", folder.stderr);
    let short = s.run(&[&args[..], &["--snapshot-date", days[0]]].concat());
    assert_eq!(short.code, 2);
    assert!(short.stderr.contains("given 1 times for 3 snapshot files"), "{}", short.stderr);

    // One file holding every snapshot, with a column for its day.
    let mut all = String::from(
        "Snapshot Date,Record ID,Deal Name,Deal Stage,Close Date,Deal owner,Amount,Create Date\n",
    );
    for d in days {
        let text = std::fs::read_to_string(snapshot(d)).unwrap();
        for line in text.lines().skip(1) {
            all.push_str(&format!("{d},{line}\n"));
        }
    }
    let file = s.write("history.csv", &all);
    let shown = s.run(&["ingest", "--preset", "hubspot-deals", "--show"]).stdout;
    let mapping = s.write(
        "history.toml",
        &shown.replacen(
            "layout = \"snapshot\"",
            "layout = \"snapshot\"\nsnapshot_date = \"Snapshot Date\"",
            1,
        ),
    );
    let r = s.run(&["ingest", "--table", "events", "--mapping", &mapping, &file]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, by_folder.stdout);
}

#[test]
fn files_of_different_deals_are_not_read_as_removals() {
    let s = Session::new();
    let header = "Record ID,Deal Name,Deal Stage,Close Date,Deal owner,Amount,Create Date\n";
    let a = s.write(
        "new-deals-2026-09-30.csv",
        &format!("{header}301,A,Appointment Scheduled,,Aiko Sato,,2026-09-03\n302,B,Qualified To Buy,,Ben Kim,,2026-09-09\n"),
    );
    let b = s.write(
        "new-deals-2026-10-31.csv",
        &format!("{header}303,C,Appointment Scheduled,,Aiko Sato,,2026-10-04\n"),
    );
    let r = s.run(&["ingest", "--table", "events", "--preset", "hubspot-deals", &a, &b]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(ingest_counts(&r.stderr), Some((3, 3, 0, 0)), "{}", r.stderr);
    assert!(r.stderr.contains("share under half their deals"), "{}", r.stderr);
    let deals = by_deal(&r.stdout);
    assert_eq!(deals.len(), 3);
}
