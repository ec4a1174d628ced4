//! Nothing lost: outputs through links, and what a sloppy setup does to files.

use crate::support::{Session, sample};
use std::os::unix::fs::symlink;

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

fn rerun_plan(s: &Session) -> crate::support::Output {
    s.run(&[
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
    ])
}

#[test]
fn an_edited_sheet_is_kept_whatever_the_editor_did() {
    let s = Session::new();
    assert_eq!(rerun_plan(&s).code, 0);
    let sheet = s.path("ws/reps/R00012.md");
    let original = std::fs::read_to_string(&sheet).unwrap();
    type Edit = Box<dyn Fn(&str) -> String>;
    let edits: [(&str, Edit); 5] = [
        (
            "CRLF",
            Box::new(|t: &str| {
                t.replace("- Agreed focus: ________", "- Agreed focus: Lead → Case")
                    .replace('\n', "\r\n")
            }),
        ),
        (
            "BOM",
            Box::new(|t: &str| {
                format!("\u{feff}{}", t.replace("1. ________", "1. Call back within a day"))
            }),
        ),
        (
            "no checksum",
            Box::new(|t: &str| {
                t.lines().filter(|l| !l.starts_with("checksum:")).collect::<Vec<_>>().join("\n")
                    + "\n"
            }),
        ),
        (
            "front matter only",
            Box::new(|t: &str| {
                let line = t.lines().find(|l| l.starts_with("target_rate:")).unwrap();
                t.replacen(line, "target_rate: 0.55", 1)
            }),
        ),
        ("broken front matter", Box::new(|t: &str| t.replacen("\n---\n", "\n--\n", 1))),
    ];
    for (what, edit) in edits {
        let edited = edit(&original);
        std::fs::write(&sheet, &edited).unwrap();
        let r = rerun_plan(&s);
        assert_eq!(r.code, 0, "{what}: {}", r.stderr);
        assert_eq!(std::fs::read_to_string(&sheet).unwrap(), edited, "{what}: the edit survives");
        assert!(r.stderr.contains("1 kept because they were edited"), "{what}: {}", r.stderr);
    }
    // Saved back unedited with CRLF line ends: not an edit, rewritten as usual.
    std::fs::write(&sheet, original.replace('\n', "\r\n")).unwrap();
    let r = rerun_plan(&s);
    assert!(r.stderr.contains("0 kept"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&sheet).unwrap(), original);
}

