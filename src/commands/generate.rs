//! `salescoach generate`: a synthetic organisation (roster, events, activities) and its truth.

use crate::ExitStatus;
use crate::cli::{GenerateArgs, Global};
use crate::io::write::{Cell, TableWriter};
use crate::io::{Dest, Format};
use crate::model::playbook::Playbook;
use crate::model::tables::{ACTIVITY_COLUMNS, EVENT_COLUMNS, ROSTER_COLUMNS};
use crate::model::time::{MICROS_PER_DAY, Micros, Period, PeriodKind, days_from_civil};
use crate::sim::{self, Org, SimActivity, SimConfig, SimEvent, SimSink};
use anyhow::{Context, Result, bail};
use rust_decimal::Decimal;
use std::io::IsTerminal;
use std::path::Path;

pub fn run(global: &Global, args: GenerateArgs) -> Result<ExitStatus> {
    let playbook = super::load_playbook(global)?;
    if global.output.is_some() {
        bail!("`salescoach generate` writes three tables into a folder: use --out DIR, not -o");
    }
    if args.out.as_os_str() == "-" {
        bail!("--out -: generate writes three tables (events, activities, roster); give a folder");
    }
    let cut = args
        .as_of
        .as_deref()
        .map(|s| crate::model::time::parse_cli_as_of(s, playbook.timezone))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--as-of: {e}"))?;
    let cfg = config(&args, &playbook)?;
    // Without --as-of, the export is taken as the months end.
    let cut = cut.unwrap_or_else(|| sim::month_start(&cfg, cfg.months));
    let format = match global.format {
        None => Format::Csv,
        Some(Format::Table) => {
            bail!("generate writes files: use -f csv, tsv, json, ndjson or parquet")
        }
        Some(f) => f,
    };
    let org = sim::build_org(&cfg);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let path = |table: &str| Dest::File(args.out.join(format!("{table}.{}", format.extension())));

    write_roster(&org, &path("roster"), format)?;
    let progress = (!global.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(org.reps.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} generating {pos}/{len} reps {wide_bar} {eta}",
            )
            .expect("valid template"),
        );
        bar
    });
    let mut sink = FileSink {
        cut,
        events: TableWriter::create(&path("events"), format, &EVENT_COLUMNS[..5])?,
        activities: if cfg.activities {
            Some(TableWriter::create(&path("activities"), format, ACTIVITY_COLUMNS)?)
        } else {
            None
        },
    };
    sim::simulate(&cfg, &org, &mut sink)?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let (n_events, n_activities) =
        (sink.events.rows(), sink.activities.as_ref().map_or(0, |a| a.rows()));
    sink.events.finish()?;
    if let Some(a) = sink.activities {
        a.finish()?;
    }
    if let Some(truth) = &args.truth {
        write_truth(&org, &cfg, truth)?;
    }
    if !global.quiet {
        crate::note!(
            "wrote {} people, {n_events} events, {n_activities} activities to {} (seed {}, as of {})",
            org.people.len(),
            args.out.display(),
            cfg.seed,
            crate::model::time::to_rfc3339(cut)
        );
    }
    Ok(ExitStatus::Success)
}

fn config(args: &GenerateArgs, playbook: &Playbook) -> Result<SimConfig> {
    let start = Period::parse(PeriodKind::Month, &args.start)
        .with_context(|| format!("--start {}", args.start))?;
    let (y, m, _) = crate::model::time::civil_from_days(start.start_day());
    if args.directors == 0 || args.managers == 0 || args.reps == 0 || args.months == 0 {
        bail!("--directors, --managers, --reps and --months must be at least 1");
    }
    for (flag, v) in [("--weak-share", args.weak_share), ("--late-share", args.late_share)] {
        if !(0.0..=1.0).contains(&v) {
            bail!("{flag} must be between 0 and 1, got {v}");
        }
    }
    if !(args.leads >= 0.0 && args.leads.is_finite()) {
        bail!("--leads must be a non-negative number");
    }
    for (flag, v) in [("--won-days", args.won_days), ("--lost-days", args.lost_days)] {
        if !(v > 0.0 && v.is_finite()) {
            bail!("{flag} must be a positive number of days, got {v}");
        }
    }
    let Some(lost) = playbook.terminal.first() else {
        bail!("generate needs a terminal outcome (funnel.terminal) in the playbook");
    };
    debug_assert_eq!(days_from_civil(y, m, 1), start.start_day());
    if !(0.0..=1.0).contains(&args.fix_share) {
        bail!("--fix-share must be between 0 and 1, got {}", args.fix_share);
    }
    let mut coaching = Vec::new();
    if let Some(path) = &args.ledger {
        // A suggestion nobody agreed is not coached.
        let agreed = crate::io::ledger::read_ledger(path, None)?
            .into_iter()
            .filter(|p| p.status != crate::model::values::PlanStatus::Suggested);
        for plan in agreed {
            let p = Period::parse(PeriodKind::Month, &plan.period)
                .with_context(|| format!("{}: plan {}", path.display(), plan.plan_id))?;
            let from = p.next().index - start.index;
            if from > 0 {
                coaching.push((plan.rep_id.clone(), plan.lever().clone(), from as u32));
            }
        }
    }
    Ok(SimConfig {
        coaching,
        fix_share: args.fix_share,
        seed: args.seed,
        directors: args.directors,
        managers: args.managers,
        reps: args.reps,
        months: args.months,
        start: (y as i32, m),
        leads: args.leads,
        weak_share: args.weak_share,
        late_share: args.late_share,
        activities: !args.no_activities,
        stages: playbook.stages.clone(),
        lost: lost.clone(),
        won_lag_days: args.won_days,
        lost_lag_days: args.lost_days,
        // Deals run on past the months, whatever the cut: a cut only hides what came later, so
        // a cut and an uncut run of one seed hold the same deals.
        horizon: Some(month_start_after(y, m, args.months) + 730 * MICROS_PER_DAY),
    })
}

