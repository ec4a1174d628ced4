//! Interval estimates and empirical-Bayes shrinkage for rates.

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval for k successes in n trials (effective counts may be
/// fractional); `None` when n = 0 or k > n.
pub fn wilson(k: f64, n: f64) -> Option<(f64, f64)> {
    if n <= 0.0 || k > n + 1e-9 || k < 0.0 {
        return None;
    }
    let p = k / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    // Clamped to contain k/n exactly: at k = 0 rounding would put the bound a hair above 0.
    Some(((centre - half).clamp(0.0, p), (centre + half).clamp(p, 1.0)))
}

/// A Beta(alpha, beta) prior.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaPrior {
    pub alpha: f64,
    pub beta: f64,
}

impl BetaPrior {
    /// The posterior mean after k successes in n trials.
    pub fn posterior_mean(&self, k: f64, n: f64) -> f64 {
        (k + self.alpha) / (n + self.alpha + self.beta)
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
pub fn fit_beta(groups: &[(f64, f64)]) -> BetaPrior {
    let used: Vec<(f64, f64)> =
        groups.iter().filter(|g| g.1 > 0.0 && g.0 <= g.1 + 1e-9).copied().collect();
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

/// ln Γ(x) for x > 0 (Lanczos approximation, |error| < 2e-10).
pub fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 6] = [
        76.180_091_729_471_46,
        -86.505_320_329_416_77,
        24.014_098_240_830_91,
        -1.231_739_572_450_155,
        0.001_208_650_973_866_179,
        -0.000_005_395_239_384_953,
    ];
    let tmp = x + 5.5 - (x + 0.5) * (x + 5.5).ln();
    let mut ser = 1.000_000_000_190_015;
    for (j, g) in G.iter().enumerate() {
        ser += g / (x + 1.0 + j as f64);
    }
    -tmp + (2.506_628_274_631_000_5 * ser / x).ln()
}

/// The regularized incomplete beta function I_x(a, b): the CDF of Beta(a, b) at x.
pub fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        (ln_front.exp() * beta_fraction(x, a, b) / a).clamp(0.0, 1.0)
    } else {
        (1.0 - ln_front.exp() * beta_fraction(1.0 - x, b, a) / b).clamp(0.0, 1.0)
    }
}

/// Lentz's continued fraction for the incomplete beta function.
fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-12 {
            break;
        }
    }
    h
}

/// The regularized lower incomplete gamma P(a, x): the CDF of Gamma(shape a, rate 1) at x.
pub fn gamma_cdf(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let ln_front = -x + a * x.ln() - ln_gamma(a);
    if x < a + 1.0 {
        let (mut sum, mut term, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..1000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-14 {
                break;
            }
        }
        (sum * ln_front.exp()).clamp(0.0, 1.0)
    } else {
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            d = if d.abs() < TINY { TINY } else { d };
            c = b + an / c;
            c = if c.abs() < TINY { TINY } else { c };
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-14 {
                break;
            }
        }
        (1.0 - ln_front.exp() * h).clamp(0.0, 1.0)
    }
}

/// The central credible interval of Beta(a, b) holding `mass` of it (0.8 for "likely"), by
/// bisection on the CDF.
pub fn beta_interval(a: f64, b: f64, mass: f64) -> (f64, f64) {
    let tail = (1.0 - mass) / 2.0;
    let at = |p: f64| bisect(0.0, 1.0, |x| beta_cdf(x, a, b) - p);
    (at(tail), at(1.0 - tail))
}

/// The central credible interval of Gamma(shape a, rate r) holding `mass` of it.
pub fn gamma_interval(a: f64, r: f64, mass: f64) -> (f64, f64) {
    let tail = (1.0 - mass) / 2.0;
    let top = (a + 10.0 * a.sqrt() + 10.0) / r;
    let at = |p: f64| bisect(0.0, top, |x| gamma_cdf(a, x * r) - p);
    (at(tail), at(1.0 - tail))
}

