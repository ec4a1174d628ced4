//! The funnel: step-up rates per group (rep, every roster level, company) and period, with
//! intervals, shrinkage, and the activity and outcome indicators beside them.
//!
//! Counts are gathered per rep in dense arrays, then summed up the roster tree, so that a
//! node's counts are exactly the sums over the deals credited to the reps under it.

use crate::metrics::deals::{Deals, NONE_TS};
use crate::metrics::open_cohorts::{Estimate, LagCounts, LagModel, estimate};
use crate::metrics::stats::{fit_beta, median, wilson};
use crate::model::roster::Roster;
use crate::model::time::{Calendar, MICROS_PER_DAY, Micros, Period, PeriodKind};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet};

/// How a step-up rate is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Of the deals entering s in the period, the share entering s+1 within the window.
    Cohort,
    /// Deals entering s+1 in the period / deals entering s in the period (can exceed 1).
    Flow,
}

#[derive(Debug, Clone)]
pub struct FunnelConfig {
    pub method: Method,
    pub period: PeriodKind,
    pub tz: Tz,
    pub stages: Vec<String>,
    /// Window in days per transition.
    pub windows: Vec<u32>,
    pub as_of: Micros,
    pub strict: bool,
    /// One period over the whole data (`--period all`) instead of months, weeks or quarters.
    pub whole: bool,
}

impl FunnelConfig {
    /// Monthly cohorts with the playbook's windows: what diagnosis, plans and reviews read.
    /// `as_of` defaults to the latest event.
    pub fn monthly_cohort(
        playbook: &crate::model::playbook::Playbook,
        as_of: Option<Micros>,
    ) -> FunnelConfig {
        FunnelConfig {
            method: Method::Cohort,
            period: PeriodKind::Month,
            tz: playbook.timezone,
            stages: playbook.stages.clone(),
            windows: playbook.windows.clone(),
            as_of: as_of.unwrap_or(i64::MIN),
            strict: false,
            whole: false,
        }
    }
}

/// Outcomes that count a first call as connected (case-insensitive).
pub const CONNECTED_OUTCOMES: [&str; 5] = ["connected", "answered", "held", "completed", "reached"];

/// Additive counts of one (rep, period, stage).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageCounts {
    pub entered: u64,
    pub converted: u64,
    pub lost: u64,
    pub open: u64,
    /// Open deals still inside the window at as-of (their ages are kept for the estimate).
    pub open_young: u64,
    pub skipped: u64,
    pub activities: u64,
    pub touched: u64,
    pub emails: u64,
    pub personalized: u64,
}

impl StageCounts {
    fn add(&mut self, o: &StageCounts) {
        self.entered += o.entered;
        self.converted += o.converted;
        self.lost += o.lost;
        self.open += o.open;
        self.open_young += o.open_young;
        self.skipped += o.skipped;
        self.activities += o.activities;
        self.touched += o.touched;
        self.emails += o.emails;
        self.personalized += o.personalized;
    }
}

/// Whole-funnel outcome of one (rep, period).
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Cohort of first-stage entries: reached the last stage / lost / open.
    pub reached: u64,
    pub lost: u64,
    pub open: u64,
    /// Open leads still inside the whole funnel's window at as-of.
    pub open_young: u64,
    /// Deals entering the last stage in the period (credited to the owner then).
    pub won: u64,
    pub won_amount: i128,
    pub won_with_amount: u64,
    pub cycle_days: Vec<f32>,
    pub first_activity_hours: Vec<f32>,
    pub first_calls: u64,
    pub first_calls_connected: u64,
    pub first_call_seconds: Vec<f32>,
}

impl Outcome {
    fn add(&mut self, o: &Outcome) {
        self.reached += o.reached;
        self.lost += o.lost;
        self.open += o.open;
        self.open_young += o.open_young;
        self.won += o.won;
        self.won_amount += o.won_amount;
        self.won_with_amount += o.won_with_amount;
        self.cycle_days.extend_from_slice(&o.cycle_days);
        self.first_activity_hours.extend_from_slice(&o.first_activity_hours);
        self.first_calls += o.first_calls;
        self.first_calls_connected += o.first_calls_connected;
        self.first_call_seconds.extend_from_slice(&o.first_call_seconds);
    }
}

