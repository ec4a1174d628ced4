//! `salescoach funnel`: step-up rates per rep and up the org tree.

use crate::ExitStatus;
use crate::app::funnel::select::{Selection, table};
use crate::app::funnel::{FunnelInputs, ReadSummary, write_rows};
use crate::cli::{FunnelArgs, Global};
use crate::io::output::Output;
use crate::io::read::ScanStats;
use crate::io::{Format, Source};
use crate::metrics::funnel::{FunnelConfig, FunnelRow};
use crate::model::time::{Period, PeriodKind};
use anyhow::{Result, bail};
use std::io::Write;

/// `--window none`: ever, as far as ten years.
const WINDOW_EVER: u32 = 3650;

pub fn run(global: &Global, args: FunnelArgs) -> Result<ExitStatus> {
    let playbook = super::load_playbook(global)?;
    let tz = playbook.timezone;
    let as_of = super::parse_as_of(args.as_of.as_deref(), &playbook)?;
    let from = super::parse_instant("--from", args.from.as_deref(), &playbook)?;
    let to = super::parse_instant("--to", args.to.as_deref(), &playbook)?;
    let whole = args.period.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("all"));
    let (grain, period) = if whole {
        (args.grain.unwrap_or(PeriodKind::Month), None)
    } else {
        grain_and_period(&args, global.quiet)?
    };
    let window = match args.window.as_deref() {
        None => None,
        Some(w) if w.eq_ignore_ascii_case("none") => Some(WINDOW_EVER),
        Some(w) => Some(w.parse::<u32>().ok().filter(|d| *d > 0).ok_or_else(|| {
            anyhow::anyhow!("--window {w}: give a number of days, or `none` for ever")
        })?),
    };
    let output = super::output(global)?;
    let inputs = FunnelInputs {
        events: Source::parse(&args.events),
        activities: args.activities.as_deref().map(Source::parse),
        roster: args.roster.as_deref().map(Source::parse),
        input_format: global.input_format,
        as_of,
        config: FunnelConfig {
            method: args.method,
            period: grain,
            tz,
            stages: playbook.stages.clone(),
            windows: window
                .map_or_else(|| playbook.windows.clone(), |w| vec![w; playbook.stages.len() - 1]),
            as_of: as_of.unwrap_or(i64::MIN),
            strict: args.strict_stages,
            whole,
            stale_after_days: playbook.stale_after_days,
        },
    };
    let sources: Vec<Source> =
        [Some(&inputs.events), inputs.activities.as_ref(), inputs.roster.as_ref()]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
    super::one_stdin(&sources.iter().collect::<Vec<_>>())?;
    crate::io::ensure_distinct_files(&[&output.dest], &sources)?;

    let selection = Selection { by: args.by.clone(), period, from, to };
    let (rows, summary) = table(&inputs, &playbook, &selection)?;
    // The summary once the rows are written: a failed write is not preceded by a success line.
    print(&rows, &output)?;
    if !global.quiet {
        print_summary(&summary, &inputs, rows.len());
    }
    Ok(ExitStatus::Success)
}

/// `--grain` is the period length; `--period` a period label. `--period month|week|quarter`
/// is the old spelling of `--grain`, accepted for one release with a note.
fn grain_and_period(args: &FunnelArgs, quiet: bool) -> Result<(PeriodKind, Option<Period>)> {
    let Some(text) = args.period.as_deref() else {
        return Ok((args.grain.unwrap_or(PeriodKind::Month), None));
    };
    let old = match text.to_ascii_lowercase().as_str() {
        "month" => Some(PeriodKind::Month),
        "week" => Some(PeriodKind::Week),
        "quarter" => Some(PeriodKind::Quarter),
        _ => None,
    };
    if let Some(grain) = old {
        if args.grain.is_some_and(|g| g != grain) {
            bail!("--period {text} is the old spelling of --grain; give --grain only");
        }
        if !quiet {
            crate::note!(
                "note: `--period {text}` is deprecated and will be removed: use `--grain {text}` (--period now takes a label such as 2026-04)"
            );
        }
        return Ok((args.grain.unwrap_or(grain), None));
    }
    let grain = match args.grain {
        Some(g) => g,
        None if text.contains('W') => PeriodKind::Week,
        None if text.contains('Q') => PeriodKind::Quarter,
        None => PeriodKind::Month,
    };
    let period = Period::parse(grain, text).map_err(|e| {
        anyhow::anyhow!("--period {text}: {e}; give a label such as 2026-04, 2026-W14 or 2026-Q2")
    })?;
    Ok((grain, Some(period)))
}

fn print(rows: &[FunnelRow], output: &Output) -> Result<()> {
    if output.format == Format::Table {
        output.text(|out| {
            writeln!(out, "{}", render_table(rows, output.width))?;
            Ok(())
        })
    } else {
        write_rows(rows, output)
    }
}

