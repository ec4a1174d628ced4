//! A rep's funnel rows summed over the diagnosis window, and the focus lever's trend.

use super::types::{Diagnosis, LeverId, LeverKind, TrendPoint};
use crate::metrics::funnel::FunnelRow;
use crate::model::level::OrgLevel;
use std::collections::{BTreeMap, BTreeSet};

/// Sums of one rep's funnel rows over the window.
#[derive(Debug, Clone, Default)]
pub(super) struct RepWindow {
    pub(super) rep_id: String,
    pub(super) rep_name: String,
    pub(super) manager_id: Option<String>,
    /// Per transition: conversions and observations over the window's months, as the month-end
    /// estimates are worth them (effective counts: exact counts once every deal is decided).
    pub(super) k: Vec<f64>,
    pub(super) n: Vec<f64>,
    /// Per transition: deals that entered the stage over the window, those that stepped up so
    /// far and those still open at as-of.
    pub(super) entered: Vec<u64>,
    pub(super) converted: Vec<u64>,
    pub(super) open: Vec<u64>,
    /// Per stage (mature months): activities, deals, touched deals, weights for shares.
    pub(super) activities: Vec<u64>,
    pub(super) deals: Vec<u64>,
    pub(super) touched: Vec<f64>,
    pub(super) personalized: Vec<(f64, f64)>,
    pub(super) leads: u64,
    pub(super) lead_months: u64,
    pub(super) active_months: u64,
    pub(super) mature_months: u64,
    pub(super) won: u64,
    pub(super) won_amount: f64,
    pub(super) won_with_amount: u64,
    /// The currencies of the won amounts ("" for none given; `MIXED` for a month of several).
    pub(super) won_currencies: BTreeSet<String>,
    pub(super) first_contact: (f64, f64),
    pub(super) first_call_connected: (f64, f64),
    pub(super) first_call_duration: (f64, f64),
    pub(super) immature: BTreeSet<String>,
}

pub(super) fn weighted((sum, weight): (f64, f64)) -> Option<f64> {
    (weight > 0.0).then(|| sum / weight)
}

pub(super) fn add_weighted(acc: &mut (f64, f64), value: Option<f64>, weight: f64) {
    if let Some(v) = value
        && weight > 0.0
    {
        acc.0 += v * weight;
        acc.1 += weight;
    }
}
/// The months of the window ending at `period`, oldest first.
pub(super) fn window(period: &str, lookback: u32) -> anyhow::Result<Vec<String>> {
    use crate::model::time::{Period, PeriodKind};
    let mut p = Period::parse(PeriodKind::Month, period)?;
    let mut out = vec![p.label()];
    for _ in 1..lookback {
        p = p.prev();
        out.push(p.label());
    }
    out.reverse();
    Ok(out)
}

/// The latest month with deals: the month end, whose open cohorts the estimates read.
pub fn default_period(rows: &[FunnelRow]) -> Option<String> {
    rows.iter()
        .filter(|r| r.level == OrgLevel::Rep && r.entered > 0)
        .map(|r| &r.period)
        .max()
        .cloned()
}

/// Months of the trend shown in worksheets: the period and the five before it.
const TREND_MONTHS: u32 = 6;

/// Rep rows by (rep, period, from stage, to stage).
pub(super) type RowIndex<'a> =
    std::collections::HashMap<(&'a str, &'a str, &'a str, &'a str), &'a FunnelRow>;

/// The nearest stretch of a rep with no lever to work on: the step closest to its typical level
/// (or below it by the least), else lead volume. Their worksheet is written around it.
pub fn stretch_lever(d: &Diagnosis) -> Option<LeverId> {
    furthest_below(&d.levers)
        .or_else(|| d.levers.iter().find(|l| l.kind == LeverKind::LeadVolume))
        .map(|l| l.id.clone())
}