/// Which optional activity columns the data had: an indicator without its column is null.
#[derive(Debug, Clone, Copy, Default)]
pub struct ActivityColumns {
    pub any: bool,
    pub personalized: bool,
    pub outcome: bool,
    pub duration: bool,
}

/// Counts per rep, period and stage, before roll-up.
pub struct Tally {
    pub cfg: FunnelConfig,
    pub cal: Calendar,
    pub first: Period,
    pub periods: usize,
    pub stages: usize,
    pub reps: Vec<Box<str>>,
    cells: Vec<StageCounts>,
    outcomes: Vec<Outcome>,
    /// Activity counts per (cell index, activity type).
    mix: FxHashMap<(u32, u16), u32>,
    pub types: crate::metrics::deals::Interner,
    pub activity_columns: ActivityColumns,
    /// The deals with their resolved stage entries, kept for the activity pass.
    deals: Deals,
    touched: Vec<u32>,
    first_activity: Vec<Micros>,
    /// Earliest call per deal: (time, duration or -1, connected or None).
    first_call: Vec<(Micros, i32, Option<bool>)>,
    pub activities_unmatched: u64,
    /// Per transition (and last, the whole funnel): outcomes by day since entry, for the
    /// timing of open cohorts.
    lags: Vec<LagCounts>,
    /// Ages in days of the deals still open at as-of, per cell (whole funnel: per outcome
    /// index, offset by the number of cells).
    open_ages: FxHashMap<u32, Vec<u32>>,
}

fn period_span(cal: &Calendar, lo: Micros, hi: Micros) -> (Period, usize) {
    let first = cal.period_of(lo);
    let last = cal.period_of(hi);
    (first, (last.index - first.index + 1) as usize)
}

impl Tally {
    /// Resolves every deal's stage entries and counts the cohorts.
    pub fn from_deals(mut deals: Deals, cfg: FunnelConfig) -> Tally {
        let stages = deals.stages;
        let (lo, hi) = if deals.is_empty() {
            (cfg.as_of, cfg.as_of)
        } else {
            (deals.min_ts, deals.max_ts.max(cfg.as_of))
        };
        let cal = Calendar::new(cfg.period, cfg.tz, lo, hi);
        let (first, periods) =
            if cfg.whole { (cal.period_of(lo), 1) } else { period_span(&cal, lo, hi) };
        let n_reps = deals.reps.len();
        deals.resolve(cfg.strict);
        let mut t = Tally {
            cal,
            first,
            periods,
            stages,
            reps: deals.reps.to_vec(),
            cells: vec![StageCounts::default(); n_reps * periods * stages],
            outcomes: vec![Outcome::default(); n_reps * periods],
            mix: FxHashMap::default(),
            types: Default::default(),
            activity_columns: ActivityColumns::default(),
            deals: Deals::new(stages),
            touched: Vec::new(),
            first_activity: Vec::new(),
            first_call: Vec::new(),
            activities_unmatched: 0,
            lags: Vec::new(),
            open_ages: FxHashMap::default(),
            cfg,
        };
        t.lags = (0..stages.saturating_sub(1))
            .map(|s| LagCounts::new(t.cfg.windows[s]))
            .chain(std::iter::once(LagCounts::new(t.overall_window())))
            .collect();
        for d in 0..deals.len() {
            t.count_deal(d, &deals);
        }
        t.deals = deals;
        t
    }

    fn p_idx(&self, ts: Micros) -> usize {
        if self.cfg.whole {
            return 0;
        }
        (self.cal.period_of(ts).index - self.first.index) as usize
    }

    fn cell_idx(&self, rep: u32, p: usize, s: usize) -> usize {
        (rep as usize * self.periods + p) * self.stages + s
    }

    /// The whole funnel's window: the transitions' windows end to end.
    pub fn overall_window(&self) -> u32 {
        self.cfg.windows.iter().sum()
    }

