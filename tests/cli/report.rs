//! `salescoach report` and `salescoach demo`: a whole month end, idempotent and all-or-nothing.

use crate::support::{Session, fixture_str};
use pulldown_cmark::{Event, Parser, Tag};
use std::collections::BTreeMap;
use std::path::Path;

fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

fn links(markdown: &str) -> Vec<String> {
    Parser::new(markdown)
        .filter_map(|e| match e {
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => Some(dest_url.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn demo_links_resolve_and_a_second_run_changes_nothing() {
    let s = Session::new();
    let out = s.path("demo");
    let r = s.run(&["demo", "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let index = out.join("2026-03/index.md");
    let page = out.join("2026-03/index.html");
    assert_eq!(r.stdout.trim(), page.display().to_string(), "demo prints the page to open");
    let text = std::fs::read_to_string(&index).unwrap();
    let targets = links(&text);
    assert!(targets.len() > 30, "{targets:?}");
    for t in &targets {
        let path = index.parent().unwrap().join(t);
        assert!(path.exists(), "index.md links to a missing {t}");
        if t.ends_with(".md") {
            for inner in links(&std::fs::read_to_string(&path).unwrap()) {
                assert!(
                    path.parent().unwrap().join(&inner).exists(),
                    "{t} links to a missing {inner}"
                );
            }
        }
    }
    assert!(
        text.contains("## Review of earlier plans")
            && text.contains("| Rep | Focus | Before | After"),
        "March reviews February's plans"
    );
    let before = files(&out);
    let again = s.run(&["demo", "--out", out.to_str().unwrap()]);
    assert_eq!(again.code, 0);
    assert_eq!(files(&out), before, "a second run changes nothing");
}

#[test]
fn failed_validation_writes_nothing() {
    let s = Session::new();
    let bad = s.write("events.csv", "deal_id,rep_id,stage,ts\nD1,R00001,lead,not-a-time\n");
    let out = s.path("report");
    let r = s.run(&[
        "report",
        "--events",
        &bad,
        "--roster",
        &fixture_str("../../sample-data/roster.csv"),
        "--period",
        "2026-03",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("type-error") && r.stderr.contains("nothing was written"),
        "{}",
        r.stderr
    );
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(s.dir.path()).unwrap().count(),
        1,
        "no staging folder left behind"
    );
}

fn report_args<'a>(sample: &'a [String; 3], ledger: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "report",
        "--events",
        &sample[0],
        "--activities",
        &sample[1],
        "--roster",
        &sample[2],
        "--ledger",
        ledger,
        "--period",
        "2026-03",
        "--out",
        out,
        "-q",
    ]
}

fn sample_inputs() -> [String; 3] {
    ["events.csv", "activities.csv", "roster.csv"]
        .map(|f| fixture_str(&format!("../../sample-data/{f}")))
}

#[test]
fn report_updates_the_ledger_and_replaces_its_own_earlier_files_only() {
    let s = Session::new();
    let sample = sample_inputs();
    let out = s.path("report");
    let out_str = out.to_str().unwrap();
    let ledger = s.path_str("plans.csv");
    let first = s.run(&report_args(&sample, &ledger, out_str));
    assert_eq!(first.code, 0, "{}", first.stderr);
    // A file the earlier report wrote and this one does not, and files the user put there.
    s.write("report/reps/GONE.md", "an earlier report's sheet");
    let manifest = out.join(".salescoach-report");
    let listed = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{listed}reps/GONE.md\n")).unwrap();
    s.write("report/notes.md", "the manager's own notes");
    s.write("report/stale/keep.txt", "a user's folder");
    let r = s.run(&report_args(&sample, &ledger, out_str));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!out.join("reps/GONE.md").exists(), "the earlier report's own stale file is removed");
    assert_eq!(std::fs::read_to_string(out.join("notes.md")).unwrap(), "the manager's own notes");
    assert!(out.join("stale/keep.txt").exists(), "a folder the report did not write survives");
    for f in [
        "index.md",
        "funnel.svg",
        "data/funnel.parquet",
        "data/diagnosis.csv",
        "data/review.csv",
        "data/validation.json",
        "managers/M001.md",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    let plans = std::fs::read_to_string(&ledger).unwrap();
    // A plan per rep (24), per manager (3) and for the director, and the header.
    assert_eq!(plans.lines().count(), 29, "a plan per rep, manager and director");
}