/// The step furthest below (or least above) its benchmark.
pub(super) fn furthest_below(levers: &[super::types::Lever]) -> Option<&super::types::Lever> {
    levers
        .iter()
        .filter(|l| matches!(l.kind, LeverKind::Transition(_)))
        .filter_map(|l| Some((l, l.value? - l.benchmark?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(l, _)| l)
}

pub(super) fn trend(
    index: &RowIndex,
    d: &Diagnosis,
    stages: &[String],
    period: &str,
) -> Vec<TrendPoint> {
    let Some(lever) = d.focus.clone().or(d.suggestion.clone()).or_else(|| stretch_lever(d)) else {
        return Vec::new();
    };
    let Ok(months) = window(period, TREND_MONTHS) else { return Vec::new() };
    let (from, to) = match &lever {
        LeverId::Step { from, to } => (from.clone(), to.clone()),
        // Volume levers: the entries into the stage, read off its outgoing transition.
        LeverId::LeadVolume { stage } | LeverId::Activity { stage } => {
            let i = stages.iter().position(|s| s == stage).unwrap_or(0);
            (stages[i].clone(), stages[(i + 1).min(stages.len() - 1)].clone())
        }
        LeverId::Coaching(_) => return Vec::new(),
    };
    let activity = matches!(lever, LeverId::Activity { .. });
    months
        .iter()
        .map(|m| {
            let row =
                index.get(&(d.rep_id.as_str(), m.as_str(), from.as_str(), to.as_str())).copied();
            let (value, n, mature) = match row {
                None => (None, 0, false),
                Some(r) if activity => (r.activities_per_deal, r.entered, r.mature),
                Some(r) if !lever.is_step() => (Some(r.entered as f64), r.entered, true),
                // A month whose outcome is nearly all known reads as settled.
                Some(r) => {
                    (r.rate, r.entered, r.mature || r.observed_share.is_some_and(|s| s >= 0.95))
                }
            };
            TrendPoint { period: m.clone(), value, n, mature }
        })
        .collect()
}

/// A month whose won deals are in several currencies.
pub(super) const MIXED: &str = "(several)";

pub(super) fn gather(rows: &[FunnelRow], stages: &[String], months: &[String]) -> Vec<RepWindow> {
    let t = stages.len() - 1;
    let stage_idx = |s: &str| stages.iter().position(|x| x == s);
    let mut by_rep: BTreeMap<&str, RepWindow> = BTreeMap::new();
    let mut active: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut first_lead: BTreeMap<&str, &str> = BTreeMap::new();
    let mut mature_months: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.level == OrgLevel::Rep && months.contains(&r.period)) {
        let w = by_rep.entry(&r.group_id).or_insert_with(|| RepWindow {
            rep_id: r.group_id.clone(),
            rep_name: r.group_name.clone(),
            manager_id: r.parent_id.clone(),
            k: vec![0.0; t],
            n: vec![0.0; t],
            entered: vec![0; t],
            converted: vec![0; t],
            open: vec![0; t],
            activities: vec![0; t],
            deals: vec![0; t],
            touched: vec![0.0; t],
            personalized: vec![(0.0, 0.0); t],
            ..Default::default()
        });
        let (Some(from), Some(to)) = (stage_idx(&r.from_stage), stage_idx(&r.to_stage)) else {
            continue;
        };
        if r.entered > 0 || r.won.unwrap_or(0) > 0 {
            active.entry(&r.group_id).or_default().insert(&r.period);
        }
        // The whole-funnel row carries the outcome figures (only it has `won`). With a
        // two-stage playbook it has the same stages as the one transition, which follows.
        if from == 0 && to == t && r.won.is_some() {
            w.won += r.won.unwrap_or(0);
            if let Some(a) = r.won_amount {
                w.won_amount += a.to_string().parse::<f64>().unwrap_or(0.0);
                w.won_with_amount += r.won.unwrap_or(0);
                w.won_currencies.insert(r.currency.clone().unwrap_or_default());
            }
            if r.won_amount_by_currency.is_some() {
                w.won_currencies.insert(MIXED.into());
            }
            continue;
        }
        if to != from + 1 {
            continue;
        }
        if from == 0 {
            w.leads += r.entered;
            if r.entered > 0 {
                let first = first_lead.entry(&r.group_id).or_insert(&r.period);
                if r.period.as_str() < *first {
                    *first = &r.period;
                }
            }
        }
        // Every month counts, as much as its outcomes are known: a month whose deals are
        // still open weighs less through its effective counts, never nothing.
        if r.entered > 0 {
            mature_months.entry(&r.group_id).or_default().insert(&r.period);
        }
        let (k, n) = crate::metrics::funnel::effective_counts(r);
        w.k[from] += k;
        w.n[from] += n;
        w.entered[from] += r.entered;
        w.converted[from] += r.converted;
        w.open[from] += r.open.unwrap_or(0);
        if let Some(a) = r.activities {
            w.activities[from] += a;
            w.deals[from] += r.entered;
            w.touched[from] += r.touched_share.unwrap_or(0.0) * r.entered as f64;
            let mut p = w.personalized[from];
            add_weighted(&mut p, r.personalized_share, a as f64);
            w.personalized[from] = p;
        }
        if from == 0 {
            let weight = r.entered as f64;
            add_weighted(&mut w.first_contact, r.first_activity_hours_median, weight);
            add_weighted(&mut w.first_call_connected, r.first_call_connected_share, weight);
            add_weighted(&mut w.first_call_duration, r.first_call_duration_median_s, weight);
        }
    }
    for (id, w) in by_rep.iter_mut() {
        // A rep's lead months run from their first lead in the window to its end, so that a
        // rep who joined mid-window is not read as having had no leads before.
        w.lead_months = first_lead
            .get(id)
            .map_or(0, |f| months.iter().filter(|m| m.as_str() >= *f).count() as u64);
        w.active_months = active.get(id).map_or(0, |m| m.len() as u64);
        w.mature_months = mature_months.get(id).map_or(0, |m| m.len() as u64);
    }
    by_rep.into_values().filter(|w| w.active_months > 0).collect()
}
