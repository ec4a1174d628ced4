//! Reading edited worksheets back: what the meeting agreed, into the ledger.

use crate::io::ledger::{read_ledger, write_ledger};
use crate::model::level::OrgLevel;
use crate::model::lever::LeverId;
use crate::model::plans::Plan;
use crate::model::playbook::Playbook;
use crate::model::time::{Period, PeriodKind};
use crate::model::values::{Lang, PlanStatus};
use crate::render::{self};
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `plan import` read from one worksheet.
#[derive(Debug, Default, PartialEq)]
pub struct Agreed {
    pub plan_id: String,
    pub focus: Option<String>,
    pub target: Option<TargetText>,
    pub review_period: Option<String>,
    pub actions: Vec<String>,
    pub front: BTreeMap<String, String>,
}

/// A target value as the meeting wrote it: the number, whether it had a %, and its line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetText {
    pub number: f64,
    pub percent: bool,
    pub line: usize,
}

impl TargetText {
    /// The target in the lever's unit: a rate as a share (45%, 45 or 0.45 are all 45%), a
    /// volume as a count. A percentage for a volume, or a rate outside 0–100%, is refused.
    pub fn value_for(&self, lever: &LeverId) -> Result<f64, String> {
        let n = self.number;
        if n < 0.0 {
            return Err(format!("the target value {n} is negative"));
        }
        if lever.is_volume() {
            if self.percent {
                return Err(format!(
                    "the target value {n}% is a percentage, but the focus {lever} is a count (write e.g. {n})"
                ));
            }
            return Ok(n);
        }
        let share = if self.percent || n > 1.0 { n / 100.0 } else { n };
        if share > 1.0 {
            return Err(format!(
                "the target value {n}{} is above 100%",
                if self.percent { "%" } else { "" }
            ));
        }
        Ok(share)
    }
}

const FOCUS_LABELS: [&str; 2] = ["- Agreed focus:", "- 合意したフォーカス:"];
const TARGET_LABELS: [&str; 2] = ["- Target value:", "- 目標値:"];
const REVIEW_LABELS: [&str; 2] = ["- Review month:", "- 振り返り月:"];
const ACTION_HEADINGS: [&str; 2] = ["### Your improvement actions", "### あなた自身の改善策"];

/// The marker that keys a blank in a worksheet: `<!-- sc:target -->`. Labels are the
/// template's and its users' to change; the markers are salescoach's, so import reads them
/// (and falls back to the built-in labels for sheets written before the markers).
pub fn marker(key: &str) -> String {
    format!("<!-- sc:{key} -->")
}

/// A marked line: its key and the text the user wrote after the label.
fn marked(line: &str) -> Option<(&str, &str)> {
    let at = line.find("<!-- sc:")?;
    let key = line[at + 8..].split("-->").next()?.trim();
    let before = &line[..at];
    let value =
        before.split_once(": ").or_else(|| before.split_once('：')).map_or(before, |(_, v)| v);
    Some((key, value))
}

fn target_value(v: &str, line_no: usize) -> Result<Option<TargetText>, (usize, String)> {
    let Some(v) = filled(v) else { return Ok(None) };
    // Full-width digits as a Japanese keyboard types them, and a unit after the number.
    let ascii: String = v
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '．' => '.',
            '％' => '%',
            '－' => '-',
            c => c,
        })
        .collect();
    let mut t = ascii.trim();
    for unit in ["件/月", "/月", "件", "leads a month", "a month", "per month", "leads"] {
        t = t.strip_suffix(unit).unwrap_or(t).trim();
    }
    let percent = t.ends_with('%');
    let number = t.trim_end_matches('%').trim().parse::<f64>().ok().filter(|n| n.is_finite());
    number.map(|number| Some(TargetText { number, percent, line: line_no })).ok_or((
        line_no,
        format!(
            "the target value {v:?} is not a number (e.g. 45% for a rate, 30 for leads a month)"
        ),
    ))
}

fn review_month(v: &str, line_no: usize) -> Result<Option<String>, (usize, String)> {
    let Some(v) = filled(v) else { return Ok(None) };
    Period::parse(PeriodKind::Month, v).map_err(|_| {
        (line_no, format!("the review month {v:?} is not YYYY-MM (such as 2026-04)"))
    })?;
    Ok(Some(v.to_string()))
}

