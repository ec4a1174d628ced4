//! The month end: validate, funnel, review, diagnose, every worksheet and the index, built in a
//! staging folder and moved into place without touching files the report did not write.

mod index;
mod job;

use crate::app::funnel::{FunnelInputs, compute};
pub use crate::app::out_folder::MANIFEST;
use crate::app::out_folder::{self as folder, Policy, Staging};
use crate::app::validation::{Report as Validation, check};
use crate::app::worksheets::{SheetJob, merge_proposed, write_worksheets};
use crate::diagnosis::{DiagnoseOptions, diagnose};
use crate::io::Source;
use crate::io::ledger::{read_ledger, write_ledger};
use crate::io::output::{Output, count};
use crate::io::write::Cell;
use crate::metrics::funnel::{FunnelConfig, FunnelRow};
use crate::model::level::OrgLevel;
use crate::model::plans::Plan;
use crate::model::playbook::Playbook;
use crate::model::tables::{Column, Kind, TableKind, col};
use crate::model::values::SheetLevel;
use anyhow::Result;
use index::{company_svg, index_md};
pub use job::MonthEnd;
use std::path::{Path, PathBuf};

/// What a run produced, for the summary.
pub struct Summary {
    pub reps: usize,
    pub worksheets: usize,
    pub reviewed: usize,
    pub errors: u64,
    pub warnings: u64,
    pub index: PathBuf,
}

fn step(job: &MonthEnd, n: usize, what: &str) {
    if !job.quiet {
        crate::note!("[{n}/6] {what}");
    }
}

/// Runs the month end. `Ok(Err(validation))` when the inputs failed validation.
pub fn month_end(playbook: &Playbook, job: &MonthEnd) -> Result<Result<Summary, Validation>> {
    // A folder that is not a report is refused before any work.
    folder::inspect(job.out, job.force)?;
    step(job, 1, "validating the inputs and computing the funnel at every level");
    let mut tables = vec![
        (Source::parse(job.roster), TableKind::Roster),
        (Source::parse(job.events), TableKind::Events),
    ];
    if let Some(a) = job.activities {
        tables.push((Source::parse(a), TableKind::Activities));
    }
    let inputs = FunnelInputs {
        events: Source::parse(job.events),
        activities: job.activities.map(Source::parse),
        roster: Some(Source::parse(job.roster)),
        input_format: job.input_format,
        as_of: job.as_of,
        config: FunnelConfig::monthly_cohort(playbook, job.as_of),
    };
    // Validation and the funnel read the same files independently: they run side by side, and
    // the funnel is thrown away when validation fails.
    let (validation, rows) = std::thread::scope(|scope| {
        // Events after the as-of are not errors here (the export was taken later); quiet
        // deals are judged at the as-of, as the funnel counts them.
        let moment = crate::app::validation::Moment { cut: None, judged: job.as_of };
        let checking =
            scope.spawn(move || check(tables, job.input_format, playbook, moment, false));
        let rows = compute(&inputs, playbook);
        (checking.join().expect("the validation thread does not panic"), rows)
    });
    let validation = validation?;
    if !validation.valid && !job.allow_invalid {
        return Ok(Err(validation));
    }
    let (rows, read) = rows?;
    if read.after_as_of > 0 && job.warn_after_as_of && !job.quiet {
        crate::note!(
            "warning: {} events dated after --as-of are not counted (the export was taken then)",
            read.after_as_of
        );
    }
    for w in read.warnings().iter().filter(|_| !job.quiet) {
        crate::note!("{w}");
    }
    crate::app::funnel::ensure_period_has_data(&rows, job.period)?;
    // One run at a time into the folder, and through the ledger's read-modify-write (taken
    // once the inputs passed, so that a failed run leaves nothing beside the folder). What an
    // earlier run left is looked at again under the lock.
    let out = folder::resolve(job.out);
    let _out = crate::io::place::lock(&out, "the report folder")?;
    let _ledger = job.ledger.map(|p| crate::io::place::lock(p, "the ledger")).transpose()?;
    let staging = Staging::new(&out, job.quiet)?;
    let previous = folder::inspect(&out, job.force)?;
    let (summary, ledger) = build(playbook, job, &validation, (&rows, &read), staging.path())?;
    let inputs: Vec<Source> = [Some(job.events), job.activities, Some(job.roster)]
        .into_iter()
        .flatten()
        .map(Source::parse)
        .collect();
    // The ledger is written before the folder is swapped: a run killed in between leaves the
    // earlier report with a ledger that already holds this month's proposals, which the next
    // run writes again, never sheets whose plans the ledger lacks.
    staging.check(&previous, &inputs, Policy::Replace, false)?;
    if let (Some(path), Some(mut plans)) = (job.ledger, ledger) {
        write_ledger(path, &mut plans, None)?;
    }
    let committed = staging.commit(previous, &inputs, Policy::Replace, false)?;
    if !job.quiet {
        for k in &committed.kept {
            crate::note!(
                "kept {}: edited since the earlier report wrote it, for this same period (delete it to write it anew)",
                job.out.join(k).display()
            );
        }
        for (from, to) in &committed.archived {
            crate::note!(
                "kept your edited {} as {}: it records an earlier meeting; this period's sheet is written in its place",
                job.out.join(from).display(),
                job.out.join(to).display()
            );
        }
    }
    let index = job.out.join(if job.html { "index.html" } else { "index.md" });
    Ok(Ok(Summary { index, ..summary }))
}

