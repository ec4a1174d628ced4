//! The worksheets' view model: what each template is given, typed.

use crate::diagnosis::{Diagnosis, Lever, LeverKind};
use crate::model::lever::LeverId;
use crate::model::plans::Plan;
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::model::values::Lang;
use minijinja::Value;
use serde::Serialize;
use std::collections::BTreeMap;
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
    pub(super) funnel: &'a [crate::metrics::funnel::FunnelRow],
    pub(super) out: &'a Path,
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
    pub(super) seen: String,
}

#[derive(Serialize)]
pub(super) struct TeamLine {
    pub(super) label: String,
    pub(super) seen: String,
    pub(super) team: String,
    pub(super) bar: String,
    pub(super) benchmark: String,
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
        "{label} は {}、他の担当者の標準は {}（弱点である確度 {}）",
        value(lever.value),
        value(lever.benchmark),
        crate::diagnosis::sure_pct(lever.confidence.unwrap_or(0.0), true)
    );
    if d.focus.is_some() {
        format!(
            "{core}。他の担当者の水準に届けば月 +{:.1} 件の受注に相当します。",
            lever.impact_won
        )
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

/// The benchmark a step's levers share (one per step under a company-wide policy), as every
/// page prints it; "by team" where a team policy gives each team its own.
pub fn shared_benchmark(levers: &[&Lever], lang: Lang) -> String {
    let shown: std::collections::BTreeSet<String> =
        levers.iter().map(|l| pct(l.benchmark)).collect();
    match shown.len() {
        0 => "—".into(),
        1 => shown.into_iter().next().unwrap_or_default(),
        _ if lang == Lang::Ja => "チームごと".into(),
        _ => "by team".into(),
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
    /// The first month of a rep's data in the window: later than the window's for a new rep.
    pub(super) fn data_from(&self, d: &Diagnosis) -> String {
        d.trend
            .iter()
            .find(|t| t.n > 0)
            .filter(|t| t.period > d.window_from)
            .map_or_else(|| d.window_from.clone(), |t| t.period.clone())
    }

    pub(super) fn basis(&self, d: &Diagnosis, lever: &Lever) -> String {
        let (Some(v), Some(raw)) = (lever.value, lever.raw) else { return String::new() };
        let ja = self.lang == Lang::Ja;
        let shown = self.value(lever, Some(v));
        let dash = if ja { "〜" } else { "–" };
        let likely = lever.range.map_or(String::new(), |(lo, hi)| {
            let (lo, hi) = (self.value(lever, Some(lo)), self.value(lever, Some(hi)));
            let lo = if matches!(lever.kind, LeverKind::Transition(_)) {
                lo.trim_end_matches('%').to_string()
            } else {
                lo
            };
            format!("{lo}{dash}{hi}")
        });
        let window = format!("{} {dash} {}", self.data_from(d), d.window_to);
        // What was seen first, before any estimate for the deals still open.
        let (converted, entered, open) = lever.observed.unwrap_or((lever.k, lever.n, 0));
        match (lever.kind, ja) {
            (LeverKind::Transition(_), false) => {
                let open_words =
                    if open == 0 { String::new() } else { format!(", {open} still open") };
                let counting =
                    if open == 0 { "" } else { "the open deals counted at their likely outcome, " };
                format!(
                    "Seen so far: {converted} of {entered} stepped up{open_words} ({window}). Likely {likely}, best estimate {shown}: {counting}leaning toward the peers where deals are few."
                )
            }
            (LeverKind::Transition(_), true) => {
                let open_words = if open == 0 {
                    "だ".to_string()
                } else {
                    format!("み、{open} 件は結果待ち")
                };
                let counting =
                    if open == 0 { "" } else { "結果待ちの案件は見込みで数え、" };
                format!(
                    "実績: {entered} 件中 {converted} 件が進{open_words}（{window}）。推定は {likely} の見込みで、最も確からしい値は {shown}（{counting}件数が少ないほど他の担当者の水準に寄せています）。"
                )
            }
            (LeverKind::ActivityVolume(_), false) => format!(
                "Seen: {} activities on {} deals, {raw:.1} a deal ({window}).",
                lever.k, lever.n
            ),
            (LeverKind::ActivityVolume(_), true) => format!(
                "実績: {} 件の案件に {} 回の活動、1件あたり {raw:.1} 回（{window}）。",
                lever.n, lever.k
            ),
            (LeverKind::LeadVolume, false) => format!(
                "Seen: {} {} in {} months, {raw:.1} a month ({window}). Likely {likely} a month, best estimate {shown}: leaning toward the peers where months are few.",
                lever.k,
                self.lever_label(&lever.id).trim_end_matches(" a month"),
                lever.n
            ),
            (LeverKind::LeadVolume, true) => format!(
                "実績: {} か月で {} 件、月 {raw:.1} 件（{window}）。推定は月 {likely} の見込みで、最も確からしい値は {shown}（月数が少ないほど他の担当者の水準に寄せています）。",
                lever.n, lever.k
            ),
        }
    }

    /// Why a rep has no lever to work on, in the reader's language: no gap, or not enough data.
    pub(super) fn stretch_why(&self, d: &Diagnosis) -> String {
        no_focus_why(self.playbook, self.lang, d)
    }
}

/// Why a rep has no lever to work on, in a language: no gap worth coaching, or not enough data.
pub fn no_focus_why(playbook: &Playbook, lang: Lang, d: &Diagnosis) -> String {
    {
        if lang == Lang::En {
            return d.why.clone();
        }
        if d.why.starts_with("no data-driven focus") {
            let floor = playbook.diagnosis.min_impact_won;
            return format!(
                "今月はデータ上の重点課題はありません。最も大きい差でも、改善による受注の増加は月 {floor} 件未満です。"
            );
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
}

impl Sheets<'_> {
    pub(super) fn why(&self, d: &Diagnosis, lever: &Lever) -> String {
        why_text(self.playbook, self.lang, d, lever)
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
