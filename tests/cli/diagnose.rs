//! `salescoach diagnose`: scored against planted weaknesses, pipelines, rules, bad playbooks.

use crate::support::{Session, csv_rows, fixture_str};
use std::collections::HashMap;

fn generate(s: &Session, dir: &str, leads: &str) -> String {
    let out = s.path_str(dir);
    let truth = s.path_str(&format!("{dir}/truth.csv"));
    let args = [
        "generate",
        "--out",
        &out,
        "--seed",
        "11",
        "--directors",
        "1",
        "--managers",
        "4",
        "--reps",
        "15",
        "--months",
        "9",
        "--leads",
        leads,
        "--late-share",
        "0.25",
        "--weak-share",
        "0.6",
        "--truth",
        &truth,
    ];
    let r = s.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    out
}

/// `diagnose` on a generated organisation, as JSON, with global options before the command.
fn diagnose_json(s: &Session, dir: &str, global: &[&str]) -> Vec<serde_json::Value> {
    let (events, acts, roster) =
        (format!("{dir}/events.csv"), format!("{dir}/activities.csv"), format!("{dir}/roster.csv"));
    let mut args = global.to_vec();
    args.extend(["diagnose", "--events", &events, "--activities", &acts, "--roster", &roster]);
    args.extend(["-f", "json"]);
    let out = s.run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

/// A small version of benches/diagnose_accuracy.py: the diagnosed lever against the planted one.
#[test]
fn focus_finds_most_planted_weaknesses_and_the_planted_cause_ranks_first() {
    let s = Session::new();
    let dir = generate(&s, "g", "60");
    let diag = diagnose_json(&s, &dir, &[]);
    let truth: HashMap<String, HashMap<String, String>> =
        csv_rows(&std::fs::read_to_string(format!("{dir}/truth.csv")).unwrap())
            .into_iter()
            .map(|r| (r["rep_id"].clone(), r))
            .collect();
    // The causes are ranked for every picked lever; the floor (a pick worth under 0.1 won
    // deals a month is not offered) is left out here, so that the ranking is seen on them all.
    let playbook = include_str!("../../templates/playbook.toml")
        .replace("min_impact_won = 0.1", "min_impact_won = 0");
    let no_floor = s.write("no_floor.toml", &playbook);
    let unfloored = diagnose_json(&s, &dir, &["--config", &no_floor]);
    let (mut planted, mut named, mut causes, mut cause_first) = (0, 0, 0, 0);
    for (d, u) in diag.iter().zip(&unfloored) {
        let t = &truth[d["rep_id"].as_str().unwrap()];
        if t["planted_lever"].is_empty() {
            continue;
        }
        planted += 1;
        let lever = d["focus"].as_str().or(d["suggestion"].as_str()).unwrap_or("");
        named += (lever == t["planted_lever"]) as u32;
        let d = u;
        let lever = d["focus"].as_str().or(d["suggestion"].as_str()).unwrap_or("");
        if !t["planted_cause"].is_empty() && lever == "case->proposal" {
            causes += 1;
            let first =
                d["hypotheses"].as_array().unwrap().iter().find(|h| h["status"] == "supported");
            cause_first += first.is_some_and(|h| h["id"] == t["planted_cause"].as_str()) as u32;
        }
    }
    assert!(planted >= 25, "enough planted reps: {planted}");
    let share = named as f64 / planted as f64;
    assert!(share >= 0.7, "planted lever named for {named}/{planted}");
    assert!(
        causes >= 3 && cause_first as f64 >= 0.8 * causes as f64,
        "cause first {cause_first}/{causes}"
    );
    // Calibration (issue #14): a named focus is right about as often as its confidence says.
    let focused: Vec<&serde_json::Value> = diag.iter().filter(|d| d["focus"].is_string()).collect();
    let right = focused
        .iter()
        .filter(|d| d["focus"] == truth[d["rep_id"].as_str().unwrap()]["planted_lever"].as_str())
        .count() as f64;
    let stated: f64 = focused.iter().map(|d| d["confidence"].as_f64().unwrap()).sum();
    let n = focused.len() as f64;
    assert!(n >= 10.0, "{n} focuses");
    assert!(right / n >= stated / n - 0.15, "right {right}/{n}, stated {:.2}", stated / n);
}

#[test]
fn funnel_piped_into_diagnose_equals_diagnose_from_events() {
    let s = Session::new();
    let events = fixture_str("../../sample-data/events.csv");
    let acts = fixture_str("../../sample-data/activities.csv");
    let roster = fixture_str("../../sample-data/roster.csv");
    let funnel = s.run(&[
        "funnel",
        "--events",
        &events,
        "--activities",
        &acts,
        "--roster",
        &roster,
        "-f",
        "csv",
    ]);
    assert_eq!(funnel.code, 0);
    let piped =
        s.run_stdin(&["diagnose", "--funnel", "-", "-f", "csv"], Some(funnel.stdout.as_bytes()));
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    let direct = s.run(&[
        "diagnose",
        "--events",
        &events,
        "--activities",
        &acts,
        "--roster",
        &roster,
        "-f",
        "csv",
    ]);
    assert_eq!(piped.stdout, direct.stdout);
    let rows = csv_rows(&direct.stdout);
    assert!(rows.len() >= 20);
    // The default period is the month end: the latest month with deals, its cohorts still open.
    assert!(rows.iter().all(|r| r["period"] == "2026-06" && r["window_from"] == "2026-04"));
    assert!(rows.iter().any(|r| !r["focus"].is_empty()), "some rep has a focus");
    for r in &rows {
        assert!(!r["why"].is_empty());
        if let Ok(c) = r["confidence"].parse::<f64>() {
            assert!((0.0..=1.0).contains(&c));
        }
    }
}

#[test]
fn the_month_end_keeps_every_month_of_the_lookback() {
    // June's cohorts are open at the end of June: they weigh less, but nothing is left out.
    let s = Session::new();
    let events = fixture_str("../../sample-data/events.csv");
    let out = s.run(&["diagnose", "--events", &events, "--period", "2026-06", "-f", "csv"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = csv_rows(&out.stdout);
    assert_eq!(rows.len(), 24, "every rep of the sample is diagnosed: {}", out.stdout);
    assert!(rows.iter().all(|r| r["immature_left_out"].is_empty()), "{}", out.stdout);
    assert!(rows.iter().all(|r| r["window_from"] == "2026-04" && r["window_to"] == "2026-06"));
    // A focus is named only where a deficit is likely (calibrated confidence): most of the
    // sample's 13 planted weaknesses, and mostly the planted lever.
    let truth =
        csv_rows(&std::fs::read_to_string(fixture_str("../../sample-data/truth.csv")).unwrap());
    let planted =
        |rep: &str| truth.iter().find(|t| t["rep_id"] == rep).unwrap()["planted_lever"].clone();
    let focused: Vec<_> = rows.iter().filter(|r| !r["focus"].is_empty()).collect();
    let right = focused.iter().filter(|r| r["focus"] == planted(&r["rep_id"])).count();
    assert!(
        focused.len() >= 8 && right * 10 >= focused.len() * 7,
        "{right} of {} right",
        focused.len()
    );
    let default = s.run(&["diagnose", "--events", &events, "-f", "csv"]);
    assert!(
        csv_rows(&default.stdout).iter().all(|r| r["period"] == "2026-06"),
        "the month end is the default"
    );
}

#[test]
fn missing_columns_make_hypotheses_not_checkable() {
    let s = Session::new();
    let events = fixture_str("../../sample-data/events.csv");
    let out = s.run(&["diagnose", "--events", &events, "-f", "json"]);
    let diag: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    let hyps: Vec<&serde_json::Value> =
        diag.iter().flat_map(|d| d["hypotheses"].as_array().unwrap()).collect();
    assert!(!hyps.is_empty());
    assert!(
        hyps.iter().all(|h| h["status"] == "not_checkable" || h["id"] == "few-leads"),
        "no activities: only lead volume is checkable"
    );
    assert!(out.stdout.contains("activities (--activities)"));
}

#[test]
fn a_bad_rule_is_refused_before_any_data_is_read() {
    let s = Session::new();
    let pb =
        std::fs::read_to_string(fixture_str("../../templates/playbook.toml")).unwrap().replace(
            "rep.contacts_per_deal.case < 0.75 * peers.contacts_per_deal.case",
            "rep.calls_per_case < 0.75 * peers.contacts_per_deal.case",
        );
    let path = s.write("pb.toml", &pb);
    let out = s.run(&["diagnose", "--config", &path, "--events", "does-not-exist.csv"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("insufficient-contacts") && out.stderr.contains("line "),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("does-not-exist"), "the playbook fails first: {}", out.stderr);
}

#[test]
fn a_two_stage_playbook_diagnoses_its_one_transition() {
    // MQL → won: the one transition has the same stages as the whole-funnel row (issue #14).
    let s = Session::new();
    let playbook = fixture_str("diagnose/two_stage.toml");
    let events = fixture_str("diagnose/two_stage.events.csv");
    let out = s.run(&["--config", &playbook, "diagnose", "--events", &events, "-f", "csv"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = csv_rows(&out.stdout);
    assert_eq!(rows.len(), 8);
    let named = rows.iter().filter(|r| r["focus"] == "mql->won" || r["suggestion"] == "mql->won");
    assert!(named.count() >= 6, "{}", out.stdout);
    assert!(
        rows.iter().all(|r| !r["why"].contains("not enough data")),
        "every rep has deals: {}",
        out.stdout
    );
}

#[test]
fn no_pick_under_the_playbook_floor_is_offered() {
    // A gap worth a fraction of a won deal a month is not a month of coaching: no focus, no
    // suggestion, and the why says so with the floor.
    let s = Session::new();
    let events = fixture_str("../../sample-data/events.csv");
    let out = s.run(&["diagnose", "--events", &events, "--period", "2026-03", "-f", "csv"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = csv_rows(&out.stdout);
    let picked = |r: &std::collections::HashMap<String, String>| {
        !r["focus"].is_empty() || !r["suggestion"].is_empty()
    };
    for r in rows.iter().filter(|r| picked(r)) {
        let impact: f64 = r["impact_won"].parse().unwrap();
        assert!(impact >= 0.1, "{} offered a lever worth {impact}", r["rep_id"]);
    }
    let unpicked: Vec<_> = rows.iter().filter(|r| !picked(r)).collect();
    assert!(!unpicked.is_empty(), "the sample has small gaps: {}", out.stdout);
    assert!(
        unpicked.iter().all(|r| r["why"].contains("floor of 0.1")
            || r["why"].starts_with("no gap")
            || r["why"].starts_with("not enough data")),
        "{}",
        out.stdout
    );
}
