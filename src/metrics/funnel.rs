//! The funnel: step-up rates per group (rep, every roster level, company) and period, with
//! intervals, shrinkage, and the activity and outcome indicators beside them.
//!
//! Counts are gathered per rep in dense arrays, then summed up the roster tree, so that a
//! node's counts are exactly the sums over the deals credited to the reps under it.

use crate::metrics::open_cohorts::{Estimate, LagModel, estimate};
use crate::metrics::stats::{fit_beta, median, wilson};
use crate::model::time::{MICROS_PER_DAY, Period};
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

pub use crate::metrics::config::{FunnelConfig, Method};
pub use crate::metrics::groups::{Group, UNASSIGNED, groups, unassigned_reps};
pub use crate::metrics::tally::{ActivityColumns, CONNECTED_OUTCOMES, Outcome, StageCounts, Tally};

/// One row of the funnel table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FunnelRow {
    pub level: crate::model::level::OrgLevel,
    pub group_id: String,
    pub group_name: String,
    pub parent_id: Option<String>,
    pub period: String,
    pub from_stage: String,
    pub to_stage: String,
    pub method: Method,
    pub window_days: u32,
    pub entered: u64,
    pub converted: u64,
    pub lost: Option<u64>,
    pub open: Option<u64>,
    pub skipped: u64,
    pub rate: Option<f64>,
    /// converted / entered, as counted at as-of.
    pub rate_observed: Option<f64>,
    /// The share of the cohort's outcome already observed: effective observations / entered.
    pub observed_share: Option<f64>,
    pub rate_low: Option<f64>,
    pub rate_high: Option<f64>,
    pub rate_shrunk: Option<f64>,
    pub prior_alpha: Option<f64>,
    pub prior_beta: Option<f64>,
    pub level_median: Option<f64>,
    pub mature: bool,
    /// Median days from entering the stage to stepping up (company, all cohorts).
    pub step_days_median: Option<f64>,
    /// Median days from entering the stage to being lost (company, all cohorts).
    pub lost_days_median: Option<f64>,
    pub activities: Option<u64>,
    pub activities_per_deal: Option<f64>,
    pub touched_share: Option<f64>,
    pub personalized_share: Option<f64>,
    pub activity_mix: Option<String>,
    pub first_activity_hours_median: Option<f64>,
    pub first_call_connected_share: Option<f64>,
    pub first_call_duration_median_s: Option<f64>,
    pub won: Option<u64>,
    pub won_amount: Option<Decimal>,
    pub avg_deal_size: Option<Decimal>,
    /// ISO 4217 code of `won_amount` and `avg_deal_size`.
    pub currency: Option<String>,
    /// Won deals in several currencies, unconverted: each one's sum ("GBP 3000; JPY 500000").
    pub won_amount_by_currency: Option<String>,
    pub cycle_days_median: Option<f64>,
}

fn ratio(k: u64, n: u64) -> Option<f64> {
    (n > 0).then(|| k as f64 / n as f64)
}

fn med(v: &[f32]) -> Option<f64> {
    let mut x: Vec<f64> = v.iter().map(|&f| f as f64).collect();
    median(&mut x)
}

/// Rolls the tally up to the groups and computes every rate, interval and shrunk value.
impl FunnelRow {
    /// The step this row counts, as a lever.
    pub fn step(&self) -> crate::model::lever::LeverId {
        crate::model::lever::LeverId::Step {
            from: self.from_stage.clone(),
            to: self.to_stage.clone(),
        }
    }

    /// A row of the same period, step and window with nothing counted: no rate, no indicator.
    pub fn empty_like(r: &FunnelRow) -> FunnelRow {
        FunnelRow {
            level: r.level.clone(),
            group_id: r.group_id.clone(),
            group_name: r.group_name.clone(),
            parent_id: r.parent_id.clone(),
            period: r.period.clone(),
            from_stage: r.from_stage.clone(),
            to_stage: r.to_stage.clone(),
            method: r.method,
            window_days: r.window_days,
            entered: 0,
            converted: 0,
            lost: None,
            open: None,
            skipped: 0,
            rate: None,
            rate_observed: None,
            observed_share: None,
            rate_low: None,
            rate_high: None,
            rate_shrunk: None,
            prior_alpha: None,
            prior_beta: None,
            level_median: None,
            mature: r.mature,
            step_days_median: None,
            lost_days_median: None,
            activities: None,
            activities_per_deal: None,
            touched_share: None,
            personalized_share: None,
            activity_mix: None,
            first_activity_hours_median: None,
            first_call_connected_share: None,
            first_call_duration_median_s: None,
            won: None,
            won_amount: None,
            avg_deal_size: None,
            currency: None,
            won_amount_by_currency: None,
            cycle_days_median: None,
        }
    }
}

