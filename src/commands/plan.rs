//! `salescoach plan`: coaching worksheets for the rep, manager and director meetings, the plan
//! ledger, and `plan import` to read the agreed plans back.

use crate::ExitStatus;
use crate::cli::{DiagnoseArgs, Global, Lang, PlanArgs, PlanImportArgs, SheetLevel};
use crate::diagnosis::{Diagnosis, Lever, LeverKind};
use crate::io::Source;
use crate::model::plans::{Plan, read_ledger, write_ledger};
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::model::time::{Period, PeriodKind};
use crate::render::{self, ChartBar, FileNames, link_target};
use anyhow::{Context, Result, bail};
use minijinja::Value;
use minijinja::value::Serde;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

pub fn run(global: &Global, args: PlanArgs) -> Result<ExitStatus> {
    let playbook = Playbook::load(global.config.as_deref())?;
    if let Some(crate::cli::PlanAction::Import(import)) = args.action {
        return run_import(global, &import, &playbook);
    }
    let Some(out) = args.out.clone() else { bail!("--out DIR is required to write worksheets") };
    // Templates are checked before any data is read.
    render::environment(args.templates.as_deref())?;
    let (mut diagnoses, roster) = match (&args.diagnosis, &args.events) {
        (Some(d), _) => (read_diagnoses(d)?, load_roster(global, &args, &playbook)?),
        (None, Some(_)) => {
            crate::commands::diagnose::load(global, &diagnose_args(&args), &playbook)?
        }
        (None, None) => bail!("give --diagnosis FILE or --events FILE"),
    };
    if let Some(m) = &args.manager {
        diagnoses.retain(|d| d.manager_id.as_ref() == Some(m));
    }
    if let Some(p) = &args.period {
        diagnoses.iter_mut().for_each(|d| d.period = p.clone());
    }
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
        mode: if args.force { WriteMode::Force } else { WriteMode::Keep },
        one_manager: args.manager.is_some(),
    };
    let written = write_worksheets(&job, &diagnoses, &ledger, &out)?;
    finish(global, &args, &mut ledger, written.proposed, &written.report)
}

/// What worksheets to write and how.
pub struct SheetJob<'a> {
    pub playbook: &'a Playbook,
    pub lang: Lang,
    pub roster: Option<&'a Roster>,
    pub level: SheetLevel,
    pub templates: Option<&'a Path>,
    pub mode: WriteMode,
    /// Only one manager's team: no director worksheets.
    pub one_manager: bool,
}

/// The worksheets written and the plans they propose.
pub struct Written {
    pub report: WriteReport,
    pub proposed: Vec<Plan>,
    /// Relative paths (under the output folder) of the rep, manager and director worksheets.
    pub reps: BTreeMap<String, String>,
    pub managers: BTreeMap<String, String>,
    pub directors: BTreeMap<String, String>,
}

/// Writes the worksheets of some diagnoses under `out`.
pub fn write_worksheets(
    job: &SheetJob,
    diagnoses: &[Diagnosis],
    ledger: &[Plan],
    out: &Path,
) -> Result<Written> {
    let env = render::environment(job.templates)?;
    let sheets = Sheets {
        playbook: job.playbook,
        lang: job.lang,
        roster: job.roster,
        out,
        company: Default::default(),
    };
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut written = Written {
        report: WriteReport::default(),
        proposed: Vec::new(),
        reps: BTreeMap::new(),
        managers: BTreeMap::new(),
        directors: BTreeMap::new(),
    };
    let report = &mut written.report;
    let mut names = FileNames::default();
    let mut rep_files = BTreeMap::new();
    for d in diagnoses {
        let stem = names.stem(&d.rep_id);
        rep_files.insert(d.rep_id.clone(), format!("reps/{stem}.md"));
        let Some(plan) = proposed_plan(d, &stem) else { continue };
        if matches!(job.level, SheetLevel::Rep | SheetLevel::All) {
            let (text, svg) = sheets.rep_sheet(&env, d, &plan, ledger, job.templates)?;
            let chart =
                if job.mode == WriteMode::Staged { WriteMode::Staged } else { WriteMode::Force };
            write_sheet(out, &format!("reps/{stem}.svg"), &svg, chart, report)?;
            write_sheet(out, &format!("reps/{stem}.md"), &text, job.mode, report)?;
            written.reps.insert(d.rep_id.clone(), format!("reps/{stem}.md"));
        }
        written.proposed.push(plan);
    }
    if !matches!(job.level, SheetLevel::Manager | SheetLevel::Director | SheetLevel::All) {
        return Ok(written);
    }
    let Some(roster) = job.roster else {
        if job.level != SheetLevel::All {
            bail!("manager and director worksheets need --roster");
        }
        return Ok(written);
    };
    let managers = group_by_manager(diagnoses);
    let mut manager_files = BTreeMap::new();
    for (manager, reps) in &managers {
        let stem = names.stem(manager);
        manager_files.insert(manager.clone(), format!("managers/{stem}.md"));
        if job.level != SheetLevel::Director {
            let text = sheets.manager_sheet(
                &env,
                manager,
                reps,
                diagnoses,
                &rep_files,
                ledger,
                job.templates,
            )?;
            write_sheet(out, &format!("managers/{stem}.md"), &text, job.mode, report)?;
            written.managers.insert(manager.clone(), format!("managers/{stem}.md"));
        }
    }
    if job.level != SheetLevel::Manager && !job.one_manager {
        for (director, mans) in group_by_director(&managers, roster) {
            let stem = names.stem(&director);
            let text = sheets.director_sheet(
                &env,
                &director,
                &mans,
                &managers,
                diagnoses,
                &manager_files,
                ledger,
                job.templates,
            )?;
            write_sheet(out, &format!("directors/{stem}.md"), &text, job.mode, report)?;
            written.directors.insert(director.clone(), format!("directors/{stem}.md"));
        }
    }
    Ok(written)
}