fn print_summary(s: &ReadSummary, inputs: &FunnelInputs, rows: usize) {
    let mut err = std::io::stderr().lock();
    if let Some(w) = s.unassigned_warning() {
        let _ = writeln!(err, "{w}");
    }
    if let Some(w) = s.reclosed_warning() {
        let _ = writeln!(err, "{w}");
    }
    for w in s.closings.warnings() {
        let _ = writeln!(err, "{w}");
    }
    if let Some(w) = s.money.warning() {
        let _ = writeln!(err, "{w}");
    }
    if let Some(w) = s.undated_note() {
        let _ = writeln!(err, "{w}");
    }
    if let Some(w) = s.as_of_warning() {
        let _ = writeln!(err, "{w}");
    }
    let e = &s.events;
    let _ = writeln!(
        err,
        "events: read {}, used {}, rejected {}{}",
        e.read,
        e.read - e.rejected - s.after_as_of,
        e.rejected,
        if s.after_as_of > 0 {
            format!(", after --as-of {}", s.after_as_of)
        } else {
            String::new()
        }
    );
    report_problems(e, &mut err);
    if e.naive_timestamps > 0 {
        let _ = writeln!(
            err,
            "warning: {} timestamps had no UTC offset and were read in the playbook's time zone",
            e.naive_timestamps
        );
    }
    if let Some(a) = &s.activities {
        let _ = writeln!(
            err,
            "activities: read {}, used {}, rejected {}, on no known deal {}{}",
            a.read,
            a.read - a.rejected - s.activities_unmatched - s.activities_after_as_of,
            a.rejected,
            s.activities_unmatched,
            if s.activities_after_as_of > 0 {
                format!(", after --as-of {}", s.activities_after_as_of)
            } else {
                String::new()
            }
        );
        report_problems(a, &mut err);
    }
    if let Some(r) = &s.roster {
        let _ = writeln!(err, "roster: read {}, rejected {}", r.read, r.rejected);
        report_problems(r, &mut err);
    }
    let _ = writeln!(
        err,
        "funnel: {rows} rows ({} method, as of {})",
        if inputs.config.method == crate::metrics::funnel::Method::Cohort {
            "cohort"
        } else {
            "flow"
        },
        if inputs.as_of.is_some() { "--as-of" } else { "the latest event" }
    );
}

fn report_problems(stats: &ScanStats, err: &mut dyn Write) {
    for p in stats.problems.iter().take(5) {
        let _ = writeln!(err, "  rejected: {p}");
    }
    if stats.rejected > 5 {
        let _ = writeln!(
            err,
            "  … and {} more (run `salescoach validate` for all of them)",
            stats.rejected - 5
        );
    }
}

fn bar(rate: f64, width: usize) -> String {
    let filled = (rate.clamp(0.0, 1.0) * width as f64 * 8.0).round() as usize;
    let mut s = "█".repeat(filled / 8);
    const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    s.push_str(PARTS[filled % 8]);
    let len = s.chars().count();
    s.push_str(&" ".repeat(width.saturating_sub(len)));
    s
}

fn pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{:.1}%", v * 100.0))
}

/// The human view: each group's funnel per period, with bars and the level's median, in one
/// table that fits the width it is given.
fn render_table(rows: &[FunnelRow], width: Option<u16>) -> String {
    if rows.is_empty() {
        return "(no funnel rows: no events in the selected periods and levels)".into();
    }
    let mut last_key = None;
    let mut lines = Vec::with_capacity(rows.len());
    for r in rows {
        let key = (&r.level, &r.group_id, &r.period);
        let group = if last_key != Some(key) {
            last_key = Some(key);
            format!("{} {} ({}) · {}", r.level, r.group_id, r.group_name, r.period)
        } else {
            String::new()
        };
        let interval = match (r.rate_low, r.rate_high) {
            (Some(lo), Some(hi)) => format!("{}–{}", pct(Some(lo)), pct(Some(hi))),
            _ => String::new(),
        };
        let mut note = Vec::new();
        if let Some(w) = r.won.filter(|w| *w > 0) {
            note.push(format!("won {w}"));
        }
        if let Some(open) = r.open.filter(|o| *o > 0 && !r.mature) {
            note.push(format!("{open} open"));
        }
        let known = match r.observed_share {
            Some(s) if s < 0.995 => format!("{:.0}%", s * 100.0),
            Some(_) => "all".to_string(),
            None => String::new(),
        };
        lines.push(vec![
            group,
            format!("{} → {}", r.from_stage, r.to_stage),
            format!("{}/{}", r.converted, r.entered),
            pct(r.rate),
            bar(r.rate.unwrap_or(0.0), 12),
            interval,
            known,
            pct(r.level_median),
            note.join(", "),
        ]);
    }
    // The rate is the estimate; conv/entered what is counted so far; "known" how much of the
    // cohort's outcome is already observed.
    crate::io::output::render_table(
        &[
            "group · period",
            "step",
            "conv/entered",
            "rate",
            "",
            "95%",
            "known",
            "peer median",
            "note",
        ],
        &lines,
        width,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_have_a_fixed_width() {
        for r in [0.0, 0.07, 0.5, 0.999, 1.0, 1.7] {
            assert_eq!(bar(r, 12).chars().count(), 12, "{r}");
        }
    }
}