/// The line (1-based) of a front matter key, for messages.
fn line_of_key(text: &str, key: &str) -> usize {
    text.lines().position(|l| l.starts_with(&format!("{key}:"))).map_or(1, |i| i + 1)
}

/// A target in the front matter, as the tool writes it: a share in [0, 1] for a rate, a finite
/// count of at least 0 for a volume.
fn front_target_value(v: &str, lever: &LeverId) -> Result<f64, String> {
    let t: f64 = v.trim().parse().map_err(|_| format!("{v:?} is not a number"))?;
    if !t.is_finite() || t < 0.0 {
        return Err(format!("{v} is not a finite number of at least 0"));
    }
    if lever.is_step() && t > 1.0 {
        return Err(format!("{v} is above 1 (a rate target is a share: 0.45 for 45%)"));
    }
    Ok(t)
}

/// What a sheet's front matter must say of its plan: an id that belongs to the sheet's own
/// person and period (a copied sheet cannot agree someone else's plan), and a review month
/// after the plan's month.
fn check_front(agreed: &Agreed, text: &str, ledger: &[Plan]) -> Result<(), (usize, String)> {
    let f = &agreed.front;
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let period = get("period");
    let person = match get("person_id") {
        "" => get("rep_id"),
        p => p,
    };
    let at = |k: &str| line_of_key(text, k);
    let month = Period::parse(PeriodKind::Month, period)
        .map_err(|_| (at("period"), format!("period {period:?} is not a month such as 2026-04")))?;
    let id = &agreed.plan_id;
    let owned = match ledger.iter().find(|p| &p.plan_id == id) {
        Some(p) => p.rep_id == person && p.period == period,
        None => {
            *id == Plan::id_for(period, person)
                || (id.starts_with(&format!("{period}:")) && id.ends_with(&format!(":{person}")))
        }
    };
    if !owned {
        return Err((
            at("plan_id"),
            format!(
                "plan_id {id:?} is not the plan of {person} for {period} that this sheet is about"
            ),
        ));
    }
    let review = agreed.review_period.clone().or_else(|| f.get("review_period").cloned());
    if let Some(r) = review.filter(|r| !r.trim().is_empty()) {
        let ok = Period::parse(PeriodKind::Month, &r).is_ok_and(|r| r > month);
        if !ok {
            return Err((
                at("review_period"),
                format!("review_period {r:?} is not a month after the plan's month {period}"),
            ));
        }
    }
    Ok(())
}

/// A blank (`________`, a pointer to another section) or a filled-in value.
pub(super) fn filled(v: &str) -> Option<&str> {
    let v = v.split(" (suggested").next().unwrap_or(v).split("（提案").next().unwrap_or(v).trim();
    let core = v.trim_matches(|c: char| c == '_' || c.is_whitespace());
    if core.is_empty() || v.starts_with('(') || v.starts_with('（') { None } else { Some(v) }
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
            in_actions = line.contains(&marker("actions"))
                || ACTION_HEADINGS.iter().any(|h| line.starts_with(h));
            continue;
        }
        if let Some((key, v)) = marked(line) {
            match key {
                "agreed_focus" => agreed.focus = filled(v).map(str::to_string),
                "target" => agreed.target = target_value(v, line_no)?,
                "review_month" => agreed.review_period = review_month(v, line_no)?,
                _ => {}
            }
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
            if agreed.target.is_none() {
                agreed.target = target_value(v, line_no)?;
            }
        } else if let Some(v) = value_after(&REVIEW_LABELS)
            && agreed.review_period.is_none()
        {
            agreed.review_period = review_month(v, line_no)?;
        }
    }
    Ok(agreed)
}

pub(super) fn worksheet_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let md = crate::io::files_under(p)?;
            out.extend(md.into_iter().filter(|f| f.extension().is_some_and(|e| e == "md")));
        } else {
            out.push(p.clone());
        }
    }
    // A sheet named both by itself and by its folder is read once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    out.sort();
    Ok(out)
}

