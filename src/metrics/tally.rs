//! Counting a funnel: each deal's stage entries into cohorts per rep, period and stage, the
//! outcomes of the whole funnel, the activities on each cohort, and the ages of open deals.

//! The funnel: step-up rates per group (rep, every roster level, company) and period, with
//! intervals, shrinkage, and the activity and outcome indicators beside them.
//!
//! Counts are gathered per rep in dense arrays, then summed up the roster tree, so that a
//! node's counts are exactly the sums over the deals credited to the reps under it.

use crate::metrics::config::FunnelConfig;
use crate::metrics::deals::{Deals, NONE_TS};
use crate::metrics::open_cohorts::LagCounts;
use crate::model::money::MoneySums;
use crate::model::time::{Calendar, MICROS_PER_DAY, Micros, Period};
use rustc_hash::FxHashMap;

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
    pub(crate) fn add(&mut self, o: &StageCounts) {
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
    /// Those open leads: the stage each has reached, and its age there in days.
    pub open_leads: Vec<(u8, u32)>,
    /// Deals entering the last stage in the period (credited to the owner then).
    pub won: u64,
    /// Exact: the sums of the amounts as read, one per currency.
    pub won_money: MoneySums,
    pub cycle_days: Vec<f32>,
    pub first_activity_hours: Vec<f32>,
    pub first_calls: u64,
    pub first_calls_connected: u64,
    pub first_call_seconds: Vec<f32>,
}

impl Outcome {
    pub(crate) fn add(&mut self, o: &Outcome) {
        self.reached += o.reached;
        self.lost += o.lost;
        self.open += o.open;
        self.open_young += o.open_young;
        self.open_leads.extend_from_slice(&o.open_leads);
        self.won += o.won;
        self.won_money.merge(&o.won_money);
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
    /// Deals closed both ways, counted by their latest outcome.
    pub reclosed: u64,
    /// Step-ups whose two stage times are in the export, and those with an inferred one.
    pub step_ups_dated: u64,
    pub step_ups_undated: u64,
    pub closings: crate::metrics::deals::Closings,
    pub cfg: FunnelConfig,
    pub cal: Calendar,
    pub first: Period,
    /// The periods that have data (the index of each, sorted): counts are kept for these
    /// only, so that memory follows the rows and not the calendar span between them.
    pub slots: Vec<i32>,
    pub periods: usize,
    pub stages: usize,
    pub reps: Vec<Box<str>>,
    pub(crate) cells: Vec<StageCounts>,
    pub(crate) outcomes: Vec<Outcome>,
    /// Activity counts per (cell index, activity type).
    pub(crate) mix: FxHashMap<(u32, u16), u32>,
    pub types: crate::metrics::deals::Interner,
    pub activity_columns: ActivityColumns,
    /// The deals with their resolved stage entries, kept for the activity pass.
    pub(crate) deals: Deals,
    pub(crate) touched: Vec<u32>,
    pub(crate) first_activity: Vec<Micros>,
    /// Earliest call per deal: (time, duration or -1, connected or None).
    pub(crate) first_call: Vec<(Micros, i32, Option<bool>)>,
    pub activities_unmatched: u64,
    /// Per transition (and last, the whole funnel): outcomes by day since entry, for the
    /// timing of open cohorts.
    pub(crate) lags: Vec<LagCounts>,
    /// Ages in days of the deals still open at as-of, per cell (whole funnel: per outcome
    /// index, offset by the number of cells).
    /// (cell, age in days) of every deal still open inside its window, sorted by cell once
    /// counting is done, with each cell's range: one allocation, not one per cell.
    pub(crate) open_ages: Vec<(u32, u32)>,
    pub(crate) open_index: FxHashMap<u32, (u32, u32)>,
}

/// The periods in which some deal entered a stage: the only ones counts are kept for. Marked
/// in a set over the calendar's span rather than listed per entry: millions of deals, few
/// periods.
fn periods_with_data(cal: &Calendar, deals: &Deals) -> Vec<i32> {
    let mut seen: std::collections::BTreeSet<i32> = std::collections::BTreeSet::new();
    let mut last = None;
    for d in 0..deals.len() {
        for s in 0..deals.stages {
            let e = deals.entry(d, s);
            if !e.is_some() {
                continue;
            }
            let p = cal.period_of(e.ts).index;
            if last != Some(p) {
                seen.insert(p);
                last = Some(p);
            }
        }
    }
    seen.into_iter().collect()
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
        let n_reps = deals.reps.len();
        deals.resolve(cfg.strict, cfg.as_of, cfg.stale_after_days);
        let first = cal.period_of(lo);
        let slots = if cfg.whole { vec![first.index] } else { periods_with_data(&cal, &deals) };
        let periods = slots.len();
        let reclosed = deals.reclosed;
        let mut t = Tally {
            reclosed,
            step_ups_dated: 0,
            step_ups_undated: 0,
            closings: deals.closings,
            cal,
            first,
            slots,
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
            open_ages: Vec::new(),
            open_index: FxHashMap::default(),
            cfg,
        };
        t.lags = (0..stages.saturating_sub(1))
            .map(|s| LagCounts::new(t.cfg.windows[s]))
            .chain(std::iter::once(LagCounts::new(t.overall_window())))
            .collect();
        for d in 0..deals.len() {
            t.count_deal(d, &deals);
        }
        t.index_open_ages();
        t.deals = deals;
        t
    }