pub fn rows(t: &Tally, groups: &[Group]) -> Vec<FunnelRow> {
    let stages = t.stages;
    let cfg = &t.cfg;
    let transitions = stages - 1;
    let overall_window = t.overall_window();
    let models: Vec<LagModel> = t.lags.iter().map(LagModel::fit).collect();
    let mut ages: BTreeMap<u32, u32> = BTreeMap::new();
    let mut out = Vec::new();
    for g in groups {
        for p in 0..t.periods {
            let mut cells = vec![StageCounts::default(); stages];
            let mut outcome = Outcome::default();
            let n_types = t.types.len();
            let mut mix = vec![0u64; stages * n_types];
            for &r in &g.members {
                for (s, c) in cells.iter_mut().enumerate() {
                    let idx = t.cell_idx(r, p, s);
                    c.add(&t.cells[idx]);
                    if t.cells[idx].activities > 0 {
                        for ty in 0..n_types {
                            if let Some(n) = t.mix.get(&(idx as u32, ty as u16)) {
                                mix[s * n_types + ty] += *n as u64;
                            }
                        }
                    }
                }
                outcome.add(&t.outcomes[r as usize * t.periods + p]);
            }
            if cells.iter().all(|c| c.entered == 0) && outcome.won == 0 {
                continue;
            }
            let period = Period { index: t.slots[p], ..t.first };
            let (end, label) = if cfg.whole {
                (cfg.as_of, "all".to_string())
            } else {
                (t.cal.end_of(period), period.label())
            };
            for s in 0..transitions {
                let c = &cells[s];
                let (converted, lost, open) = match cfg.method {
                    Method::Cohort => (c.converted, Some(c.lost), Some(c.open)),
                    Method::Flow => (cells[s + 1].entered, None, None),
                };
                let window = cfg.windows[s];
                let mature = match cfg.method {
                    Method::Cohort => cfg.as_of >= end + window as i64 * MICROS_PER_DAY,
                    Method::Flow => cfg.as_of >= end,
                };
                let mut mix_s: Vec<(&str, u64)> = (0..n_types)
                    .filter(|&ty| mix[s * n_types + ty] > 0)
                    .map(|ty| (t.types.str(ty as u32), mix[s * n_types + ty]))
                    .collect();
                mix_s.sort();
                let mix_s: Vec<String> = mix_s.iter().map(|(ty, n)| format!("{ty}={n}")).collect();
                let first_stage = s == 0;
                let acts = t.activity_columns;
                let keys = g.members.iter().map(|&r| t.cell_idx(r, p, s) as u32);
                let est = match cfg.method {
                    Method::Cohort if c.open_young == 0 => {
                        estimate(&models[s], converted, c.entered - converted, &[])
                    }
                    Method::Cohort => {
                        cohort_estimate(t, &models[s], keys, converted, c.entered, &mut ages)
                    }
                    Method::Flow => flow_estimate(converted, c.entered),
                };
                out.push(FunnelRow {
                    level: g.level.clone(),
                    group_id: g.id.clone(),
                    group_name: g.name.clone(),
                    parent_id: g.parent_id.clone(),
                    period: label.clone(),
                    from_stage: cfg.stages[s].clone(),
                    to_stage: cfg.stages[s + 1].clone(),
                    method: cfg.method,
                    window_days: window,
                    entered: c.entered,
                    converted,
                    lost,
                    open,
                    skipped: c.skipped,
                    rate: est.map(|e| e.rate),
                    rate_observed: ratio(converted, c.entered),
                    observed_share: est.map(|e| e.effective_n / c.entered as f64),
                    rate_low: est.map(|e| e.low).filter(|v| v.is_finite()),
                    rate_high: est.map(|e| e.high).filter(|v| v.is_finite()),
                    rate_shrunk: None,
                    prior_alpha: None,
                    prior_beta: None,
                    level_median: None,
                    mature,
                    step_days_median: models[s].convert_days_median,
                    lost_days_median: models[s].lost_days_median,
                    activities: acts.any.then_some(c.activities),
                    activities_per_deal: if acts.any {
                        ratio(c.activities, c.entered)
                    } else {
                        None
                    },
                    touched_share: if acts.any { ratio(c.touched, c.entered) } else { None },
                    personalized_share: if acts.personalized {
                        ratio(c.personalized, c.emails)
                    } else {
                        None
                    },
                    activity_mix: (acts.any && !mix_s.is_empty()).then(|| mix_s.join(";")),
                    first_activity_hours_median: if acts.any && first_stage {
                        med(&outcome.first_activity_hours)
                    } else {
                        None
                    },
                    first_call_connected_share: if acts.outcome && first_stage {
                        ratio(outcome.first_calls_connected, outcome.first_calls)
                    } else {
                        None
                    },
                    first_call_duration_median_s: if acts.duration && first_stage {
                        med(&outcome.first_call_seconds)
                    } else {
                        None
                    },
                    won: None,
                    won_amount: None,
                    avg_deal_size: None,
                    currency: None,
                    won_amount_by_currency: None,
                    cycle_days_median: None,
                });
            }
            // The whole funnel, first stage to last, with the outcome figures.
            let entered = cells[0].entered;
            let (converted, lost, open) = match cfg.method {
                Method::Cohort => (outcome.reached, Some(outcome.lost), Some(outcome.open)),
                Method::Flow => (cells[stages - 1].entered, None, None),
            };
            let single = outcome.won_money.single();
            let won_amount = single.map(|(_, a, _)| a.normalize());
            let avg_deal_size = single.map(|(_, a, n)| (a / Decimal::from(n)).round_dp(2));
            let currency = single.and_then(|(c, _, _)| c.map(|c| c.to_string()));
            let won_amount_by_currency =
                outcome.won_money.is_mixed().then(|| outcome.won_money.by_currency_text());
            let est = match cfg.method {
                Method::Cohort if outcome.open_young == 0 => {
                    estimate(&models[transitions], converted, entered - converted.min(entered), &[])
                }
                Method::Cohort => whole_funnel_estimate(&models[..transitions], &outcome, entered),
                Method::Flow => flow_estimate(converted, entered),
            };
            out.push(FunnelRow {
                level: g.level.clone(),
                group_id: g.id.clone(),
                group_name: g.name.clone(),
                parent_id: g.parent_id.clone(),
                period: label,
                from_stage: cfg.stages[0].clone(),
                to_stage: cfg.stages[stages - 1].clone(),
                method: cfg.method,
                window_days: overall_window,
                entered,
                converted,
                lost,
                open,
                skipped: 0,
                rate: est.map(|e| e.rate),
                rate_observed: ratio(converted, entered),
                observed_share: est.map(|e| e.effective_n / entered as f64),
                rate_low: est.map(|e| e.low).filter(|v| v.is_finite()),
                rate_high: est.map(|e| e.high).filter(|v| v.is_finite()),
                rate_shrunk: None,
                prior_alpha: None,
                prior_beta: None,
                level_median: None,
                mature: cfg.as_of >= end + overall_window as i64 * MICROS_PER_DAY,
                step_days_median: models[transitions].convert_days_median,
                lost_days_median: models[transitions].lost_days_median,
                activities: None,
                activities_per_deal: None,
                touched_share: None,
                personalized_share: None,
                activity_mix: None,
                first_activity_hours_median: None,
                first_call_connected_share: None,
                first_call_duration_median_s: None,
                won: Some(outcome.won),
                won_amount,
                avg_deal_size,
                currency,
                won_amount_by_currency,
                cycle_days_median: med(&outcome.cycle_days),
            });
        }
    }
    shrink(&mut out);
    out
}

