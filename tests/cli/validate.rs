//! `salescoach validate`: each class of bad input gives its finding, with file, row and column.

use crate::support::{Session, fixture_str};

fn validate(args: &[&str]) -> (i32, serde_json::Value) {
    let s = Session::new();
    let mut all = vec!["validate", "-f", "json"];
    all.extend_from_slice(args);
    let out = s.run(&all);
    let report = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", out.stdout, out.stderr));
    (out.code, report)
}

fn has(
    report: &serde_json::Value,
    list: &str,
    kind: &str,
    row: Option<u64>,
    field: Option<&str>,
) -> bool {
    report[list].as_array().unwrap().iter().any(|f| {
        f["type"] == kind
            && row.is_none_or(|r| f["rowNumber"] == r)
            && field.is_none_or(|c| f["fieldName"] == c)
    })
}

fn fx(name: &str) -> String {
    fixture_str(&format!("validate/{name}"))
}

#[test]
fn valid_tables_pass() {
    let (code, r) =
        validate(&[&fx("ok.events.csv"), &fx("ok.activities.csv"), &fx("ok.roster.csv")]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["valid"], true);
    assert_eq!(r["stats"]["rows"], 10);
}

#[test]
fn the_sample_data_passes() {
    let sample = |f: &str| fixture_str(&format!("../../sample-data/{f}"));
    let (code, r) =
        validate(&[&sample("events.csv"), &sample("activities.csv"), &sample("roster.csv")]);
    assert_eq!(code, 0, "{}", r["errors"]);
}

#[test]
fn roster_cycles_unknown_managers_and_duplicate_ids() {
    let (code, r) = validate(&[&fx("cycle.roster.csv")]);
    assert_eq!(code, 1);
    assert!(has(&r, "errors", "cycle", None, Some("reports_to")), "{r}");
    let cycle = r["errors"].as_array().unwrap().iter().find(|f| f["type"] == "cycle").unwrap();
    assert!(cycle["message"].as_str().unwrap().contains("A → C → B → A"), "{cycle}");
    assert!(has(&r, "errors", "foreign-key", None, Some("reports_to")));
    assert!(has(&r, "errors", "unique-error", Some(7), Some("person_id")));
}

#[test]
fn activities_constraints_types_and_references() {
    let (code, r) = validate(&[
        &fx("bad.activities.csv"),
        "--roster",
        &fx("ok.roster.csv"),
        "--events",
        &fx("ok.events.csv"),
    ]);
    assert_eq!(code, 1);
    assert!(has(&r, "errors", "constraint-error", Some(2), Some("duration_s")), "{r}");
    assert!(has(&r, "errors", "unique-error", Some(3), Some("activity_id")));
    assert!(has(&r, "errors", "foreign-key", Some(3), Some("deal_id")));
    assert!(has(&r, "errors", "type-error", Some(3), Some("personalized")));
    assert!(has(&r, "errors", "foreign-key", Some(4), Some("rep_id")));
    assert!(has(&r, "errors", "constraint-error", Some(4), Some("type")));
}

#[test]
fn event_sanity() {
    let (code, r) = validate(&[&fx("sanity.events.csv"), "--as-of", "2026-02-25"]);
    assert_eq!(code, 1);
    assert!(has(&r, "errors", "conflicting-duplicate", Some(3), None), "{r}");
    assert!(has(&r, "errors", "constraint-error", Some(4), Some("ts")), "after --as-of");
    assert!(has(&r, "warnings", "after-terminal", None, Some("stage")));
    assert!(has(&r, "errors", "type-error", Some(7), Some("amount")), "1e5 is not a plain decimal");
    assert!(
        has(&r, "errors", "type-error", Some(8), Some("amount")),
        "1,000 needs an explicit option"
    );
}

