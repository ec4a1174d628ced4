//! Worksheets: the rep, manager and director sheets written from the diagnoses, and the plans
//! they propose to the ledger.

mod coaching_view;
mod import;
mod outcome;
mod outcomes;
mod rep_view;
mod team_view;
mod view;

use crate::diagnosis::Diagnosis;
use crate::model::level::OrgLevel;
use crate::model::plans::Plan;
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::model::time::{month_after, month_before};
use crate::model::values::{Lang, PlanStatus, SheetLevel};
use crate::render::{self, FileNames};
use anyhow::{Context, Result, bail};
pub use import::{ImportSummary, import_worksheets, parse_worksheet};
pub use outcome::{leading_text, verdict_words};
use std::collections::BTreeMap;
use std::path::Path;
use view::{CoachingSheet, Sheets};
pub use view::{lever_label, no_focus_why, shared_benchmark, stage_label, why_text};

/// What worksheets to write and how.
pub struct SheetJob<'a> {
    pub playbook: &'a Playbook,
    pub lang: Lang,
    pub roster: Option<&'a Roster>,
    pub level: SheetLevel,
    pub templates: Option<&'a Path>,
    /// Only one manager's team: no director worksheets.
    pub one_manager: bool,
    /// The funnel rows of every level, for the board's business outcome (empty: none shown).
    pub funnel: &'a [crate::metrics::funnel::FunnelRow],
}

/// The worksheets written and the plans they propose.
pub struct Written {
    pub proposed: Vec<Plan>,
    /// Relative paths (under the output folder) of the rep, manager and director worksheets.
    pub reps: BTreeMap<String, String>,
    pub managers: BTreeMap<String, String>,
    pub directors: BTreeMap<String, String>,
    /// The board's page comparing directors, when written.
    pub board: Option<String>,
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
        funnel: job.funnel,
        out,
    };
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut written = Written {
        proposed: Vec::new(),
        reps: BTreeMap::new(),
        managers: BTreeMap::new(),
        directors: BTreeMap::new(),
        board: None,
    };
    let mut names = FileNames::default();
    let mut rep_files = BTreeMap::new();
    for d in diagnoses {
        let stem = names.stem(&d.rep_id);
        // Every rep gets a sheet. One with no gap gets it around their nearest stretch (what to
        // keep doing, where to grow next), and no plan goes to the ledger. One whose gaps are
        // all under the playbook's floor has no data-driven focus, but still a plan to agree
        // (on the step to build on, or their own choice), so it goes to the ledger.
        let stretch;
        let (sheet_d, plan, is_plan) = match proposed_plan(d, &stem) {
            Some(plan) => (d, plan, true),
            None => {
                stretch = with_stretch(d);
                match proposed_plan(&stretch, &stem) {
                    Some(plan) => (&stretch, plan, gaps_under_the_floor(d)),
                    None => continue,
                }
            }
        };
        rep_files.insert(d.rep_id.clone(), format!("reps/{stem}.md"));
        if matches!(job.level, SheetLevel::Rep | SheetLevel::All) {
            let (text, svg) = sheets.rep_sheet(
                &env,
                (sheet_d, d.lever().is_none()),
                &plan,
                ledger,
                job.templates,
            )?;
            write_sheet(out, &format!("reps/{stem}.svg"), &svg)?;
            write_sheet(out, &format!("reps/{stem}.md"), &text)?;
            written.reps.insert(d.rep_id.clone(), format!("reps/{stem}.md"));
        }
        if is_plan {
            written.proposed.push(plan);
        }
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
    let period = diagnoses.first().map(|d| d.period.clone()).unwrap_or_default();
    let gate = job.playbook.diagnosis.confidence;
    let reps_of = |pred: &dyn Fn(&Plan) -> bool| -> Vec<&Plan> {
        ledger.iter().filter(|p| !p.is_coaching() && pred(p)).collect()
    };
    let last = month_before(&period);
    let manager_people: Vec<(String, Vec<&Plan>)> = managers
        .keys()
        .map(|m| (m.clone(), reps_of(&|p| p.period == last && p.manager_id.as_deref() == Some(m))))
        .collect();
    let manager_coach =
        crate::diagnosis::coaching::diagnose(&manager_people, OrgLevel::Manager, gate);
    let parent_of = |id: &str| {
        roster
            .index
            .get(id)
            .and_then(|&i| roster.parent[i])
            .map(|p| roster.people[p].person_id.clone())
    };
    let mut manager_files = BTreeMap::new();
    for ((manager, reps), coach) in managers.iter().zip(&manager_coach) {
        let stem = names.stem(manager);
        let file = format!("managers/{stem}.md");
        manager_files.insert(manager.clone(), file.clone());
        if job.level != SheetLevel::Director {
            let plan = sheets.coaching_plan(coach, &period, parent_of(manager), &file);
            let sheet = CoachingSheet {
                diag: coach,
                peers: managers.len(),
                plan: plan.as_ref(),
                plans: reps_of(&|p| p.manager_id.as_deref() == Some(manager)),
            };
            let body = sheets.manager_sheet(
                &env,
                manager,
                reps,
                &rep_files,
                ledger,
                &sheet,
                job.templates,
            )?;
            let text =
                render::seal(&format!("{}{body}", Sheets::coaching_front_matter(plan.as_ref())));
            write_sheet(out, &file, &text)?;
            written.managers.insert(manager.clone(), file);
            written.proposed.extend(plan);
        }
    }
    if job.level != SheetLevel::Manager && !job.one_manager {
        let directors = group_by_director(&managers, roster);
        let director_people: Vec<(String, Vec<&Plan>)> = directors
            .iter()
            .map(|(d, mans)| {
                let plans = reps_of(&|p| {
                    p.period == last && p.manager_id.as_ref().is_some_and(|m| mans.contains(m))
                });
                (d.clone(), plans)
            })
            .collect();
        let director_coach =
            crate::diagnosis::coaching::diagnose(&director_people, OrgLevel::Director, gate);
        let mut director_files = BTreeMap::new();
        for ((director, mans), coach) in directors.iter().zip(&director_coach) {
            let stem = names.stem(director);
            let file = format!("directors/{stem}.md");
            let plan = sheets.coaching_plan(coach, &period, parent_of(director), &file);
            let sheet = CoachingSheet {
                diag: coach,
                peers: directors.len(),
                plan: plan.as_ref(),
                plans: reps_of(&|p| p.manager_id.as_ref().is_some_and(|m| mans.contains(m))),
            };
            let body = sheets.director_sheet(
                &env,
                director,
                mans,
                &managers,
                diagnoses,
                &manager_files,
                ledger,
                &sheet,
                job.templates,
            )?;
            let text =
                render::seal(&format!("{}{body}", Sheets::coaching_front_matter(plan.as_ref())));
            write_sheet(out, &file, &text)?;
            written.directors.insert(director.clone(), file.clone());
            director_files.insert(director.clone(), file);
            written.proposed.extend(plan);
        }
        if job.level == SheetLevel::All && !directors.is_empty() {
            let board = sheets.board_sheet(
                &env,
                &directors,
                &director_coach,
                &managers,
                diagnoses,
                &director_files,
                ledger,
                job.templates,
            )?;
            write_sheet(out, "board.md", &board)?;
            written.board = Some("board.md".to_string());
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
            Some(existing) if existing.status != PlanStatus::Proposed => {}
            Some(existing) => *existing = p,
            None => {
                ledger.push(p);
                added += 1;
            }
        }
    }
    added
}

