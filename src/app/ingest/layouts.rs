//! Snapshot and stage-dates layouts: one export row expands into several events.

use super::cells::{Rejection, ValueOptions, parse_ts};
use super::mapping::Mapping;
use crate::io::write::Cell;
use crate::model::playbook::Playbook;
use anyhow::Result;

/// The rows one record becomes: one for most layouts, several for a snapshot or stage dates.
pub(super) enum Rows<'a> {
    One(Vec<Cell<'a>>),
    Many(Vec<Vec<Cell<'a>>>),
}

impl<'a> Rows<'a> {
    pub(super) fn each(&self) -> &[Vec<Cell<'a>>] {
        match self {
            Rows::One(row) => std::slice::from_ref(row),
            Rows::Many(rows) => rows,
        }
    }

    /// The single row's buffer, for the next record to reuse.
    pub(super) fn into_spare(self) -> Option<Vec<Cell<'a>>> {
        match self {
            Rows::One(row) => Some(row),
            Rows::Many(_) => None,
        }
    }
}

/// An empty buffer of values, borrowing from nothing yet, that keeps `row`'s allocation (a
/// collect from a vector's own iterator into the same element size reuses it in place).
pub(super) fn recycle<'b>(mut row: Vec<Cell<'_>>) -> Vec<Cell<'b>> {
    row.clear();
    row.into_iter().map(|_| unreachable!("the row was cleared")).collect()
}

/// A date that does not read, named by the export column it came from.
fn bad_date(
    d: &str,
    code: u8,
    mapping: &Mapping,
    playbook: &Playbook,
    opts: &ValueOptions,
) -> Rejection {
    let how = if opts.date_format.is_empty() {
        "is not ISO 8601; give --date-format for other forms".to_string()
    } else {
        format!("is neither ISO 8601 nor --date-format {}", opts.date_format.join(", "))
    };
    (
        Some(mapping.date_column(playbook.stage_name(code))),
        "type-error",
        format!("the {} date {d:?} {how}", playbook.stage_name(code)),
    )
}

/// A deal the CRM marks deleted (Pipedrive's status `deleted`) is not counted.
fn deleted(status: Option<&str>, mapping: &Mapping) -> Result<(), Rejection> {
    match status.map(str::trim) {
        Some(s) if s.eq_ignore_ascii_case("deleted") => Err((
            mapping.status.clone(),
            super::cells::DELETED,
            format!("the deal is deleted in the CRM (status {s:?}): not counted"),
        )),
        _ => Ok(()),
    }
}

/// How a deal ended, from its status column (`won`, `lost`, `open`, or a stage value) or else
/// its current stage: `Some(None)` open, `Some(Some(code))` won or a terminal outcome, `None`
/// when the row does not say.
fn outcome(
    stage: Option<&str>,
    status: Option<&str>,
    mapping: &Mapping,
    playbook: &Playbook,
) -> Option<Option<crate::model::playbook::StageCode>> {
    let closing = |code| playbook.is_outcome(code);
    if let Some(s) = status.map(str::trim).filter(|s| !s.is_empty()) {
        let lower = s.to_ascii_lowercase();
        if lower == "open" || lower == "active" {
            return Some(None);
        }
        let named = mapping.stages.get(s).map(String::as_str).unwrap_or(&lower);
        let code = playbook.resolve_stage(named).or_else(|| {
            let word = if lower.contains("won") {
                "won"
            } else if lower.contains("lost") {
                "lost"
            } else {
                ""
            };
            playbook.resolve_stage(word)
        });
        // A status that names no outcome ("Engaging", "in progress") is an open deal.
        return Some(code.filter(|&c| closing(c)));
    }
    let code = playbook.resolve_stage(stage?)?;
    Some(closing(code).then_some(code))
}