/// Adds proposed plans to a ledger; plans agreed or reviewed since are the meeting's record and
/// are never overwritten. Returns how many were new.
pub fn merge_proposed(ledger: &mut Vec<Plan>, proposed: Vec<Plan>) -> usize {
    let mut added = 0;
    for p in proposed {
        match ledger.iter_mut().find(|l| l.plan_id == p.plan_id) {
            Some(existing) if existing.status != "proposed" => {}
            Some(existing) => *existing = p,
            None => {
                ledger.push(p);
                added += 1;
            }
        }
    }
    added
}

fn finish(
    global: &Global,
    args: &PlanArgs,
    ledger: &mut Vec<Plan>,
    proposed: Vec<Plan>,
    report: &WriteReport,
) -> Result<ExitStatus> {
    let mut added = 0;
    if let Some(path) = &args.ledger {
        added = merge_proposed(ledger, proposed);
        write_ledger(path, ledger, None)?;
    }
    if !global.quiet {
        eprintln!(
            "plan: {} worksheets written, {} unchanged, {} kept because they were edited (--force overwrites){}",
            report.written,
            report.unchanged,
            report.kept.len(),
            args.ledger
                .as_ref()
                .map_or(String::new(), |l| format!("; {added} plans added to {}", l.display()))
        );
        for k in &report.kept {
            eprintln!("  kept {k}");
        }
    }
    Ok(ExitStatus::Success)
}

fn diagnose_args(args: &PlanArgs) -> DiagnoseArgs {
    DiagnoseArgs {
        events: args.events.clone(),
        activities: args.activities.clone(),
        roster: args.roster.clone(),
        funnel: None,
        period: args.period.clone(),
        lookback: args.lookback,
        manager: args.manager.clone(),
        as_of: None,
    }
}

fn load_roster(global: &Global, args: &PlanArgs, playbook: &Playbook) -> Result<Option<Roster>> {
    args.roster
        .as_deref()
        .map(|r| Roster::load(&Source::parse(r), global.input_format, playbook).map(|x| x.0))
        .transpose()
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

fn next_month(period: &str) -> String {
    Period::parse(PeriodKind::Month, period).map(|p| p.next().label()).unwrap_or_default()
}

fn prev_month(period: &str) -> String {
    Period::parse(PeriodKind::Month, period).map(|p| p.prev().label()).unwrap_or_default()
}

/// The plan a diagnosis proposes: the focus (or suggestion), its baseline, and a target halfway
/// to the benchmark, reviewed next month.
fn proposed_plan(d: &Diagnosis, stem: &str) -> Option<Plan> {
    let lever = d.lever()?;
    let target = match (lever.value, lever.benchmark) {
        (Some(v), Some(b)) if b > v => Some(v + (b - v) / 2.0),
        (Some(v), _) => Some(v),
        _ => None,
    };
    Some(Plan {
        plan_id: Plan::id_for(&d.period, &d.rep_id),
        period: d.period.clone(),
        rep_id: d.rep_id.clone(),
        rep_name: Some(d.rep_name.clone()),
        manager_id: d.manager_id.clone(),
        focus: lever.id.clone(),
        baseline_rate: lever.raw,
        baseline_n: Some(lever.n),
        benchmark: lever.benchmark,
        target_rate: target.map(|t| (t * 10_000.0).round() / 10_000.0),
        review_period: next_month(&d.period),
        status: "proposed".into(),
        window_from: Some(d.window_from.clone()),
        worksheet: Some(format!("reps/{stem}.md")),
        ..Plan::default()
    })
}

/// How a worksheet is written: over an existing file (kept when edited), or into a fresh
/// staging folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Keep,
    Force,
    Staged,
}

const STAGED: WriteMode = WriteMode::Staged;