/// The root of an increasing function on [lo, hi], to 1e-9.
fn bisect(mut lo: f64, mut hi: f64, f: impl Fn(f64) -> f64) -> f64 {
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if f(mid) < 0.0 {
            lo = mid
        } else {
            hi = mid
        }
        if hi - lo < 1e-9 {
            break;
        }
    }
    (lo + hi) / 2.0
}

fn ln_beta_pdf(x: f64, a: f64, b: f64) -> f64 {
    (a - 1.0) * x.ln() + (b - 1.0) * (1.0 - x).ln() + ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b)
}

/// P(X > Y) for independent X ~ Beta(ax, bx) and Y ~ Beta(ay, by), by integrating
/// pdf_X · CDF_Y over a fine grid (midpoint rule).
pub fn prob_beta_greater(ax: f64, bx: f64, ay: f64, by: f64) -> f64 {
    const STEPS: usize = 2000;
    let h = 1.0 / STEPS as f64;
    (0..STEPS)
        .map(|i| {
            let x = (i as f64 + 0.5) * h;
            ln_beta_pdf(x, ax, bx).exp() * beta_cdf(x, ay, by) * h
        })
        .sum::<f64>()
        .clamp(0.0, 1.0)
}

/// The standard normal CDF (Abramowitz–Stegun 7.1.26 through erf, |error| < 1.5e-7).
pub fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 { 0.5 * (1.0 + erf) } else { 0.5 * (1.0 - erf) }
}

/// A discrete prior over a grid of rates, fitted to peer groups by nonparametric maximum
/// likelihood (the Kiefer–Wolfowitz estimator, by EM). Unlike a Beta prior it can put weight on
/// a small group of peers far from the rest (reps with a real weakness), so that predictions
/// for the others are not dragged toward them.
#[derive(Debug, Clone)]
pub struct GridPrior {
    grid: Vec<f64>,
    weights: Vec<f64>,
    poisson: bool,
}

/// A posterior over the grid: its mean and variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridPosterior {
    pub mean: f64,
    pub variance: f64,
}

const GRID_POINTS: usize = 200;
const EM_ROUNDS: usize = 300;

impl GridPrior {
    /// Fits rates (k of n) across groups.
    pub fn fit_binomial(groups: &[(f64, f64)]) -> GridPrior {
        let grid: Vec<f64> =
            (0..GRID_POINTS).map(|g| (g as f64 + 0.5) / GRID_POINTS as f64).collect();
        let used: Vec<(f64, f64)> =
            groups.iter().copied().filter(|g| g.1 > 0.0 && g.0 <= g.1 + 1e-9).collect();
        GridPrior::fit(grid, &used, false)
    }

    /// Fits volumes (k events over n months, Poisson) across groups: the nonparametric
    /// counterpart of diagnose's Gamma–Poisson, so that a rep with a real volume weakness is
    /// not predicted to bounce back to the middle.
    pub fn fit_poisson(groups: &[(f64, f64)]) -> GridPrior {
        let used: Vec<(f64, f64)> =
            groups.iter().copied().filter(|g| g.1 > 0.0 && g.0 >= 0.0).collect();
        let top = used.iter().map(|(k, n)| k / n).fold(1.0, f64::max) * 1.5 + 1.0;
        let grid: Vec<f64> =
            (0..GRID_POINTS).map(|g| top * (g as f64 + 0.5) / GRID_POINTS as f64).collect();
        GridPrior::fit(grid, &used, true)
    }

