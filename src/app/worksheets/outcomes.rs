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
    /// The month begins less than a typical won deal's length after the data does: the deals
    /// begun before the data are missing from it, so it undercounts.
    pub incomplete: bool,
}

/// Where the data starts and how long a won deal typically takes, which say which months'
/// won counts the start of the data cuts short.
#[derive(Serialize, Clone)]
pub(super) struct RampUp {
    pub first: String,
    pub cycle_days: f64,
}

impl RampUp {
    /// From the company's rows: its first month with deals, and the median days from the first
    /// stage to won of its whole-funnel rows.
    pub(super) fn of(rows: &[FunnelRow], first_stage: &str, last_stage: &str) -> Option<RampUp> {
        let company = || rows.iter().filter(|r| r.level == OrgLevel::Company);
        let first = company().filter(|r| r.entered > 0).map(|r| r.period.clone()).min()?;
        let mut days: Vec<f64> = company()
            .filter(|r| r.from_stage == first_stage && r.to_stage == last_stage)
            .filter_map(|r| r.step_days_median)
            .collect();
        days.sort_by(f64::total_cmp);
        let cycle_days = *days.get(days.len() / 2)?;
        Some(RampUp { first, cycle_days })
    }

    fn cuts_short(&self, month: &str) -> bool {
        let index = |m: &str| {
            let (y, mo) = m.split_once('-')?;
            Some(y.parse::<i64>().ok()? * 12 + mo.parse::<i64>().ok()?)
        };
        match (index(&self.first), index(month)) {
            (Some(a), Some(b)) => ((b - a) as f64) * 30.44 < self.cycle_days,
            _ => false,
        }
    }

    /// The note under the table, when a month shown is cut short.
    pub(super) fn note(&self, ja: bool) -> String {
        let (first, days) = (&self.first, self.cycle_days.round());
        if ja {
            format!(
                "* データは {first} から始まり、受注までの日数の中央値は {days} 日です。データの開始からそれより短い月は、開始前に始まった商談が含まれないため、受注が少なく出ます。"
            )
        } else {
            format!(
                "* The data starts in {first}, and a won deal typically takes {days} days from the first stage: a month that begins less than that after the start misses the deals begun before the data, so it undercounts."
            )
        }
    }
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
        ramp: Option<&RampUp>,
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
                            incomplete: ramp.is_some_and(|ramp| ramp.cuts_short(m)),
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

/// The month against the mean of the (up to three) complete months before it.
fn headline(cells: &[OutcomeCell], ja: bool) -> String {
    let Some((now, before)) = cells.split_last() else { return String::new() };
    let recent: Vec<&OutcomeCell> =
        before.iter().rev().take(RECENT_MONTHS - 1).filter(|c| !c.incomplete).collect();
    let mean = (!recent.is_empty())
        .then(|| recent.iter().map(|c| c.won as f64).sum::<f64>() / recent.len() as f64);
    let (won, month, value) = (now.won, &now.period, &now.value);
    if now.incomplete {
        return if ja {
            format!(
                "{month} の受注は {won} 件（{value}）。データの開始から日が浅く、少なく出ています（*）"
            )
        } else {
            format!(
                "{won} deals won in {month} ({value}), an undercount: the data starts too shortly before it (*)"
            )
        };
    }
    if mean.is_none() && before.iter().any(|c| c.incomplete) {
        return if ja {
            format!(
                "{month} の受注は {won} 件（{value}）。それ以前の月はデータの開始直後で比べられません（*）"
            )
        } else {
            format!(
                "{won} deals won in {month} ({value}); the months before undercount, as the data starts in them (*)"
            )
        };
    }
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
        let cell = |p: &str, won| OutcomeCell {
            period: p.into(),
            won,
            value: "$1,000".into(),
            incomplete: false,
        };
        let mut cells = [cell("2026-01", 2), cell("2026-02", 4), cell("2026-03", 19)];
        assert_eq!(
            headline(&cells, false),
            "19 deals won in 2026-03 ($1,000), against 3.0 a month in the 2 months before"
        );
        assert_eq!(headline(&cells[..1], false), "2 deals won in 2026-01 ($1,000)");
        cells[0].incomplete = true;
        assert_eq!(
            headline(&cells, false),
            "19 deals won in 2026-03 ($1,000), against 4 in the month before"
        );
        cells[1].incomplete = true;
        assert!(
            headline(&cells, false)
                .ends_with("the months before undercount, as the data starts in them (*)")
        );
    }

    #[test]
    fn the_months_within_a_won_deals_length_of_the_start_are_cut_short() {
        let ramp = RampUp { first: "2026-01".into(), cycle_days: 45.0 };
        let short: Vec<bool> = ["2025-12", "2026-01", "2026-02", "2026-03"]
            .iter()
            .map(|m| ramp.cuts_short(m))
            .collect();
        assert_eq!(short, [true, true, true, false]);
    }
}