/// One stage-dates row (a deal with a date column per stage) as one event per dated stage. The
/// outcome (won or lost) is the one the status column or the current stage names; a row that
/// dates both with no status to tell them apart is rejected rather than counted twice.
pub(super) fn expand_stage_dates<'a>(
    row: Vec<Cell<'a>>,
    stages: &[crate::model::playbook::StageCode],
    dates: &dyn Fn(crate::model::playbook::StageCode) -> Option<&'a str>,
    status: Option<&str>,
    (mapping, playbook): (&Mapping, &'a Playbook),
    opts: &ValueOptions,
) -> Result<Rows<'a>, Rejection> {
    use crate::model::tables::ev;
    let current = match &row[ev::STAGE] {
        Cell::Str(s) => Some(*s),
        _ => None,
    };
    deleted(status, mapping)?;
    let ended = outcome(current, status, mapping, playbook);
    let closing = |code: u8| playbook.is_outcome(code);
    let dated = |code: u8| dates(code).filter(|d| !d.trim().is_empty());
    if ended.is_none() {
        let closes: Vec<u8> =
            stages.iter().copied().filter(|&c| closing(c) && dated(c).is_some()).collect();
        if closes.len() > 1 {
            let names: Vec<&str> = closes.iter().map(|&c| playbook.stage_name(c)).collect();
            return Err((
                Some("status".into()),
                "constraint-error",
                format!(
                    "both {} are dated and nothing says which outcome the deal had: map its status column (`status = \"...\"` in the mapping) or its current stage",
                    names.join(" and ")
                ),
            ));
        }
    }
    let mut out = Vec::new();
    for &code in stages {
        if closing(code) && ended.is_some_and(|e| e != Some(code)) {
            continue;
        }
        let Some(d) = dated(code) else { continue };
        let ts = parse_ts(d, opts).ok_or_else(|| bad_date(d, code, mapping, playbook, opts))?;
        let mut r = row.clone();
        r[ev::STAGE] = Cell::Str(playbook.stage_name(code));
        r[ev::TS] = Cell::Ts(ts);
        r[ev::INFERRED] = Cell::Bool(false);
        out.push(r);
    }
    if out.is_empty() {
        // No one column is at fault: every [dates] column of the mapping is empty.
        return Err((
            None,
            "constraint-error",
            "no stage has a date: every [dates] column is empty".into(),
        ));
    }
    Ok(Rows::Many(out))
}

/// One snapshot row (a deal at its current stage) as the events it implies: every earlier stage
/// counts as reached; a stage without its own date takes the nearest known one and is marked
/// inferred. A lost deal reached the stages up to its furthest dated one.
pub(super) fn expand_snapshot<'a>(
    row: Vec<Cell<'a>>,
    dates: &dyn Fn(crate::model::playbook::StageCode) -> Option<&'a str>,
    status: Option<&str>,
    (mapping, playbook): (&Mapping, &'a Playbook),
    opts: &ValueOptions,
) -> Result<Rows<'a>, Rejection> {
    use crate::model::tables::ev;
    deleted(status, mapping)?;
    let Cell::Str(stage_name) = &row[ev::STAGE] else {
        return Err((Some("stage".into()), "constraint-error", "stage is required".into()));
    };
    let mut current = playbook.resolve_stage(stage_name).expect("converted stages resolve");
    // Pipedrive keeps a lost deal's last stage beside its status: it reached that stage.
    let stage_reached = current;
    let status = status.map(|s| s.trim().to_ascii_lowercase());
    if let Some(s) = status.filter(|s| s == "won" || s == "lost")
        && let Some(code) = playbook.resolve_stage(&s)
    {
        current = code;
    }
    // A lost deal reached every stage up to its furthest dated one, or the stage the export
    // shows it lost at (not the win, whose date column a CRM often shares with the loss).
    let won = playbook.stages.len() as u8 - 1;
    let reached: Vec<crate::model::playbook::StageCode> = if playbook.is_terminal(current) {
        let furthest = (0..won)
            .filter(|&c| dates(c).is_some_and(|d| !d.trim().is_empty()))
            .chain((stage_reached < won).then_some(stage_reached))
            .max()
            .unwrap_or(0);
        (0..=furthest).chain([current]).collect()
    } else {
        (0..=current).collect()
    };
    let known: Vec<(usize, i64)> = reached
        .iter()
        .enumerate()
        .filter_map(|(i, code)| {
            dates(*code).filter(|d| !d.trim().is_empty()).map(|d| (i, *code, d))
        })
        .map(|(i, code, d)| {
            parse_ts(d, opts)
                .map(|t| (i, t))
                .ok_or_else(|| bad_date(d, code, mapping, playbook, opts))
        })
        .collect::<Result<_, _>>()?;
    if known.is_empty() {
        return Err((
            None,
            "constraint-error",
            "no date for any stage the deal reached: its [dates] columns are empty".into(),
        ));
    }
    Ok(Rows::Many(
        reached
            .iter()
            .enumerate()
            .map(|(i, code)| {
                let own = known.iter().find(|(k, _)| *k == i).map(|(_, t)| *t);
                let nearest = known
                    .iter()
                    .min_by_key(|(k, _)| (k.abs_diff(i), *k))
                    .map(|(_, t)| *t)
                    .expect("known is not empty");
                let mut r = row.clone();
                r[ev::STAGE] = Cell::Str(playbook.stage_name(*code));
                r[ev::TS] = Cell::Ts(own.unwrap_or(nearest));
                r[ev::INFERRED] = Cell::Bool(own.is_none());
                r
            })
            .collect(),
    ))
}
