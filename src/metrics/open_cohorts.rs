//! Step-up rates of cohorts whose deals are still open.
//!
//! At the month end most deals of the newest cohorts are undecided. Counting them as failures
//! understates the rate; dropping them overstates it, because lost deals take longer to be
//! closed than won ones. The rate of a transition s → s+1 is instead the probability that a
//! deal entering s reaches s+1 within the window W, estimated from what is known at as-of.
//!
//! **Timing.** For each transition, the Aalen–Johansen estimator of the cumulative incidence
//! of conversion and of loss (competing risks, right-censored at each open deal's age) is
//! computed over every deal that entered s, in days since entry. It gives the pooled
//! probability of converting within W, the share of converters that convert by each age, and
//! the share of non-converters already decided (lost) by each age. Aalen–Johansen is unbiased
//! under independent censoring and needs no parametric lag model; a chain-ladder completion
//! would need complete development triangles, which a young org does not have.
//!
//! **Level.** A group's own probability p is then estimated from its cohort with those timing
//! curves held fixed: a converted deal counts p, a decided non-converter 1 − p, and a deal open
//! at age a counts p·u(a) + (1 − p)·v(a), where u(a) is the share of converters not yet
//! converted at that age and v(a) the share of non-converters not yet decided. p is found by EM
//! (each open deal a partial conversion, weighted by the posterior that it will convert), with
//! a prior worth [`PRIOR_DEALS`] deals at the pooled rate, so that two days of waiting on two
//! deals is not read as a 0% rep.
//!
//! **Rate.** The cohort's rate is then completed as in Bornhuetter–Ferguson: decided deals
//! count as they ended, and each open deal counts its probability of stepping up given its age
//! and that p. With nothing open this is exactly converted / entered; with only brand-new deals
//! it is the pooled rate.
//!
//! **Uncertainty.** The 95% interval is the equal-tailed credible interval of the same
//! likelihood under a Jeffreys prior, on a grid: open deals widen it by exactly what they do
//! not yet tell. The effective number of observations (for shrinkage and for weighting months)
//! is the one whose binomial posterior would have the same variance.

/// Outcomes of the deals that entered one stage, by day since entry, for one transition.
#[derive(Debug, Clone)]
pub struct LagCounts {
    window: usize,
    converted: Vec<u64>,
    lost: Vec<u64>,
    censored: Vec<u64>,
    /// Deals still undecided (or decided only after the window) at day `window`.
    survived: u64,
    /// Deals that stepped up at a time the export does not have (a stage a snapshot implies):
    /// they count, but their timing is taken from the dated ones, never as zero days.
    converted_undated: u64,
}

impl LagCounts {
    pub fn new(window_days: u32) -> LagCounts {
        let w = window_days as usize;
        LagCounts {
            window: w,
            converted: vec![0; w + 1],
            lost: vec![0; w + 1],
            censored: vec![0; w + 1],
            survived: 0,
            converted_undated: 0,
        }
    }

    fn day(&self, days: f64) -> usize {
        (days.max(0.0).floor() as usize).min(self.window)
    }

    /// A deal that stepped up `days` after entering (within the window).
    pub fn converted(&mut self, days: f64) {
        let d = self.day(days);
        self.converted[d] += 1;
    }

    /// A deal that stepped up within the window at a time the export does not say.
    pub fn converted_undated(&mut self) {
        self.converted_undated += 1;
    }

    /// A deal lost `days` after entering, without stepping up.
    pub fn lost(&mut self, days: f64) {
        if days > self.window as f64 {
            self.survived += 1;
        } else {
            let d = self.day(days);
            self.lost[d] += 1;
        }
    }

    /// A deal still open at as-of, `days` after entering.
    pub fn open(&mut self, days: f64) {
        if days >= self.window as f64 {
            self.survived += 1;
        } else {
            let d = self.day(days);
            self.censored[d] += 1;
        }
    }