/// What `plan import` did.
pub struct ImportSummary {
    pub agreed: usize,
    pub unfilled: usize,
    /// Markdown files with no front matter (index.md, board.md, notes): nothing to import.
    pub without_plan: Vec<String>,
    /// Worksheets that could not be read, each as `path:line: why`.
    pub problems: Vec<String>,
    /// Sheets whose plan was reviewed already: the review is the record, the sheet is not
    /// read again (an earlier month's sheet, or a review run before the import).
    pub already_reviewed: Vec<String>,
}

/// A lever as a sheet prints it in either language ("new leads a month", "月間の新規リード数",
/// "activities per case"), by the same labels the sheets use.
fn printed_lever(text: &str, playbook: &Playbook, levers: &[LeverId]) -> Option<LeverId> {
    let t = text.trim();
    levers
        .iter()
        .find(|id| {
            [Lang::En, Lang::Ja].iter().any(|&lang| {
                super::view::lever_label(playbook, lang, id).trim().eq_ignore_ascii_case(t)
            })
        })
        .cloned()
}

/// A coaching skill as a manager's or director's sheet prints it (its title in any language
/// of the playbook) or its id.
fn coaching_lever(text: &str, playbook: &Playbook) -> Result<LeverId, String> {
    let t = text.trim();
    playbook
        .coaching
        .iter()
        .find(|r| {
            r.lever.to_string() == t
                || r.text.title.eq_ignore_ascii_case(t)
                || r.ja.as_ref().is_some_and(|j| j.title == t)
        })
        .map(|r| r.lever.clone())
        .ok_or_else(|| {
            let titles: Vec<&str> =
                playbook.coaching.iter().map(|r| r.text.title.as_str()).collect();
            format!("`{t}` is not a coaching skill ({})", titles.join(", "))
        })
}

