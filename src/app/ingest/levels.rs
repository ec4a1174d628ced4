//! The levels layout: one row per rep with the org as level columns, turned into a roster tree.

use super::mapping::Mapping;
use super::sink::Sink;
use crate::io::write::Cell;
use crate::model::playbook::normalize;
use anyhow::{Context, Result};
use std::collections::BTreeMap;

/// A roster given as level columns (one row per rep: region, manager, rep): every value becomes
/// a person reporting to the value on its left, the intermediate nodes created once each.
#[allow(clippy::too_many_arguments)]
pub(super) fn ingest_levels<R: std::io::Read>(
    rdr: &mut csv::Reader<R>,
    file: &str,
    headers: &[String],
    mapping: &Mapping,
    sink: &mut Sink,
) -> Result<()> {
    let mut bind = Vec::new();
    for level in &mapping.levels {
        let i = headers.iter().position(|h| normalize(h) == normalize(level));
        let Some(i) = i else {
            return Err(crate::DataError::new(format!(
                "{file}: no column {level:?} (header has: {})",
                headers.join(", ")
            ))
            .into());
        };
        bind.push((level.trim().to_lowercase(), i));
    }
    let mut parents: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut record = csv::StringRecord::new();
    let mut number = 0u64;
    while rdr.read_record(&mut record).with_context(|| format!("reading {file}"))? {
        number += 1;
        sink.counts.read += 1;
        let line = record.position().map_or(0, |p| p.line());
        let mut parent: Option<String> = None;
        let mut new_people = Vec::new();
        let mut problem = None;
        // A row that leaves a level empty (a title or total line above the table) would add a
        // stray person whom later rows then contradict: it is rejected on its own.
        let empty: Vec<&str> = bind
            .iter()
            .filter(|(_, i)| record.get(*i).unwrap_or("").trim().is_empty())
            .map(|(role, _)| role.as_str())
            .collect();
        if !empty.is_empty() && empty.len() < bind.len() {
            problem = Some(format!(
                "no {} on this row: every row names each level ({})",
                empty.join(", "),
                mapping.levels.join(" → ")
            ));
        }
        for (role, i) in bind.iter().filter(|_| problem.is_none()) {
            let v = record.get(*i).unwrap_or("").trim();
            if v.is_empty() {
                continue;
            }
            match parents.get(v) {
                Some(p) if *p != parent => {
                    problem = Some(format!(
                        "{v} reports to {} here but to {} on an earlier row",
                        parent.as_deref().unwrap_or("no one"),
                        p.as_deref().unwrap_or("no one")
                    ));
                    break;
                }
                Some(_) => {}
                None => new_people.push((v.to_string(), role.clone(), parent.clone())),
            }
            parent = Some(v.to_string());
        }
        match problem {
            None if parent.is_some() => {
                for (id, role, reports_to) in new_people {
                    sink.out.write_row(&[
                        Cell::Str(&id),
                        Cell::Str(&id),
                        Cell::Str(&role),
                        reports_to.as_deref().into(),
                    ])?;
                    parents.insert(id, reports_to);
                }
                sink.counts.written += 1;
            }
            other => {
                let message = other.unwrap_or_else(|| "the row is empty".into());
                let raw = record.iter().collect::<Vec<_>>().join(",");
                sink.settle(
                    &Err((None, "constraint-error", message)),
                    file,
                    line,
                    number,
                    &|| raw.clone(),
                )?;
            }
        }
    }
    Ok(())
}
