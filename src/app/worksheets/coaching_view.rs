//! Coaching up the tree on the sheets: a manager's (director's) coaching levers, the focus with
//! its numbers, the playbook's hypotheses, checks and questions for the level above, the trend
//! of their coaching, and the plan their sheet proposes.

use super::view::{Sheets, obj, pct};
use crate::diagnosis::Diagnosis;
use crate::diagnosis::coaching::{CoachDiagnosis, CoachLever};
use crate::metrics::review::coaching_counts as counts;
use crate::model::level::OrgLevel;
use crate::model::lever::{CoachingSkill, LeverId};
use crate::model::plans::Plan;
use crate::model::time::{month_after, month_before};
use crate::model::values::{Lang, PlanStatus};
use anyhow::Result;
use minijinja::Value;
use minijinja::value::Serde;
use std::collections::BTreeMap;
use std::path::Path;

impl Sheets<'_> {
    /// A coaching lever's title in the sheet's language, from the playbook.
    pub(super) fn coaching_title(&self, id: &LeverId) -> String {
        self.playbook
            .coaching
            .iter()
            .find(|r| &r.lever == id)
            .map_or_else(|| id.to_string(), |r| r.text(self.lang).title.clone())
    }

    /// "3 of 8 (38%; 95%: 14%–69%)".
    fn share_text(&self, l: &CoachLever) -> String {
        match (l.value, l.low, l.high) {
            (Some(v), Some(lo), Some(hi)) => {
                let of = if self.ja() { "件中" } else { "of" };
                if self.ja() {
                    format!(
                        "{} {of} {} 件（{}、95%: {}–{}）",
                        l.n,
                        l.k,
                        pct(Some(v)),
                        pct(Some(lo)),
                        pct(Some(hi))
                    )
                } else {
                    format!(
                        "{} {of} {} ({}; 95%: {}–{})",
                        l.k,
                        l.n,
                        pct(Some(v)),
                        pct(Some(lo)),
                        pct(Some(hi))
                    )
                }
            }
            _ => "—".into(),
        }
    }

    /// The coaching section of a manager's or director's sheet.
    pub(super) fn coaching_context(&self, d: &CoachDiagnosis, peers: usize) -> Value {
        let who = match (&d.level, self.ja()) {
            (OrgLevel::Director, false) => "directors",
            (OrgLevel::Director, true) => "ディレクター",
            (_, false) => "managers",
            (_, true) => "マネージャー",
        };
        let levers: Vec<Value> =
            d.levers
                .iter()
                .map(|l| {
                    obj([
                        ("title", Value::from(self.coaching_title(&l.id))),
                        ("value", Value::from(self.share_text(l))),
                        ("benchmark", Value::from(pct(l.benchmark))),
                        (
                            "confidence",
                            Value::from(l.confidence.map_or("—".into(), |c| {
                                crate::diagnosis::sure_pct(c, self.ja())
                            })),
                        ),
                        (
                            "focus",
                            Value::from(Some(&l.id) == d.focus.as_ref().or(d.suggestion.as_ref())),
                        ),
                    ])
                })
                .collect();
        let chosen = d.lever();
        let why = chosen.map(|l| {
            let title = self.coaching_title(&l.id);
            if l.n == 0 {
                return if self.ja() {
                    "先月のプランがまだありません。最初の一歩は、今月のプランを 1on1 で合意することです。".to_string()
                } else {
                    "There were no plans last month to assess: the first step is agreeing this month's plans in the 1:1s.".to_string()
                };
            }
            let conf = l.confidence.map_or("—".into(), |c| crate::diagnosis::sure_pct(c, self.ja()));
            if peers < 2 {
                return if self.ja() {
                    format!("{title}: {}。比べる相手がいないため、推移で判断します。", self.share_text(l))
                } else {
                    format!(
                        "{title}: {} last month; with no one else at this level to compare with, the trend is the guide.",
                        self.share_text(l)
                    )
                };
            }
            // "Below" is said only where the share is below the others' (see the diagnosis).
            match (self.ja(), l.confidence.is_some()) {
                (true, true) => format!(
                    "{title}: {}。{peers} 人の{who}の中央値（件数で補正）は {}、下回っている確度 {conf}。",
                    self.share_text(l),
                    pct(l.benchmark)
                ),
                (true, false) => format!(
                    "{title}: {}。{peers} 人の{who}の中で低いとは言えません（件数で補正した中央値は {}）。",
                    self.share_text(l),
                    pct(l.benchmark)
                ),
                (false, true) => format!(
                    "{title}: {} last month, against a median of {} across the {peers} {who} (shrunk); {conf} sure it is below.",
                    self.share_text(l),
                    pct(l.benchmark)
                ),
                (false, false) => format!(
                    "{title}: {} last month, not below the other {who} (their median is {} once shrunk).",
                    self.share_text(l),
                    pct(l.benchmark)
                ),
            }
        });
        let rule = chosen.and_then(|l| self.playbook.coaching.iter().find(|r| r.lever == l.id));
        let text = rule.map(|r| r.text(self.lang).clone()).unwrap_or_default();
        obj([
            ("levers", Value::from(levers)),
            ("confident", Value::from(d.focus.is_some())),
            ("title", Value::from(chosen.map(|l| self.coaching_title(&l.id)))),
            ("why", Value::from(why)),
            ("hypotheses", Value::from(text.hypotheses)),
            ("checks", Value::from(text.checks)),
            ("questions", Value::from(text.questions)),
        ])
    }

    /// The plan a coaching diagnosis proposes for `period`: its lever, from its share last
    /// month, to halfway to the level's median; a suggestion when no lever is confident.
    pub(super) fn coaching_plan(
        &self,
        d: &CoachDiagnosis,
        period: &str,
        parent: Option<String>,
        worksheet: &str,
    ) -> Option<Plan> {
        let l = d.lever()?;
        // At least one more plan of last month's number, or the level's median if higher.
        let target = l.value.map(|v| {
            let one_more = (v + 1.0 / (l.n.max(1) as f64)).min(1.0);
            l.benchmark.map_or(one_more, |b| b.max(one_more))
        });
        Some(Plan {
            plan_id: format!("{period}:{}:{}", d.level, d.person_id),
            period: period.to_string(),
            rep_id: d.person_id.clone(),
            rep_name: Some(self.name_of(&d.person_id)),
            manager_id: parent,
            focus: l.id.clone(),
            baseline_rate: l.value,
            baseline_n: Some(l.n),
            benchmark: l.benchmark,
            target_rate: target.map(|t| (t * 10_000.0).round() / 10_000.0),
            review_period: month_after(period),
            status: if d.focus.is_some() { PlanStatus::Proposed } else { PlanStatus::Suggested },
            worksheet: Some(worksheet.to_string()),
            level: Some(d.level.clone()),
            ..Plan::new(l.id.clone())
        })
    }

    /// The plan block of a coaching sheet: suggested focus, target and review month.
    pub(super) fn coaching_plan_context(&self, plan: Option<&Plan>) -> Value {
        let Some(p) = plan else { return Value::from(()) };
        obj([
            ("focus", Value::from(self.coaching_title(&p.focus))),
            ("baseline", Value::from(pct(p.baseline_rate))),
            ("target", Value::from(pct(p.target_rate))),
            ("review_period", Value::from(p.review_period.clone())),
        ])
    }

    /// The last three months of a person's coaching, from the plans of their reps.
    pub(super) fn coaching_trend(&self, plans: &[&Plan], period: &str) -> Vec<Value> {
        let mut month = month_before(period);
        let mut out = Vec::new();
        // Months before the first plan are not a record of anything: the last month always
        // shows, earlier ones only once plans were made.
        let first = plans.iter().map(|p| p.period.clone()).min();
        for i in 0..3 {
            if i > 0 && first.as_ref().is_none_or(|f| month < *f) {
                break;
            }
            let of_month: Vec<&Plan> =
                plans.iter().copied().filter(|p| p.period == month).collect();
            let c = counts(&of_month);
            out.push(obj([
                ("month", Value::from(month.clone())),
                ("made", Value::from(c[0].1)),
                ("agreed", Value::from(c[0].0)),
                ("reviewed", Value::from(c[1].0)),
                (
                    "improved",
                    Value::from(format!(
                        "{} ({})",
                        c[2].0,
                        pct((c[2].1 > 0).then(|| c[2].0 as f64 / c[2].1 as f64))
                    )),
                ),
            ]));
            month = month_before(&month);
        }
        out
    }

    /// Last month's coaching plan of this person, as reviewed: "Plans agreed in the 1:1:
    /// improved (0% → 50%)", or nothing when there was none (suggestions are not plans).
    pub(super) fn own_coaching_outcome(
        &self,
        ledger: &[Plan],
        person: &str,
        period: &str,
    ) -> String {
        let last = month_before(period);
        let Some(p) = ledger.iter().find(|p| {
            p.is_coaching()
                && p.rep_id == person
                && p.period == last
                && p.status != PlanStatus::Suggested
        }) else {
            return String::new();
        };
        let effect = match (p.effect_low, p.effect_high) {
            (Some(lo), Some(hi)) => format!(
                "; {:+.0} pt (95%: {:+.0} to {:+.0})",
                p.effect.unwrap_or(0.0) * 100.0,
                lo * 100.0,
                hi * 100.0
            ),
            _ => String::new(),
        };
        format!("{}: {}{effect}", self.coaching_title(p.lever()), self.outcome_text(p))
    }

    /// The front matter of a coaching sheet: its plan, as on a rep's sheet, with its level.
    pub(super) fn coaching_front_matter(plan: Option<&Plan>) -> String {
        let Some(p) = plan else { return String::new() };
        let num = super::view::json_num;
        crate::render::front_matter(&[
            ("plan_id", p.plan_id.clone().into()),
            ("period", p.period.clone().into()),
            ("level", p.level.as_ref().map_or("", OrgLevel::as_str).into()),
            ("person_id", p.rep_id.clone().into()),
            ("rep_id", p.rep_id.clone().into()),
            ("manager_id", p.manager_id.clone().unwrap_or_default().into()),
            ("focus", p.focus.to_string().into()),
            ("baseline_rate", num(p.baseline_rate)),
            ("baseline_n", p.baseline_n.unwrap_or(0).into()),
            ("target_rate", num(p.target_rate)),
            ("review_period", p.review_period.clone().into()),
            ("status", p.status.as_str().into()),
        ])
    }
}

