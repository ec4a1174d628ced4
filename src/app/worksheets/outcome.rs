//! How a reviewed plan reads on a worksheet: the verdict in words, the effect with its interval,
//! the leading indicator (labelled as an early signal, never as the verdict), and a coaching
//! record with intervals.

use super::view::{Sheets, pct, plan_value};
use crate::metrics::stats::wilson;
use crate::model::plans::Plan;
use crate::model::values::{Lang, Verdict};

/// A verdict as people read it; the id (`inconclusive`) is for data.
pub fn verdict_words(v: Verdict, lang: Lang) -> &'static str {
    match (v, lang == Lang::Ja) {
        (Verdict::Improved, false) => "improved",
        (Verdict::Improved, true) => "改善",
        (Verdict::Worse, false) => "worse",
        (Verdict::Worse, true) => "悪化",
        (_, false) => "no clear change yet",
        (_, true) => "まだ明確な変化なし",
    }
}

impl Sheets<'_> {
    pub(super) fn ja(&self) -> bool {
        self.lang == Lang::Ja
    }

    /// "improved (30% → 45%, target reached)": the verdict in words, before and after.
    pub(super) fn outcome_text(&self, p: &Plan) -> String {
        let ja = self.ja();
        let Some(v) = p.verdict else {
            return if ja { "未評価".into() } else { "not reviewed yet".into() };
        };
        let words = verdict_words(v, self.lang);
        // Whether the target value was reached is a fact apart from the verdict.
        let unclear = v == Verdict::Inconclusive;
        let target = match (p.target_reached, ja, unclear) {
            (Some(true), false, false) => "; target value reached",
            (Some(true), false, true) => {
                "; the target value was reached, but a change this size can still be chance"
            }
            (Some(true), true, false) => "。目標値は達成",
            (Some(true), true, true) => {
                "。目標値には届きましたが、この程度の変化はまだ偶然でも起こりえます"
            }
            _ => "",
        };
        // Before as the review measured it (after − change, over the same kind of count as
        // after), not the plan's baseline, which is the diagnosis's adjusted value.
        let before = match (p.after_rate, p.change) {
            (Some(a), Some(c)) => Some(a - c),
            _ => p.baseline_rate,
        };
        let (b, a) = (plan_value(p.lever(), before), plan_value(p.lever(), p.after_rate));
        // Both as the review measured them: decided deals, and the month-end estimate for the
        // ones still open.
        if ja {
            format!("{words}（前 {b} → 後 {a}）{target}")
        } else {
            format!("{words} (before {b} → after {a}){target}")
        }
    }

    /// The review as a sum a manager can follow: what the rate would likely have been without
    /// coaching (the bounce-back of a worst step and everyone's change), and the difference the
    /// coaching made. Empty before the review has an effect.
    pub(super) fn outcome_sum(&self, p: &Plan) -> String {
        let (Some(after), Some(effect)) = (p.after_rate, p.effect) else { return String::new() };
        let expected = plan_value(p.lever(), Some(after - effect));
        let interval = match (p.effect_low, p.effect_high) {
            (Some(lo), Some(hi)) => Some((self.effect_number(p, lo), self.effect_number(p, hi))),
            _ => None,
        };
        let e = self.effect_number(p, effect);
        let unit = self.effect_unit(p);
        let clear = p.verdict.is_some_and(|v| v != Verdict::Inconclusive);
        match (self.ja(), interval) {
            (false, Some((lo, hi))) => format!(
                "Expected without coaching: about {expected}, from the bounce-back of a low month and everyone's change. Coaching effect: about {e}{unit}, between {lo} and {hi}{unit}{}.",
                if clear {
                    ""
                } else {
                    ", so no clear change yet: a result this size could be chance"
                }
            ),
            (false, None) => format!(
                "Expected without coaching: about {expected}. Coaching effect: about {e}{unit}."
            ),
            (true, Some((lo, hi))) => format!(
                "コーチングがなくても見込まれた値: 約 {expected}（低かった月の戻りと全体の変化から）。コーチングの効果: 約 {e}{unit}、{lo} 〜 {hi}{unit} の範囲{}。",
                if clear {
                    ""
                } else {
                    "で、偶然でも起こりうる大きさのため、まだ明確な変化とは言えません"
                }
            ),
            (true, None) => format!(
                "コーチングがなくても見込まれた値: 約 {expected}。コーチングの効果: 約 {e}{unit}。"
            ),
        }
    }

    fn effect_unit(&self, p: &Plan) -> String {
        match (p.lever().is_volume(), self.ja()) {
            (false, _) => " pt".to_string(),
            (true, false) => format!(" {}", self.lever_label(p.lever()).trim_start_matches("new ")),
            (true, true) => " 件/月".to_string(),
        }
    }

    fn effect_number(&self, p: &Plan, x: f64) -> String {
        if p.lever().is_volume() { format!("{x:+.1}") } else { points(x) }
    }

    /// The coaching effect against similar uncoached reps with its 95% interval:
    /// "+12 pt (95%: +3 to +21 pt)", or for a volume "+5.2 leads a month (…)". Empty when the
    /// plan has no effect yet.
    pub(super) fn effect_text(&self, p: &Plan) -> String {
        let Some(e) = p.effect else { return String::new() };
        let volume = p.lever().is_volume();
        let unit = self.effect_unit(p);
        let num = |x: f64| if volume { format!("{x:+.1}") } else { points(x) };
        match (p.effect_low, p.effect_high) {
            (Some(lo), Some(hi)) => {
                let to = if self.ja() { "〜" } else { "to" };
                format!("{}{unit} (95%: {} {to} {})", num(e), num(lo), num(hi))
            }
            _ => format!("{}{unit}", num(e)),
        }
    }

    /// The leading indicator before and after: "contacts per case deal 1.8 → 2.6". Empty when
    /// the review found none.
    pub(super) fn leading_text(&self, p: &Plan) -> String {
        let (Some(name), Some(b), Some(a)) =
            (p.leading_indicator.as_deref(), p.leading_before, p.leading_after)
        else {
            return String::new();
        };
        leading_text(self.playbook, self.lang, name, b, a)
    }

    /// A coaching record: plans reviewed, the share improved with its 95% interval, and the
    /// mean effect on the rates with its interval.
    pub(super) fn record<'p>(&self, plans: impl Iterator<Item = &'p Plan>) -> String {
        let reviewed: Vec<&Plan> = plans.filter(|p| p.verdict.is_some()).collect();
        let n = reviewed.len();
        let improved = reviewed.iter().filter(|p| p.verdict == Some(Verdict::Improved)).count();
        let worse = reviewed.iter().filter(|p| p.verdict == Some(Verdict::Worse)).count();
        if n == 0 {
            return if self.ja() {
                "振り返り済みのプランはまだありません。".into()
            } else {
                "No reviewed plans yet.".into()
            };
        }
        let (lo, hi) = wilson(improved as f64, n as f64).unwrap_or((0.0, 1.0));
        let share = format!(
            "{} (95% interval {}–{})",
            pct(Some(improved as f64 / n as f64)),
            pct(Some(lo)),
            pct(Some(hi))
        );
        let effects: Vec<(f64, Option<f64>, Option<f64>)> = reviewed
            .iter()
            .filter(|p| !p.lever().is_volume())
            .filter_map(|p| p.effect.map(|e| (e, p.effect_low, p.effect_high)))
            .collect();
        let mean = crate::metrics::review::mean_effect(&effects).map(|(m, lo, hi)| {
            format!("{} pt (95% interval {} to {})", points(m), points(lo), points(hi))
        });
        let worse_en = if worse > 0 { format!(", {worse} worse") } else { String::new() };
        let worse_ja = if worse > 0 { format!("、悪化 {worse} 件") } else { String::new() };
        let text = match &mean {
            None => format!("{improved} of {n} reviewed plans improved{worse_en}: {share}."),
            Some(m) => format!(
                "{improved} of {n} reviewed plans improved{worse_en}: {share}. Mean effect on the rates: {m}."
            ),
        };
        if !self.ja() {
            return text;
        }
        let share = share.replace("95% interval", "95%区間");
        match mean {
            None => format!("振り返り済み {n} 件中 {improved} 件が改善{worse_ja}：{share}。"),
            Some(m) => format!(
                "振り返り済み {n} 件中 {improved} 件が改善{worse_ja}：{share}。率への平均効果：{}。",
                m.replace(" to ", " 〜 ").replace("95% interval", "95%区間")
            ),
        }
    }
}

