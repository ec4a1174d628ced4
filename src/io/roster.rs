//! Reading the roster table into the org tree.

use crate::io::read::{ScanStats, Verdict, scan};
use crate::io::{Format, Source};
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::model::tables::{Person, TableKind, ros};
use anyhow::Result;

/// Reads a roster for counting: rows that fail their checks are counted in the stats, not
/// kept; a roster that is not a tree (a reporting cycle, a person listed twice with different
/// managers) fails with exit 1 and names the people, as `validate` does.
pub fn load_roster(
    source: &Source,
    format: Option<Format>,
    playbook: &Playbook,
) -> Result<(Roster, ScanStats)> {
    let (roster, stats) = read_roster(source, format, playbook)?;
    let problems = roster.tree_problems();
    if let Some(first) = problems.first() {
        let more = match problems.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        return Err(crate::DataError::with_code(
            first.code,
            format!(
                "{source}: row {}: {}{more}; the roster must be a tree: {} (`salescoach validate` lists every problem)",
                first.row,
                first.message,
                match first.code {
                    "cycle" => "change the reports_to of one person in the cycle",
                    _ => "keep one row per person, or give the rows the same manager",
                }
            ),
        )
        .into());
    }
    Ok((roster, stats))
}

/// Reads a roster as it is, tree problems included (for `validate`, which reports them).
pub fn read_roster(
    source: &Source,
    format: Option<Format>,
    playbook: &Playbook,
) -> Result<(Roster, ScanStats)> {
    let mut people = Vec::new();
    let mut rows = Vec::new();
    let stats = scan(source, format, TableKind::Roster, playbook.timezone, &mut |row| {
        let person = (|| {
            Ok(Person {
                person_id: row.required_str(ros::PERSON_ID)?.trim().to_string(),
                name: row.str(ros::NAME)?.unwrap_or("").to_string(),
                role: row.str(ros::ROLE)?.unwrap_or("").to_string(),
                reports_to: row
                    .str(ros::REPORTS_TO)?
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            })
        })();
        match person {
            Ok(p) => {
                people.push(p);
                rows.push(row.row);
                Verdict::Keep
            }
            Err(p) => Verdict::Reject(p),
        }
    })?;
    Ok((Roster::from_rows(people, rows), stats))
}