/// A cohort's estimate from its counts and the ages of its open deals (gathered from the
/// member cells `keys`). See `metrics::open_cohorts`.
fn cohort_estimate(
    t: &Tally,
    model: &LagModel,
    keys: impl Iterator<Item = u32>,
    converted: u64,
    entered: u64,
    ages: &mut BTreeMap<u32, u32>,
) -> Option<Estimate> {
    ages.clear();
    for k in keys {
        for &(_, a) in t.open_ages_of(k) {
            *ages.entry(a).or_default() += 1;
        }
    }
    let open: Vec<(u32, u32)> = ages.iter().map(|(&a, &n)| (a, n)).collect();
    let n_open: u64 = open.iter().map(|o| o.1 as u64).sum();
    let decided_no = entered.saturating_sub(converted + n_open);
    let e = estimate(model, converted, decided_no, &open)?;
    if n_open == 0 {
        return Some(e);
    }
    // Open cohorts are kept at the precision tables are written with, so that rows read back
    // from a funnel table give the same effective counts as rows computed here.
    let n = entered as f64;
    Some(Estimate {
        rate: round6(e.rate),
        low: round6(e.low),
        high: round6(e.high),
        effective_n: round6(e.effective_n / n) * n,
    })
}

/// The whole funnel's rate while leads are still open: each open lead is completed by the
/// company's step-up rates from the stage it has reached to the last (a lead at quote counts
/// the quote → won rate, one still a lead the product of every step), its next step's chance
/// given how long it has waited at its stage: a lead older than every observed step-up is not
/// a future win. The interval is as wide as the decided leads alone allow. Timing from lead to
/// won is too long to learn within a young org's history; the steps' rates are not.
fn whole_funnel_estimate(steps: &[LagModel], o: &Outcome, entered: u64) -> Option<Estimate> {
    if entered == 0 {
        return None;
    }
    let after = |s: usize| steps[s.min(steps.len())..].iter().map(|m| m.p).product::<f64>();
    let to_won = |&(s, age): &(u8, u32)| match steps.get(s as usize) {
        Some(next) => next.step_given_open(age as usize) * after(s as usize + 1),
        None => 1.0,
    };
    let completion: f64 = o.open_leads.iter().map(to_won).sum();
    let rate = ((o.reached as f64 + completion) / entered as f64).clamp(0.0, 1.0);
    let decided = entered.saturating_sub(o.open_young) as f64;
    let (low, high) = wilson(rate * decided, decided).unwrap_or((0.0, 1.0));
    Some(Estimate {
        rate: round6(rate),
        low: round6(low.min(rate)),
        high: round6(high.max(rate)),
        effective_n: round6(decided / entered as f64) * entered as f64,
    })
}