#[derive(Default)]
pub struct WriteReport {
    pub written: usize,
    pub unchanged: usize,
    pub kept: Vec<String>,
}

/// Writes a file under `out` atomically, unless it was edited since it was written (its front
/// matter checksum no longer matches its body) and `force` is off.
fn write_sheet(
    out: &Path,
    rel: &str,
    text: &str,
    mode: WriteMode,
    report: &mut WriteReport,
) -> Result<()> {
    let path = out.join(rel);
    let dir = path.parent().expect("worksheets live in a folder");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if mode == STAGED {
        // A fresh staging folder is renamed into place as a whole: no need to stage each file.
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        report.written += 1;
        return Ok(());
    }
    let (root, canonical_dir) = (std::fs::canonicalize(out)?, std::fs::canonicalize(dir)?);
    if !canonical_dir.starts_with(&root) {
        bail!("refusing to write {} outside {}", path.display(), out.display());
    }
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if existing == text {
            report.unchanged += 1;
            return Ok(());
        }
        if mode == WriteMode::Keep && edited(&existing) {
            report.kept.push(path.display().to_string());
            return Ok(());
        }
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(".salescoach-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    std::io::Write::write_all(&mut tmp, text.as_bytes())?;
    tmp.persist(&path).with_context(|| format!("writing {}", path.display()))?;
    report.written += 1;
    Ok(())
}

/// True when a worksheet's body no longer matches the checksum in its front matter.
fn edited(text: &str) -> bool {
    match render::parse_front_matter(text) {
        Some((fields, body)) => {
            let sum = fields.iter().find(|(k, _)| k == "checksum").map(|(_, v)| v.as_str());
            sum.is_some_and(|s| s != render::checksum(body))
        }
        None => false,
    }
}

fn group_by_manager(diagnoses: &[Diagnosis]) -> BTreeMap<String, Vec<&Diagnosis>> {
    let mut out: BTreeMap<String, Vec<&Diagnosis>> = BTreeMap::new();
    for d in diagnoses {
        if let Some(m) = &d.manager_id {
            out.entry(m.clone()).or_default().push(d);
        }
    }
    out
}

fn group_by_director(
    managers: &BTreeMap<String, Vec<&Diagnosis>>,
    roster: &Roster,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in managers.keys() {
        if let Some(parent) = roster.index.get(m).and_then(|&i| roster.parent[i]) {
            out.entry(roster.people[parent].person_id.clone()).or_default().push(m.clone());
        }
    }
    out
}

struct Sheets<'a> {
    playbook: &'a Playbook,
    lang: Lang,
    roster: Option<&'a Roster>,
    out: &'a Path,
    /// The company's (converted, entered) per transition, once computed.
    company: std::cell::RefCell<Vec<(u64, u64)>>,
}

#[derive(Serialize)]
struct FunnelLine {
    label: String,
    rate: String,
    bar: String,
    benchmark: String,
    gap: String,
    confidence: String,
    n: u64,
}

#[derive(Serialize)]
struct TeamLine {
    label: String,
    team: String,
    bar: String,
    company: String,
    n: u64,
}

fn bar(v: Option<f64>) -> String {
    let filled = (v.unwrap_or(0.0).clamp(0.0, 1.0) * 10.0).round() as usize;
    format!("{}{}", "█".repeat(filled), "░".repeat(10 - filled))
}

fn pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{:.0}%", v * 100.0))
}

