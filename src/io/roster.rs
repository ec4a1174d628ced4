//! Reading the roster table into the org tree.

use crate::io::read::{ScanStats, Verdict, scan};
use crate::io::{Format, Source};
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::model::tables::{Person, TableKind, ros};
use anyhow::Result;

/// Reads a roster; rows that fail their checks are counted in the stats, not kept.
pub fn load_roster(
    source: &Source,
    format: Option<Format>,
    playbook: &Playbook,
) -> Result<(Roster, ScanStats)> {
    let mut people = Vec::new();
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
                Verdict::Keep
            }
            Err(p) => Verdict::Reject(p),
        }
    })?;
    Ok((Roster::from_people(people), stats))
}
