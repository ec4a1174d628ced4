//! Per-deal stage entries, built from events in one streaming pass.
//!
//! Memory grows with the number of deals, not of events: each deal keeps, per stage, its
//! earliest direct event (time and owner), its latest terminal outcome and its latest amount.

use crate::model::playbook::StageCode;
use crate::model::time::Micros;
use rustc_hash::FxHashMap;

/// Interns strings (deal ids, rep ids) to dense indexes.
#[derive(Debug, Default)]
pub struct Interner {
    map: FxHashMap<Box<str>, u32>,
    pub names: Vec<Box<str>>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.into());
        self.map.insert(s.into(), i);
        i
    }

    pub fn get(&self, s: &str) -> Option<u32> {
        self.map.get(s).copied()
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

pub const NONE_TS: Micros = i64::MAX;

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

/// The deals seen in the events, with their direct stage entries.
#[derive(Debug)]
pub struct Deals {
    pub stages: usize,
    pub ids: Interner,
    pub reps: Interner,
    /// `deals × stages` earliest direct event per stage.
    direct: Vec<Entry>,
    /// Latest terminal outcome per deal (`i64::MIN` when none).
    pub terminal: Vec<Micros>,
    /// Latest recorded amount per deal: (time, amount × 10^4); time `i64::MIN` when none.
    pub amount: Vec<(Micros, i64)>,
    pub min_ts: Micros,
    pub max_ts: Micros,
}

impl Deals {
    pub fn new(stages: usize) -> Deals {
        Deals {
            stages,
            ids: Interner::default(),
            reps: Interner::default(),
            direct: Vec::new(),
            terminal: Vec::new(),
            amount: Vec::new(),
            min_ts: i64::MAX,
            max_ts: i64::MIN,
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Adds one event. `amount` is scaled by 10^4.
    pub fn add(
        &mut self,
        deal: &str,
        rep: &str,
        stage: StageCode,
        ts: Micros,
        amount: Option<i64>,
    ) {
        let d = self.ids.intern(deal) as usize;
        if d == self.terminal.len() {
            self.direct.extend(std::iter::repeat_n(Entry::NONE, self.stages));
            self.terminal.push(i64::MIN);
            self.amount.push((i64::MIN, 0));
        }
        let rep = self.reps.intern(rep);
        self.min_ts = self.min_ts.min(ts);
        self.max_ts = self.max_ts.max(ts);
        let s = stage as usize;
        if s < self.stages {
            let slot = &mut self.direct[d * self.stages + s];
            let replace = ts < slot.ts
                || (ts == slot.ts
                    && self.reps.names[rep as usize] < self.reps.names[slot.rep as usize]);
            if replace {
                *slot = Entry { ts, rep };
            }
        } else {
            self.terminal[d] = self.terminal[d].max(ts);
        }
        if let Some(a) = amount {
            let cur = &mut self.amount[d];
            if ts > cur.0 || (ts == cur.0 && a > cur.1) {
                *cur = (ts, a);
            }
        }
    }

    pub fn direct(&self, d: usize) -> &[Entry] {
        &self.direct[d * self.stages..(d + 1) * self.stages]
    }

    /// The stage entries of a deal: with skip filling, stage s is entered at the earliest
    /// event of any stage ≥ s (ties to the lower stage, so the owner is that event's);
    /// in strict mode only direct events count.
    pub fn entries_into(&self, d: usize, strict: bool, out: &mut [Entry]) {
        let direct = self.direct(d);
        if strict {
            out.copy_from_slice(direct);
            return;
        }
        let mut best = Entry::NONE;
        for s in (0..self.stages).rev() {
            if direct[s].ts <= best.ts && direct[s].is_some() {
                best = direct[s];
            }
            out[s] = best;
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
        d.add("D1", "R2", 2, 300, Some(5));
        d.add("D1", "R1", 0, 50, None); // an earlier lead event wins
        d.add("D1", "R3", 2, 400, Some(7)); // re-entry: not the first
        let mut e = [Entry::NONE; 5];
        d.entries_into(0, false, &mut e);
        assert_eq!(e[0], Entry { ts: 50, rep: 0 });
        assert_eq!(e[1], Entry { ts: 300, rep: 1 }); // filled by the proposal event
        assert_eq!(e[2], Entry { ts: 300, rep: 1 });
        assert!(!e[3].is_some());
        assert_eq!(d.amount[0], (400, 7));
        d.entries_into(0, true, &mut e);
        assert!(!e[1].is_some());
    }

    #[test]
    fn earlier_later_stage_fills_before_a_late_direct_event() {
        let mut d = Deals::new(3);
        d.add("D", "R1", 1, 500, None);
        d.add("D", "R2", 2, 200, None);
        let mut e = [Entry::NONE; 3];
        d.entries_into(0, false, &mut e);
        assert_eq!(e[1].ts, 200);
        assert_eq!(e[0].ts, 200);
    }
}
