//! The diagnosis use case: from events (or a funnel table) to one diagnosis per rep.

use crate::app::funnel::{FunnelInputs, compute, read_funnel};
use crate::diagnosis::{DiagnoseOptions, Diagnosis, HypothesisStatus, diagnose};
use crate::io::output::Output;
use crate::io::write::Cell;
use crate::io::{Format, Source};
use crate::model::level::OrgLevel;
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::model::tables::{Column, Kind, col};
use crate::model::time::Period;
use anyhow::Result;
use std::collections::BTreeMap;

/// The diagnosis table's columns (see schemas/diagnosis.schema.json).
pub const DIAGNOSIS_COLUMNS: &[Column] = &[
    col("rep_id", Kind::String, true),
    col("rep_name", Kind::String, false),
    col("manager_id", Kind::String, false),
    col("period", Kind::String, true),
    col("window_from", Kind::String, true),
    col("window_to", Kind::String, true),
    col("focus", Kind::String, false),
    col("suggestion", Kind::String, false),
    col("focus_rate", Kind::Number, false),
    col("focus_raw_rate", Kind::Number, false),
    col("benchmark", Kind::Number, false),
    col("confidence", Kind::Number, false),
    col("impact_won", Kind::Number, false),
    col("impact_amount", Kind::Number, false),
    col("currency", Kind::String, false),
    col("deals", Kind::Integer, false),
    col("more_deals_needed", Kind::Integer, false),
    col("hypotheses", Kind::String, false),
    col("not_checkable", Kind::String, false),
    col("why", Kind::String, true),
    col("immature_left_out", Kind::String, false),
];

/// Where a diagnosis reads its funnel from.
pub enum FunnelSource {
    /// Events (and activities), counted here.
    Events(FunnelInputs),
    /// A monthly cohort funnel table written by `salescoach funnel`.
    Table(Source),
}

/// A checked diagnosis run.
pub struct DiagnoseJob {
    pub funnel: FunnelSource,
    pub roster: Option<Roster>,
    pub input_format: Option<Format>,
    /// The month to diagnose; `None` is the latest month with mature cohorts.
    pub period: Option<Period>,
    pub lookback: u32,
    pub manager: Option<String>,
    pub quiet: bool,
}

/// Reads the funnel of a diagnosis and diagnoses every rep.
pub fn run(job: &DiagnoseJob, playbook: &Playbook) -> Result<Vec<Diagnosis>> {
    let rows = match &job.funnel {
        FunnelSource::Table(src) => read_funnel(src, job.input_format, playbook.timezone)?,
        FunnelSource::Events(inputs) => {
            let (mut rows, summary) = compute(inputs, playbook)?;
            if summary.after_as_of > 0 && !job.quiet {
                crate::note!(
                    "warning: {} events dated after --as-of are not counted",
                    summary.after_as_of
                );
            }
            for w in summary.warnings().iter().filter(|_| !job.quiet) {
                crate::note!("{w}");
            }
            rows.retain(|r| r.level == OrgLevel::Rep);
            rows
        }
    };
    if let Some(p) = job.period {
        crate::app::funnel::ensure_period_has_data(&rows, &p.label())?;
    }
    let opts = DiagnoseOptions {
        period: job.period.map(|p| p.label()),
        lookback: job.lookback,
        manager: job.manager.clone(),
        ancestors: ancestor_ids(job.roster.as_ref()),
    };
    diagnose(&rows, playbook, &opts)
}

/// Every person's chain of managers, nearest first, by id.
pub fn ancestor_ids(roster: Option<&Roster>) -> BTreeMap<String, Vec<String>> {
    let Some(r) = roster else { return BTreeMap::new() };
    r.people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                p.person_id.clone(),
                r.ancestors(i).iter().map(|&a| r.people[a].person_id.clone()).collect(),
            )
        })
        .collect()
}

fn text(s: &str) -> Cell<'_> {
    if s.is_empty() { Cell::Null } else { Cell::Str(s) }
}

pub fn write_rows(diagnoses: &[Diagnosis], output: &Output) -> Result<()> {
    let mut w = output.table(DIAGNOSIS_COLUMNS)?;
    for d in diagnoses {
        let hyps = d.supported_hypotheses().join(";");
        let unchecked: Vec<String> = d
            .hypotheses
            .iter()
            .filter(|h| h.status == HypothesisStatus::NotCheckable)
            .map(|h| format!("{} (needs {})", h.id, h.needs_columns.join(", ")))
            .collect();
        let unchecked = unchecked.join(";");
        let immature = d.immature_left_out.join(";");
        let focus = d.focus.as_ref().map(ToString::to_string);
        let suggestion = d.suggestion.as_ref().map(ToString::to_string);
        w.write_row(&[
            Cell::Str(&d.rep_id),
            Cell::Str(&d.rep_name),
            d.manager_id.as_deref().into(),
            Cell::Str(&d.period),
            Cell::Str(&d.window_from),
            Cell::Str(&d.window_to),
            focus.as_deref().into(),
            suggestion.as_deref().into(),
            d.focus_rate.into(),
            d.focus_raw_rate.into(),
            d.benchmark.into(),
            d.confidence.into(),
            d.impact_won.into(),
            d.impact_amount.into(),
            d.currency.as_deref().into(),
            d.deals.map(|v| v as i64).into(),
            d.more_deals_needed.map(|v| v as i64).into(),
            text(&hyps),
            text(&unchecked),
            Cell::Str(&d.why),
            text(&immature),
        ])?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnosis_columns_match_the_schema_file() {
        crate::model::schema::assert_columns_match("diagnosis", DIAGNOSIS_COLUMNS);
    }
}