    pub fn add(&mut self, o: &LagCounts) {
        for (a, b) in self.converted.iter_mut().zip(&o.converted) {
            *a += b;
        }
        for (a, b) in self.lost.iter_mut().zip(&o.lost) {
            *a += b;
        }
        for (a, b) in self.censored.iter_mut().zip(&o.censored) {
            *a += b;
        }
        self.survived += o.survived;
        self.converted_undated += o.converted_undated;
    }
}

/// The timing of one transition's outcomes, learned from every deal that entered the stage.
#[derive(Debug, Clone, PartialEq)]
pub struct LagModel {
    pub window: u32,
    /// Pooled probability of stepping up within the window.
    pub p: f64,
    /// u[d]: share of converters not yet converted when a deal is d days old.
    pub u: Vec<f64>,
    /// v[d]: share of non-converters not yet decided when a deal is d days old.
    pub v: Vec<f64>,
    /// Median days from entry to stepping up, among converters.
    pub convert_days_median: Option<f64>,
    /// Median days from entry to being lost, among deals lost within the window.
    pub lost_days_median: Option<f64>,
}

impl LagModel {
    /// Aalen–Johansen cumulative incidence of conversion and loss, day by day.
    pub fn fit(c: &LagCounts) -> LagModel {
        let w = c.window;
        let dated: u64 = c.converted.iter().sum();
        // Undated step-ups follow the dated ones' timing, or spread over the window when none
        // is dated: their time is unknown, not zero.
        let converted: Vec<f64> = (0..=w)
            .map(|d| {
                let spread = match dated {
                    0 => c.converted_undated as f64 / (w + 1) as f64,
                    n => c.converted_undated as f64 * c.converted[d] as f64 / n as f64,
                };
                c.converted[d] as f64 + spread
            })
            .collect();
        let total: u64 = c.converted.iter().chain(&c.lost).chain(&c.censored).sum::<u64>()
            + c.survived
            + c.converted_undated;
        let mut at_risk = total as f64;
        let mut surv = 1.0;
        let (mut cif_c, mut cif_l) = (vec![0.0; w + 1], vec![0.0; w + 1]);
        let (mut acc_c, mut acc_l) = (0.0, 0.0);
        // Daily hazards over the days observed, for a tail the data does not reach.
        let (mut exposure, mut events_c, mut events_l) = (0.0, 0.0, 0.0);
        for d in 0..=w {
            let (dc, dl) = (converted[d], c.lost[d] as f64);
            if at_risk > 0.0 {
                acc_c += surv * dc / at_risk;
                acc_l += surv * dl / at_risk;
                surv *= 1.0 - (dc + dl) / at_risk;
                exposure += at_risk;
                events_c += dc;
                events_l += dl;
            } else if exposure > 0.0 && surv > 0.0 {
                // The data does not reach this far (a young org, or a window longer than the
                // history): the last days' risks carry on at the average daily hazards seen
                // so far, rather than stopping, which would read every open deal as decided.
                let (hc, hl) = (events_c / exposure, events_l / exposure);
                acc_c += surv * hc;
                acc_l += surv * hl;
                surv *= (1.0 - hc - hl).max(0.0);
            }
            cif_c[d] = acc_c;
            cif_l[d] = acc_l;
            at_risk -= dc + dl + c.censored[d] as f64;
        }
        let p = cif_c[w];
        let before = |cif: &[f64], d: usize| if d == 0 { 0.0 } else { cif[d - 1] };
        let u = (0..=w)
            .map(|d| if p > 0.0 { (1.0 - before(&cif_c, d) / p).clamp(0.0, 1.0) } else { 1.0 })
            .collect();
        let v =
            (0..=w)
                .map(|d| {
                    if p < 1.0 {
                        (1.0 - before(&cif_l, d) / (1.0 - p)).clamp(0.0, 1.0)
                    } else {
                        1.0
                    }
                })
                .collect();
        LagModel {
            window: w as u32,
            p,
            u,
            v,
            // A median of spread-out undated times would be made up.
            convert_days_median: if dated > 0 { median_day(&cif_c) } else { None },
            lost_days_median: median_day(&cif_l),
        }
    }

