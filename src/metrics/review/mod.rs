//! Verification of coaching plans: the target indicator before and after, the probability it
//! improved, and a difference-in-differences against matched uncoached peers, so that a worst
//! step bouncing back on its own (regression to the mean) is not credited to coaching.

mod coaching;
mod outcome;
mod peers;
mod plan;
mod rollup;
mod windows;

pub use coaching::{coaching_counts, review_coaching};
pub use outcome::{MATCHED_PEERS, MIN_PEER_N, PlanReview, verdict_of};
pub use plan::{ReviewSetup, review};
pub use rollup::{Node, RollUp, mean_effect, roll_up};
pub use windows::RepMonths;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::funnel::FunnelRow;
    use crate::model::level::OrgLevel;
    use crate::model::lever::LeverId;
    use crate::model::plans::Plan;
    use crate::model::values::Verdict;

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
            currency: None,
            won_amount_by_currency: None,
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