fn build(
    playbook: &Playbook,
    job: &MonthEnd,
    validation: &Validation,
    (rows, read): (&[FunnelRow], &crate::app::funnel::ReadSummary),
    dir: &Path,
) -> Result<(Summary, Option<Vec<Plan>>)> {
    let (as_of, after_as_of) = (read.as_of, read.after_as_of);
    step(job, 2, "writing the data tables");
    let roster = match &read.roster_read {
        Some(r) => r.clone(),
        None => {
            crate::io::roster::load_roster(&Source::parse(job.roster), job.input_format, playbook)?
                .0
        }
    };
    let data = dir.join("data");
    std::fs::create_dir_all(&data)?;
    // The table `funnel --by all` prints for the same inputs, rows of zeros included.
    let table = crate::app::funnel::select::select(
        rows.to_vec(),
        read,
        playbook,
        &FunnelConfig::monthly_cohort(playbook, job.as_of),
        &crate::app::funnel::select::Selection::everything(),
    )?;
    for ext in ["csv", "parquet"] {
        crate::app::funnel::write_rows(
            &table,
            &Output::file(&data.join(format!("funnel.{ext}")))?,
        )?;
    }
    step(job, 3, "reviewing last period's plans");
    let mut ledger = match job.ledger {
        Some(p) => read_ledger(p, None)?,
        None => Vec::new(),
    };
    let lookback = playbook.diagnosis.lookback;
    let (reviews, rolled) = crate::app::review::review_all(
        &ledger,
        rows,
        Some(&roster),
        playbook,
        lookback,
        job.period,
        as_of,
    );
    crate::app::review::apply_to_ledger(&mut ledger, &reviews, job.period);
    for ext in ["csv", "parquet"] {
        crate::app::review::write_output(
            &reviews,
            &rolled,
            &Output::file(&data.join(format!("review.{ext}")))?,
            playbook,
        )?;
    }
    step(job, 4, "diagnosing every rep");
    let rep_rows: Vec<FunnelRow> =
        rows.iter().filter(|r| r.level == OrgLevel::Rep).cloned().collect();
    let ancestors = crate::app::diagnose::ancestor_ids(Some(&roster));
    let opts = DiagnoseOptions {
        period: Some(job.period.to_string()),
        lookback,
        manager: None,
        ancestors,
    };
    let diagnoses = diagnose(&rep_rows, playbook, &opts)?;
    for ext in ["csv", "parquet"] {
        crate::app::diagnose::write_rows(
            &diagnoses,
            &Output::file(&data.join(format!("diagnosis.{ext}")))?,
        )?;
    }
    step(job, 5, "writing the worksheets");
    let sheet_job = SheetJob {
        playbook,
        lang: job.lang,
        roster: Some(&roster),
        level: SheetLevel::All,
        templates: None,
        one_manager: false,
        funnel: rows,
    };
    let written = write_worksheets(&sheet_job, &diagnoses, &ledger, dir)?;
    let worksheets = written.reps.len() + written.managers.len() + written.directors.len();
    merge_proposed(&mut ledger, written.proposed.clone());
    std::fs::write(data.join("validation.json"), serde_json::to_string_pretty(validation)? + "\n")?;
    step(job, 6, "writing index.md");
    let company: Vec<&FunnelRow> =
        rows.iter().filter(|r| r.level == OrgLevel::Company && r.period == job.period).collect();
    std::fs::write(dir.join("funnel.svg"), company_svg(&company, playbook, job.lang))?;
    let index = index_md(
        job,
        playbook,
        &company,
        &diagnoses,
        &reviews,
        &written,
        &roster,
        validation,
        (as_of, after_as_of, &read.closings),
    );
    std::fs::write(dir.join("index.md"), index)?;
    if job.html {
        crate::render::html::write_pages(dir)?;
    }
    let reviewed = reviews.iter().filter(|r| r.verdict.is_some()).count();
    let summary = Summary {
        reps: diagnoses.len(),
        worksheets,
        reviewed,
        errors: validation.stats.errors,
        warnings: validation.stats.warnings,
        index: PathBuf::new(),
    };
    Ok((summary, job.ledger.map(|_| ledger)))
}