    fn count_deal(&mut self, d: usize, deals: &Deals) {
        let stages = self.stages;
        let terminal = deals.terminal[d];
        let as_of = self.cfg.as_of;
        let e = |s: usize| deals.entry(d, s);
        let days = |from: Micros, to: Micros| (to - from) as f64 / MICROS_PER_DAY as f64;
        for s in 0..stages {
            let entry = e(s);
            if !entry.is_some() {
                continue;
            }
            let idx = self.cell_idx(entry.rep, self.p_idx(entry.ts), s);
            let c = &mut self.cells[idx];
            c.entered += 1;
            if s + 1 < stages {
                let window = self.cfg.windows[s] as i64 * MICROS_PER_DAY;
                let next = e(s + 1);
                if next.is_some() && next.ts - entry.ts <= window {
                    c.converted += 1;
                    self.lags[s].converted(days(entry.ts, next.ts));
                } else {
                    if terminal >= entry.ts {
                        c.lost += 1;
                        self.lags[s].lost(days(entry.ts, terminal));
                    } else {
                        c.open += 1;
                        let age = days(entry.ts, as_of);
                        self.lags[s].open(age);
                        if age < self.cfg.windows[s] as f64 {
                            c.open_young += 1;
                            self.open_ages.entry(idx as u32).or_default().push(age.max(0.0) as u32);
                        }
                    }
                    // In strict mode the entries are the direct events.
                    if self.cfg.strict && (s + 2..stages).any(|j| e(j).is_some()) {
                        c.skipped += 1;
                    }
                }
            }
        }
        let (first, last) = (e(0), e(stages - 1));
        if first.is_some() {
            let overall = self.overall_window();
            let whole = stages - 1;
            let outcome_idx = first.rep as usize * self.periods + self.p_idx(first.ts);
            let o = &mut self.outcomes[outcome_idx];
            if last.is_some() && days(first.ts, last.ts) <= overall as f64 {
                o.reached += 1;
                self.lags[whole].converted(days(first.ts, last.ts));
            } else if terminal >= first.ts {
                o.lost += 1;
                self.lags[whole].lost(days(first.ts, terminal));
            } else {
                o.open += 1;
                let age = days(first.ts, as_of);
                self.lags[whole].open(age);
                if age < overall as f64 {
                    self.outcomes[outcome_idx].open_young += 1;
                    let key = (self.cells.len() + outcome_idx) as u32;
                    self.open_ages.entry(key).or_default().push(age.max(0.0) as u32);
                }
            }
        }
        if last.is_some() {
            let amount = deals.amount[d];
            let cycle =
                first.is_some().then(|| (last.ts - first.ts) as f64 / MICROS_PER_DAY as f64);
            let o = self.outcome_mut(last.rep, last.ts);
            o.won += 1;
            if amount.0 != i64::MIN {
                o.won_amount += amount.1 as i128;
                o.won_with_amount += 1;
            }
            if let Some(c) = cycle {
                o.cycle_days.push(c as f32);
            }
        }
    }

    fn outcome_mut(&mut self, rep: u32, ts: Micros) -> &mut Outcome {
        let p = self.p_idx(ts);
        &mut self.outcomes[rep as usize * self.periods + p]
    }

