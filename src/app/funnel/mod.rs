//! The funnel use case: read events, activities and the roster, count, and write the rows.

use crate::io::read::{Problem, Row, ScanStats, Verdict, scan};
use crate::io::{Format, Source};
use crate::metrics::deals::Deals;
use crate::metrics::funnel::{self, FunnelConfig, FunnelRow, Tally};
use crate::model::money::{Converter, Currency, MoneyRead};
use crate::model::playbook::{Playbook, StageCode};
use crate::model::tables::{TableKind, act, ev};
use crate::model::time::Micros;
use anyhow::Result;

pub mod select;
mod table;

pub use table::{read_funnel, write_rows};

/// The checked inputs of one funnel run.
pub struct FunnelInputs {
    pub events: Source,
    pub activities: Option<Source>,
    pub roster: Option<Source>,
    pub input_format: Option<Format>,
    pub as_of: Option<Micros>,
    pub config: FunnelConfig,
}

/// What reading the inputs saw, for the stderr summary.
#[derive(Default)]
pub struct ReadSummary {
    pub events: ScanStats,
    pub after_as_of: u64,
    /// Deals closed both ways (won and lost), counted by their latest outcome.
    pub reclosed: u64,
    /// Losses before creation, quiet deals, an export without losses.
    pub closings: crate::metrics::deals::Closings,
    /// The moment the counts describe: --as-of, else the latest timestamp read.
    pub as_of: crate::model::time::Micros,
    pub activities: Option<ScanStats>,
    pub activities_unmatched: u64,
    pub roster: Option<ScanStats>,
    /// Reps whose chain up the roster misses a level, counted under `(unassigned)`.
    pub unassigned_reps: usize,
    /// With a roster: the events' reps not in it, of all of them, and one of them.
    pub reps_not_in_roster: Option<(usize, usize, String)>,
    /// The roster as read, for what a caller does with it after counting.
    pub roster_read: Option<crate::model::roster::Roster>,
    /// The end of the day by which 99.9% of the counted events happened: where the data's bulk
    /// ends, whatever a few stray rows say.
    pub bulk_end: Option<Micros>,
    /// Activities dated after the as-of, not counted.
    pub activities_after_as_of: u64,
    /// The currencies the amounts were in, and how they were converted.
    pub money: MoneyRead,
    /// Step-ups with both stage times in the export, and with one inferred (snapshots).
    pub step_ups: (u64, u64),
}

impl ReadSummary {
    /// What every command that counts says on standard error about what it left out: rejected
    /// rows (the first ones named), the unassigned, the re-closed, a late as-of.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let e = &self.events;
        if e.rejected > 0 {
            out.push(format!(
                "warning: {} left out (`salescoach validate` lists them all):",
                crate::io::output::count(e.rejected, "event row is", "event rows are")
            ));
            out.extend(e.problems.iter().take(3).map(|p| format!("  rejected: {p}")));
        }
        if let Some(a) = self.activities.as_ref().filter(|a| a.rejected > 0) {
            out.push(format!(
                "warning: {} left out (`salescoach validate` lists them all):",
                crate::io::output::count(a.rejected, "activity row is", "activity rows are")
            ));
            out.extend(a.problems.iter().take(3).map(|p| format!("  rejected: {p}")));
        }
        out.extend(self.unassigned_warning());
        out.extend(self.reclosed_warning());
        out.extend(self.closings.warnings());
        out.extend(self.money.warning());
        out.extend(self.undated_note());
        out.extend(self.as_of_warning());
        out
    }

    /// The warning for an as-of well past the bulk of the data: a stray late row (or an as-of
    /// given too late) makes every open deal look old.
    pub fn as_of_warning(&self) -> Option<String> {
        let end = self.bulk_end?;
        let days = (self.as_of - end) / crate::model::time::MICROS_PER_DAY;
        (days > STALE_AS_OF_DAYS).then(|| {
            format!(
                "warning: the as-of ({}) is {days} days after 99.9% of the events (by {}): a few late rows set it, or it was given too late, and every open deal reads as that much older; pass --as-of the export's date",
                &crate::model::time::to_rfc3339(self.as_of)[..10],
                &crate::model::time::to_rfc3339(end)[..10]
            )
        })
    }

    /// On snapshot data: how many step-ups have a real date. The others count, but their time
    /// is unknown: they feed no time-to-step, and open deals keep their chance.
    pub fn undated_note(&self) -> Option<String> {
        let (dated, undated) = self.step_ups;
        (undated > 0).then(|| {
            format!(
                "note: {:.0}% of the step-ups have a real date ({dated} of {}); the {undated} whose stage a snapshot implies (inferred) count, but feed no time-to-step: {}",
                100.0 * dated as f64 / (dated + undated) as f64,
                dated + undated,
                if dated == 0 {
                    "no step from one stage to the next has a time to step up, and the month-end estimates take any day of the window as equally likely"
                } else {
                    "the times to step up and the month-end estimates rest on the dated ones"
                }
            )
        })
    }

    /// The warning for deals closed both ways, if any.
    pub fn reclosed_warning(&self) -> Option<String> {
        (self.reclosed > 0).then(|| {
            format!(
                "warning: {} both won and lost (re-closed, or reopened and closed again): each counts by its latest outcome; `salescoach validate` lists them",
                crate::io::output::count(self.reclosed, "deal was", "deals were")
            )
        })
    }

    /// The warning about reps whose manager is not in the roster, once, with the count; or,
    /// when no rep of the events is in the roster at all, about the ids not matching.
    pub fn unassigned_warning(&self) -> Option<String> {
        if let Some((missing, total, example)) = &self.reps_not_in_roster
            && missing == total
        {
            return Some(format!(
                "warning: none of the {total} reps in the events is in the roster (e.g. {example:?}): do the events name reps the way the roster's person_id does? Their deals count for the company only"
            ));
        }
        (self.unassigned_reps > 0).then(|| {
            format!(
                "warning: {} no manager in the roster at some level (unknown reports_to, or not in the roster); they are counted under {} so that every level adds up to the company",
                crate::io::output::count(self.unassigned_reps as u64, "rep has", "reps have"),
                funnel::UNASSIGNED
            )
        })
    }
}

