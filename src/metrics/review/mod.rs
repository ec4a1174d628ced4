//! Verification of coaching plans: the target indicator before and after, the probability it
//! improved, and a difference-in-differences against matched uncoached peers, so that a worst
//! step bouncing back on its own (regression to the mean) is not credited to coaching.

mod coaching;
mod peers;
mod plan;
mod rollup;
mod windows;

pub use coaching::{coaching_counts, review_coaching};
pub use plan::{ReviewSetup, review};
pub use rollup::{Node, RollUp, mean_effect, roll_up};
pub use windows::RepMonths;

use crate::model::lever::LeverId;
use crate::model::plans::Plan;
use crate::model::values::Verdict;

/// How many uncoached peers, nearest by baseline, a plan is compared with.
pub const MATCHED_PEERS: usize = 5;
/// Deals (or months) a peer needs in each window to count.
pub const MIN_PEER_N: f64 = 5.0;

/// One plan's outcome.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanReview {
    pub plan_id: String,
    pub rep_id: String,
    /// The rep's name: the roster's, else the ledger's.
    pub rep_name: Option<String>,
    pub manager_id: Option<String>,
    pub focus: LeverId,
    pub period: String,
    pub review_period: String,
    pub baseline_rate: Option<f64>,
    pub baseline_n: u64,
    pub after_rate: Option<f64>,
    pub after_n: u64,
    pub change: Option<f64>,
    pub p_improved: Option<f64>,
    /// What the baseline alone predicts for the after period (its shrunk value).
    pub expected_after: Option<f64>,
    pub peers: u64,
    /// The matched uncoached peers' mean residual (after − their own prediction).
    pub peer_change: Option<f64>,
    pub effect: Option<f64>,
    pub effect_low: Option<f64>,
    pub effect_high: Option<f64>,
    /// Empty when the plan cannot be reviewed yet.
    pub verdict: Option<Verdict>,
    pub target_reached: Option<bool>,
    pub more_deals_needed: Option<u64>,
    /// An activity indicator the plan's hypothesis reads, before and after: a leading signal
    /// labelled as such, never the verdict.
    pub leading_indicator: Option<String>,
    pub leading_before: Option<f64>,
    pub leading_after: Option<f64>,
    pub note: Option<String>,
    /// `manager` or `director` for a coaching plan (whose person is in `rep_id`).
    pub plan_level: Option<crate::model::level::OrgLevel>,
}

impl PlanReview {
    /// The review of `plan` before anything is measured: its ids and lever, no numbers.
    pub fn of(plan: &Plan) -> PlanReview {
        PlanReview {
            plan_id: plan.plan_id.clone(),
            rep_id: plan.rep_id.clone(),
            rep_name: plan.rep_name.clone().filter(|n| !n.is_empty()),
            manager_id: plan.manager_id.clone(),
            focus: plan.lever().clone(),
            period: plan.period.clone(),
            review_period: plan.review_period.clone(),
            baseline_rate: None,
            baseline_n: 0,
            after_rate: None,
            after_n: 0,
            change: None,
            p_improved: None,
            expected_after: None,
            peers: 0,
            peer_change: None,
            effect: None,
            effect_low: None,
            effect_high: None,
            verdict: None,
            target_reached: None,
            more_deals_needed: None,
            leading_indicator: None,
            leading_before: None,
            leading_after: None,
            note: None,
            plan_level: None,
        }
    }
}

