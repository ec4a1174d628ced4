//! `salescoach plan`: coaching worksheets for the rep, manager and director meetings, the plan
//! ledger, and `plan import` to read the agreed plans back.

use crate::ExitStatus;
use crate::app::diagnose::{DiagnoseJob, FunnelSource};
use crate::app::funnel::FunnelInputs;
use crate::app::out_folder::{self as folder, Committed, Policy, Staging};
use crate::app::worksheets::{SheetJob, import_worksheets, merge_proposed, write_worksheets};
use crate::cli::{Global, PlanArgs, PlanImportArgs};
use crate::diagnosis::Diagnosis;
use crate::io::Source;
use crate::io::ledger::{read_ledger, write_ledger};
use crate::metrics::funnel::FunnelConfig;
use crate::model::playbook::Playbook;
use crate::render;
use anyhow::{Context, Result, bail};
use std::io::Read;
use std::path::Path;

pub fn run(global: &Global, args: PlanArgs) -> Result<ExitStatus> {
    let mut playbook = super::load_playbook(global)?;
    if let Some(c) = &args.currency {
        playbook.set_currency(c)?;
    }
    if let Some(crate::cli::PlanAction::Import(import)) = &args.action {
        super::refuse_output_options(global, "plan import", "it updates the --ledger file")?;
        return run_import(global, import, &playbook);
    }
    super::refuse_output_options(global, "plan", "it writes worksheets into --out DIR")?;
    let Some(out) = args.out.clone() else { bail!("--out DIR is required to write worksheets") };
    let period = args.period.as_deref().map(|p| super::parse_month("--period", p)).transpose()?;
    // Templates are checked before any data is read.
    render::environment(args.templates.as_deref())?;
    let roster = super::load_roster(args.roster.as_deref(), global.input_format, &playbook)?;
    let mut diagnoses = match (&args.diagnosis, &args.events) {
        (Some(d), _) => read_diagnoses(d)?,
        (None, Some(events)) => {
            let lookback = args.lookback.unwrap_or(playbook.diagnosis.lookback);
            if !(1..=crate::model::playbook::MAX_LOOKBACK_MONTHS).contains(&lookback) {
                bail!(
                    "--lookback {lookback}: give 1 to {} months",
                    crate::model::playbook::MAX_LOOKBACK_MONTHS
                );
            }
            let as_of = super::parse_as_of(args.as_of.as_deref(), &playbook)?;
            let job = DiagnoseJob {
                funnel: FunnelSource::Events(FunnelInputs {
                    events: Source::parse(events),
                    activities: args.activities.as_deref().map(Source::parse),
                    roster: args.roster.as_deref().map(Source::parse),
                    input_format: global.input_format,
                    as_of,
                    config: FunnelConfig::monthly_cohort(&playbook, as_of),
                }),
                roster: roster.clone(),
                input_format: global.input_format,
                period,
                lookback,
                manager: args.manager.clone(),
                quiet: global.quiet,
            };
            crate::app::diagnose::run(&job, &playbook)?
        }
        (None, None) => bail!("give --diagnosis FILE or --events FILE"),
    };
    if let Some(m) = &args.manager {
        diagnoses.retain(|d| d.manager_id.as_ref() == Some(m));
    }
    if let Some(p) = period {
        diagnoses.iter_mut().for_each(|d| d.period = p.label());
    }
    // Held until the sheets are in place and the ledger written: no other run can write
    // either in between.
    let out = folder::resolve(&out);
    let _out = crate::io::place::lock(&out, "the worksheet folder")?;
    let _lock =
        args.ledger.as_deref().map(|p| crate::io::place::lock(p, "the ledger")).transpose()?;
    let staging = Staging::new(&out, global.quiet)?;
    let previous = folder::inspect(&out, true)?;
    let mut ledger = match &args.ledger {
        Some(path) => read_ledger(path, None)?,
        None => Vec::new(),
    };
    let job = SheetJob {
        playbook: &playbook,
        lang: args.lang,
        roster: roster.as_ref(),
        level: args.level,
        templates: args.templates.as_deref(),
        one_manager: args.manager.is_some(),
        funnel: &[],
    };
    let written = write_worksheets(&job, &diagnoses, &ledger, staging.path())?;
    let pages = if args.no_html { 0 } else { crate::render::html::write_pages(staging.path())? };
    let inputs: Vec<Source> = [&args.events, &args.activities, &args.roster, &args.diagnosis]
        .into_iter()
        .flatten()
        .map(|p| Source::parse(p))
        .collect();
    // The ledger before the sheets, as in `report`: a kill in between never leaves sheets whose
    // plans the ledger lacks.
    staging.check(&previous, &inputs, Policy::Merge, args.force)?;
    let mut added = 0;
    if let Some(path) = &args.ledger {
        added = merge_proposed(&mut ledger, written.proposed);
        write_ledger(path, &mut ledger, None)?;
    }
    let committed = staging.commit(previous, &inputs, Policy::Merge, args.force)?;
    if !global.quiet {
        let sheets = written.reps.len() + written.managers.len() + written.directors.len();
        let board = if written.board.is_some() { ", the board page" } else { "" };
        let pages =
            if pages > 0 { format!("; {pages} HTML pages beside them") } else { String::new() };
        crate::note!(
            "plan: {sheets} worksheets ({} rep, {} manager, {} director), {} charts{board}{pages}",
            written.reps.len(),
            written.managers.len(),
            written.directors.len(),
            written.reps.len()
        );
    }
    finish(global, &args, added, &committed)
}

