//! Coaching plans (a manager's or director's): the coaching lever's share over their reps'
//! plans, before and after.

use super::outcome::PlanReview;
use super::outcome::verdict_of;
use crate::model::level::OrgLevel;
use crate::model::lever::LeverId;
use crate::model::plans::Plan;
use crate::model::values::{PlanStatus, Verdict};

/// after (no control group: the note says so). `members` gives those rep plans.
/// A person's counts (k, n) per coaching skill over the rep plans made in one month: agreed of
/// made, reviewed of made, improved of reviewed, with actions of agreed. Suggestions are not
/// plans and do not count.
pub fn coaching_counts(plans: &[&Plan]) -> [(u64, u64); 4] {
    let made: Vec<&&Plan> =
        plans.iter().filter(|p| !p.is_coaching() && p.status != PlanStatus::Suggested).collect();
    let agreed: Vec<&&Plan> = made
        .iter()
        .copied()
        .filter(|p| p.status == PlanStatus::Agreed || p.agreed == Some(true))
        .collect();
    let reviewed = made.iter().filter(|p| p.verdict.is_some()).count() as u64;
    let improved = made.iter().filter(|p| p.verdict == Some(Verdict::Improved)).count() as u64;
    let with_actions = agreed
        .iter()
        .filter(|p| p.actions.as_deref().is_some_and(|a| !a.trim().is_empty()))
        .count() as u64;
    let n = made.len() as u64;
    [
        (agreed.len() as u64, n),
        (reviewed, n),
        (improved, reviewed),
        (with_actions, agreed.len() as u64),
    ]
}

/// Reviews the coaching plans (a manager's or director's) due by `month`: the coaching lever's
/// share over the plans their reps made in the plan's month against its baseline, before and
pub fn review_coaching<'a>(
    plans: &'a [Plan],
    month: &str,
    members: &dyn Fn(&'a Plan) -> Vec<&'a Plan>,
) -> Vec<PlanReview> {
    plans
        .iter()
        .filter(|p| p.is_coaching() && p.status != PlanStatus::Suggested)
        .filter(|p| p.verdict.is_none() || p.reviewed_in.as_deref() == Some(month))
        .filter(|p| p.due_by(month))
        .map(|plan| {
            let mut out = PlanReview {
                // The roster's or ledger's name as it is, even when empty.
                rep_name: plan.rep_name.clone(),
                baseline_rate: plan.baseline_rate,
                baseline_n: plan.baseline_n.unwrap_or(0),
                plan_level: plan.level.clone(),
                ..PlanReview::of(plan)
            };
            let LeverId::Coaching(skill) = plan.lever() else {
                out.note = Some(format!("{} is not a coaching lever", plan.lever()));
                return out;
            };
            let (k, n) = coaching_counts(&members(plan))[skill.index()];
            let (b, bn) = (plan.baseline_rate, plan.baseline_n.unwrap_or(0));
            let (Some(b), true, true) = (b, bn > 0, n > 0) else {
                out.note = Some(format!(
                    "no plans of the {}'s reps in {} to compare with the baseline yet",
                    plan.level.as_ref().map_or("manager", OrgLevel::as_str),
                    plan.period
                ));
                return out;
            };
            let a = k as f64 / n as f64;
            let var = |r: f64, n: f64| (r * (1.0 - r)).max(0.25 / n) / n;
            let half = 1.96 * (var(a, n as f64) + var(b, bn as f64)).sqrt();
            let effect = a - b;
            out.after_rate = Some(a);
            out.after_n = n;
            out.change = Some(effect);
            out.effect = Some(effect);
            out.effect_low = Some(effect - half);
            out.effect_high = Some(effect + half);
            out.verdict = Some(verdict_of(effect - half, effect + half));
            let target = plan.agreed_target_rate.or(plan.target_rate);
            out.target_reached = target.map(|t| a >= t - 1e-12);
            out.note = Some("before and after: no control group for coaching plans".into());
            out
        })
        .collect()
}