/// The plan a diagnosis proposes: the focus (or suggestion), its baseline, and a target halfway
/// to the benchmark, reviewed next month.
/// Whether a rep has gaps, all worth less than the playbook's floor: none was offered.
fn gaps_under_the_floor(d: &Diagnosis) -> bool {
    d.lever().is_none() && d.levers.iter().any(|l| l.impact_won > 0.0)
}

/// A diagnosis with no lever to work on, given its nearest stretch as the suggestion: the step
/// closest to its typical level (or below it by the least), else lead volume.
fn with_stretch(d: &Diagnosis) -> Diagnosis {
    Diagnosis { suggestion: crate::diagnosis::stretch_lever(d), ..d.clone() }
}

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
        // The value the diagnosis used and the sheet's "why" shows, not the raw count.
        baseline_rate: lever.value,
        baseline_n: Some(lever.n),
        benchmark: lever.benchmark,
        target_rate: target.map(|t| (t * 10_000.0).round() / 10_000.0),
        review_period: month_after(&d.period),
        // A low-confidence candidate is written as a suggestion: it becomes a plan only if the
        // manager agrees it in the meeting (plan import).
        status: if d.focus.is_some() { PlanStatus::Proposed } else { PlanStatus::Suggested },
        window_from: Some(d.window_from.clone()),
        worksheet: Some(format!("reps/{stem}.md")),
        hypothesis: d.supported_hypotheses().first().map(|h| h.to_string()),
        ..Plan::new(lever.id.clone())
    })
}

/// Writes a file under `out`, a fresh staging folder that is put in place as a whole
/// (`app::out_folder`), which keeps sheets edited since the earlier run.
fn write_sheet(out: &Path, rel: &str, text: &str) -> Result<()> {
    let path = out.join(rel);
    let dir = path.parent().expect("worksheets live in a folder");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// True when a worksheet is not as the tool wrote it: edited anywhere (front matter included,
/// whatever the editor did to line ends or a BOM), its checksum removed, or its front matter
/// broken. Such a sheet is kept, never overwritten.
pub fn edited(text: &str) -> bool {
    render::unchanged_since_sealed(text) == Some(false)
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