fn finish(
    global: &Global,
    args: &PlanArgs,
    added: usize,
    report: &Committed,
) -> Result<ExitStatus> {
    if !global.quiet {
        crate::note!(
            "plan: {} files written, {} unchanged, {} kept because they were edited (--force overwrites){}",
            report.written,
            report.unchanged,
            report.kept.len(),
            args.ledger
                .as_ref()
                .map_or(String::new(), |l| format!("; {added} plans added to {}", l.display()))
        );
        for (from, to) in &report.archived {
            let out = args.out.as_deref().unwrap_or(Path::new("."));
            crate::note!(
                "  kept your edited {} as {}: it records an earlier meeting",
                out.join(from).display(),
                out.join(to).display()
            );
        }
        for k in &report.kept {
            crate::note!(
                "  kept {}",
                args.out.as_deref().unwrap_or(Path::new(".")).join(k).display()
            );
        }
    }
    Ok(ExitStatus::Success)
}

fn count_of(n: usize) -> String {
    crate::io::output::count(n as u64, "sheet's plan was", "sheets' plans were")
}

fn read_diagnoses(path: &str) -> Result<Vec<Diagnosis>> {
    let mut text = String::new();
    Source::parse(path)
        .open()?
        .read_to_string(&mut text)
        .with_context(|| format!("reading {path}"))?;
    serde_json::from_str(&text).map_err(|e| {
        crate::DataError::new(format!(
            "{path}:{}: not the JSON of `salescoach diagnose -f json`: {e}",
            e.line()
        ))
        .into()
    })
}

fn run_import(global: &Global, args: &PlanImportArgs, playbook: &Playbook) -> Result<ExitStatus> {
    let summary = import_worksheets(&args.paths, &args.ledger, playbook)?;
    if !global.quiet {
        use crate::io::output::count;
        let without = &summary.without_plan;
        let named = match without.len() {
            0 => String::new(),
            1..=3 => format!(" ({})", without.join(", ")),
            _ => format!(" ({}, …)", without[..3].join(", ")),
        };
        crate::note!(
            "plan import: {} agreed, {} not filled in, {} without a plan{named}, {} with a problem; ledger {}",
            count(summary.agreed as u64, "plan", "plans"),
            count(summary.unfilled as u64, "worksheet", "worksheets"),
            count(without.len() as u64, "file", "files"),
            summary.problems.len(),
            args.ledger.display()
        );
    }
    for p in &summary.problems {
        crate::note!("  {p}");
    }
    if !global.quiet && !summary.already_reviewed.is_empty() {
        let r = &summary.already_reviewed;
        crate::note!(
            "  {} reviewed already, not read again (the review is the record; to count an agreement made before it, import before `review --update-ledger`): {}{}",
            count_of(r.len()),
            r.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
            if r.len() > 3 { ", …" } else { "" }
        );
    }
    Ok(if summary.problems.is_empty() { ExitStatus::Success } else { ExitStatus::DataFailed })
}
