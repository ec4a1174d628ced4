//! Company-wide fits shared by every rep's diagnosis, and one rep's levers from them.

use super::evidence::StepEvidence;
use super::rules;
use super::two_groups::{Counts, TwoGroups};
use super::types::{Diagnosis, Indicators, Lever, LeverId, LeverKind};
use super::why::{more_deals, why};
use super::window::{RepWindow, weighted};
use crate::metrics::stats::{BetaPrior, beta_interval, fit_beta, gamma_interval, median, quantile};
use crate::model::playbook::Playbook;
use crate::model::rules::BenchmarkPolicy;
use std::collections::{BTreeMap, BTreeSet};

/// The mass of the range a sheet calls "likely".
const LIKELY: f64 = 0.8;

/// Benchmarks by (lever key, team), computed once each.
type BenchmarkCache = std::collections::HashMap<(LeverId, Option<String>), Option<f64>>;

/// Company-wide fits shared by every rep's diagnosis.
pub(super) struct Context<'a> {
    reps: &'a [RepWindow],
    playbook: &'a Playbook,
    /// Shrunk rate per rep per transition.
    shrunk: Vec<Vec<f64>>,
    shrunk_leads: Vec<f64>,
    /// The peers' priors the shrunk values come from: per transition, and for lead volume.
    priors: Vec<BetaPrior>,
    lead_prior: (f64, f64),
    avg_won_amount: Option<f64>,
    /// The currency of the amounts, when they are in one.
    currency: Option<String>,
    money_in_one_currency: bool,
    indicators: Vec<Indicators>,
    peer_indicators: Indicators,
    /// Reps by manager, for team benchmarks.
    teams: std::collections::HashMap<Option<String>, Vec<usize>>,
    /// Benchmarks already computed, by (lever key, team).
    benchmarks: std::cell::RefCell<BenchmarkCache>,
    /// The two-groups model of each transition, of lead volume and of activities per deal at
    /// each stage: what confidence means.
    groups: Vec<TwoGroups>,
    lead_groups: TwoGroups,
    activity_groups: Vec<TwoGroups>,
    /// Each transition's activity evidence, learned across the peers.
    evidence: Vec<StepEvidence>,
    /// The first month of the data, so that a window does not claim months before it.
    pub(super) first_month: Option<String>,
}

/// Fits a Gamma prior (shape, rate) to counts over exposures by the method of moments.
fn fit_gamma(groups: &[(u64, u64)]) -> (f64, f64) {
    let used: Vec<(f64, f64)> =
        groups.iter().filter(|g| g.1 > 0).map(|&(k, n)| (k as f64, n as f64)).collect();
    let total_n: f64 = used.iter().map(|g| g.1).sum();
    if total_n == 0.0 {
        return (1.0, 1.0);
    }
    let m = (used.iter().map(|g| g.0).sum::<f64>() / total_n).max(1e-6);
    let observed = used.iter().map(|&(k, n)| n * (k / n - m).powi(2)).sum::<f64>() / total_n;
    let noise = used.len() as f64 * m / total_n;
    let between = observed - noise;
    // Strength in units of exposure: at least 0.5, at most 200 (same reasoning as fit_beta).
    let strength =
        if used.len() < 3 || between <= 0.0 { 200.0 } else { (m / between).clamp(0.5, 200.0) };
    (m * strength, strength)
}

fn median_of(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let mut v: Vec<f64> = values.flatten().filter(|x| x.is_finite()).collect();
    median(&mut v)
}

