//! The synthetic sales organisation behind `generate`: a roster tree, every rep's own rates,
//! planted weaknesses, and a month-by-month simulation of deals and activities.
//!
//! The simulation is written for streaming: deals are produced one at a time and handed to a
//! sink, so memory does not grow with the number of rows.

pub mod rng;

use crate::model::lever::LeverId;
use crate::model::tables::Person;
use crate::model::time::{MICROS_PER_DAY, Micros, days_from_civil};
use rng::Rng;

/// Company-wide step-up rates for the transitions, in funnel order (cycled if longer).
const BASE_RATES: [f64; 4] = [0.40, 0.50, 0.60, 0.45];
/// Mean activities per deal at each stage (lead, case, proposal, quote, …).
const BASE_CONTACTS: [f64; 4] = [2.5, 3.5, 2.5, 2.0];
/// How far a planted weakness pulls a rate down.
pub const WEAK_FACTOR: f64 = 0.5;
/// Which transition the seed's three causes belong to (case → proposal).
pub const CAUSE_TRANSITION: usize = 1;
const ACTIVITY_STREAM: u64 = 0xAC71_u64 << 48;
pub const CAUSES: [&str; 3] =
    ["insufficient-contacts", "no-individual-response", "no-first-contact-trust"];

const FIRST_NAMES: [&str; 24] = [
    "Aiko", "Ben", "Chloé", "Daichi", "Elena", "Farid", "Grace", "Haruto", "Ines", "Jonas",
    "Kenji", "Lena", "Mateo", "Nadia", "Oscar", "Priya", "Quinn", "Rin", "Sara", "Takumi", "Uma",
    "Victor", "Yui", "Zoe",
];
const LAST_NAMES: [&str; 20] = [
    "Sato",
    "Suzuki",
    "Takahashi",
    "Tanaka",
    "Ito",
    "Smith",
    "García",
    "Müller",
    "Rossi",
    "Kim",
    "Nakamura",
    "Kobayashi",
    "Johnson",
    "Dubois",
    "Silva",
    "Novak",
    "Watanabe",
    "Yamamoto",
    "Kowalski",
    "O'Brien",
];

/// The shape of the organisation and of the data to simulate.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    pub directors: u32,
    pub managers: u32,
    pub reps: u32,
    pub months: u32,
    /// First month as (year, month).
    pub start: (i32, u32),
    pub leads: f64,
    pub weak_share: f64,
    pub late_share: f64,
    pub activities: bool,
    /// The playbook's funnel stages and first terminal outcome.
    pub stages: Vec<String>,
    pub lost: String,
    /// Plans from a ledger: (rep id, lever, first month offset after the plan's period).
    pub coaching: Vec<(String, LeverId, u32)>,
    /// Share of coached reps whose planted weakness the coaching removes.
    pub fix_share: f64,
    /// Mean days from entering a stage to stepping up.
    pub won_lag_days: f64,
    /// Mean days from entering a stage to being lost: longer than stepping up, as in real
    /// pipelines, where a deal is given up on late.
    pub lost_lag_days: f64,
    /// Where the simulated deals stop: the end of the last month by default. `generate` sets it
    /// well past the months and cuts what it writes, so that the same seed gives the same deals
    /// whatever the cut.
    pub horizon: Option<Micros>,
}

/// What was planted in a rep, and their true parameters.
#[derive(Debug, Clone)]
pub struct RepProfile {
    pub id: String,
    pub manager_id: String,
    /// Month offset (from the start) of the rep's first leads.
    pub join_month: u32,
    pub rates: Vec<f64>,
    pub leads_per_month: f64,
    pub contacts: Vec<f64>,
    pub personal_share: f64,
    pub first_call_s: f64,
    pub first_call_connect: f64,
    /// Lever id of the planted weakness, if any.
    pub planted: Option<LeverId>,
    pub cause: Option<&'static str>,
    /// The rep as they were before the weakness was planted: what coaching restores.
    pub healthy: Option<Box<RepProfile>>,
    /// A plan on this rep: (lever, first month offset it acts on, whether it fixed the weakness).
    pub coached: Option<(LeverId, u32, bool)>,
}

impl RepProfile {
    /// The profile that drives the rep's deals in a month: healthy again once coaching fixed it.
    pub fn in_month(&self, month: u32) -> &RepProfile {
        match (&self.coached, &self.healthy) {
            (Some((_, from, true)), Some(h)) if month >= *from => h,
            _ => self,
        }
    }
}

pub struct Org {
    pub people: Vec<Person>,
    pub reps: Vec<RepProfile>,
}

