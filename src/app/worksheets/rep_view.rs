//! A rep's worksheet: the focus, its evidence and hypotheses, the trend, the plan.

use super::view::{FunnelLine, Sheets, bar, json_num, money, obj, pct, plan_value};
use crate::diagnosis::{Diagnosis, HypothesisStatus, Lever, LeverKind};
use crate::model::plans::Plan;
use crate::model::time::month_before;
use crate::model::values::{Lang, PlanStatus};
use crate::render::{self, ChartBar, link_target};
use anyhow::Result;
use minijinja::Value;
use minijinja::value::Serde;
use std::path::Path;

impl Sheets<'_> {
    pub(super) fn rep_sheet(
        &self,
        env: &minijinja::Environment,
        // The diagnosis, and whether its lever is only the nearest stretch of a rep with no
        // lever to work on (no gap, none worth coaching, or not enough data yet).
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
                seen: self.seen(l),
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
                    && p.period == month_before(&d.period)
                    && p.status != PlanStatus::Suggested
            })
            .map(|p| {
                obj([
                    ("period", Value::from(p.period.clone())),
                    ("focus", Value::from(self.lever_label(p.lever()))),
                    ("baseline", Value::from(plan_value(p.lever(), p.baseline_rate))),
                    ("outcome", Value::from(self.outcome_text(p))),
                    ("sum", Value::from(self.outcome_sum(p))),
                    (
                        "agreed",
                        Value::from(p.status == PlanStatus::Agreed || p.agreed == Some(true)),
                    ),
                    ("actions", Value::from(p.actions.clone().unwrap_or_default())),
                    ("effect", Value::from(self.effect_text(p))),
                    ("leading", Value::from(self.leading_text(p))),
                ])
            });
        let money = lever.impact_amount.map(|a| {
            let currency = d.currency.as_deref().or(self.playbook.currency.as_deref());
            money(a, currency, self.lang == Lang::Ja)
        });
        // A rep whose first deals come after the window's first month is new: the sheet says
        // so, and its data line starts where the rep's data does.
        let new_since = Some(self.data_from(d)).filter(|from| *from != d.window_from);
        let ctx = minijinja::context! {
            rep => obj([
                ("id", Value::from(d.rep_id.clone())),
                ("new_since", Value::from(new_since.clone())),
                ("name", Value::from(rep_name.clone())),
                ("manager_name", Value::from(d.manager_id.as_deref().map(|m| self.name_of(m)).unwrap_or_else(|| "—".into()))),
            ]),
            period => d.period.clone(),
            window_from => new_since.clone().unwrap_or_else(|| d.window_from.clone()),
            window_to => d.window_to.clone(),
            focus => obj([
                ("label", Value::from(self.lever_label(&lever.id))),
                ("stands_out", Value::from(d.focus.is_some())),
                ("stretch", Value::from(stretch)),
                ("impact_won", Value::from(won_a_month(lever.impact_won))),
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
                ("check_in", Value::from(format!("{}-15", crate::model::time::month_after(&d.period)))),
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
        ]);
        Ok((render::seal(&format!("{fm}{body}")), svg))
    }

    /// What was seen at a step: "7 of 38 (13 open)".
    pub(super) fn seen(&self, l: &Lever) -> String {
        l.observed.map_or("—".into(), |o| self.seen_counts(o))
    }

    /// (stepped up, entered, still open) as the tables print them.
    pub(super) fn seen_counts(&self, (k, n, open): (u64, u64, u64)) -> String {
        if n == 0 {
            return "—".into();
        }
        match (open, self.lang) {
            (0, Lang::En) => format!("{k} of {n}"),
            (0, Lang::Ja) => format!("{n} 件中 {k} 件"),
            (o, Lang::En) => format!("{k} of {n} ({o} open)"),
            (o, Lang::Ja) => format!("{n} 件中 {k} 件（結果待ち {o}）"),
        }
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
}

/// Won deals a month as a sheet writes them: a value under the floor's scale keeps two
/// decimals, so that "+0.01" in the why does not read "+0.0" in the impact line.
pub(super) fn won_a_month(x: f64) -> String {
    if x.abs() < 0.095 { format!("{x:+.2}") } else { format!("{x:+.1}") }
}
