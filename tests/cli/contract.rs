//! The CLI contract (issue #12): every option honoured or refused, no data loss, periods
//! checked, closed pipes, totals that add up with an unknown manager.

use crate::support::{Session, csv_rows, fixture_str};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

fn sample(f: &str) -> String {
    fixture_str(&format!("../../sample-data/{f}"))
}

fn report<'a>(out: &'a str, inputs: &'a [String; 3], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "report",
        "--events",
        &inputs[0],
        "--activities",
        &inputs[1],
        "--roster",
        &inputs[2],
        "--period",
        "2026-03",
        "--out",
        out,
        "-q",
    ];
    args.extend_from_slice(extra);
    args
}

fn inputs() -> [String; 3] {
    [sample("events.csv"), sample("activities.csv"), sample("roster.csv")]
}

#[test]
fn report_refuses_a_folder_of_foreign_files_and_deletes_nothing() {
    let s = Session::new();
    let inputs = inputs();
    s.write("exports/notes.md", "mine");
    s.write("exports/sub/keep.csv", "a,b\n1,2\n");
    let out = s.path_str("exports");
    let r = s.run(&report(&out, &inputs, &[]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not empty") && r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(s.path("exports/notes.md")).unwrap(), "mine");
    assert!(!s.path("exports/index.md").exists(), "nothing written");

    let forced = s.run(&report(&out, &inputs, &["--force"]));
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_eq!(std::fs::read_to_string(s.path("exports/notes.md")).unwrap(), "mine");
    assert!(s.path("exports/sub/keep.csv").exists());
    assert!(s.path("exports/index.md").exists());
}

#[test]
fn report_never_overwrites_its_inputs() {
    let s = Session::new();
    // The inputs sit where the report would write its own data tables.
    for f in ["events.csv", "activities.csv", "roster.csv"] {
        std::fs::create_dir_all(s.path("out/data")).unwrap();
        std::fs::copy(sample(f), s.path(&format!("out/{f}"))).unwrap();
    }
    std::fs::copy(sample("events.csv"), s.path("out/data/funnel.csv")).unwrap();
    let inputs = [
        s.path_str("out/data/funnel.csv"),
        s.path_str("out/activities.csv"),
        s.path_str("out/roster.csv"),
    ];
    let before = std::fs::read(s.path("out/data/funnel.csv")).unwrap();
    let r = s.run(&report(&s.path_str("out"), &inputs, &["--force"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("overwrite its input"), "{}", r.stderr);
    assert_eq!(std::fs::read(s.path("out/data/funnel.csv")).unwrap(), before);
}

fn parquet_files(root: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            parquet_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "parquet") {
            out.push(p);
        }
    }
}

#[test]
fn every_parquet_file_a_report_writes_is_parquet() {
    let s = Session::new();
    let r = s.run(&report(&s.path_str("r"), &inputs(), &[]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut files = Vec::new();
    parquet_files(&s.path("r"), &mut files);
    assert!(files.len() >= 3, "{files:?}");
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"),
            "{} is Parquet",
            f.display()
        );
    }
}

#[test]
fn report_writes_its_summary_where_o_and_f_say() {
    let s = Session::new();
    let summary = s.path_str("summary.json");
    let r = s.run(&report(&s.path_str("r"), &inputs(), &["-o", &summary, "-f", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(json[0]["period"], "2026-03");
    assert_eq!(json[0]["reps"], 24);
    assert!(r.stdout.is_empty(), "the summary went to the file: {}", r.stdout);
}

#[test]
fn an_output_extension_salescoach_does_not_write_is_refused() {
    let s = Session::new();
    for cmd in ["funnel", "diagnose"] {
        let r = s.run(&[cmd, "--events", &sample("events.csv"), "-o", "y.xlsx"]);
        assert_eq!(r.code, 2, "{cmd}: {}", r.stderr);
        assert!(r.stderr.contains("y.xlsx"), "{}", r.stderr);
        assert!(!s.path("y.xlsx").exists(), "{cmd} wrote nothing");
    }
}

#[test]
fn a_period_label_has_one_spelling_and_must_hold_data() {
    let s = Session::new();
    let events = sample("events.csv");
    for args in [
        vec!["diagnose", "--events", &events, "--period", "2026-5"],
        vec!["funnel", "--events", &events, "--period", "2026-5"],
        vec!["plan", "--events", &events, "--period", "2026-5", "--out", "w"],
    ] {
        let r = s.run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("2026-04"), "an example is given: {}", r.stderr);
    }
    let r = s.run(
        &report(&s.path_str("r"), &inputs(), &[])
            .iter()
            .map(|a| if *a == "2026-03" { "2026-5" } else { a })
            .collect::<Vec<_>>(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    for args in [
        vec!["diagnose", "--events", &events, "--period", "2027-01"],
        vec!["funnel", "--events", &events, "--period", "2027-01"],
    ] {
        let r = s.run(&args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("no events in 2027-01 (data covers 2026-01 to 2026-06)"),
            "{}",
            r.stderr
        );
    }
    let r = s.run(
        &report(&s.path_str("r"), &inputs(), &[])
            .iter()
            .map(|a| if *a == "2026-03" { "2027-01" } else { a })
            .collect::<Vec<_>>(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!s.path("r").exists(), "no empty report");
}

#[test]
fn funnel_period_is_a_label_and_grain_the_length() {
    let s = Session::new();
    let events = sample("events.csv");
    let r = s.run(&[
        "funnel", "--events", &events, "--period", "2026-03", "--by", "company", "-f", "csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = csv_rows(&r.stdout);
    assert!(!rows.is_empty() && rows.iter().all(|r| r["period"] == "2026-03"));
    let q = s.run(&[
        "funnel", "--events", &events, "--grain", "quarter", "--by", "company", "-f", "csv",
    ]);
    assert!(csv_rows(&q.stdout).iter().any(|r| r["period"] == "2026-Q1"));
    let old = s.run(&[
        "funnel", "--events", &events, "--period", "quarter", "--by", "company", "-f", "csv",
    ]);
    assert_eq!(old.code, 0, "{}", old.stderr);
    assert_eq!(old.stdout, q.stdout, "the old spelling still works");
    assert!(old.stderr.contains("deprecated") && old.stderr.contains("--grain"), "{}", old.stderr);
}

/// Runs a command whose standard output is closed before it writes: `| head -c 0`.
fn closed_pipe_exit(args: &[&str], dir: &Path) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_salescoach"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (child.wait().unwrap().code().unwrap_or(-1), err)
}

#[test]
fn a_closed_pipe_is_success_for_every_command() {
    let s = Session::new();
    let (events, activities, roster) =
        (sample("events.csv"), sample("activities.csv"), sample("roster.csv"));
    let demo = s.path_str("demo");
    let ledger = s.path_str("demo/plans.csv");
    let commands: Vec<Vec<&str>> = vec![
        vec!["funnel", "--events", &events, "--roster", &roster],
        vec!["funnel", "--events", &events, "-f", "json"],
        vec!["diagnose", "--events", &events, "--roster", &roster],
        vec!["diagnose", "--events", &events, "-f", "json"],
        vec!["validate", &events, &activities, &roster],
        vec!["ingest", &events, "--table", "events"],
        vec!["demo", "--out", &demo],
        vec!["review", "--ledger", &ledger, "--events", &events, "--period", "2026-03"],
    ];
    for args in commands {
        let (code, err) = closed_pipe_exit(&args, s.dir.path());
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
    }
}

#[test]
fn every_level_adds_up_to_the_company_with_an_unknown_manager() {
    let s = Session::new();
    // R00001's manager M999 is not in the roster; R99999 is not in the roster at all.
    let roster = std::fs::read_to_string(sample("roster.csv")).unwrap();
    let mut lines: Vec<String> = roster.lines().map(String::from).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let (id, to) = (
        header.iter().position(|h| *h == "person_id").unwrap(),
        header.iter().position(|h| *h == "reports_to").unwrap(),
    );
    for line in lines.iter_mut().skip(1) {
        let mut cells: Vec<String> = line.split(',').map(String::from).collect();
        if cells[id] == "R00001" {
            cells[to] = "M999".into();
            *line = cells.join(",");
        }
    }
    let roster = s.write("roster.csv", &(lines.join("\n") + "\n"));
    let mut events = std::fs::read_to_string(sample("events.csv")).unwrap();
    events.push_str("X1,R99999,lead,2026-03-02T10:00:00Z,\n");
    let events = s.write("events.csv", &events);
    let r = s.run(&["funnel", "--events", &events, "--roster", &roster, "-f", "csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr.matches("(unassigned)").count(), 1, "one warning: {}", r.stderr);
    assert!(r.stderr.contains("2 reps"), "{}", r.stderr);
    let mut totals: BTreeMap<(String, String, String), BTreeMap<String, u64>> = BTreeMap::new();
    for row in csv_rows(&r.stdout) {
        let key = (row["period"].clone(), row["from_stage"].clone(), row["to_stage"].clone());
        *totals.entry(key).or_default().entry(row["level"].clone()).or_default() +=
            row["entered"].parse::<u64>().unwrap();
    }
    let mut checked = 0;
    for (key, by_level) in &totals {
        let company = by_level["company"];
        for (level, n) in by_level {
            assert_eq!(*n, company, "{key:?}: {level} adds up to the company");
            checked += 1;
        }
    }
    assert!(checked > 20, "levels were compared");
    let w = s.path_str("w");
    for args in [
        vec!["diagnose", "--events", &events, "--roster", &roster, "-f", "csv"],
        vec!["plan", "--events", &events, "--roster", &roster, "--out", &w],
    ] {
        let d = s.run(&args);
        assert_eq!(d.code, 0, "{}", d.stderr);
        assert_eq!(d.stderr.matches("(unassigned)").count(), 1, "{}", d.stderr);
    }
}

#[test]
fn options_that_do_not_apply_are_refused() {
    let s = Session::new();
    let g = s.run(&["generate", "--out", "-"]);
    assert_eq!(g.code, 2, "{}", g.stderr);
    assert!(!s.path("-").exists(), "no folder named -");
    let g = s.run(&["generate", "--out", "g", "-o", "x.csv"]);
    assert_eq!(g.code, 2, "{}", g.stderr);
    let i = s.run(&["init", "x", "-o", "y.csv"]);
    assert_eq!(i.code, 2, "{}", i.stderr);
    let p = s.run(&["plan", "--events", &sample("events.csv"), "--out", "w", "-f", "json"]);
    assert_eq!(p.code, 2, "{}", p.stderr);
}

#[test]
fn diagnose_and_validate_write_where_o_says() {
    let s = Session::new();
    let events = sample("events.csv");
    let d =
        s.run(&["diagnose", "--events", &events, "-f", "table", "-o", "d.txt", "--width", "80"]);
    assert_eq!(d.code, 0, "{}", d.stderr);
    assert!(d.stdout.is_empty(), "{}", d.stdout);
    let table = std::fs::read_to_string(s.path("d.txt")).unwrap();
    assert!(table.contains("focus"));
    assert!(table.lines().all(|l| l.chars().count() <= 80), "fits 80 columns:\n{table}");
    let j = s.run(&["diagnose", "--events", &events, "-o", "d.json"]);
    assert_eq!(j.code, 0, "{}", j.stderr);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.path("d.json")).unwrap()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 24);
    let v = s.run(&["validate", &events, "-o", "v.json"]);
    assert_eq!(v.code, 0, "{}", v.stderr);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.path("v.json")).unwrap()).unwrap();
    assert_eq!(report["valid"], true);
    let csv = s.run(&["validate", &events, "-o", "v.csv"]);
    assert_eq!(csv.code, 2, "a report is not a CSV table: {}", csv.stderr);
}

#[test]
fn messages_name_the_problem_once() {
    let s = Session::new();
    let r = s.run(&["validate", "nope.csv"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no such file: nope.csv"), "{}", r.stderr);
    let bad = s.write("bad/events.csv", "deal_id,rep_id,ts\nD1,R1,2026-01-01\n");
    let r = s.run(&["validate", &bad]);
    assert_eq!(r.stdout.matches("bad/events.csv").count(), 1, "{}", r.stdout);
    let extra =
        s.write("x.events.csv", "deal_id,rep_id,stage,ts,amount\nD1,R1,lead,2026-01-01,1,EXTRA\n");
    let r = s.run(&["validate", &extra]);
    assert!(r.stdout.contains("D1,R1,lead,2026-01-01,1,EXTRA"), "{}", r.stdout);
    let dup = s.write(
        "d.events.csv",
        "deal_id,rep_id,stage,ts,amount,amount\nD1,R1,lead,2026-01-01,1,2\n",
    );
    let r = s.run(&["validate", &dup]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("[duplicate-label]"), "{}", r.stdout);
}

#[test]
fn a_second_report_keeps_a_worksheet_edited_in_the_meeting() {
    let s = Session::new();
    let inputs = inputs();
    let out = s.path_str("r");
    assert_eq!(s.run(&report(&out, &inputs, &[])).code, 0);
    let sheet = s.path("r/reps/R00001.md");
    let edited = std::fs::read_to_string(&sheet).unwrap().replacen(
        "- Agreed focus: ________",
        "- Agreed focus: lead->case",
        1,
    );
    std::fs::write(&sheet, &edited).unwrap();
    let r = s.run(&[
        "report",
        "--events",
        &inputs[0],
        "--activities",
        &inputs[1],
        "--roster",
        &inputs[2],
        "--period",
        "2026-03",
        "--out",
        &out,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&sheet).unwrap(), edited, "the edit survives");
    assert!(r.stderr.contains("kept") && r.stderr.contains("R00001.md"), "{}", r.stderr);
}

#[test]
fn force_never_overwrites_a_file_of_the_users_with_a_report_files_name() {
    let s = Session::new();
    s.write("mine/index.md", "my own index");
    let r = s.run(&report(&s.path_str("mine"), &inputs(), &["--force"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("index.md"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(s.path("mine/index.md")).unwrap(), "my own index");
}

#[test]
fn a_closed_standard_error_does_not_crash_a_command() {
    let s = Session::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_salescoach"))
        .current_dir(s.dir.path())
        .args([
            "report",
            "--events",
            &sample("events.csv"),
            "--roster",
            &sample("roster.csv"),
            "--period",
            "2026-03",
            "--out",
            "r",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(s.path("r/index.md").exists(), "the work was done");
}

#[test]
fn an_unknown_manager_is_a_usage_error() {
    let s = Session::new();
    let r = s.run(&[
        "diagnose",
        "--events",
        &sample("events.csv"),
        "--roster",
        &sample("roster.csv"),
        "--manager",
        "M999",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("M999"), "{}", r.stderr);
}

#[test]
fn a_txt_output_is_the_human_table() {
    let s = Session::new();
    let r = s.run(&["funnel", "--events", &sample("events.csv"), "--by", "company", "-o", "f.txt"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(s.path("f.txt")).unwrap();
    assert!(text.contains("conv/entered") && !text.starts_with("level,"), "{text}");
}

/// `-o /dev/null` must write into the device, not rename a file over it (as root that replaces
/// the machine's /dev/null with a plain file). A FIFO stands in for the device here.
#[cfg(unix)]
#[test]
fn output_to_a_device_or_pipe_is_written_in_place() {
    use std::os::unix::fs::FileTypeExt;
    let s = Session::new();
    let fifo = s.path("out.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            std::fs::File::open(fifo).unwrap().read_to_string(&mut text).unwrap();
            text
        })
    };
    let inputs = inputs();
    let fifo_str = fifo.to_str().unwrap();
    let r = s.run(&[
        "funnel", "--events", &inputs[0], "--period", "2026-03", "-o", fifo_str, "-f", "csv", "-q",
    ]);
    if r.code != 0 {
        drop(std::fs::OpenOptions::new().write(true).open(&fifo)); // unblocks the reader
    }
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Checked before joining: a reader of a replaced FIFO would wait forever.
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "still a FIFO");
    let text = reader.join().unwrap();
    assert!(text.contains(','), "CSV came through the pipe: {text}");
}
