//! One rep plan's review: before and after, the probability it improved, and the effect
//! against matched uncoached peers.

use super::outcome::{MATCHED_PEERS, PlanReview, verdict_of};
use super::peers::{Cohorts, Peer};
use super::windows::{RepMonths, months, shift};
use crate::metrics::stats::{normal_cdf, prob_beta_greater};
use crate::model::lever::LeverId;
use crate::model::plans::Plan;
use crate::model::rules::Rule;
use crate::model::values::{PlanStatus, Verdict};
use std::collections::BTreeSet;

/// What a review run needs besides the plans and the data.
pub struct ReviewSetup<'a> {
    /// The playbook's lever ids: a plan on any other lever cannot be reviewed.
    pub levers: &'a [LeverId],
    /// The playbook's rules, whose hypotheses name the leading indicators.
    pub rules: &'a [Rule],
    pub lookback: u32,
    pub review_month: &'a str,
    /// The roster's people, when a roster was given.
    pub known_reps: Option<&'a BTreeSet<String>>,
}

/// Reviews the plans due by `review_month` that have no outcome yet.
pub fn review(plans: &[Plan], data: &RepMonths, setup: &ReviewSetup) -> Vec<PlanReview> {
    let month = setup.review_month;
    let due: Vec<&Plan> = plans
        .iter()
        // A suggestion is not a plan until the manager agrees it; coaching plans are reviewed
        // by `review_coaching`.
        .filter(|p| p.status != PlanStatus::Suggested && !p.is_coaching())
        .filter(|p| p.verdict.is_none() || p.reviewed_in.as_deref() == Some(month))
        .filter(|p| p.due_by(month))
        .collect();
    let mut cohorts = Cohorts::default();
    due.iter().map(|p| review_plan(&mut cohorts, p, plans, data, setup)).collect()
}