/// A flow rate: entries into s+1 over entries into s (can exceed 1; no interval then).
fn flow_estimate(converted: u64, entered: u64) -> Option<Estimate> {
    let rate = ratio(converted, entered)?;
    let (low, high) = wilson(converted as f64, entered as f64).unwrap_or((f64::NAN, f64::NAN));
    Some(Estimate { rate, low, high, effective_n: entered as f64 })
}

/// The precision tables are written with: rows read back from a funnel table then give the
/// same effective counts as rows computed here.
fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// A row's (successes, observations) as the estimate is worth them: rate × effective n, and
/// effective n (entered when nothing is open).
pub fn effective_counts(r: &FunnelRow) -> (f64, f64) {
    match (r.rate, r.observed_share, r.method) {
        (Some(rate), Some(share), Method::Cohort) if share < 1.0 => {
            let n = share * r.entered as f64;
            (rate * n, n)
        }
        _ => (r.converted as f64, r.entered as f64),
    }
}

/// Fits a Beta prior per (level, period, transition) across the groups of that level and
/// stores each group's posterior mean, the prior, and the level's median raw rate.
fn shrink(rows: &mut [FunnelRow]) {
    type Key = (crate::model::level::OrgLevel, String, String, String);
    let mut peers: FxHashMap<Key, Vec<usize>> = FxHashMap::default();
    for (i, r) in rows.iter().enumerate() {
        peers
            .entry((r.level.clone(), r.period.clone(), r.from_stage.clone(), r.to_stage.clone()))
            .or_default()
            .push(i);
    }
    for idx in peers.values() {
        let counts: Vec<(f64, f64)> = idx.iter().map(|&i| effective_counts(&rows[i])).collect();
        let prior = fit_beta(&counts);
        let mut rates: Vec<f64> = idx.iter().filter_map(|&i| rows[i].rate).collect();
        let level_median = median(&mut rates);
        for &i in idx {
            let r = &mut rows[i];
            r.level_median = level_median;
            let (k, n) = effective_counts(r);
            // A cohort whose outcome is not known at all (every deal brand new) reads as its
            // peers: the posterior with no observations is the prior.
            if r.entered > 0 && k <= n + 1e-9 && r.method == Method::Cohort || n > 0.0 && k <= n {
                r.rate_shrunk = Some(prior.posterior_mean(k, n));
                r.prior_alpha = Some(prior.alpha);
                r.prior_beta = Some(prior.beta);
            }
        }
    }
}
