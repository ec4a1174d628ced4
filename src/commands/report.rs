//! `salescoach report` and `salescoach demo`: the month end in one command.
//!
//! Validate, funnel at every level, review last period's plans, diagnose every rep, write every
//! worksheet and an index, all in a staging folder renamed into place at the end, so that a
//! failed run never leaves half a report.

use crate::ExitStatus;
use crate::cli::{DemoArgs, Global, Lang, ReportArgs, SheetLevel};
use crate::commands::funnel::{FunnelInputs, compute};
use crate::commands::plan::{SheetJob, merge_proposed, write_worksheets};
use crate::commands::validate::{Report as Validation, check, print_report};
use crate::diagnosis::{DiagnoseOptions, Diagnosis, diagnose};
use crate::io::{Dest, Format, Source};
use crate::metrics::funnel::{FunnelConfig, FunnelRow};
use crate::metrics::review::PlanReview;
use crate::model::plans::{Plan, read_ledger, write_ledger};
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::model::tables::TableKind;
use crate::model::time::{Period, PeriodKind};
use crate::render::{ChartBar, escape_markdown, funnel_svg, link_target};
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The inputs of one monthly run.
pub struct MonthEnd<'a> {
    pub events: &'a str,
    pub activities: Option<&'a str>,
    pub roster: &'a str,
    pub ledger: Option<&'a Path>,
    pub period: &'a str,
    pub out: &'a Path,
    pub allow_invalid: bool,
}

/// What a run produced, for the summary.
pub struct Summary {
    pub reps: usize,
    pub worksheets: usize,
    pub reviewed: usize,
    pub warnings: u64,
    pub index: PathBuf,
}

pub fn run(global: &Global, args: ReportArgs) -> Result<ExitStatus> {
    let playbook = Playbook::load(global.config.as_deref())?;
    Period::parse(PeriodKind::Month, &args.period).context("--period")?;
    let job = MonthEnd {
        events: &args.events,
        activities: args.activities.as_deref(),
        roster: &args.roster,
        ledger: args.ledger.as_deref(),
        period: &args.period,
        out: &args.out,
        allow_invalid: args.allow_invalid,
    };
    match month_end(global, &playbook, &job)? {
        Ok(summary) => {
            print_summary(global, &summary);
            Ok(ExitStatus::Success)
        }
        Err(validation) => {
            print_report(&validation, 50, &mut std::io::stderr().lock())?;
            eprintln!(
                "report: the inputs failed validation; nothing was written (--allow-invalid goes on anyway)"
            );
            Ok(ExitStatus::DataFailed)
        }
    }
}

fn print_summary(global: &Global, s: &Summary) {
    if !global.quiet {
        eprintln!(
            "report: {} reps, {} worksheets, {} plans reviewed, {} validation warnings",
            s.reps, s.worksheets, s.reviewed, s.warnings
        );
    }
    println!("{}", s.index.display());
}

fn step(global: &Global, n: usize, what: &str) {
    if !global.quiet {
        eprintln!("[{n}/6] {what}");
    }
}

/// Runs the month end. `Ok(Err(validation))` when the inputs failed validation.
pub fn month_end(
    global: &Global,
    playbook: &Playbook,
    job: &MonthEnd,
) -> Result<Result<Summary, Validation>> {
    step(global, 1, "validating the inputs and computing the funnel at every level");
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
        input_format: global.input_format,
        as_of: None,
        config: FunnelConfig::monthly_cohort(playbook, None),
    };
    // Validation and the funnel read the same files independently: they run side by side, and
    // the funnel is thrown away when validation fails.
    let (validation, rows) = std::thread::scope(|scope| {
        let checking = scope.spawn(|| check(tables, global.input_format, playbook, None, false));
        let rows = compute(&inputs, playbook).map(|(rows, _)| rows);
        (checking.join().expect("the validation thread does not panic"), rows)
    });
    let validation = validation?;
    if !validation.valid && !job.allow_invalid {
        return Ok(Err(validation));
    }
    let rows = rows?;
    let staging = Staging::new(job.out)?;
    let (summary, ledger) = build(global, playbook, job, &validation, &rows, staging.path())?;
    staging.commit()?;
    if let (Some(path), Some(mut plans)) = (job.ledger, ledger) {
        write_ledger(path, &mut plans, None)?;
    }
    Ok(Ok(Summary { index: job.out.join("index.md"), ..summary }))
}