fn review_plan(
    cohorts: &mut Cohorts,
    plan: &Plan,
    all: &[Plan],
    data: &RepMonths,
    setup: &ReviewSetup,
) -> PlanReview {
    let (levers, lookback, review_month) = (setup.levers, setup.lookback, setup.review_month);
    let lever = plan.lever();
    let mut out = PlanReview::of(plan);
    let mut notes = Vec::new();
    if setup.known_reps.is_some_and(|r| !r.contains(&plan.rep_id)) {
        notes.push("the rep is not in the roster".to_string());
    }
    if !levers.contains(lever) {
        notes.push(format!("the lever {lever} is no longer in the playbook"));
        out.note = Some(notes.join("; "));
        return out;
    }
    let from = plan.window_from.clone().unwrap_or_else(|| shift(&plan.period, 1 - lookback as i32));
    let before_months = months(&from, &plan.period);
    let after_end = std::cmp::min(review_month.to_string(), shift(&plan.period, lookback as i32));
    let after_months = months(&shift(&plan.period, 1), &after_end);
    let binomial = lever.is_step();
    if let Some((name, b, a)) =
        leading_signal(plan, lever, setup.rules, data, &before_months, &after_months)
    {
        out.leading_indicator = Some(name);
        out.leading_before = Some(b);
        out.leading_after = Some(a);
    }
    let (Some(before), Some(after)) = (
        data.counts(&plan.rep_id, lever, &before_months),
        data.counts(&plan.rep_id, lever, &after_months),
    ) else {
        notes.push("the after-period cohorts are not mature yet".into());
        out.note = Some(notes.join("; "));
        return out;
    };
    out.baseline_rate = before.rate();
    out.baseline_n = before.n.round() as u64;
    out.after_rate = after.rate();
    out.after_n = after.n.round() as u64;
    if !data.reps.contains(plan.rep_id.as_str()) || before.n <= 0.0 {
        notes.push("no deals for this lever before the plan".into());
        out.note = Some(notes.join("; "));
        return out;
    }
    // Less than one decided deal (or half a month) after the plan is not yet evidence.
    if after.n < if binomial { 1.0 } else { 0.5 } {
        notes.push(if binomial {
            "too few deals decided since the plan yet: review it later".to_string()
        } else {
            "too little of a month since the plan yet: review it later".to_string()
        });
        out.after_rate = None;
        out.note = Some(notes.join("; "));
        return out;
    }
    let (r0, r1) = (before.k / before.n, after.k / after.n);
    let change = r1 - r0;
    out.change = Some(change);
    let var_rep = before.variance(binomial) + after.variance(binomial);
    out.p_improved = Some(if binomial {
        prob_beta_greater(
            after.k + 1.0,
            (after.n - after.k).max(0.0) + 1.0,
            before.k + 1.0,
            (before.n - before.k).max(0.0) + 1.0,
        )
    } else {
        normal_cdf(change / var_rep.sqrt())
    });
    // Regression to the mean: what the rep's baseline predicts for later without coaching is its
    // empirical-Bayes posterior mean (see Predictor). The rep's residual (after − prediction) is
    // compared with the residuals of the uncoached reps whose predictions were nearest, which
    // removes a common trend as well.
    let table = cohorts.get_or_build(data, lever, &before_months, &after_months, binomial);
    let (expected0, var_expected0) = table.predictor.predict(before);
    let coached: BTreeSet<&str> = all
        .iter()
        // A suggestion nobody agreed is not coaching: its rep is a control.
        .filter(|p| p.status != PlanStatus::Suggested)
        .filter(|p| p.period == plan.period && p.lever() == lever)
        .map(|p| p.rep_id.as_str())
        .collect();
    // Controls with enough deals in both windows are preferred; thinner ones are used only
    // when there are none (their noise widens the interval).
    let uncoached: Vec<&Peer> =
        table.peers.iter().filter(|p| !coached.contains(p.rep.as_str())).collect();
    let pool: Vec<&Peer> = if uncoached.iter().any(|p| p.sized) {
        uncoached.into_iter().filter(|p| p.sized).collect()
    } else {
        uncoached
    };
    let mut peers: Vec<(f64, f64, f64)> =
        pool.iter().map(|p| ((p.expected - expected0).abs(), p.residual, p.variance)).collect();
    peers.sort_by(|a, b| a.0.total_cmp(&b.0));
    peers.truncate(MATCHED_PEERS);
    out.peers = peers.len() as u64;
    let target = plan.agreed_target_rate.or(plan.target_rate);
    out.target_reached = target.map(|t| r1 >= t - 1e-12);
    if peers.is_empty() {
        // Not reviewable: with no control, no change can be told from a common trend.
        notes.push(if data.reps.iter().all(|r| coached.contains(r)) {
            format!(
                "every rep had a plan on {lever} in {}: there is no uncoached rep to compare with",
                plan.period
            )
        } else {
            format!("no uncoached rep has deals on {lever} in both windows to compare with")
        });
        out.note = (!notes.is_empty()).then(|| notes.join("; "));
        return out;
    }
    let k = peers.len() as f64;
    let peer_change = peers.iter().map(|p| p.1).sum::<f64>() / k;
    let spread =
        peers.iter().map(|p| (p.1 - peer_change).powi(2)).sum::<f64>() / (k - 1.0).max(1.0);
    let noise = peers.iter().map(|p| p.2).sum::<f64>() / (k * k);
    let var_effect = after.variance(binomial) + var_expected0 + (spread / k).max(noise);
    let effect = (r1 - expected0) - peer_change;
    let half = 1.96 * var_effect.sqrt();
    out.expected_after = Some(expected0);
    out.peer_change = Some(peer_change);
    out.effect = Some(effect);
    out.effect_low = Some(effect - half);
    out.effect_high = Some(effect + half);
    let verdict = verdict_of(effect - half, effect + half);
    if verdict == Verdict::Inconclusive && binomial && effect != 0.0 {
        // How many more deals would shrink the interval to exclude zero at this effect; not
        // said when it is beyond any month's reach (an effect near zero).
        let factor = (half / effect).powi(2);
        let more = ((factor - 1.0) * after.n).ceil().max(1.0);
        out.more_deals_needed = (factor <= 20.0).then_some(more as u64);
    }
    out.verdict = Some(verdict);
    out.note = (!notes.is_empty()).then(|| notes.join("; "));
    out
}

/// The activity indicator a plan's hypothesis reads (else the first its lever's rules read)
/// that the rep has in both windows: (name, before, after). The lever's own value is not a
/// leading signal of itself.
fn leading_signal(
    plan: &Plan,
    lever: &LeverId,
    rules: &[Rule],
    data: &RepMonths,
    before: &[String],
    after: &[String],
) -> Option<(String, f64, f64)> {
    let hypotheses: Vec<&crate::model::rules::Hypothesis> =
        rules.iter().filter(|r| &r.lever == lever).flat_map(|r| &r.hypotheses).collect();
    let chosen = plan.hypothesis.as_deref();
    let names = hypotheses
        .iter()
        .filter(|h| Some(h.id.as_str()) == chosen)
        .chain(hypotheses.iter())
        .flat_map(|h| &h.needs)
        .filter(|n| !is_the_lever_itself(n, lever));
    names.into_iter().find_map(|n| {
        let b = data.indicator(&plan.rep_id, n, before)?;
        let a = data.indicator(&plan.rep_id, n, after)?;
        Some((n.clone(), b, a))
    })
}

/// A rate, or lead volume for a volume plan: the outcome itself, not a signal leading it.
fn is_the_lever_itself(indicator: &str, lever: &LeverId) -> bool {
    indicator.starts_with("rate.") || (lever.is_volume() && indicator == "leads_per_month")
}
