//! Activity evidence for a step's deficit: the deep-dive indicators (contacts per deal,
//! personalised share, first calls, time to first contact) enter the step's confidence.
//!
//! Nothing says in advance which indicator goes with which step, or how strongly: that is
//! learned across the peers. The counts give each rep a probability of a deficit at the step;
//! weighted by it, each indicator (logit scale for shares, log scale for the rest) has a centre
//! among the deficient and among the typical reps, with a shared spread. Their distance in
//! spreads (an effect size) is soft-thresholded by twice its standard error, so that a team's
//! two or three deficient reps never make noise into evidence. The strongest indicator left
//! is the step's evidence: a rep's likelihood ratio under the two centres, mixed with 1 for the
//! deficient reps whose cause is another (half of them), moves the odds; each rep's own ratio
//! is learned without that rep (leave one out), and never moves the odds by more than a factor
//! of 20.

use super::types::Indicators;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Share,
    Count,
    Seconds,
    Hours,
}

/// One activity indicator, read for a step's stage.
#[derive(Debug, Clone, Copy)]
struct Indicator {
    name: &'static str,
    unit: Unit,
    get: fn(&Indicators, &str) -> Option<f64>,
}

const INDICATORS: &[Indicator] = &[
    Indicator {
        name: "contacts per deal",
        unit: Unit::Count,
        get: |i, s| i.contacts_per_deal.get(s).copied().flatten(),
    },
    Indicator {
        name: "deals touched",
        unit: Unit::Share,
        get: |i, s| i.touched_share.get(s).copied().flatten(),
    },
    Indicator {
        name: "personalised emails",
        unit: Unit::Share,
        get: |i, s| i.personalized_share.get(s).copied().flatten(),
    },
    Indicator { name: "first contact after", unit: Unit::Hours, get: |i, _| i.first_contact_hours },
    Indicator {
        name: "first calls connected",
        unit: Unit::Share,
        get: |i, _| i.first_call_connected_share,
    },
    Indicator {
        name: "first calls last",
        unit: Unit::Seconds,
        get: |i, _| i.first_call_duration_s,
    },
];

/// The most a piece of activity evidence moves a step's log-odds (a factor of 20).
const MAX_LOG_LR: f64 = 3.0;

/// The share of a step's deficient reps taken to show the indicator's cause: the likelihood
/// ratio is a mixture, so that a normal value lowers the odds at most by half.
const CAUSE_SHARE: f64 = 0.5;

fn scaled(unit: Unit, x: f64) -> Option<f64> {
    if !x.is_finite() {
        return None;
    }
    Some(match unit {
        Unit::Share => {
            let p = x.clamp(0.02, 0.98);
            (p / (1.0 - p)).ln()
        }
        _ => x.max(1e-3).ln(),
    })
}

/// A step's activity evidence: the indicator and each rep's log likelihood ratio.
#[derive(Debug, Clone, Default)]
pub(super) struct StepEvidence {
    indicator: Option<(Indicator, String)>,
    log_lr: Vec<f64>,
}

/// Weighted sums of one indicator over the reps: (Σw, Σw·x, Σw·x²) for each group.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    w: [f64; 2],
    x: [f64; 2],
    xx: [f64; 2],
}

impl Sums {
    fn add(&mut self, p: f64, x: f64, sign: f64) {
        for (g, w) in [(0, 1.0 - p), (1, p)] {
            self.w[g] += sign * w;
            self.x[g] += sign * w * x;
            self.xx[g] += sign * w * x * x;
        }
    }

    /// (typical centre, spread, shrunk effect size), when the deficient group has weight.
    fn effect(&self) -> Option<(f64, f64, f64)> {
        if self.w[1] < 1.5 || self.w[0] < 3.0 {
            return None;
        }
        let mean = |g: usize| self.x[g] / self.w[g];
        let ss: f64 = (0..2).map(|g| self.xx[g] - self.w[g] * mean(g).powi(2)).sum();
        let sd = (ss / (self.w[0] + self.w[1] - 2.0).max(1.0)).max(0.0).sqrt();
        if sd < 1e-6 {
            return None;
        }
        let d = (mean(1) - mean(0)) / sd;
        let se = (1.0 / self.w[0] + 1.0 / self.w[1]).sqrt();
        let shrunk = d.signum() * (d.abs() - 2.0 * se).max(0.0);
        Some((mean(0), sd, shrunk))
    }
}

