//! Verification of coaching plans: the target indicator before and after, the probability it
//! improved, and a difference-in-differences against matched uncoached peers, so that a worst
//! step bouncing back on its own (regression to the mean) is not credited to coaching.

use crate::metrics::funnel::FunnelRow;
use crate::metrics::stats::{GridPrior, normal_cdf, prob_beta_greater, wilson};
use crate::model::plans::Plan;
use crate::model::rules::Rule;
use crate::model::time::{Period, PeriodKind};
use crate::model::values::Verdict;
use std::collections::{BTreeMap, BTreeSet};

/// How many uncoached peers, nearest by baseline, a plan is compared with.
pub const MATCHED_PEERS: usize = 5;
/// Deals (or months) a peer needs in each window to count.
pub const MIN_PEER_N: f64 = 5.0;

/// What a peer needs in each window: deals for a rate, a month for a volume.
fn min_n(binomial: bool) -> f64 {
    if binomial { MIN_PEER_N } else { 1.0 }
}

/// One plan's outcome.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PlanReview {
    pub plan_id: String,
    pub rep_id: String,
    /// The rep's name: the roster's, else the ledger's.
    pub rep_name: Option<String>,
    pub manager_id: Option<String>,
    pub focus: String,
    pub period: String,
    pub review_period: String,
    pub baseline_rate: Option<f64>,
    pub baseline_n: u64,
    pub after_rate: Option<f64>,
    pub after_n: u64,
    pub change: Option<f64>,
    pub p_improved: Option<f64>,
    /// What the baseline alone predicts for the after period (its shrunk value).
    pub expected_after: Option<f64>,
    pub peers: u64,
    /// The matched uncoached peers' mean residual (after − their own prediction).
    pub peer_change: Option<f64>,
    pub effect: Option<f64>,
    pub effect_low: Option<f64>,
    pub effect_high: Option<f64>,
    /// Empty when the plan cannot be reviewed yet.
    pub verdict: Option<Verdict>,
    pub target_reached: Option<bool>,
    pub more_deals_needed: Option<u64>,
    /// An activity indicator the plan's hypothesis reads, before and after: a leading signal
    /// labelled as such, never the verdict.
    pub leading_indicator: Option<String>,
    pub leading_before: Option<f64>,
    pub leading_after: Option<f64>,
    pub note: Option<String>,
    /// `manager` or `director` for a coaching plan (whose person is in `rep_id`).
    pub plan_level: Option<String>,
}

/// A lever's counts for one rep over a window: successes and trials (converted and entered;
/// leads and months; activities and deals).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Counts {
    k: f64,
    n: f64,
}

impl Counts {
    fn rate(self) -> Option<f64> {
        (self.n > 0.0).then(|| self.k / self.n)
    }

    /// Sampling variance of the rate: binomial for rates, Poisson for volumes.
    fn variance(self, binomial: bool) -> f64 {
        let (k, n) = (self.k, self.n.max(1.0));
        let r = k / n;
        if binomial { (r * (1.0 - r)).max(0.25 / n) / n } else { k.max(1.0) / (n * n) }
    }
}

