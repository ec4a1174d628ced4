//! `salescoach diagnose`: the lever to coach for each rep, why, and the hypotheses.

use crate::ExitStatus;
use crate::cli::{DiagnoseArgs, Global};
use crate::commands::funnel::{FunnelInputs, compute, read_funnel};
use crate::diagnosis::{DiagnoseOptions, Diagnosis, diagnose};
use crate::io::write::{Cell, TableWriter};
use crate::io::{Dest, Format, Source};
use crate::metrics::funnel::FunnelConfig;
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::model::tables::{Column, Kind, col};
use crate::model::time::{PeriodKind, parse_cli_instant};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::io::Write;

/// The diagnosis table's columns (see schemas/diagnosis.schema.json).
pub const DIAGNOSIS_COLUMNS: &[Column] = &[
    col("rep_id", Kind::String, true),
    col("rep_name", Kind::String, false),
    col("manager_id", Kind::String, false),
    col("period", Kind::String, true),
    col("window_from", Kind::String, true),
    col("window_to", Kind::String, true),
    col("focus", Kind::String, false),
    col("suggestion", Kind::String, false),
    col("focus_rate", Kind::Number, false),
    col("focus_raw_rate", Kind::Number, false),
    col("benchmark", Kind::Number, false),
    col("confidence", Kind::Number, false),
    col("impact_won", Kind::Number, false),
    col("impact_amount", Kind::Number, false),
    col("deals", Kind::Integer, false),
    col("more_deals_needed", Kind::Integer, false),
    col("hypotheses", Kind::String, false),
    col("not_checkable", Kind::String, false),
    col("why", Kind::String, true),
    col("immature_left_out", Kind::String, false),
];

