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
        "plan",
        "--events",
        &sample("events.csv"),
        "--activities",
        &sample("activities.csv"),
        "--roster",
        &sample("roster.csv"),
        "--period",
        "2026-03",
        "--as-of",
        "2026-03-31",
        "--out",
        "sheets",
        "--ledger",
        &ledger,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&ledger).unwrap();
    assert!(text.contains(",suggested,") && text.contains(",proposed,"), "{text:.300}");
    let v = s.run(&["validate", "--table", "plans", &ledger]);
    assert_eq!(v.code, 0, "{}", v.stdout);
}

fn plan_with_ledger(s: &Session, ledger: &str) {
    let r = s.run(&[
        "plan",
        "--events",
        &sample("events.csv"),
        "--activities",
        &sample("activities.csv"),
        "--roster",
        &sample("roster.csv"),
        "--period",
        "2026-03",
        "--as-of",
        "2026-03-31",
        "--out",
        "ws",
        "--ledger",
        ledger,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

fn hold_lock(path: std::path::PathBuf) -> std::fs::File {
    let f =
        std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path).unwrap();
    f.lock().unwrap();
    f
}

#[test]
fn a_second_ledger_writer_waits_and_rereads_so_no_update_is_lost() {
    let s = Session::new();
    let ledger = s.path_str("plans.csv");
    plan_with_ledger(&s, &ledger);
    let sheet = s.path("ws/reps/R00012.md");
    let edited = std::fs::read_to_string(&sheet).unwrap().replacen(
        "- Agreed focus: ________",
        "- Agreed focus: Case → Proposal",
        1,
    );
    std::fs::write(&sheet, edited).unwrap();
    // Another run holds the ledger: with waiting turned off, import fails at once (exit 2).
    let held = hold_lock(s.path(".plans.csv.lock"));
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_salescoach"));
    cmd.current_dir(s.dir.path())
        .env("SALESCOACH_NOW", &s.now)
        .args(["plan", "import", "ws", "--ledger", &ledger]);
    let refused = cmd.env("SALESCOACH_LOCK_WAIT", "0").output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("another salescoach is updating the ledger")
    );
    // By default it waits; meanwhile the holder updates the ledger, then lets go.
    let waiting = cmd
        .env_remove("SALESCOACH_LOCK_WAIT")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Give it time to reach the lock (it waits there however long this takes).
    std::thread::sleep(std::time::Duration::from_millis(300));
    let text = std::fs::read_to_string(&ledger).unwrap();
    let marked = text
        + "2026-02:R99999,2026-02,R99999,Written Meanwhile,M001,lead->case,0.2,10,0.3,0.25,2026-03,proposed,,,,,,,,,,,,,,,,,,,,,\n";
    std::fs::write(&ledger, marked).unwrap();
    drop(held);
    let out = waiting.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("waiting for another salescoach"));
    let after = std::fs::read_to_string(&ledger).unwrap();
    assert!(after.contains("2026-02:R99999"), "the update made meanwhile is kept");
    let r12 = after.lines().find(|l| l.starts_with("2026-03:R00012,")).unwrap();
    assert!(r12.contains(",agreed,") && r12.contains("case->proposal"), "{r12}");
}

#[test]
fn two_reports_into_one_folder_run_one_after_the_other() {
    let s = Session::new();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_salescoach"))
            .current_dir(s.dir.path())
            .env("SALESCOACH_NOW", &s.now)
            .args([
                "report",
                "--events",
                &sample("events.csv"),
                "--roster",
                &sample("roster.csv"),
                "--period",
                "2026-03",
                "--as-of",
                "2026-03-31",
                "--out",
                "r",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (run(), run());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let manifest = std::fs::read_to_string(s.path("r/.salescoach-report")).unwrap();
    let mut on_disk = Vec::new();
    let mut stack = vec![s.path("r")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                on_disk.push(p.strip_prefix(s.path("r")).unwrap().display().to_string());
            }
        }
    }
    for f in on_disk.iter().filter(|f| *f != ".salescoach-report") {
        assert!(manifest.lines().any(|l| l.contains(f.as_str())), "{f} is not in the manifest");
    }
}
