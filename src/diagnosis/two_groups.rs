//! The two-groups model of a lever across peers (Efron's two-groups model of large-scale
//! inference): each rep is either typical or deficient at this lever, and the counts say which.
//!
//! Being below the median is not a deficit: half of all reps are. A rep's rate (on the logit
//! scale) or volume (on the log scale) is drawn from one of two normal groups with a shared
//! spread: the typical group and a deficient group whose centre is clearly lower. The groups and
//! the deficient share are fitted across the peers by EM, with each rep's binomial (rates) or
//! Poisson (volumes) counts integrated over the group by quadrature, so that a rep with few deals
//! tells the fit little. The confidence that a rep is deficient is then the posterior probability
//! of the deficient group given their counts: of reps told "90% sure", about 9 in 10 really are.

/// How a lever's counts arise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counts {
    /// k successes of n trials (a step-up rate).
    Binomial,
    /// k events over an exposure of n (leads over months, activities over deals).
    Poisson,
}

/// The deficient group's centre is at least this far below the typical one (logit or log
/// units: about a third lower in odds or volume), so that a peer group with no deficient reps
/// fits a deficient share near 0 instead of splitting its typical reps in two.
const MIN_SEPARATION: f64 = 0.4;

const NODES: usize = 41;

/// Peer groups up to this size carry their fit's uncertainty into each rep's confidence.
const SMALL_GROUP: usize = 80;

/// A fitted two-groups model of one lever.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoGroups {
    pub kind: Counts,
    /// Share of reps in the deficient group.
    pub deficient_share: f64,
    /// Centres of the typical and deficient groups (logit or log scale) and their shared spread.
    pub typical: f64,
    pub deficient: f64,
    pub spread: f64,
    /// Refits on resamples of the peers: the fit's own uncertainty, which a team of 20 makes
    /// large. A rep's confidence averages over them (empty: the fit alone).
    pub draws: Vec<TwoGroups>,
}

/// EM of the two-groups model from a start.
fn em(mut m: TwoGroups, used: &[(f64, f64)], z: &[f64], w: &[f64], rounds: usize) -> TwoGroups {
    for _ in 0..rounds {
        let (mut r_sum, mut s0, mut s1, mut x0, mut x1, mut q) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        let mut second = Vec::with_capacity(used.len());
        for &(k, n) in used {
            let ([(l0, m0, q0), (l1, m1, q1)], _) = m.group_terms(k, n, z, w);
            let a = (1.0 - m.deficient_share) * l0;
            let b = m.deficient_share * l1;
            let r = if a + b > 0.0 { b / (a + b) } else { 0.0 };
            r_sum += r;
            s0 += 1.0 - r;
            s1 += r;
            x0 += (1.0 - r) * m0;
            x1 += r * m1;
            second.push((r, m0, q0, m1, q1));
        }
        // Half a rep at least: an absorbing share of 0 would make nobody ever deficient.
        let share = (r_sum / used.len() as f64).clamp(0.5 / used.len() as f64, 0.5);
        let typical = if s0 > 0.0 { x0 / s0 } else { m.typical };
        let deficient = if s1 > 1e-9 { x1 / s1 } else { typical - MIN_SEPARATION };
        let deficient = deficient.min(typical - MIN_SEPARATION);
        for &(r, m0, q0, m1, q1) in &second {
            q += (1.0 - r) * (q0 - 2.0 * typical * m0 + typical * typical)
                + r * (q1 - 2.0 * deficient * m1 + deficient * deficient);
        }
        let spread = (q / used.len() as f64).max(0.0).sqrt().clamp(0.05, 2.0);
        let moved = (share - m.deficient_share).abs()
            + (typical - m.typical).abs()
            + (deficient - m.deficient).abs()
            + (spread - m.spread).abs();
        m = TwoGroups {
            kind: m.kind,
            deficient_share: share,
            typical,
            deficient,
            spread,
            draws: Vec::new(),
        };
        if moved < 1e-7 {
            break;
        }
    }
    m
}

