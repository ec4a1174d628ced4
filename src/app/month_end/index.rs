//! The report's front page: the company funnel, links to every sheet, the review and the data.

use super::MonthEnd;
use crate::app::validation::Report as Validation;
use crate::app::worksheets::Written;
use crate::diagnosis::Diagnosis;
use crate::metrics::funnel::FunnelRow;
use crate::metrics::review::PlanReview;
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::render::{ChartBar, escape_markdown, funnel_svg, link_target};
use std::fmt::Write as _;

pub(super) fn company_svg(company: &[&FunnelRow], playbook: &Playbook) -> String {
    let bars: Vec<ChartBar> = company
        .iter()
        .filter(|r| {
            r.from_stage != playbook.stages[0]
                || r.to_stage != playbook.stages[playbook.stages.len() - 1]
        })
        .map(|r| ChartBar {
            text: None,
            label: format!("{} → {}", r.from_stage, r.to_stage),
            rate: r.rate,
            benchmark: None,
            focus: false,
        })
        .collect();
    funnel_svg("Company funnel", &bars, false)
}

fn pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{:.0}%", v * 100.0))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn index_md(
    job: &MonthEnd,
    playbook: &Playbook,
    company: &[&FunnelRow],
    diagnoses: &[Diagnosis],
    reviews: &[PlanReview],
    written: &Written,
    roster: &Roster,
    validation: &Validation,
) -> String {
    let name =
        |id: &str| roster.index.get(id).map_or(id.to_string(), |&i| roster.people[i].name.clone());
    let link =
        |label: &str, path: &str| format!("[{}]({})", escape_markdown(label), link_target(path));
    let mut s = String::new();
    let _ = writeln!(s, "# Coaching report · {}\n", job.period);
    let _ = writeln!(
        s,
        "{} reps diagnosed, {} worksheets, {} plans reviewed.\n",
        diagnoses.len(),
        written.reps.len() + written.managers.len() + written.directors.len(),
        reviews.iter().filter(|r| r.verdict.is_some()).count()
    );
    let _ = writeln!(
        s,
        "## Company funnel, {} (the deals that entered each step that month)\n\n| Step | Entered | Converted so far | Still open | Rate (estimate) | Outcome known |\n|---|---|---|---|---|---|",
        job.period
    );
    for r in company {
        let _ = writeln!(
            s,
            "| {} → {} | {} | {} | {} | {} | {} |",
            r.from_stage,
            r.to_stage,
            r.entered,
            r.converted,
            r.open.map_or("—".into(), |o| o.to_string()),
            pct(r.rate),
            r.observed_share.map_or("—".into(), |s| format!("{:.0}%", s * 100.0))
        );
    }
    let _ = writeln!(s, "\n![Company funnel]({})\n", link_target("funnel.svg"));
    if let Some(board) = &written.board {
        let _ = writeln!(s, "## Board\n\n- {}\n", link("The board's coaching review", board));
    }
    let _ = writeln!(s, "## Directors\n");
    for (id, path) in &written.directors {
        let _ = writeln!(s, "- {}", link(&name(id), path));
    }
    let _ = writeln!(s, "\n## Managers\n");
    for (id, path) in &written.managers {
        let _ = writeln!(s, "- {}", link(&name(id), path));
    }
    let _ = writeln!(s, "\n## Rep worksheets\n\n| Rep | Focus | Why |\n|---|---|---|");
    for d in diagnoses {
        let Some(path) = written.reps.get(&d.rep_id) else { continue };
        let focus = d
            .focus
            .clone()
            .or_else(|| d.suggestion.as_ref().map(|s| format!("({s}?)")))
            .unwrap_or_else(|| "—".into())
            .replace("->", " → ");
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            link(&name(&d.rep_id), path),
            escape_markdown(&focus),
            escape_markdown(&d.why)
        );
    }
    let _ = writeln!(s, "\n## Review of earlier plans\n");
    if reviews.is_empty() {
        let _ = writeln!(s, "No plans were due for review in {}.", job.period);
    } else {
        let _ = writeln!(
            s,
            "| Rep | Focus | Before | After | Effect | Verdict |\n|---|---|---|---|---|---|"
        );
        for r in reviews {
            let effect = match (r.effect, r.focus.starts_with("volume:")) {
                (None, _) => "—".into(),
                (Some(e), true) => format!("{e:+.1} a month"),
                (Some(e), false) => format!("{:+.0} pt", e * 100.0),
            };
            let verdict = r
                .verdict
                .map(|v| v.to_string())
                .unwrap_or_else(|| r.note.clone().unwrap_or_default());
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                escape_markdown(&name(&r.rep_id)),
                escape_markdown(&r.focus.replace("->", " → ")),
                lever_value(&r.focus, r.baseline_rate),
                lever_value(&r.focus, r.after_rate),
                effect,
                escape_markdown(&verdict)
            );
        }
    }
    let _ = writeln!(s, "\n## Data tables\n");
    for t in ["funnel", "diagnosis", "review"] {
        let _ = writeln!(
            s,
            "- {t}: {} · {}",
            link(&format!("{t}.csv"), &format!("data/{t}.csv")),
            link(&format!("{t}.parquet"), &format!("data/{t}.parquet"))
        );
    }
    let _ = writeln!(s, "\n## Validation\n");
    let _ = writeln!(
        s,
        "{}: {} tables, {} rows, {} errors, {} warnings ({}).",
        if validation.valid { "Valid" } else { "Invalid (run with --allow-invalid)" },
        validation.stats.tables,
        validation.stats.rows,
        validation.stats.errors,
        validation.stats.warnings,
        link("validation.json", "data/validation.json")
    );
    let _ = writeln!(s, "\nPlaybook funnel: {}.", playbook.stages.join(" → "));
    s
}

/// A lever's value in its unit: a rate as %, a volume as a count a month (or per deal).
fn lever_value(lever: &str, v: Option<f64>) -> String {
    match (lever.starts_with("volume:"), v) {
        (_, None) => "—".into(),
        (true, Some(v)) if lever.starts_with("volume:activity:") => format!("{v:.1} per deal"),
        (true, Some(v)) => format!("{v:.1} a month"),
        (false, v) => pct(v),
    }
}
