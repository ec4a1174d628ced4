//! The coaching levers of managers and directors, diagnosed like a rep's levers: each person's
//! share (k of n) from the plan ledger against the others at their level, shrunk toward them by
//! a Beta prior fitted across them, the confidence that it is below their median, and the
//! expected gain in plans that improve a rep.

use crate::metrics::review::coaching_counts as counts;
use crate::metrics::stats::{BetaPrior, beta_cdf, fit_beta, median, wilson};
use crate::model::level::OrgLevel;
use crate::model::lever::{CoachingSkill, LeverId};
use crate::model::plans::Plan;

/// The most a prior across managers is worth, in plans.
const MAX_PRIOR_PLANS: f64 = 10.0;

/// One coaching lever of one person.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CoachLever {
    pub id: LeverId,
    pub k: u64,
    pub n: u64,
    pub value: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// Shrunk toward the level's people (the Beta posterior mean).
    pub shrunk: Option<f64>,
    /// The median of the level's shrunk values.
    pub benchmark: Option<f64>,
    /// The posterior probability that this person's share is below the benchmark.
    pub confidence: Option<f64>,
    /// Plans a month that would improve a rep if the share reached the benchmark.
    pub gain: f64,
}

/// A manager's (or director's) coaching diagnosis.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CoachDiagnosis {
    pub person_id: String,
    pub level: OrgLevel,
    pub levers: Vec<CoachLever>,
    /// The lever to work on: confident and with the largest gain.
    pub focus: Option<LeverId>,
    /// The largest gain when none is confident.
    pub suggestion: Option<LeverId>,
}

impl CoachDiagnosis {
    pub fn lever(&self) -> Option<&CoachLever> {
        let id = self.focus.as_ref().or(self.suggestion.as_ref())?;
        self.levers.iter().find(|l| &l.id == id)
    }
}

