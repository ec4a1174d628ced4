//! The worksheets' view model: what each template is given, typed.

use super::*;
use crate::diagnosis::{Diagnosis, HypothesisStatus, Lever, LeverKind};
use crate::model::lever::LeverId;
use crate::model::plans::Plan;
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::model::values::Lang;
use crate::model::values::{PlanStatus, Verdict};
use crate::render::{self, ChartBar, link_target};
use anyhow::Result;
use minijinja::Value;
use minijinja::value::Serde;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What a manager's or director's sheet says of their coaching.
pub(super) struct CoachingSheet<'c> {
    pub(super) diag: &'c crate::diagnosis::coaching::CoachDiagnosis,
    /// How many people of their level the diagnosis compares them with.
    pub(super) peers: usize,
    pub(super) plan: Option<&'c Plan>,
    /// The plans of their reps, every month.
    pub(super) plans: Vec<&'c Plan>,
}

pub(super) struct Sheets<'a> {
    pub(super) playbook: &'a Playbook,
    pub(super) lang: Lang,
    pub(super) roster: Option<&'a Roster>,
    pub(super) out: &'a Path,
    /// The company's (converted, entered) per transition, once computed.
    pub(super) company: std::cell::RefCell<Vec<(u64, u64)>>,
}

#[derive(Serialize)]
pub(super) struct FunnelLine {
    pub(super) label: String,
    pub(super) rate: String,
    pub(super) bar: String,
    pub(super) benchmark: String,
    pub(super) gap: String,
    pub(super) confidence: String,
    pub(super) n: u64,
}

#[derive(Serialize)]
pub(super) struct TeamLine {
    pub(super) label: String,
    pub(super) team: String,
    pub(super) bar: String,
    pub(super) company: String,
    pub(super) n: u64,
}

/// Why a lever is the focus (or the largest candidate), in the reader's language: the
/// diagnosis's own sentence in English, the same facts in Japanese.
pub fn why_text(playbook: &Playbook, lang: Lang, d: &Diagnosis, lever: &Lever) -> String {
    if lang == Lang::En {
        return d.why.clone();
    }
    let label = lever_label(playbook, lang, &lever.id);
    let value = |v: Option<f64>| match (lever.kind, v) {
        (LeverKind::Transition(_), v) => pct(v),
        (_, Some(v)) => format!("{v:.1}"),
        (_, None) => "—".into(),
    };
    let core = format!(
        "{label} は {}、同僚の標準は {}（弱点である確度 {}）",
        value(lever.value),
        value(lever.benchmark),
        crate::diagnosis::sure_pct(lever.confidence.unwrap_or(0.0), true)
    );
    if d.focus.is_some() {
        format!("{core}。同僚の水準に届けば月 +{:.1} 件の受注に相当します。", lever.impact_won)
    } else {
        let more = lever
            .more_deals_needed
            .map_or(String::new(), |m| format!("あと約 {m} 件の案件で明確になります。"));
        format!(
            "明確な課題はまだありません。候補として最も大きいのは {label} で、{}（月 +{:.1} 件相当）。{more}",
            core.trim_start_matches(&format!("{label} は ")),
            lever.impact_won
        )
    }
}

/// A stage as the playbook names it in a language (`[funnel.display.ja]`), else its id.
pub fn stage_label(playbook: &Playbook, lang: Lang, s: &str) -> String {
    playbook
        .display
        .get(lang.code())
        .and_then(|d| d.get(s))
        .cloned()
        .unwrap_or_else(|| s.to_string())
}

/// A lever as every page prints it: "Case → Proposal", "new leads a month", "商談 → 提案".
pub fn lever_label(playbook: &Playbook, lang: Lang, id: &LeverId) -> String {
    let stage = |s: &str| stage_label(playbook, lang, s);
    let ja = lang == Lang::Ja;
    match id {
        LeverId::Step { from, to } => format!("{} → {}", stage(from), stage(to)),
        LeverId::Activity { stage: s } if ja => format!("{}あたりの活動数", stage(s)),
        LeverId::Activity { stage: s } => format!("activities per {}", stage(s).to_lowercase()),
        LeverId::LeadVolume { stage: s } if ja => format!("月間の新規{}数", stage(s)),
        LeverId::LeadVolume { stage: s } => crate::diagnosis::why::volume_label(&stage(s)),
        LeverId::Coaching(_) => id.to_string(),
    }
}