/// Reads the inputs and computes every row (all levels, all periods).
pub fn compute(
    inputs: &FunnelInputs,
    playbook: &Playbook,
) -> Result<(Vec<FunnelRow>, ReadSummary)> {
    let mut summary = ReadSummary::default();
    let (deals, after, bulk_end) =
        read_deals(inputs, playbook, &mut summary.events, &mut summary.money)?;
    summary.after_as_of = after;
    summary.bulk_end = bulk_end;
    let mut cfg = inputs.config.clone();
    if inputs.as_of.is_none() {
        cfg.as_of = if deals.is_empty() { 0 } else { deals.max_ts };
    }
    summary.as_of = cfg.as_of;
    let mut tally = Tally::from_deals(deals, cfg);
    summary.reclosed = tally.reclosed;
    summary.step_ups = (tally.step_ups_dated, tally.step_ups_undated);
    summary.closings = tally.closings;
    if let Some(src) = &inputs.activities {
        let (stats, after) = read_activities(src, inputs, playbook, &mut tally)?;
        summary.activities_after_as_of = after;
        summary.activities_unmatched = tally.activities_unmatched;
        summary.activities = Some(stats);
    }
    let roster = match &inputs.roster {
        Some(src) => {
            let (r, stats) = crate::io::roster::load_roster(src, inputs.input_format, playbook)?;
            summary.roster = Some(stats);
            Some(r)
        }
        None => None,
    };
    if let Some(r) = &roster {
        let missing: Vec<&str> =
            tally.reps.iter().map(|x| &**x).filter(|x| !r.index.contains_key(*x)).collect();
        summary.reps_not_in_roster =
            missing.first().map(|m| (missing.len(), tally.reps.len(), m.to_string()));
    }
    tally.release_deals();
    let groups = funnel::groups(&tally.reps, roster.as_ref(), playbook);
    summary.unassigned_reps = funnel::unassigned_reps(&groups);
    summary.roster_read = roster;
    Ok((funnel::rows(&tally, &groups), summary))
}

/// (deal id hash, end of deal id in the batch's text, end of rep id, stage, time, amount and
/// its currency).
type ParsedEvent = (u64, u32, u32, StageCode, Micros, crate::metrics::deals::EventExtra);

/// Parsed events on their way from the reading thread to the counting thread.
#[derive(Default)]
struct EventBatch {
    /// Deal ids and rep ids, back to back.
    text: String,
    /// (deal id hash, end of deal id in `text`, end of rep id, stage, time, amount).
    items: Vec<ParsedEvent>,
}

const BATCH: usize = 16 * 1024;

/// The share of events that says where the data's bulk ends.
const BULK_SHARE: f64 = 0.999;
/// How far past the bulk of the data an as-of may be before it is warned about.
const STALE_AS_OF_DAYS: i64 = 7;

/// Events per day over the plausible years: where the bulk of the data ends. Bounded by the
/// policy's years (about 40,000 days), whatever the rows say.
struct DayHistogram {
    first_day: i64,
    counts: Vec<u64>,
    total: u64,
}

impl DayHistogram {
    fn new(dates: &crate::model::dates::DatePolicy) -> DayHistogram {
        use crate::model::time::days_from_civil;
        let first_day = days_from_civil(dates.min_year as i64, 1, 1);
        let last_day = days_from_civil(dates.max_year as i64 + 1, 1, 1);
        DayHistogram { first_day, counts: vec![0; (last_day - first_day) as usize], total: 0 }
    }