    /// Adds one activity of a deal: it belongs to the stage the deal was in at its time, and
    /// is credited to that stage's cohort.
    pub fn add_activity(
        &mut self,
        deal: &str,
        kind: &str,
        ts: Micros,
        duration_s: Option<i64>,
        outcome: Option<&str>,
        personalized: Option<bool>,
    ) {
        if self.touched.is_empty() && !self.deals.is_empty() {
            let n = self.deals.len();
            self.touched = vec![0; n];
            self.first_activity = vec![NONE_TS; n];
            self.first_call = vec![(NONE_TS, -1, None); n];
        }
        let Some(d) = self.deals.ids.get(deal) else {
            self.activities_unmatched += 1;
            return;
        };
        let d = d as usize;
        let stages = self.stages;
        let deals = &self.deals;
        let Some(first_entered) = (0..stages).find(|&s| deals.entry(d, s).is_some()) else {
            self.activities_unmatched += 1;
            return;
        };
        let s = (0..stages)
            .rev()
            .find(|&s| {
                let e = deals.entry(d, s);
                e.is_some() && e.ts <= ts
            })
            .unwrap_or(first_entered);
        let entry = deals.entry(d, s);
        let idx = self.cell_idx(entry.rep, self.p_idx(entry.ts), s);
        let kind_id = self.types.intern(&kind.trim().to_lowercase()) as u16;
        *self.mix.entry((idx as u32, kind_id)).or_insert(0) += 1;
        let c = &mut self.cells[idx];
        c.activities += 1;
        if self.touched[d] & (1 << s) == 0 {
            self.touched[d] |= 1 << s;
            c.touched += 1;
        }
        let is = |name: &str| kind.trim().eq_ignore_ascii_case(name);
        if is("email")
            && let Some(p) = personalized
        {
            c.emails += 1;
            c.personalized += p as u64;
        }
        self.first_activity[d] = self.first_activity[d].min(ts);
        if is("call") && ts < self.first_call[d].0 {
            let connected = outcome
                .map(|o| CONNECTED_OUTCOMES.iter().any(|c| o.trim().eq_ignore_ascii_case(c)));
            self.first_call[d] =
                (ts, duration_s.map_or(-1, |v| v.min(i32::MAX as i64) as i32), connected);
        }
    }

    /// Turns the per-deal first contacts into per-cohort figures; call after the activities.
    pub fn finish_activities(&mut self) {
        if self.touched.is_empty() {
            return;
        }
        for d in 0..self.deals.len() {
            let e0 = self.deals.entry(d, 0);
            if !e0.is_some() {
                continue;
            }
            let first = self.first_activity[d];
            let call = self.first_call[d];
            let o = self.outcome_mut(e0.rep, e0.ts);
            if first != NONE_TS {
                o.first_activity_hours.push(((first - e0.ts).max(0) as f64 / 3.6e9) as f32);
            }
            if call.0 != NONE_TS {
                o.first_calls += 1;
                o.first_calls_connected += call.2.unwrap_or(false) as u64;
                if call.1 >= 0 {
                    o.first_call_seconds.push(call.1 as f32);
                }
            }
        }
    }
}

/// A group the funnel reports on.
#[derive(Debug, Clone)]
pub struct Group {
    pub level: String,
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    /// Rep indexes (into `Tally::reps`) whose deals count for this group.
    pub members: Vec<u32>,
}

/// The groups at every level: reps, every roster node above them, and the company.
/// The group of the reps whose chain up the roster misses a level (an unknown manager, or a rep
/// not in the roster), so that every level's totals equal the company's.
pub const UNASSIGNED: &str = "(unassigned)";

/// How many reps sit under an `(unassigned)` node at some level.
pub fn unassigned_reps(groups: &[Group]) -> usize {
    let mut reps: BTreeSet<u32> = BTreeSet::new();
    for g in groups.iter().filter(|g| g.id == UNASSIGNED) {
        reps.extend(g.members.iter().copied());
    }
    reps.len()
}