/// The verdict of an effect's 95% interval: improved when it lies above 0, worse when below,
/// inconclusive when it straddles 0. No evidence is never a negative verdict.
pub fn verdict_of(low: f64, high: f64) -> Verdict {
    if low > 0.0 {
        Verdict::Improved
    } else if high < 0.0 {
        Verdict::Worse
    } else {
        Verdict::Inconclusive
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::funnel::FunnelRow;
    use crate::model::level::OrgLevel;

    #[test]
    fn the_mean_effects_interval_keeps_each_plans_own_uncertainty() {
        // Two plans that agree (both −9 pt) but are each −9 ± 20 pt: the mean is not −9 ± 0.
        let step = Plan::new(LeverId::Step { from: "lead".into(), to: "case".into() });
        let plan = |id: &str| PlanReview {
            plan_id: id.into(),
            manager_id: Some("M".into()),
            verdict: Some(Verdict::Inconclusive),
            effect: Some(-0.09),
            effect_low: Some(-0.29),
            effect_high: Some(0.11),
            ..PlanReview::of(&step)
        };
        let tree = |m: &str| vec![(OrgLevel::Manager, m.to_string(), m.to_string())];
        let rolled = roll_up(&[plan("a"), plan("b")], &tree);
        let m = &rolled[0];
        // By hand: each plan's sd = 0.20 / 1.96; the mean's sd = that / √2.
        let half = 0.20 / 2f64.sqrt();
        assert!((m.mean_effect_low.unwrap() - (-0.09 - half)).abs() < 1e-12, "{m:?}");
        assert!((m.mean_effect_high.unwrap() - (-0.09 + half)).abs() < 1e-12, "{m:?}");
    }

    #[test]
    fn a_verdict_comes_from_the_effects_interval() {
        assert_eq!(verdict_of(0.01, 0.30), Verdict::Improved);
        assert_eq!(verdict_of(-0.30, -0.01), Verdict::Worse);
        // One deal before and one after: an interval straddling 0 is no verdict, not a bad one.
        assert_eq!(verdict_of(-1.17, 0.90), Verdict::Inconclusive);
        assert_eq!(verdict_of(-0.02, 0.01), Verdict::Inconclusive);
    }

    #[test]
    fn a_volume_baseline_ignores_months_before_the_reps_data() {
        let row = |period: &str, entered: u64| FunnelRow {
            level: OrgLevel::Rep,
            group_id: "R1".into(),
            group_name: "R1".into(),
            parent_id: None,
            period: period.into(),
            from_stage: "lead".into(),
            to_stage: "case".into(),
            method: crate::metrics::funnel::Method::Cohort,
            window_days: 90,
            entered,
            converted: 0,
            lost: Some(0),
            open: Some(entered),
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
            mature: false,
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
            cycle_days_median: None,
        };
        // R1 joined in February: January is not a month of zero leads.
        let rows = vec![row("2026-02", 30), row("2026-03", 42)];
        let stages: Vec<String> = ["lead", "case", "won"].iter().map(|s| s.to_string()).collect();
        let data = RepMonths::new(&rows, &stages);
        let window: Vec<String> =
            ["2026-01", "2026-02", "2026-03"].iter().map(|s| s.to_string()).collect();
        let c = data.counts("R1", &LeverId::LeadVolume { stage: "lead".into() }, &window).unwrap();
        assert_eq!((c.k, c.n), (72.0, 2.0));
    }

    #[test]
    fn roll_ups_sum_by_manager_and_up_the_tree() {
        let step = Plan::new(LeverId::Step { from: "case".into(), to: "proposal".into() });
        let review = |id: &str, m: &str, verdict: &str, effect: f64| PlanReview {
            plan_id: id.into(),
            manager_id: Some(m.into()),
            verdict: Some(verdict.parse().unwrap()),
            effect: Some(effect),
            ..PlanReview::of(&step)
        };
        let reviews = vec![
            review("a", "M1", "improved", 0.20),
            review("b", "M1", "worse", -0.05),
            review("c", "M1", "improved", 0.10),
            review("d", "M2", "inconclusive", 0.05),
        ];
        let tree = |m: &str| {
            vec![
                (OrgLevel::Manager, m.to_string(), m.to_string()),
                (OrgLevel::Director, "D".into(), "D".into()),
            ]
        };
        let rolled = roll_up(&reviews, &tree);
        let m1 = rolled.iter().find(|r| r.group_id == "M1").unwrap();
        // Hand computation: 2 of 3 improved; mean effect (0.20 − 0.05 + 0.10) / 3 = 0.0833.
        assert_eq!((m1.plans, m1.improved), (3, 2));
        assert!((m1.improved_share.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert!((m1.mean_effect.unwrap() - 0.25 / 3.0).abs() < 1e-12);
        // Mean effect interval by hand: sd² = (0.0525 − 0.25²/3) / 2, half = 1.96 √(sd²/3).
        let half = 1.96 * (((0.0525 - 0.0625 / 3.0) / 2.0) / 3.0f64).sqrt();
        assert!((m1.mean_effect_low.unwrap() - (0.25 / 3.0 - half)).abs() < 1e-12);
        assert!((m1.mean_effect_high.unwrap() - (0.25 / 3.0 + half)).abs() < 1e-12);
        // Shrunk toward the managers' pooled share (2 of 4), never past it.
        let shrunk = m1.improved_shrunk.unwrap();
        assert!(shrunk < 2.0 / 3.0 && shrunk > 0.5, "{shrunk}");
        let d = rolled.iter().find(|r| r.group_id == "D").unwrap();
        assert_eq!((d.plans, d.improved), (4, 2));
        // One plan's own interval carries to its manager's mean.
        let m2 = rolled.iter().find(|r| r.group_id == "M2").unwrap();
        assert_eq!((m2.mean_effect_low, m2.mean_effect_high), (Some(0.05), Some(0.05)));
        assert!((d.mean_effect.unwrap() - 0.30 / 4.0).abs() < 1e-12);
        let (lo, hi) = (d.improved_low.unwrap(), d.improved_high.unwrap());
        assert!(lo < 0.5 && 0.5 < hi);
    }
}
