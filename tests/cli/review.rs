//! `salescoach review` over simulated coaching: fixed reps improve, unchanged ones do not, and
//! a worst-in-the-baseline rep who bounces back by chance is not credited to coaching.

use crate::support::{Session, csv_rows};
use std::collections::HashMap;

const ORG: &[&str] = &[
    "--seed",
    "21",
    "--directors",
    "1",
    "--managers",
    "4",
    "--reps",
    "15",
    "--months",
    "9",
    "--leads",
    "120",
    "--weak-share",
    "0.6",
    "--no-activities",
];

fn generate(s: &Session, dir: &str, extra: &[&str]) {
    let out = s.path_str(dir);
    let truth = s.path_str(&format!("{dir}/truth.csv"));
    let mut args = vec!["generate", "--out", &out, "--truth", &truth];
    args.extend_from_slice(ORG);
    args.extend_from_slice(extra);
    let r = s.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

fn rows(text: &str) -> Vec<HashMap<String, String>> {
    csv_rows(text)
}

/// Plans for every rep with a planted transition (baseline Jan–Mar), and one for the rep
/// without a weakness whose case → proposal was worst in March alone.
fn ledger(s: &Session) -> (String, String) {
    generate(s, "before", &[]);
    let truth: HashMap<String, HashMap<String, String>> =
        rows(&std::fs::read_to_string(s.path("before/truth.csv")).unwrap())
            .into_iter()
            .map(|r| (r["rep_id"].clone(), r))
            .collect();
    let funnel = s.run(&[
        "funnel",
        "--events",
        &s.path_str("before/events.csv"),
        "--by",
        "rep",
        "-f",
        "csv",
    ]);
    let worst = rows(&funnel.stdout)
        .into_iter()
        .filter(|r| {
            r["period"] == "2026-03" && r["from_stage"] == "case" && r["to_stage"] == "proposal"
        })
        .filter(|r| {
            truth[&r["group_id"]]["planted_lever"].is_empty()
                && r["entered"].parse::<u64>().unwrap() >= 10
        })
        .min_by(|a, b| {
            a["rate"].parse::<f64>().unwrap().total_cmp(&b["rate"].parse::<f64>().unwrap())
        })
        .unwrap()["group_id"]
        .clone();
    let mut text =
        String::from("plan_id,period,rep_id,manager_id,focus,review_period,status,window_from\n");
    let mut ids: Vec<&String> = truth.keys().collect();
    ids.sort();
    for id in ids {
        let t = &truth[id];
        if t["planted_lever"].contains("->") {
            text += &format!(
                "2026-03:{id},2026-03,{id},{},{},2026-04,agreed,2026-01\n",
                t["manager_id"], t["planted_lever"]
            );
        }
    }
    text += &format!(
        "2026-03:{worst},2026-03,{worst},{},case->proposal,2026-04,agreed,2026-03\n",
        truth[&worst]["manager_id"]
    );
    (s.write("plans.csv", &text), worst)
}

#[test]
fn coaching_that_fixed_a_weakness_is_credited_and_regression_to_the_mean_is_not() {
    let s = Session::new();
    let (plans, worst) = ledger(&s);
    generate(&s, "after", &["--ledger", &plans, "--fix-share", "0.5"]);
    let truth: HashMap<String, HashMap<String, String>> =
        rows(&std::fs::read_to_string(s.path("after/truth.csv")).unwrap())
            .into_iter()
            .map(|r| (r["rep_id"].clone(), r))
            .collect();
    let out = s.run(&[
        "review",
        "--ledger",
        &plans,
        "--events",
        &s.path_str("after/events.csv"),
        "--roster",
        &s.path_str("after/roster.csv"),
        "--period",
        "2026-06",
        "-f",
        "csv",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let review = rows(&out.stdout);
    let (mut fixed, mut fixed_improved, mut unchanged) = (0, 0, 0);
    for r in review.iter().filter(|r| r["level"] == "plan") {
        let t = &truth[&r["rep_id"]];
        let verdict = r["verdict"].as_str();
        if r["rep_id"] == worst {
            // The naive before/after credits the bounce-back; the difference-in-differences does not.
            assert!(
                r["change"].parse::<f64>().unwrap() > 0.05
                    && r["p_improved"].parse::<f64>().unwrap() > 0.85,
                "{r:?}"
            );
            assert_ne!(verdict, "improved", "{r:?}");
        } else if t["fixed"] == "true" {
            fixed += 1;
            fixed_improved += (verdict == "improved") as u32;
            assert_ne!(verdict, "worse", "a fixed rep: {r:?}");
        } else {
            unchanged += 1;
            assert_ne!(verdict, "improved", "an unchanged rep: {r:?}");
        }
    }
    assert!(fixed >= 8 && unchanged >= 8, "{fixed} fixed, {unchanged} unchanged");
    assert!(fixed_improved * 2 > fixed, "{fixed_improved} of {fixed} fixed reps improved");
    let managers: Vec<&HashMap<String, String>> =
        review.iter().filter(|r| r["level"] == "manager").collect();
    assert_eq!(managers.len(), 4);
    let total: u64 = managers.iter().map(|m| m["plans"].parse::<u64>().unwrap()).sum();
    let board = review.iter().find(|r| r["level"] == "board").unwrap();
    assert_eq!(board["plans"].parse::<u64>().unwrap(), total, "the board sums its managers");
}

#[test]
fn update_ledger_is_idempotent_and_reports_what_it_cannot_review() {
    let s = Session::new();
    let (plans, _) = ledger(&s);
    // A plan whose rep left and one whose lever is gone are reported, not dropped.
    let mut text = std::fs::read_to_string(&plans).unwrap();
    text += "2026-03:GONE,2026-03,GONE,M001,case->proposal,2026-04,agreed,2026-01\n";
    text += "2026-03:R00002,2026-03,R00002,M001,demo->close,2026-04,agreed,2026-01\n";
    std::fs::write(&plans, text).unwrap();
    let args = [
        "review",
        "--ledger",
        &plans,
        "--events",
        &s.path_str("before/events.csv"),
        "--roster",
        &s.path_str("before/roster.csv"),
        "--period",
        "2026-06",
        "--update-ledger",
        "-f",
        "csv",
    ];
    let first = s.run(&args);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stderr.contains("GONE") && first.stderr.contains("not in the roster"),
        "{}",
        first.stderr
    );
    assert!(first.stderr.contains("demo->close is no longer in the playbook"), "{}", first.stderr);
    let after_first = std::fs::read_to_string(&plans).unwrap();
    let ledger = rows(&after_first);
    assert!(
        ledger
            .iter()
            .filter(|p| p["plan_id"] != "2026-03:R00002")
            .any(|p| p["status"] == "reviewed" && !p["verdict"].is_empty())
    );
    assert!(
        ledger.iter().any(|p| p["plan_id"] == "2026-03:R00002" && p["verdict"].is_empty()),
        "the plan with a lost lever stays open"
    );
    let second = s.run(&args);
    assert_eq!(second.code, 0);
    assert_eq!(
        std::fs::read_to_string(&plans).unwrap(),
        after_first,
        "a second run changes nothing"
    );
}
