//! Roll-ups: the coaching record per manager and up the tree.

use super::outcome::PlanReview;
use crate::metrics::stats::wilson;
use crate::model::level::OrgLevel;
use crate::model::values::Verdict;
use std::collections::{BTreeMap, BTreeSet};

/// The coaching record of one roster node: its plans reviewed and how many improved.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RollUp {
    pub level: OrgLevel,
    pub group_id: String,
    pub group_name: String,
    pub plans: u64,
    pub improved: u64,
    pub improved_share: Option<f64>,
    pub improved_low: Option<f64>,
    pub improved_high: Option<f64>,
    /// The share improved, shrunk toward the level's (empirical-Bayes Beta posterior mean).
    pub improved_shrunk: Option<f64>,
    pub mean_effect: Option<f64>,
    pub mean_effect_low: Option<f64>,
    pub mean_effect_high: Option<f64>,
}

/// The mean of plans' effects, each given with its 95% interval, and the mean's 95% interval.
/// Each plan is a noisy estimate, so the variance of the mean is the larger of the plans' own
/// mean variance and their spread, over n (equal-weight random effects, DerSimonian–Laird):
/// two plans compared with the same peers can agree closely while each is ±20 pt, and their
/// spread alone would claim ±0.
pub fn mean_effect(effects: &[(f64, Option<f64>, Option<f64>)]) -> Option<(f64, f64, f64)> {
    if effects.is_empty() {
        return None;
    }
    let n = effects.len() as f64;
    let mean = effects.iter().map(|e| e.0).sum::<f64>() / n;
    let spread = if effects.len() > 1 {
        effects.iter().map(|e| (e.0 - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    let own = effects
        .iter()
        .map(|e| match (e.1, e.2) {
            (Some(lo), Some(hi)) => ((hi - lo) / (2.0 * 1.96)).powi(2),
            _ => 0.0,
        })
        .sum::<f64>()
        / n;
    let half = 1.96 * (spread.max(own) / n).sqrt();
    Some((mean, mean - half, mean + half))
}

/// A roster node as roll-ups name it: (level, id, name).
pub type Node = (OrgLevel, String, String);

/// Running sums of one node: name, plans, improved, sum of effects, effects counted.
#[derive(Default)]
struct Record {
    name: String,
    plans: u64,
    improved: u64,
    /// Rate plans' effects with their 95% intervals.
    effects: Vec<(f64, Option<f64>, Option<f64>)>,
}

/// Sums reviewed plans (with a verdict) per manager and up the tree. `ancestors` gives, for a
/// manager id, the chain of (level, id, name) from the manager itself upwards.
pub fn roll_up(reviews: &[PlanReview], ancestors: &dyn Fn(&str) -> Vec<Node>) -> Vec<RollUp> {
    let mut acc: BTreeMap<(OrgLevel, String), Record> = BTreeMap::new();
    for r in reviews.iter().filter(|r| r.verdict.is_some()) {
        let Some(m) = &r.manager_id else { continue };
        for (level, id, name) in ancestors(m) {
            let t = acc.entry((level, id)).or_insert_with(|| Record { name, ..Record::default() });
            t.plans += 1;
            t.improved += (r.verdict == Some(Verdict::Improved)) as u64;
            // Effects on rates share a unit (rate points); a volume's is in its own unit.
            if let Some(x) = r.effect.filter(|_| r.focus.is_step()) {
                t.effects.push((x, r.effect_low, r.effect_high));
            }
        }
    }
    // The share improved is shrunk across the nodes of the same level, so that a manager with
    // two plans is not ranked first or last on luck.
    let mut priors: BTreeMap<OrgLevel, crate::metrics::stats::BetaPrior> = BTreeMap::new();
    for level in acc.keys().map(|(l, _)| l.clone()).collect::<BTreeSet<_>>() {
        let counts: Vec<(f64, f64)> = acc
            .iter()
            .filter(|((l, _), _)| *l == level)
            .map(|(_, t)| (t.improved as f64, t.plans as f64))
            .collect();
        priors.insert(level, crate::metrics::stats::fit_beta(&counts));
    }
    acc.into_iter()
        .map(|((level, group_id), t)| {
            let w = wilson(t.improved as f64, t.plans as f64);
            let mean = mean_effect(&t.effects);
            let shrunk =
                priors.get(&level).map(|p| p.posterior_mean(t.improved as f64, t.plans as f64));
            RollUp {
                level,
                group_id,
                group_name: t.name,
                plans: t.plans,
                improved: t.improved,
                improved_share: (t.plans > 0).then(|| t.improved as f64 / t.plans as f64),
                improved_low: w.map(|w| w.0),
                improved_high: w.map(|w| w.1),
                improved_shrunk: shrunk.filter(|_| t.plans > 0),
                mean_effect: mean.map(|m| m.0),
                mean_effect_low: mean.map(|m| m.1),
                mean_effect_high: mean.map(|m| m.2),
            }
        })
        .collect()
}