/// Diagnoses each person's coaching from the plans of their reps made in one month; `gate` is
/// the confidence a focus needs (the playbook's).
pub fn diagnose(
    people: &[(String, Vec<&Plan>)],
    level: OrgLevel,
    gate: f64,
) -> Vec<CoachDiagnosis> {
    let all: Vec<[(u64, u64); 4]> = people.iter().map(|(_, plans)| counts(plans)).collect();
    // One improved plan is what every coaching lever is worth in the end: a plan agreed,
    // reviewed or acted on improves a rep at the level's rate.
    let (imp, rev) = all.iter().fold((0, 0), |a, c| (a.0 + c[2].0, a.1 + c[2].1));
    let improve_rate = if rev > 0 { imp as f64 / rev as f64 } else { 0.5 };
    // A few managers say little about how far apart managers are: the prior is kept weak
    // (at most ten plans' worth), so that a manager's own plans still count.
    let priors: Vec<BetaPrior> = (0..CoachingSkill::ALL.len())
        .map(|j| {
            let obs: Vec<(f64, f64)> = all.iter().map(|c| (c[j].0 as f64, c[j].1 as f64)).collect();
            let p = fit_beta(&obs);
            let strength = p.alpha + p.beta;
            let cap = (MAX_PRIOR_PLANS / strength).min(1.0);
            BetaPrior { alpha: p.alpha * cap, beta: p.beta * cap }
        })
        .collect();
    // One person has no one to be compared with.
    let comparable = people.len() >= 2;
    let benchmarks: Vec<Option<f64>> = (0..CoachingSkill::ALL.len())
        .map(|j| {
            let mut shrunk: Vec<f64> = all
                .iter()
                .filter(|c| c[j].1 > 0)
                .map(|c| priors[j].posterior_mean(c[j].0 as f64, c[j].1 as f64))
                .collect();
            median(&mut shrunk)
        })
        .collect();
    // The observed shares' median: a share no lower than it is not called below, though
    // shrinking moves every share (four plans of which none improved, among managers who all
    // had none, is not "below").
    let observed_medians: Vec<Option<f64>> = (0..CoachingSkill::ALL.len())
        .map(|j| {
            let mut raw: Vec<f64> =
                all.iter().filter(|c| c[j].1 > 0).map(|c| c[j].0 as f64 / c[j].1 as f64).collect();
            median(&mut raw)
        })
        .collect();
    people
        .iter()
        .zip(&all)
        .map(|((person, _), c)| {
            let levers: Vec<CoachLever> = CoachingSkill::ALL
                .iter()
                .enumerate()
                .map(|(j, skill)| {
                    let (k, n) = c[j];
                    let (kf, nf) = (k as f64, n as f64);
                    let p = priors[j];
                    let shrunk = (n > 0).then(|| p.posterior_mean(kf, nf));
                    let below_observed = observed_medians[j].is_some_and(|m| kf / nf < m);
                    let bench = benchmarks[j].filter(|_| comparable);
                    // How sure it is below, said only of a share that is below.
                    let confidence =
                        shrunk.and(bench).filter(|b| kf / nf < *b && below_observed).map(|b| {
                            beta_cdf(b, p.alpha + kf, p.beta + (nf - kf).max(0.0)).clamp(0.0, 1.0)
                        });
                    let worth = if *skill == CoachingSkill::Improved { 1.0 } else { improve_rate };
                    // A gap only where the share itself is below the median: shrinking pulls even
                    // a perfect record a little toward the others.
                    let gain = match (shrunk, bench) {
                        (Some(s), Some(b)) if b > s && kf / nf < b && below_observed => {
                            (b - s) * nf * worth
                        }
                        _ => 0.0,
                    };
                    let interval = wilson(kf, nf);
                    CoachLever {
                        id: LeverId::Coaching(*skill),
                        k,
                        n,
                        value: (n > 0).then(|| kf / nf),
                        low: interval.map(|i| i.0),
                        high: interval.map(|i| i.1),
                        shrunk,
                        benchmark: bench,
                        confidence,
                        gain,
                    }
                })
                .collect();
            let best = |confident: bool| {
                levers
                    .iter()
                    .filter(|l| l.gain > 0.0)
                    .filter(|l| !confident || l.confidence.is_some_and(|c| c >= gate))
                    // On a tie, the earlier step of coaching (agree, then review, …) first.
                    .fold(None, |best: Option<&CoachLever>, l| match best {
                        Some(b) if b.gain >= l.gain => Some(b),
                        _ => Some(l),
                    })
                    .map(|l| l.id.clone())
            };
            let focus = best(true);
            // With no gap anywhere, the nearest stretch: the lever furthest below (or least
            // above) its median; with no plans at all, agreeing plans comes first.
            let stretch = || {
                levers
                    .iter()
                    .filter_map(|l| Some((l, l.value? - l.benchmark?)))
                    .fold(None, |best: Option<(&CoachLever, f64)>, x| match best {
                        Some(b) if b.1 <= x.1 => Some(b),
                        _ => Some(x),
                    })
                    .map_or(LeverId::Coaching(CoachingSkill::Agreed), |(l, _)| l.id.clone())
            };
            CoachDiagnosis {
                person_id: person.clone(),
                level: level.clone(),
                suggestion: if focus.is_none() {
                    best(false).or_else(|| Some(stretch()))
                } else {
                    None
                },
                focus,
                levers,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(status: &str, verdict: Option<&str>, actions: bool) -> Plan {
        Plan {
            agreed: Some(status == "reviewed"),
            status: status.parse().unwrap(),
            verdict: verdict.map(|v| v.parse().unwrap()),
            actions: actions.then(|| "call twice".to_string()),
            worksheet: Some("reps/R.md".into()),
            ..Plan::new(LeverId::Step { from: "lead".into(), to: "case".into() })
        }
    }

    #[test]
    fn counts_by_hand() {
        let plans = [
            plan("reviewed", Some("improved"), true),
            plan("reviewed", Some("inconclusive"), false),
            plan("proposed", Some("worse"), false),
            plan("proposed", None, false),
            plan("suggested", None, false),
        ];
        let refs: Vec<&Plan> = plans.iter().collect();
        // 4 plans made (the suggestion is not one): 2 agreed, 3 reviewed, 1 of 3 improved,
        // 1 of the 2 agreed with actions.
        assert_eq!(counts(&refs), [(2, 4), (3, 4), (1, 3), (1, 2)]);
    }

    #[test]
    fn the_manager_furthest_below_with_enough_plans_gets_the_focus() {
        let good: Vec<Plan> = (0..10).map(|_| plan("reviewed", Some("improved"), true)).collect();
        let poor: Vec<Plan> = (0..10).map(|_| plan("proposed", None, false)).collect();
        let people: Vec<(String, Vec<&Plan>)> = vec![
            ("M1".into(), good.iter().collect()),
            ("M2".into(), good.iter().collect()),
            ("M3".into(), poor.iter().collect()),
        ];
        let d = diagnose(&people, OrgLevel::Manager, 0.8);
        assert_eq!(d[2].focus, Some(LeverId::Coaching(CoachingSkill::Agreed)), "{:?}", d[2]);
        assert!(d[0].focus.is_none());
        for l in d.iter().flat_map(|d| &d.levers) {
            assert!(l.confidence.is_none_or(|c| (0.0..=1.0).contains(&c)));
        }
    }

    #[test]
    fn no_one_is_below_when_everyone_is_at_the_same_share() {
        // Three managers, none of whose plans improved a rep: 0 of 4, 0 of 2, 0 of 3.
        let none: Vec<Plan> =
            (0..4).map(|_| plan("reviewed", Some("inconclusive"), true)).collect();
        let people: Vec<(String, Vec<&Plan>)> = vec![
            ("M1".into(), none.iter().collect()),
            ("M2".into(), none.iter().take(2).collect()),
            ("M3".into(), none.iter().take(3).collect()),
        ];
        let d = diagnose(&people, OrgLevel::Manager, 0.8);
        for l in d
            .iter()
            .flat_map(|d| &d.levers)
            .filter(|l| l.id == LeverId::Coaching(CoachingSkill::Improved))
        {
            assert_eq!(l.confidence, None, "{l:?}");
            assert_eq!(l.gain, 0.0);
        }
    }
}
