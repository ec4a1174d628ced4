//! Coaching up the tree: after months of plans, imports and reviews, the manager, director and
//! board pages assess the coaching itself, carry their own plans, and the ledger and review
//! hold them beside the reps'.

use crate::support::{Session, csv_rows};

fn data(f: &str) -> String {
    format!("{}/sample-data/{f}", env!("CARGO_MANIFEST_DIR"))
}

fn run(s: &Session, args: &[&str]) -> String {
    let r = s.run(args);
    assert_eq!(r.code, 0, "{args:?}\n{}", r.stderr);
    r.stdout
}

fn plan(s: &Session, period: &str, out: &str, ledger: &str, lang: &str) {
    let out = s.path_str(out);
    let (e, a, r) = (data("events.csv"), data("activities.csv"), data("roster.csv"));
    run(
        s,
        &[
            "plan",
            "--events",
            &e,
            "--activities",
            &a,
            "--roster",
            &r,
            "--period",
            period,
            "--out",
            &out,
            "--ledger",
            ledger,
            "--lang",
            lang,
            "-q",
        ],
    );
}

fn review(s: &Session, period: &str, ledger: &str) -> String {
    let (e, a, r) = (data("events.csv"), data("activities.csv"), data("roster.csv"));
    run(
        s,
        &[
            "review",
            "--ledger",
            ledger,
            "--events",
            &e,
            "--activities",
            &a,
            "--roster",
            &r,
            "--period",
            period,
            "--update-ledger",
            "-f",
            "csv",
            "-q",
        ],
    )
}

/// The meeting: a sheet's blanks filled in as a manager would, then `plan import`.
fn agree(s: &Session, sheet: &str, ledger: &str) {
    let path = s.path(sheet);
    let text = std::fs::read_to_string(&path).unwrap();
    // A rate's target as a percentage, a volume's as a count.
    let volume = text.contains("focus: \"volume:");
    let target = if volume { "- Target value: 40" } else { "- Target value: 45%" };
    let text = text.replacen("- Target value: ________", target, 1).replacen(
        "1. ________",
        "1. Write the next step with the rep",
        1,
    );
    std::fs::write(&path, text).unwrap();
    run(s, &["plan", "import", &path.display().to_string(), "--ledger", ledger]);
}

fn front_matter(text: &str) -> &str {
    text.split("---\n").nth(1).unwrap_or("")
}

#[test]
fn manager_director_and_board_pages_assess_the_coaching_and_carry_their_plans() {
    let s = Session::new();
    let ledger = s.path_str("plans.csv");
    // January: plans; two of Zoe Silva's reps and her own sheet agreed in their meetings.
    plan(&s, "2026-01", "jan", &ledger, "en");
    agree(&s, "jan/reps/R00001.md", &ledger);
    agree(&s, "jan/reps/R00008.md", &ledger);
    review(&s, "2026-02", &ledger);
    // February: the manager sheets now assess January's coaching and propose a plan.
    plan(&s, "2026-02", "feb", &ledger, "en");
    agree(&s, "feb/managers/M001.md", &ledger);
    agree(&s, "feb/reps/R00001.md", &ledger);
    let reviewed = review(&s, "2026-03", &ledger);
    plan(&s, "2026-03", "mar", &ledger, "en");
    plan(&s, "2026-03", "mar-ja", &ledger, "ja");

    // The ledger holds manager and director plans beside the reps'.
    let plans = csv_rows(&std::fs::read_to_string(&ledger).unwrap());
    for level in ["manager", "director"] {
        assert!(plans.iter().any(|p| p["level"] == level), "no {level} plan");
    }
    // Zoe Silva's February coaching plan, agreed in her meeting, is reviewed in March like a
    // rep's: a verdict from the interval of the change.
    let m001 = plans.iter().find(|p| p["plan_id"] == "2026-02:manager:M001").unwrap();
    assert_eq!(m001["agreed"], "true");
    assert!(!m001["verdict"].is_empty(), "{m001:?}");
    let rows = csv_rows(&reviewed);
    let coaching = rows.iter().find(|r| r["plan_id"] == "2026-02:manager:M001").unwrap();
    assert_eq!(coaching["plan_level"], "manager");
    assert!(!coaching["effect_low"].is_empty() && !coaching["effect_high"].is_empty());
    // Manager roll-ups carry their intervals.
    for m in rows.iter().filter(|r| r["level"] == "manager" && r["plans"] != "0") {
        assert!(!m["improved_low"].is_empty() && !m["improved_high"].is_empty(), "{m:?}");
    }

    // Every manager sheet: its plan in front matter, each of its reps with last month's verdict.
    let roster = csv_rows(&std::fs::read_to_string(data("roster.csv")).unwrap());
    for m in roster.iter().filter(|p| p["person_id"].starts_with('M')) {
        let sheet = std::fs::read_to_string(s.path(&format!("mar/managers/{}.md", m["person_id"])))
            .unwrap();
        let fm = front_matter(&sheet);
        assert!(fm.contains("level: \"manager\"") && fm.contains("plan_id:"), "{fm}");
        for p in plans.iter().filter(|p| {
            p["period"] == "2026-02"
                && p["manager_id"] == m["person_id"]
                && p["level"].is_empty()
                && p["status"] != "suggested"
        }) {
            let name =
                roster.iter().find(|r| r["person_id"] == p["rep_id"]).unwrap()["name"].clone();
            let verdict = |l: &&str| {
                l.contains("improved") || l.contains("no clear change") || l.contains("worse")
            };
            let line = sheet.lines().find(|l| l.starts_with(&format!("| {name} |")) && verdict(l));
            assert!(line.is_some(), "{name} with a verdict in\n{sheet}");
        }
    }
    let director = std::fs::read_to_string(s.path("mar/directors/D01.md")).unwrap();
    assert!(front_matter(&director).contains("level: \"director\""));
    let board = std::fs::read_to_string(s.path("mar/board.md")).unwrap();
    for d in roster.iter().filter(|p| p["person_id"].starts_with('D')) {
        assert!(
            board.contains(&format!("[{}](directors/{}.md)", d["name"], d["person_id"])),
            "{board}"
        );
    }
    insta::assert_snapshot!(
        "coaching_manager_en",
        std::fs::read_to_string(s.path("mar/managers/M001.md")).unwrap()
    );
    insta::assert_snapshot!("coaching_director_en", director);
    insta::assert_snapshot!("coaching_board_en", board);
    for (name, file) in [
        ("coaching_manager_ja", "mar-ja/managers/M001.md"),
        ("coaching_director_ja", "mar-ja/directors/D01.md"),
        ("coaching_board_ja", "mar-ja/board.md"),
    ] {
        insta::assert_snapshot!(name, std::fs::read_to_string(s.path(file)).unwrap());
    }
}
