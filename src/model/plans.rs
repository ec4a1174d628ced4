//! The plan ledger: one row per coaching plan, from proposal through agreement to review.

use crate::model::level::OrgLevel;
use crate::model::lever::LeverId;
use crate::model::time::{Period, PeriodKind};
use crate::model::values::{PlanStatus, Verdict};

/// One plan.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    pub plan_id: String,
    pub period: String,
    pub rep_id: String,
    pub rep_name: Option<String>,
    pub manager_id: Option<String>,
    pub focus: LeverId,
    pub baseline_rate: Option<f64>,
    pub baseline_n: Option<u64>,
    pub benchmark: Option<f64>,
    pub target_rate: Option<f64>,
    pub review_period: String,
    pub status: PlanStatus,
    pub window_from: Option<String>,
    pub agreed_focus: Option<LeverId>,
    pub agreed_target_rate: Option<f64>,
    /// The salesperson's own actions, one per line.
    pub actions: Option<String>,
    pub worksheet: Option<String>,
    pub after_rate: Option<f64>,
    pub after_n: Option<u64>,
    pub change: Option<f64>,
    pub p_improved: Option<f64>,
    pub effect: Option<f64>,
    pub effect_low: Option<f64>,
    pub effect_high: Option<f64>,
    pub verdict: Option<Verdict>,
    pub target_reached: Option<bool>,
    pub reviewed_in: Option<String>,
    /// The first supported hypothesis when the plan was proposed (its id in the playbook).
    pub hypothesis: Option<String>,
    /// An activity indicator the hypothesis reads, before and after: a leading signal shown
    /// beside the verdict, never as the verdict.
    pub leading_indicator: Option<String>,
    pub leading_before: Option<f64>,
    pub leading_after: Option<f64>,
    /// Whose plan: empty for a rep's; `manager` or `director` for a coaching plan, whose person
    /// is in `rep_id` and whose focus is a coaching lever.
    pub level: Option<OrgLevel>,
    /// Agreed in the meeting: read back from the worksheet by `plan import` (the status moves
    /// on to reviewed; this stays).
    pub agreed: Option<bool>,
}

impl Plan {
    /// A plan on `focus` with nothing else filled in yet.
    pub fn new(focus: LeverId) -> Plan {
        Plan {
            plan_id: String::new(),
            period: String::new(),
            rep_id: String::new(),
            rep_name: None,
            manager_id: None,
            focus,
            baseline_rate: None,
            baseline_n: None,
            benchmark: None,
            target_rate: None,
            review_period: String::new(),
            status: PlanStatus::default(),
            window_from: None,
            agreed_focus: None,
            agreed_target_rate: None,
            actions: None,
            worksheet: None,
            after_rate: None,
            after_n: None,
            change: None,
            p_improved: None,
            effect: None,
            effect_low: None,
            effect_high: None,
            verdict: None,
            target_reached: None,
            reviewed_in: None,
            hypothesis: None,
            leading_indicator: None,
            leading_before: None,
            leading_after: None,
            level: None,
            agreed: None,
        }
    }

    /// Plan ids are derived from the period and the rep, so that a second run finds the same plan.
    pub fn id_for(period: &str, rep_id: &str) -> String {
        format!("{period}:{rep_id}")
    }

    /// A manager's or director's coaching plan rather than a rep's.
    pub fn is_coaching(&self) -> bool {
        self.level.as_ref().is_some_and(OrgLevel::coaches)
    }

    /// Due for review by `month`: its review month is `month` or earlier, compared as months
    /// (a plan whose review month is not a month label is never due).
    pub fn due_by(&self, month: &str) -> bool {
        let parse = |s: &str| Period::parse(PeriodKind::Month, s).ok();
        matches!((parse(&self.review_period), parse(month)), (Some(r), Some(m)) if r <= m)
    }

    /// The lever the plan works on: the agreed one when the meeting changed it.
    pub fn lever(&self) -> &LeverId {
        self.agreed_focus.as_ref().unwrap_or(&self.focus)
    }
}