/// Refits of `fit` on resamples (with replacement) of the peers, from `fit` itself: a
/// parametric picture of how else the groups could have come out. Seeded by the counts, so a
/// run is repeatable.
fn bootstrap(fit: &TwoGroups, used: &[(f64, f64)], z: &[f64], w: &[f64]) -> Vec<TwoGroups> {
    // A large peer group's fit moves little: its plug-in confidences are calibrated already
    // (measured in benches/diagnose_accuracy.py), and refits would cost time for nothing.
    if fit.deficient_share <= 0.0 || used.len() < 5 || used.len() > SMALL_GROUP {
        return Vec::new();
    }
    let draws = 32;
    let mut seed = used.iter().fold(0x9e37_79b9_7f4a_7c15u64, |h, &(k, n)| {
        (h ^ k.to_bits().wrapping_add(n.to_bits().rotate_left(17))).wrapping_mul(0x100_0000_01b3)
    });
    let mut next = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize
    };
    (0..draws)
        .map(|_| {
            let sample: Vec<(f64, f64)> =
                (0..used.len()).map(|_| used[next() % used.len()]).collect();
            // From the fit, a resample's optimum is near: a few rounds reach it.
            em(TwoGroups { draws: Vec::new(), ..fit.clone() }, &sample, z, w, 120)
        })
        .collect()
}

/// Standard-normal nodes and weights on a regular grid (±4 sd).
fn quadrature() -> (Vec<f64>, Vec<f64>) {
    let z: Vec<f64> = (0..NODES).map(|i| -4.0 + 8.0 * i as f64 / (NODES - 1) as f64).collect();
    let w: Vec<f64> = z.iter().map(|z| (-z * z / 2.0).exp()).collect();
    let total: f64 = w.iter().sum();
    (z, w.into_iter().map(|x| x / total).collect())
}

impl TwoGroups {
    fn log_lik(&self, k: f64, n: f64, x: f64) -> f64 {
        match self.kind {
            Counts::Binomial => {
                let p = 1.0 / (1.0 + (-x).exp());
                k * p.max(1e-12).ln() + (n - k).max(0.0) * (1.0 - p).max(1e-12).ln()
            }
            Counts::Poisson => k * x - n * x.exp(),
        }
    }

    /// The likelihood of a rep's counts under each group, and the group-wise posterior moments
    /// of the rep's latent value: ((L0, m0, s0), (L1, m1, s1)).
    fn group_terms(&self, k: f64, n: f64, z: &[f64], w: &[f64]) -> ([(f64, f64, f64); 2], f64) {
        let mut out = [(0.0, 0.0, 0.0); 2];
        let mut logs = [[0.0; NODES]; 2];
        let mut top = f64::NEG_INFINITY;
        for (g, centre) in [self.typical, self.deficient].into_iter().enumerate() {
            for i in 0..NODES {
                let l = self.log_lik(k, n, centre + self.spread * z[i]);
                logs[g][i] = l;
                top = top.max(l);
            }
        }
        for (g, centre) in [self.typical, self.deficient].into_iter().enumerate() {
            let (mut lik, mut m1, mut m2) = (0.0, 0.0, 0.0);
            for i in 0..NODES {
                let x = centre + self.spread * z[i];
                let p = w[i] * (logs[g][i] - top).exp();
                lik += p;
                m1 += p * x;
                m2 += p * x * x;
            }
            out[g] =
                if lik > 0.0 { (lik, m1 / lik, m2 / lik) } else { (0.0, centre, centre * centre) };
        }
        (out, top)
    }