    /// The chance that a deal still open `day` days after entering steps up within the window.
    pub fn step_given_open(&self, day: usize) -> f64 {
        let (u, v) = self.open_at(day);
        let (yes, no) = (self.p * u, (1.0 - self.p) * v);
        if yes + no > 0.0 { yes / (yes + no) } else { 0.0 }
    }

    /// The (u, v) of a deal open `days` after entering.
    fn open_at(&self, day: usize) -> (f64, f64) {
        let d = day.min(self.window as usize);
        (self.u[d], self.v[d])
    }
}

/// The first day by which half of an incidence curve's final mass is reached.
fn median_day(cif: &[f64]) -> Option<f64> {
    let last = *cif.last()?;
    if last <= 0.0 {
        return None;
    }
    cif.iter().position(|&x| x >= last / 2.0).map(|d| d as f64)
}

/// A cohort's estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub rate: f64,
    pub low: f64,
    pub high: f64,
    /// Observations the estimate is worth (equal to entered when nothing is open).
    pub effective_n: f64,
}

/// Open deals of a cohort as (age in days, count).
pub type OpenAges = [(u32, u32)];

const GRID: usize = 64;

/// The weight, in deals, of the pooled rate when a cohort's own level is estimated for its
/// open deals.
pub const PRIOR_DEALS: f64 = 4.0;

/// Estimates a cohort's rate: `converted` stepped up within the window, `decided_no` were lost
/// or passed the window without stepping up, and `open` are still undecided. `None` when the
/// cohort is empty. Nothing open: exactly converted / entered with the Wilson interval.
pub fn estimate(
    model: &LagModel,
    converted: u64,
    decided_no: u64,
    open: &OpenAges,
) -> Option<Estimate> {
    let n_open: u64 = open.iter().map(|o| o.1 as u64).sum();
    let n = converted + decided_no + n_open;
    if n == 0 {
        return None;
    }
    if n_open == 0 {
        let (k, n) = (converted as f64, n as f64);
        let (low, high) = crate::metrics::stats::wilson(k, n).unwrap_or((0.0, 1.0));
        return Some(Estimate { rate: k / n, low, high, effective_n: n });
    }
    let terms: Vec<(f64, f64, f64)> = open
        .iter()
        .map(|&(age, count)| {
            let (u, v) = model.open_at(age as usize);
            (u, v, count as f64)
        })
        .collect();
    let (c, no) = (converted as f64, decided_no as f64);
    let level = em(model.p, c, &terms, n as f64);
    let rate = (c + expected_conversions(level, &terms)) / n as f64;
    let (low, high, effective_n) = credible(level, c, no, &terms, n as f64);
    Some(Estimate { rate, low: low.min(rate), high: high.max(rate), effective_n })
}

/// The open deals' expected conversions at level p: each converts with the posterior
/// probability p·u / (p·u + (1 − p)·v) given that it is still open at its age.
fn expected_conversions(p: f64, open: &[(f64, f64, f64)]) -> f64 {
    open.iter()
        .map(|&(u, v, w)| {
            let d = p * u + (1.0 - p) * v;
            if d > 0.0 { w * p * u / d } else { w * p }
        })
        .sum()
}

/// The cohort's level p by EM, with the pooled rate worth [`PRIOR_DEALS`] deals.
fn em(pooled: f64, c: f64, open: &[(f64, f64, f64)], n: f64) -> f64 {
    let prior = pooled.clamp(1e-6, 1.0 - 1e-6);
    let mut p = prior;
    for _ in 0..200 {
        let next = (c + expected_conversions(p, open) + PRIOR_DEALS * prior) / (n + PRIOR_DEALS);
        let done = (next - p).abs() < 1e-9;
        p = next;
        if done {
            break;
        }
    }
    p.clamp(0.0, 1.0)
}

