//! `salescoach review` on the cases a manager meets: a lead-volume plan, a company where every
//! rep had a plan, the month after with the tool's own plans, and the review as the next
//! month's worksheets print it.

use crate::support::{Session, csv_rows};
use std::collections::HashMap;

type Row = HashMap<String, String>;

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

fn generate(s: &Session, dir: &str, extra: &[&str]) -> HashMap<String, Row> {
    let out = s.path_str(dir);
    let truth = s.path_str(&format!("{dir}/truth.csv"));
    let mut args = vec!["generate", "--out", &out, "--truth", &truth];
    args.extend_from_slice(ORG);
    args.extend_from_slice(extra);
    let r = s.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    csv_rows(&std::fs::read_to_string(s.path(&format!("{dir}/truth.csv"))).unwrap())
        .into_iter()
        .map(|r| (r["rep_id"].clone(), r))
        .collect()
}

/// A ledger of March plans (baseline January–March), one per (rep, lever) given.
fn ledger(s: &Session, name: &str, plans: &[(&str, &str, &str)]) -> String {
    let mut text =
        String::from("plan_id,period,rep_id,manager_id,focus,review_period,status,window_from\n");
    for (rep, manager, lever) in plans {
        text += &format!("2026-03:{rep},2026-03,{rep},{manager},{lever},2026-04,agreed,2026-01\n");
    }
    s.write(name, &text)
}

fn review(s: &Session, plans: &str, dir: &str, period: &str) -> Vec<Row> {
    let out = s.run(&[
        "review",
        "--ledger",
        plans,
        "--events",
        &s.path_str(&format!("{dir}/events.csv")),
        "--roster",
        &s.path_str(&format!("{dir}/roster.csv")),
        "--period",
        period,
        "-f",
        "csv",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    csv_rows(&out.stdout).into_iter().filter(|r| r["level"] == "plan").collect()
}

#[test]
fn a_lead_volume_plan_gets_a_verdict_in_leads_a_month() {
    let s = Session::new();
    let truth = generate(&s, "before", &[]);
    let mut ids: Vec<&String> = truth.keys().collect();
    ids.sort();
    let volume: Vec<(&str, &str, &str)> = ids
        .iter()
        .filter(|id| truth[**id]["planted_lever"] == "volume:lead")
        .map(|id| (id.as_str(), truth[*id]["manager_id"].as_str(), "volume:lead"))
        .collect();
    assert!(volume.len() >= 4, "{} volume plans", volume.len());
    let plans = ledger(&s, "plans.csv", &volume);
    generate(&s, "after", &["--ledger", &plans, "--fix-share", "1"]);
    let reviews = review(&s, &plans, "after", "2026-06");
    assert_eq!(reviews.len(), volume.len());
    let improved = reviews.iter().filter(|r| r["verdict"] == "improved").count();
    for r in &reviews {
        // Every volume plan is reviewable: it has controls and a verdict from its interval.
        assert!(r["peers"].parse::<u64>().unwrap() >= 1, "{r:?}");
        assert_ne!(r["verdict"], "worse", "a cured rep: {r:?}");
        // Leads a month, not a share: three baseline months, three after.
        assert_eq!((r["baseline_n"].as_str(), r["after_n"].as_str()), ("3", "3"), "{r:?}");
        let (before, after) =
            (r["baseline_rate"].parse::<f64>().unwrap(), r["after_rate"].parse::<f64>().unwrap());
        assert!(before > 1.0 && after > before, "{r:?}");
        let (lo, hi) =
            (r["effect_low"].parse::<f64>().unwrap(), r["effect_high"].parse::<f64>().unwrap());
        assert_eq!(r["verdict"] == "improved", lo > 0.0, "{r:?}");
        assert!(lo < hi);
    }
    assert!(improved * 2 > volume.len(), "{improved} of {} cured volume plans", volume.len());
}

#[test]
fn every_rep_with_a_plan_on_some_lever_still_has_controls() {
    let s = Session::new();
    let truth = generate(&s, "data", &[]);
    let mut ids: Vec<&String> = truth.keys().collect();
    ids.sort();
    let levers = ["lead->case", "case->proposal", "proposal->quote", "quote->won", "volume:lead"];
    let every: Vec<(&str, &str, &str)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), truth[*id]["manager_id"].as_str(), levers[i % levers.len()]))
        .collect();
    let plans = ledger(&s, "every.csv", &every);
    let reviews = review(&s, &plans, "data", "2026-05");
    assert_eq!(reviews.len(), ids.len());
    for r in &reviews {
        // The controls of a plan on L are the reps coached on other levers.
        assert!(r["peers"].parse::<u64>().unwrap() >= 1, "{r:?}");
        assert!(!r["verdict"].is_empty() && !r["effect"].is_empty(), "{r:?}");
    }
    // Nobody was coached, so nothing improved beyond chance.
    let improved = reviews.iter().filter(|r| r["verdict"] == "improved").count();
    assert!(improved * 10 <= reviews.len(), "{improved} of {} improved", reviews.len());

    // Everyone on one lever: there is nobody to compare with, and the review says so.
    let same: Vec<(&str, &str, &str)> =
        every.iter().map(|(r, m, _)| (*r, *m, "case->proposal")).collect();
    let plans = ledger(&s, "same.csv", &same);
    for r in review(&s, &plans, "data", "2026-05") {
        assert_eq!(r["verdict"], "", "not reviewable: {r:?}");
        assert!(
            r["note"].contains("every rep had a plan on case->proposal in 2026-03"),
            "{}",
            r["note"]
        );
    }
}

