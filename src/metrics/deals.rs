//! Per-deal stage entries, built from events in one streaming pass.
//!
//! Memory grows with the number of deals, not of events: each deal keeps, per stage, its
//! earliest direct event (time and owner), its latest terminal outcome and its latest amount.

use crate::model::money::Currency;
use crate::model::playbook::StageCode;
use crate::model::time::Micros;
use rust_decimal::Decimal;

pub use super::interner::{Interner, hash_bytes};

pub const NONE_TS: Micros = i64::MAX;

/// What an event carries besides its deal, rep, stage and time.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventExtra {
    /// The amount and its currency.
    pub amount: Option<(Decimal, Option<Currency>)>,
    /// The time is not in the export: ingest inferred it (`inferred` column).
    pub inferred: bool,
}

/// A stage entry: when, and the owner then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub ts: Micros,
    pub rep: u32,
}

impl Entry {
    pub const NONE: Entry = Entry { ts: NONE_TS, rep: u32::MAX };

    pub fn is_some(&self) -> bool {
        self.ts != NONE_TS
    }
}

/// How a deal ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Won,
    Lost,
    Open,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Won => "won",
            Outcome::Lost => "lost",
            Outcome::Open => "open",
        }
    }
}

/// How the export's closings were read, for the warnings every command gives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Closings {
    pub deals: u64,
    /// Losses the export records itself.
    pub recorded_losses: u64,
    /// Losses dated before the deal's first stage event (a backfilled close date): lost at its
    /// last stage event instead, never turned open.
    pub closed_before_created: u64,
    /// Open deals with no event for `stale_after_days` before as-of: counted as lost.
    pub stale: u64,
    pub stale_after_days: u32,
}

impl Closings {
    /// The warnings these call for: close before create, quiet deals, no loss at all.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let deals = |n: u64| crate::io::output::count(n, "deal", "deals");
        if self.closed_before_created > 0 {
            out.push(format!(
                "warning: {} lost before their first stage date (a close date backfilled before the creation date?): each counts as lost at its last stage date",
                deals(self.closed_before_created)
            ));
        }
        if self.recorded_losses == 0 && self.deals >= 20 {
            out.push(format!(
                "warning: the export records no lost deal among {}: deals still open count as lost only once they have had no event for {} days (funnel.stale_after_days); rates of recent months read high until then. Does the export leave lost deals out?",
                deals(self.deals),
                self.stale_after_days
            ));
        }
        if self.stale > 0 {
            out.push(format!(
                "note: {} had no event for {} days (funnel.stale_after_days) and count as lost",
                crate::io::output::count(self.stale, "open deal", "open deals"),
                self.stale_after_days
            ));
        }
        out
    }
}

/// The deals seen in the events, with their stage entries (direct until `resolve`).
#[derive(Debug)]
pub struct Deals {
    pub stages: usize,
    pub ids: Interner,
    pub reps: Interner,
    /// `deals × stages`: time and owner of the earliest event per stage.
    ts: Vec<Micros>,
    rep: Vec<u32>,
    /// Latest terminal outcome per deal (`i64::MIN` when none).
    pub terminal: Vec<Micros>,
    /// Latest event at the last stage (the win) per deal (`i64::MIN` when none).
    won_latest: Vec<Micros>,
    /// Deals closed both ways (won and lost): counted by their latest outcome.
    pub reclosed: u64,
    /// How the export's closings were read (see [`Closings`]).
    pub closings: Closings,
    /// Latest recorded amount per deal, exact as read: (time, amount); time `i64::MIN` when
    /// none. Empty until the first amount: lead funnels often carry none.
    amount: Vec<(Micros, Decimal)>,
    /// The currency of that amount, where the data says it (empty until the first amount).
    currency: Vec<Option<Currency>>,
    /// `deals × stages`: the entry's time is not in the export (a stage a snapshot implies,
    /// dated by ingest from a neighbouring date). Empty until the first such event.
    inferred: Vec<bool>,
    pub min_ts: Micros,
    pub max_ts: Micros,
    resolved: bool,
}

