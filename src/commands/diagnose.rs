//! `salescoach diagnose`: the lever each rep should work on, why, and the hypotheses.

use crate::ExitStatus;
use crate::app::diagnose::{self, DiagnoseJob, FunnelSource};
use crate::app::funnel::FunnelInputs;
use crate::cli::{DiagnoseArgs, Global};
use crate::diagnosis::Diagnosis;
use crate::io::output::Output;
use crate::io::{Format, Source};
use crate::metrics::funnel::FunnelConfig;
use crate::model::playbook::Playbook;
use anyhow::{Result, bail};

pub fn run(global: &Global, args: DiagnoseArgs) -> Result<ExitStatus> {
    let playbook = super::load_playbook(global)?;
    let output = super::output(global)?;
    let job = resolve(global, &args, &playbook)?;
    crate::io::ensure_distinct_files(&[&output.dest], &input_sources(&args))?;
    let diagnoses = diagnose::run(&job, &playbook)?;
    if !global.quiet {
        summarize(&diagnoses);
    }
    print(&diagnoses, &output, &playbook)?;
    Ok(ExitStatus::Success)
}

/// Every table the diagnosis reads.
fn input_sources(args: &DiagnoseArgs) -> Vec<Source> {
    [&args.events, &args.activities, &args.roster, &args.funnel]
        .into_iter()
        .flatten()
        .map(|s| Source::parse(s))
        .collect()
}

/// Resolves the arguments of a diagnosis.
fn resolve(global: &Global, args: &DiagnoseArgs, playbook: &Playbook) -> Result<DiagnoseJob> {
    let lookback = args.lookback.unwrap_or(playbook.diagnosis.lookback);
    if !(1..=crate::model::playbook::MAX_LOOKBACK_MONTHS).contains(&lookback) {
        bail!(
            "--lookback {lookback}: give 1 to {} months",
            crate::model::playbook::MAX_LOOKBACK_MONTHS
        );
    }
    let period = args.period.as_deref().map(|p| super::parse_month("--period", p)).transpose()?;
    let as_of = super::parse_as_of(args.as_of.as_deref(), playbook)?;
    let funnel = match (&args.funnel, &args.events) {
        (Some(f), _) => FunnelSource::Table(Source::parse(f)),
        (None, Some(events)) => FunnelSource::Events(FunnelInputs {
            events: Source::parse(events),
            activities: args.activities.as_deref().map(Source::parse),
            roster: args.roster.as_deref().map(Source::parse),
            input_format: global.input_format,
            as_of,
            config: FunnelConfig::monthly_cohort(playbook, as_of),
        }),
        (None, None) => bail!("give --events or --funnel"),
    };
    let sources = input_sources(args);
    super::one_stdin(&sources.iter().collect::<Vec<_>>())?;
    if args.roster.as_deref() == Some("-") {
        bail!("--roster cannot be standard input here: it is read twice");
    }
    let roster = super::load_roster(args.roster.as_deref(), global.input_format, playbook)?;
    if let Some(m) = &args.manager {
        match &roster {
            None => bail!("--manager needs --roster, which says who reports to whom"),
            Some(r) if !r.index.contains_key(m) => {
                bail!(
                    "--manager {m}: no such person in the roster {}",
                    args.roster.as_deref().unwrap_or("")
                )
            }
            Some(_) => {}
        }
    }
    Ok(DiagnoseJob {
        funnel,
        roster,
        input_format: global.input_format,
        period,
        lookback,
        manager: args.manager.clone(),
        quiet: global.quiet,
    })
}

fn print(diagnoses: &[Diagnosis], output: &Output, playbook: &Playbook) -> Result<()> {
    match output.format {
        Format::Json => output.json(&diagnoses),
        Format::Table => output.text(|out| {
            writeln!(out, "{}", render_table(diagnoses, output.width, playbook))?;
            Ok(())
        }),
        _ => diagnose::write_rows(diagnoses, output),
    }
}

fn summarize(diagnoses: &[Diagnosis]) {
    let focused = diagnoses.iter().filter(|d| d.focus.is_some()).count();
    let immature: usize = diagnoses.iter().filter(|d| !d.immature_left_out.is_empty()).count();
    let period = diagnoses.first().map_or("-", |d| d.period.as_str());
    crate::note!(
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

/// The human view: levers and hypotheses as the sheets name them, not by their ids.
fn render_table(diagnoses: &[Diagnosis], width: Option<u16>, playbook: &Playbook) -> String {
    let label =
        |l| crate::app::worksheets::lever_label(playbook, crate::model::values::Lang::En, l);
    if diagnoses.is_empty() {
        return "(no reps to diagnose)".into();
    }
    let rows: Vec<Vec<String>> = diagnoses
        .iter()
        .map(|d| {
            let focus = match (&d.focus, &d.suggestion) {
                (Some(f), _) => label(f),
                (None, Some(s)) => format!("({}?)", label(s)),
                _ => "—".into(),
            };
            vec![
                d.rep_id.clone(),
                d.rep_name.clone(),
                focus,
                d.why.clone(),
                d.hypotheses
                    .iter()
                    .filter(|h| h.status == crate::diagnosis::HypothesisStatus::Supported)
                    .map(|h| h.title.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            ]
        })
        .collect();
    crate::io::output::render_table(&["rep", "name", "focus", "why", "hypotheses"], &rows, width)
}