/// The coaching simulation of benches/review_accuracy.py, small: March plans written by `plan`
/// from the March month end, half of the planted weaknesses cured from April, review in May.
#[test]
fn the_tools_own_plans_are_verified_on_a_coaching_simulation() {
    let s = Session::new();
    let org = [
        "--seed",
        "2",
        "--directors",
        "2",
        "--managers",
        "4",
        "--reps",
        "16",
        "--months",
        "5",
        "--leads",
        "40",
    ];
    let cut = "2026-03-31T23:59:59Z";
    let mut args = vec!["generate", "--out", "march", "--as-of", cut];
    args.extend(org);
    let march = s.path_str("march");
    args[2] = &march;
    assert_eq!(s.run(&args).code, 0);
    let plans = s.path_str("plans.csv");
    let (events, activities, roster, sheets) = (
        s.path_str("march/events.csv"),
        s.path_str("march/activities.csv"),
        s.path_str("march/roster.csv"),
        s.path_str("sheets"),
    );
    let plan = s.run(&[
        "plan",
        "--events",
        &events,
        "--activities",
        &activities,
        "--roster",
        &roster,
        "--period",
        "2026-03",
        "--as-of",
        cut,
        "--out",
        &sheets,
        "--level",
        "rep",
        "--ledger",
        &plans,
    ]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let (may, truth) = (s.path_str("may"), s.path_str("may/truth.csv"));
    let mut args = vec![
        "generate",
        "--out",
        &may,
        "--ledger",
        &plans,
        "--fix-share",
        "0.5",
        "--truth",
        &truth,
    ];
    args.extend(org);
    assert_eq!(s.run(&args).code, 0);
    let truth: HashMap<String, Row> = csv_rows(&std::fs::read_to_string(&truth).unwrap())
        .into_iter()
        .map(|r| (r["rep_id"].clone(), r))
        .collect();
    let out = s.run(&[
        "review",
        "--ledger",
        &plans,
        "--events",
        &s.path_str("may/events.csv"),
        "--activities",
        &s.path_str("may/activities.csv"),
        "--roster",
        &s.path_str("may/roster.csv"),
        "--period",
        "2026-05",
        "-f",
        "csv",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (mut cured, mut others) = ((0, 0), (0, 0));
    for r in csv_rows(&out.stdout).iter().filter(|r| r["level"] == "plan") {
        let improved = (r["verdict"] == "improved") as u32;
        if truth[&r["rep_id"]]["fixed"] == "true" {
            cured = (cured.0 + improved, cured.1 + 1);
        } else {
            others = (others.0 + improved, others.1 + 1);
        }
    }
    // Measured on this seed: 8 of 13 cured plans improved, 1 of 21 others.
    assert!(cured.1 >= 10 && others.1 >= 10, "{cured:?} {others:?}");
    assert!(cured.0 * 5 >= cured.1 * 2, "cured improved: {cured:?}");
    assert!(others.0 * 10 <= others.1, "uncured or healthy improved: {others:?}");
}

/// The text from a heading to the next heading of the same level.
fn section(text: &str, heading: &str) -> String {
    let start = text.find(heading).unwrap_or_else(|| panic!("no {heading:?} in\n{text}"));
    let rest = &text[start..];
    let end = rest[heading.len()..].find("\n## ").map_or(rest.len(), |i| i + heading.len() + 1);
    rest[..end].trim_end().to_string()
}

fn sheet(dir: &std::path::Path, prefix: &str) -> String {
    let entry = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.extension().is_some_and(|e| e == "md")
                && p.file_name().unwrap().to_string_lossy().starts_with(prefix)
        })
        .unwrap_or_else(|| panic!("no {prefix} sheet in {}", dir.display()));
    std::fs::read_to_string(entry).unwrap()
}

#[test]
fn next_months_sheets_show_the_review_with_its_interval_and_leading_signal() {
    let s = Session::new();
    let data = |f: &str| format!("{}/sample-data/{f}", env!("CARGO_MANIFEST_DIR"));
    let (events, activities, roster) =
        (data("events.csv"), data("activities.csv"), data("roster.csv"));
    let plans = s.path_str("plans.csv");
    let plan = |period: &str, out: &str, lang: &str| {
        let out = s.path_str(out);
        let r = s.run(&[
            "plan",
            "--events",
            &events,
            "--activities",
            &activities,
            "--roster",
            &roster,
            "--period",
            period,
            "--out",
            &out,
            "--ledger",
            &plans,
            "--lang",
            lang,
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    plan("2026-02", "february", "en");
    let r = s.run(&[
        "review",
        "--ledger",
        &plans,
        "--events",
        &events,
        "--activities",
        &activities,
        "--roster",
        &roster,
        "--period",
        "2026-03",
        "--update-ledger",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for lang in ["en", "ja"] {
        let out = format!("march-{lang}");
        plan("2026-03", &out, lang);
        let rep = sheet(&s.path(&format!("{out}/reps")), "R00008");
        let manager = sheet(&s.path(&format!("{out}/managers")), "M001");
        let (rep_heading, manager_heading, record) = if lang == "en" {
            (
                "## 1. Last month's plan",
                "## Last period's plans",
                "## The manager's coaching record",
            )
        } else {
            (
                section_heading(&rep, "前月"),
                section_heading(&manager, "前回"),
                section_heading(&manager, "コーチング"),
            )
        };
        let text = format!(
            "{}\n\n{}\n\n{}\n",
            section(&rep, rep_heading),
            section(&manager, manager_heading),
            section(&manager, record)
        );
        assert!(text.contains("95%"), "{text}");
        insta::assert_snapshot!(format!("review_section_{lang}"), text);
    }
}

/// The first `## ` heading that contains `word`.
fn section_heading<'t>(text: &'t str, word: &str) -> &'t str {
    text.lines()
        .find(|l| l.starts_with("## ") && l.contains(word))
        .unwrap_or_else(|| panic!("no heading with {word:?} in\n{text}"))
}
