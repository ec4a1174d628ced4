//! Monthly windows of the rep-level funnel: the months of a window and a lever's counts or an
//! activity indicator summed over them.

use crate::metrics::funnel::FunnelRow;
use crate::model::level::OrgLevel;
use crate::model::lever::LeverId;
use crate::model::time::{Period, PeriodKind};
use std::collections::{BTreeMap, BTreeSet};

/// A lever's counts for one rep over a window: successes and trials (converted and entered;
/// leads and months; activities and deals).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct WindowCounts {
    pub(super) k: f64,
    pub(super) n: f64,
}

impl WindowCounts {
    pub(super) fn rate(self) -> Option<f64> {
        (self.n > 0.0).then(|| self.k / self.n)
    }

    /// Sampling variance of the rate: binomial for rates, Poisson for volumes.
    pub(super) fn variance(self, binomial: bool) -> f64 {
        let (k, n) = (self.k, self.n.max(1.0));
        let r = k / n;
        if binomial { (r * (1.0 - r)).max(0.25 / n) / n } else { k.max(1.0) / (n * n) }
    }
}

pub(super) fn months(from: &str, to: &str) -> Vec<String> {
    let (Ok(mut p), Ok(end)) =
        (Period::parse(PeriodKind::Month, from), Period::parse(PeriodKind::Month, to))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while p <= end {
        out.push(p.label());
        p = p.next();
    }
    out
}

pub(super) fn shift(period: &str, by: i32) -> String {
    Period::parse(PeriodKind::Month, period)
        .map(|p| Period { index: p.index + by, ..p }.label())
        .unwrap_or_default()
}

/// The rep-level monthly funnel, indexed for window sums.
pub struct RepMonths<'a> {
    pub(super) rows: BTreeMap<(&'a str, &'a str, &'a str), Vec<&'a FunnelRow>>,
    pub(super) reps: BTreeSet<&'a str>,
    stages: &'a [String],
    /// Each rep's first month with deals: a volume's months count from it, not from before the
    /// rep's data began.
    first_month: BTreeMap<&'a str, &'a str>,
    /// The share of a month the data covers, for months the export ends inside (a month end
    /// run covers its month whole): a volume counts them as that much of a month.
    coverage: BTreeMap<String, f64>,
}

impl<'a> RepMonths<'a> {
    pub fn new(rows: &'a [FunnelRow], stages: &'a [String]) -> RepMonths<'a> {
        let mut map: BTreeMap<(&str, &str, &str), Vec<&FunnelRow>> = BTreeMap::new();
        let mut reps = BTreeSet::new();
        let mut first_month: BTreeMap<&str, &str> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.level == OrgLevel::Rep) {
            map.entry((r.group_id.as_str(), r.period.as_str(), r.from_stage.as_str()))
                .or_default()
                .push(r);
            reps.insert(r.group_id.as_str());
            if r.entered > 0 {
                let first = first_month.entry(r.group_id.as_str()).or_insert(r.period.as_str());
                if r.period.as_str() < *first {
                    *first = r.period.as_str();
                }
            }
        }
        RepMonths { rows: map, reps, stages, first_month, coverage: BTreeMap::new() }
    }

    /// Months the data covers only in part, with the share covered.
    pub fn with_coverage(mut self, coverage: BTreeMap<String, f64>) -> Self {
        self.coverage = coverage;
        self
    }

    /// WindowCounts of a lever over some months. Rates count as the month-end estimates are worth
    /// them (effective counts), so a plan can be checked the month after, while its cohorts are
    /// still open; volumes count months from the rep's first month with data.
    pub(super) fn counts(
        &self,
        rep: &str,
        lever: &LeverId,
        window: &[String],
    ) -> Option<WindowCounts> {
        let mut c = WindowCounts::default();
        for m in window {
            match lever {
                LeverId::Step { from, to } => {
                    let row = self
                        .rows
                        .get(&(rep, m.as_str(), from))
                        .and_then(|v| v.iter().find(|r| &r.to_stage == to));
                    if let Some(r) = row {
                        let (k, n) = crate::metrics::funnel::effective_counts(r);
                        c.k += k;
                        c.n += n;
                    }
                }
                LeverId::Activity { stage } => {
                    let next = self.next_stage(stage)?;
                    if let Some(r) = self
                        .rows
                        .get(&(rep, m.as_str(), stage))
                        .and_then(|v| v.iter().find(|r| r.to_stage == next))
                    {
                        c.k += r.activities.unwrap_or(0) as f64;
                        c.n += r.entered as f64;
                    }
                }
                LeverId::LeadVolume { stage } => {
                    if self.first_month.get(rep).is_none_or(|f| m.as_str() < *f) {
                        continue;
                    }
                    let next = self.next_stage(stage)?;
                    let entered = self
                        .rows
                        .get(&(rep, m.as_str(), stage))
                        .and_then(|v| v.iter().find(|r| r.to_stage == next))
                        .map_or(0, |r| r.entered);
                    c.k += entered as f64;
                    c.n += self.coverage.get(m.as_str()).copied().unwrap_or(1.0);
                }
                LeverId::Coaching(_) => return None,
            }
        }
        Some(c)
    }

    /// An activity indicator over some months, as diagnose computes it: contacts per deal
    /// (`contacts_per_deal.case`), shares weighted by deals (`touched_share.proposal`,
    /// `personalized_share.all`), the first-stage timings (`first_contact_hours`, …) and
    /// `leads_per_month`. None when the rep has no such data in the window.
    pub fn indicator(&self, rep: &str, name: &str, window: &[String]) -> Option<f64> {
        let (what, stage) = name.split_once('.').unwrap_or((name, ""));
        if what == "leads_per_month" {
            return self.counts(rep, &LeverId::lead_volume(self.stages), window)?.rate();
        }
        let stages: Vec<&str> = match stage {
            "" => vec![self.stages.first()?.as_str()],
            "all" => self.stages[..self.stages.len().saturating_sub(1)]
                .iter()
                .map(String::as_str)
                .collect(),
            s => vec![s],
        };
        let (mut sum, mut weight) = (0.0, 0.0);
        for m in window {
            for s in &stages {
                let Some(next) = self.next_stage(s) else { continue };
                let Some(r) = self
                    .rows
                    .get(&(rep, m.as_str(), *s))
                    .and_then(|v| v.iter().find(|r| r.to_stage == next))
                else {
                    continue;
                };
                let deals = r.entered as f64;
                let (value, w) = match what {
                    "contacts_per_deal" => (r.activities.map(|a| a as f64), deals),
                    "touched_share" => (r.touched_share.map(|x| x * deals), deals),
                    "personalized_share" => {
                        let a = r.activities.unwrap_or(0) as f64;
                        (r.personalized_share.map(|x| x * a), a)
                    }
                    "first_contact_hours" => {
                        (r.first_activity_hours_median.map(|x| x * deals), deals)
                    }
                    "first_call_connected_share" => {
                        (r.first_call_connected_share.map(|x| x * deals), deals)
                    }
                    "first_call_duration_s" => {
                        (r.first_call_duration_median_s.map(|x| x * deals), deals)
                    }
                    _ => return None,
                };
                if let Some(v) = value {
                    sum += v;
                    weight += w;
                }
            }
        }
        (weight > 0.0).then(|| sum / weight)
    }

    fn next_stage(&self, stage: &str) -> Option<&str> {
        let i = self.stages.iter().position(|s| s == stage)?;
        self.stages.get(i + 1).map(String::as_str)
    }
}