impl Sheets<'_> {
    fn name_of(&self, id: &str) -> String {
        self.roster
            .and_then(|r| r.index.get(id).map(|&i| r.people[i].name.clone()))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| id.to_string())
    }

    fn stage(&self, s: &str) -> String {
        let lang = self.lang.code();
        self.playbook
            .display
            .get(lang)
            .and_then(|d| d.get(s))
            .cloned()
            .unwrap_or_else(|| s.to_string())
    }

    fn lever_label(&self, id: &str) -> String {
        let ja = self.lang == Lang::Ja;
        if let Some((a, b)) = id.split_once("->") {
            format!("{} → {}", self.stage(a), self.stage(b))
        } else if let Some(s) = id.strip_prefix("volume:activity:") {
            if ja {
                format!("{}あたりの活動数", self.stage(s))
            } else {
                format!("activities per {}", self.stage(s).to_lowercase())
            }
        } else if let Some(s) = id.strip_prefix("volume:") {
            if ja {
                format!("月間の新規{}数", self.stage(s))
            } else {
                format!("new {}s a month", self.stage(s).to_lowercase())
            }
        } else {
            id.to_string()
        }
    }

    fn value(&self, lever: &Lever, v: Option<f64>) -> String {
        match (lever.kind, v) {
            (LeverKind::Transition(_), v) => pct(v),
            (_, Some(v)) => format!("{v:.1}"),
            (_, None) => "—".into(),
        }
    }

    fn confidence_words(&self, c: Option<f64>) -> String {
        let c = c.unwrap_or(0.0);
        let (en, ja) = match c {
            c if c >= 0.95 => ("very likely below peers", "同僚を下回っている可能性が非常に高い"),
            c if c >= 0.8 => ("likely below peers", "同僚を下回っている可能性が高い"),
            c if c >= 0.6 => ("possibly below peers", "同僚を下回っている可能性がある"),
            _ => ("not clearly below peers", "同僚を下回っているとは言い切れない"),
        };
        format!("{} ({:.0}%)", if self.lang == Lang::Ja { ja } else { en }, c * 100.0)
    }

    fn why(&self, d: &Diagnosis, lever: &Lever) -> String {
        if self.lang == Lang::En {
            return d.why.clone();
        }
        let label = self.lever_label(&lever.id);
        let core = format!(
            "{label} は {}、同僚は {}（下回っている確度 {:.0}%）",
            self.value(lever, lever.value),
            self.value(lever, lever.benchmark),
            lever.confidence.unwrap_or(0.0) * 100.0
        );
        if d.focus.is_some() {
            format!("{core}。同僚の水準に届けば月 +{:.1} 件の受注に相当します。", lever.impact_won)
        } else {
            format!(
                "明確な課題はまだありません。最も差が大きいのは {core} です（月 +{:.1} 件相当）。",
                lever.impact_won
            )
        }
    }

    fn outcome_text(&self, p: &Plan) -> String {
        let ja = self.lang == Lang::Ja;
        match p.verdict.as_deref() {
            Some(v) => format!(
                "{} ({} → {}{})",
                match (v, ja) {
                    ("improved", false) => "improved",
                    ("improved", true) => "改善",
                    ("not_improved", false) => "not improved",
                    ("not_improved", true) => "改善せず",
                    (_, false) => "inconclusive",
                    (_, true) => "判定不能",
                },
                pct(p.baseline_rate),
                pct(p.after_rate),
                match (p.target_reached, ja) {
                    (Some(true), false) => ", target reached",
                    (Some(true), true) => "、目標達成",
                    _ => "",
                }
            ),
            None if ja => "未評価".into(),
            None => "not reviewed yet".into(),
        }
    }

    fn rep_sheet(
        &self,
        env: &minijinja::Environment,
        d: &Diagnosis,
        plan: &Plan,
        ledger: &[Plan],
        dir: Option<&Path>,
    ) -> Result<(String, String)> {
        let lever = d.lever().expect("a plan has a lever");
        let transitions: Vec<&Lever> =
            d.levers.iter().filter(|l| matches!(l.kind, LeverKind::Transition(_))).collect();
        let funnel: Vec<FunnelLine> = transitions
            .iter()
            .map(|l| FunnelLine {
                label: self.lever_label(&l.id),
                rate: pct(l.value),
                bar: bar(l.value),
                benchmark: pct(l.benchmark),
                gap: match (l.value, l.benchmark) {
                    (Some(v), Some(b)) => match ((v - b) * 100.0).round() {
                        0.0 => "0 pt".into(),
                        g => format!("{g:+.0} pt"),
                    },
                    _ => "—".into(),
                },
                confidence: l.confidence.map_or("—".into(), |c| format!("{:.0}%", c * 100.0)),
                n: l.n,
            })
            .collect();
        let bars: Vec<ChartBar> = transitions
            .iter()
            .map(|l| ChartBar {
                label: self.lever_label(&l.id),
                rate: l.value,
                benchmark: l.benchmark,
                focus: l.id == lever.id,
            })
            .collect();
        let rep_name = if d.rep_name.is_empty() { d.rep_id.clone() } else { d.rep_name.clone() };
        let svg = render::funnel_svg(&rep_name, &bars);
        let stem = Path::new(plan.worksheet.as_deref().unwrap_or("x.md"))
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let is_rate = matches!(lever.kind, LeverKind::Transition(_));
        let first_data = d.trend.iter().position(|t| t.n > 0).unwrap_or(d.trend.len());
        let trend: Vec<Value> = d.trend[first_data..]
            .iter()
            .map(|t| {
                obj([
                    ("period", Value::from(t.period.clone())),
                    ("value", Value::from(self.value(lever, t.value))),
                    ("bar", Value::from(if is_rate { bar(t.value) } else { String::new() })),
                    ("n", Value::from(t.n)),
                    ("mature", Value::from(t.mature)),
                ])
            })
            .collect();
        let hyps =
            |status: &str| d.hypotheses.iter().filter(|h| h.status == status).collect::<Vec<_>>();
        let supported: Vec<Value> = hyps("supported")
            .iter()
            .map(|h| {
                obj([
                    ("title", Value::from(h.title.clone())),
                    ("evidence", Value::from(h.evidence.clone().unwrap_or_default())),
                    ("checks", Value::from(h.checks.clone())),
                ])
            })
            .collect();
        let not_checkable: Vec<Value> = hyps("not_checkable")
            .iter()
            .map(|h| {
                obj([
                    ("title", Value::from(h.title.clone())),
                    ("needs", Value::from(h.needs_columns.join(", "))),
                ])
            })
            .collect();
        let mut questions: Vec<String> = Vec::new();
        for h in hyps("supported").iter().chain(hyps("not_supported").iter()) {
            for q in &h.questions {
                if !questions.contains(q) {
                    questions.push(q.clone());
                }
            }
        }
        questions.truncate(6);
        let previous = ledger
            .iter()
            .find(|p| p.rep_id == d.rep_id && p.period == prev_month(&d.period))
            .map(|p| {
                obj([
                    ("period", Value::from(p.period.clone())),
                    ("focus", Value::from(self.lever_label(p.lever()))),
                    ("baseline", Value::from(pct(p.baseline_rate))),
                    ("outcome", Value::from(self.outcome_text(p))),
                ])
            });
        let money = lever.impact_amount.map(|a| group_thousands(a.round() as i64));
        let ctx = minijinja::context! {
            rep => obj([
                ("id", Value::from(d.rep_id.clone())),
                ("name", Value::from(rep_name.clone())),
                ("manager_name", Value::from(d.manager_id.as_deref().map(|m| self.name_of(m)).unwrap_or_else(|| "—".into()))),
            ]),
            period => d.period.clone(),
            window_from => d.window_from.clone(),
            window_to => d.window_to.clone(),
            focus => obj([
                ("label", Value::from(self.lever_label(&lever.id))),
                ("stands_out", Value::from(d.focus.is_some())),
                ("impact_won", Value::from(format!("{:+.1}", lever.impact_won))),
                ("impact_amount", Value::from(money)),
                ("confidence_words", Value::from(self.confidence_words(lever.confidence))),
            ]),
            why => self.why(d, lever),
            funnel => Value::from(Serde(&funnel)),
            svg_file => Value::from_safe_string(link_target(&format!("{stem}.svg"))),
            trend => trend,
            hypotheses => supported,
            not_checkable => not_checkable,
            questions => questions,
            target => obj([
                ("suggested", Value::from(self.value(lever, plan.target_rate))),
                ("baseline", Value::from(self.value(lever, lever.raw))),
                ("review_period", Value::from(plan.review_period.clone())),
            ]),
            previous => previous,
        };
        let body = render::render(env, self.lang.code(), "rep.md.j2", ctx, dir)?;
        let fm = render::front_matter(&[
            ("plan_id", plan.plan_id.clone().into()),
            ("period", plan.period.clone().into()),
            ("rep_id", plan.rep_id.clone().into()),
            ("manager_id", plan.manager_id.clone().unwrap_or_default().into()),
            ("focus", plan.focus.clone().into()),
            ("baseline_rate", json_num(plan.baseline_rate)),
            ("baseline_n", plan.baseline_n.unwrap_or(0).into()),
            ("target_rate", json_num(plan.target_rate)),
            ("review_period", plan.review_period.clone().into()),
            ("status", "proposed".into()),
            ("checksum", render::checksum(&body).into()),
        ]);
        Ok((format!("{fm}{body}"), svg))
    }

    fn team_lines(&self, team: &[&Diagnosis], all: &[Diagnosis]) -> Vec<TeamLine> {
        let sum = |ds: &mut dyn Iterator<Item = &Diagnosis>, id: &str| {
            ds.flat_map(|d| d.levers.iter().filter(|l| l.id == id))
                .fold((0u64, 0u64), |a, l| (a.0 + l.k, a.1 + l.n))
        };
        // The company's sums are the same for every team: computed once.
        let company: Vec<(u64, u64)> = {
            let mut cache = self.company.borrow_mut();
            if cache.is_empty() {
                *cache =
                    self.playbook.transitions().iter().map(|id| sum(&mut all.iter(), id)).collect();
            }
            cache.clone()
        };
        self.playbook
            .transitions()
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let (tk, tn) = sum(&mut team.iter().copied(), id);
                let (ck, cn) = company[i];
                let team_rate = (tn > 0).then(|| tk as f64 / tn as f64);
                TeamLine {
                    label: self.lever_label(id),
                    team: pct(team_rate),
                    bar: bar(team_rate),
                    company: pct((cn > 0).then(|| ck as f64 / cn as f64)),
                    n: tn,
                }
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn manager_sheet(
        &self,
        env: &minijinja::Environment,
        manager: &str,
        reps: &[&Diagnosis],
        all: &[Diagnosis],
        files: &BTreeMap<String, String>,
        ledger: &[Plan],
        dir: Option<&Path>,
    ) -> Result<String> {
        let parent = self.roster.and_then(|r| {
            r.index.get(manager).and_then(|&i| r.parent[i]).map(|p| r.people[p].person_id.clone())
        });
        let rows: Vec<Value> = reps
            .iter()
            .map(|d| {
                let focus = d.lever().map_or("—".into(), |l| {
                    let label = self.lever_label(&l.id);
                    if d.focus.is_some() { label } else { format!("({label}?)") }
                });
                let why = d.lever().map_or_else(|| d.why.clone(), |l| self.why(d, l));
                obj([
                    ("id", Value::from(d.rep_id.clone())),
                    (
                        "name",
                        Value::from(if d.rep_name.is_empty() {
                            d.rep_id.clone()
                        } else {
                            d.rep_name.clone()
                        }),
                    ),
                    ("focus", Value::from(focus)),
                    ("why", Value::from(why)),
                    (
                        "file",
                        Value::from_safe_string(link_target(&format!("../{}", files[&d.rep_id]))),
                    ),
                ])
            })
            .collect();
        let period = reps.first().map(|d| d.period.clone()).unwrap_or_default();
        let previous: Vec<Value> = ledger
            .iter()
            .filter(|p| p.manager_id.as_deref() == Some(manager) && p.period == prev_month(&period))
            .map(|p| {
                obj([
                    ("rep", Value::from(p.rep_name.clone().unwrap_or_else(|| p.rep_id.clone()))),
                    ("focus", Value::from(self.lever_label(p.lever()))),
                    ("outcome", Value::from(self.outcome_text(p))),
                ])
            })
            .collect();
        let ctx = minijinja::context! {
            manager => obj([
                ("id", Value::from(manager.to_string())),
                ("name", Value::from(self.name_of(manager))),
                ("parent_name", Value::from(parent.map(|p| self.name_of(&p)).unwrap_or_else(|| "—".into()))),
            ]),
            period => period.clone(),
            window_from => reps.first().map(|d| d.window_from.clone()).unwrap_or_default(),
            window_to => reps.first().map(|d| d.window_to.clone()).unwrap_or_default(),
            funnel => Value::from(Serde(&self.team_lines(reps, all))),
            reps => rows,
            previous => previous,
            record => self.record(ledger.iter().filter(|p| p.manager_id.as_deref() == Some(manager) && reviewed_by(p, &period))),
        };
        render::render(env, self.lang.code(), "manager.md.j2", ctx, dir)
    }

    fn record<'p>(&self, plans: impl Iterator<Item = &'p Plan>) -> String {
        let reviewed: Vec<&Plan> = plans.filter(|p| p.verdict.is_some()).collect();
        let improved = reviewed.iter().filter(|p| p.verdict.as_deref() == Some("improved")).count();
        match (reviewed.len(), self.lang) {
            (0, Lang::En) => "No reviewed plans yet.".into(),
            (0, Lang::Ja) => "振り返り済みのプランはまだありません。".into(),
            (n, Lang::En) => format!(
                "{improved} of {n} reviewed plans improved their indicator ({:.0}%).",
                improved as f64 * 100.0 / n as f64
            ),
            (n, Lang::Ja) => format!(
                "振り返り済み {n} 件中 {improved} 件で指標が改善（{:.0}%）。",
                improved as f64 * 100.0 / n as f64
            ),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn director_sheet(
        &self,
        env: &minijinja::Environment,
        director: &str,
        managers: &[String],
        teams: &BTreeMap<String, Vec<&Diagnosis>>,
        all: &[Diagnosis],
        files: &BTreeMap<String, String>,
        ledger: &[Plan],
        dir: Option<&Path>,
    ) -> Result<String> {
        let period = all.first().map(|d| d.period.clone()).unwrap_or_default();
        let mut division: Vec<&Diagnosis> = Vec::new();
        let rows: Vec<Value> = managers
            .iter()
            .map(|m| {
                let reps = &teams[m];
                division.extend(reps.iter().copied());
                let ids: BTreeSet<&str> = reps.iter().map(|d| d.rep_id.as_str()).collect();
                let agreed = ledger
                    .iter()
                    .filter(|p| {
                        p.period == period
                            && ids.contains(p.rep_id.as_str())
                            && p.status != "proposed"
                    })
                    .count();
                let plans = reps.iter().filter(|d| d.lever().is_some()).count();
                let reviewed: Vec<&Plan> = ledger
                    .iter()
                    .filter(|p| {
                        p.manager_id.as_deref() == Some(m)
                            && p.verdict.is_some()
                            && reviewed_by(p, &period)
                    })
                    .collect();
                let improved =
                    reviewed.iter().filter(|p| p.verdict.as_deref() == Some("improved")).count();
                obj([
                    ("name", Value::from(self.name_of(m))),
                    ("file", Value::from_safe_string(link_target(&format!("../{}", files[m])))),
                    ("reps", Value::from(reps.len())),
                    ("plans", Value::from(plans)),
                    ("coverage", Value::from(pct(Some(agreed as f64 / reps.len().max(1) as f64)))),
                    ("reviewed", Value::from(reviewed.len())),
                    (
                        "improved",
                        Value::from(if reviewed.is_empty() {
                            "—".into()
                        } else {
                            pct(Some(improved as f64 / reviewed.len() as f64))
                        }),
                    ),
                ])
            })
            .collect();
        let ctx = minijinja::context! {
            director => obj([("id", Value::from(director.to_string())), ("name", Value::from(self.name_of(director)))]),
            period => period,
            window_from => all.first().map(|d| d.window_from.clone()).unwrap_or_default(),
            window_to => all.first().map(|d| d.window_to.clone()).unwrap_or_default(),
            managers => rows,
            funnel => Value::from(Serde(&self.team_lines(&division, all))),
        };
        let _ = self.out;
        render::render(env, self.lang.code(), "director.md.j2", ctx, dir)
    }
}

/// A template object from named values.
fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::from(
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<BTreeMap<String, Value>>(),
    )
}