impl Deals {
    pub fn new(stages: usize) -> Deals {
        Deals::with_capacity(stages, 0)
    }

    /// Room for about `deals` deals, so that the tables do not grow step by step.
    pub fn with_capacity(stages: usize, deals: usize) -> Deals {
        Deals {
            stages,
            ids: Interner::with_capacity(deals),
            reps: Interner::default(),
            ts: Vec::with_capacity(deals * stages),
            rep: Vec::with_capacity(deals * stages),
            terminal: Vec::with_capacity(deals),
            won_latest: Vec::with_capacity(deals),
            reclosed: 0,
            closings: Closings::default(),
            amount: Vec::new(),
            currency: Vec::new(),
            inferred: Vec::new(),
            min_ts: i64::MAX,
            max_ts: i64::MIN,
            resolved: false,
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Adds one event.
    pub fn add(
        &mut self,
        deal: &str,
        rep: &str,
        stage: StageCode,
        ts: Micros,
        amount: Option<Decimal>,
    ) {
        let rep = self.reps.intern(rep);
        self.add_indexed(
            hash_bytes(deal.as_bytes()),
            deal,
            rep,
            stage,
            ts,
            EventExtra { amount: amount.map(|a| (a, None)), inferred: false },
        );
    }

    /// `add` with the deal id's `hash_bytes` computed and the rep interned by the caller
    /// (the reading thread), so that the counting thread only does what must be serial.
    pub fn add_indexed(
        &mut self,
        deal_hash: u64,
        deal: &str,
        rep: u32,
        stage: StageCode,
        ts: Micros,
        extra: EventExtra,
    ) {
        let EventExtra { amount, inferred } = extra;
        debug_assert!(!self.resolved, "events added after resolve");
        debug_assert!((rep as usize) < self.reps.len(), "rep interned before use");
        let d = self.ids.intern_hashed(deal_hash, deal) as usize;
        if d == self.terminal.len() {
            self.ts.extend(std::iter::repeat_n(NONE_TS, self.stages));
            if !self.inferred.is_empty() {
                self.inferred.extend(std::iter::repeat_n(false, self.stages));
            }
            self.rep.extend(std::iter::repeat_n(u32::MAX, self.stages));
            self.terminal.push(i64::MIN);
            self.won_latest.push(i64::MIN);
            if !self.amount.is_empty() {
                self.amount.push((i64::MIN, Decimal::ZERO));
                self.currency.push(None);
            }
        }
        self.min_ts = self.min_ts.min(ts);
        self.max_ts = self.max_ts.max(ts);
        let s = stage as usize;
        if s < self.stages {
            let k = d * self.stages + s;
            let replace = ts < self.ts[k]
                || (ts == self.ts[k] && self.reps.str(rep) < self.reps.str(self.rep[k]));
            if inferred && self.inferred.is_empty() {
                self.inferred = vec![false; self.ts.len()];
            }
            if replace {
                self.ts[k] = ts;
                self.rep[k] = rep;
                if !self.inferred.is_empty() {
                    self.inferred[k] = inferred;
                }
            }
            if s + 1 == self.stages {
                self.won_latest[d] = self.won_latest[d].max(ts);
            }
        } else {
            self.terminal[d] = self.terminal[d].max(ts);
        }
        if let Some((a, currency)) = amount {
            if self.amount.is_empty() {
                self.amount = vec![(i64::MIN, Decimal::ZERO); self.terminal.len()];
                self.currency = vec![None; self.terminal.len()];
            }
            let cur = &mut self.amount[d];
            if ts > cur.0 || (ts == cur.0 && a > cur.1) {
                *cur = (ts, a);
                self.currency[d] = currency;
            }
        }
    }

    /// Stage `s` of deal `d`: its entry after `resolve`, its earliest direct event before.
    pub fn entry(&self, d: usize, s: usize) -> Entry {
        let k = d * self.stages + s;
        Entry { ts: self.ts[k], rep: self.rep[k] }
    }

    /// Whether the time of deal `d`'s entry into stage `s` was inferred, not read.
    pub fn is_inferred(&self, d: usize, s: usize) -> bool {
        !self.inferred.is_empty() && self.inferred[d * self.stages + s]
    }

    /// Deal `d`'s latest recorded amount and its currency, if any.
    pub fn amount(&self, d: usize) -> Option<(Decimal, Option<Currency>)> {
        let &(ts, a) = self.amount.get(d)?;
        (ts != i64::MIN).then(|| (a, self.currency[d]))
    }

    /// Hints that the deal of hash `h` is about to be added.
    #[inline]
    pub fn prefetch(&self, h: u64) {
        self.ids.prefetch(h);
    }

    /// The latest event at the last stage (the win) of deal `d`, if any.
    pub fn latest_win(&self, d: usize) -> Option<Micros> {
        (self.won_latest[d] != i64::MIN).then_some(self.won_latest[d])
    }

    /// The latest terminal event (the loss) of deal `d`, if it still counts: after `resolve`, a
    /// loss undone by a later win is gone.
    pub fn latest_loss(&self, d: usize) -> Option<Micros> {
        (self.terminal[d] != i64::MIN).then_some(self.terminal[d])
    }

    /// How deal `d` ended, decided here for every command (`funnel`, `validate`, …). A deal
    /// closed both ways (Won → Lost, or Lost → reopened → Won, any number of times) counts by
    /// its latest outcome; a win and a loss at the same instant count as won.
    pub fn outcome(&self, d: usize) -> Outcome {
        match (self.latest_win(d), self.latest_loss(d)) {
            (Some(w), Some(l)) if l > w => Outcome::Lost,
            (Some(_), _) => Outcome::Won,
            (None, Some(_)) => Outcome::Lost,
            (None, None) => Outcome::Open,
        }
    }

    /// Closes what an export leaves out of order or open. A loss dated before the deal's first
    /// stage event (a close date backfilled before the creation date) keeps the outcome: the
    /// deal is lost at its last stage event. An open deal with no event for `stale_after_days`
    /// before `as_of` has gone quiet: it is lost at its last event plus that time.
    fn close_backdated_and_quiet(&mut self, as_of: Micros, stale_after_days: u32) {
        let stale = stale_after_days as i64 * crate::model::time::MICROS_PER_DAY;
        self.closings.deals = self.len() as u64;
        self.closings.stale_after_days = stale_after_days;
        for d in 0..self.len() {
            let stages = &self.ts[d * self.stages..(d + 1) * self.stages];
            let direct = stages.iter().filter(|&&t| t != NONE_TS);
            let (first, last) =
                direct.fold((NONE_TS, i64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t)));
            let loss = self.terminal[d];
            if loss != i64::MIN {
                self.closings.recorded_losses += 1;
                if first != NONE_TS && loss < first {
                    self.terminal[d] = last;
                    self.closings.closed_before_created += 1;
                }
                continue;
            }
            if self.outcome(d) == Outcome::Open
                && last != i64::MIN
                && last.saturating_add(stale) < as_of
            {
                self.terminal[d] = last + stale;
                self.closings.stale += 1;
            }
        }
    }

    /// Settles every deal closed both ways by [`Deals::outcome`]: a later loss undoes the win,
    /// a later win the loss. The undone win still says the deal reached the stage before it
    /// (unless `strict`).
    fn settle_outcomes(&mut self, strict: bool) {
        let last = self.stages - 1;
        for d in 0..self.len() {
            let k = d * self.stages + last;
            if self.terminal[d] == i64::MIN || self.ts[k] == NONE_TS {
                continue;
            }
            self.reclosed += 1;
            if self.outcome(d) == Outcome::Lost {
                if !strict && last > 0 && self.ts[k] < self.ts[k - 1] {
                    self.ts[k - 1] = self.ts[k];
                    self.rep[k - 1] = self.rep[k];
                    if !self.inferred.is_empty() {
                        self.inferred[k - 1] = self.inferred[k];
                    }
                }
                self.ts[k] = NONE_TS;
                self.rep[k] = u32::MAX;
            } else {
                self.terminal[d] = i64::MIN;
            }
        }
    }

    /// Turns direct events into stage entries, in place. With skip filling, stage s is
    /// entered at the earliest event of any stage ≥ s (ties go to the lower stage, so the owner
    /// is that event's); in strict mode only direct events count and nothing changes.
    pub fn resolve(&mut self, strict: bool, as_of: Micros, stale_after_days: u32) {
        self.resolved = true;
        self.settle_outcomes(strict);
        self.close_backdated_and_quiet(as_of, stale_after_days);
        if strict {
            return;
        }
        for d in 0..self.len() {
            let base = d * self.stages;
            let mut best = Entry::NONE;
            let mut best_inferred = false;
            let flags = !self.inferred.is_empty();
            for k in (base..base + self.stages).rev() {
                if self.ts[k] != NONE_TS && self.ts[k] <= best.ts {
                    best = Entry { ts: self.ts[k], rep: self.rep[k] };
                    best_inferred = flags && self.inferred[k];
                }
                self.ts[k] = best.ts;
                self.rep[k] = best.rep;
                if flags {
                    self.inferred[k] = best_inferred;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_filling_and_first_entry() {
        let mut d = Deals::new(5);
        d.add("D1", "R1", 0, 100, None);
        d.add("D1", "R2", 2, 300, Some(Decimal::new(5, 0)));
        d.add("D1", "R1", 0, 50, None); // an earlier lead event wins
        d.add("D1", "R3", 2, 400, Some(Decimal::new(7, 0))); // re-entry: not the first
        assert!(!d.entry(0, 1).is_some());
        d.resolve(false, 0, 180);
        assert_eq!(d.entry(0, 0), Entry { ts: 50, rep: 0 });
        assert_eq!(d.entry(0, 1), Entry { ts: 300, rep: 1 }); // filled by the proposal event
        assert_eq!(d.entry(0, 2), Entry { ts: 300, rep: 1 });
        assert!(!d.entry(0, 3).is_some());
        assert_eq!(d.amount(0), Some((Decimal::new(7, 0), None)));
    }

    #[test]
    fn a_deal_closed_both_ways_counts_by_its_latest_outcome() {
        let mut d = Deals::new(3);
        // D1: won, then lost (a re-close); D2: lost, then reopened and won.
        d.add("D1", "R1", 0, 100, None);
        d.add("D1", "R1", 2, 200, None);
        d.add("D1", "R1", 3, 300, None);
        d.add("D2", "R1", 0, 100, None);
        d.add("D2", "R1", 3, 200, None);
        d.add("D2", "R1", 2, 300, None);
        d.resolve(false, 0, 180);
        assert_eq!(d.reclosed, 2);
        assert!(!d.entry(0, 2).is_some() && d.terminal[0] == 300, "D1 is lost");
        assert_eq!(d.entry(0, 1).ts, 200, "after reaching the stage before the win");
        assert!(d.entry(1, 2).is_some() && d.terminal[1] == i64::MIN, "D2 is won");
    }

    #[test]
    fn won_lost_won_is_won_before_and_after_resolve() {
        let mut d = Deals::new(3);
        d.add("D", "R1", 0, 100, None);
        d.add("D", "R1", 2, 200, None);
        d.add("D", "R1", 3, 300, None);
        d.add("D", "R1", 2, 400, None);
        assert_eq!(d.outcome(0), Outcome::Won);
        d.resolve(false, 0, 180);
        assert_eq!(d.outcome(0), Outcome::Won);
        assert!(d.entry(0, 2).is_some());
    }

    #[test]
    fn earlier_later_stage_fills_before_a_late_direct_event() {
        let mut d = Deals::new(3);
        d.add("D", "R1", 1, 500, None);
        d.add("D", "R2", 2, 200, None);
        d.resolve(false, 0, 180);
        assert_eq!(d.entry(0, 1).ts, 200);
        assert_eq!(d.entry(0, 0).ts, 200);
    }
}