impl Sheets<'_> {
    /// The board's page: the directors side by side (their coaching record and focus), the
    /// company's funnel and coaching record, a link to each director's sheet.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn board_sheet(
        &self,
        env: &minijinja::Environment,
        directors: &BTreeMap<String, Vec<String>>,
        coach: &[CoachDiagnosis],
        managers: &BTreeMap<String, Vec<&Diagnosis>>,
        all: &[Diagnosis],
        files: &BTreeMap<String, String>,
        ledger: &[Plan],
        dir: Option<&Path>,
    ) -> Result<String> {
        let period = all.first().map(|d| d.period.clone()).unwrap_or_default();
        let rows: Vec<Value> = directors
            .iter()
            .zip(coach)
            .map(|((director, mans), d)| {
                let reps: usize = mans.iter().map(|m| managers.get(m).map_or(0, Vec::len)).sum();
                let lever = |skill| d.levers.iter().find(|l| l.id == LeverId::Coaching(skill));
                let improved = lever(CoachingSkill::Improved);
                obj([
                    ("name", Value::from(self.name_of(director))),
                    ("file", Value::from_safe_string(crate::render::link_target(&files[director]))),
                    ("managers", Value::from(mans.len())),
                    ("reps", Value::from(reps)),
                    (
                        "agreed",
                        Value::from(
                            lever(CoachingSkill::Agreed)
                                .map_or("—".into(), |l| self.share_text(l)),
                        ),
                    ),
                    ("improved", Value::from(improved.map_or("—".into(), |l| self.share_text(l)))),
                    ("shrunk", Value::from(pct(improved.and_then(|l| l.shrunk)))),
                    (
                        "focus",
                        Value::from(d.lever().map_or("—".into(), |l| {
                            let t = self.coaching_title(&l.id);
                            if d.focus.is_some() { t } else { format!("({t}?)") }
                        })),
                    ),
                ])
            })
            .collect();
        let everyone: Vec<&Diagnosis> = all.iter().collect();
        let company = if self.lang == Lang::Ja { "全社" } else { "Company" };
        let groups: Vec<(OrgLevel, String, String)> = directors
            .keys()
            .map(|d| (OrgLevel::Director, d.clone(), self.name_of(d)))
            .chain([(OrgLevel::Company, "company".to_string(), company.to_string())])
            .collect();
        // The months the company's data reaches, of this month, the three before and a year ago.
        let shown: Vec<String> = super::outcomes::outcome_months(&period)
            .into_iter()
            .filter(|m| self.funnel.iter().any(|r| r.level == OrgLevel::Company && &r.period == m))
            .collect();
        let stages = &self.playbook.stages;
        let ramp = match (stages.first(), stages.last()) {
            (Some(a), Some(b)) => super::outcomes::RampUp::of(self.funnel, a, b),
            _ => None,
        };
        let outcomes = self.outcome_lines(self.funnel, &groups, &shown, ramp.as_ref());
        let cut_short = outcomes.iter().flat_map(|o| &o.cells).any(|c| c.incomplete);
        let ramp_note = ramp.filter(|_| cut_short).map(|r| r.note(self.lang == Lang::Ja));
        let ctx = minijinja::context! {
            ramp_note => ramp_note,
            outcome_months => shown,
            outcomes => Value::from(Serde(&outcomes)),
            period => period.clone(),
            window_from => all.first().map(|d| d.window_from.clone()).unwrap_or_default(),
            window_to => all.first().map(|d| d.window_to.clone()).unwrap_or_default(),
            directors => rows,
            funnel => Value::from(Serde(&self.team_lines(&everyone))),
            record => self.record(ledger.iter().filter(|p| !p.is_coaching() && super::view::reviewed_by(p, &period))),
        };
        crate::render::render(env, self.lang.code(), "board.md.j2", ctx, dir)
    }
}