pub fn groups(
    reps: &[Box<str>],
    roster: Option<&Roster>,
    playbook: &crate::model::playbook::Playbook,
) -> Vec<Group> {
    let mut out = Vec::new();
    let mut nodes: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
    let levels = roster.map(|r| {
        let reps_set: std::collections::HashSet<&str> = reps.iter().map(|x| &**x).collect();
        let owns: Vec<bool> =
            r.people.iter().map(|p| reps_set.contains(p.person_id.as_str())).collect();
        r.levels(playbook, &owns)
    });
    for (i, rep) in reps.iter().enumerate() {
        let person = roster.and_then(|r| r.index.get(&**rep).map(|&x| (r, x)));
        let (name, parent_id) = match person {
            Some((r, x)) => {
                for a in r.ancestors(x) {
                    nodes.entry(a).or_default().push(i as u32);
                }
                (r.people[x].name.clone(), r.parent[x].map(|p| r.people[p].person_id.clone()))
            }
            None => (rep.to_string(), None),
        };
        out.push(Group {
            level: "rep".into(),
            id: rep.to_string(),
            name,
            parent_id,
            members: vec![i as u32],
        });
    }
    if let (Some(r), Some(levels)) = (roster, levels) {
        let upper: BTreeSet<&str> =
            nodes.keys().map(|&n| levels[n].as_str()).filter(|l| *l != "rep").collect();
        let mut unassigned: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for (i, rep) in reps.iter().enumerate() {
            let covered: BTreeSet<&str> = match r.index.get(&**rep) {
                Some(&x) => r.ancestors(x).iter().map(|&a| levels[a].as_str()).collect(),
                None => BTreeSet::new(),
            };
            for level in upper.difference(&covered) {
                unassigned.entry(level).or_default().push(i as u32);
            }
        }
        let roots: Vec<usize> = (0..r.people.len()).filter(|&i| r.parent[i].is_none()).collect();
        let root_id = match roots.as_slice() {
            [only] if nodes.contains_key(only) => Some(r.people[*only].person_id.clone()),
            _ => None,
        };
        let unassigned_levels: Vec<&str> = unassigned.keys().copied().collect();
        for (level, members) in unassigned {
            // The unassigned node one level up, when there is one, else the root.
            let above = unassigned_levels
                .iter()
                .filter(|l| level_rank(l) > level_rank(level))
                .min_by_key(|l| level_rank(l));
            out.push(Group {
                level: level.to_string(),
                id: UNASSIGNED.into(),
                name: UNASSIGNED.into(),
                parent_id: above.map(|_| UNASSIGNED.to_string()).or_else(|| root_id.clone()),
                members,
            });
        }
        // A rep whose manager is unknown hangs under the unassigned node.
        for g in out.iter_mut().filter(|g| g.level == "rep" && g.parent_id.is_none()) {
            if !upper.is_empty() {
                g.parent_id = Some(UNASSIGNED.into());
            }
        }
        for (node, members) in nodes {
            let p = &r.people[node];
            out.push(Group {
                level: levels[node].clone(),
                id: p.person_id.clone(),
                name: p.name.clone(),
                parent_id: r.parent[node].map(|x| r.people[x].person_id.clone()),
                members,
            });
        }
    }
    out.sort_by(|a, b| {
        (level_rank(&a.level), &a.level, &a.id).cmp(&(level_rank(&b.level), &b.level, &b.id))
    });
    out.push(Group {
        level: "company".into(),
        id: "company".into(),
        name: "Company".into(),
        parent_id: None,
        members: (0..reps.len() as u32).collect(),
    });
    out
}

/// Reporting order of levels: reps first, then up the tree, the company last.
pub fn level_rank(level: &str) -> u8 {
    match level {
        "rep" => 0,
        "manager" => 1,
        "director" => 2,
        "board" => 3,
        "company" => 9,
        _ => 4,
    }
}

/// One row of the funnel table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FunnelRow {
    pub level: String,
    pub group_id: String,
    pub group_name: String,
    pub parent_id: Option<String>,
    pub period: String,
    pub from_stage: String,
    pub to_stage: String,
    pub method: Method,
    pub window_days: u32,
    pub entered: u64,
    pub converted: u64,
    pub lost: Option<u64>,
    pub open: Option<u64>,
    pub skipped: u64,
    pub rate: Option<f64>,
    /// converted / entered, as counted at as-of.
    pub rate_observed: Option<f64>,
    /// The share of the cohort's outcome already observed: effective observations / entered.
    pub observed_share: Option<f64>,
    pub rate_low: Option<f64>,
    pub rate_high: Option<f64>,
    pub rate_shrunk: Option<f64>,
    pub prior_alpha: Option<f64>,
    pub prior_beta: Option<f64>,
    pub level_median: Option<f64>,
    pub mature: bool,
    /// Median days from entering the stage to stepping up (company, all cohorts).
    pub step_days_median: Option<f64>,
    /// Median days from entering the stage to being lost (company, all cohorts).
    pub lost_days_median: Option<f64>,
    pub activities: Option<u64>,
    pub activities_per_deal: Option<f64>,
    pub touched_share: Option<f64>,
    pub personalized_share: Option<f64>,
    pub activity_mix: Option<String>,
    pub first_activity_hours_median: Option<f64>,
    pub first_call_connected_share: Option<f64>,
    pub first_call_duration_median_s: Option<f64>,
    pub won: Option<u64>,
    pub won_amount: Option<Decimal>,
    pub avg_deal_size: Option<Decimal>,
    pub cycle_days_median: Option<f64>,
}

