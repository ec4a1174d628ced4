//! The manager's and the director's sheets: the team's funnel, its reps, their coaching.

use super::view::{CoachingSheet, Sheets, TeamLine, bar, obj, pct, reviewed_by};
use crate::diagnosis::Diagnosis;
use crate::model::plans::Plan;
use crate::model::time::month_before;
use crate::model::values::{Lang, PlanStatus, Verdict};
use crate::render::{self, link_target};
use anyhow::Result;
use minijinja::Value;
use minijinja::value::Serde;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

impl Sheets<'_> {
    /// A group's funnel: what was seen at each step, the estimate, and the peers' benchmark —
    /// the same number every rep sheet and `index.md` show for that step.
    pub(super) fn team_lines(&self, team: &[&Diagnosis]) -> Vec<TeamLine> {
        self.playbook
            .transitions()
            .iter()
            .map(|id| {
                let levers: Vec<&crate::diagnosis::Lever> =
                    team.iter().flat_map(|d| d.levers.iter().filter(|l| &l.id == id)).collect();
                let (tk, tn) = levers.iter().fold((0u64, 0u64), |a, l| (a.0 + l.k, a.1 + l.n));
                let team_rate = (tn > 0).then(|| tk as f64 / tn as f64);
                // The deals that entered the step, as people count them; the rates weigh open
                // deals by what is known of them.
                let seen = levers.iter().fold((0u64, 0u64, 0u64), |a, l| {
                    let o = l.observed.unwrap_or((l.k, l.n, 0));
                    (a.0 + o.0, a.1 + o.1, a.2 + o.2)
                });
                TeamLine {
                    label: self.lever_label(id),
                    seen: self.seen_counts(seen),
                    team: pct(team_rate),
                    bar: bar(team_rate),
                    benchmark: super::view::shared_benchmark(&levers, self.lang),
                    n: seen.1,
                }
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn manager_sheet(
        &self,
        env: &minijinja::Environment,
        manager: &str,
        reps: &[&Diagnosis],
        files: &BTreeMap<String, String>,
        ledger: &[Plan],
        coach: &CoachingSheet,
        dir: Option<&Path>,
    ) -> Result<String> {
        let parent = self.roster.and_then(|r| {
            r.index.get(manager).and_then(|&i| r.parent[i]).map(|p| r.people[p].person_id.clone())
        });
        let rows: Vec<Value> = reps
            .iter()
            .map(|d| {
                let focus = d.lever().map_or("—".into(), |l| {
                    let label = self.lever_label(&l.id);
                    if d.focus.is_some() { label } else { format!("({label}?)") }
                });
                let why = d.lever().map_or_else(|| self.stretch_why(d), |l| self.why(d, l));
                obj([
                    ("id", Value::from(d.rep_id.clone())),
                    (
                        "name",
                        Value::from(if d.rep_name.is_empty() {
                            d.rep_id.clone()
                        } else {
                            d.rep_name.clone()
                        }),
                    ),
                    ("focus", Value::from(focus)),
                    ("why", Value::from(why)),
                    (
                        "confidence",
                        Value::from(
                            d.lever().and_then(|l| l.confidence).map_or("—".into(), |c| {
                                crate::diagnosis::sure_pct(c, self.lang == Lang::Ja)
                            }),
                        ),
                    ),
                    (
                        "file",
                        Value::from_safe_string(
                            files
                                .get(&d.rep_id)
                                .map(|f| link_target(&format!("../{f}")))
                                .unwrap_or_default(),
                        ),
                    ),
                ])
            })
            .collect();
        let period = reps.first().map(|d| d.period.clone()).unwrap_or_default();
        let previous: Vec<Value> = ledger
            .iter()
            .filter(|p| {
                p.manager_id.as_deref() == Some(manager)
                    && !p.is_coaching()
                    && p.period == month_before(&period)
                    && p.status != PlanStatus::Suggested
            })
            .map(|p| {
                let agreed = p.status == PlanStatus::Agreed || p.agreed == Some(true);
                let agreed = match (agreed, self.lang) {
                    (true, Lang::En) => "yes",
                    (false, Lang::En) => "no (taken as proposed)",
                    (true, Lang::Ja) => "はい",
                    (false, Lang::Ja) => "いいえ（提案どおりとして扱う）",
                };
                obj([
                    ("rep", Value::from(p.rep_name.clone().unwrap_or_else(|| p.rep_id.clone()))),
                    ("agreed", Value::from(agreed)),
                    ("focus", Value::from(self.lever_label(p.lever()))),
                    ("outcome", Value::from(self.outcome_text(p))),
                    ("effect", Value::from(self.effect_text(p))),
                    ("leading", Value::from(self.leading_text(p))),
                ])
            })
            .collect();
        let ctx = minijinja::context! {
            manager => obj([
                ("id", Value::from(manager.to_string())),
                ("name", Value::from(self.name_of(manager))),
                ("parent_name", Value::from(parent.map(|p| self.name_of(&p)).unwrap_or_else(|| "—".into()))),
            ]),
            period => period.clone(),
            window_from => reps.first().map(|d| d.window_from.clone()).unwrap_or_default(),
            window_to => reps.first().map(|d| d.window_to.clone()).unwrap_or_default(),
            funnel => Value::from(Serde(&self.team_lines(reps))),
            reps => rows,
            previous => previous,
            record => self.record(ledger.iter().filter(|p| p.manager_id.as_deref() == Some(manager) && !p.is_coaching() && reviewed_by(p, &period))),
            coaching => self.coaching_context(coach.diag, coach.peers),
            plan => self.coaching_plan_context(coach.plan),
            trend => self.coaching_trend(&coach.plans, &period),
            own => self.own_coaching_outcome(ledger, manager, &period),
        };
        render::render(env, self.lang.code(), "manager.md.j2", ctx, dir)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn director_sheet(
        &self,
        env: &minijinja::Environment,
        director: &str,
        managers: &[String],
        teams: &BTreeMap<String, Vec<&Diagnosis>>,
        all: &[Diagnosis],
        files: &BTreeMap<String, String>,
        ledger: &[Plan],
        coach: &CoachingSheet,
        dir: Option<&Path>,
    ) -> Result<String> {
        let period = all.first().map(|d| d.period.clone()).unwrap_or_default();
        let mut division: Vec<&Diagnosis> = Vec::new();
        let rows: Vec<Value> = managers
            .iter()
            .map(|m| {
                let reps = &teams[m];
                division.extend(reps.iter().copied());
                let ids: BTreeSet<&str> = reps.iter().map(|d| d.rep_id.as_str()).collect();
                // Last month's plans: this month's are agreed in the 1:1s after the month end,
                // so their share is always zero when the sheet is written.
                let agreed = ledger
                    .iter()
                    .filter(|p| {
                        p.period == month_before(&period)
                            && ids.contains(p.rep_id.as_str())
                            && (p.status == PlanStatus::Agreed || p.agreed == Some(true))
                    })
                    .count();
                let plans = reps.iter().filter(|d| d.focus.is_some()).count();
                let reviewed: Vec<&Plan> = ledger
                    .iter()
                    .filter(|p| {
                        // Last month's plans, as the column says.
                        p.manager_id.as_deref() == Some(m)
                            && !p.is_coaching()
                            && p.period == month_before(&period)
                            && p.verdict.is_some()
                            && reviewed_by(p, &period)
                    })
                    .collect();
                let improved =
                    reviewed.iter().filter(|p| p.verdict == Some(Verdict::Improved)).count();
                obj([
                    ("name", Value::from(self.name_of(m))),
                    ("file", Value::from_safe_string(link_target(&format!("../{}", files[m])))),
                    ("reps", Value::from(reps.len())),
                    ("plans", Value::from(plans)),
                    ("coverage", Value::from(pct(Some(agreed as f64 / reps.len().max(1) as f64)))),
                    ("reviewed", Value::from(reviewed.len())),
                    (
                        "improved",
                        Value::from(if reviewed.is_empty() {
                            "—".into()
                        } else {
                            let n = reviewed.len() as f64;
                            let (lo, hi) = crate::metrics::stats::wilson(improved as f64, n)
                                .unwrap_or((0.0, 1.0));
                            format!(
                                "{} ({}–{})",
                                pct(Some(improved as f64 / n)),
                                pct(Some(lo)),
                                pct(Some(hi))
                            )
                        }),
                    ),
                ])
            })
            .collect();
        let trend = self.coaching_trend(&coach.plans, &period);
        let period2 = period.clone();
        let ctx = minijinja::context! {
            director => obj([("id", Value::from(director.to_string())), ("name", Value::from(self.name_of(director)))]),
            period => period,
            window_from => all.first().map(|d| d.window_from.clone()).unwrap_or_default(),
            window_to => all.first().map(|d| d.window_to.clone()).unwrap_or_default(),
            managers => rows,
            funnel => Value::from(Serde(&self.team_lines(&division))),
            coaching => self.coaching_context(coach.diag, coach.peers),
            plan => self.coaching_plan_context(coach.plan),
            trend => trend,
            record => self.record(coach.plans.iter().copied().filter(|p| reviewed_by(p, &period2))),
        };
        let _ = self.out;
        render::render(env, self.lang.code(), "director.md.j2", ctx, dir)
    }
}