/// The first instant after the simulated months.
fn month_start_after(y: i64, m: u32, months: u32) -> Micros {
    let m0 = y * 12 + m as i64 - 1 + months as i64;
    days_from_civil(m0.div_euclid(12), m0.rem_euclid(12) as u32 + 1, 1) * MICROS_PER_DAY
}

struct FileSink {
    /// Nothing after this instant is written: the data as extracted at a month end.
    cut: Micros,
    events: TableWriter,
    activities: Option<TableWriter>,
}

impl SimSink for FileSink {
    fn event(&mut self, e: &SimEvent) -> Result<()> {
        if e.ts > self.cut {
            return Ok(());
        }
        let amount = e.amount_cents.map_or(Cell::Null, |c| Cell::Dec(Decimal::new(c, 2)));
        self.events.write_row(&[
            Cell::Str(e.deal_id),
            Cell::Str(e.rep_id),
            Cell::Str(e.stage),
            Cell::Ts(e.ts),
            amount,
        ])
    }

    fn activity(&mut self, a: &SimActivity) -> Result<()> {
        let Some(w) = &mut self.activities else { return Ok(()) };
        if a.ts > self.cut {
            return Ok(());
        }
        w.write_row(&[
            Cell::Str(a.activity_id),
            Cell::Str(a.rep_id),
            a.deal_id.into(),
            Cell::Str(a.kind),
            Cell::Ts(a.ts),
            a.duration_s.into(),
            a.outcome.into(),
            a.personalized.map_or(Cell::Null, Cell::Bool),
        ])
    }
}

fn write_roster(org: &Org, dest: &Dest, format: Format) -> Result<()> {
    let mut w = TableWriter::create(dest, format, ROSTER_COLUMNS)?;
    for p in &org.people {
        w.write_row(&[
            Cell::Str(&p.person_id),
            Cell::Str(&p.name),
            Cell::Str(&p.role),
            p.reports_to.as_deref().into(),
        ])?;
    }
    w.finish()
}

/// The truth file: per rep, what was planted and the true parameters of the simulation.
fn write_truth(org: &Org, cfg: &SimConfig, path: &Path) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    let mut header = vec![
        "rep_id".to_string(),
        "manager_id".into(),
        "join_period".into(),
        "planted_lever".into(),
        "planted_cause".into(),
        "leads_per_month".into(),
    ];
    for t in cfg.stages.windows(2) {
        header.push(format!("rate_{}_{}", t[0], t[1]));
    }
    for s in &cfg.stages[..cfg.stages.len() - 1] {
        header.push(format!("contacts_{s}"));
    }
    header.extend(["personal_share".into(), "first_call_s".into(), "first_call_connect".into()]);
    header.extend(["coached_lever".into(), "coached_from".into(), "fixed".into()]);
    w.write_record(&header)?;
    let start =
        Period::parse(PeriodKind::Month, &format!("{:04}-{:02}", cfg.start.0, cfg.start.1))?;
    for r in &org.reps {
        let mut join = start;
        for _ in 0..r.join_month {
            join = join.next();
        }
        let mut row = vec![
            r.id.clone(),
            r.manager_id.clone(),
            join.label(),
            r.planted.as_ref().map(ToString::to_string).unwrap_or_default(),
            r.cause.unwrap_or_default().to_string(),
            format!("{:.4}", r.leads_per_month),
        ];
        row.extend(r.rates.iter().map(|x| format!("{x:.4}")));
        row.extend(r.contacts.iter().map(|x| format!("{x:.4}")));
        row.extend([
            format!("{:.4}", r.personal_share),
            format!("{:.1}", r.first_call_s),
            format!("{:.4}", r.first_call_connect),
        ]);
        match &r.coached {
            Some((lever, from, fixed)) => {
                let mut p = start;
                for _ in 0..*from {
                    p = p.next();
                }
                row.extend([lever.to_string(), p.label(), fixed.to_string()]);
            }
            None => row.extend([String::new(), String::new(), String::new()]),
        }
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}