fn ratio(k: u64, n: u64) -> Option<f64> {
    (n > 0).then(|| k as f64 / n as f64)
}

fn med(v: &[f32]) -> Option<f64> {
    let mut x: Vec<f64> = v.iter().map(|&f| f as f64).collect();
    median(&mut x)
}

/// Rolls the tally up to the groups and computes every rate, interval and shrunk value.
pub fn rows(t: &Tally, groups: &[Group]) -> Vec<FunnelRow> {
    let stages = t.stages;
    let cfg = &t.cfg;
    let transitions = stages - 1;
    let overall_window = t.overall_window();
    let models: Vec<LagModel> = t.lags.iter().map(LagModel::fit).collect();
    let mut ages: BTreeMap<u32, u32> = BTreeMap::new();
    let mut out = Vec::new();
    for g in groups {
        for p in 0..t.periods {
            let mut cells = vec![StageCounts::default(); stages];
            let mut outcome = Outcome::default();
            let n_types = t.types.len();
            let mut mix = vec![0u64; stages * n_types];
            for &r in &g.members {
                for (s, c) in cells.iter_mut().enumerate() {
                    let idx = t.cell_idx(r, p, s);
                    c.add(&t.cells[idx]);
                    if t.cells[idx].activities > 0 {
                        for ty in 0..n_types {
                            if let Some(n) = t.mix.get(&(idx as u32, ty as u16)) {
                                mix[s * n_types + ty] += *n as u64;
                            }
                        }
                    }
                }
                outcome.add(&t.outcomes[r as usize * t.periods + p]);
            }
            if cells.iter().all(|c| c.entered == 0) && outcome.won == 0 {
                continue;
            }
            let period = Period { index: t.first.index + p as i32, ..t.first };
            let (end, label) = if cfg.whole {
                (cfg.as_of, "all".to_string())
            } else {
                (t.cal.end_of(period), period.label())
            };
            for s in 0..transitions {
                let c = &cells[s];
                let (converted, lost, open) = match cfg.method {
                    Method::Cohort => (c.converted, Some(c.lost), Some(c.open)),
                    Method::Flow => (cells[s + 1].entered, None, None),
                };
                let window = cfg.windows[s];
                let mature = match cfg.method {
                    Method::Cohort => cfg.as_of >= end + window as i64 * MICROS_PER_DAY,
                    Method::Flow => cfg.as_of >= end,
                };
                let mut mix_s: Vec<(&str, u64)> = (0..n_types)
                    .filter(|&ty| mix[s * n_types + ty] > 0)
                    .map(|ty| (t.types.str(ty as u32), mix[s * n_types + ty]))
                    .collect();
                mix_s.sort();
                let mix_s: Vec<String> = mix_s.iter().map(|(ty, n)| format!("{ty}={n}")).collect();
                let first_stage = s == 0;
                let acts = t.activity_columns;
                let keys = g.members.iter().map(|&r| t.cell_idx(r, p, s) as u32);
                let est = match cfg.method {
                    Method::Cohort if c.open_young == 0 => {
                        estimate(&models[s], converted, c.entered - converted, &[])
                    }
                    Method::Cohort => {
                        cohort_estimate(t, &models[s], keys, converted, c.entered, &mut ages)
                    }
                    Method::Flow => flow_estimate(converted, c.entered),
                };
                out.push(FunnelRow {
                    level: g.level.clone(),
                    group_id: g.id.clone(),
                    group_name: g.name.clone(),
                    parent_id: g.parent_id.clone(),
                    period: label.clone(),
                    from_stage: cfg.stages[s].clone(),
                    to_stage: cfg.stages[s + 1].clone(),
                    method: cfg.method,
                    window_days: window,
                    entered: c.entered,
                    converted,
                    lost,
                    open,
                    skipped: c.skipped,
                    rate: est.map(|e| e.rate),
                    rate_observed: ratio(converted, c.entered),
                    observed_share: est.map(|e| e.effective_n / c.entered as f64),
                    rate_low: est.map(|e| e.low).filter(|v| v.is_finite()),
                    rate_high: est.map(|e| e.high).filter(|v| v.is_finite()),
                    rate_shrunk: None,
                    prior_alpha: None,
                    prior_beta: None,
                    level_median: None,
                    mature,
                    step_days_median: models[s].convert_days_median,
                    lost_days_median: models[s].lost_days_median,
                    activities: acts.any.then_some(c.activities),
                    activities_per_deal: if acts.any {
                        ratio(c.activities, c.entered)
                    } else {
                        None
                    },
                    touched_share: if acts.any { ratio(c.touched, c.entered) } else { None },
                    personalized_share: if acts.personalized {
                        ratio(c.personalized, c.emails)
                    } else {
                        None
                    },
                    activity_mix: (acts.any && !mix_s.is_empty()).then(|| mix_s.join(";")),
                    first_activity_hours_median: if acts.any && first_stage {
                        med(&outcome.first_activity_hours)
                    } else {
                        None
                    },
                    first_call_connected_share: if acts.outcome && first_stage {
                        ratio(outcome.first_calls_connected, outcome.first_calls)
                    } else {
                        None
                    },
                    first_call_duration_median_s: if acts.duration && first_stage {
                        med(&outcome.first_call_seconds)
                    } else {
                        None
                    },
                    won: None,
                    won_amount: None,
                    avg_deal_size: None,
                    cycle_days_median: None,
                });
            }
            // The whole funnel, first stage to last, with the outcome figures.
            let entered = cells[0].entered;
            let (converted, lost, open) = match cfg.method {
                Method::Cohort => (outcome.reached, Some(outcome.lost), Some(outcome.open)),
                Method::Flow => (cells[stages - 1].entered, None, None),
            };
            let won_amount = (outcome.won_with_amount > 0).then(|| scaled(outcome.won_amount));
            let est = match cfg.method {
                Method::Cohort if outcome.open_young == 0 => {
                    estimate(&models[transitions], converted, entered - converted.min(entered), &[])
                }
                Method::Cohort => {
                    let keys = g
                        .members
                        .iter()
                        .map(|&r| (t.cells.len() + r as usize * t.periods + p) as u32);
                    cohort_estimate(t, &models[transitions], keys, converted, entered, &mut ages)
                }
                Method::Flow => flow_estimate(converted, entered),
            };
            out.push(FunnelRow {
                level: g.level.clone(),
                group_id: g.id.clone(),
                group_name: g.name.clone(),
                parent_id: g.parent_id.clone(),
                period: label,
                from_stage: cfg.stages[0].clone(),
                to_stage: cfg.stages[stages - 1].clone(),
                method: cfg.method,
                window_days: overall_window,
                entered,
                converted,
                lost,
                open,
                skipped: 0,
                rate: est.map(|e| e.rate),
                rate_observed: ratio(converted, entered),
                observed_share: est.map(|e| e.effective_n / entered as f64),
                rate_low: est.map(|e| e.low).filter(|v| v.is_finite()),
                rate_high: est.map(|e| e.high).filter(|v| v.is_finite()),
                rate_shrunk: None,
                prior_alpha: None,
                prior_beta: None,
                level_median: None,
                mature: cfg.as_of >= end + overall_window as i64 * MICROS_PER_DAY,
                step_days_median: models[transitions].convert_days_median,
                lost_days_median: models[transitions].lost_days_median,
                activities: None,
                activities_per_deal: None,
                touched_share: None,
                personalized_share: None,
                activity_mix: None,
                first_activity_hours_median: None,
                first_call_connected_share: None,
                first_call_duration_median_s: None,
                won: Some(outcome.won),
                won_amount,
                avg_deal_size: won_amount
                    .map(|a| (a / Decimal::from(outcome.won_with_amount)).round_dp(2)),
                cycle_days_median: med(&outcome.cycle_days),
            });
        }
    }
    shrink(&mut out);
    out
}