fn name(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(&FIRST_NAMES), rng.pick(&LAST_NAMES))
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn inv_logit(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Builds the roster and every rep's profile.
pub fn build_org(cfg: &SimConfig) -> Org {
    let mut rng = Rng::fork(cfg.seed, 0);
    let mut people = vec![Person {
        person_id: "B01".into(),
        name: "Board".into(),
        role: "board".into(),
        reports_to: None,
    }];
    let mut reps = Vec::new();
    let transitions: Vec<LeverId> =
        (0..cfg.stages.len() - 1).map(|i| LeverId::step(&cfg.stages, i)).collect();
    let mut rep_no = 0;
    for d in 1..=cfg.directors {
        let did = format!("D{d:02}");
        people.push(Person {
            person_id: did.clone(),
            name: name(&mut rng),
            role: "director".into(),
            reports_to: Some("B01".into()),
        });
        for m in 1..=cfg.managers {
            let mid = format!("M{:03}", (d - 1) * cfg.managers + m);
            people.push(Person {
                person_id: mid.clone(),
                name: name(&mut rng),
                role: "manager".into(),
                reports_to: Some(did.clone()),
            });
            for _ in 0..cfg.reps {
                rep_no += 1;
                let id = format!("R{rep_no:05}");
                people.push(Person {
                    person_id: id.clone(),
                    name: name(&mut rng),
                    role: "rep".into(),
                    reports_to: Some(mid.clone()),
                });
                reps.push(rep_profile(
                    &mut Rng::fork(cfg.seed, 1_000 + rep_no as u64),
                    id,
                    mid.clone(),
                    cfg,
                    &transitions,
                ));
            }
        }
    }
    apply_coaching(cfg, &mut reps);
    Org { people, reps }
}

fn rep_profile(
    rng: &mut Rng,
    id: String,
    manager_id: String,
    cfg: &SimConfig,
    transitions: &[LeverId],
) -> RepProfile {
    let n_stages = cfg.stages.len();
    let mut rates: Vec<f64> = (0..transitions.len())
        .map(|i| inv_logit(logit(BASE_RATES[i % BASE_RATES.len()]) + 0.25 * rng.normal()))
        .collect();
    let mut leads_per_month = cfg.leads * (0.15 * rng.normal()).exp();
    let mut contacts: Vec<f64> = (0..n_stages - 1)
        .map(|i| BASE_CONTACTS[i % BASE_CONTACTS.len()] * (0.15 * rng.normal()).exp())
        .collect();
    let mut personal_share = inv_logit(logit(0.6) + 0.3 * rng.normal());
    let mut first_call_s = 420.0 * (0.15 * rng.normal()).exp();
    let mut first_call_connect = inv_logit(logit(0.8) + 0.3 * rng.normal());
    // Late joiners start one or two months before the last three, so that they have a little
    // mature data (90-day cohorts) when the latest mature month is diagnosed.
    let join_month = if cfg.months >= 5 && rng.chance(cfg.late_share) {
        cfg.months - 4 - rng.below(2) as u32
    } else {
        0
    };
    let (mut planted, mut cause) = (None, None);
    let healthy = RepProfile {
        id: id.clone(),
        manager_id: manager_id.clone(),
        join_month,
        rates: rates.clone(),
        leads_per_month,
        contacts: contacts.clone(),
        personal_share,
        first_call_s,
        first_call_connect,
        planted: None,
        cause: None,
        healthy: None,
        coached: None,
    };
    if rng.chance(cfg.weak_share) {
        let options = transitions.len() + 1;
        let pick = rng.below(options as u64) as usize;
        if pick < transitions.len() {
            rates[pick] *= WEAK_FACTOR;
            planted = Some(transitions[pick].clone());
            if pick == CAUSE_TRANSITION {
                let c = *rng.pick(&CAUSES);
                match c {
                    "insufficient-contacts" => contacts[CAUSE_TRANSITION] *= 0.35,
                    "no-individual-response" => personal_share = 0.1,
                    _ => {
                        first_call_s = 75.0;
                        first_call_connect = 0.45;
                    }
                }
                cause = Some(c);
            }
        } else {
            leads_per_month *= WEAK_FACTOR;
            planted = Some(LeverId::lead_volume(&cfg.stages));
        }
    }
    RepProfile {
        id,
        manager_id,
        join_month,
        rates,
        leads_per_month,
        contacts,
        personal_share,
        first_call_s,
        first_call_connect,
        healthy: planted.is_some().then(|| Box::new(healthy)),
        planted,
        cause,
        coached: None,
    }
}

const COACHING_STREAM: u64 = 0xC0AC_u64 << 48;

/// Marks the coached reps, and which of them the coaching fixes (a planted weakness on the
/// coached lever, removed with probability `fix_share`).
fn apply_coaching(cfg: &SimConfig, reps: &mut [RepProfile]) {
    for (i, rep) in reps.iter_mut().enumerate() {
        let Some((_, lever, from)) = cfg.coaching.iter().find(|c| c.0 == rep.id) else { continue };
        let mut rng = Rng::fork(cfg.seed ^ COACHING_STREAM, i as u64);
        let fixed = rep.planted.as_ref() == Some(lever) && rng.chance(cfg.fix_share);
        rep.coached = Some((lever.clone(), *from, fixed));
    }
}

/// Exports carry whole seconds.
fn seconds(t: Micros) -> Micros {
    t - t.rem_euclid(1_000_000)
}

/// One generated event, borrowed for the sink.
pub struct SimEvent<'a> {
    pub deal_id: &'a str,
    pub rep_id: &'a str,
    pub stage: &'a str,
    pub ts: Micros,
    /// Amount in cents.
    pub amount_cents: Option<i64>,
}