    fn add(&mut self, ts: Micros) {
        let day = ts.div_euclid(crate::model::time::MICROS_PER_DAY) - self.first_day;
        if let Some(c) = usize::try_from(day).ok().and_then(|d| self.counts.get_mut(d)) {
            *c += 1;
            self.total += 1;
        }
    }

    /// The end of the first day by which `share` of the events happened.
    fn end_of(&self, share: f64) -> Option<Micros> {
        let need = (self.total as f64 * share).ceil() as u64;
        let mut seen = 0;
        let day = self.counts.iter().position(|c| {
            seen += c;
            seen >= need.max(1)
        })?;
        Some((self.first_day + day as i64 + 1) * crate::model::time::MICROS_PER_DAY - 1)
    }
}

/// A timestamp the date policy refuses, as a problem of its row.
fn date_problem(
    row: &Row,
    column: usize,
    ts: Micros,
    (code, message): (&'static str, String),
) -> Problem {
    let text = row
        .str(column)
        .ok()
        .flatten()
        .map_or_else(|| crate::model::time::to_rfc3339(ts), str::to_string);
    Problem { column: Some(column), code, message, value: Some(crate::io::read::preview(&text)) }
}

/// Reads the events on one thread (parsing, checking, hashing) while another interns deals and
/// keeps their stage entries: the two halves take about the same time.
fn read_deals(
    inputs: &FunnelInputs,
    playbook: &Playbook,
    stats_out: &mut ScanStats,
    money_out: &mut MoneyRead,
) -> Result<(Deals, u64, Option<Micros>)> {
    // About 2.5 events per deal in a lead funnel: a table sized so rarely grows, and growing
    // the deal-id table holds the old one and the new at once.
    let guess = crate::io::read::records_hint(&inputs.events) * 2 / 5;
    let mut deals = Deals::with_capacity(playbook.stages.len(), guess);
    let as_of = inputs.as_of.unwrap_or(i64::MAX);
    let dates = playbook.date_policy();
    let (tx, rx) = std::sync::mpsc::sync_channel::<EventBatch>(8);
    let fallback = playbook.currency.as_deref().and_then(Currency::parse);
    let (stats, after, bulk, money) = std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut money = Converter::new(playbook.rates.clone(), fallback);
            let mut bulk = DayHistogram::new(&dates);
            // A handful of stage spellings: a short list beats hashing each one.
            let mut stage_cache: Vec<(String, Option<StageCode>)> = Vec::new();
            let mut after = 0u64;
            let mut batch = EventBatch::default();
            let stats = scan(
                &inputs.events,
                inputs.input_format,
                TableKind::Events,
                playbook.timezone,
                &mut |row| {
                    let parsed = (|| -> Result<_, Problem> {
                        let deal = row.required_str(ev::DEAL_ID)?.trim();
                        let rep = row.required_str(ev::REP_ID)?.trim();
                        let stage_text = row.required_str(ev::STAGE)?;
                        let ts = row.required_ts(ev::TS)?;
                        let amount = row.decimal(ev::AMOUNT)?;
                        let currency = match row.str(ev::CURRENCY)? {
                            None => None,
                            Some(t) => {
                                Some(crate::model::cell::currency(t).map_err(|e| Problem {
                                    column: Some(ev::CURRENCY),
                                    code: e.code,
                                    message: e.message,
                                    value: Some(crate::io::read::preview(t)),
                                })?)
                            }
                        };
                        let inferred = row.bool(ev::INFERRED)?.unwrap_or(false);
                        Ok((deal, rep, stage_text, ts, amount, currency, inferred))
                    })();
                    let (deal, rep, stage_text, ts, amount, currency, inferred) = match parsed {
                        Ok(v) => v,
                        Err(p) => return Verdict::Reject(p),
                    };
                    let stage = match stage_cache.iter().find(|(t, _)| t == stage_text) {
                        Some((_, s)) => *s,
                        None => {
                            let s = playbook.resolve_stage(stage_text);
                            stage_cache.push((stage_text.to_string(), s));
                            s
                        }
                    };
                    let Some(stage) = stage else {
                        return Verdict::Reject(unknown_stage(stage_text, playbook));
                    };
                    if let Err(p) = dates.check(ts) {
                        return Verdict::Reject(date_problem(row, ev::TS, ts, p));
                    }
                    if ts > as_of {
                        after += 1;
                        return Verdict::Keep;
                    }
                    bulk.add(ts);
                    let amount = amount.and_then(|a| {
                        let (a, c) = money.read(a, currency.or(fallback), ts);
                        a.map(|a| (a, c))
                    });
                    batch.text.push_str(deal);
                    let deal_end = batch.text.len() as u32;
                    batch.text.push_str(rep);
                    let hash = crate::metrics::deals::hash_bytes(deal.as_bytes());
                    let extra = crate::metrics::deals::EventExtra { amount, inferred };
                    batch.items.push((hash, deal_end, batch.text.len() as u32, stage, ts, extra));
                    if batch.items.len() >= BATCH || batch.text.len() > (1 << 30) {
                        // A closed channel means the counting side failed; it reports why.
                        let _ = tx.send(std::mem::take(&mut batch));
                    }
                    Verdict::Keep
                },
            );
            let _ = tx.send(batch);
            stats.map(|s| (s, after, bulk, money.read))
        });
        // The reps are interned here, where there is time to spare; the deals' slots are
        // asked for ahead: with millions of deals each lookup is a cache miss.
        const AHEAD: usize = 16;
        for batch in rx {
            let mut start = 0usize;
            for (j, &(hash, deal_end, rep_end, stage, ts, extra)) in batch.items.iter().enumerate()
            {
                if let Some(next) = batch.items.get(j + AHEAD) {
                    deals.prefetch(next.0);
                }
                let (deal_end, rep_end) = (deal_end as usize, rep_end as usize);
                let deal = &batch.text[start..deal_end];
                let rep = deals.reps.intern(&batch.text[deal_end..rep_end]);
                deals.add_indexed(hash, deal, rep, stage, ts, extra);
                start = rep_end;
            }
        }
        reader.join().expect("the reading thread does not panic")
    })?;
    *stats_out = stats;
    *money_out = money;
    Ok((deals, after, bulk.end_of(BULK_SHARE)))
}