/// A cohort's estimate from its counts and the ages of its open deals (gathered from the
/// member cells `keys`). See `metrics::open_cohorts`.
fn cohort_estimate(
    t: &Tally,
    model: &LagModel,
    keys: impl Iterator<Item = u32>,
    converted: u64,
    entered: u64,
    ages: &mut BTreeMap<u32, u32>,
) -> Option<Estimate> {
    ages.clear();
    for k in keys {
        for &a in t.open_ages.get(&k).map_or(&[][..], |v| v.as_slice()) {
            *ages.entry(a).or_default() += 1;
        }
    }
    let open: Vec<(u32, u32)> = ages.iter().map(|(&a, &n)| (a, n)).collect();
    let n_open: u64 = open.iter().map(|o| o.1 as u64).sum();
    let decided_no = entered.saturating_sub(converted + n_open);
    let e = estimate(model, converted, decided_no, &open)?;
    if n_open == 0 {
        return Some(e);
    }
    // Open cohorts are kept at the precision tables are written with, so that rows read back
    // from a funnel table give the same effective counts as rows computed here.
    let n = entered as f64;
    Some(Estimate {
        rate: round6(e.rate),
        low: round6(e.low),
        high: round6(e.high),
        effective_n: round6(e.effective_n / n) * n,
    })
}