fn build(
    global: &Global,
    playbook: &Playbook,
    job: &MonthEnd,
    validation: &Validation,
    rows: &[FunnelRow],
    dir: &Path,
) -> Result<(Summary, Option<Vec<Plan>>)> {
    step(global, 2, "writing the data tables");
    let (roster, _) = Roster::load(&Source::parse(job.roster), global.input_format, playbook)?;
    let data = dir.join("data");
    std::fs::create_dir_all(&data)?;
    for ext in ["csv", "parquet"] {
        crate::commands::funnel::write_rows(
            rows,
            &Dest::File(data.join(format!("funnel.{ext}"))),
            Format::from_path(Path::new(ext)).unwrap_or(Format::Csv),
        )?;
    }
    step(global, 3, "reviewing last period's plans");
    let mut ledger = match job.ledger {
        Some(p) => read_ledger(p, None)?,
        None => Vec::new(),
    };
    let lookback = playbook.diagnosis.lookback;
    let (reviews, rolled) = crate::commands::review::review_all(
        &ledger,
        rows,
        Some(&roster),
        playbook,
        lookback,
        job.period,
    );
    crate::commands::review::apply_to_ledger(&mut ledger, &reviews, job.period);
    for ext in ["csv", "parquet"] {
        crate::commands::review::write_output(
            &reviews,
            &rolled,
            &Dest::File(data.join(format!("review.{ext}"))),
            format_of(ext),
        )?;
    }
    step(global, 4, "diagnosing every rep");
    let rep_rows: Vec<FunnelRow> = rows.iter().filter(|r| r.level == "rep").cloned().collect();
    let ancestors = roster
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                p.person_id.clone(),
                roster.ancestors(i).iter().map(|&a| roster.people[a].person_id.clone()).collect(),
            )
        })
        .collect();
    let opts = DiagnoseOptions {
        period: Some(job.period.to_string()),
        lookback,
        manager: None,
        ancestors,
    };
    let diagnoses = diagnose(&rep_rows, playbook, &opts)?;
    for ext in ["csv", "parquet"] {
        crate::commands::diagnose::write_rows(
            &diagnoses,
            &Dest::File(data.join(format!("diagnosis.{ext}"))),
            format_of(ext),
        )?;
    }
    step(global, 5, "writing the worksheets");
    let sheet_job = SheetJob {
        playbook,
        lang: Lang::En,
        roster: Some(&roster),
        level: SheetLevel::All,
        templates: None,
        mode: crate::commands::plan::WriteMode::Staged,
        one_manager: false,
    };
    let written = write_worksheets(&sheet_job, &diagnoses, &ledger, dir)?;
    let worksheets = written.reps.len() + written.managers.len() + written.directors.len();
    merge_proposed(&mut ledger, written.proposed.clone());
    std::fs::write(data.join("validation.json"), serde_json::to_string_pretty(validation)? + "\n")?;
    step(global, 6, "writing index.md");
    let company: Vec<&FunnelRow> =
        rows.iter().filter(|r| r.level == "company" && r.period == job.period).collect();
    std::fs::write(dir.join("funnel.svg"), company_svg(&company, playbook))?;
    let index =
        index_md(job, playbook, &company, &diagnoses, &reviews, &written, &roster, validation);
    std::fs::write(dir.join("index.md"), index)?;
    let reviewed = reviews.iter().filter(|r| r.verdict.is_some()).count();
    let summary = Summary {
        reps: diagnoses.len(),
        worksheets,
        reviewed,
        warnings: validation.stats.warnings,
        index: PathBuf::new(),
    };
    Ok((summary, job.ledger.map(|_| ledger)))
}

fn format_of(ext: &str) -> Format {
    if ext == "parquet" { Format::Parquet } else { Format::Csv }
}

fn company_svg(company: &[&FunnelRow], playbook: &Playbook) -> String {
    let bars: Vec<ChartBar> = company
        .iter()
        .filter(|r| {
            r.from_stage != playbook.stages[0]
                || r.to_stage != playbook.stages[playbook.stages.len() - 1]
        })
        .map(|r| ChartBar {
            label: format!("{} → {}", r.from_stage, r.to_stage),
            rate: r.rate,
            benchmark: None,
            focus: false,
        })
        .collect();
    funnel_svg("Company funnel", &bars)
}