pub struct SimActivity<'a> {
    pub activity_id: &'a str,
    pub rep_id: &'a str,
    pub deal_id: Option<&'a str>,
    pub kind: &'a str,
    pub ts: Micros,
    pub duration_s: Option<i64>,
    pub outcome: Option<&'a str>,
    pub personalized: Option<bool>,
}

pub trait SimSink {
    fn event(&mut self, e: &SimEvent) -> anyhow::Result<()>;
    fn activity(&mut self, a: &SimActivity) -> anyhow::Result<()>;
}

/// The instant up to which deals are simulated: the end of the last month, or the horizon.
pub fn as_of(cfg: &SimConfig) -> Micros {
    cfg.horizon.unwrap_or_else(|| month_start(cfg, cfg.months))
}

pub fn month_start(cfg: &SimConfig, offset: u32) -> Micros {
    let m0 = cfg.start.0 as i64 * 12 + cfg.start.1 as i64 - 1 + offset as i64;
    days_from_civil(m0.div_euclid(12), m0.rem_euclid(12) as u32 + 1, 1) * MICROS_PER_DAY
}

/// Simulates every rep's deals, month by month, into the sink.
pub fn simulate(cfg: &SimConfig, org: &Org, sink: &mut dyn SimSink) -> anyhow::Result<()> {
    let mut ids = Ids::default();
    let end = as_of(cfg);
    for (r, rep) in org.reps.iter().enumerate() {
        let team: Vec<&RepProfile> =
            org.reps.iter().filter(|o| o.manager_id == rep.manager_id).collect();
        for month in rep.join_month..cfg.months {
            let mut rng = Rng::fork(cfg.seed, ((r as u64 + 1) << 16) | month as u64);
            let (lo, hi) = (month_start(cfg, month), month_start(cfg, month + 1));
            let profile = rep.in_month(month);
            let n = rng.poisson(profile.leads_per_month);
            for _ in 0..n {
                let t0 = seconds(lo + (rng.uniform() * (hi - lo) as f64) as i64);
                simulate_deal(cfg, profile, &team, t0, end, &mut rng, &mut ids, sink)?;
            }
            if cfg.activities {
                // Activities draw from their own stream, so that the events do not depend on
                // whether activities are written.
                let mut rng =
                    Rng::fork(cfg.seed ^ ACTIVITY_STREAM, ((r as u64 + 1) << 16) | month as u64);
                for _ in 0..rng.poisson(2.0) {
                    let ts = seconds(lo + (rng.uniform() * (hi - lo) as f64) as i64);
                    let id = ids.next_activity();
                    sink.activity(&SimActivity {
                        activity_id: &id,
                        rep_id: &rep.id,
                        deal_id: None,
                        kind: "call",
                        ts,
                        duration_s: Some(rng.exponential(120.0) as i64),
                        outcome: Some("no_answer"),
                        personalized: None,
                    })?;
                }
            }
        }
    }
    Ok(())
}

#[derive(Default)]
struct Ids {
    deal: u64,
    activity: u64,
}

impl Ids {
    fn next_deal(&mut self) -> String {
        self.deal += 1;
        format!("DL{:09}", self.deal)
    }
    fn next_activity(&mut self) -> String {
        self.activity += 1;
        format!("A{:010}", self.activity)
    }
}

