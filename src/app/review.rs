//! The review use case: the ledger's due plans against the funnel, and the roll-ups.

use crate::io::output::Output;
use crate::io::write::Cell;
use crate::metrics::review::Node;
use crate::metrics::review::{PlanReview, RepMonths, RollUp, review, roll_up};
use crate::model::level::OrgLevel;
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::model::tables::{Column, Kind, col};
use crate::model::values::PlanStatus;
use anyhow::Result;
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
    col("leading_indicator", Kind::String, false),
    col("leading_before", Kind::Number, false),
    col("leading_after", Kind::Number, false),
    col("note", Kind::String, false),
    col("plan_level", Kind::String, false),
    col("plans", Kind::Integer, false),
    col("improved", Kind::Integer, false),
    col("improved_share", Kind::Number, false),
    col("improved_low", Kind::Number, false),
    col("improved_high", Kind::Number, false),
    col("improved_shrunk", Kind::Number, false),
    col("mean_effect", Kind::Number, false),
    col("mean_effect_low", Kind::Number, false),
    col("mean_effect_high", Kind::Number, false),
];

/// Reviews the due plans against the rep-level monthly funnel and rolls them up the roster.
pub fn review_all(
    plans: &[crate::model::plans::Plan],
    rows: &[crate::metrics::funnel::FunnelRow],
    roster: Option<&Roster>,
    playbook: &Playbook,
    lookback: u32,
    period: &str,
    as_of: crate::model::time::Micros,
) -> (Vec<PlanReview>, Vec<RollUp>) {
    let data = RepMonths::new(rows, &playbook.stages).with_coverage(month_coverage(
        rows,
        as_of,
        playbook.timezone,
    ));
    let levers = crate::model::lever::LeverId::all(&playbook.stages);
    let known: Option<BTreeSet<String>> =
        roster.map(|r| r.people.iter().map(|p| p.person_id.clone()).collect());
    let setup = crate::metrics::review::ReviewSetup {
        levers: &levers,
        rules: &playbook.rules,
        lookback,
        review_month: period,
        known_reps: known.as_ref(),
    };
    let mut reviews = review(plans, &data, &setup);
    // Coaching plans read the verdicts this review has just given their reps' plans.
    let mut updated = plans.to_vec();
    apply_to_ledger(&mut updated, &reviews, period);
    let plans = updated.as_slice();
    // Coaching plans: the plans of the person's reps made in the plan's month.
    let managers_of = |director: &str| -> BTreeSet<String> {
        roster
            .map(|r| {
                r.people
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| {
                        r.parent[*i].is_some_and(|p| r.people[p].person_id == director)
                    })
                    .map(|(_, p)| p.person_id.clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    let members = |plan: &crate::model::plans::Plan| {
        let person = plan.rep_id.as_str();
        let managers: BTreeSet<String> = match plan.level {
            Some(OrgLevel::Director) => managers_of(person),
            _ => [person.to_string()].into(),
        };
        plans
            .iter()
            .filter(|p| !p.is_coaching() && p.period == plan.period)
            .filter(|p| p.manager_id.as_ref().is_some_and(|m| managers.contains(m)))
            .collect::<Vec<_>>()
    };
    reviews.extend(crate::metrics::review::review_coaching(plans, period, &members));
    if let Some(r) = roster {
        for review in &mut reviews {
            if let Some(&i) = r.index.get(&review.rep_id) {
                review.rep_name = Some(r.people[i].name.clone()).filter(|n| !n.is_empty());
            }
        }
    }
    let chain = |m: &str| ancestors(roster, playbook, m);
    let rolled = roll_up(&reviews, &chain);
    (reviews, rolled)
}

/// The months the data ends inside, with the share of each covered by `as_of`.
fn month_coverage(
    rows: &[crate::metrics::funnel::FunnelRow],
    as_of: crate::model::time::Micros,
    tz: chrono_tz::Tz,
) -> std::collections::BTreeMap<String, f64> {
    use crate::model::time::{Period, PeriodKind, local_midnight};
    let months: BTreeSet<&str> = rows.iter().map(|r| r.period.as_str()).collect();
    months
        .into_iter()
        .filter_map(|m| {
            let p = Period::parse(PeriodKind::Month, m).ok()?;
            let (start, end) =
                (local_midnight(p.start_day(), tz), local_midnight(p.next().start_day(), tz));
            let share = ((as_of + 1 - start) as f64 / (end - start) as f64).clamp(0.0, 1.0);
            // An export taken in the last minutes of a month covers it.
            (share < 0.999).then(|| (m.to_string(), share))
        })
        .collect()
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
            p.verdict = r.verdict;
            p.target_reached = r.target_reached;
            p.reviewed_in = Some(period.to_string());
            p.leading_indicator = r.leading_indicator.clone();
            p.leading_before = r.leading_before;
            p.leading_after = r.leading_after;
            p.status = PlanStatus::Reviewed;
            changed += !same_as_written(p, &before) as usize;
        }
    }
    changed
}

/// Whether a plan reads the same once written: the ledger keeps six decimals.
fn same_as_written(a: &crate::model::plans::Plan, b: &crate::model::plans::Plan) -> bool {
    let round = |p: &crate::model::plans::Plan| {
        let r = |v: Option<f64>| v.map(|x| (x * 1e6).round() as i64);
        (
            [r(p.after_rate), r(p.change), r(p.p_improved), r(p.effect)],
            [r(p.effect_low), r(p.effect_high), r(p.leading_before), r(p.leading_after)],
        )
    };
    let strip = |p: &crate::model::plans::Plan| crate::model::plans::Plan {
        after_rate: None,
        change: None,
        p_improved: None,
        effect: None,
        effect_low: None,
        effect_high: None,
        leading_before: None,
        leading_after: None,
        ..p.clone()
    };
    round(a) == round(b) && strip(a) == strip(b)
}

/// A manager and the nodes above: (level, id, name), the manager first.
fn ancestors(roster: Option<&Roster>, playbook: &Playbook, manager: &str) -> Vec<Node> {
    let alone = || vec![(OrgLevel::Manager, manager.to_string(), manager.to_string())];
    let Some(r) = roster else { return alone() };
    let Some(&i) = r.index.get(manager) else { return alone() };
    let levels = r.levels(playbook);
    let mut out = vec![(OrgLevel::Manager, manager.to_string(), r.people[i].name.clone())];
    for a in r.ancestors(i) {
        out.push((levels[a].clone(), r.people[a].person_id.clone(), r.people[a].name.clone()));
    }
    out
}

pub fn write_output(
    reviews: &[PlanReview],
    rolled: &[RollUp],
    output: &Output,
    playbook: &crate::model::playbook::Playbook,
) -> Result<()> {
    if output.format == crate::io::Format::Table {
        let text = human_tables(reviews, rolled, output.width, playbook);
        return output.text(|w| Ok(write!(w, "{text}")?));
    }
    let mut w = output.table(REVIEW_COLUMNS)?;
    for r in reviews {
        let focus = r.focus.to_string();
        let mut cells = vec![
            Cell::Str("plan"),
            Cell::Str(&r.rep_id),
            r.rep_name.as_deref().into(),
            Cell::Str(&r.plan_id),
            Cell::Str(&r.rep_id),
            r.manager_id.as_deref().into(),
            Cell::Str(&focus),
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
            r.verdict.map(|v| v.as_str()).into(),
            r.target_reached.map_or(Cell::Null, Cell::Bool),
            r.more_deals_needed.map(|v| v as i64).into(),
            r.leading_indicator.as_deref().into(),
            r.leading_before.into(),
            r.leading_after.into(),
            r.note.as_deref().into(),
            r.plan_level.as_ref().map(OrgLevel::as_str).into(),
        ];
        // The roll-up columns are empty on a plan's row.
        cells.extend(std::iter::repeat_n(Cell::Null, REVIEW_COLUMNS.len() - cells.len()));
        w.write_row(&cells)?;
    }
    for g in rolled {
        let mut cells =
            vec![Cell::Str(g.level.as_str()), Cell::Str(&g.group_id), Cell::Str(&g.group_name)];
        // The plan columns are empty on a roll-up's row.
        cells.extend(std::iter::repeat_n(Cell::Null, 26));
        cells.extend([
            Cell::Int(g.plans as i64),
            Cell::Int(g.improved as i64),
            g.improved_share.into(),
            g.improved_low.into(),
            g.improved_high.into(),
            g.improved_shrunk.into(),
            g.mean_effect.into(),
            g.mean_effect_low.into(),
            g.mean_effect_high.into(),
        ]);
        w.write_row(&cells)?;
    }
    w.finish()
}

/// What a person reads on a terminal: per plan the verdict, the effect with its interval and
/// the leading indicator; per roster node the record with its intervals. `-f csv` has it all.
fn human_tables(
    reviews: &[PlanReview],
    rolled: &[RollUp],
    width: Option<u16>,
    playbook: &crate::model::playbook::Playbook,
) -> String {
    use crate::io::output::render_table;
    use crate::model::values::Lang;
    let pct = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{:.0}%", v * 100.0));
    let pts = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{:+.1}", v * 100.0));
    let plans: Vec<Vec<String>> = reviews
        .iter()
        .map(|r| {
            let volume = r.focus.is_volume();
            let value = |v: Option<f64>| {
                if volume { v.map_or("—".into(), |v| format!("{v:.1}")) } else { pct(v) }
            };
            let num = |v: Option<f64>| {
                if volume { v.map_or("—".into(), |v| format!("{v:+.1}")) } else { pts(v) }
            };
            vec![
                r.rep_name.clone().unwrap_or_else(|| r.rep_id.clone()),
                crate::app::worksheets::lever_label(playbook, Lang::En, &r.focus),
                format!("{} → {}", value(r.baseline_rate), value(r.after_rate)),
                match (r.effect_low, r.effect_high) {
                    (Some(lo), Some(hi)) => {
                        format!("{} ({} to {})", num(r.effect), num(Some(lo)), num(Some(hi)))
                    }
                    _ => num(r.effect),
                },
                r.verdict.map_or("not reviewable yet".into(), |v| {
                    crate::app::worksheets::verdict_words(v, Lang::En).to_string()
                }),
                match (&r.leading_indicator, r.leading_before, r.leading_after) {
                    (Some(n), Some(b), Some(a)) => {
                        crate::app::worksheets::leading_text(playbook, Lang::En, n, b, a)
                    }
                    _ => String::new(),
                },
                r.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let records: Vec<Vec<String>> = rolled
        .iter()
        .map(|g| {
            vec![
                g.level.to_string(),
                if g.group_name.is_empty() { g.group_id.clone() } else { g.group_name.clone() },
                g.plans.to_string(),
                g.improved.to_string(),
                format!(
                    "{} ({}–{})",
                    pct(g.improved_share),
                    pct(g.improved_low),
                    pct(g.improved_high)
                ),
                pct(g.improved_shrunk),
                match (g.mean_effect_low, g.mean_effect_high) {
                    (Some(lo), Some(hi)) => {
                        format!("{} ({} to {})", pts(g.mean_effect), pts(Some(lo)), pts(Some(hi)))
                    }
                    _ => pts(g.mean_effect),
                },
            ]
        })
        .collect();
    let mut text = render_table(
        &["rep", "focus", "before → after", "effect (95%)", "verdict", "leading indicator", "note"],
        &plans,
        width,
    );
    text.push_str("\nEffects on rates are in points, on volumes in their unit a month; ranges are 95% intervals.\n\n");
    text.push_str(&render_table(
        &[
            "level",
            "name",
            "plans",
            "improved",
            "share (95%)",
            "shrunk",
            "mean effect on rates (95%)",
        ],
        &records,
        width,
    ));
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_columns_match_the_schema_file() {
        crate::model::schema::assert_columns_match("review", REVIEW_COLUMNS);
    }
}