/// A difference of rates in points, signed; a small one keeps a decimal so that an interval
/// just above zero does not read "+0".
fn points(x: f64) -> String {
    let p = x * 100.0;
    if p.abs() < 0.95 && p != 0.0 { format!("{p:+.1}") } else { format!("{p:+.0}") }
}

/// An activity indicator before and after, labelled in the reader's language with its unit:
/// "contacts per case deal 1.8 → 2.6", "初回接触までの時間 8.8 → 10.0 時間".
pub fn leading_text(
    playbook: &crate::model::playbook::Playbook,
    lang: Lang,
    name: &str,
    before: f64,
    after: f64,
) -> String {
    let ja = lang == Lang::Ja;
    let (what, stage) = name.split_once('.').unwrap_or((name, ""));
    let stage_name = super::view::stage_label(playbook, lang, stage);
    let stage_lower = stage_name.to_lowercase();
    let (label, share, unit) = match (what, ja) {
        ("contacts_per_deal", false) => (format!("contacts per {stage_lower} deal"), false, ""),
        ("contacts_per_deal", true) => (format!("{stage_name}1件あたりの接触数"), false, " 回"),
        ("touched_share", false) => (format!("{stage_lower} deals contacted"), true, ""),
        ("touched_share", true) => (format!("接触した{stage_name}の割合"), true, ""),
        ("personalized_share", false) => ("personalised emails".to_string(), true, ""),
        ("personalized_share", true) => ("個別化したメールの割合".to_string(), true, ""),
        ("first_contact_hours", false) => ("hours to first contact".to_string(), false, ""),
        ("first_contact_hours", true) => ("初回接触までの時間".to_string(), false, " 時間"),
        ("first_call_connected_share", false) => ("first calls connected".to_string(), true, ""),
        ("first_call_connected_share", true) => ("初回電話の接続率".to_string(), true, ""),
        ("first_call_duration_s", false) => ("first call length in seconds".to_string(), false, ""),
        ("first_call_duration_s", true) => ("初回電話の長さ".to_string(), false, " 秒"),
        (other, _) => (other.to_string(), false, ""),
    };
    let value = |x: f64| if share { pct(Some(x)) } else { format!("{x:.1}") };
    format!("{label} {} → {}{unit}", value(before), value(after))
}