/// One deal's path through the funnel, with its activities.
#[allow(clippy::too_many_arguments)]
fn simulate_deal(
    cfg: &SimConfig,
    rep: &RepProfile,
    team: &[&RepProfile],
    t0: Micros,
    end: Micros,
    rng: &mut Rng,
    ids: &mut Ids,
    sink: &mut dyn SimSink,
) -> anyhow::Result<()> {
    let deal_id = ids.next_deal();
    let amount_cents = (1_200_000.0 * (0.6 * rng.normal()).exp()).round() as i64;
    let mut owner = rep;
    let mut t = t0;
    let last = cfg.stages.len() - 1;
    // (stage index, entered at, owner) of each stage reached, for the activities.
    let mut path: Vec<(usize, Micros, &RepProfile)> = vec![(0, t0, owner)];
    let mut closed_at = None;
    sink.event(&SimEvent {
        deal_id: &deal_id,
        rep_id: &owner.id,
        stage: &cfg.stages[0],
        ts: t0,
        amount_cents: None,
    })?;
    for i in 0..last {
        if rng.chance(owner.rates[i]) {
            t = seconds(
                t + (rng.exponential(cfg.won_lag_days * MICROS_PER_DAY as f64) as i64)
                    .min(80 * MICROS_PER_DAY),
            );
            if t > end {
                break;
            }
            if i == 0 && team.len() > 1 && rng.chance(0.02) {
                owner = team[rng.below(team.len() as u64) as usize];
            }
            path.push((i + 1, t, owner));
            // Exports sometimes miss an intermediate stage; the funnel fills it.
            let skipped = i + 1 < last && rng.chance(0.03);
            if !skipped {
                let amount = (i + 1 >= 2).then_some(amount_cents);
                sink.event(&SimEvent {
                    deal_id: &deal_id,
                    rep_id: &owner.id,
                    stage: &cfg.stages[i + 1],
                    ts: t,
                    amount_cents: amount,
                })?;
            }
            if i + 1 == last {
                closed_at = Some(t);
            }
        } else {
            if rng.chance(0.75) {
                let lost_at =
                    seconds(t + rng.exponential(cfg.lost_lag_days * MICROS_PER_DAY as f64) as i64);
                if lost_at <= end {
                    sink.event(&SimEvent {
                        deal_id: &deal_id,
                        rep_id: &owner.id,
                        stage: &cfg.lost,
                        ts: lost_at,
                        amount_cents: None,
                    })?;
                    closed_at = Some(lost_at);
                }
            }
            break;
        }
    }
    if cfg.activities {
        let mut rng = Rng::fork(cfg.seed ^ ACTIVITY_STREAM, ids.deal);
        deal_activities(cfg, &deal_id, &path, closed_at, end, &mut rng, ids, sink)?;
    }
    Ok(())
}

const TYPES_BY_STAGE: [&[&str]; 4] = [
    &["call", "email", "email", "call"],
    &["call", "email", "meeting", "email"],
    &["meeting", "email", "call", "meeting"],
    &["email", "call", "visit", "email"],
];

#[allow(clippy::too_many_arguments)]
fn deal_activities(
    cfg: &SimConfig,
    deal_id: &str,
    path: &[(usize, Micros, &RepProfile)],
    closed_at: Option<Micros>,
    end: Micros,
    rng: &mut Rng,
    ids: &mut Ids,
    sink: &mut dyn SimSink,
) -> anyhow::Result<()> {
    let mut first_call_done = false;
    for (k, &(stage, from, owner)) in path.iter().enumerate() {
        if stage >= cfg.stages.len() - 1 {
            break; // no work after the deal is won
        }
        let until = path
            .get(k + 1)
            .map(|p| p.1)
            .or(closed_at)
            .unwrap_or(from + 30 * MICROS_PER_DAY)
            .min(end);
        if until <= from {
            continue;
        }
        let n = rng.poisson(owner.contacts[stage]);
        let mut times: Vec<Micros> = (0..n)
            .map(|_| seconds(from + (rng.uniform() * (until - from) as f64) as i64))
            .collect();
        if stage == 0 {
            // The first contact on a lead is a call, some hours after the lead arrives.
            let first = from + (rng.exponential(20.0 * 3600.0 * 1e6) as i64).min(until - from);
            times.push(seconds(first));
        }
        times.sort_unstable();
        for (j, ts) in times.into_iter().enumerate() {
            let kind =
                if stage == 0 && j == 0 { "call" } else { *rng.pick(TYPES_BY_STAGE[stage % 4]) };
            let id = ids.next_activity();
            let (duration_s, outcome, personalized) = match kind {
                "call" if !first_call_done => {
                    first_call_done = true;
                    let d = owner.first_call_s * (0.3 * rng.normal()).exp();
                    let connected = rng.chance(owner.first_call_connect);
                    (Some(d as i64), Some(if connected { "connected" } else { "no_answer" }), None)
                }
                "call" => {
                    let connected = rng.chance(0.7);
                    (
                        Some((240.0 * (0.4 * rng.normal()).exp()) as i64),
                        Some(if connected { "connected" } else { "voicemail" }),
                        None,
                    )
                }
                "email" => (None, None, Some(rng.chance(owner.personal_share))),
                _ => (Some((2400.0 * (0.3 * rng.normal()).exp()) as i64), Some("held"), None),
            };
            sink.activity(&SimActivity {
                activity_id: &id,
                rep_id: &owner.id,
                deal_id: Some(deal_id),
                kind,
                ts,
                duration_s,
                outcome,
                personalized,
            })?;
        }
    }
    Ok(())
}
