//! `salescoach demo`: the month end over two months of the bundled sample organisation.

use crate::ExitStatus;
use crate::app::month_end::{
    MonthEnd, SAMPLE_ACTIVITIES, SAMPLE_EVENTS, SAMPLE_ROSTER, month_end, print_summary,
};
use crate::cli::{DemoArgs, Global};
use anyhow::{Context, Result, bail};

/// The demo's two months: plans made in the first are reviewed in the second.
const DEMO_MONTHS: [&str; 2] = ["2026-02", "2026-03"];

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
    }
    let summary = last.expect("two months ran");
    print_summary(&summary, DEMO_MONTHS[1], output.as_ref(), global.quiet)?;
    Ok(ExitStatus::Success)
}