pub(super) fn bar(v: Option<f64>) -> String {
    let filled = (v.unwrap_or(0.0).clamp(0.0, 1.0) * 10.0).round() as usize;
    format!("{}{}", "█".repeat(filled), "░".repeat(10 - filled))
}

pub(super) fn pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{:.0}%", v * 100.0))
}

impl Sheets<'_> {
    pub(super) fn name_of(&self, id: &str) -> String {
        self.roster
            .and_then(|r| r.index.get(id).map(|&i| r.people[i].name.clone()))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| id.to_string())
    }

    pub(super) fn lever_label(&self, id: &LeverId) -> String {
        lever_label(self.playbook, self.lang, id)
    }

    pub(super) fn value(&self, lever: &Lever, v: Option<f64>) -> String {
        match (lever.kind, v) {
            (LeverKind::Transition(_), v) => pct(v),
            (_, Some(v)) => format!("{v:.1}"),
            (_, None) => "—".into(),
        }
    }

    pub(super) fn confidence_words(&self, c: Option<f64>) -> String {
        let c = c.unwrap_or(0.0);
        let (en, ja) = match c {
            c if c >= 0.95 => ("very likely a real weakness", "弱点である可能性が非常に高い"),
            c if c >= 0.8 => ("likely a real weakness", "弱点である可能性が高い"),
            c if c >= 0.6 => ("possibly a weakness", "弱点の可能性がある"),
            _ => ("not clearly a weakness", "弱点とは言い切れない"),
        };
        let sure = crate::diagnosis::sure_pct(c, self.lang == Lang::Ja);
        if self.lang == Lang::Ja { format!("{ja}（{sure}）") } else { format!("{en} ({sure})") }
    }

    /// The basis of the focus's value, in small print where it differs from the raw count:
    /// "33% is adjusted for the 38 deals it rests on (shrunk toward the peers); observed: 9 of
    /// 38 (24%), 2026-01 to 2026-03".
    pub(super) fn basis(&self, d: &Diagnosis, lever: &Lever) -> String {
        let (Some(v), Some(raw)) = (lever.value, lever.raw) else { return String::new() };
        let (shown, observed) = (self.value(lever, Some(v)), self.value(lever, Some(raw)));
        if shown == observed {
            return String::new();
        }
        let dash = if self.lang == Lang::Ja { "〜" } else { "–" };
        let window = format!("{} {dash} {}", d.window_from, d.window_to);
        // What was seen, before any estimate for the deals still open.
        let (converted, entered, open) = lever.observed.unwrap_or((lever.k, lever.n, 0));
        match (lever.kind, self.lang) {
            (LeverKind::Transition(_), Lang::En) if open == 0 => format!(
                "{shown} is adjusted for the {entered} deals it rests on (shrunk toward the peers); observed: {converted} of {entered} ({observed}), {window}."
            ),
            (LeverKind::Transition(_), Lang::En) => format!(
                "{shown} is adjusted for the deals it rests on (shrunk toward the peers); observed so far: {converted} of {entered} stepped up, {open} still open; {observed} with the open ones estimated, {window}."
            ),
            (LeverKind::Transition(_), Lang::Ja) if open == 0 => format!(
                "{shown} は件数（{entered} 件）を踏まえて同僚の水準へ縮小推定した値です。実績: {entered} 件中 {converted} 件（{observed}）、{window}。"
            ),
            (LeverKind::Transition(_), Lang::Ja) => format!(
                "{shown} は件数を踏まえて同僚の水準へ縮小推定した値です。実績: {entered} 件中 {converted} 件が進み、{open} 件は未決。未決分を推定に含めると {observed}、{window}。"
            ),
            (_, Lang::En) => format!(
                "{shown} is adjusted for the months it rests on (shrunk toward the peers); observed: {observed} a month, {window}."
            ),
            (_, Lang::Ja) => format!(
                "{shown} は月数を踏まえて同僚の水準へ縮小推定した値です。実績: 月 {observed}、{window}。"
            ),
        }
    }

    /// Why a rep has no lever to work on, in the reader's language: no gap, or not enough data.
    fn stretch_why(&self, d: &Diagnosis) -> String {
        if self.lang == Lang::En {
            return d.why.clone();
        }
        let steps = || d.levers.iter().filter(|l| matches!(l.kind, LeverKind::Transition(_)));
        let outcomes: u64 = steps().map(|l| l.n).sum();
        let measured = d.levers.iter().any(|l| l.value.is_some() && l.n > 0);
        if measured && outcomes >= 10 {
            "課題はありません。すべての指標が標準以上です。今のやり方を続けましょう".into()
        } else {
            format!(
                "まだデータが足りません。期間内に結果が出たのは各ステップ合計 {outcomes} 件です。あと 1〜2 か月で見えてきます"
            )
        }
    }

    pub(super) fn why(&self, d: &Diagnosis, lever: &Lever) -> String {
        why_text(self.playbook, self.lang, d, lever)
    }

    pub(super) fn rep_sheet(
        &self,
        env: &minijinja::Environment,
        // The diagnosis, and whether its lever is only the nearest stretch of a rep with no
        // lever to work on (no gap, or not enough data yet).
        (d, stretch): (&Diagnosis, bool),
        plan: &Plan,
        ledger: &[Plan],
        dir: Option<&Path>,
    ) -> Result<(String, String)> {
        let lever = d.lever().expect("a plan has a lever");
        let transitions: Vec<&Lever> =
            d.levers.iter().filter(|l| matches!(l.kind, LeverKind::Transition(_))).collect();
        let funnel: Vec<FunnelLine> = transitions
            .iter()
            .map(|l| FunnelLine {
                label: self.lever_label(&l.id),
                rate: pct(l.value),
                bar: bar(l.value),
                benchmark: pct(l.benchmark),
                gap: match (l.value, l.benchmark) {
                    (Some(v), Some(b)) => match ((v - b) * 100.0).round() {
                        0.0 => "0 pt".into(),
                        g => format!("{g:+.0} pt"),
                    },
                    _ => "—".into(),
                },
                confidence: l
                    .confidence
                    .map_or("—".into(), |c| crate::diagnosis::sure_pct(c, self.lang == Lang::Ja)),
                // The deals that entered the step, as the rep counts them (not the estimate's
                // deals' worth).
                n: l.observed.map_or(l.n, |o| o.1),
            })
            .collect();
        let mut bars: Vec<ChartBar> = transitions
            .iter()
            .map(|l| ChartBar {
                label: self.lever_label(&l.id),
                rate: l.value,
                benchmark: l.benchmark,
                focus: l.id == lever.id,
                text: None,
            })
            .collect();
        // A volume focus gets a bar of its own, scaled to the larger of the rep and the peers.
        if !matches!(lever.kind, LeverKind::Transition(_))
            && let Some(v) = lever.value
        {
            let top = v.max(lever.benchmark.unwrap_or(0.0)).max(1e-9) * 1.25;
            bars.push(ChartBar {
                label: self.lever_label(&lever.id),
                rate: Some(v / top),
                benchmark: lever.benchmark.map(|b| b / top),
                focus: true,
                text: Some(format!("{v:.1}")),
            });
        }
        let rep_name = if d.rep_name.is_empty() { d.rep_id.clone() } else { d.rep_name.clone() };
        let svg = render::funnel_svg(&rep_name, &bars, self.lang == Lang::Ja);
        let stem = Path::new(plan.worksheet.as_deref().unwrap_or("x.md"))
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let is_rate = matches!(lever.kind, LeverKind::Transition(_));
        let first_data = d.trend.iter().position(|t| t.n > 0).unwrap_or(d.trend.len());
        let trend: Vec<Value> = d.trend[first_data..]
            .iter()
            .map(|t| {
                obj([
                    ("period", Value::from(t.period.clone())),
                    ("value", Value::from(self.value(lever, t.value))),
                    ("bar", Value::from(if is_rate { bar(t.value) } else { String::new() })),
                    ("n", Value::from(t.n)),
                    // A month with no deals is not "still maturing": it has nothing to mature.
                    ("mature", Value::from(t.mature || t.n == 0)),
                ])
            })
            .collect();
        let hyps = |status: HypothesisStatus| {
            d.hypotheses.iter().filter(|h| h.status == status).collect::<Vec<_>>()
        };
        // The hypothesis's words in the sheet's language, when the playbook has them.
        let local = |h: &crate::diagnosis::HypothesisResult| match (self.lang, &h.ja) {
            (Lang::Ja, Some(ja)) => (
                ja.title.clone(),
                ja.evidence.clone().or_else(|| h.evidence.clone()).unwrap_or_default(),
                if ja.checks.is_empty() { h.checks.clone() } else { ja.checks.clone() },
                if ja.questions.is_empty() { h.questions.clone() } else { ja.questions.clone() },
            ),
            _ => (
                h.title.clone(),
                h.evidence.clone().unwrap_or_default(),
                h.checks.clone(),
                h.questions.clone(),
            ),
        };
        let supported: Vec<Value> = hyps(HypothesisStatus::Supported)
            .iter()
            .map(|h| {
                let (title, evidence, checks, _) = local(h);
                obj([
                    ("title", Value::from(title)),
                    ("evidence", Value::from(evidence)),
                    ("checks", Value::from(checks)),
                ])
            })
            .collect();
        let not_checkable: Vec<Value> = hyps(HypothesisStatus::NotCheckable)
            .iter()
            .map(|h| {
                obj([
                    ("title", Value::from(local(h).0)),
                    ("needs", Value::from(h.needs_columns.join(", "))),
                ])
            })
            .collect();
        // The data's verdict on each hypothesis decides what is asked: the strongest supported
        // first, then those the data cannot check (marked so); a ruled-out one is shown with its
        // numbers and not asked about. Three questions at most: the seed asks the manager to
        // ask and the salesperson to analyse, and a list of six is a script.
        let unchecked_note = match self.lang {
            Lang::En => " (the data cannot check this one)",
            Lang::Ja => "（データでは確認できない仮説）",
        };
        let mut questions: Vec<String> = Vec::new();
        for (h, note) in hyps(HypothesisStatus::Supported)
            .iter()
            .map(|h| (h, ""))
            .chain(hyps(HypothesisStatus::NotCheckable).iter().map(|h| (h, unchecked_note)))
        {
            for q in &local(h).3 {
                let q = format!("{q}{note}");
                if !questions.contains(&q) {
                    questions.push(q);
                }
            }
        }
        if questions.is_empty() {
            questions = self.open_questions(lever);
        }
        questions.truncate(3);
        let ruled_out: Vec<Value> = hyps(HypothesisStatus::NotSupported)
            .iter()
            .map(|h| {
                let (title, evidence, _, _) = local(h);
                obj([("title", Value::from(title)), ("evidence", Value::from(evidence))])
            })
            .collect();
        let previous = ledger
            .iter()
            .find(|p| {
                p.rep_id == d.rep_id
                    && p.period == prev_month(&d.period)
                    && p.status != PlanStatus::Suggested
            })
            .map(|p| {
                obj([
                    ("period", Value::from(p.period.clone())),
                    ("focus", Value::from(self.lever_label(p.lever()))),
                    ("baseline", Value::from(plan_value(p.lever(), p.baseline_rate))),
                    ("outcome", Value::from(self.outcome_text(p))),
                    ("effect", Value::from(self.effect_text(p))),
                    ("leading", Value::from(self.leading_text(p))),
                ])
            });
        let money = lever
            .impact_amount
            .map(|a| money(a, self.playbook.currency.as_deref(), self.lang == Lang::Ja));
        let ctx = minijinja::context! {
            rep => obj([
                ("id", Value::from(d.rep_id.clone())),
                ("name", Value::from(rep_name.clone())),
                ("manager_name", Value::from(d.manager_id.as_deref().map(|m| self.name_of(m)).unwrap_or_else(|| "—".into()))),
            ]),
            period => d.period.clone(),
            window_from => d.window_from.clone(),
            window_to => d.window_to.clone(),
            focus => obj([
                ("label", Value::from(self.lever_label(&lever.id))),
                ("stands_out", Value::from(d.focus.is_some())),
                ("stretch", Value::from(stretch)),
                ("impact_won", Value::from(format!("{:+.1}", lever.impact_won))),
                ("impact_amount", Value::from(money)),
                ("confidence_words", Value::from(self.confidence_words(lever.confidence))),
                ("basis", Value::from(self.basis(d, lever))),
                // What the trend's count column counts: the leads for a lead-volume focus.
                ("counted", Value::from(match (lever.kind, self.lang) {
                    (LeverKind::LeadVolume, Lang::En) => "Leads",
                    (LeverKind::LeadVolume, Lang::Ja) => "リード数",
                    (_, Lang::En) => "Deals",
                    (_, Lang::Ja) => "件数",
                })),
            ]),
            why => if stretch { self.stretch_why(d) } else { self.why(d, lever) },
            funnel => Value::from(Serde(&funnel)),
            svg_file => Value::from_safe_string(link_target(&format!("{stem}.svg"))),
            trend => trend,
            hypotheses => supported,
            not_checkable => not_checkable,
            ruled_out => ruled_out,
            questions => questions,
            target => obj([
                ("suggested", Value::from(self.value(lever, plan.target_rate))),
                ("baseline", Value::from(self.value(lever, lever.value))),
                ("review_period", Value::from(plan.review_period.clone())),
            ]),
            previous => previous,
        };
        let body = render::render(env, self.lang.code(), "rep.md.j2", ctx, dir)?;
        let fm = render::front_matter(&[
            ("plan_id", plan.plan_id.clone().into()),
            ("period", plan.period.clone().into()),
            ("rep_id", plan.rep_id.clone().into()),
            ("rep_name", plan.rep_name.clone().unwrap_or_default().into()),
            ("manager_id", plan.manager_id.clone().unwrap_or_default().into()),
            ("focus", plan.focus.to_string().into()),
            ("baseline_rate", json_num(plan.baseline_rate)),
            ("baseline_n", plan.baseline_n.unwrap_or(0).into()),
            ("target_rate", json_num(plan.target_rate)),
            ("review_period", plan.review_period.clone().into()),
            ("status", plan.status.as_str().into()),
            ("checksum", render::checksum(&body).into()),
        ]);
        Ok((format!("{fm}{body}"), svg))
    }

    pub(super) fn team_lines(&self, team: &[&Diagnosis], all: &[Diagnosis]) -> Vec<TeamLine> {
        let sum = |ds: &mut dyn Iterator<Item = &Diagnosis>, id: &LeverId| {
            ds.flat_map(|d| d.levers.iter().filter(|l| &l.id == id))
                .fold((0u64, 0u64), |a, l| (a.0 + l.k, a.1 + l.n))
        };
        // The company's sums are the same for every team: computed once.
        let company: Vec<(u64, u64)> = {
            let mut cache = self.company.borrow_mut();
            if cache.is_empty() {
                *cache =
                    self.playbook.transitions().iter().map(|id| sum(&mut all.iter(), id)).collect();
            }
            cache.clone()
        };
        self.playbook
            .transitions()
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let (tk, tn) = sum(&mut team.iter().copied(), id);
                let (ck, cn) = company[i];
                let team_rate = (tn > 0).then(|| tk as f64 / tn as f64);
                // The deals that entered the step, as people count them; the rates weigh open
                // deals by what is known of them.
                let entered: u64 = team
                    .iter()
                    .flat_map(|d| d.levers.iter().filter(|l| l.id == *id))
                    .map(|l| l.observed.map_or(l.n, |o| o.1))
                    .sum();
                TeamLine {
                    label: self.lever_label(id),
                    team: pct(team_rate),
                    bar: bar(team_rate),
                    company: pct((cn > 0).then(|| ck as f64 / cn as f64)),
                    n: entered,
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
        all: &[Diagnosis],
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
                let why = d.lever().map_or_else(|| d.why.clone(), |l| self.why(d, l));
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
                    && p.period == prev_month(&period)
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
            funnel => Value::from(Serde(&self.team_lines(reps, all))),
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

    /// Open questions on a lever when no hypothesis of the playbook is supported or left to
    /// check: the salesperson analyses the result from the deals themselves.
    pub(super) fn open_questions(&self, lever: &Lever) -> Vec<String> {
        let label = self.lever_label(&lever.id);
        match self.lang {
            Lang::En => vec![
                format!(
                    "Looking at your recent deals at {label}: which stepped up, which did not, and what was different?"
                ),
                format!("What is one thing you would try differently at {label} this month?"),
            ],
            Lang::Ja => vec![
                format!(
                    "最近の案件で {label} に進んだものと進まなかったものは、何が違いましたか？"
                ),
                format!("今月 {label} で一つ変えてみるとしたら、何を試しますか？"),
            ],
        }
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
                let agreed = ledger
                    .iter()
                    .filter(|p| {
                        p.period == period
                            && ids.contains(p.rep_id.as_str())
                            && matches!(p.status, PlanStatus::Agreed | PlanStatus::Reviewed)
                    })
                    .count();
                let plans = reps.iter().filter(|d| d.focus.is_some()).count();
                let reviewed: Vec<&Plan> = ledger
                    .iter()
                    .filter(|p| {
                        // Last month's plans, as the column says.
                        p.manager_id.as_deref() == Some(m)
                            && !p.is_coaching()
                            && p.period == prev_month(&period)
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
            funnel => Value::from(Serde(&self.team_lines(&division, all))),
            coaching => self.coaching_context(coach.diag, coach.peers),
            plan => self.coaching_plan_context(coach.plan),
            trend => trend,
            record => self.record(coach.plans.iter().copied().filter(|p| reviewed_by(p, &period2))),
        };
        let _ = self.out;
        render::render(env, self.lang.code(), "director.md.j2", ctx, dir)
    }
}

/// A template object from named values.
pub(super) fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::from(
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<BTreeMap<String, Value>>(),
    )
}

/// Whether a plan's outcome was known by a period: a worksheet never shows a review from its future.
pub(super) fn reviewed_by(p: &Plan, period: &str) -> bool {
    p.reviewed_in.as_deref().is_some_and(|r| r <= period)
}

pub(super) fn json_num(v: Option<f64>) -> serde_json::Value {
    v.and_then(|x| serde_json::Number::from_f64((x * 10_000.0).round() / 10_000.0))
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}

pub(super) fn group_thousands(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0 { format!("-{out}") } else { out }
}

/// A plan's value in its lever's unit: a rate as %, a volume as a count.
/// An amount in the playbook's currency, formatted for the sheet's language: "$2,687",
/// "2,687 CHF", "2,687 円"; without a currency, the number alone.
pub(super) fn money(amount: f64, currency: Option<&str>, ja: bool) -> String {
    let n = group_thousands(amount.round() as i64);
    let symbol = |c: &str| match c {
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        "JPY" => Some("¥"),
        _ => None,
    };
    match (currency, ja) {
        (Some("JPY"), true) => format!("{n} 円"),
        (Some(c), false) => symbol(c).map_or(format!("{n} {c}"), |s| format!("{s}{n}")),
        (Some(c), true) => format!("{n} {c}"),
        (None, _) => n,
    }
}

pub(super) fn plan_value(lever: &LeverId, v: Option<f64>) -> String {
    if lever.is_volume() { v.map_or("—".into(), |v| format!("{v:.1}")) } else { pct(v) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_carries_its_currency() {
        assert_eq!(money(2686.6, Some("USD"), false), "$2,687");
        assert_eq!(money(2686.6, Some("CHF"), false), "2,687 CHF");
        assert_eq!(money(2686.6, Some("JPY"), true), "2,687 円");
        assert_eq!(money(2686.6, None, false), "2,687");
    }

    #[test]
    pub(super) fn thousands_are_grouped() {
        assert_eq!(group_thousands(1234567), "1,234,567");
    }
}