/// A flow rate: entries into s+1 over entries into s (can exceed 1; no interval then).
fn flow_estimate(converted: u64, entered: u64) -> Option<Estimate> {
    let rate = ratio(converted, entered)?;
    let (low, high) = wilson(converted as f64, entered as f64).unwrap_or((f64::NAN, f64::NAN));
    Some(Estimate { rate, low, high, effective_n: entered as f64 })
}

/// The precision tables are written with: rows read back from a funnel table then give the
/// same effective counts as rows computed here.
fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

fn scaled(v: i128) -> Decimal {
    Decimal::try_from_i128_with_scale(v, 4).unwrap_or(Decimal::MAX).normalize()
}

/// A row's (successes, observations) as the estimate is worth them: rate × effective n, and
/// effective n (entered when nothing is open).
pub fn effective_counts(r: &FunnelRow) -> (f64, f64) {
    match (r.rate, r.observed_share, r.method) {
        (Some(rate), Some(share), Method::Cohort) if share < 1.0 => {
            let n = share * r.entered as f64;
            (rate * n, n)
        }
        _ => (r.converted as f64, r.entered as f64),
    }
}

/// Fits a Beta prior per (level, period, transition) across the groups of that level and
/// stores each group's posterior mean, the prior, and the level's median raw rate.
fn shrink(rows: &mut [FunnelRow]) {
    let mut peers: FxHashMap<(String, String, String, String), Vec<usize>> = FxHashMap::default();
    for (i, r) in rows.iter().enumerate() {
        peers
            .entry((r.level.clone(), r.period.clone(), r.from_stage.clone(), r.to_stage.clone()))
            .or_default()
            .push(i);
    }
    for idx in peers.values() {
        let counts: Vec<(f64, f64)> = idx.iter().map(|&i| effective_counts(&rows[i])).collect();
        let prior = fit_beta(&counts);
        let mut rates: Vec<f64> = idx.iter().filter_map(|&i| rows[i].rate).collect();
        let level_median = median(&mut rates);
        for &i in idx {
            let r = &mut rows[i];
            r.level_median = level_median;
            let (k, n) = effective_counts(r);
            if n > 0.0 && k <= n {
                r.rate_shrunk = Some(prior.posterior_mean(k, n));
                r.prior_alpha = Some(prior.alpha);
                r.prior_beta = Some(prior.beta);
            }
        }
    }
}