/// Reads edited worksheets back into the ledger and marks their plans agreed.
pub fn import_worksheets(
    paths: &[PathBuf],
    ledger_path: &Path,
    playbook: &Playbook,
) -> Result<ImportSummary> {
    // Held until the ledger is written: no other run can update it in between.
    let _lock = crate::io::place::lock(ledger_path, "the ledger")?;
    let mut ledger = read_ledger(ledger_path, None)?;
    let levers = LeverId::all(&playbook.stages);
    let mut problems = Vec::new();
    let mut already_reviewed = Vec::new();
    let (mut agreed_count, mut skipped, mut unfilled) = (0, Vec::new(), 0);
    let files = worksheet_files(paths)?;
    // Every sheet's text first: a plan id in two sheets is an error naming both, and neither is
    // read.
    let mut texts = Vec::new();
    let mut sheets_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in files {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        match render::sheet_text(&bytes) {
            Ok(text) => {
                if let Some(id) = parse_worksheet(&text).ok().map(|a| a.plan_id) {
                    sheets_of.entry(id).or_default().push(path.display().to_string());
                }
                texts.push((path, text));
            }
            Err(why) => problems.push(format!("{}:1: {why}", path.display())),
        }
    }
    for (path, text) in texts {
        if !text.starts_with("---\n") {
            skipped.push(path.display().to_string());
            continue;
        }
        let agreed = match parse_worksheet(&text) {
            Ok(a) => a,
            Err((line, msg)) => {
                problems.push(format!("{}:{line}: {msg}", path.display()));
                continue;
            }
        };
        if let Some(both) = sheets_of.get(&agreed.plan_id).filter(|s| s.len() > 1) {
            problems.push(format!(
                "{}:{}: plan_id {:?} is in {} sheets ({}); each plan has one sheet, so none of them is read",
                path.display(),
                line_of_key(&text, "plan_id"),
                agreed.plan_id,
                both.len(),
                both.join(", ")
            ));
            continue;
        }
        if let Err((line, why)) = check_front(&agreed, &text, &ledger) {
            problems.push(format!("{}:{line}: {why}", path.display()));
            continue;
        }
        let coaching = agreed.front.get("level").is_some_and(|l| OrgLevel::parse(l).coaches());
        // The focus as the sheet printed it ("Case → Proposal", "商談 → 提案") or its id; on a
        // manager's or director's sheet, a coaching skill by its title in either language.
        let parse = |f: &str| {
            if coaching {
                coaching_lever(f, playbook)
            } else {
                printed_lever(f, playbook, &levers)
                    .map_or_else(|| playbook.parse_printed_lever(f), Ok)
            }
        };
        let (agreed_focus, bad_focus) = match agreed.focus.as_deref().map(parse) {
            Some(Ok(id)) => (Some(id), None),
            Some(Err(why)) => (None, Some(why)),
            None => (None, None),
        };
        if let Some(why) = bad_focus {
            let line = text
                .lines()
                .position(|l| {
                    l.contains(&marker("agreed_focus"))
                        || FOCUS_LABELS.iter().any(|p| l.starts_with(p))
                })
                .map_or(0, |i| i + 1);
            let why = if coaching {
                why
            } else {
                let printed: Vec<String> = levers
                    .iter()
                    .map(|id| super::view::lever_label(playbook, Lang::En, id))
                    .collect();
                let focus = agreed.focus.as_deref().unwrap_or("");
                format!(
                    "`{focus}` is not one of the playbook's levers; write one as the sheets print it ({}) or its id",
                    printed.join(", ")
                )
            };
            problems.push(format!("{}:{line}: the agreed focus {why}", path.display()));
            continue;
        }
        // The target in the unit of the focus the meeting agreed (else the one proposed).
        // The proposed focus, as the front matter holds it: an id of this playbook.
        let known = |f: &LeverId| levers.contains(f) || f.is_coaching();
        let proposed: Option<LeverId> =
            agreed.front.get("focus").and_then(|f| f.parse().ok()).filter(known);
        let lever = agreed_focus.clone().or_else(|| proposed.clone());
        let target = match (agreed.target, lever) {
            (Some(t), Some(lever)) => match t.value_for(&lever) {
                Ok(v) => Some(v),
                Err(why) => {
                    problems.push(format!("{}:{}: {why}", path.display(), t.line));
                    continue;
                }
            },
            (Some(t), None) => Some(t.number),
            (None, _) => None,
        };
        // A sheet whose plan is not in the ledger (a rep with no gap, a suggestion left out)
        // becomes a plan only when the meeting filled it in.
        let known_plan = ledger.iter().any(|p| p.plan_id == agreed.plan_id);
        let said_agreed = agreed.front.get("status").is_some_and(|s| s == "agreed");
        let filled_in =
            agreed.focus.is_some() || agreed.target.is_some() || !agreed.actions.is_empty();
        if !(known_plan || filled_in || said_agreed) {
            unfilled += 1;
            continue;
        }
        let plan = match ledger.iter_mut().find(|p| p.plan_id == agreed.plan_id) {
            Some(p) => p,
            None => {
                let Some(focus) = proposed.clone().or_else(|| agreed_focus.clone()) else {
                    problems.push(format!(
                        "{}: the front matter names no lever of this playbook as `focus`",
                        path.display()
                    ));
                    continue;
                };
                let f = &agreed.front;
                ledger.push(Plan {
                    plan_id: agreed.plan_id.clone(),
                    period: f.get("period").cloned().unwrap_or_default(),
                    rep_id: f.get("rep_id").cloned().unwrap_or_default(),
                    rep_name: f.get("rep_name").cloned().filter(|n| !n.is_empty()),
                    manager_id: f.get("manager_id").cloned().filter(|m| !m.is_empty()),
                    focus: focus.clone(),
                    baseline_rate: f.get("baseline_rate").and_then(|v| v.parse().ok()),
                    baseline_n: f.get("baseline_n").and_then(|v| v.parse().ok()),
                    target_rate: f.get("target_rate").and_then(|v| v.parse().ok()),
                    review_period: f.get("review_period").cloned().unwrap_or_default(),
                    status: PlanStatus::Proposed,
                    level: f
                        .get("level")
                        .filter(|l| !l.trim().is_empty())
                        .map(|l| OrgLevel::parse(l)),
                    ..Plan::new(focus)
                });
                ledger.last_mut().expect("just pushed")
            }
        };
        if plan.status == PlanStatus::Reviewed {
            already_reviewed.push(path.display().to_string());
            continue;
        }
        let front_target = match agreed
            .front
            .get("target_rate")
            .filter(|v| !v.trim().is_empty() && v.trim() != "null")
        {
            None => None,
            Some(v) => {
                let lever = plan.agreed_focus.clone().unwrap_or_else(|| plan.focus.clone());
                match front_target_value(v, &lever) {
                    Ok(t) => Some(t),
                    Err(why) => {
                        problems.push(format!(
                            "{}:{}: target_rate {why}",
                            path.display(),
                            line_of_key(&text, "target_rate")
                        ));
                        continue;
                    }
                }
            }
        };
        let front_focus = proposed.filter(|f| *f != plan.focus);
        let front_target = front_target.filter(|t| Some(*t) != plan.target_rate);
        if !(filled_in || said_agreed || front_focus.is_some() || front_target.is_some()) {
            unfilled += 1;
            continue;
        }
        plan.agreed_focus = agreed_focus.or(front_focus).or(plan.agreed_focus.take());
        plan.agreed_target_rate = target.or(front_target).or(plan.agreed_target_rate);
        // The body's blank wins over the front matter; both are as the meeting left them.
        if let Some(r) =
            agreed.review_period.clone().or_else(|| agreed.front.get("review_period").cloned())
        {
            plan.review_period = r;
        }
        if !agreed.actions.is_empty() {
            plan.actions = Some(agreed.actions.join("\n"));
        }
        // The ledger keeps the path plan wrote (relative to its --out), not where import ran.
        if plan.worksheet.as_deref().is_none_or(str::is_empty) {
            plan.worksheet = Some(path.display().to_string());
        }
        plan.status = PlanStatus::Agreed;
        plan.agreed = Some(true);
        agreed_count += 1;
    }
    write_ledger(ledger_path, &mut ledger, None)?;
    Ok(ImportSummary {
        agreed: agreed_count,
        unfilled,
        without_plan: skipped,
        problems,
        already_reviewed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_blanks_are_read_whatever_their_labels_say() {
        let sheet = "---\nplan_id: 2026-03:R1\n---\n# Sheet\n\n- Fokus (vereinbart): Case → Proposal <!-- sc:agreed_focus -->\n- Ziel: 45% (suggested: 40%, from 30%) <!-- sc:target -->\n- Monat: 2026-05 <!-- sc:review_month -->\n\n### Meine Schritte <!-- sc:actions -->\n\n1. call every case twice\n2. ________\n";
        let a = parse_worksheet(sheet).unwrap();
        assert_eq!(a.focus.as_deref(), Some("Case → Proposal"));
        let step = LeverId::Step { from: "case".into(), to: "proposal".into() };
        assert_eq!(a.target.unwrap().value_for(&step), Ok(0.45));
        assert_eq!(a.review_period.as_deref(), Some("2026-05"));
        assert_eq!(a.actions, vec!["call every case twice".to_string()]);
    }

    #[test]
    fn blanks_and_numbers() {
        assert_eq!(filled("________"), None);
        assert_eq!(filled("________ (suggested: 45%, from 30%)"), None);
        assert_eq!(filled("(see section 1)"), None);
        assert_eq!(filled("45% (suggested: 40%, from 30%)"), Some("45%"));
        let target =
            |v: &str, lever: &LeverId| target_value(v, 7).unwrap().unwrap().value_for(lever);
        let step = &LeverId::Step { from: "lead".into(), to: "case".into() };
        let leads = &LeverId::LeadVolume { stage: "lead".into() };
        // A rate: 45%, 45 and 0.45 are all 45%; above 100% is refused.
        assert_eq!(target("45%", step), Ok(0.45));
        assert_eq!(target("45", step), Ok(0.45));
        assert_eq!(target("0.45", step), Ok(0.45));
        assert!(target("150%", step).is_err());
        assert!(target("-5", step).is_err());
        // A volume is a count; a percentage for it is refused.
        assert_eq!(target("30", leads), Ok(30.0));
        assert!(target("45%", leads).is_err());
        assert!(target_value("lots", 7).is_err());
        // As a Japanese keyboard types it, and with a unit.
        assert_eq!(target("４５％", step), Ok(0.45));
        assert_eq!(target("30件", leads), Ok(30.0));
        assert_eq!(target("30 leads a month", leads), Ok(30.0));
    }
}