    fn fit(grid: Vec<f64>, used: &[(f64, f64)], poisson: bool) -> GridPrior {
        let mut weights = vec![1.0 / GRID_POINTS as f64; GRID_POINTS];
        if used.is_empty() {
            return GridPrior { grid, weights, poisson };
        }
        let lik: Vec<Vec<f64>> =
            used.iter().map(|&(k, n)| likelihoods(&grid, k, n, poisson)).collect();
        let mut next = vec![0.0; GRID_POINTS];
        for _ in 0..EM_ROUNDS {
            next.iter_mut().for_each(|x| *x = 0.0);
            for row in &lik {
                let total: f64 = row.iter().zip(&weights).map(|(l, w)| l * w).sum();
                if total > 0.0 {
                    for ((acc, l), w) in next.iter_mut().zip(row).zip(&weights) {
                        *acc += l * w / total;
                    }
                }
            }
            for (w, x) in weights.iter_mut().zip(&next) {
                *w = x / used.len() as f64;
            }
        }
        GridPrior { grid, weights, poisson }
    }

    pub fn posterior(&self, k: f64, n: f64) -> GridPosterior {
        let lik = likelihoods(&self.grid, k, n, self.poisson);
        let probs: Vec<f64> = lik.iter().zip(&self.weights).map(|(l, w)| l * w).collect();
        let total: f64 = probs.iter().sum();
        if total <= 0.0 {
            let p = if n > 0.0 { k / n } else { 0.5 };
            let variance = if self.poisson { p / n.max(1.0) } else { p * (1.0 - p) / n.max(1.0) };
            return GridPosterior { mean: p, variance };
        }
        let mean = self.grid.iter().zip(&probs).map(|(g, p)| g * p).sum::<f64>() / total;
        let variance =
            self.grid.iter().zip(&probs).map(|(g, p)| (g - mean).powi(2) * p).sum::<f64>() / total;
        GridPosterior { mean, variance }
    }
}

/// Likelihoods of k of n (binomial) or k over n months (Poisson) at each grid value, scaled
/// to a maximum of 1.
fn likelihoods(grid: &[f64], k: f64, n: f64, poisson: bool) -> Vec<f64> {
    let ll: Vec<f64> = grid
        .iter()
        .map(|&x| {
            if poisson {
                k * x.ln() - n * x
            } else {
                k * x.ln() + (n - k).max(0.0) * (1.0 - x).ln()
            }
        })
        .collect();
    let m = ll.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    ll.iter().map(|l| (l - m).exp()).collect()
}