fn months(from: &str, to: &str) -> Vec<String> {
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

fn shift(period: &str, by: i32) -> String {
    Period::parse(PeriodKind::Month, period)
        .map(|p| Period { index: p.index + by, ..p }.label())
        .unwrap_or_default()
}

/// The prediction of a rep's later value from their baseline, without coaching: the posterior
/// mean under a nonparametric prior fitted across all reps' baselines on the lever (binomial
/// for rates, Poisson for volumes), so that a rep who is really weak is predicted to stay weak,
/// and one who was only unlucky to bounce back. Returns (prediction, its variance).
struct Predictor(GridPrior);

impl Predictor {
    fn fit(groups: &[Counts], binomial: bool) -> Predictor {
        let obs: Vec<(f64, f64)> = groups.iter().map(|c| (c.k, c.n)).collect();
        Predictor(if binomial {
            GridPrior::fit_binomial(&obs)
        } else {
            GridPrior::fit_poisson(&obs)
        })
    }

    fn predict(&self, c: Counts) -> (f64, f64) {
        let p = self.0.posterior(c.k, c.n);
        (p.mean, p.variance)
    }
}

/// The rep-level monthly funnel, indexed for window sums.
pub struct RepMonths<'a> {
    rows: BTreeMap<(&'a str, &'a str, &'a str), Vec<&'a FunnelRow>>,
    reps: BTreeSet<&'a str>,
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
        for r in rows.iter().filter(|r| r.level == "rep") {
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

    /// Counts of a lever over some months. Rates count as the month-end estimates are worth
    /// them (effective counts), so a plan can be checked the month after, while its cohorts are
    /// still open; volumes count months from the rep's first month with data.
    fn counts(&self, rep: &str, lever: &str, window: &[String]) -> Option<Counts> {
        let mut c = Counts::default();
        for m in window {
            if let Some((from, to)) = lever.split_once("->") {
                let row = self
                    .rows
                    .get(&(rep, m.as_str(), from))
                    .and_then(|v| v.iter().find(|r| r.to_stage == to));
                if let Some(r) = row {
                    let (k, n) = crate::metrics::funnel::effective_counts(r);
                    c.k += k;
                    c.n += n;
                }
            } else if let Some(stage) = lever.strip_prefix("volume:activity:") {
                let next = self.next_stage(stage)?;
                if let Some(r) = self
                    .rows
                    .get(&(rep, m.as_str(), stage))
                    .and_then(|v| v.iter().find(|r| r.to_stage == next))
                {
                    c.k += r.activities.unwrap_or(0) as f64;
                    c.n += r.entered as f64;
                }
            } else if let Some(stage) = lever.strip_prefix("volume:") {
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
            return self.counts(rep, &format!("volume:{}", self.stages.first()?), window)?.rate();
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

/// A rep who could be a peer on one lever and pair of windows: their prediction from the
/// baseline, their residual after, and its variance.
struct Peer {
    rep: String,
    expected: f64,
    residual: f64,
    variance: f64,
    /// Enough deals (or months) in both windows to be preferred as a control.
    sized: bool,
}

/// The predictor and the candidate peers of one (lever, before window, after window): built
/// once and shared by every plan with those windows.
struct Cohort {
    predictor: Predictor,
    peers: Vec<Peer>,
}

#[derive(Default)]
struct Cohorts {
    built: std::collections::HashMap<(String, Vec<String>, Vec<String>), std::rc::Rc<Cohort>>,
}

impl Cohorts {
    fn get_or_build(
        &mut self,
        data: &RepMonths,
        lever: &str,
        before: &[String],
        after: &[String],
        binomial: bool,
    ) -> std::rc::Rc<Cohort> {
        let key = (lever.to_string(), before.to_vec(), after.to_vec());
        if let Some(c) = self.built.get(&key) {
            return c.clone();
        }
        let baselines: Vec<(&str, Counts)> = data
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

/// What a review run needs besides the plans and the data.
pub struct ReviewSetup<'a> {
    /// The playbook's lever ids: a plan on any other lever cannot be reviewed.
    pub levers: &'a [String],
    /// The playbook's rules, whose hypotheses name the leading indicators.
    pub rules: &'a [Rule],
    pub lookback: u32,
    pub review_month: &'a str,
    /// The roster's people, when a roster was given.
    pub known_reps: Option<&'a BTreeSet<String>>,
}

/// Reviews the plans due by `review_month` that have no outcome yet.
pub fn review(plans: &[Plan], data: &RepMonths, setup: &ReviewSetup) -> Vec<PlanReview> {
    let month = setup.review_month;
    let due: Vec<&Plan> = plans
        .iter()
        // A suggestion is not a plan until the manager agrees it; coaching plans are reviewed
        // by `review_coaching`.
        .filter(|p| p.status != crate::model::values::PlanStatus::Suggested && !p.is_coaching())
        .filter(|p| p.verdict.is_none() || p.reviewed_in.as_deref() == Some(month))
        .filter(|p| !p.review_period.is_empty() && p.review_period.as_str() <= month)
        .collect();
    let mut cohorts = Cohorts::default();
    due.iter().map(|p| review_plan(&mut cohorts, p, plans, data, setup)).collect()
}

fn review_plan(
    cohorts: &mut Cohorts,
    plan: &Plan,
    all: &[Plan],
    data: &RepMonths,
    setup: &ReviewSetup,
) -> PlanReview {
    let (levers, lookback, review_month) = (setup.levers, setup.lookback, setup.review_month);
    let lever = plan.lever().to_string();
    let mut out = PlanReview {
        plan_id: plan.plan_id.clone(),
        rep_id: plan.rep_id.clone(),
        rep_name: plan.rep_name.clone().filter(|n| !n.is_empty()),
        manager_id: plan.manager_id.clone(),
        focus: lever.clone(),
        period: plan.period.clone(),
        review_period: plan.review_period.clone(),
        ..PlanReview::default()
    };
    let mut notes = Vec::new();
    if setup.known_reps.is_some_and(|r| !r.contains(&plan.rep_id)) {
        notes.push("the rep is not in the roster".to_string());
    }
    if !levers.contains(&lever) {
        notes.push(format!("the lever {lever} is no longer in the playbook"));
        out.note = Some(notes.join("; "));
        return out;
    }
    let from = plan.window_from.clone().unwrap_or_else(|| shift(&plan.period, 1 - lookback as i32));
    let before_months = months(&from, &plan.period);
    let after_end = std::cmp::min(review_month.to_string(), shift(&plan.period, lookback as i32));
    let after_months = months(&shift(&plan.period, 1), &after_end);
    let binomial = lever.contains("->");
    if let Some((name, b, a)) =
        leading_signal(plan, &lever, setup.rules, data, &before_months, &after_months)
    {
        out.leading_indicator = Some(name);
        out.leading_before = Some(b);
        out.leading_after = Some(a);
    }
    let (Some(before), Some(after)) = (
        data.counts(&plan.rep_id, &lever, &before_months),
        data.counts(&plan.rep_id, &lever, &after_months),
    ) else {
        notes.push("the after-period cohorts are not mature yet".into());
        out.note = Some(notes.join("; "));
        return out;
    };
    out.baseline_rate = before.rate();
    out.baseline_n = before.n.round() as u64;
    out.after_rate = after.rate();
    out.after_n = after.n.round() as u64;
    if !data.reps.contains(plan.rep_id.as_str()) || before.n <= 0.0 {
        notes.push("no deals for this lever before the plan".into());
        out.note = Some(notes.join("; "));
        return out;
    }
    // Less than one decided deal (or half a month) after the plan is not yet evidence.
    if after.n < if binomial { 1.0 } else { 0.5 } {
        notes.push(if binomial {
            "too few deals decided since the plan yet: review it later".to_string()
        } else {
            "too little of a month since the plan yet: review it later".to_string()
        });
        out.after_rate = None;
        out.note = Some(notes.join("; "));
        return out;
    }
    let (r0, r1) = (before.k / before.n, after.k / after.n);
    let change = r1 - r0;
    out.change = Some(change);
    let var_rep = before.variance(binomial) + after.variance(binomial);
    out.p_improved = Some(if binomial {
        prob_beta_greater(
            after.k + 1.0,
            (after.n - after.k).max(0.0) + 1.0,
            before.k + 1.0,
            (before.n - before.k).max(0.0) + 1.0,
        )
    } else {
        normal_cdf(change / var_rep.sqrt())
    });
    // Regression to the mean: what the rep's baseline predicts for later without coaching is its
    // empirical-Bayes posterior mean (see Predictor). The rep's residual (after − prediction) is
    // compared with the residuals of the uncoached reps whose predictions were nearest, which
    // removes a common trend as well.
    let table = cohorts.get_or_build(data, &lever, &before_months, &after_months, binomial);
    let (expected0, var_expected0) = table.predictor.predict(before);
    let coached: BTreeSet<&str> = all
        .iter()
        // A suggestion nobody agreed is not coaching: its rep is a control.
        .filter(|p| p.status != crate::model::values::PlanStatus::Suggested)
        .filter(|p| p.period == plan.period && p.lever() == lever)
        .map(|p| p.rep_id.as_str())
        .collect();
    // Controls with enough deals in both windows are preferred; thinner ones are used only
    // when there are none (their noise widens the interval).
    let uncoached: Vec<&Peer> =
        table.peers.iter().filter(|p| !coached.contains(p.rep.as_str())).collect();
    let pool: Vec<&Peer> = if uncoached.iter().any(|p| p.sized) {
        uncoached.into_iter().filter(|p| p.sized).collect()
    } else {
        uncoached
    };
    let mut peers: Vec<(f64, f64, f64)> =
        pool.iter().map(|p| ((p.expected - expected0).abs(), p.residual, p.variance)).collect();
    peers.sort_by(|a, b| a.0.total_cmp(&b.0));
    peers.truncate(MATCHED_PEERS);
    out.peers = peers.len() as u64;
    let target = plan.agreed_target_rate.or(plan.target_rate);
    out.target_reached = target.map(|t| r1 >= t - 1e-12);
    if peers.is_empty() {
        // Not reviewable: with no control, no change can be told from a common trend.
        notes.push(if data.reps.iter().all(|r| coached.contains(r)) {
            format!(
                "every rep had a plan on {lever} in {}: there is no uncoached rep to compare with",
                plan.period
            )
        } else {
            format!("no uncoached rep has deals on {lever} in both windows to compare with")
        });
        out.note = (!notes.is_empty()).then(|| notes.join("; "));
        return out;
    }
    let k = peers.len() as f64;
    let peer_change = peers.iter().map(|p| p.1).sum::<f64>() / k;
    let spread =
        peers.iter().map(|p| (p.1 - peer_change).powi(2)).sum::<f64>() / (k - 1.0).max(1.0);
    let noise = peers.iter().map(|p| p.2).sum::<f64>() / (k * k);
    let var_effect = after.variance(binomial) + var_expected0 + (spread / k).max(noise);
    let effect = (r1 - expected0) - peer_change;
    let half = 1.96 * var_effect.sqrt();
    out.expected_after = Some(expected0);
    out.peer_change = Some(peer_change);
    out.effect = Some(effect);
    out.effect_low = Some(effect - half);
    out.effect_high = Some(effect + half);
    let verdict = verdict_of(effect - half, effect + half);
    if verdict == Verdict::Inconclusive && binomial && effect != 0.0 {
        // How many more deals would shrink the interval to exclude zero at this effect; not
        // said when it is beyond any month's reach (an effect near zero).
        let factor = (half / effect).powi(2);
        let more = ((factor - 1.0) * after.n).ceil().max(1.0);
        out.more_deals_needed = (factor <= 20.0).then_some(more as u64);
    }
    out.verdict = Some(verdict);
    out.note = (!notes.is_empty()).then(|| notes.join("; "));
    out
}

/// The activity indicator a plan's hypothesis reads (else the first its lever's rules read)
/// that the rep has in both windows: (name, before, after). The lever's own value is not a
/// leading signal of itself.
fn leading_signal(
    plan: &Plan,
    lever: &str,
    rules: &[Rule],
    data: &RepMonths,
    before: &[String],
    after: &[String],
) -> Option<(String, f64, f64)> {
    let hypotheses: Vec<&crate::model::rules::Hypothesis> =
        rules.iter().filter(|r| r.lever == lever).flat_map(|r| &r.hypotheses).collect();
    let chosen = plan.hypothesis.as_deref();
    let names = hypotheses
        .iter()
        .filter(|h| Some(h.id.as_str()) == chosen)
        .chain(hypotheses.iter())
        .flat_map(|h| &h.needs)
        .filter(|n| !is_the_lever_itself(n, lever));
    names.into_iter().find_map(|n| {
        let b = data.indicator(&plan.rep_id, n, before)?;
        let a = data.indicator(&plan.rep_id, n, after)?;
        Some((n.clone(), b, a))
    })
}

/// A rate, or lead volume for a volume plan: the outcome itself, not a signal leading it.
fn is_the_lever_itself(indicator: &str, lever: &str) -> bool {
    indicator.starts_with("rate.")
        || (lever.starts_with("volume:") && indicator == "leads_per_month")
}

/// Reviews the coaching plans (a manager's or director's) due by `month`: the coaching lever's
/// share over the plans their reps made in the plan's month against its baseline, before and
/// after (no control group: the note says so). `members` gives those rep plans.
pub fn review_coaching<'a>(
    plans: &'a [Plan],
    month: &str,
    members: &dyn Fn(&'a Plan) -> Vec<&'a Plan>,
) -> Vec<PlanReview> {
    use crate::model::coaching::COACHING_LEVERS;
    plans
        .iter()
        .filter(|p| p.is_coaching() && p.status != crate::model::values::PlanStatus::Suggested)
        .filter(|p| p.verdict.is_none() || p.reviewed_in.as_deref() == Some(month))
        .filter(|p| !p.review_period.is_empty() && p.review_period.as_str() <= month)
        .map(|plan| {
            let lever = plan.lever().to_string();
            let mut out = PlanReview {
                plan_id: plan.plan_id.clone(),
                rep_id: plan.rep_id.clone(),
                rep_name: plan.rep_name.clone(),
                focus: lever.clone(),
                period: plan.period.clone(),
                review_period: plan.review_period.clone(),
                baseline_rate: plan.baseline_rate,
                baseline_n: plan.baseline_n.unwrap_or(0),
                plan_level: plan.level.clone(),
                ..PlanReview::default()
            };
            let Some(j) = COACHING_LEVERS.iter().position(|l| *l == lever) else {
                out.note = Some(format!("{lever} is not a coaching lever"));
                return out;
            };
            let (k, n) = crate::diagnosis::coaching::counts(&members(plan))[j];
            let (b, bn) = (plan.baseline_rate, plan.baseline_n.unwrap_or(0));
            let (Some(b), true, true) = (b, bn > 0, n > 0) else {
                out.note = Some(format!(
                    "no plans of the {}'s reps in {} to compare with the baseline yet",
                    plan.level.as_deref().unwrap_or("manager"),
                    plan.period
                ));
                return out;
            };
            let a = k as f64 / n as f64;
            let var = |r: f64, n: f64| (r * (1.0 - r)).max(0.25 / n) / n;
            let half = 1.96 * (var(a, n as f64) + var(b, bn as f64)).sqrt();
            let effect = a - b;
            out.after_rate = Some(a);
            out.after_n = n;
            out.change = Some(effect);
            out.effect = Some(effect);
            out.effect_low = Some(effect - half);
            out.effect_high = Some(effect + half);
            out.verdict = Some(verdict_of(effect - half, effect + half));
            let target = plan.agreed_target_rate.or(plan.target_rate);
            out.target_reached = target.map(|t| a >= t - 1e-12);
            out.note = Some("before and after: no control group for coaching plans".into());
            out
        })
        .collect()
}

/// The verdict of an effect's 95% interval: improved when it lies above 0, worse when below,
/// inconclusive when it straddles 0. No evidence is never a negative verdict.
pub fn verdict_of(low: f64, high: f64) -> Verdict {
    if low > 0.0 {
        Verdict::Improved
    } else if high < 0.0 {
        Verdict::Worse
    } else {
        Verdict::Inconclusive
    }
}

/// The coaching record of one roster node: its plans reviewed and how many improved.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RollUp {
    pub level: String,
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
pub type Node = (String, String, String);

/// Running sums of one node: name, plans, improved, sum of effects, effects counted.
#[derive(Default)]
struct Tally {
    name: String,
    plans: u64,
    improved: u64,
    /// Rate plans' effects with their 95% intervals.
    effects: Vec<(f64, Option<f64>, Option<f64>)>,
}

/// Sums reviewed plans (with a verdict) per manager and up the tree. `ancestors` gives, for a
/// manager id, the chain of (level, id, name) from the manager itself upwards.
pub fn roll_up(reviews: &[PlanReview], ancestors: &dyn Fn(&str) -> Vec<Node>) -> Vec<RollUp> {
    let mut acc: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for r in reviews.iter().filter(|r| r.verdict.is_some()) {
        let Some(m) = &r.manager_id else { continue };
        for (level, id, name) in ancestors(m) {
            let t = acc.entry((level, id)).or_insert_with(|| Tally { name, ..Tally::default() });
            t.plans += 1;
            t.improved += (r.verdict == Some(Verdict::Improved)) as u64;
            // Effects on rates share a unit (rate points); a volume's is in its own unit.
            if let Some(x) = r.effect.filter(|_| r.focus.contains("->")) {
                t.effects.push((x, r.effect_low, r.effect_high));
            }
        }
    }
    // The share improved is shrunk across the nodes of the same level, so that a manager with
    // two plans is not ranked first or last on luck.
    let mut priors: BTreeMap<String, crate::metrics::stats::BetaPrior> = BTreeMap::new();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_effects_interval_keeps_each_plans_own_uncertainty() {
        // Two plans that agree (both −9 pt) but are each −9 ± 20 pt: the mean is not −9 ± 0.
        let plan = |id: &str| PlanReview {
            plan_id: id.into(),
            manager_id: Some("M".into()),
            focus: "lead->case".into(),
            verdict: Some(Verdict::Inconclusive),
            effect: Some(-0.09),
            effect_low: Some(-0.29),
            effect_high: Some(0.11),
            ..PlanReview::default()
        };
        let tree = |m: &str| vec![("manager".to_string(), m.to_string(), m.to_string())];
        let rolled = roll_up(&[plan("a"), plan("b")], &tree);
        let m = &rolled[0];
        // By hand: each plan's sd = 0.20 / 1.96; the mean's sd = that / √2.
        let half = 0.20 / 2f64.sqrt();
        assert!((m.mean_effect_low.unwrap() - (-0.09 - half)).abs() < 1e-12, "{m:?}");
        assert!((m.mean_effect_high.unwrap() - (-0.09 + half)).abs() < 1e-12, "{m:?}");
    }

    #[test]
    fn a_verdict_comes_from_the_effects_interval() {
        assert_eq!(verdict_of(0.01, 0.30), Verdict::Improved);
        assert_eq!(verdict_of(-0.30, -0.01), Verdict::Worse);
        // One deal before and one after: an interval straddling 0 is no verdict, not a bad one.
        assert_eq!(verdict_of(-1.17, 0.90), Verdict::Inconclusive);
        assert_eq!(verdict_of(-0.02, 0.01), Verdict::Inconclusive);
    }

    #[test]
    fn a_volume_baseline_ignores_months_before_the_reps_data() {
        let row = |period: &str, entered: u64| FunnelRow {
            level: "rep".into(),
            group_id: "R1".into(),
            group_name: "R1".into(),
            parent_id: None,
            period: period.into(),
            from_stage: "lead".into(),
            to_stage: "case".into(),
            method: crate::metrics::funnel::Method::Cohort,
            window_days: 90,
            entered,
            converted: 0,
            lost: Some(0),
            open: Some(entered),
            skipped: 0,
            rate: None,
            rate_observed: None,
            observed_share: None,
            rate_low: None,
            rate_high: None,
            rate_shrunk: None,
            prior_alpha: None,
            prior_beta: None,
            level_median: None,
            mature: false,
            step_days_median: None,
            lost_days_median: None,
            activities: None,
            activities_per_deal: None,
            touched_share: None,
            personalized_share: None,
            activity_mix: None,
            first_activity_hours_median: None,
            first_call_connected_share: None,
            first_call_duration_median_s: None,
            won: None,
            won_amount: None,
            avg_deal_size: None,
            cycle_days_median: None,
        };
        // R1 joined in February: January is not a month of zero leads.
        let rows = vec![row("2026-02", 30), row("2026-03", 42)];
        let stages: Vec<String> = ["lead", "case", "won"].iter().map(|s| s.to_string()).collect();
        let data = RepMonths::new(&rows, &stages);
        let window: Vec<String> =
            ["2026-01", "2026-02", "2026-03"].iter().map(|s| s.to_string()).collect();
        let c = data.counts("R1", "volume:lead", &window).unwrap();
        assert_eq!((c.k, c.n), (72.0, 2.0));
    }

    #[test]
    fn roll_ups_sum_by_manager_and_up_the_tree() {
        let review = |id: &str, m: &str, verdict: &str, effect: f64| PlanReview {
            plan_id: id.into(),
            manager_id: Some(m.into()),
            focus: "case->proposal".into(),
            verdict: Some(verdict.parse().unwrap()),
            effect: Some(effect),
            ..PlanReview::default()
        };
        let reviews = vec![
            review("a", "M1", "improved", 0.20),
            review("b", "M1", "worse", -0.05),
            review("c", "M1", "improved", 0.10),
            review("d", "M2", "inconclusive", 0.05),
        ];
        let tree = |m: &str| {
            vec![
                ("manager".to_string(), m.to_string(), m.to_string()),
                ("director".into(), "D".into(), "D".into()),
            ]
        };
        let rolled = roll_up(&reviews, &tree);
        let m1 = rolled.iter().find(|r| r.group_id == "M1").unwrap();
        // Hand computation: 2 of 3 improved; mean effect (0.20 − 0.05 + 0.10) / 3 = 0.0833.
        assert_eq!((m1.plans, m1.improved), (3, 2));
        assert!((m1.improved_share.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert!((m1.mean_effect.unwrap() - 0.25 / 3.0).abs() < 1e-12);
        // Mean effect interval by hand: sd² = (0.0525 − 0.25²/3) / 2, half = 1.96 √(sd²/3).
        let half = 1.96 * (((0.0525 - 0.0625 / 3.0) / 2.0) / 3.0f64).sqrt();
        assert!((m1.mean_effect_low.unwrap() - (0.25 / 3.0 - half)).abs() < 1e-12);
        assert!((m1.mean_effect_high.unwrap() - (0.25 / 3.0 + half)).abs() < 1e-12);
        // Shrunk toward the managers' pooled share (2 of 4), never past it.
        let shrunk = m1.improved_shrunk.unwrap();
        assert!(shrunk < 2.0 / 3.0 && shrunk > 0.5, "{shrunk}");
        let d = rolled.iter().find(|r| r.group_id == "D").unwrap();
        assert_eq!((d.plans, d.improved), (4, 2));
        // One plan's own interval carries to its manager's mean.
        let m2 = rolled.iter().find(|r| r.group_id == "M2").unwrap();
        assert_eq!((m2.mean_effect_low, m2.mean_effect_high), (Some(0.05), Some(0.05)));
        assert!((d.mean_effect.unwrap() - 0.30 / 4.0).abs() < 1e-12);
        let (lo, hi) = (d.improved_low.unwrap(), d.improved_high.unwrap());
        assert!(lo < 0.5 && 0.5 < hi);
    }
}
