//! The diagnosis of every rep: the options and the entry point.

use super::context::Context;
use super::types::Diagnosis;
use super::window::{RowIndex, default_period, gather, trend, window};
use crate::metrics::funnel::{FunnelRow, Method};
use crate::model::level::OrgLevel;
use crate::model::playbook::Playbook;
use std::collections::BTreeMap;

/// Options of one diagnosis run.
#[derive(Debug, Clone)]
pub struct DiagnoseOptions {
    /// The period to diagnose (`2026-03`); default: the latest month with mature cohorts.
    pub period: Option<String>,
    pub lookback: u32,
    /// Only reps under this manager (their peers stay company-wide).
    pub manager: Option<String>,
    /// Ancestors of each rep, when a roster is known (for `--manager` deeper than one level).
    pub ancestors: BTreeMap<String, Vec<String>>,
}

/// Diagnoses every rep in the rep level of a monthly cohort funnel.
pub fn diagnose(
    rows: &[FunnelRow],
    playbook: &Playbook,
    opts: &DiagnoseOptions,
) -> anyhow::Result<Vec<Diagnosis>> {
    if rows.iter().any(|r| r.method != Method::Cohort) {
        anyhow::bail!("diagnose needs cohort rates; run funnel with --method cohort");
    }
    if rows.iter().any(|r| r.period.contains('W') || r.period.contains('Q')) {
        anyhow::bail!("diagnose needs monthly periods; run funnel with --period month");
    }
    let Some(period) = opts.period.clone().or_else(|| default_period(rows)) else {
        return Ok(Vec::new());
    };
    let months = window(&period, opts.lookback)?;
    let stages = &playbook.stages;
    let reps = gather(rows, stages, &months);
    let mut ctx = Context::new(&reps, playbook);
    ctx.first_month = rows.iter().filter(|r| r.entered > 0).map(|r| r.period.clone()).min();
    let index: RowIndex = rows
        .iter()
        .filter(|r| r.level == OrgLevel::Rep && r.won.is_none())
        .map(|r| {
            (
                (
                    r.group_id.as_str(),
                    r.period.as_str(),
                    r.from_stage.as_str(),
                    r.to_stage.as_str(),
                ),
                r,
            )
        })
        .collect();
    let mut out = Vec::new();
    for (i, rep) in reps.iter().enumerate() {
        if let Some(m) = &opts.manager {
            let under = rep.manager_id.as_ref() == Some(m)
                || opts.ancestors.get(&rep.rep_id).is_some_and(|a| a.contains(m));
            if !under {
                continue;
            }
        }
        let mut d = ctx.diagnose_rep(i, &period, &months)?;
        d.trend = trend(&index, &d, stages, &period);
        out.push(d);
    }
    Ok(out)
}
