//! `salescoach review`: did the coaching work? Per plan, per manager and up the tree.

use crate::ExitStatus;
use crate::cli::{Global, ReviewArgs};
use crate::commands::funnel::{FunnelInputs, compute};
use crate::io::write::{Cell, TableWriter};
use crate::io::{Dest, Format, Source};
use crate::metrics::funnel::FunnelConfig;
use crate::metrics::review::{PlanReview, RepMonths, RollUp, review, roll_up};
use crate::model::plans::{read_ledger, write_ledger};
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::model::tables::{Column, Kind, col};
use crate::model::time::{Period, PeriodKind};
use anyhow::{Context, Result, bail};
use std::collections::BTreeSet;

/// The review table's columns (see schemas/review.schema.json): plan rows (`level` = plan),
/// then roll-up rows per roster node.
pub const REVIEW_COLUMNS: &[Column] = &[
    col("level", Kind::String, true),
    col("group_id", Kind::String, true),
    col("group_name", Kind::String, false),
    col("plan_id", Kind::String, false),
    col("rep_id", Kind::String, false),
    col("manager_id", Kind::String, false),
    col("focus", Kind::String, false),
    col("period", Kind::String, false),
    col("review_period", Kind::String, false),
    col("baseline_rate", Kind::Number, false),
    col("baseline_n", Kind::Integer, false),
    col("after_rate", Kind::Number, false),
    col("after_n", Kind::Integer, false),
    col("change", Kind::Number, false),
    col("p_improved", Kind::Number, false),
    col("expected_after", Kind::Number, false),
    col("peers", Kind::Integer, false),
    col("peer_change", Kind::Number, false),
    col("effect", Kind::Number, false),
    col("effect_low", Kind::Number, false),
    col("effect_high", Kind::Number, false),
    col("verdict", Kind::String, false),
    col("target_reached", Kind::Boolean, false),
    col("more_deals_needed", Kind::Integer, false),
    col("note", Kind::String, false),
    col("plans", Kind::Integer, false),
    col("improved", Kind::Integer, false),
    col("improved_share", Kind::Number, false),
    col("improved_low", Kind::Number, false),
    col("improved_high", Kind::Number, false),
    col("mean_effect", Kind::Number, false),
];

pub fn run(global: &Global, args: ReviewArgs) -> Result<ExitStatus> {
    let playbook = Playbook::load(global.config.as_deref())?;
    let dest = Dest::parse(global.output.as_deref());
    let format = dest.format(global.format)?;
    let lookback = args.lookback.unwrap_or(playbook.diagnosis.lookback).max(1);
    if let Some(p) = &args.period {
        Period::parse(PeriodKind::Month, p).context("--period")?;
    }
    if !args.ledger.exists() {
        bail!(
            "the ledger {} does not exist (write one with `salescoach plan --ledger`)",
            args.ledger.display()
        );
    }
    let mut plans = read_ledger(&args.ledger, None)?;
    let inputs = FunnelInputs {
        events: Source::parse(&args.events),
        activities: args.activities.as_deref().map(Source::parse),
        roster: None,
        input_format: global.input_format,
        as_of: None,
        config: FunnelConfig::monthly_cohort(&playbook, None),
    };
    let (rows, _) = compute(&inputs, &playbook)?;
    let roster = match &args.roster {
        Some(r) => Some(Roster::load(&Source::parse(r), global.input_format, &playbook)?.0),
        None => None,
    };
    let Some(period) = args.period.clone().or_else(|| crate::diagnosis::default_period(&rows))
    else {
        bail!("no data to review");
    };
    let (reviews, rolled) =
        review_all(&plans, &rows, roster.as_ref(), &playbook, lookback, &period);
    if !global.quiet {
        let decided = reviews.iter().filter(|r| r.verdict.is_some()).count();
        let improved = reviews.iter().filter(|r| r.verdict.as_deref() == Some("improved")).count();
        eprintln!(
            "review {period}: {} plans due, {decided} reviewed ({improved} improved), {} waiting or not reviewable",
            reviews.len(),
            reviews.len() - decided
        );
        for r in reviews.iter().filter(|r| r.note.is_some()) {
            eprintln!("  {}: {}", r.plan_id, r.note.as_deref().unwrap_or(""));
        }
    }
    if args.update_ledger {
        let changed = apply_to_ledger(&mut plans, &reviews, &period);
        if changed > 0 {
            write_ledger(&args.ledger, &mut plans, None)?;
        }
        if !global.quiet {
            eprintln!("ledger: {changed} plans updated in {}", args.ledger.display());
        }
    }
    write_output(&reviews, &rolled, &dest, format)?;
    Ok(ExitStatus::Success)
}

