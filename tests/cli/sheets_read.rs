//! Worksheets as a manager reads them: no share above 100%, the plan's baseline is the value
//! the "why" shows, Japanese sheets carry no English sentence of the default playbook.

use crate::support::{Session, demo_run, files_with};
use std::path::{Path, PathBuf};

fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    files_with(dir, "md")
}

fn demo(s: &Session, lang: &str) -> PathBuf {
    demo_run(s, lang).0
}

/// Every "N%" in a text, as a number.
fn percentages(text: &str) -> Vec<f64> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for (i, _) in text.match_indices('%') {
        let mut j = i;
        while j > 0 && (b[j - 1].is_ascii_digit() || b[j - 1] == b'.') {
            j -= 1;
        }
        if j < i
            && let Ok(v) = text[j..i].parse::<f64>()
        {
            out.push(v);
        }
    }
    out
}

#[test]
fn no_share_on_any_sheet_is_above_100_percent() {
    let s = Session::new();
    for lang in ["en", "ja"] {
        let out = demo(&s, lang);
        // Verdicts are words for people on the index as on the sheets; ids are for data.
        let index = std::fs::read_to_string(out.join("2026-03/index.md")).unwrap();
        assert!(!index.contains("| inconclusive |"), "a verdict id in the {lang} index");
        for f in markdown_files(&out) {
            let text = std::fs::read_to_string(&f).unwrap();
            for v in percentages(&text) {
                assert!(v <= 100.0, "{v}% in {}", f.display());
            }
        }
    }
}

#[test]
fn the_plans_baseline_is_the_value_the_why_shows() {
    let s = Session::new();
    let out = demo(&s, "en");
    let mut checked = 0;
    for f in markdown_files(&out.join("2026-03/reps")) {
        let text = std::fs::read_to_string(&f).unwrap();
        let front = text.split("---\n").nth(1).unwrap();
        let baseline = front
            .lines()
            .find_map(|l| l.strip_prefix("baseline_rate: "))
            .and_then(|v| v.trim().parse::<f64>().ok());
        let focus = front.lines().find_map(|l| l.strip_prefix("focus: ")).unwrap();
        let Some(b) = baseline else { continue };
        let shown =
            if focus.contains("->") { format!("{:.0}%", b * 100.0) } else { format!("{b:.1}") };
        let why = text.split("## 2.").nth(1).unwrap().split("## 3.").next().unwrap();
        assert!(why.contains(&shown), "{}: {shown} not in why:\n{why}", f.display());
        let target = text.lines().find(|l| l.contains("sc:target")).unwrap();
        assert!(target.contains(&format!("from {shown}")), "{}: {target}", f.display());
        checked += 1;
    }
    assert!(checked >= 10, "{checked} sheets checked");
}

#[test]
fn japanese_sheets_carry_no_english_sentence_of_the_default_playbook() {
    let s = Session::new();
    let out = demo(&s, "ja");
    let playbook: toml::Value =
        toml::from_str(include_str!("../../templates/playbook.toml")).unwrap();
    let mut english: Vec<String> = Vec::new();
    let strings = |v: Option<&toml::Value>| -> Vec<String> {
        match v {
            Some(toml::Value::String(s)) => vec![s.clone()],
            Some(toml::Value::Array(a)) => {
                a.iter().filter_map(|x| x.as_str().map(String::from)).collect()
            }
            _ => Vec::new(),
        }
    };
    for rule in playbook["rules"].as_array().unwrap() {
        for h in rule.get("hypotheses").and_then(|h| h.as_array()).into_iter().flatten() {
            for key in ["title", "checks", "questions"] {
                english.extend(strings(h.get(key)));
            }
        }
    }
    for rule in playbook["coaching"].as_array().unwrap() {
        for key in ["title", "hypotheses", "checks", "questions"] {
            english.extend(strings(rule.get(key)));
        }
    }
    assert!(english.len() > 50, "{}", english.len());
    let index = std::fs::read_to_string(out.join("2026-03/index.md")).unwrap();
    assert!(
        index.starts_with("# コーチングレポート") && !index.contains("Coaching report"),
        "{index}"
    );
    for heading in ["## Directors", "## Managers", "## Review of earlier plans", "## Validation"] {
        assert!(!index.contains(heading), "{heading} in the Japanese index");
    }
    for word in ["inconclusive", "a month", "per deal", "tables,", "Company funnel", "lead → case"]
    {
        assert!(!index.contains(word), "{word:?} in the Japanese index");
    }
    let sheets = markdown_files(&out.join("2026-03"));
    assert!(sheets.len() > 20);
    for f in sheets {
        let text = std::fs::read_to_string(&f).unwrap();
        for e in &english {
            assert!(!text.contains(e.as_str()), "{:?} in {}", e, f.display());
        }
        for e in ["over 99%", "under 1%", " sure"] {
            assert!(!text.contains(e), "{e:?} in {}", f.display());
        }
    }
}