impl StepEvidence {
    /// Learns a step's evidence from the reps' indicators at `stage` and their count-based
    /// probabilities of a deficit there (None: the rep has no deals at the step).
    pub(super) fn fit(indicators: &[Indicators], stage: &str, p: &[Option<f64>]) -> StepEvidence {
        let mut best: Option<(f64, Indicator, Vec<Option<f64>>, Sums)> = None;
        for ind in INDICATORS {
            let xs: Vec<Option<f64>> = indicators
                .iter()
                .map(|i| (ind.get)(i, stage).and_then(|x| scaled(ind.unit, x)))
                .collect();
            let mut sums = Sums::default();
            for (x, p) in xs.iter().zip(p) {
                if let (Some(x), Some(p)) = (x, p) {
                    sums.add(*p, *x, 1.0);
                }
            }
            let Some((_, _, d)) = sums.effect() else { continue };
            if d != 0.0 && best.as_ref().is_none_or(|b| d.abs() > b.0.abs()) {
                best = Some((d, *ind, xs, sums));
            }
        }
        let Some((_, ind, xs, sums)) = best else {
            return StepEvidence { indicator: None, log_lr: vec![0.0; indicators.len()] };
        };
        let log_lr = xs
            .iter()
            .zip(p)
            .map(|(x, p)| {
                let Some(x) = *x else { return 0.0 };
                let mut without = sums;
                if let Some(p) = p {
                    without.add(*p, x, -1.0);
                }
                match without.effect() {
                    Some((centre, sd, d)) => {
                        let z = (x - centre) / sd;
                        let ratio = (d * z - d * d / 2.0).exp();
                        // A deficit has several causes and one indicator shows one of them: a
                        // normal value says little against it, an abnormal one much for it.
                        let mixed = (1.0 - CAUSE_SHARE) + CAUSE_SHARE * ratio;
                        mixed.ln().clamp(-MAX_LOG_LR, MAX_LOG_LR)
                    }
                    None => 0.0,
                }
            })
            .collect();
        StepEvidence { indicator: Some((ind, stage.to_string())), log_lr }
    }

    /// Rep `i`'s confidence of a deficit from the counts, moved by the activity evidence.
    pub(super) fn combine(&self, i: usize, p: f64) -> f64 {
        let lr = self.log_lr.get(i).copied().unwrap_or(0.0);
        if lr == 0.0 {
            return p;
        }
        let p = p.clamp(1e-9, 1.0 - 1e-9);
        let odds = (p / (1.0 - p)).ln() + lr;
        1.0 / (1.0 + (-odds).exp())
    }

    /// The clause a sheet's why adds when the evidence moved the confidence clearly: "first
    /// calls last 74 s vs 411 s for peers support it".
    pub(super) fn clause(&self, i: usize, rep: &Indicators, peers: &Indicators) -> Option<String> {
        let (ind, stage) = self.indicator.as_ref()?;
        let lr = self.log_lr.get(i).copied().unwrap_or(0.0);
        if lr.abs() < 0.7 {
            return None;
        }
        let (v, b) = ((ind.get)(rep, stage)?, (ind.get)(peers, stage)?);
        let show = |x: f64| match ind.unit {
            Unit::Share => format!("{:.0}%", x * 100.0),
            Unit::Count => format!("{x:.1}"),
            Unit::Seconds => format!("{x:.0} s"),
            Unit::Hours => format!("{x:.1} h"),
        };
        let at = if matches!(ind.unit, Unit::Count | Unit::Share)
            && ind.name != "first calls connected"
        {
            format!(" at {stage}")
        } else {
            String::new()
        };
        let verdict = if lr > 0.0 { "support it" } else { "speak against it" };
        Some(format!("{}{at} {} vs {} for peers {verdict}", ind.name, show(v), show(b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reps(durations: &[f64]) -> Vec<Indicators> {
        durations
            .iter()
            .map(|&d| Indicators { first_call_duration_s: Some(d), ..Indicators::default() })
            .collect()
    }

    #[test]
    fn an_indicator_that_goes_with_the_deficit_raises_the_odds_and_a_normal_one_lowers_them() {
        // 30 reps; the 6 with a deficit at the step make short first calls.
        let mut durations = Vec::new();
        let mut p = Vec::new();
        for i in 0..30 {
            let deficient = i % 5 == 0;
            durations.push(if deficient { 70.0 + i as f64 } else { 380.0 + 3.0 * i as f64 });
            p.push(Some(if deficient { 0.7 } else { 0.1 }));
        }
        let ev = StepEvidence::fit(&reps(&durations), "case", &p);
        let short = ev.combine(5, 0.5);
        let normal = ev.combine(1, 0.5);
        assert!(short > 0.75, "{short}");
        // A normal value is mild evidence against: the deficit may have another cause.
        assert!((0.3..0.5).contains(&normal), "{normal}");
        let peers = Indicators { first_call_duration_s: Some(411.0), ..Indicators::default() };
        let clause = ev.clause(5, &reps(&durations)[5], &peers).unwrap();
        assert_eq!(clause, "first calls last 75 s vs 411 s for peers support it");
    }

    #[test]
    fn noise_is_not_evidence() {
        // The indicator has nothing to do with the deficit: no evidence, no change.
        let durations: Vec<f64> = (0..24).map(|i| 300.0 + ((i * 37) % 11) as f64 * 10.0).collect();
        let p: Vec<Option<f64>> =
            (0..24).map(|i| Some(if i % 8 == 0 { 0.8 } else { 0.1 })).collect();
        let ev = StepEvidence::fit(&reps(&durations), "case", &p);
        for i in 0..24 {
            assert!((ev.combine(i, 0.4) - 0.4).abs() < 0.15, "rep {i}: {}", ev.combine(i, 0.4));
        }
    }

    #[test]
    fn without_activities_the_counts_decide_alone() {
        let ind = vec![Indicators::default(); 10];
        let ev = StepEvidence::fit(&ind, "lead", &[Some(0.5); 10]);
        assert_eq!(ev.combine(3, 0.37), 0.37);
        assert!(ev.clause(3, &ind[3], &ind[0]).is_none());
    }
}