#[test]
fn strict_fails_on_warnings_and_max_errors_caps_printing_not_counting() {
    let s = Session::new();
    let ev = s.write("dup.events.csv", "deal_id,rep_id,stage,ts\nD1,R1,lead,2026-01-01T00:00:00Z\nD1,R1,lead,2026-01-01T00:00:00Z\n");
    assert_eq!(s.run(&["validate", &ev]).code, 0, "a duplicate is a warning");
    assert_eq!(s.run(&["validate", &ev, "--strict"]).code, 1);
    let many: String = (0..30).map(|i| format!("D{i},R1,nope,2026-01-01T00:00:00Z\n")).collect();
    let bad = s.write("many.events.csv", &format!("deal_id,rep_id,stage,ts\n{many}"));
    let out = s.run(&["validate", &bad, "--max-errors", "3"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout.lines().filter(|l| l.starts_with("error:")).count(), 3);
    assert!(
        out.stdout.contains("27 more errors") && out.stdout.contains("30 errors"),
        "{}",
        out.stdout
    );
}

#[test]
fn structure_problems_name_the_line() {
    let s = Session::new();
    let ev = s.write(
        "shape.events.csv",
        "deal_id,rep_id,stage,ts\nD1,R1,lead,2026-01-01T00:00:00Z,extra\n\"D2\nwith newline\",R1,lead,2026-01-02T00:00:00Z\nD3,R1\n",
    );
    let out = s.run(&["validate", &ev]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("row 2") && out.stdout.contains("[extra-cell]"), "{}", out.stdout);
    // The record with an embedded newline is row 3 on lines 3–4, so the next is row 4 on line 5.
    assert!(
        out.stdout.contains("shape.events.csv:5: row 4") && out.stdout.contains("[missing-cell]"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_file_missing_a_required_column_is_a_schema_error() {
    let s = Session::new();
    let ev = s.write("x.events.csv", "deal_id;rep_id;stage;ts\nD1;R1;lead;2026-01-01T00:00:00Z\n");
    let out = s.run(&["validate", &ev]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("schema-error") && out.stdout.contains("semicolon"),
        "{}",
        out.stdout
    );
    assert_eq!(
        s.run(&["validate", "nope.csv", "--table", "events"]).code,
        2,
        "a missing file is an IO error"
    );
}

#[test]
fn a_five_megabyte_field_is_an_error_shown_in_short() {
    let s = Session::new();
    let huge = "R".repeat(5_000_000);
    let ev = s.write(
        "huge.events.csv",
        &format!("deal_id,rep_id,stage,ts\nD1,{huge},lead,2026-01-01T00:00:00Z\n"),
    );
    let out = s.run(&["validate", &ev]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("column rep_id: a field of 5000000 bytes (at most 1048576)"),
        "{}",
        &out.stdout[..out.stdout.len().min(500)]
    );
    assert!(out.stdout.lines().all(|l| l.len() < 400), "the value is previewed, not echoed");
}

#[test]
fn a_file_whose_name_does_not_say_is_known_by_its_header() {
    let s = Session::new();
    let parquet = s.path_str("export-2026-03.parquet");
    let made = s.run(&["ingest", &fx("ok.events.csv"), "--table", "events", "-o", &parquet]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let roster = std::fs::read_to_string(fx("ok.roster.csv")).unwrap();
    let team = s.write("team.csv", &roster);
    let out = s.run(&["validate", &parquet, &team]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("valid: 2 tables"), "{}", out.stdout);
    let other = s.write("notes.csv", "when,what\n2026-01-01,hello\n");
    let out = s.run(&["validate", &other]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("cannot tell which table this is from its name or header"));
}

#[test]
fn a_folder_source_names_the_file_each_finding_is_in() {
    let s = Session::new();
    let head = "deal_id,rep_id,stage,ts,amount\n";
    s.write(
        "exports/month=2026-01/events.csv",
        &format!("{head}D1,R1,lead,2026-01-02T09:00:00Z,\n"),
    );
    s.write(
        "exports/month=2026-02/events.csv",
        &format!("{head}D2,R1,lead,2026-02-02T09:00:00Z,\nD1,R1,lead,2026-01-02T09:00:00Z,\n"),
    );
    let out = s.run(&["validate", &s.path_str("exports"), "--table", "events", "-f", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let dup = &report["warnings"][0];
    assert_eq!(dup["type"], "duplicate-row", "{report}");
    assert!(dup["file"].as_str().unwrap().ends_with("month=2026-02/events.csv"), "{dup}");
    assert_eq!(dup["rowNumber"], 3);
    let msg = dup["message"].as_str().unwrap();
    assert!(msg.contains("row 2 of") && msg.contains("month=2026-01/events.csv"), "{msg}");
    // The same files named one by one are one table too.
    let (jan, feb) = (
        s.path_str("exports/month=2026-01/events.csv"),
        s.path_str("exports/month=2026-02/events.csv"),
    );
    let out = s.run(&["validate", &jan, &feb, "--table", "events", "-f", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["warnings"][0]["type"], "duplicate-row", "{report}");
}

#[test]
fn activities_after_as_of_are_errors_as_events_are() {
    let s = Session::new();
    let events =
        s.write("events.csv", "deal_id,rep_id,stage,ts\nD1,R1,lead,2026-03-02T09:00:00Z\n");
    let acts = s.write(
        "activities.csv",
        "activity_id,rep_id,deal_id,type,ts\nA1,R1,D1,call,2026-03-03T09:00:00Z\nA2,R1,D1,call,2026-04-02T09:00:00Z\n",
    );
    let out = s.run(&["validate", &events, &acts, "--as-of", "2026-03-31", "-f", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let e = &report["errors"][0];
    assert!(e["file"].as_str().unwrap().ends_with("activities.csv"), "{report}");
    assert_eq!(e["rowNumber"], 3);
    assert!(e["message"].as_str().unwrap().contains("after --as-of"), "{e}");
}