    fn index_open_ages(&mut self) {
        self.open_ages.sort_unstable();
        let mut index = FxHashMap::default();
        let mut start = 0;
        while start < self.open_ages.len() {
            let cell = self.open_ages[start].0;
            let end = start + self.open_ages[start..].iter().take_while(|o| o.0 == cell).count();
            index.insert(cell, (start as u32, end as u32));
            start = end;
        }
        self.open_index = index;
    }

    /// The ages of the open deals of a cell.
    pub(crate) fn open_ages_of(&self, cell: u32) -> &[(u32, u32)] {
        self.open_index
            .get(&cell)
            .map_or(&[][..], |&(a, b)| &self.open_ages[a as usize..b as usize])
    }

    pub(crate) fn p_idx(&self, ts: Micros) -> usize {
        if self.cfg.whole {
            return 0;
        }
        let index = self.cal.period_of(ts).index;
        self.slots.binary_search(&index).expect("a stage entry's period has a slot")
    }

    pub(crate) fn cell_idx(&self, rep: u32, p: usize, s: usize) -> usize {
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
                    if deals.is_inferred(d, s + 1) || deals.is_inferred(d, s) {
                        self.lags[s].converted_undated();
                        self.step_ups_undated += 1;
                    } else {
                        self.lags[s].converted(days(entry.ts, next.ts));
                        self.step_ups_dated += 1;
                    }
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
                            self.open_ages.push((idx as u32, age.max(0.0) as u32));
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
                if deals.is_inferred(d, 0) || deals.is_inferred(d, stages - 1) {
                    self.lags[whole].converted_undated();
                } else {
                    self.lags[whole].converted(days(first.ts, last.ts));
                }
            } else if terminal >= first.ts {
                o.lost += 1;
                self.lags[whole].lost(days(first.ts, terminal));
            } else {
                o.open += 1;
                let age = days(first.ts, as_of);
                self.lags[whole].open(age);
                if age < overall as f64 {
                    let reached = (0..stages).rev().find(|&s| e(s).is_some()).unwrap_or(0);
                    let at_stage = days(e(reached).ts, as_of).max(0.0) as u32;
                    let o = &mut self.outcomes[outcome_idx];
                    o.open_young += 1;
                    o.open_leads.push((reached as u8, at_stage));
                }
            }
        }
        if last.is_some() {
            let amount = deals.amount(d);
            let cycle =
                first.is_some().then(|| (last.ts - first.ts) as f64 / MICROS_PER_DAY as f64);
            let o = self.outcome_mut(last.rep, last.ts);
            o.won += 1;
            if let Some((a, currency)) = amount {
                o.won_money.add(currency, a);
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

    /// Lets go of the per-deal tables once the activities are matched: the rows need only the
    /// cells, and with millions of deals the tables are most of the memory.
    pub fn release_deals(&mut self) {
        self.deals = Deals::new(self.stages);
        self.touched = Vec::new();
        self.first_activity = Vec::new();
        self.first_call = Vec::new();
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
