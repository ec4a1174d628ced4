//! Reading and writing the plan ledger.

use crate::io::read::{Problem, Verdict, scan};
use crate::io::write::{Cell, TableWriter};
use crate::io::{Dest, Format, Source};
use crate::model::level::OrgLevel;
use crate::model::plans::Plan;
use crate::model::tables::PLAN_COLUMNS;
use crate::model::tables::{TableKind, column_index};
use crate::model::time::{Period, PeriodKind};
use anyhow::{Result, bail};

/// Reads a ledger; a missing file is an empty ledger.
pub fn read_ledger(path: &std::path::Path, format: Option<Format>) -> Result<Vec<Plan>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let c = |name| column_index(PLAN_COLUMNS, name);
    let mut plans = Vec::new();
    let source = Source::File(path.to_path_buf());
    let stats = scan(&source, format, TableKind::Plans, chrono_tz::UTC, &mut |row| {
        let parsed = (|| -> Result<Plan, Problem> {
            let text = |name| Ok::<_, Problem>(row.str(c(name))?.map(str::to_string));
            let count = |name| Ok::<_, Problem>(row.int(c(name))?.map(|v| v as u64));
            Ok(Plan {
                plan_id: row.required_str(c("plan_id"))?.to_string(),
                period: month_label(row.required_str(c("period"))?, c("period"))?,
                rep_id: row.required_str(c("rep_id"))?.to_string(),
                rep_name: text("rep_name")?,
                manager_id: text("manager_id")?,
                focus: parse_value(row.required_str(c("focus"))?, c("focus"))?,
                baseline_rate: row.float(c("baseline_rate"))?,
                baseline_n: count("baseline_n")?,
                benchmark: row.float(c("benchmark"))?,
                target_rate: row.float(c("target_rate"))?,
                review_period: month_label(
                    row.required_str(c("review_period"))?,
                    c("review_period"),
                )?,
                status: parse_value(row.required_str(c("status"))?, c("status"))?,
                window_from: text("window_from")?,
                agreed_focus: row
                    .str(c("agreed_focus"))?
                    .map(|t| parse_value(t, c("agreed_focus")))
                    .transpose()?,
                agreed_target_rate: row.float(c("agreed_target_rate"))?,
                actions: text("actions")?,
                worksheet: text("worksheet")?,
                after_rate: row.float(c("after_rate"))?,
                after_n: count("after_n")?,
                change: row.float(c("change"))?,
                p_improved: row.float(c("p_improved"))?,
                effect: row.float(c("effect"))?,
                effect_low: row.float(c("effect_low"))?,
                effect_high: row.float(c("effect_high"))?,
                verdict: text("verdict")?.map(|v| parse_value(&v, c("verdict"))).transpose()?,
                target_reached: row.bool(c("target_reached"))?,
                reviewed_in: text("reviewed_in")?,
                hypothesis: text("hypothesis")?,
                leading_indicator: text("leading_indicator")?,
                leading_before: row.float(c("leading_before"))?,
                leading_after: row.float(c("leading_after"))?,
                level: row.str(c("level"))?.map(OrgLevel::parse),
                agreed: row.bool(c("agreed"))?,
            })
        })();
        match parsed {
            Ok(p) => {
                plans.push(p);
                Verdict::Keep
            }
            Err(p) => Verdict::Reject(p),
        }
    })?;
    if let Some(p) = stats.problems.first() {
        bail!("the ledger {} has {} unreadable rows; first: {p}", path.display(), stats.rejected);
    }
    Ok(plans)
}

/// Writes the ledger atomically, sorted by plan id.
pub fn write_ledger(
    path: &std::path::Path,
    plans: &mut [Plan],
    format: Option<Format>,
) -> Result<()> {
    plans.sort_by(|a, b| a.plan_id.cmp(&b.plan_id));
    let dest = Dest::File(path.to_path_buf());
    let format = format.or_else(|| Format::from_path(path)).unwrap_or(Format::Csv);
    let mut w = TableWriter::create(&dest, format, PLAN_COLUMNS)?;
    for p in plans.iter() {
        let n = |v: Option<u64>| v.map(|x| x as i64).into();
        let focus = p.focus.to_string();
        let agreed_focus = p.agreed_focus.as_ref().map(ToString::to_string);
        w.write_row(&[
            Cell::Str(&p.plan_id),
            Cell::Str(&p.period),
            Cell::Str(&p.rep_id),
            p.rep_name.as_deref().into(),
            p.manager_id.as_deref().into(),
            Cell::Str(&focus),
            p.baseline_rate.into(),
            n(p.baseline_n),
            p.benchmark.into(),
            p.target_rate.into(),
            Cell::Str(&p.review_period),
            Cell::Str(p.status.as_str()),
            p.window_from.as_deref().into(),
            agreed_focus.as_deref().into(),
            p.agreed_target_rate.into(),
            p.actions.as_deref().into(),
            p.worksheet.as_deref().into(),
            p.after_rate.into(),
            n(p.after_n),
            p.change.into(),
            p.p_improved.into(),
            p.effect.into(),
            p.effect_low.into(),
            p.effect_high.into(),
            p.verdict.map(|v| v.as_str()).into(),
            p.target_reached.map_or(Cell::Null, Cell::Bool),
            p.reviewed_in.as_deref().into(),
            p.hypothesis.as_deref().into(),
            p.leading_indicator.as_deref().into(),
            p.leading_before.into(),
            p.leading_after.into(),
            p.level.as_ref().map(OrgLevel::as_str).into(),
            p.agreed.map_or(Cell::Null, Cell::Bool),
        ])?;
    }
    w.finish()
}

/// A ledger value of a typed column, or a problem naming the column and the value.
/// A plan's month as the ledger must hold it: `2026-04`, one spelling.
fn month_label(text: &str, column: usize) -> Result<String, Problem> {
    Period::parse(PeriodKind::Month, text).map(Period::label).map_err(|e| Problem {
        column: Some(column),
        code: "constraint-error",
        message: e.to_string(),
        value: Some(text.to_string()),
    })
}

fn parse_value<T: std::str::FromStr<Err = String>>(
    text: &str,
    column: usize,
) -> Result<T, Problem> {
    text.parse().map_err(|message| Problem {
        column: Some(column),
        code: "constraint-error",
        message,
        value: Some(text.to_string()),
    })
}
