//! Interval estimates and empirical-Bayes shrinkage for rates.

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval for k successes in n trials; `None` when n = 0 or k > n.
pub fn wilson(k: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 || k > n {
        return None;
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// A Beta(alpha, beta) prior.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaPrior {
    pub alpha: f64,
    pub beta: f64,
}

impl BetaPrior {
    /// The posterior mean after k successes in n trials.
    pub fn posterior_mean(&self, k: u64, n: u64) -> f64 {
        (k as f64 + self.alpha) / (n as f64 + self.alpha + self.beta)
    }

    pub fn mean(&self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }
}

/// Bounds on the prior's strength (alpha + beta, in pseudo-deals). The lower bound keeps a
/// prior from a wildly spread peer group from being improper; the upper bound keeps a rep's own
/// data from being ignored entirely when the peers happen to look identical.
pub const MIN_STRENGTH: f64 = 2.0;
pub const MAX_STRENGTH: f64 = 500.0;

/// Fits a Beta prior to peer groups' (successes, trials) by the method of moments.
///
/// The mean is the pooled rate Σk/Σn. The between-group variance is the trial-weighted
/// variance of the raw rates minus the binomial sampling variance expected at the groups' sizes,
/// so that small groups' noise is not mistaken for real differences. The strength is then
/// m(1−m)/var − 1, clamped to [MIN_STRENGTH, MAX_STRENGTH]. With no trials at all the prior is
/// uniform; with fewer than three groups it is weak (MIN_STRENGTH) around the pooled rate.
pub fn fit_beta(groups: &[(u64, u64)]) -> BetaPrior {
    let used: Vec<(f64, f64)> = groups
        .iter()
        .filter(|g| g.1 > 0 && g.0 <= g.1)
        .map(|&(k, n)| (k as f64, n as f64))
        .collect();
    let total_n: f64 = used.iter().map(|g| g.1).sum();
    if total_n == 0.0 {
        return BetaPrior { alpha: 1.0, beta: 1.0 };
    }
    let m = used.iter().map(|g| g.0).sum::<f64>() / total_n;
    // Keep the prior proper even when every peer converted everything or nothing.
    let m = m.clamp(0.5 / (total_n + 1.0), 1.0 - 0.5 / (total_n + 1.0));
    let strength = if used.len() < 3 {
        MIN_STRENGTH
    } else {
        let observed = used.iter().map(|&(k, n)| n * (k / n - m).powi(2)).sum::<f64>() / total_n;
        let noise = used.iter().map(|_| m * (1.0 - m)).sum::<f64>() / total_n;
        let between = observed - noise;
        if between <= 0.0 {
            MAX_STRENGTH
        } else {
            (m * (1.0 - m) / between - 1.0).clamp(MIN_STRENGTH, MAX_STRENGTH)
        }
    };
    BetaPrior { alpha: m * strength, beta: (1.0 - m) * strength }
}

/// The median of some values (mean of the middle two for an even count); `None` when empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    Some(if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_hand_computed() {
        // 5 of 10: centre 0.5, half-width 1.96*sqrt(.025+.0096)/1.384 = 0.2634 (hand computed).
        let (lo, hi) = wilson(5, 10).unwrap();
        assert!((lo - 0.2366).abs() < 1e-3 && (hi - 0.7634).abs() < 1e-3, "{lo} {hi}");
        let (lo, hi) = wilson(0, 4).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - 0.4899).abs() < 1e-3, "{hi}");
        assert_eq!(wilson(0, 0), None);
        assert_eq!(wilson(3, 2), None);
    }

    #[test]
    fn shrinkage_pulls_small_groups_harder() {
        let peers = [(30, 100), (50, 100), (40, 100), (45, 100), (35, 100)];
        let prior = fit_beta(&peers);
        assert!((prior.mean() - 0.40).abs() < 1e-9);
        let small = prior.posterior_mean(1, 2);
        let big = prior.posterior_mean(50, 100);
        assert!((small - 0.40).abs() < (0.5f64 - 0.40).abs());
        assert!((big - 0.5).abs() < (small - 0.5).abs());
    }

    #[test]
    fn identical_peers_give_a_strong_prior_and_few_peers_a_weak_one() {
        let same = fit_beta(&[(40, 100); 6]);
        assert_eq!(same.alpha + same.beta, MAX_STRENGTH);
        let few = fit_beta(&[(1, 2)]);
        assert_eq!(few.alpha + few.beta, MIN_STRENGTH);
        let none = fit_beta(&[(0, 0)]);
        assert_eq!(none, BetaPrior { alpha: 1.0, beta: 1.0 });
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }
}
