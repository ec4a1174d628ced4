//! `salescoach demo`: the month end over two months of the bundled sample organisation.

use crate::ExitStatus;
use crate::app::month_end::{
    MonthEnd, SAMPLE_ACTIVITIES, SAMPLE_EVENTS, SAMPLE_ROSTER, month_end, print_summary,
};
use crate::cli::{DemoArgs, Global};
use anyhow::{Context, Result, bail};
use std::path::Path;

/// The demo's two months: plans made in the first are reviewed in the second.
const DEMO_MONTHS: [&str; 2] = ["2026-02", "2026-03"];

/// What the demo's reps write in their 1:1s, in the sheet's language.
const DEMO_ACTION: [&str; 2] = [
    "Review two deals a week with my manager: what moved them on and what stalled them",
    "毎週 2 件の案件をマネージャーと振り返り、進んだ理由と止まった理由を書き出す",
];
const DEMO_TRACKING: [&str; 2] = [
    "The step's count in the Friday pipeline review",
    "金曜のパイプライン確認でこのステップの件数を見る",
];

/// The first month's 1:1s, as the demo imagines them: every proposed plan but the last is
/// agreed (its focus written in, one action and how it is tracked) and read back with
/// `plan import`, so that the second month reviews agreed plans and one taken as proposed.
/// Idempotent: a sheet already filled in is read as it is.
fn hold_the_meetings(
    month_dir: &Path,
    ledger: &Path,
    playbook: &crate::model::playbook::Playbook,
    html: bool,
) -> Result<()> {
    let mut proposed: Vec<std::path::PathBuf> = std::fs::read_dir(month_dir.join("reps"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .filter(|p| {
            std::fs::read_to_string(p).is_ok_and(|t| t.contains("\nstatus: \"proposed\"\n"))
        })
        .collect();
    proposed.sort();
    proposed.pop();
    for path in &proposed {
        let text = std::fs::read_to_string(path)?;
        let ja = text.contains("コーチングシート");
        let label = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("**Suggested focus: ")
                    .or_else(|| l.strip_prefix("**提案するフォーカス: "))
            })
            .and_then(|l| l.split("**").next())
            .unwrap_or_default()
            .to_string();
        let mut first_action = true;
        let filled: Vec<String> = text
            .lines()
            .map(|l| {
                if l.contains("<!-- sc:agreed_focus -->") && !label.is_empty() {
                    l.replacen("________", &label, 1)
                } else if l.contains("<!-- sc:tracking -->") {
                    l.replacen("________", DEMO_TRACKING[usize::from(ja)], 1)
                } else if first_action && l == "1. ________" {
                    first_action = false;
                    format!("1. {}", DEMO_ACTION[usize::from(ja)])
                } else {
                    l.to_string()
                }
            })
            .collect();
        let filled = filled.join("\n") + "\n";
        if filled != text {
            std::fs::write(path, filled).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    crate::app::worksheets::import_worksheets(&proposed, ledger, playbook)?;
    if html {
        crate::render::html::write_pages(month_dir)?;
    }
    Ok(())
}

/// The last second of a month, in UTC.
fn month_end_instant(month: &str) -> Result<crate::model::time::Micros> {
    use crate::model::time::{MICROS_PER_DAY, MICROS_PER_SECOND};
    let next = super::parse_month("month", month)?.next();
    Ok(next.start_day() * MICROS_PER_DAY - MICROS_PER_SECOND)
}

pub fn run(global: &Global, args: DemoArgs) -> Result<ExitStatus> {
    let mut playbook = super::load_playbook(global)?;
    if let Some(c) = &args.currency {
        playbook.set_currency(c)?;
    }
    let output = if global.output.is_some() || global.format.is_some() {
        Some(super::output(global)?)
    } else {
        None
    };
    let out = &args.out;
    let input = out.join("input");
    std::fs::create_dir_all(&input).with_context(|| format!("creating {}", input.display()))?;
    for (name, text) in [
        ("events.csv", SAMPLE_EVENTS),
        ("activities.csv", SAMPLE_ACTIVITIES),
        ("roster.csv", SAMPLE_ROSTER),
    ] {
        let path = input.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    let ledger = out.join("plans.csv");
    // The ledger is rebuilt from the months' runs, so that a second demo gives the same files.
    if ledger.exists() {
        std::fs::remove_file(&ledger)?;
    }
    let (events, activities, roster) =
        (input.join("events.csv"), input.join("activities.csv"), input.join("roster.csv"));
    let mut last = None;
    for month in DEMO_MONTHS {
        if !global.quiet {
            crate::note!(
                "demo: the month end of {month}, with only the data an export taken at its last second holds"
            );
        }
        let job = MonthEnd {
            events: events.to_str().context("a UTF-8 path")?,
            activities: activities.to_str(),
            roster: roster.to_str().context("a UTF-8 path")?,
            ledger: Some(&ledger),
            period: month,
            out: &out.join(month),
            allow_invalid: false,
            force: false,
            // Each month end sees only what an export taken at its last second holds.
            as_of: Some(month_end_instant(month)?),
            warn_after_as_of: false,
            input_format: None,
            quiet: global.quiet,
            lang: args.lang,
            html: !args.no_html,
        };
        match month_end(&playbook, &job)? {
            Ok(summary) => last = Some(summary),
            Err(_) => bail!("the embedded sample data failed validation"),
        }
        if month == DEMO_MONTHS[0] {
            hold_the_meetings(&out.join(month), &ledger, &playbook, !args.no_html)?;
        }
    }
    let summary = last.expect("two months ran");
    print_summary(&summary, DEMO_MONTHS[1], output.as_ref(), global.quiet)?;
    Ok(ExitStatus::Success)
}
