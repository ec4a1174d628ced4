//! What a review says of one plan, and the verdict rule.

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
