//! `salescoach review`: did the coaching work, per plan and up the org tree.

use crate::ExitStatus;
use crate::app::funnel::{FunnelInputs, compute};
use crate::app::review::{apply_to_ledger, review_all, write_output};
use crate::cli::{Global, ReviewArgs};
use crate::io::Source;
use crate::io::ledger::{read_ledger, write_ledger};
use crate::metrics::funnel::FunnelConfig;
use crate::model::values::Verdict;
use anyhow::{Result, bail};

pub fn run(global: &Global, args: ReviewArgs) -> Result<ExitStatus> {
    let playbook = super::load_playbook(global)?;
    let output = super::output(global)?;
    let lookback = args.lookback.unwrap_or(playbook.diagnosis.lookback).max(1);
    let period = args.period.as_deref().map(|p| super::parse_month("--period", p)).transpose()?;
    if !args.ledger.exists() {
        bail!(
            "the ledger {} does not exist (write one with `salescoach plan --ledger`)",
            args.ledger.display()
        );
    }
    let sources: Vec<Source> = [Some(&args.events), args.activities.as_ref(), args.roster.as_ref()]
        .into_iter()
        .flatten()
        .map(|s| Source::parse(s))
        .chain([Source::File(args.ledger.clone())])
        .collect();
    super::one_stdin(&sources.iter().collect::<Vec<_>>())?;
    crate::io::ensure_distinct_files(&[&output.dest], &sources)?;
    // With --update-ledger, held until the ledger is written: no update is lost in between.
    let _lock = args
        .update_ledger
        .then(|| crate::io::place::lock(&args.ledger, "the ledger"))
        .transpose()?;
    let mut plans = read_ledger(&args.ledger, None)?;
    let as_of = super::parse_as_of(args.as_of.as_deref(), &playbook)?;
    let inputs = FunnelInputs {
        events: Source::parse(&args.events),
        activities: args.activities.as_deref().map(Source::parse),
        roster: None,
        input_format: global.input_format,
        as_of,
        config: FunnelConfig::monthly_cohort(&playbook, as_of),
    };
    let (rows, read) = compute(&inputs, &playbook)?;
    for w in read.warnings().iter().filter(|_| !global.quiet) {
        crate::note!("{w}");
    }
    let roster = super::load_roster(args.roster.as_deref(), global.input_format, &playbook)?;
    let period = match period {
        Some(p) => {
            crate::app::funnel::ensure_period_has_data(&rows, &p.label())?;
            p.label()
        }
        None => match crate::diagnosis::default_period(&rows) {
            Some(p) => p,
            None => return Err(crate::DataError::new("no events to review plans against").into()),
        },
    };
    let (reviews, rolled) =
        review_all(&plans, &rows, roster.as_ref(), &playbook, lookback, &period, read.as_of);
    if !global.quiet {
        let decided = reviews.iter().filter(|r| r.verdict.is_some()).count();
        let improved = reviews.iter().filter(|r| r.verdict == Some(Verdict::Improved)).count();
        crate::note!(
            "review {period}: {} plans due, {decided} reviewed ({improved} improved), {} waiting or not reviewable",
            reviews.len(),
            reviews.len() - decided
        );
        for r in reviews.iter().filter(|r| r.note.is_some()) {
            crate::note!("  {}: {}", r.plan_id, r.note.as_deref().unwrap_or(""));
        }
    }
    if args.update_ledger {
        let changed = apply_to_ledger(&mut plans, &reviews, &period);
        if changed > 0 {
            write_ledger(&args.ledger, &mut plans, None)?;
        }
        if !global.quiet {
            crate::note!("ledger: {changed} plans updated in {}", args.ledger.display());
        }
    }
    write_output(&reviews, &rolled, &output, &playbook)?;
    Ok(ExitStatus::Success)
}