    /// Fits the model to peers' counts `(k, n)`; peers with no exposure are left out. EM from
    /// several starts (the deficient group a third, half or three quarters lower), keeping the
    /// one with the highest likelihood: from one start EM can stop with the deficient group
    /// pressed against the typical one.
    pub fn fit(obs: &[(f64, f64)], kind: Counts) -> TwoGroups {
        let used: Vec<(f64, f64)> =
            obs.iter().copied().filter(|o| o.1 > 0.0 && o.0 >= 0.0).collect();
        let pooled = {
            let (k, n) = used.iter().fold((0.0, 0.0), |a, o| (a.0 + o.0, a.1 + o.1));
            if n > 0.0 { k / n } else { 0.5 }
        };
        let centre = match kind {
            Counts::Binomial => {
                let p = pooled.clamp(0.01, 0.99);
                (p / (1.0 - p)).ln()
            }
            Counts::Poisson => pooled.max(1e-6).ln(),
        };
        let start = |gap: f64, share: f64| TwoGroups {
            kind,
            deficient_share: share,
            typical: centre,
            deficient: centre - gap,
            spread: 0.3,
            draws: Vec::new(),
        };
        if used.len() < 5 {
            // Too few peers to tell two groups apart: nobody is called deficient.
            return TwoGroups { deficient_share: 0.0, ..start(0.7, 0.0) };
        }
        let (z, w) = quadrature();
        let mut best: Option<(f64, TwoGroups)> = None;
        for (gap, share) in [(0.4, 0.1), (0.7, 0.1), (1.1, 0.1), (1.4, 0.2)] {
            let m = em(start(gap, share), &used, &z, &w, 300);
            let ll = m.log_likelihood(&used, &z, &w);
            if best.as_ref().is_none_or(|b| ll > b.0) {
                best = Some((ll, m));
            }
        }
        let mut fit = best.expect("several starts").1;
        fit.draws = bootstrap(&fit, &used, &z, &w);
        fit
    }

    /// The peers' log-likelihood under the model.
    fn log_likelihood(&self, used: &[(f64, f64)], z: &[f64], w: &[f64]) -> f64 {
        used.iter()
            .map(|&(k, n)| {
                let ([(l0, ..), (l1, ..)], top) = self.group_terms(k, n, z, w);
                ((1.0 - self.deficient_share) * l0 + self.deficient_share * l1).max(1e-300).ln()
                    + top
            })
            .sum()
    }

    /// The probability that a rep with these counts is in the deficient group: the posterior
    /// averaged over the refits on resampled peers, so that a thin peer group, whose fit could
    /// have come out otherwise, does not make anyone 99% or 1% sure.
    pub fn deficient_probability(&self, k: f64, n: f64) -> f64 {
        if self.draws.is_empty() {
            return self.plug_in_probability(k, n);
        }
        let sum: f64 = self.draws.iter().map(|d| d.plug_in_probability(k, n)).sum();
        sum / self.draws.len() as f64
    }

    /// The posterior probability of the deficient group under this fit's parameters alone.
    fn plug_in_probability(&self, k: f64, n: f64) -> f64 {
        if self.deficient_share <= 0.0 || n <= 0.0 {
            return 0.0;
        }
        let (z, w) = quadrature();
        let ([(l0, ..), (l1, ..)], _) = self.group_terms(k, n, &z, &w);
        let a = (1.0 - self.deficient_share) * l0;
        let b = self.deficient_share * l1;
        if a + b > 0.0 { b / (a + b) } else { 0.0 }
    }