/// The summary table's columns (see schemas/report-summary.schema.json).
pub const SUMMARY_COLUMNS: &[Column] = &[
    col("period", Kind::String, true),
    col("reps", Kind::Integer, true),
    col("worksheets", Kind::Integer, true),
    col("plans_reviewed", Kind::Integer, true),
    col("validation_warnings", Kind::Integer, true),
    col("index", Kind::String, true),
];

/// Prints what a run produced: the path of index.md on standard output (so that
/// `open "$(salescoach report …)"` works), or with `-o`/`-f` a one-row summary table.
pub fn print_summary(
    summary: &Summary,
    period: &str,
    output: Option<&Output>,
    quiet: bool,
) -> Result<()> {
    if !quiet {
        crate::note!(
            "report: {}, {}, {} reviewed; validation: {}, {}",
            count(summary.reps as u64, "rep", "reps"),
            count(summary.worksheets as u64, "worksheet", "worksheets"),
            count(summary.reviewed as u64, "plan", "plans"),
            count(summary.errors, "error", "errors"),
            count(summary.warnings, "warning", "warnings")
        );
    }
    let index = summary.index.display().to_string();
    match output {
        None => output_index(&index),
        Some(output) => {
            let mut w = output.table(SUMMARY_COLUMNS)?;
            w.write_row(&[
                Cell::Str(period),
                Cell::Int(summary.reps as i64),
                Cell::Int(summary.worksheets as i64),
                Cell::Int(summary.reviewed as i64),
                Cell::Int(summary.warnings as i64),
                Cell::Str(&index),
            ])?;
            w.finish()
        }
    }
}

fn output_index(index: &str) -> Result<()> {
    use std::io::Write;
    let mut out = crate::io::place::Named::stdout(std::io::stdout().lock());
    writeln!(out, "{index}")?;
    out.flush()?;
    Ok(())
}

/// The bundled sample organisation, for `demo` and the quick start.
pub const SAMPLE_EVENTS: &str = include_str!("../../../sample-data/events.csv");
pub const SAMPLE_ACTIVITIES: &str = include_str!("../../../sample-data/activities.csv");
pub const SAMPLE_ROSTER: &str = include_str!("../../../sample-data/roster.csv");
