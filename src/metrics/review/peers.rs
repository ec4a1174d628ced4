//! Prediction without coaching and the matched uncoached peers a plan is compared with.

use super::windows::{RepMonths, WindowCounts};
use crate::metrics::stats::GridPrior;
use crate::model::lever::LeverId;

/// What a peer needs in each window: deals for a rate, a month for a volume.
fn min_n(binomial: bool) -> f64 {
    if binomial { super::outcome::MIN_PEER_N } else { 1.0 }
}

/// The prediction of a rep's later value from their baseline, without coaching: the posterior
/// mean under a nonparametric prior fitted across all reps' baselines on the lever (binomial
/// for rates, Poisson for volumes), so that a rep who is really weak is predicted to stay weak,
/// and one who was only unlucky to bounce back. Returns (prediction, its variance).
pub(super) struct Predictor(GridPrior);

impl Predictor {
    fn fit(groups: &[WindowCounts], binomial: bool) -> Predictor {
        let obs: Vec<(f64, f64)> = groups.iter().map(|c| (c.k, c.n)).collect();
        Predictor(if binomial {
            GridPrior::fit_binomial(&obs)
        } else {
            GridPrior::fit_poisson(&obs)
        })
    }

    pub(super) fn predict(&self, c: WindowCounts) -> (f64, f64) {
        let p = self.0.posterior(c.k, c.n);
        (p.mean, p.variance)
    }
}

/// baseline, their residual after, and its variance.
pub(super) struct Peer {
    pub(super) rep: String,
    pub(super) expected: f64,
    pub(super) residual: f64,
    pub(super) variance: f64,
    /// Enough deals (or months) in both windows to be preferred as a control.
    pub(super) sized: bool,
}

/// The predictor and the candidate peers of one (lever, before window, after window): built
/// once and shared by every plan with those windows.
pub(super) struct Cohort {
    pub(super) predictor: Predictor,
    pub(super) peers: Vec<Peer>,
}

#[derive(Default)]
pub(super) struct Cohorts {
    built: std::collections::HashMap<(LeverId, Vec<String>, Vec<String>), std::rc::Rc<Cohort>>,
}

impl Cohorts {
    pub(super) fn get_or_build(
        &mut self,
        data: &RepMonths,
        lever: &LeverId,
        before: &[String],
        after: &[String],
        binomial: bool,
    ) -> std::rc::Rc<Cohort> {
        let key = (lever.clone(), before.to_vec(), after.to_vec());
        if let Some(c) = self.built.get(&key) {
            return c.clone();
        }
        let baselines: Vec<(&str, WindowCounts)> = data
            .reps
            .iter()
            .filter_map(|r| data.counts(r, lever, before).filter(|c| c.n > 0.0).map(|c| (*r, c)))
            .collect();
        let predictor =
            Predictor::fit(&baselines.iter().map(|(_, c)| *c).collect::<Vec<_>>(), binomial);
        let peers = baselines
            .iter()
            .filter_map(|(r, b)| {
                let a = data.counts(r, lever, after)?;
                (a.n > 0.0).then(|| {
                    let (e, var_e) = predictor.predict(*b);
                    Peer {
                        rep: r.to_string(),
                        expected: e,
                        residual: a.k / a.n - e,
                        variance: a.variance(binomial) + var_e,
                        sized: b.n >= min_n(binomial) && a.n >= min_n(binomial),
                    }
                })
            })
            .collect();
        let cohort = std::rc::Rc::new(Cohort { predictor, peers });
        self.built.insert(key, cohort.clone());
        cohort
    }
}
