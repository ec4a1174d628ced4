//! Exit codes: 0 success, 1 the data failed a check, 2 usage, configuration or IO error.

use crate::support::{Session, fixture_str};

#[test]
fn usage_error_is_2() {
    let s = Session::new();
    let out = s.run(&["funnel", "--no-such-flag"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(s.run(&["no-such-command"]).code, 2);
}

#[test]
fn help_and_version_are_0() {
    let s = Session::new();
    for cmd in [
        "funnel", "generate", "init", "diagnose", "plan", "review", "validate", "report", "demo",
        "ingest",
    ] {
        let out = s.run(&[cmd, "--help"]);
        assert_eq!(out.code, 0);
        assert!(out.stdout.contains("Examples:"), "{cmd} --help has examples");
        assert!(out.stdout.contains("$ salescoach"), "{cmd} --help has worked examples");
    }
    assert_eq!(s.run(&["--version"]).code, 0);
}

#[test]
fn missing_file_is_2() {
    let s = Session::new();
    let out = s.run(&["funnel", "--events", "nope.csv"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("nope.csv"), "{}", out.stderr);
}

#[test]
fn bad_playbook_is_2_and_names_key_and_line() {
    let s = Session::new();
    let pb = s.write("pb.toml", "[funnel]\nstages = [\"lead\", \"won\"]\nwindow_days = -3\n");
    let out =
        s.run(&["funnel", "--config", &pb, "--events", &fixture_str("funnel/rules.events.csv")]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("line 3") && out.stderr.contains("window_days"), "{}", out.stderr);
}

#[test]
fn missing_required_column_is_1() {
    let s = Session::new();
    let ev = s.write("ev.csv", "deal_id,stage,ts\nD1,lead,2026-01-01T00:00:00Z\n");
    let out = s.run(&["funnel", "--events", &ev]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("rep_id") && out.stderr.contains("ev.csv"), "{}", out.stderr);
}

#[test]
fn semicolon_file_gets_a_hint() {
    let s = Session::new();
    let ev = s.write("ev.csv", "deal_id;rep_id;stage;ts\nD1;R1;lead;2026-01-01T00:00:00Z\n");
    let out = s.run(&["funnel", "--events", &ev]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("semicolon"), "{}", out.stderr);
}

#[test]
fn parquet_to_a_terminal_is_refused_but_to_a_pipe_works() {
    let s = Session::new();
    let out =
        s.run(&["funnel", "--events", &fixture_str("funnel/rules.events.csv"), "-f", "parquet"]);
    assert_eq!(out.code, 0, "stdout is a pipe here: {}", out.stderr);
    assert!(out.stdout.starts_with("PAR1"));
}

#[test]
fn init_writes_the_playbook_and_templates_and_keeps_edits() {
    let s = Session::new();
    let dir = s.path_str("cfg");
    assert_eq!(s.run(&["init", &dir]).code, 0);
    for f in ["playbook.toml", "templates/en/rep.md.j2", "templates/ja/director.md.j2"] {
        assert!(s.path(&format!("cfg/{f}")).exists(), "{f}");
    }
    std::fs::write(s.path("cfg/playbook.toml"), "# mine\n").unwrap();
    let again = s.run(&["init", &dir]);
    assert!(again.stderr.contains("kept"));
    assert_eq!(std::fs::read_to_string(s.path("cfg/playbook.toml")).unwrap(), "# mine\n");
}

#[test]
fn a_template_error_names_the_file_and_line() {
    let s = Session::new();
    let dir = s.path_str("cfg");
    s.run(&["init", &dir]);
    std::fs::write(
        s.path("cfg/templates/en/rep.md.j2"),
        "# {{ rep.name }}\n\n{{ rep.nickname }}\n",
    )
    .unwrap();
    let out = s.run(&[
        "plan",
        "--events",
        &fixture_str("../../sample-data/events.csv"),
        "--out",
        &s.path_str("ws"),
        "--templates",
        &s.path_str("cfg/templates"),
        "--level",
        "rep",
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("rep.md.j2:3") && out.stderr.contains("undefined"),
        "{}",
        out.stderr
    );
}