pub fn unknown_stage(text: &str, playbook: &Playbook) -> Problem {
    let hint = crate::model::playbook::closest(text, playbook.known_spellings())
        .map(|s| format!("; did you mean `{s}`? (add aliases in the playbook)"))
        .unwrap_or_else(|| "; add it to the playbook's [aliases]".into());
    Problem {
        column: Some(ev::STAGE),
        code: "constraint-error",
        message: format!("unknown stage{hint}"),
        value: Some(crate::io::read::preview(text)),
    }
}

fn read_activities(
    src: &Source,
    inputs: &FunnelInputs,
    playbook: &Playbook,
    tally: &mut Tally,
) -> Result<(ScanStats, u64)> {
    let as_of = tally.cfg.as_of;
    let mut columns = funnel::ActivityColumns { any: true, ..Default::default() };
    let dates = playbook.date_policy();
    let mut after = 0;
    let stats =
        scan(src, inputs.input_format, TableKind::Activities, playbook.timezone, &mut |row| {
            let parsed = (|| -> Result<_, Problem> {
                row.required_str(act::REP_ID)?;
                let kind = row.required_str(act::TYPE)?;
                let ts = row.required_ts(act::TS)?;
                Ok((
                    row.str(act::DEAL_ID)?,
                    kind,
                    ts,
                    row.int(act::DURATION_S)?,
                    row.str(act::OUTCOME)?,
                    row.bool(act::PERSONALIZED)?,
                ))
            })();
            let parsed = parsed.and_then(|p| match dates.check(p.2) {
                Ok(()) => Ok(p),
                Err(why) => Err(date_problem(row, act::TS, p.2, why)),
            });
            match parsed {
                Ok((_, _, ts, ..)) if ts > as_of => {
                    after += 1;
                    Verdict::Keep
                }
                Ok((deal, kind, ts, duration, outcome, personalized)) => {
                    columns.personalized |= personalized.is_some();
                    columns.outcome |= outcome.is_some();
                    columns.duration |= duration.is_some();
                    if let Some(deal) = deal {
                        tally.add_activity(deal.trim(), kind, ts, duration, outcome, personalized);
                    }
                    Verdict::Keep
                }
                Err(p) => Verdict::Reject(p),
            }
        })?;
    tally.activity_columns = columns;
    tally.finish_activities();
    Ok((stats, after))
}

/// A period the data does not reach is a data failure (exit 1), not an empty success.
pub fn ensure_period_has_data(rows: &[FunnelRow], period: &str) -> Result<()> {
    if rows.iter().any(|r| r.period == period && r.entered > 0) {
        return Ok(());
    }
    let months: std::collections::BTreeSet<&str> =
        rows.iter().filter(|r| r.entered > 0).map(|r| r.period.as_str()).collect();
    let span = match (months.first(), months.last()) {
        (Some(a), Some(b)) => format!("data covers {a} to {b}"),
        _ => "the data has no events".to_string(),
    };
    Err(crate::DataError::new(format!("no events in {period} ({span})")).into())
}