fn pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{:.0}%", v * 100.0))
}

#[allow(clippy::too_many_arguments)]
fn index_md(
    job: &MonthEnd,
    playbook: &Playbook,
    company: &[&FunnelRow],
    diagnoses: &[Diagnosis],
    reviews: &[PlanReview],
    written: &crate::commands::plan::Written,
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
        "## Company funnel\n\n| Step | Entered | Converted | Rate | Mature |\n|---|---|---|---|---|"
    );
    for r in company {
        let _ = writeln!(
            s,
            "| {} → {} | {} | {} | {} | {} |",
            r.from_stage,
            r.to_stage,
            r.entered,
            r.converted,
            pct(r.rate),
            if r.mature { "yes" } else { "not yet" }
        );
    }
    let _ = writeln!(s, "\n![Company funnel]({})\n", link_target("funnel.svg"));
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
            let effect = r.effect.map_or("—".into(), |e| format!("{:+.0} pt", e * 100.0));
            let verdict = r.verdict.clone().unwrap_or_else(|| r.note.clone().unwrap_or_default());
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                escape_markdown(&name(&r.rep_id)),
                escape_markdown(&r.focus.replace("->", " → ")),
                pct(r.baseline_rate),
                pct(r.after_rate),
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

/// A sibling folder the report is built in, renamed over the output at the end.
struct Staging {
    dir: PathBuf,
    out: PathBuf,
    committed: bool,
}

impl Staging {
    fn new(out: &Path) -> Result<Staging> {
        let name = out.file_name().map_or("report".into(), |n| n.to_string_lossy().into_owned());
        let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        let dir = parent.join(format!(".{name}.staging-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Staging { dir, out: out.to_path_buf(), committed: false })
    }

    fn path(&self) -> &Path {
        &self.dir
    }

    fn commit(mut self) -> Result<()> {
        if self.out.exists() {
            let old = self.dir.with_extension("old");
            std::fs::rename(&self.out, &old)
                .with_context(|| format!("moving the old {} aside", self.out.display()))?;
            std::fs::rename(&self.dir, &self.out)
                .with_context(|| format!("moving the report into {}", self.out.display()))?;
            std::fs::remove_dir_all(&old)?;
        } else {
            std::fs::rename(&self.dir, &self.out)
                .with_context(|| format!("moving the report into {}", self.out.display()))?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

const SAMPLE_EVENTS: &str = include_str!("../../sample-data/events.csv");
const SAMPLE_ACTIVITIES: &str = include_str!("../../sample-data/activities.csv");
const SAMPLE_ROSTER: &str = include_str!("../../sample-data/roster.csv");
/// The demo's two months: plans made in the first are reviewed in the second.
const DEMO_MONTHS: [&str; 2] = ["2026-02", "2026-03"];

pub fn run_demo(global: &Global, args: DemoArgs) -> Result<ExitStatus> {
    let playbook = Playbook::load(global.config.as_deref())?;
    let out = &args.out;
    let input = out.join("input");
    std::fs::create_dir_all(&input).with_context(|| format!("creating {}", input.display()))?;
    for (name, text) in [
        ("events.csv", SAMPLE_EVENTS),
        ("activities.csv", SAMPLE_ACTIVITIES),
        ("roster.csv", SAMPLE_ROSTER),
    ] {
        let path = input.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    let ledger = out.join("plans.csv");
    // The ledger is rebuilt from the months' runs, so that a second demo gives the same files.
    if ledger.exists() {
        std::fs::remove_file(&ledger)?;
    }
    let (events, activities, roster) =
        (input.join("events.csv"), input.join("activities.csv"), input.join("roster.csv"));
    let mut last = None;
    for month in DEMO_MONTHS {
        if !global.quiet {
            eprintln!("demo: the month end of {month}");
        }
        let job = MonthEnd {
            events: events.to_str().context("a UTF-8 path")?,
            activities: activities.to_str(),
            roster: roster.to_str().context("a UTF-8 path")?,
            ledger: Some(&ledger),
            period: month,
            out: &out.join(month),
            allow_invalid: false,
        };
        match month_end(global, &playbook, &job)? {
            Ok(summary) => last = Some(summary),
            Err(_) => bail!("the embedded sample data failed validation"),
        }
    }
    let summary = last.expect("two months ran");
    print_summary(global, &summary);
    Ok(ExitStatus::Success)
}