/// Runs of four or more English words in a text, outside its front matter, comments and
/// link targets (file names and ids are not prose).
fn english_runs(text: &str) -> Vec<String> {
    let body = match text.strip_prefix("---\n") {
        Some(rest) => rest.split_once("\n---\n").map_or(rest, |(_, b)| b),
        None => text,
    };
    let mut prose = String::new();
    let mut rest = body;
    // Drop HTML comments and link targets "(...)" right after "]".
    while let Some(i) = rest.find(['<', ']']) {
        prose.push_str(&rest[..i]);
        let tail = &rest[i..];
        let skip = if tail.starts_with("<!--") {
            tail.find("-->").map_or(tail.len(), |j| j + 3)
        } else if tail.starts_with("](") {
            prose.push(' ');
            tail.find(')').map_or(tail.len(), |j| j + 1)
        } else {
            prose.push(' ');
            1
        };
        rest = &tail[skip..];
    }
    prose.push_str(rest);
    let mut runs = Vec::new();
    for line in prose.lines() {
        let mut run: Vec<&str> = Vec::new();
        for token in line.split(|c: char| !(c.is_ascii_alphabetic() || c == '\'' || c == ' ')) {
            for word in token.split(' ') {
                if word.chars().any(|c| c.is_ascii_alphabetic()) {
                    run.push(word);
                } else if !word.is_empty() {
                    run.clear();
                }
            }
            if run.len() >= 4 {
                runs.push(run.join(" "));
            }
            run.clear();
        }
    }
    runs
}

#[test]
fn no_run_of_four_english_words_in_a_japanese_page() {
    assert_eq!(english_runs("受注 no gap at all here です"), ["no gap at all here"]);
    assert!(english_runs("[佐藤](reps/some long file name.md)").is_empty());
    assert!(
        english_runs("---\nrep_name: \"A B C D\"\n---\n本文 <!-- sc:agreed focus x y -->")
            .is_empty()
    );
    let s = Session::new();
    let out = demo(&s, "ja");
    let mut found = Vec::new();
    for month in ["2026-02", "2026-03"] {
        for f in markdown_files(&out.join(month)) {
            let text = std::fs::read_to_string(&f).unwrap();
            found.extend(english_runs(&text).into_iter().map(|r| format!("{}: {r}", f.display())));
        }
    }
    assert!(found.is_empty(), "English in Japanese pages:\n{}", found.join("\n"));
}

/// The local targets of a Markdown file's links and images.
fn local_links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("](") {
        let rest = &text[i + 2..];
        let Some(end) = rest.find(')') else { continue };
        let target = rest[..end].trim_matches(['<', '>']).to_string();
        if !target.contains("://") && !target.starts_with('#') && !target.is_empty() {
            out.push(target.replace("%20", " "));
        }
    }
    out
}

#[test]
fn every_local_link_of_every_written_markdown_file_resolves() {
    let s = Session::new();
    let mut checked = 0;
    for lang in ["en", "ja"] {
        for f in markdown_files(&demo(&s, lang)) {
            let text = std::fs::read_to_string(&f).unwrap();
            for t in local_links(&text) {
                let target = f.parent().unwrap().join(&t);
                assert!(target.exists(), "{} links to a missing {t}", f.display());
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked} links checked");
}

/// The basis line's observed counts are the deals the rep can count: the funnel's entered,
/// stepped up and still open over the sheet's window, not the estimate's deals' worth.
#[test]
fn the_basis_line_counts_what_was_observed() {
    let s = Session::new();
    let out = demo(&s, "en");
    let events = out.join("input/events.csv");
    let r = s.run(&[
        "funnel",
        "--events",
        events.to_str().unwrap(),
        "--by",
        "rep",
        "--as-of",
        "2026-03-31",
        "-f",
        "csv",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let funnel = crate::support::csv_rows(&r.stdout);
    let mut checked = 0;
    for f in markdown_files(&out.join("2026-03/reps")) {
        let text = std::fs::read_to_string(&f).unwrap();
        let focus = text.lines().find_map(|l| l.strip_prefix("focus: ")).unwrap().trim_matches('"');
        let Some((from, to)) = focus.split_once("->") else { continue };
        let Some(line) = text.lines().find(|l| l.contains("Seen so far: ")) else { continue };
        let rest = line.split("Seen so far: ").nth(1).unwrap();
        let nums: Vec<u64> = rest
            .split(|c: char| !c.is_ascii_digit())
            .filter(|w| !w.is_empty())
            .take(3)
            .map(|w| w.parse().unwrap())
            .collect();
        let rep = f.file_stem().unwrap().to_str().unwrap();
        let (mut entered, mut converted, mut open) = (0, 0, 0);
        for row in funnel.iter().filter(|row| {
            row["group_id"] == rep
                && row["from_stage"] == from
                && row["to_stage"] == to
                && ["2026-01", "2026-02", "2026-03"].contains(&row["period"].as_str())
        }) {
            entered += row["entered"].parse::<u64>().unwrap();
            converted += row["converted"].parse::<u64>().unwrap();
            open += row["open"].parse::<u64>().unwrap_or(0);
        }
        assert_eq!(nums, vec![converted, entered, open], "{}: {line}", f.display());
        checked += 1;
    }
    assert!(checked > 3, "{checked} sheets with open deals checked");
}
