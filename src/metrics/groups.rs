//! The groups a funnel reports on: reps, every roster node above them, `(unassigned)` where a
//! rep's chain misses a level, and the company.

//! The funnel: step-up rates per group (rep, every roster level, company) and period, with
//! intervals, shrinkage, and the activity and outcome indicators beside them.
//!
//! Counts are gathered per rep in dense arrays, then summed up the roster tree, so that a
//! node's counts are exactly the sums over the deals credited to the reps under it.

use crate::model::roster::Roster;
use std::collections::{BTreeMap, BTreeSet};

/// A group the funnel reports on.
#[derive(Debug, Clone)]
pub struct Group {
    pub level: String,
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    /// Rep indexes (into `Tally::reps`) whose deals count for this group.
    pub members: Vec<u32>,
}

/// The groups at every level: reps, every roster node above them, and the company.
/// The group of the reps whose chain up the roster misses a level (an unknown manager, or a rep
/// not in the roster), so that every level's totals equal the company's.
pub const UNASSIGNED: &str = "(unassigned)";

/// How many reps sit under an `(unassigned)` node at some level.
pub fn unassigned_reps(groups: &[Group]) -> usize {
    let mut reps: BTreeSet<u32> = BTreeSet::new();
    for g in groups.iter().filter(|g| g.id == UNASSIGNED) {
        reps.extend(g.members.iter().copied());
    }
    reps.len()
}

pub fn groups(
    reps: &[Box<str>],
    roster: Option<&Roster>,
    playbook: &crate::model::playbook::Playbook,
) -> Vec<Group> {
    let mut out = Vec::new();
    let mut nodes: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
    let levels = roster.map(|r| {
        let reps_set: std::collections::HashSet<&str> = reps.iter().map(|x| &**x).collect();
        let owns: Vec<bool> =
            r.people.iter().map(|p| reps_set.contains(p.person_id.as_str())).collect();
        r.levels(playbook, &owns)
    });
    for (i, rep) in reps.iter().enumerate() {
        let person = roster.and_then(|r| r.index.get(&**rep).map(|&x| (r, x)));
        let (name, parent_id) = match person {
            Some((r, x)) => {
                for a in r.ancestors(x) {
                    nodes.entry(a).or_default().push(i as u32);
                }
                (r.people[x].name.clone(), r.parent[x].map(|p| r.people[p].person_id.clone()))
            }
            None => (rep.to_string(), None),
        };
        out.push(Group {
            level: "rep".into(),
            id: rep.to_string(),
            name,
            parent_id,
            members: vec![i as u32],
        });
    }
    if let (Some(r), Some(levels)) = (roster, levels) {
        let upper: BTreeSet<&str> =
            nodes.keys().map(|&n| levels[n].as_str()).filter(|l| *l != "rep").collect();
        let mut unassigned: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for (i, rep) in reps.iter().enumerate() {
            let covered: BTreeSet<&str> = match r.index.get(&**rep) {
                Some(&x) => r.ancestors(x).iter().map(|&a| levels[a].as_str()).collect(),
                None => BTreeSet::new(),
            };
            for level in upper.difference(&covered) {
                unassigned.entry(level).or_default().push(i as u32);
            }
        }
        let roots: Vec<usize> = (0..r.people.len()).filter(|&i| r.parent[i].is_none()).collect();
        let root_id = match roots.as_slice() {
            [only] if nodes.contains_key(only) => Some(r.people[*only].person_id.clone()),
            _ => None,
        };
        let unassigned_levels: Vec<&str> = unassigned.keys().copied().collect();
        for (level, members) in unassigned {
            // The unassigned node one level up, when there is one, else the root.
            let above = unassigned_levels
                .iter()
                .filter(|l| level_rank(l) > level_rank(level))
                .min_by_key(|l| level_rank(l));
            out.push(Group {
                level: level.to_string(),
                id: UNASSIGNED.into(),
                name: UNASSIGNED.into(),
                parent_id: above.map(|_| UNASSIGNED.to_string()).or_else(|| root_id.clone()),
                members,
            });
        }
        // A rep whose manager is unknown hangs under the unassigned node.
        for g in out.iter_mut().filter(|g| g.level == "rep" && g.parent_id.is_none()) {
            if !upper.is_empty() {
                g.parent_id = Some(UNASSIGNED.into());
            }
        }
        for (node, members) in nodes {
            let p = &r.people[node];
            out.push(Group {
                level: levels[node].clone(),
                id: p.person_id.clone(),
                name: p.name.clone(),
                parent_id: r.parent[node].map(|x| r.people[x].person_id.clone()),
                members,
            });
        }
    }
    out.sort_by(|a, b| {
        (level_rank(&a.level), &a.level, &a.id).cmp(&(level_rank(&b.level), &b.level, &b.id))
    });
    out.push(Group {
        level: "company".into(),
        id: "company".into(),
        name: "Company".into(),
        parent_id: None,
        members: (0..reps.len() as u32).collect(),
    });
    out
}

/// Reporting order of levels: reps first, then up the tree, the company last.
pub fn level_rank(level: &str) -> u8 {
    match level {
        "rep" => 0,
        "manager" => 1,
        "director" => 2,
        "board" => 3,
        "company" => 9,
        _ => 4,
    }
}