/// A quantile by linear interpolation between order statistics (q in [0, 1]).
pub fn quantile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let pos = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(values[lo] + (values[hi] - values[lo]) * (pos - lo as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credible_intervals_hand_computed() {
        // Beta(1, 1) is uniform: its central 80% is 0.1–0.9. Beta(2, 1) has CDF x²: √0.1–√0.9.
        let (lo, hi) = beta_interval(1.0, 1.0, 0.8);
        assert!((lo - 0.1).abs() < 1e-6 && (hi - 0.9).abs() < 1e-6, "{lo} {hi}");
        let (lo, hi) = beta_interval(2.0, 1.0, 0.8);
        assert!((lo - 0.1f64.sqrt()).abs() < 1e-6 && (hi - 0.9f64.sqrt()).abs() < 1e-6);
        // Gamma(1, rate 2) is exponential with mean 1/2: quantiles −ln(1 − p)/2.
        let (lo, hi) = gamma_interval(1.0, 2.0, 0.8);
        assert!((lo - -(0.9f64.ln()) / 2.0).abs() < 1e-6, "{lo}");
        assert!((hi - -(0.1f64.ln()) / 2.0).abs() < 1e-6, "{hi}");
    }

    #[test]
    fn wilson_hand_computed() {
        // 5 of 10: centre 0.5, half-width 1.96*sqrt(.025+.0096)/1.384 = 0.2634 (hand computed).
        let (lo, hi) = wilson(5.0, 10.0).unwrap();
        assert!((lo - 0.2366).abs() < 1e-3 && (hi - 0.7634).abs() < 1e-3, "{lo} {hi}");
        let (lo, hi) = wilson(0.0, 4.0).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - 0.4899).abs() < 1e-3, "{hi}");
        assert_eq!(wilson(0.0, 0.0), None);
        assert_eq!(wilson(3.0, 2.0), None);
    }

    #[test]
    fn shrinkage_pulls_small_groups_harder() {
        let peers = [(30.0, 100.0), (50.0, 100.0), (40.0, 100.0), (45.0, 100.0), (35.0, 100.0)];
        let prior = fit_beta(&peers);
        assert!((prior.mean() - 0.40).abs() < 1e-9);
        let small = prior.posterior_mean(1.0, 2.0);
        let big = prior.posterior_mean(50.0, 100.0);
        assert!((small - 0.40).abs() < (0.5f64 - 0.40).abs());
        assert!((big - 0.5).abs() < (small - 0.5).abs());
    }

    #[test]
    fn identical_peers_give_a_strong_prior_and_few_peers_a_weak_one() {
        let same = fit_beta(&[(40.0, 100.0); 6]);
        assert_eq!(same.alpha + same.beta, MAX_STRENGTH);
        let few = fit_beta(&[(1.0, 2.0)]);
        assert_eq!(few.alpha + few.beta, MIN_STRENGTH);
        let none = fit_beta(&[(0.0, 0.0)]);
        assert_eq!(none, BetaPrior { alpha: 1.0, beta: 1.0 });
    }

    #[test]
    fn beta_and_gamma_cdfs_hand_checked() {
        // Beta(1, 1) is uniform; Beta(2, 1) has CDF x².
        assert!((beta_cdf(0.3, 1.0, 1.0) - 0.3).abs() < 1e-9);
        assert!((beta_cdf(0.5, 2.0, 1.0) - 0.25).abs() < 1e-9);
        // Beta(2, 3) at 0.4: 1 - (1-x)^4 - 4x(1-x)^3 = 0.5248.
        assert!((beta_cdf(0.4, 2.0, 3.0) - 0.5248).abs() < 1e-9);
        assert!((beta_cdf(0.5, 40.0, 40.0) - 0.5).abs() < 1e-9);
        // Gamma(1) is exponential: 1 - e^-x; Gamma(2): 1 - e^-x (1 + x).
        assert!((gamma_cdf(1.0, 0.7) - (1.0 - (-0.7f64).exp())).abs() < 1e-9);
        assert!((gamma_cdf(2.0, 3.0) - (1.0 - (-3.0f64).exp() * 4.0)).abs() < 1e-9);
        assert!((gamma_cdf(50.0, 50.0) - 0.518_8).abs() < 1e-3);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-9);
    }

    #[test]
    fn comparing_two_rates() {
        // Identical posteriors: one half.
        assert!((prob_beta_greater(5.0, 5.0, 5.0, 5.0) - 0.5).abs() < 1e-3);
        // 30 of 40 against 10 of 40: almost surely greater.
        assert!(prob_beta_greater(31.0, 11.0, 11.0, 31.0) > 0.999);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.96) - 0.975).abs() < 1e-4);
        assert!((normal_cdf(-1.0) - 0.158_655).abs() < 1e-5);
    }

    #[test]
    fn grid_prior_keeps_a_real_outlier_and_shrinks_noise() {
        // 90 peers at about 50%, 10 at about 20%, 40 deals each.
        let mut groups: Vec<(f64, f64)> = (0..90).map(|i| ((18 + (i % 5)) as f64, 40.0)).collect();
        groups.extend((0..10).map(|i| ((7 + (i % 3)) as f64, 40.0)));
        let prior = GridPrior::fit_binomial(&groups);
        assert!(prior.posterior(8.0, 40.0).mean < 0.3);
        assert!(prior.posterior(0.0, 2.0).mean > 0.2, "two deals say little");
        assert!(prior.posterior(20.0, 40.0).variance < 0.01);
    }

    #[test]
    fn quantiles() {
        assert_eq!(quantile(&mut [1.0, 2.0, 3.0, 4.0, 5.0], 0.75), Some(4.0));
        assert_eq!(quantile(&mut [1.0, 2.0], 0.5), Some(1.5));
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }
}
