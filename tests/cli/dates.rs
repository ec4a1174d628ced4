//! Dates the data cannot really hold: after the run's clock, in an implausible year, or an
//! as-of far past the bulk of the data. None of them may move a month's rates.

use crate::support::{Session, sample};

/// The sample events up to the end of March: a March export.
fn march_export(s: &Session) -> String {
    let text = std::fs::read_to_string(sample("events.csv")).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for l in lines.filter(|l| l.split(',').nth(3).is_some_and(|ts| ts < "2026-04")) {
        out.push_str(l);
        out.push('\n');
    }
    s.write("march.events.csv", &out)
}

fn company_march(s: &Session, events: &str) -> crate::support::Output {
    s.run(&["funnel", "--events", events, "--by", "company", "--period", "2026-03", "-f", "csv"])
}

#[test]
fn a_row_dated_2062_changes_no_march_rate_and_is_named() {
    let s = Session::at("2026-04-01T06:00:00Z");
    let clean = march_export(&s);
    let text =
        std::fs::read_to_string(&clean).unwrap() + "DLTYPO,R00001,lead,2062-03-14T10:00:00Z,\n";
    let typo = s.write("typo.events.csv", &text);
    let line = text.lines().count();
    let (a, b) = (company_march(&s, &clean), company_march(&s, &typo));
    assert_eq!((a.code, b.code), (0, 0), "{}", b.stderr);
    assert_eq!(a.stdout, b.stdout, "the 2062 row changes no March number");
    assert!(
        b.stderr.contains(&format!(":{line}: row {line}, column ts: dated after the run's clock")),
        "{}",
        b.stderr
    );
    assert!(b.stderr.contains("(future-date)"), "{}", b.stderr);
    let v = s.run(&["validate", &typo]);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(v.stdout.contains("[future-date]") && v.stdout.contains("1 error"), "{}", v.stdout);
    // diagnose leaves it out too, and names it.
    let d = s.run(&["diagnose", "--events", &typo, "--period", "2026-03", "-f", "csv"]);
    assert_eq!(d.code, 0, "{}", d.stderr);
    assert!(
        d.stderr.contains("1 event row is left out") && d.stderr.contains("future-date"),
        "{}",
        d.stderr
    );
}

#[test]
fn a_typed_year_0026_is_refused_and_costs_no_memory() {
    let s = Session::at("2026-04-01T06:00:00Z");
    let clean = march_export(&s);
    let text = std::fs::read_to_string(&clean).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[5] = lines[5].replacen(",2026-", ",0026-", 1);
    let typo = s.write("year.events.csv", &(lines.join("\n") + "\n"));
    let v = s.run(&["validate", &typo]);
    assert_eq!(v.code, 1);
    assert!(
        v.stdout.contains("row 6, column ts: the year 0026 is outside 1990–2100"),
        "{}",
        v.stdout
    );
    assert!(v.stdout.contains("[implausible-date]"), "{}", v.stdout);
    // A data segment of 50 MB at most (heap and anonymous maps; `ulimit -d`): the dense weekly
    // periods over years 0026-2026 took 336 MB before.
    let r = within_memory(
        &s,
        50 * 1024,
        &["funnel", "--events", &typo, "--grain", "week", "-f", "csv", "-o", "w.csv"],
    );
    assert!(r.success(), "funnel --grain week with a year 0026 row needs more than 50 MB");
}

#[test]
fn an_as_of_far_past_the_bulk_of_the_data_is_warned_about() {
    let s = Session::at("2026-12-01T06:00:00Z");
    let clean = march_export(&s);
    let text =
        std::fs::read_to_string(&clean).unwrap() + "DLLATE,R00001,lead,2026-11-14T10:00:00Z,\n";
    let late = s.write("late.events.csv", &text);
    let r = s.run(&["funnel", "--events", &late, "--period", "2026-03", "-f", "csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("days after 99.9% of the events"), "{}", r.stderr);
    let ok = s.run(&[
        "funnel",
        "--events",
        &clean,
        "--period",
        "2026-03",
        "--as-of",
        "2026-03-31",
        "-f",
        "csv",
    ]);
    assert!(!ok.stderr.contains("99.9%"), "{}", ok.stderr);
}

/// Runs the binary with its data segment limited to `kb` (an allocation beyond fails).
/// `getrusage` cannot tell here: a child spawned from the multi-threaded test process inherits
/// the parent's high-water mark at `exec`.
fn within_memory(s: &Session, kb: u64, args: &[&str]) -> std::process::ExitStatus {
    let bin = env!("CARGO_BIN_EXE_salescoach");
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    std::process::Command::new("timeout")
        .arg("60")
        .arg("sh")
        .arg("-c")
        .arg(format!("ulimit -d {kb} && exec '{bin}' {}", quoted.join(" ")))
        .current_dir(s.dir.path())
        .env("SALESCOACH_NOW", &s.now)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
}