/// The 95% equal-tailed credible interval under a Jeffreys prior, and the effective number of
/// observations whose Beta posterior has the same variance.
fn credible(centre: f64, c: f64, no: f64, open: &[(f64, f64, f64)], n: f64) -> (f64, f64, f64) {
    // The grid spans ±12 standard deviations of what the decided deals alone would allow (open
    // deals only narrow it), so that a large cohort's posterior is resolved, not lost inside
    // one cell of a fixed grid.
    let decided = (c + no).max(1.0);
    let sd = (centre * (1.0 - centre)).max(0.01).sqrt() / decided.sqrt();
    let (lo, hi) = ((centre - 12.0 * sd).max(0.0), (centre + 12.0 * sd).min(1.0));
    let width = (hi - lo) / GRID as f64;
    let xs: Vec<f64> = (0..GRID).map(|i| lo + (i as f64 + 0.5) * width).collect();
    let log_post: Vec<f64> = xs
        .iter()
        .map(|&p| {
            let mut l = (c - 0.5) * p.ln() + (no - 0.5) * (1.0 - p).ln();
            for &(u, v, w) in open {
                l += w * (p * u + (1.0 - p) * v).max(1e-300).ln();
            }
            l
        })
        .collect();
    let top = log_post.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = log_post.iter().map(|l| (l - top).exp()).collect();
    let total: f64 = weights.iter().sum();
    let mean = xs.iter().zip(&weights).map(|(x, w)| x * w).sum::<f64>() / total;
    let var = xs.iter().zip(&weights).map(|(x, w)| (x - mean).powi(2) * w).sum::<f64>() / total;
    // Each grid cell's mass spread evenly across it, for quantiles between grid points.
    let quantile = |q: f64| {
        let mut acc = 0.0;
        for (i, w) in weights.iter().enumerate() {
            let next = acc + w / total;
            if next >= q {
                let within = if *w > 0.0 { (q - acc) / (w / total) } else { 0.5 };
                return lo + (i as f64 + within) * width;
            }
            acc = next;
        }
        hi
    };
    let effective = if var > 0.0 { (mean * (1.0 - mean) / var - 2.0).clamp(0.0, n) } else { n };
    // As with the Jeffreys interval for 0 of n (Brown, Cai & DasGupta 2001), a likelihood that
    // is largest at a boundary gives that boundary as the bound, not a point just inside it.
    let likelihood = |i: usize| log_post[i] + 0.5 * (xs[i].ln() + (1.0 - xs[i]).ln());
    let best = (0..GRID).max_by(|&a, &b| likelihood(a).total_cmp(&likelihood(b))).unwrap_or(0);
    let low = if best == 0 && lo == 0.0 { 0.0 } else { quantile(0.025) };
    let high = if best == GRID - 1 && hi == 1.0 { 1.0 } else { quantile(0.975) };
    (low, high, effective)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_of(counts: &LagCounts) -> LagModel {
        LagModel::fit(counts)
    }

    #[test]
    fn aalen_johansen_without_censoring_is_the_empirical_share() {
        let mut c = LagCounts::new(10);
        for d in [1.0, 2.0, 2.0, 5.0] {
            c.converted(d);
        }
        for d in [3.0, 8.0] {
            c.lost(d);
        }
        for _ in 0..4 {
            c.open(30.0);
        }
        let m = model_of(&c);
        assert!((m.p - 0.4).abs() < 1e-12, "4 of 10 converted: {}", m.p);
        // Converters: 1 by day 1, 3 by day 2, 4 by day 5.
        assert!((m.u[2] - 0.75).abs() < 1e-12, "{:?}", m.u);
        assert!((m.u[3] - 0.25).abs() < 1e-12);
        assert_eq!(m.u[6], 0.0);
        // Non-converters (6): one lost by day 3, one by day 8, four never within the window.
        assert!((m.v[4] - 5.0 / 6.0).abs() < 1e-12, "{:?}", m.v);
        assert!((m.v[9] - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(m.convert_days_median, Some(2.0));
    }

    #[test]
    fn a_small_censored_case_by_hand() {
        // Day 0: 4 at risk, 1 converts. Day 1: 3 at risk, 1 open deal censored.
        // Day 2: 2 at risk, 1 converts, 1 is lost. Window 2 days.
        let mut c = LagCounts::new(2);
        c.converted(0.0);
        c.open(1.0);
        c.converted(2.0);
        c.lost(2.0);
        let m = model_of(&c);
        // S after day 0 = 3/4; day 1 nothing happens; day 2: CIF_c += 3/4 · 1/2 = 3/8.
        assert!((m.p - (0.25 + 0.375)).abs() < 1e-12, "{}", m.p);
        // At day 1 a converter has converted with probability (1/4)/(5/8) = 0.4.
        assert!((m.u[1] - 0.6).abs() < 1e-12, "{:?}", m.u);
    }

    #[test]
    fn a_window_longer_than_the_history_carries_the_hazards_on() {
        // Every deal is censored by day 20 of a 60-day window: half step up by then.
        let mut c = LagCounts::new(60);
        for d in 0..20 {
            c.converted(d as f64);
            c.open(20.0);
        }
        let m = model_of(&c);
        assert!(m.p > 0.6, "steps keep coming after day 20: {}", m.p);
        // A deal open at day 19 still has a real chance.
        assert!(m.u[19] > 0.2, "{:?}", &m.u[15..25]);
    }

    #[test]
    fn nothing_open_is_exactly_converted_over_entered() {
        let m = model_of(&LagCounts::new(30));
        let e = estimate(&m, 7, 13, &[]).unwrap();
        assert_eq!(e.rate, 0.35);
        assert_eq!(e.effective_n, 20.0);
        let (lo, hi) = crate::metrics::stats::wilson(7.0, 20.0).unwrap();
        assert_eq!((e.low, e.high), (lo, hi));
        assert!(estimate(&m, 0, 0, &[]).is_none());
    }

    #[test]
    fn only_brand_new_deals_give_the_pooled_rate_and_no_information() {
        let mut c = LagCounts::new(30);
        for _ in 0..3 {
            c.converted(5.0);
        }
        for _ in 0..7 {
            c.lost(20.0);
        }
        let m = model_of(&c);
        let e = estimate(&m, 0, 0, &[(0, 12)]).unwrap();
        assert!((e.rate - 0.3).abs() < 1e-9, "{}", e.rate);
        assert!(e.effective_n < 0.5, "{}", e.effective_n);
        assert!(e.low < 0.1 && e.high > 0.9, "{e:?}");
    }

    #[test]
    fn a_large_cohort_keeps_a_narrow_interval_and_its_open_share() {
        let mut c = LagCounts::new(30);
        for d in 0..300 {
            c.converted((d % 10) as f64);
        }
        for d in 0..9700 {
            c.lost((d % 30) as f64);
        }
        let m = model_of(&c);
        let e = estimate(&m, 150, 4850, &[(5, 1000)]).unwrap();
        assert!(e.effective_n < 6000.0 && e.effective_n > 5000.0, "{}", e.effective_n);
        assert!(e.high - e.low < 0.02 && e.low < e.rate && e.rate < e.high, "{e:?}");
    }

    #[test]
    fn an_old_open_deal_reads_as_a_likely_loss() {
        // Converters all convert by day 5; losses come late (days 20 to 29).
        let mut c = LagCounts::new(30);
        for d in 0..40 {
            c.converted((d % 5) as f64);
        }
        for d in 0..60 {
            c.lost(20.0 + (d % 10) as f64);
        }
        let m = model_of(&c);
        assert!((m.p - 0.4).abs() < 1e-12);
        // 4 converted, 4 lost, 2 open at day 10: past every conversion, before every loss.
        let e = estimate(&m, 4, 4, &[(10, 2)]).unwrap();
        assert!(
            (e.rate - 0.4).abs() < 1e-9,
            "open deals past the conversions are losses: {}",
            e.rate
        );
        // Open at day 1 they still carry most of their chance: the rate sits above 4/10.
        let young = estimate(&m, 4, 4, &[(1, 2)]).unwrap();
        assert!(young.rate > 0.45, "{}", young.rate);
        assert!(young.effective_n < 10.0 && young.effective_n > 7.0, "{}", young.effective_n);
    }
}
