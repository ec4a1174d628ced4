//! Validation: every table against its schema and against each other, for CI jobs and the
//! month end.

mod findings;
mod table;
pub use table::Moment;

use findings::Findings;
pub use findings::{Finding, Report, Stats};
use table::TableCheck;

use crate::io::read::{RowProblem, Verdict, column_names, scan};
use crate::io::{Format, Source};
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::model::schema::Schema;
use crate::model::tables::TableKind;
use anyhow::Result;
use rustc_hash::FxHashSet;
use std::io::Write;

/// Which table a file is: from its name (`events.csv`, `q1-activities.parquet`, …), else from
/// the columns its header names.
pub fn detect_table(source: &Source, input_format: Option<Format>) -> Option<TableKind> {
    let name = source.path()?.file_name()?.to_str()?.to_lowercase();
    let by_name = [
        ("event", TableKind::Events),
        ("activit", TableKind::Activities),
        ("roster", TableKind::Roster),
        ("people", TableKind::Roster),
    ]
    .into_iter()
    .find(|(k, _)| name.contains(k))
    .map(|(_, t)| t);
    by_name.or_else(|| {
        let columns = column_names(source, input_format)?;
        let has = |c: &str| columns.iter().any(|n| n == c);
        if has("person_id") {
            Some(TableKind::Roster)
        } else if has("activity_id") || (has("type") && !has("stage")) {
            Some(TableKind::Activities)
        } else if has("deal_id") && has("stage") {
            Some(TableKind::Events)
        } else {
            None
        }
    })
}

/// Checks tables (roster, then events, then activities, each against the ones before).
pub fn check(
    mut inputs: Vec<(Source, TableKind)>,
    input_format: Option<Format>,
    playbook: &Playbook,
    moment: Moment,
    strict: bool,
) -> Result<Report> {
    // Roster first, then events, then activities: later tables are checked against earlier ones.
    inputs.sort_by_key(|(_, t)| match t {
        TableKind::Roster => 0,
        TableKind::Events => 1,
        _ => 2,
    });
    let mut findings = Findings::default();
    let mut rows = 0;
    let mut people: Option<FxHashSet<String>> = None;
    let mut deals: Option<FxHashSet<u64>> = None;
    // Files of the same table are checked as one table, so that a duplicate across monthly
    // exports is found as it is within a folder source.
    let mut start = 0;
    while start < inputs.len() {
        let table = inputs[start].1;
        let end = start + inputs[start..].iter().take_while(|(_, t)| *t == table).count();
        let group = &inputs[start..end];
        start = end;
        let schema = Schema::get(table.name())?;
        let mut ctx = TableCheck::new(table, &schema, playbook, moment);
        for (source, _) in group {
            let stats = scan(source, input_format, table, playbook.timezone, &mut |row| {
                ctx.check_row(row, people.as_ref(), deals.as_ref(), &mut findings);
                Verdict::Keep
            });
            let stats = match stats {
                Ok(s) => s,
                Err(e) if e.downcast_ref::<crate::DataError>().is_some() => {
                    let data_error = e.downcast_ref::<crate::DataError>().expect("checked");
                    findings.error(Finding {
                        kind: data_error.code.unwrap_or("schema-error").into(),
                        file: source.to_string(),
                        row_number: Some(1),
                        line: Some(1),
                        field_name: None,
                        cell: None,
                        message: data_error.message.clone(),
                    });
                    continue;
                }
                Err(e) => return Err(e),
            };
            rows += stats.read;
            // The reader keeps the first problems only; every rejected record still counts.
            let kept = stats.problems.len() as u64;
            for p in stats.problems {
                findings.error(p.into());
            }
            findings.n_errors += stats.rejected.saturating_sub(kept);
        }
        let names: Vec<String> = group.iter().map(|(s, _)| s.to_string()).collect();
        ctx.finish(&names.join(", "), &mut findings);
        match table {
            TableKind::Roster => {
                people = Some(std::mem::take(&mut ctx.people));
                for (source, _) in group {
                    let (roster, _) =
                        crate::io::roster::read_roster(source, input_format, playbook)?;
                    check_tree(&roster, &source.to_string(), &mut findings);
                }
            }
            TableKind::Events => deals = Some(ctx.deal_hashes()),
            _ => {}
        }
    }
    Ok(Report {
        valid: findings.n_errors == 0 && !(strict && findings.n_warnings > 0),
        stats: Stats {
            tables: inputs.len(),
            rows,
            errors: findings.n_errors,
            warnings: findings.n_warnings,
        },
        errors: findings.errors,
        warnings: findings.warnings,
    })
}

pub fn print_report(r: &Report, max: usize, out: &mut dyn Write) -> Result<()> {
    for (label, list) in [("error", &r.errors), ("warning", &r.warnings)] {
        for f in list.iter().take(max) {
            let place = match (f.line, f.row_number) {
                (Some(l), Some(row)) if l != row => format!("{}:{l}: row {row}", f.file),
                (_, Some(row)) => format!("{}: row {row}", f.file),
                _ => f.file.clone(),
            };
            let field = f.field_name.as_ref().map_or(String::new(), |c| format!(", column {c}"));
            let cell = f.cell.as_ref().map_or(String::new(), |c| format!(" ({c:?})"));
            writeln!(out, "{label}: {place}{field}: {} [{}]{cell}", f.message, f.kind)?;
        }
        let total = if label == "error" { r.stats.errors } else { r.stats.warnings };
        if total as usize > max.min(list.len()) {
            writeln!(
                out,
                "… {} more {label}s (--max-errors shows more)",
                total as usize - max.min(list.len())
            )?;
        }
    }
    use crate::io::output::count;
    writeln!(
        out,
        "{}: {}, {}, {}, {}",
        if r.valid { "valid" } else { "invalid" },
        count(r.stats.tables as u64, "table", "tables"),
        count(r.stats.rows, "row", "rows"),
        count(r.stats.errors, "error", "errors"),
        count(r.stats.warnings, "warning", "warnings")
    )?;
    Ok(())
}

fn check_tree(roster: &Roster, file: &str, out: &mut Findings) {
    for p in tree_problems(roster, file) {
        out.error(p.into());
    }
    let roots: Vec<&str> = roster
        .people
        .iter()
        .zip(&roster.parent)
        .filter(|(p, parent)| parent.is_none() && p.reports_to.is_none())
        .map(|(p, _)| p.person_id.as_str())
        .collect();
    if roots.len() > 1 {
        out.warning(Finding {
            kind: "several-roots".into(),
            file: file.to_string(),
            row_number: None,
            line: None,
            field_name: Some("reports_to".into()),
            cell: None,
            message: format!(
                "{} people report to no one: {}",
                roots.len(),
                roots.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            ),
        });
    }
}
/// Problems with the tree: unknown `reports_to` and cycles.
pub fn tree_problems(roster: &Roster, file: &str) -> Vec<RowProblem> {
    let mut out = Vec::new();
    for (i, p) in roster.people.iter().enumerate() {
        if let Some(r) = &p.reports_to
            && roster.parent[i].is_none()
        {
            out.push(RowProblem {
                file: file.to_string(),
                line: 0,
                row: roster.rows[i],
                column: Some("reports_to".into()),
                code: "foreign-key",
                message: format!("{} reports to {r}, who is not in the roster", p.person_id),
                value: Some(r.clone()),
            });
        }
    }
    for p in roster.tree_problems() {
        out.push(RowProblem {
            file: file.to_string(),
            line: 0,
            row: p.row,
            column: Some("reports_to".into()),
            code: p.code,
            message: p.message,
            value: None,
        });
    }
    out
}
