//! Nothing lost: outputs through links, and what a sloppy setup does to files.

use crate::support::Session;
use std::os::unix::fs::symlink;

fn sample(f: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-data")
        .join(f)
        .display()
        .to_string()
}

#[test]
fn an_output_through_a_symlink_writes_its_target_and_keeps_the_link() {
    let s = Session::new();
    s.write("real/funnel.csv", "old\n");
    let link = s.path("latest.csv");
    symlink(s.path("real/funnel.csv"), &link).unwrap();
    let r = s.run(&["funnel", "--events", &sample("events.csv"), "-o", link.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays");
    let written = std::fs::read_to_string(s.path("real/funnel.csv")).unwrap();
    assert!(written.starts_with("level,group_id"), "the target holds the table: {written:.60}");
}

#[test]
fn an_output_through_a_descriptor_link_reaches_the_redirected_file() {
    let s = Session::new();
    // `-o /dev/stdout > cap.csv`, without touching /dev: a link to this process's descriptor 1.
    symlink("/proc/self/fd/1", s.path("mystdout")).unwrap();
    let cap = std::fs::File::create(s.path("cap.csv")).unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_salescoach"))
        .current_dir(s.dir.path())
        .args(["funnel", "--events", &sample("events.csv"), "-f", "csv", "-o", "mystdout"])
        .env("SALESCOACH_NOW", &s.now)
        .stdout(cap)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(std::fs::symlink_metadata(s.path("mystdout")).unwrap().file_type().is_symlink());
    let captured = std::fs::read_to_string(s.path("cap.csv")).unwrap();
    assert!(captured.starts_with("level,group_id"), "captured: {captured:.60}");
}

#[test]
fn the_plans_schema_accepts_every_status_the_tool_writes() {
    let s = Session::new();
    let ledger = s.path_str("plans.csv");
    let r = s.run(&[
        "plan", "--events", &sample("events.csv"), "--activities", &sample("activities.csv"),
        "--roster", &sample("roster.csv"), "--period", "2026-03", "--as-of", "2026-03-31",
        "--out", "sheets", "--ledger", &ledger,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&ledger).unwrap();
    assert!(text.contains(",suggested,") && text.contains(",proposed,"), "{text:.300}");
    let v = s.run(&["validate", "--table", "plans", &ledger]);
    assert_eq!(v.code, 0, "{}", v.stdout);
}