/// Whether a plan's outcome was known by a period: a worksheet never shows a review from its future.
fn reviewed_by(p: &Plan, period: &str) -> bool {
    p.reviewed_in.as_deref().is_some_and(|r| r <= period)
}

fn json_num(v: Option<f64>) -> serde_json::Value {
    v.and_then(|x| serde_json::Number::from_f64((x * 10_000.0).round() / 10_000.0))
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}

fn group_thousands(v: i64) -> String {
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

/// What `plan import` read from one worksheet.
#[derive(Debug, Default, PartialEq)]
pub struct Agreed {
    pub plan_id: String,
    pub focus: Option<String>,
    pub target: Option<f64>,
    pub review_period: Option<String>,
    pub actions: Vec<String>,
    pub front: BTreeMap<String, String>,
}

const FOCUS_LABELS: [&str; 2] = ["- Agreed focus:", "- 合意したフォーカス:"];
const TARGET_LABELS: [&str; 2] = ["- Target value:", "- 目標値:"];
const REVIEW_LABELS: [&str; 2] = ["- Review month:", "- 振り返り月:"];
const ACTION_HEADINGS: [&str; 2] = ["### Your improvement actions", "### あなた自身の改善策"];

/// A blank (`________`, a pointer to another section) or a filled-in value.
fn filled(v: &str) -> Option<&str> {
    let v = v.split(" (suggested").next().unwrap_or(v).split("（提案").next().unwrap_or(v).trim();
    let core = v.trim_matches(|c: char| c == '_' || c.is_whitespace());
    if core.is_empty() || v.starts_with('(') || v.starts_with('（') { None } else { Some(v) }
}

fn parse_number(v: &str) -> Option<f64> {
    let t = v.trim().trim_end_matches('%').trim();
    let n: f64 = t.parse().ok()?;
    Some(if v.trim().ends_with('%') { n / 100.0 } else { n })
}

/// Reads an edited worksheet: its front matter and the filled-in blanks. Errors name the line.
pub fn parse_worksheet(text: &str) -> Result<Agreed, (usize, String)> {
    let (fields, body) = render::parse_front_matter(text)
        .ok_or((1, "no front matter (--- … ---) with the plan".to_string()))?;
    let front: BTreeMap<String, String> = fields.into_iter().collect();
    let plan_id = front
        .get("plan_id")
        .filter(|p| !p.is_empty())
        .ok_or((2, "the front matter has no plan_id".to_string()))?
        .clone();
    let offset = text[..text.len() - body.len()].lines().count();
    let mut agreed = Agreed { plan_id, front, ..Agreed::default() };
    let mut in_actions = false;
    for (i, line) in body.lines().enumerate() {
        let line_no = offset + i + 1;
        let value_after = |labels: &[&str]| labels.iter().find_map(|l| line.strip_prefix(l));
        if line.starts_with('#') {
            in_actions = ACTION_HEADINGS.iter().any(|h| line.starts_with(h));
            continue;
        }
        if in_actions {
            let item = line
                .trim_start()
                .split_once(". ")
                .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
                .map(|(_, t)| t);
            if let Some(a) = item.and_then(filled) {
                agreed.actions.push(a.to_string());
            }
        } else if let Some(v) = value_after(&FOCUS_LABELS) {
            if agreed.focus.is_none() {
                agreed.focus = filled(v).map(str::to_string);
            }
        } else if let Some(v) = value_after(&TARGET_LABELS) {
            if let Some(v) = filled(v) {
                agreed.target = Some(parse_number(v).ok_or((
                    line_no,
                    format!("the target value {v:?} is not a number (e.g. 45% or 0.45)"),
                ))?);
            }
        } else if let Some(v) = value_after(&REVIEW_LABELS)
            && let Some(v) = filled(v)
        {
            Period::parse(PeriodKind::Month, v)
                .map_err(|_| (line_no, format!("the review month {v:?} is not YYYY-MM")))?;
            agreed.review_period = Some(v.to_string());
        }
    }
    Ok(agreed)
}

fn worksheet_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(dir) = stack.pop() {
                for entry in
                    std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
                {
                    let path = entry?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "md") {
                        out.push(path);
                    }
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    Ok(out)
}

fn run_import(global: &Global, args: &PlanImportArgs, playbook: &Playbook) -> Result<ExitStatus> {
    let mut ledger = read_ledger(&args.ledger, None)?;
    let levers = crate::model::rules::lever_ids(&playbook.stages);
    let mut problems = Vec::new();
    let (mut agreed_count, mut skipped, mut unfilled) = (0, 0, 0);
    for path in worksheet_files(&args.paths)? {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        if !text.starts_with("---\n") {
            skipped += 1; // manager and director worksheets hold no plan
            continue;
        }
        let agreed = match parse_worksheet(&text) {
            Ok(a) => a,
            Err((line, msg)) => {
                problems.push(format!("{}:{line}: {msg}", path.display()));
                continue;
            }
        };
        if let Some(f) = &agreed.focus
            && !levers.contains(f)
        {
            let line = text
                .lines()
                .position(|l| FOCUS_LABELS.iter().any(|p| l.starts_with(p)))
                .map_or(0, |i| i + 1);
            problems.push(format!(
                "{}:{line}: agreed focus {f:?} is not a lever id ({})",
                path.display(),
                levers.join(", ")
            ));
            continue;
        }
        let plan = match ledger.iter_mut().find(|p| p.plan_id == agreed.plan_id) {
            Some(p) => p,
            None => {
                let f = &agreed.front;
                ledger.push(Plan {
                    plan_id: agreed.plan_id.clone(),
                    period: f.get("period").cloned().unwrap_or_default(),
                    rep_id: f.get("rep_id").cloned().unwrap_or_default(),
                    manager_id: f.get("manager_id").cloned().filter(|m| !m.is_empty()),
                    focus: f.get("focus").cloned().unwrap_or_default(),
                    baseline_rate: f.get("baseline_rate").and_then(|v| v.parse().ok()),
                    baseline_n: f.get("baseline_n").and_then(|v| v.parse().ok()),
                    target_rate: f.get("target_rate").and_then(|v| v.parse().ok()),
                    review_period: f.get("review_period").cloned().unwrap_or_default(),
                    status: "proposed".into(),
                    ..Plan::default()
                });
                ledger.last_mut().expect("just pushed")
            }
        };
        if plan.status == "reviewed" {
            continue;
        }
        let front_target = agreed.front.get("target_rate").and_then(|v| v.parse::<f64>().ok());
        let front_focus =
            agreed.front.get("focus").filter(|f| **f != plan.focus && levers.contains(f)).cloned();
        let front_target = front_target.filter(|t| Some(*t) != plan.target_rate);
        let said_agreed = agreed.front.get("status").is_some_and(|s| s == "agreed");
        let filled_in =
            agreed.focus.is_some() || agreed.target.is_some() || !agreed.actions.is_empty();
        if !(filled_in || said_agreed || front_focus.is_some() || front_target.is_some()) {
            unfilled += 1;
            continue;
        }
        plan.agreed_focus = agreed.focus.clone().or(front_focus).or(plan.agreed_focus.take());
        plan.agreed_target_rate = agreed.target.or(front_target).or(plan.agreed_target_rate);
        // The body's blank wins over the front matter; both are as the meeting left them.
        if let Some(r) =
            agreed.review_period.clone().or_else(|| agreed.front.get("review_period").cloned())
        {
            plan.review_period = r;
        }
        if !agreed.actions.is_empty() {
            plan.actions = Some(agreed.actions.join("\n"));
        }
        plan.worksheet = Some(path.display().to_string());
        plan.status = "agreed".into();
        agreed_count += 1;
    }
    write_ledger(&args.ledger, &mut ledger, None)?;
    if !global.quiet {
        eprintln!(
            "plan import: {agreed_count} plans agreed, {unfilled} worksheets not filled in, {skipped} files without a plan, {} unreadable; ledger {}",
            problems.len(),
            args.ledger.display()
        );
    }
    for p in &problems {
        eprintln!("  {p}");
    }
    Ok(if problems.is_empty() { ExitStatus::Success } else { ExitStatus::DataFailed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanks_and_numbers() {
        assert_eq!(filled("________"), None);
        assert_eq!(filled("________ (suggested: 45%, from 30%)"), None);
        assert_eq!(filled("(see section 1)"), None);
        assert_eq!(filled("45% (suggested: 40%, from 30%)"), Some("45%"));
        assert_eq!(parse_number("45%"), Some(0.45));
        assert_eq!(parse_number("0.4"), Some(0.4));
        assert_eq!(group_thousands(1234567), "1,234,567");
    }
}
