//! Which rows a funnel table shows: the level (`--by`, a roster role included), the periods,
//! and rows of zeros for the people with no deals, so that `funnel` and `report` write the same
//! table from the same inputs.

use super::{FunnelInputs, ReadSummary, compute, ensure_period_has_data};
use crate::metrics::funnel::{FunnelConfig, FunnelRow};
use crate::model::level::OrgLevel;
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::model::time::{Micros, Period};
use anyhow::{Result, bail};

/// What a funnel table shows.
#[derive(Debug, Clone)]
pub struct Selection {
    /// A level (`rep`, `manager`, …, `company`), a roster role, or `all`.
    pub by: String,
    /// One period, or every period the data has.
    pub period: Option<Period>,
    pub from: Option<Micros>,
    pub to: Option<Micros>,
}

impl Selection {
    /// Every level and period: what `report` writes as `data/funnel.csv`.
    pub fn everything() -> Selection {
        Selection { by: "all".into(), period: None, from: None, to: None }
    }
}

/// Reads the inputs and returns the table `funnel` prints for this selection.
pub fn table(
    inputs: &FunnelInputs,
    playbook: &Playbook,
    selection: &Selection,
) -> Result<(Vec<FunnelRow>, ReadSummary)> {
    let (rows, summary) = compute(inputs, playbook)?;
    let rows = select(rows, &summary, playbook, &inputs.config, selection)?;
    Ok((rows, summary))
}

/// The rows of a computed funnel that a selection shows.
pub fn select(
    mut rows: Vec<FunnelRow>,
    summary: &ReadSummary,
    playbook: &Playbook,
    config: &FunnelConfig,
    selection: &Selection,
) -> Result<Vec<FunnelRow>> {
    let by = &selection.by;
    if let Some(p) = selection.period {
        ensure_period_has_data(&rows, &p.label())?;
        rows.retain(|r| r.period == p.label());
    }
    let company: Vec<FunnelRow> =
        rows.iter().filter(|r| r.level == OrgLevel::Company).cloned().collect();
    let by_role = if rows.iter().any(|r| level_selected(by, &r.level)) {
        None
    } else {
        summary.roster_read.as_ref().and_then(|r| people_with_role(r, by))
    };
    match &by_role {
        // A level named after its roster column (`regional_office` from a levels mapping).
        Some(people) => {
            rows.retain(|r| r.level != OrgLevel::Rep && people.contains(&r.group_id));
            for r in &mut rows {
                r.level = OrgLevel::parse(by);
            }
        }
        None => rows.retain(|r| level_selected(by, &r.level)),
    }
    // Nobody vanishes from a table for having no deals: the roster's people at the levels shown
    // get rows of zeros.
    if let Some(r) = &summary.roster_read {
        let shown = |level: &OrgLevel, id: &str| match &by_role {
            Some(people) => people.contains(id),
            None => *level != OrgLevel::Company && level_selected(by, level),
        };
        add_idle_people(
            &mut rows,
            &company,
            r,
            playbook,
            &shown,
            by_role.as_ref().map(|_| OrgLevel::parse(by)).as_ref(),
        );
        rows.sort_by(|a, b| (&a.level, &a.group_id).cmp(&(&b.level, &b.group_id)));
    }
    let always_there = [OrgLevel::Rep, OrgLevel::Company].contains(&OrgLevel::parse(by));
    if rows.is_empty() && by != "all" && !always_there {
        bail!(
            "no group at level `{by}`; levels come from the roster (rep, manager, director, …) plus company"
        );
    }
    filter_periods(&mut rows, selection.from, selection.to, config);
    Ok(rows)
}

/// The roster's people with no deals at a level the table shows, as rows of zeros (one per
/// period and step the company has). `as_level` names the level when `--by` is a role.
fn add_idle_people(
    rows: &mut Vec<FunnelRow>,
    company: &[FunnelRow],
    roster: &Roster,
    playbook: &Playbook,
    shown: &dyn Fn(&OrgLevel, &str) -> bool,
    as_level: Option<&OrgLevel>,
) {
    let present: std::collections::HashSet<(OrgLevel, String)> =
        rows.iter().map(|r| (r.level.clone(), r.group_id.clone())).collect();
    let levels = roster.levels(playbook);
    let mut idle = Vec::new();
    for (i, p) in roster.people.iter().enumerate() {
        let level = as_level.unwrap_or(&levels[i]).clone();
        if shown(&level, &p.person_id) && !present.contains(&(level.clone(), p.person_id.clone())) {
            idle.push((i, level));
        }
    }
    for (i, level) in idle {
        let p = &roster.people[i];
        for c in company {
            rows.push(FunnelRow {
                level: level.clone(),
                group_id: p.person_id.clone(),
                group_name: p.name.clone(),
                parent_id: roster.parent[i].map(|x| roster.people[x].person_id.clone()),
                entered: 0,
                converted: 0,
                lost: Some(0),
                open: Some(0),
                skipped: 0,
                won: c.won.map(|_| 0),
                won_amount: None,
                activities: c.activities.map(|_| 0),
                ..FunnelRow::empty_like(c)
            });
        }
    }
}

/// The people whose roster role is `role` (as a levels mapping writes its column's name), if
/// any: `--by` may name a level that way.
fn people_with_role(roster: &Roster, role: &str) -> Option<std::collections::HashSet<String>> {
    let norm = |s: &str| s.trim().to_lowercase().replace([' ', '-'], "_");
    let people: std::collections::HashSet<String> = roster
        .people
        .iter()
        .filter(|p| norm(&p.role) == norm(role))
        .map(|p| p.person_id.clone())
        .collect();
    (!people.is_empty()).then_some(people)
}

fn level_selected(by: &str, level: &OrgLevel) -> bool {
    by == "all" || by.eq_ignore_ascii_case(level.as_str())
}

fn filter_periods(
    rows: &mut Vec<FunnelRow>,
    from: Option<Micros>,
    to: Option<Micros>,
    cfg: &FunnelConfig,
) {
    let tz = cfg.tz;
    if from.is_none() && to.is_none() {
        return;
    }
    let lo = from.unwrap_or(i64::MIN / 2);
    let hi = to.unwrap_or(i64::MAX / 2);
    let cal =
        crate::model::time::Calendar::new(cfg.period, tz, lo.max(0), hi.min(4_102_444_800_000_000));
    rows.retain(|r| {
        let Ok(p) = crate::model::time::Period::parse(cfg.period, &r.period) else { return true };
        cal.start_of(p) >= lo && cal.end_of(p) <= hi + crate::model::time::MICROS_PER_DAY
    });
}
