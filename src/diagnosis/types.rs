//! What a diagnosis says: levers, hypotheses, the per-rep result and its indicators.

pub use crate::model::lever::LeverId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a lever acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeverKind {
    /// The step-up rate out of stage `i`.
    Transition(usize),
    /// New leads a month.
    LeadVolume,
    /// Activities per deal at stage `i`.
    ActivityVolume(usize),
}

/// One lever of one rep, with its numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lever {
    pub id: LeverId,
    pub kind: LeverKind,
    /// The rep's value: shrunk rate, shrunk leads a month, or activities per deal.
    pub value: Option<f64>,
    /// The raw value (converted / entered, leads / months, activities / deals).
    pub raw: Option<f64>,
    /// Successes and trials behind the value (converted and entered; leads and months;
    /// activities and deals).
    pub k: u64,
    pub n: u64,
    /// For a transition: what was seen, before any estimate for open deals: (stepped up so far,
    /// entered, still open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<(u64, u64, u64)>,
    pub benchmark: Option<f64>,
    /// The value's central 80% credible interval ("likely 30–45%"), where it is a rate or a
    /// volume shrunk toward the peers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<(f64, f64)>,
    /// Posterior probability that the rep's true value is below the benchmark.
    pub confidence: Option<f64>,
    /// Extra won deals a month if the lever reached its benchmark, the rest unchanged.
    pub impact_won: f64,
    pub impact_amount: Option<f64>,
    /// For a transition: about how many more deals would make the confidence reach the
    /// threshold, if the rate stayed where it is.
    pub more_deals_needed: Option<u64>,
}

/// What the data says of a hypothesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HypothesisStatus {
    Supported,
    NotSupported,
    /// The data lacks a column the hypothesis reads.
    NotCheckable,
}

impl HypothesisStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HypothesisStatus::Supported => "supported",
            HypothesisStatus::NotSupported => "not_supported",
            HypothesisStatus::NotCheckable => "not_checkable",
        }
    }
}

/// A hypothesis of the rules, checked against the rep's indicators.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HypothesisResult {
    pub id: String,
    pub title: String,
    pub status: HypothesisStatus,
    pub strength: Option<f64>,
    pub evidence: Option<String>,
    /// For `not_checkable`: the columns the data lacks.
    pub needs_columns: Vec<String>,
    pub checks: Vec<String>,
    pub questions: Vec<String>,
    /// The same in Japanese, when the playbook has it (evidence rendered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja: Option<crate::model::rules::HypothesisText>,
}

/// The diagnosis of one rep.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Diagnosis {
    pub rep_id: String,
    pub rep_name: String,
    pub manager_id: Option<String>,
    pub period: String,
    pub window_from: String,
    pub window_to: String,
    /// The lever to coach, when one stands out with enough confidence.
    pub focus: Option<LeverId>,
    /// The largest-impact lever when none stands out (a low-confidence suggestion).
    pub suggestion: Option<LeverId>,
    pub focus_rate: Option<f64>,
    pub focus_raw_rate: Option<f64>,
    pub benchmark: Option<f64>,
    pub confidence: Option<f64>,
    pub impact_won: Option<f64>,
    pub impact_amount: Option<f64>,
    /// ISO 4217 code of `impact_amount`, when the data says it.
    pub currency: Option<String>,
    pub deals: Option<u64>,
    pub more_deals_needed: Option<u64>,
    pub why: String,
    pub hypotheses: Vec<HypothesisResult>,
    /// Months left out because their cohorts were immature.
    pub immature_left_out: Vec<String>,
    pub levers: Vec<Lever>,
    /// The focus (or suggestion) month by month, for the worksheet's trend.
    pub trend: Vec<TrendPoint>,
    pub indicators: Indicators,
    pub peer_indicators: Indicators,
}

/// One month of the focus lever: its raw rate (or leads) and the deals behind it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrendPoint {
    pub period: String,
    pub value: Option<f64>,
    pub n: u64,
    pub mature: bool,
}

impl Diagnosis {
    /// The lever the worksheet is about: the focus, else the suggestion.
    pub fn lever(&self) -> Option<&Lever> {
        let id = self.focus.as_ref().or(self.suggestion.as_ref())?;
        self.levers.iter().find(|l| &l.id == id)
    }

    pub fn supported_hypotheses(&self) -> Vec<&str> {
        self.hypotheses
            .iter()
            .filter(|h| h.status == HypothesisStatus::Supported)
            .map(|h| h.id.as_str())
            .collect()
    }
}

/// The indicators rules read, for a rep or (as medians) for the peers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Indicators {
    pub rate: BTreeMap<String, Option<f64>>,
    pub contacts_per_deal: BTreeMap<String, Option<f64>>,
    pub touched_share: BTreeMap<String, Option<f64>>,
    pub personalized_share: BTreeMap<String, Option<f64>>,
    pub leads_per_month: Option<f64>,
    pub won_per_month: Option<f64>,
    pub first_contact_hours: Option<f64>,
    pub first_call_connected_share: Option<f64>,
    pub first_call_duration_s: Option<f64>,
    pub lead_won_rate: Option<f64>,
}
