//! The board's business outcome: won deals and won value of each division and the company,
//! month by month: the deals won in the month (the whole-funnel rows' `won`), final once the
//! month is over, unlike a cohort's rates.

use super::view::{Sheets, money};
use crate::metrics::funnel::FunnelRow;
use crate::model::level::OrgLevel;
use crate::model::time::month_before;
use crate::model::values::Lang;
use serde::Serialize;

/// This month, the three before it, and a year ago where the data reaches.
const RECENT_MONTHS: usize = 4;

#[derive(Serialize)]
pub(super) struct OutcomeCell {
    pub period: String,
    pub won: u64,
    pub value: String,
}

#[derive(Serialize)]
pub(super) struct OutcomeLine {
    pub name: String,
    pub cells: Vec<OutcomeCell>,
    pub headline: String,
}

/// The months shown: `period`, the three before it, and the same month a year earlier.
pub(super) fn outcome_months(period: &str) -> Vec<String> {
    let mut months = vec![period.to_string()];
    while months.len() < RECENT_MONTHS {
        months.push(month_before(months.last().unwrap()));
    }
    months.reverse();
    let year_ago = (0..12).fold(period.to_string(), |m, _| month_before(&m));
    months.insert(0, year_ago);
    months.retain(|m| !m.is_empty());
    months
}

impl Sheets<'_> {
    /// One line per group (a division, then the company), one cell per month of `months`.
    pub(super) fn outcome_lines(
        &self,
        rows: &[FunnelRow],
        groups: &[(OrgLevel, String, String)],
        months: &[String],
    ) -> Vec<OutcomeLine> {
        let stages = &self.playbook.stages;
        let (Some(first), Some(last)) = (stages.first(), stages.last()) else { return Vec::new() };
        let ja = self.lang == Lang::Ja;
        groups
            .iter()
            .filter_map(|(level, id, name)| {
                // Months without a row (before the data starts) are left out by the caller.
                let cells: Vec<OutcomeCell> = months
                    .iter()
                    .map(|m| {
                        let r = rows.iter().find(|r| {
                            &r.level == level
                                && &r.group_id == id
                                && &r.period == m
                                && &r.from_stage == first
                                && &r.to_stage == last
                        });
                        OutcomeCell {
                            period: m.clone(),
                            won: r.map_or(0, |r| r.won.unwrap_or(r.converted)),
                            value: r.map_or_else(|| "—".into(), |r| won_value(r, ja)),
                        }
                    })
                    .collect();
                (!cells.is_empty()).then(|| OutcomeLine {
                    headline: headline(&cells, ja),
                    name: name.clone(),
                    cells,
                })
            })
            .collect()
    }
}

fn won_value(r: &FunnelRow, ja: bool) -> String {
    use rust_decimal::prelude::ToPrimitive;
    if let Some(a) = r.won_amount.and_then(|a| a.to_f64()) {
        return money(a, r.currency.as_deref(), ja);
    }
    r.won_amount_by_currency.clone().unwrap_or_else(|| "—".into())
}

/// The month against the mean of the (up to three) months before it.
fn headline(cells: &[OutcomeCell], ja: bool) -> String {
    let Some((now, before)) = cells.split_last() else { return String::new() };
    let recent: Vec<&OutcomeCell> = before.iter().rev().take(RECENT_MONTHS - 1).collect();
    let mean = (!recent.is_empty())
        .then(|| recent.iter().map(|c| c.won as f64).sum::<f64>() / recent.len() as f64);
    let (won, month, value) = (now.won, &now.period, &now.value);
    match (ja, mean) {
        (false, Some(m)) if recent.len() == 1 => {
            format!("{won} deals won in {month} ({value}), against {m:.0} in the month before")
        }
        (false, Some(m)) => format!(
            "{won} deals won in {month} ({value}), against {m:.1} a month in the {} months before",
            recent.len()
        ),
        (false, None) => format!("{won} deals won in {month} ({value})"),
        (true, Some(m)) => format!(
            "{month} の受注は {won} 件（{value}）。その前の {} か月は月平均 {m:.1} 件",
            recent.len()
        ),
        (true, None) => format!("{month} の受注は {won} 件（{value}）"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_months_are_the_last_four_and_a_year_ago() {
        assert_eq!(
            outcome_months("2026-03"),
            ["2025-03", "2025-12", "2026-01", "2026-02", "2026-03"]
        );
    }

    #[test]
    fn the_headline_compares_with_the_months_before() {
        let cell = |p: &str, won| OutcomeCell { period: p.into(), won, value: "$1,000".into() };
        let cells = [cell("2026-01", 2), cell("2026-02", 4), cell("2026-03", 19)];
        assert_eq!(
            headline(&cells, false),
            "19 deals won in 2026-03 ($1,000), against 3.0 a month in the 2 months before"
        );
        assert_eq!(headline(&cells[..1], false), "2 deals won in 2026-01 ($1,000)");
    }
}