impl<'a> Context<'a> {
    pub(super) fn new(reps: &'a [RepWindow], playbook: &'a Playbook) -> Context<'a> {
        let t = playbook.stages.len() - 1;
        let priors: Vec<BetaPrior> = (0..t)
            .map(|j| fit_beta(&reps.iter().map(|r| (r.k[j], r.n[j])).collect::<Vec<_>>()))
            .collect();
        let shrunk = reps
            .iter()
            .map(|r| (0..t).map(|j| priors[j].posterior_mean(r.k[j], r.n[j])).collect())
            .collect();
        let lead_prior =
            fit_gamma(&reps.iter().map(|r| (r.leads, r.lead_months)).collect::<Vec<_>>());
        let shrunk_leads = reps
            .iter()
            .map(|r| (lead_prior.0 + r.leads as f64) / (lead_prior.1 + r.lead_months as f64))
            .collect();
        // Amounts in different currencies are never added: with several, no money at all.
        let currencies: std::collections::BTreeSet<&String> =
            reps.iter().flat_map(|r| &r.won_currencies).collect();
        let money_currency = match currencies.into_iter().collect::<Vec<_>>().as_slice() {
            [] => Some(None),
            [one] if one.as_str() != super::window::MIXED => {
                Some((!one.is_empty()).then(|| one.to_string()))
            }
            _ => None,
        };
        let (amount, wins) = reps
            .iter()
            .filter(|_| money_currency.is_some())
            .fold((0.0, 0u64), |(a, w), r| (a + r.won_amount, w + r.won_with_amount));
        let groups = (0..t)
            .map(|j| {
                let obs: Vec<(f64, f64)> = reps.iter().map(|r| (r.k[j], r.n[j])).collect();
                TwoGroups::fit(&obs, Counts::Binomial)
            })
            .collect();
        let lead_obs: Vec<(f64, f64)> =
            reps.iter().map(|r| (r.leads as f64, r.lead_months as f64)).collect();
        let activity_groups = (0..t)
            .map(|j| {
                let obs: Vec<(f64, f64)> =
                    reps.iter().map(|r| (r.activities[j] as f64, r.deals[j] as f64)).collect();
                TwoGroups::fit(&obs, Counts::Poisson)
            })
            .collect();
        let mut ctx = Context {
            groups,
            lead_groups: TwoGroups::fit(&lead_obs, Counts::Poisson),
            activity_groups,
            reps,
            playbook,
            shrunk,
            shrunk_leads,
            priors,
            lead_prior,
            avg_won_amount: (wins > 0).then(|| amount / wins as f64),
            money_in_one_currency: money_currency.is_some(),
            currency: money_currency.flatten(),
            indicators: Vec::new(),
            peer_indicators: Indicators::default(),
            teams: std::collections::HashMap::new(),
            benchmarks: Default::default(),
            evidence: Vec::new(),
            first_month: None,
        };
        for (i, r) in reps.iter().enumerate() {
            ctx.teams.entry(r.manager_id.clone()).or_default().push(i);
        }
        ctx.indicators = (0..reps.len()).map(|i| ctx.rep_indicators(i)).collect();
        ctx.peer_indicators = ctx.peer_medians();
        ctx.evidence = (0..t)
            .map(|j| {
                let p: Vec<Option<f64>> = reps
                    .iter()
                    .map(|r| {
                        (r.n[j] > 0.0).then(|| ctx.groups[j].deficient_probability(r.k[j], r.n[j]))
                    })
                    .collect();
                StepEvidence::fit(&ctx.indicators, &playbook.stages[j], &p)
            })
            .collect();
        ctx
    }

    fn rep_indicators(&self, i: usize) -> Indicators {
        let r = &self.reps[i];
        let stages = &self.playbook.stages;
        let t = stages.len() - 1;
        let mut ind = Indicators::default();
        let mut pers_all = (0.0, 0.0);
        for (j, stage) in stages[..t].iter().enumerate() {
            let s = stage.clone();
            ind.rate.insert(s.clone(), (r.n[j] > 0.0).then(|| self.shrunk[i][j]));
            let has_acts = r.deals[j] > 0;
            ind.contacts_per_deal
                .insert(s.clone(), has_acts.then(|| r.activities[j] as f64 / r.deals[j] as f64));
            ind.touched_share.insert(s.clone(), has_acts.then(|| r.touched[j] / r.deals[j] as f64));
            ind.personalized_share.insert(s, weighted(r.personalized[j]));
            pers_all.0 += r.personalized[j].0;
            pers_all.1 += r.personalized[j].1;
        }
        ind.personalized_share.insert("all".into(), weighted(pers_all));
        // The adjusted value, as the lead-volume lever reads it, so that a sheet shows one
        // number for it.
        ind.leads_per_month = (r.lead_months > 0).then(|| self.shrunk_leads[i]);
        ind.won_per_month = (r.active_months > 0).then(|| r.won as f64 / r.active_months as f64);
        ind.first_contact_hours = weighted(r.first_contact);
        ind.first_call_connected_share = weighted(r.first_call_connected);
        ind.first_call_duration_s = weighted(r.first_call_duration);
        ind.lead_won_rate = Some(self.shrunk[i].iter().product());
        ind
    }

    fn peer_medians(&self) -> Indicators {
        let all = &self.indicators;
        let per_stage = |get: fn(&Indicators) -> &BTreeMap<String, Option<f64>>| {
            let keys: BTreeSet<&String> = all.iter().flat_map(|i| get(i).keys()).collect();
            keys.into_iter()
                .map(|k| {
                    (k.clone(), median_of(all.iter().map(|i| get(i).get(k).copied().flatten())))
                })
                .collect()
        };
        Indicators {
            rate: per_stage(|i| &i.rate),
            contacts_per_deal: per_stage(|i| &i.contacts_per_deal),
            touched_share: per_stage(|i| &i.touched_share),
            personalized_share: per_stage(|i| &i.personalized_share),
            leads_per_month: median_of(all.iter().map(|i| i.leads_per_month)),
            won_per_month: median_of(all.iter().map(|i| i.won_per_month)),
            first_contact_hours: median_of(all.iter().map(|i| i.first_contact_hours)),
            first_call_connected_share: median_of(all.iter().map(|i| i.first_call_connected_share)),
            first_call_duration_s: median_of(all.iter().map(|i| i.first_call_duration_s)),
            lead_won_rate: median_of(all.iter().map(|i| i.lead_won_rate)),
        }
    }

    /// The benchmark of a value among the reps `pool` selects, by the playbook's policy.
    fn benchmark(
        &self,
        i: usize,
        lever: &LeverId,
        value: impl Fn(usize) -> Option<f64>,
        higher_is_better: bool,
    ) -> Option<f64> {
        let d = &self.playbook.diagnosis;
        let team = self.teams.get(&self.reps[i].manager_id).filter(|t| t.len() >= 3);
        let pool_key = match (d.benchmark, team) {
            (BenchmarkPolicy::TeamMedian, Some(_)) => self.reps[i].manager_id.clone(),
            _ => None,
        };
        // A benchmark depends only on the lever and the pool, so it is computed once per pair.
        let key = (lever.clone(), pool_key.clone());
        if let Some(b) = self.benchmarks.borrow().get(&key) {
            return *b;
        }
        let mut values: Vec<f64> = match (pool_key, team) {
            (Some(_), Some(t)) => t.iter().filter_map(|&j| value(j)).collect(),
            _ => (0..self.reps.len()).filter_map(value).collect(),
        };
        let b = match d.benchmark {
            BenchmarkPolicy::Fixed => {
                d.targets.get(&lever.to_string()).copied().or_else(|| median(&mut values))
            }
            BenchmarkPolicy::TopQuartile => {
                quantile(&mut values, if higher_is_better { 0.75 } else { 0.25 })
            }
            _ => median(&mut values),
        };
        self.benchmarks.borrow_mut().insert(key, b);
        b
    }

    /// The level a lever is measured against: the typical group's level under the default
    /// policy (the median of all reps mixes in the deficient ones), else the policy's.
    fn target(&self, policy_value: Option<f64>, typical: f64) -> Option<f64> {
        match self.playbook.diagnosis.benchmark {
            BenchmarkPolicy::PeerMedian => Some(typical),
            _ => policy_value,
        }
    }

    fn downstream(&self, i: usize, from: usize) -> f64 {
        self.shrunk[i][from..].iter().product()
    }

    fn entered_per_month(&self, i: usize, j: usize) -> f64 {
        let r = &self.reps[i];
        r.entered[j] as f64 / r.mature_months.max(1) as f64
    }

    fn levers(&self, i: usize) -> Vec<Lever> {
        let r = &self.reps[i];
        let stages = &self.playbook.stages;
        let t = stages.len() - 1;
        let threshold = self.playbook.diagnosis.confidence;
        let mut out = Vec::new();
        for j in 0..t {
            let id = LeverId::step(stages, j);
            let bench = self.benchmark(
                i,
                &id,
                |x| (self.reps[x].n[j] > 0.0).then(|| self.shrunk[x][j]),
                true,
            );
            let bench = self.target(bench, self.groups[j].typical_level());
            let value = self.shrunk[i][j];
            let model = &self.groups[j];
            let confidence = (r.n[j] > 0.0)
                .then(|| self.evidence[j].combine(i, model.deficient_probability(r.k[j], r.n[j])));
            // The expected gain: how likely the deficit is, times what closing it is worth.
            let impact = match (bench, confidence) {
                (Some(bm), Some(c)) => {
                    c * self.entered_per_month(i, j)
                        * (bm - value).max(0.0)
                        * self.downstream(i, j + 1)
                }
                _ => 0.0,
            };
            let more = match (bench, confidence) {
                (Some(bm), Some(c)) if c < threshold && value < bm => {
                    more_deals(model, r.k[j], r.n[j], threshold)
                }
                _ => None,
            };
            out.push(Lever {
                id,
                kind: LeverKind::Transition(j),
                value: (r.n[j] > 0.0).then_some(value),
                raw: (r.n[j] > 0.0).then(|| r.k[j] / r.n[j]),
                k: r.k[j].round() as u64,
                n: r.n[j].round() as u64,
                observed: Some((r.converted[j], r.entered[j], r.open[j])),
                benchmark: bench,
                range: (r.n[j] > 0.0).then(|| {
                    let p = self.priors[j];
                    beta_interval(p.alpha + r.k[j], p.beta + (r.n[j] - r.k[j]).max(0.0), LIKELY)
                }),
                confidence,
                impact_won: impact,
                impact_amount: None,
                more_deals_needed: more,
            });
        }
        // Lead volume: Gamma–Poisson on leads a month.
        let lead_volume = LeverId::lead_volume(stages);
        let bench = self.benchmark(i, &lead_volume, |x| Some(self.shrunk_leads[x]), true);
        let bench = self.target(bench, self.lead_groups.typical_level());
        let value = self.shrunk_leads[i];
        let confidence = (r.lead_months > 0)
            .then(|| self.lead_groups.deficient_probability(r.leads as f64, r.lead_months as f64));
        out.push(Lever {
            id: lead_volume,
            kind: LeverKind::LeadVolume,
            value: Some(value),
            raw: (r.lead_months > 0).then(|| r.leads as f64 / r.lead_months as f64),
            k: r.leads,
            n: r.lead_months,
            observed: None,
            benchmark: bench,
            range: Some(gamma_interval(
                self.lead_prior.0 + r.leads as f64,
                self.lead_prior.1 + r.lead_months as f64,
                LIKELY,
            )),
            confidence,
            impact_won: match (bench, confidence) {
                (Some(bm), Some(c)) => c * (bm - value).max(0.0) * self.downstream(i, 0),
                _ => 0.0,
            },
            impact_amount: None,
            more_deals_needed: None,
        });
        // Activity volume: the share of the transition's gap that the activity shortfall covers.
        // It counts only as far as the step-up rate out of that stage is itself below its
        // benchmark, so its confidence is the lesser of the two.
        let transition_confidence: Vec<Option<f64>> =
            out.iter().take(t).map(|l| l.confidence).collect();
        for j in 0..t {
            if r.deals[j] == 0 {
                continue;
            }
            let per_deal = |x: usize| {
                let w = &self.reps[x];
                (w.deals[j] > 0).then(|| w.activities[j] as f64 / w.deals[j] as f64)
            };
            let id = LeverId::Activity { stage: stages[j].clone() };
            let bench = self.benchmark(i, &id, per_deal, true);
            let bench = self.target(bench, self.activity_groups[j].typical_level());
            let value = per_deal(i);
            let activity_confidence = (r.deals[j] > 0).then(|| {
                self.activity_groups[j]
                    .deficient_probability(r.activities[j] as f64, r.deals[j] as f64)
            });
            // The step's own benchmark: one benchmark per lever, whichever lever asks.
            let rate_bench = self.benchmark(
                i,
                &LeverId::step(stages, j),
                |x| (self.reps[x].n[j] > 0.0).then(|| self.shrunk[x][j]),
                true,
            );
            let rate_bench = self.target(rate_bench, self.groups[j].typical_level());
            // An activity lever is never surer than its transition.
            let confidence =
                activity_confidence.map(|c| c.min(transition_confidence[j].unwrap_or(0.0)));
            let impact = match (bench, value, rate_bench, confidence) {
                (Some(bm), Some(v), Some(rb), Some(c)) if bm > 0.0 => {
                    let shortfall = ((bm - v) / bm).clamp(0.0, 1.0);
                    c * self.entered_per_month(i, j)
                        * shortfall
                        * (rb - self.shrunk[i][j]).max(0.0)
                        * self.downstream(i, j + 1)
                }
                _ => 0.0,
            };
            out.push(Lever {
                id,
                kind: LeverKind::ActivityVolume(j),
                value,
                raw: value,
                k: r.activities[j],
                n: r.deals[j],
                observed: None,
                benchmark: bench,
                range: None,
                confidence,
                impact_won: impact,
                impact_amount: None,
                more_deals_needed: None,
            });
        }
        let amount = if !self.money_in_one_currency {
            None
        } else if r.won_with_amount >= self.playbook.diagnosis.min_wins_for_amount {
            Some(r.won_amount / r.won_with_amount as f64)
        } else {
            self.avg_won_amount
        };
        for l in &mut out {
            l.impact_amount = amount.map(|a| l.impact_won * a);
        }
        out
    }

    pub(super) fn diagnose_rep(
        &self,
        i: usize,
        period: &str,
        months: &[String],
    ) -> anyhow::Result<Diagnosis> {
        let r = &self.reps[i];
        let levers = self.levers(i);
        let threshold = self.playbook.diagnosis.confidence;
        let floor = self.playbook.diagnosis.min_impact_won;
        // A lever worth less than the playbook's floor is not worth a month of coaching.
        let best = |pool: &mut dyn Iterator<Item = &Lever>| -> Option<Lever> {
            pool.filter(|l| l.impact_won > 0.0 && l.impact_won >= floor)
                .max_by(|a, b| a.impact_won.total_cmp(&b.impact_won))
                .cloned()
        };
        let focus =
            best(&mut levers.iter().filter(|l| l.confidence.is_some_and(|c| c >= threshold)));
        let suggestion = if focus.is_none() { best(&mut levers.iter()) } else { None };
        let chosen = focus.as_ref().or(suggestion.as_ref());
        // With nothing offered, the sheet is written around the step to build on: its
        // hypotheses are still what the activity data says about it.
        let build_on = chosen.or_else(|| super::window::furthest_below(&levers));
        let hypotheses = match build_on {
            Some(l) => {
                // The peers' lead volume is the lever's benchmark, as the headline says it.
                let mut peers = self.peer_indicators.clone();
                if let Some(b) = levers
                    .iter()
                    .find(|l| l.kind == LeverKind::LeadVolume)
                    .and_then(|l| l.benchmark)
                {
                    peers.leads_per_month = Some(b);
                }
                rules::evaluate(self.playbook, &l.id, &self.indicators[i], &peers)?
            }
            None => Vec::new(),
        };
        let mut why = why(chosen, &levers, focus.is_some(), self.playbook, (threshold, floor));
        if let Some(LeverKind::Transition(j)) = chosen.map(|l| l.kind)
            && let Some(clause) =
                self.evidence[j].clause(i, &self.indicators[i], &self.peer_indicators)
        {
            why = format!("{why}; {clause}");
        }
        Ok(Diagnosis {
            rep_id: r.rep_id.clone(),
            rep_name: r.rep_name.clone(),
            manager_id: r.manager_id.clone(),
            period: period.to_string(),
            // The window as the data has it: not before its first month.
            window_from: months
                .iter()
                .find(|m| self.first_month.as_deref().is_none_or(|f| m.as_str() >= f))
                .unwrap_or(&months[0])
                .clone(),
            window_to: months[months.len() - 1].clone(),
            focus: focus.as_ref().map(|l| l.id.clone()),
            suggestion: suggestion.as_ref().map(|l| l.id.clone()),
            focus_rate: chosen.and_then(|l| l.value),
            focus_raw_rate: chosen.and_then(|l| l.raw),
            benchmark: chosen.and_then(|l| l.benchmark),
            confidence: chosen.and_then(|l| l.confidence),
            impact_won: chosen.map(|l| l.impact_won),
            impact_amount: chosen.and_then(|l| l.impact_amount),
            currency: chosen.and_then(|l| l.impact_amount).and(self.currency.clone()),
            deals: chosen.map(|l| l.n),
            more_deals_needed: chosen.and_then(|l| l.more_deals_needed),
            why,
            hypotheses,
            immature_left_out: r.immature.iter().cloned().collect(),
            levers,
            trend: Vec::new(),
            indicators: self.indicators[i].clone(),
            peer_indicators: self.peer_indicators.clone(),
        })
    }
}