    /// The typical group's level: a rate, or a volume per unit of exposure.
    pub fn typical_level(&self) -> f64 {
        match self.kind {
            Counts::Binomial => 1.0 / (1.0 + (-self.typical).exp()),
            Counts::Poisson => self.typical.exp(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random stream for the test populations.
    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    fn population(deficient_every: usize) -> (Vec<(f64, f64)>, Vec<bool>) {
        let mut seed = 7;
        let (mut obs, mut truth) = (Vec::new(), Vec::new());
        for i in 0..300 {
            let deficient = deficient_every > 0 && i % deficient_every == 0;
            let p = if deficient { 0.2 } else { 0.45 + 0.05 * (lcg(&mut seed) - 0.5) };
            let n = 60.0;
            let k = (0..60).filter(|_| lcg(&mut seed) < p).count() as f64;
            obs.push((k, n));
            truth.push(deficient);
        }
        (obs, truth)
    }

    #[test]
    fn a_known_mixture_is_recovered() {
        let (obs, truth) = population(10);
        let m = TwoGroups::fit(&obs, Counts::Binomial);
        assert!((m.deficient_share - 0.1).abs() < 0.04, "{m:?}");
        assert!((m.typical_level() - 0.45).abs() < 0.03, "{m:?}");
        let p = |x: f64| 1.0 / (1.0 + (-x).exp());
        assert!((p(m.deficient) - 0.2).abs() < 0.05, "{m:?}");
        let called: Vec<bool> =
            obs.iter().map(|&(k, n)| m.deficient_probability(k, n) >= 0.8).collect();
        let right = called.iter().zip(&truth).filter(|(c, t)| **c && **t).count();
        let wrong = called.iter().zip(&truth).filter(|(c, t)| **c && !**t).count();
        // At 60 deals, 0.2 against 0.45 is called at 0.8 for about 15 of 60 or fewer: most of
        // the 30 planted reps, and none of the 270 typical ones.
        assert!(right >= 20 && wrong <= 2, "{right} right, {wrong} wrong, {m:?}");
    }

    #[test]
    fn peers_with_no_deficient_reps_give_confidences_near_zero() {
        let (obs, _) = population(0);
        let m = TwoGroups::fit(&obs, Counts::Binomial);
        let highest = obs.iter().map(|&(k, n)| m.deficient_probability(k, n)).fold(0.0, f64::max);
        assert!(m.deficient_share < 0.05, "{m:?}");
        assert!(highest < 0.5, "{highest} {m:?}");
        let below_median = obs.iter().filter(|o| o.0 < 27.0).count();
        assert!(below_median > 100, "half the reps are below the median and none is deficient");
    }

    #[test]
    fn few_deals_are_never_sure() {
        let (obs, _) = population(10);
        let m = TwoGroups::fit(&obs, Counts::Binomial);
        assert!(m.deficient_probability(0.0, 2.0) < 0.5, "0 of 2 says little");
        assert!(m.deficient_probability(12.0, 60.0) > 0.9, "12 of 60 is the deficient group");
    }

    /// Expected calibration error over ten bands of stated probability.
    fn calibration_error(pairs: &[(f64, bool)]) -> f64 {
        (0..10)
            .map(|b| {
                let band: Vec<&(f64, bool)> =
                    pairs.iter().filter(|(c, _)| ((c * 10.0) as usize).min(9) == b).collect();
                if band.is_empty() {
                    return 0.0;
                }
                let stated = band.iter().map(|(c, _)| c).sum::<f64>() / band.len() as f64;
                let right = band.iter().filter(|(_, t)| *t).count() as f64 / band.len() as f64;
                band.len() as f64 / pairs.len() as f64 * (stated - right).abs()
            })
            .sum()
    }

    #[test]
    fn a_team_of_twenty_four_is_told_how_sure_it_can_be() {
        // Teams of 24 from a known mixture: 10% deficient (a rate of 0.25 against 0.45), 40
        // deals each. One team's fit is loose; its confidences must say so. (Measured: 0.041
        // with the refits, 0.056 from the fit alone.)
        let mut seed = 11;
        let (mut refit, mut plug_in) = (Vec::new(), Vec::new());
        for _ in 0..24 {
            let mut obs = Vec::new();
            let mut truth = Vec::new();
            for _ in 0..24 {
                let deficient = lcg(&mut seed) < 0.10;
                let base = if deficient { 0.25 } else { 0.45 };
                let p = (base + 0.08 * (lcg(&mut seed) - 0.5)).clamp(0.01, 0.99);
                let k = (0..40).filter(|_| lcg(&mut seed) < p).count() as f64;
                obs.push((k, 40.0));
                truth.push(deficient);
            }
            let m = TwoGroups::fit(&obs, Counts::Binomial);
            for (&(k, n), &t) in obs.iter().zip(&truth) {
                refit.push((m.deficient_probability(k, n), t));
                plug_in.push((m.plug_in_probability(k, n), t));
            }
        }
        let (with, without) = (calibration_error(&refit), calibration_error(&plug_in));
        assert!(with < without, "refits {with:.3} against the fit alone {without:.3}");
        assert!(with <= 0.05, "refits {with:.3}");
        assert!(refit.iter().all(|(c, _)| (0.0..=1.0).contains(c)));
    }

    #[test]
    fn volumes_fit_on_the_log_scale() {
        let mut obs = Vec::new();
        for i in 0..200 {
            let months = 3.0;
            let rate = if i % 8 == 0 { 10.0 } else { 20.0 + (i % 5) as f64 };
            obs.push(((rate * months).round(), months));
        }
        let m = TwoGroups::fit(&obs, Counts::Poisson);
        assert!((m.typical_level() - 22.0).abs() < 2.0, "{m:?}");
        assert!(m.deficient_probability(30.0, 3.0) > 0.95);
        assert!(m.deficient_probability(66.0, 3.0) < 0.01);
    }
}