/// Reads the inputs of a diagnosis (events or a funnel file, and the roster) and diagnoses.
pub fn load(
    global: &Global,
    args: &DiagnoseArgs,
    playbook: &Playbook,
) -> Result<(Vec<Diagnosis>, Option<Roster>)> {
    let lookback = args.lookback.unwrap_or(playbook.diagnosis.lookback);
    if lookback == 0 {
        bail!("--lookback must be at least 1");
    }
    if let Some(p) = &args.period {
        crate::model::time::Period::parse(PeriodKind::Month, p).context("--period")?;
    }
    let roster = match &args.roster {
        Some(r) => Some(Roster::load(&Source::parse(r), global.input_format, playbook)?.0),
        None => None,
    };
    let rows = match (&args.funnel, &args.events) {
        (Some(f), _) => read_funnel(&Source::parse(f), global.input_format, playbook.timezone)?,
        (None, Some(events)) => {
            let as_of = args
                .as_of
                .as_deref()
                .map(|s| parse_cli_instant(s, playbook.timezone))
                .transpose()?;
            let inputs = FunnelInputs {
                events: Source::parse(events),
                activities: args.activities.as_deref().map(Source::parse),
                roster: args.roster.as_deref().map(Source::parse),
                input_format: global.input_format,
                as_of,
                config: FunnelConfig::monthly_cohort(playbook, as_of),
            };
            let (mut rows, summary) = compute(&inputs, playbook)?;
            if !global.quiet && summary.events.rejected > 0 {
                eprintln!(
                    "warning: {} event rows rejected (run `salescoach validate`)",
                    summary.events.rejected
                );
            }
            rows.retain(|r| r.level == "rep");
            rows
        }
        (None, None) => bail!("give --events or --funnel"),
    };
    let ancestors: BTreeMap<String, Vec<String>> = roster
        .as_ref()
        .map(|r| {
            r.people
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    (
                        p.person_id.clone(),
                        r.ancestors(i).iter().map(|&a| r.people[a].person_id.clone()).collect(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let opts = DiagnoseOptions {
        period: args.period.clone(),
        lookback,
        manager: args.manager.clone(),
        ancestors,
    };
    let diagnoses = diagnose(&rows, playbook, &opts)?;
    Ok((diagnoses, roster))
}

pub fn run(global: &Global, args: DiagnoseArgs) -> Result<ExitStatus> {
    let playbook = Playbook::load(global.config.as_deref())?;
    let dest = Dest::parse(global.output.as_deref());
    let format = dest.format(global.format)?;
    let (diagnoses, _) = load(global, &args, &playbook)?;
    if !global.quiet {
        summarize(&diagnoses);
    }
    match format {
        Format::Json => {
            let mut out: Box<dyn Write> = match &dest {
                Dest::Stdout => Box::new(std::io::stdout().lock()),
                Dest::File(p) => Box::new(
                    std::fs::File::create(p).with_context(|| format!("writing {}", p.display()))?,
                ),
            };
            serde_json::to_writer_pretty(&mut out, &diagnoses)?;
            writeln!(out)?;
        }
        Format::Table => render_table(&diagnoses, &mut std::io::stdout().lock())?,
        _ => write_rows(&diagnoses, &dest, format)?,
    }
    Ok(ExitStatus::Success)
}

fn summarize(diagnoses: &[Diagnosis]) {
    let focused = diagnoses.iter().filter(|d| d.focus.is_some()).count();
    let immature: usize = diagnoses.iter().filter(|d| !d.immature_left_out.is_empty()).count();
    let period = diagnoses.first().map_or("-", |d| d.period.as_str());
    eprintln!(
        "diagnose: {} reps for {period}, {focused} with a lever that stands out, {} without{}",
        diagnoses.len(),
        diagnoses.len() - focused,
        if immature > 0 {
            format!("; immature months left out for {immature} reps")
        } else {
            String::new()
        }
    );
}

fn text(s: &str) -> Cell<'_> {
    if s.is_empty() { Cell::Null } else { Cell::Str(s) }
}

pub fn write_rows(diagnoses: &[Diagnosis], dest: &Dest, format: Format) -> Result<()> {
    let mut w = TableWriter::create(dest, format, DIAGNOSIS_COLUMNS)?;
    for d in diagnoses {
        let hyps = d.supported_hypotheses().join(";");
        let unchecked: Vec<String> = d
            .hypotheses
            .iter()
            .filter(|h| h.status == "not_checkable")
            .map(|h| format!("{} (needs {})", h.id, h.needs_columns.join(", ")))
            .collect();
        let unchecked = unchecked.join(";");
        let immature = d.immature_left_out.join(";");
        w.write_row(&[
            Cell::Str(&d.rep_id),
            Cell::Str(&d.rep_name),
            d.manager_id.as_deref().into(),
            Cell::Str(&d.period),
            Cell::Str(&d.window_from),
            Cell::Str(&d.window_to),
            d.focus.as_deref().into(),
            d.suggestion.as_deref().into(),
            d.focus_rate.into(),
            d.focus_raw_rate.into(),
            d.benchmark.into(),
            d.confidence.into(),
            d.impact_won.into(),
            d.impact_amount.into(),
            d.deals.map(|v| v as i64).into(),
            d.more_deals_needed.map(|v| v as i64).into(),
            text(&hyps),
            text(&unchecked),
            Cell::Str(&d.why),
            text(&immature),
        ])?;
    }
    w.finish()
}

fn render_table(diagnoses: &[Diagnosis], out: &mut dyn Write) -> Result<()> {
    if diagnoses.is_empty() {
        writeln!(out, "(no reps to diagnose)")?;
        return Ok(());
    }
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(["rep", "name", "focus", "why", "hypotheses"]);
    for d in diagnoses {
        let focus = match (&d.focus, &d.suggestion) {
            (Some(f), _) => f.clone(),
            (None, Some(s)) => format!("({s}?)"),
            _ => "—".into(),
        };
        t.add_row([
            d.rep_id.clone(),
            d.rep_name.clone(),
            focus,
            d.why.clone(),
            d.supported_hypotheses().join(", "),
        ]);
    }
    writeln!(out, "{t}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnosis_columns_match_the_schema_file() {
        crate::model::schema::assert_columns_match("diagnosis", DIAGNOSIS_COLUMNS);
    }
}