/// Reviews the due plans against the rep-level monthly funnel and rolls them up the roster.
pub fn review_all(
    plans: &[crate::model::plans::Plan],
    rows: &[crate::metrics::funnel::FunnelRow],
    roster: Option<&Roster>,
    playbook: &Playbook,
    lookback: u32,
    period: &str,
) -> (Vec<PlanReview>, Vec<RollUp>) {
    let data = RepMonths::new(rows, &playbook.stages);
    let levers = crate::model::rules::lever_ids(&playbook.stages);
    let known: Option<BTreeSet<String>> =
        roster.map(|r| r.people.iter().map(|p| p.person_id.clone()).collect());
    let reviews = review(plans, &data, &levers, lookback, period, known.as_ref());
    let chain = |m: &str| ancestors(roster, playbook, m);
    let rolled = roll_up(&reviews, &chain);
    (reviews, rolled)
}

/// Writes the outcomes with a verdict into the plans; returns how many changed.
pub fn apply_to_ledger(
    plans: &mut [crate::model::plans::Plan],
    reviews: &[PlanReview],
    period: &str,
) -> usize {
    let mut changed = 0;
    for r in reviews.iter().filter(|r| r.verdict.is_some()) {
        if let Some(p) = plans.iter_mut().find(|p| p.plan_id == r.plan_id) {
            let before = p.clone();
            p.after_rate = r.after_rate;
            p.after_n = Some(r.after_n);
            p.change = r.change;
            p.p_improved = r.p_improved;
            p.effect = r.effect;
            p.effect_low = r.effect_low;
            p.effect_high = r.effect_high;
            p.verdict = r.verdict.clone();
            p.target_reached = r.target_reached;
            p.reviewed_in = Some(period.to_string());
            p.status = "reviewed".into();
            changed += (*p != before) as usize;
        }
    }
    changed
}

/// A manager and the nodes above: (level, id, name), the manager first.
fn ancestors(
    roster: Option<&Roster>,
    playbook: &Playbook,
    manager: &str,
) -> Vec<(String, String, String)> {
    let Some(r) = roster else {
        return vec![("manager".into(), manager.to_string(), manager.to_string())];
    };
    let Some(&i) = r.index.get(manager) else {
        return vec![("manager".into(), manager.to_string(), manager.to_string())];
    };
    let levels = r.levels(playbook, &[]);
    let mut out = vec![("manager".to_string(), manager.to_string(), r.people[i].name.clone())];
    for a in r.ancestors(i) {
        out.push((levels[a].clone(), r.people[a].person_id.clone(), r.people[a].name.clone()));
    }
    out
}

pub fn write_output(
    reviews: &[PlanReview],
    rolled: &[RollUp],
    dest: &Dest,
    format: Format,
) -> Result<()> {
    let mut w = TableWriter::create(dest, format, REVIEW_COLUMNS)?;
    for r in reviews {
        w.write_row(&[
            Cell::Str("plan"),
            Cell::Str(&r.rep_id),
            Cell::Null,
            Cell::Str(&r.plan_id),
            Cell::Str(&r.rep_id),
            r.manager_id.as_deref().into(),
            Cell::Str(&r.focus),
            Cell::Str(&r.period),
            Cell::Str(&r.review_period),
            r.baseline_rate.into(),
            Cell::Int(r.baseline_n as i64),
            r.after_rate.into(),
            Cell::Int(r.after_n as i64),
            r.change.into(),
            r.p_improved.into(),
            r.expected_after.into(),
            Cell::Int(r.peers as i64),
            r.peer_change.into(),
            r.effect.into(),
            r.effect_low.into(),
            r.effect_high.into(),
            r.verdict.as_deref().into(),
            r.target_reached.map_or(Cell::Null, Cell::Bool),
            r.more_deals_needed.map(|v| v as i64).into(),
            r.note.as_deref().into(),
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Null,
        ])?;
    }
    for g in rolled {
        let mut cells = vec![Cell::Str(&g.level), Cell::Str(&g.group_id), Cell::Str(&g.group_name)];
        cells.extend(std::iter::repeat_n(Cell::Null, 22));
        cells.extend([
            Cell::Int(g.plans as i64),
            Cell::Int(g.improved as i64),
            g.improved_share.into(),
            g.improved_low.into(),
            g.improved_high.into(),
            g.mean_effect.into(),
        ]);
        w.write_row(&cells)?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_columns_match_the_schema_file() {
        crate::model::schema::assert_columns_match("review", REVIEW_COLUMNS);
    }
}
