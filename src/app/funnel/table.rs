//! The funnel table as a file: written by `salescoach funnel`, read back by `diagnose`.

use crate::io::output::Output;
use crate::io::read::{Problem, Verdict, scan};
use crate::io::write::Cell;
use crate::io::{Format, Source};
use crate::metrics::funnel::{self, FunnelRow};
use crate::model::level::OrgLevel;
use crate::model::tables::{FUNNEL_COLUMNS, TableKind, column_index};
use anyhow::Result;

/// Reads a funnel table written by `salescoach funnel` (CSV, Parquet, JSON) back into rows.
pub fn read_funnel(
    source: &Source,
    format: Option<Format>,
    tz: chrono_tz::Tz,
) -> Result<Vec<FunnelRow>> {
    let c = |name| column_index(FUNNEL_COLUMNS, name);
    let mut rows = Vec::new();
    let stats = scan(source, format, TableKind::Funnel, tz, &mut |row| {
        let parsed = (|| -> Result<FunnelRow, Problem> {
            let text = |name| Ok::<_, Problem>(row.str(c(name))?.map(str::to_string));
            let count = |name| Ok::<_, Problem>(row.int(c(name))?.map(|v| v as u64));
            let method = match row.required_str(c("method"))? {
                "flow" => funnel::Method::Flow,
                _ => funnel::Method::Cohort,
            };
            Ok(FunnelRow {
                level: OrgLevel::parse(row.required_str(c("level"))?),
                group_id: row.required_str(c("group_id"))?.to_string(),
                group_name: text("group_name")?.unwrap_or_default(),
                parent_id: text("parent_id")?,
                period: row.required_str(c("period"))?.to_string(),
                from_stage: row.required_str(c("from_stage"))?.to_string(),
                to_stage: row.required_str(c("to_stage"))?.to_string(),
                method,
                window_days: count("window_days")?.unwrap_or(0) as u32,
                entered: count("entered")?.unwrap_or(0),
                converted: count("converted")?.unwrap_or(0),
                lost: count("lost")?,
                open: count("open")?,
                skipped: count("skipped")?.unwrap_or(0),
                rate: row.float(c("rate"))?,
                rate_observed: row.float(c("rate_observed"))?,
                observed_share: row.float(c("observed_share"))?,
                rate_low: row.float(c("rate_low"))?,
                rate_high: row.float(c("rate_high"))?,
                rate_shrunk: row.float(c("rate_shrunk"))?,
                prior_alpha: row.float(c("prior_alpha"))?,
                prior_beta: row.float(c("prior_beta"))?,
                level_median: row.float(c("level_median"))?,
                mature: row.bool(c("mature"))?.unwrap_or(false),
                step_days_median: row.float(c("step_days_median"))?,
                lost_days_median: row.float(c("lost_days_median"))?,
                activities: count("activities")?,
                activities_per_deal: row.float(c("activities_per_deal"))?,
                touched_share: row.float(c("touched_share"))?,
                personalized_share: row.float(c("personalized_share"))?,
                activity_mix: text("activity_mix")?,
                first_activity_hours_median: row.float(c("first_activity_hours_median"))?,
                first_call_connected_share: row.float(c("first_call_connected_share"))?,
                first_call_duration_median_s: row.float(c("first_call_duration_median_s"))?,
                won: count("won")?,
                won_amount: row.decimal(c("won_amount"))?,
                avg_deal_size: row.decimal(c("avg_deal_size"))?,
                currency: text("currency")?,
                won_amount_by_currency: text("won_amount_by_currency")?,
                cycle_days_median: row.float(c("cycle_days_median"))?,
            })
        })();
        match parsed {
            Ok(r) => {
                rows.push(r);
                Verdict::Keep
            }
            Err(p) => Verdict::Reject(p),
        }
    })?;
    if let Some(p) = stats.problems.first() {
        return Err(crate::DataError::new(format!(
            "{} of {} funnel rows could not be read; first: {p}",
            stats.rejected, stats.read
        ))
        .into());
    }
    Ok(rows)
}

pub fn write_rows(rows: &[FunnelRow], output: &Output) -> Result<()> {
    let mut w = output.table(FUNNEL_COLUMNS)?;
    for r in rows {
        let method = if r.method == funnel::Method::Cohort { "cohort" } else { "flow" };
        w.write_row(&[
            Cell::Str(r.level.as_str()),
            Cell::Str(&r.group_id),
            Cell::Str(&r.group_name),
            r.parent_id.as_deref().into(),
            Cell::Str(&r.period),
            Cell::Str(&r.from_stage),
            Cell::Str(&r.to_stage),
            Cell::Str(method),
            Cell::Int(r.window_days as i64),
            Cell::Int(r.entered as i64),
            Cell::Int(r.converted as i64),
            r.lost.map(|v| v as i64).into(),
            r.open.map(|v| v as i64).into(),
            Cell::Int(r.skipped as i64),
            r.rate.into(),
            r.rate_observed.into(),
            r.observed_share.into(),
            r.rate_low.into(),
            r.rate_high.into(),
            r.rate_shrunk.into(),
            r.prior_alpha.into(),
            r.prior_beta.into(),
            r.level_median.into(),
            Cell::Bool(r.mature),
            r.step_days_median.into(),
            r.lost_days_median.into(),
            r.activities.map(|v| v as i64).into(),
            r.activities_per_deal.into(),
            r.touched_share.into(),
            r.personalized_share.into(),
            r.activity_mix.as_deref().into(),
            r.first_activity_hours_median.into(),
            r.first_call_connected_share.into(),
            r.first_call_duration_median_s.into(),
            r.won.map(|v| v as i64).into(),
            r.won_amount.map_or(Cell::Null, Cell::Dec),
            r.avg_deal_size.map_or(Cell::Null, Cell::Dec),
            r.currency.as_deref().into(),
            r.won_amount_by_currency.as_deref().into(),
            r.cycle_days_median.into(),
        ])?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn funnel_columns_match_the_schema_file() {
        crate::model::schema::assert_columns_match("funnel", FUNNEL_COLUMNS);
    }
}
