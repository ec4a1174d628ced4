//! The diagnosis in words: lever labels and the one-sentence why.

use super::two_groups::TwoGroups;
use super::types::{Lever, LeverId, LeverKind};
use crate::model::playbook::Playbook;

/// How many more deals, at the same rate, would make the confidence of a deficit reach the
/// threshold; none beyond four times the deals seen so far, where "more data" is no answer.
pub(super) fn more_deals(model: &TwoGroups, k: f64, n: f64, threshold: f64) -> Option<u64> {
    let conf = |m: f64| model.deficient_probability(m * k, m * n);
    if n <= 0.0 || conf(5.0) < threshold {
        return None;
    }
    let (mut lo, mut hi) = (1.0f64, 5.0f64);
    for _ in 0..40 {
        let mid = (lo + hi) / 2.0;
        if conf(mid) >= threshold { hi = mid } else { lo = mid }
    }
    Some(((hi - 1.0) * n).ceil() as u64)
}

pub(super) fn lever_label(id: &LeverId, playbook: &Playbook) -> String {
    let name = |s: &str| {
        playbook
            .display
            .get("en")
            .and_then(|d| d.get(s))
            .map_or_else(|| s.to_string(), |n| n.to_lowercase())
    };
    match id {
        LeverId::Step { from, to } => format!("{} → {}", name(from), name(to)),
        LeverId::Activity { stage } => format!("activities per {}", name(stage)),
        LeverId::LeadVolume { stage } => volume_label(&name(stage)),
        LeverId::Coaching(_) => id.to_string(),
    }
}

pub(super) fn show(l: &Lever, v: f64) -> String {
    match l.kind {
        LeverKind::Transition(_) => format!("{:.0}%", v * 100.0),
        _ => format!("{v:.1}"),
    }
}

/// One sentence with the numbers: what, against what, how sure, worth how much.
pub(super) fn why(
    lever: Option<&Lever>,
    levers: &[Lever],
    stands_out: bool,
    playbook: &Playbook,
    (threshold, floor): (f64, f64),
) -> String {
    let Some(l) = lever else {
        let small = levers
            .iter()
            .filter(|l| l.impact_won > 0.0)
            .max_by(|a, b| a.impact_won.total_cmp(&b.impact_won));
        if let Some(l) = small {
            return format!(
                "no data-driven focus: the largest gap, {}, is worth {:+.2} won deals a month, under the playbook's floor of {floor}",
                lever_label(&l.id, playbook),
                l.impact_won
            );
        }
        // Said only when it is true: with nothing measured, there is nothing to be above.
        let deals: u64 =
            levers.iter().filter(|l| matches!(l.kind, LeverKind::Transition(_))).map(|l| l.n).sum();
        let measured = levers.iter().any(|l| l.value.is_some() && l.n > 0);
        return if measured && deals >= 10 {
            "no gap: every indicator is at or above its typical level; keep doing what works".into()
        } else {
            format!(
                "not enough data yet: {deals} decided outcomes across the funnel's steps in the window; a month or two more will tell"
            )
        };
    };
    let (Some(v), Some(b)) = (l.value, l.benchmark) else {
        return format!(
            "no lever stands out: not enough data for {}",
            lever_label(&l.id, playbook)
        );
    };
    let sure = l.confidence.map_or(String::new(), |c| {
        // Rounding never claims certainty: a posterior of 0.998 is "over 99%", not "100%".
        format!(", {} sure it is a weakness", sure_pct(c, false))
    });
    let core = format!(
        "{} {} vs {} for peers{sure}",
        lever_label(&l.id, playbook),
        show(l, v),
        show(l, b)
    );
    if stands_out {
        format!("{core}; reaching it is worth +{:.1} won deals a month", l.impact_won)
    } else {
        let more = l
            .more_deals_needed
            .map_or(String::new(), |m| format!("; about {m} more deals would make it clear"));
        format!(
            "no lever stands out (none is {:.0}% sure); the largest gap is {core}, worth +{:.1} won deals a month{more}",
            threshold * 100.0,
            l.impact_won
        )
    }
}

/// "new leads a month"; a stage whose name is not a countable noun ("prospecting") is counted
/// as deals entering it: "new prospecting deals a month".
pub fn volume_label(stage: &str) -> String {
    let s = stage.to_lowercase();
    if s.ends_with("ing") || s.ends_with('s') || s.contains(' ') {
        format!("new {s} deals a month")
    } else {
        format!("new {s}s a month")
    }
}

/// A probability as a sheet says it, never claiming certainty either way: "over 99%" for a
/// posterior of 0.998, "under 1%" for 0.002 (in Japanese "99%超", "1%未満").
pub fn sure_pct(c: f64, ja: bool) -> String {
    match (c, ja) {
        (c, false) if c >= 0.995 => "over 99%".into(),
        (c, true) if c >= 0.995 => "99%超".into(),
        (c, false) if c < 0.005 => "under 1%".into(),
        (c, true) if c < 0.005 => "1%未満".into(),
        (c, _) => format!("{:.0}%", c * 100.0),
    }
}
