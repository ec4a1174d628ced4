//! Snapshots of every command's surface: its `--help`, and exit code, stdout and stderr on the
//! sample data, so that a change to the contract shows in review.

use crate::support::{Output, Session, fixture_str};

const COMMANDS: [&str; 10] = [
    "init", "generate", "funnel", "diagnose", "plan", "review", "validate", "report", "demo",
    "ingest",
];

fn sample(f: &str) -> String {
    fixture_str(&format!("../../sample-data/{f}"))
}

/// The transcript with the session folder and the repository replaced by placeholders.
fn transcript(out: &Output, s: &Session) -> String {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/../..");
    out.transcript(s).replace(&repo.display().to_string(), "[REPO]")
}

#[test]
fn every_command_has_help_with_examples() {
    let s = Session::new();
    for cmd in COMMANDS {
        let out = s.run(&[cmd, "--help"]);
        assert_eq!(out.code, 0);
        assert!(out.stdout.contains("$ salescoach"), "{cmd} --help has worked examples");
        insta::assert_snapshot!(format!("help_{cmd}"), transcript(&out, &s));
    }
    insta::assert_snapshot!("help", transcript(&s.run(&["--help"]), &s));
}

#[test]
fn every_command_on_the_sample_data() {
    let s = Session::new();
    let (events, activities, roster) =
        (sample("events.csv"), sample("activities.csv"), sample("roster.csv"));
    let runs: Vec<(&str, Vec<&str>)> = vec![
        ("init", vec!["init", "coaching"]),
        (
            "generate",
            vec!["generate", "--out", "g", "--months", "2", "--managers", "1", "--reps", "2"],
        ),
        (
            "funnel",
            vec![
                "funnel", "--events", &events, "--roster", &roster, "--by", "company", "--period",
                "2026-03", "-f", "csv",
            ],
        ),
        (
            "diagnose",
            vec![
                "diagnose",
                "--events",
                &events,
                "--activities",
                &activities,
                "--roster",
                &roster,
                "--period",
                "2026-03",
                "-f",
                "csv",
            ],
        ),
        (
            "plan",
            vec![
                "plan",
                "--events",
                &events,
                "--activities",
                &activities,
                "--roster",
                &roster,
                "--period",
                "2026-02",
                "--out",
                "sheets",
                "--ledger",
                "plans.csv",
            ],
        ),
        (
            "review",
            vec![
                "review",
                "--ledger",
                "plans.csv",
                "--events",
                &events,
                "--activities",
                &activities,
                "--roster",
                &roster,
                "--period",
                "2026-03",
                "-f",
                "csv",
            ],
        ),
        ("validate", vec!["validate", &events, &activities, &roster]),
        (
            "report",
            vec![
                "report",
                "--events",
                &events,
                "--activities",
                &activities,
                "--roster",
                &roster,
                "--period",
                "2026-03",
                "--out",
                "report",
            ],
        ),
        ("demo", vec!["demo", "--out", "demo"]),
        ("ingest", vec!["ingest", &roster, "--table", "roster", "-o", "roster.parquet"]),
    ];
    assert_eq!(runs.len(), COMMANDS.len());
    for (name, args) in runs {
        let out = s.run(&args);
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
        insta::assert_snapshot!(format!("sample_{name}"), transcript(&out, &s));
    }
}