#[test]
fn plan_import_checks_what_it_takes_and_reads_every_editors_encoding() {
    let s = Session::new();
    let ledger = s.path_str("plans.csv");
    plan_with_ledger(&s, &ledger);
    let read = |rep: &str| std::fs::read_to_string(s.path(&format!("ws/reps/{rep}.md"))).unwrap();
    let agree = |t: &str| t.replacen("- Agreed focus: ________", "- Agreed focus: Lead → Case", 1);
    let set = |t: &str, key: &str, value: &str| {
        let line = t.lines().find(|l| l.starts_with(&format!("{key}:"))).unwrap().to_string();
        t.replacen(&line, &format!("{key}: {value}"), 1)
    };
    let dir = s.path("edited");
    std::fs::create_dir_all(&dir).unwrap();
    let put = |name: &str, bytes: Vec<u8>| std::fs::write(dir.join(name), bytes).unwrap();
    // Good sheets, as editors save them: CRLF, a BOM, UTF-16.
    put("crlf.md", agree(&read("R00001")).replace('\n', "\r\n").into_bytes());
    put("bom.md", format!("\u{feff}{}", agree(&read("R00002"))).into_bytes());
    let utf16: Vec<u8> = std::iter::once(0xFEFFu16)
        .chain(agree(&read("R00003")).encode_utf16())
        .flat_map(|u| u.to_le_bytes())
        .collect();
    put("utf16.md", utf16);
    // Bad sheets, each reported with its line; the good ones are still read.
    let r4 = agree(&read("R00004"));
    put("copy-a.md", r4.clone().into_bytes());
    put("copy-b.md", r4.into_bytes());
    let other = set(&agree(&read("R00005")), "plan_id", "\"2026-03:R00006\"");
    put("other.md", other.into_bytes());
    put("negative.md", set(&agree(&read("R00007")), "target_rate", "-7").into_bytes());
    put("huge.md", set(&agree(&read("R00008")), "target_rate", "1e300").into_bytes());
    put("nan.md", set(&agree(&read("R00009")), "target_rate", "NaN").into_bytes());
    put("someday.md", set(&agree(&read("R00010")), "review_period", "\"someday\"").into_bytes());
    let r = s.run(&["plan", "import", dir.to_str().unwrap(), "--ledger", &ledger]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    for (file, says) in [
        ("copy-a.md", "is in 2 sheets"),
        ("other.md", "is not the plan of R00005 for 2026-03"),
        ("negative.md", "target_rate -7 is not a finite number of at least 0"),
        ("huge.md", "target_rate 1e300 is above 1"),
        ("nan.md", "target_rate NaN is not a finite number"),
        ("someday.md", "review_period \"someday\" is not a month after"),
    ] {
        assert!(
            r.stderr.lines().any(|l| l.contains(file) && l.contains(says)),
            "{file}: {says}\n{}",
            r.stderr
        );
    }
    let text = std::fs::read_to_string(&ledger).unwrap();
    let status = |rep: &str| {
        let line = text.lines().find(|l| l.starts_with(&format!("2026-03:{rep},"))).unwrap();
        if line.contains(",agreed,") { "agreed" } else { "not agreed" }
    };
    for rep in ["R00001", "R00002", "R00003"] {
        assert_eq!(status(rep), "agreed", "{rep} was read");
    }
    for rep in ["R00004", "R00005", "R00006", "R00007", "R00008", "R00009", "R00010"] {
        assert_eq!(status(rep), "not agreed", "{rep} was not taken");
    }
}

/// The sample export with a stray `"` opening the last cell of data row `row`.
fn with_stray_quote(s: &Session, row: usize) -> (String, String) {
    let text = std::fs::read_to_string(sample("events.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let without: Vec<&String> =
        lines.iter().enumerate().filter(|(i, _)| *i != row).map(|(_, l)| l).collect();
    let without = without.iter().map(|l| format!("{l}\n")).collect::<String>();
    let (cells, _) = lines[row].rsplit_once(',').unwrap();
    lines[row] = format!("{cells},\"a stray quote");
    let stray: String = lines.iter().map(|l| format!("{l}\n")).collect();
    (s.write("stray.csv", &stray), s.write("without.csv", &without))
}

#[test]
fn a_stray_quote_loses_only_its_row() {
    let s = Session::new();
    let (stray, without) = with_stray_quote(&s, 500);
    let funnel = |events: &str| {
        s.run(&["funnel", "--events", events, "--period", "all", "--window", "none", "-f", "csv"])
    };
    let (broken, reference) = (funnel(&stray), funnel(&without));
    assert_eq!(broken.code, 0, "{}", broken.stderr);
    assert_eq!(broken.stdout, reference.stdout, "every other row is counted");
    assert!(broken.stderr.contains("read 12877, used 12876, rejected 1"), "{}", broken.stderr);
    assert!(
        broken.stderr.contains("stray.csv:501"),
        "the line the quote opened on: {}",
        broken.stderr
    );
    assert!(broken.stderr.contains("runaway-quote"), "{}", broken.stderr);
    // validate calls it an error at that line; ingest rejects that row alone.
    let v = s.run(&["validate", &stray]);
    assert_eq!(v.code, 1, "{}", v.stderr);
    let report = format!("{}{}", v.stdout, v.stderr);
    assert!(report.contains("row 501") && report.contains("runaway-quote"), "{report}");
    let out = s.path_str("ingested.csv");
    let i = s.run(&["ingest", &stray, "--table", "events", "-o", &out, "--max-rejects", "5"]);
    assert_eq!(i.code, 0, "{}", i.stderr);
    let counts = crate::support::ingest_counts(&i.stderr).unwrap();
    assert_eq!((counts.0, counts.1, counts.2), (12877, 12876, 1), "{}", i.stderr);
}

#[test]
fn a_long_quoted_note_passes_once_the_bound_is_raised() {
    let s = Session::new();
    let note: String = (0..150).map(|i| format!("line {i}\n")).collect();
    let events = s.write(
        "notes.csv",
        &format!(
            "deal_id,rep_id,stage,ts,amount\nD1,R1,lead,2026-03-01T10:00:00Z,\"{note}\"\nD1,R1,case,2026-03-02T10:00:00Z,\n"
        ),
    );
    let r = s.run(&["validate", &events]);
    assert_eq!(r.code, 1, "150 lines is past the default bound: {}", r.stderr);
    assert!(format!("{}{}", r.stdout, r.stderr).contains("--max-quoted-lines"), "{}", r.stdout);
    let r = s.run(&["funnel", "--events", &events, "--max-quoted-lines", "200", "-f", "csv"]);
    assert!(r.stderr.contains("read 2, used 1, rejected 1"), "the note is no amount: {}", r.stderr);
    assert!(!r.stderr.contains("runaway-quote"), "{}", r.stderr);
}

#[test]
fn money_is_summed_exactly_at_the_scale_it_was_read() {
    let s = Session::new();
    let mut csv = String::from("deal_id,rep_id,stage,ts,amount\n");
    for (i, amount) in ["0.00004", "0.00004", "0.00004", "1234567.123456789"].iter().enumerate() {
        csv += &format!("D{i},R1,lead,2026-03-0{}T10:00:00Z,\n", i + 1);
        csv += &format!("D{i},R1,won,2026-03-0{}T11:00:00Z,{amount}\n", i + 1);
    }
    let events = s.write("tiny.csv", &csv);
    let won_amount = |events: &str| {
        let r = s.run(&[
            "funnel", "--events", events, "--period", "all", "--window", "none", "-f", "csv",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let rows = crate::support::csv_rows(&r.stdout);
        rows.iter().find(|r| !r["won_amount"].is_empty()).unwrap()["won_amount"].clone()
    };
    assert_eq!(won_amount(&events), "1234567.123576789");
    // Through Parquet (ingest writes it, funnel reads it) nothing is lost either.
    let parquet = s.path_str("tiny.parquet");
    let r = s.run(&["ingest", &events, "--table", "events", "-o", &parquet]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(won_amount(&parquet), "1234567.123576789");
}

#[test]
fn a_full_disk_is_named_in_the_error() {
    let s = Session::new();
    for format in ["csv", "json", "parquet"] {
        let r =
            s.run(&["funnel", "--events", &sample("events.csv"), "-o", "/dev/full", "-f", format]);
        assert_eq!(r.code, 2, "{format}: {}", r.stderr);
        assert!(
            r.stderr.contains("writing /dev/full: No space left on device"),
            "{format}: {}",
            r.stderr
        );
    }
    let r = s.run(&["ingest", &sample("events.csv"), "--table", "events", "-o", "/dev/full"]);
    assert!(r.stderr.contains("writing /dev/full"), "{}", r.stderr);
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_salescoach"))
        .args(["funnel", "--events", &sample("events.csv"), "-q"])
        .env("SALESCOACH_NOW", &s.now)
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("writing standard output: No space left")
    );
}

#[test]
fn a_lookback_out_of_range_is_refused_before_any_work() {
    let s = Session::new();
    let playbook = salescoach::model::playbook::DEFAULT_PLAYBOOK.replacen(
        "lookback = 3",
        "lookback = 100000000",
        1,
    );
    let config = s.write("huge.toml", &playbook);
    let r = s.run(&["diagnose", "--config", &config, "--events", &sample("events.csv")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("`diagnosis.lookback`: expected 1 to 120 months"), "{}", r.stderr);
    let r = s.run(&["diagnose", "--events", &sample("events.csv"), "--lookback", "100000000"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--lookback"), "{}", r.stderr);
}
