//! The groups a funnel reports on: reps, every roster node above them, `(unassigned)` where a
//! rep's chain misses a level, and the company.

use crate::model::level::OrgLevel;
use crate::model::roster::Roster;
use std::collections::{BTreeMap, BTreeSet};

/// A group the funnel reports on.
#[derive(Debug, Clone)]
pub struct Group {
    pub level: OrgLevel,
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    /// Rep indexes (into `Tally::reps`) whose deals count for this group.
    pub members: Vec<u32>,
}

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

/// The groups at every level: reps, every roster node above them, and the company.
pub fn groups(
    reps: &[Box<str>],
    roster: Option<&Roster>,
    playbook: &crate::model::playbook::Playbook,
) -> Vec<Group> {
    let mut out = Vec::new();
    let mut nodes: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
    let levels = roster.map(|r| r.levels(playbook));
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
            level: OrgLevel::Rep,
            id: rep.to_string(),
            name,
            parent_id,
            members: vec![i as u32],
        });
    }
    if let (Some(r), Some(levels)) = (roster, levels) {
        let upper: BTreeSet<&OrgLevel> =
            nodes.keys().map(|&n| &levels[n]).filter(|l| **l != OrgLevel::Rep).collect();
        let mut unassigned: BTreeMap<&OrgLevel, Vec<u32>> = BTreeMap::new();
        for (i, rep) in reps.iter().enumerate() {
            let covered: BTreeSet<&OrgLevel> = match r.index.get(&**rep) {
                Some(&x) => r.ancestors(x).iter().map(|&a| &levels[a]).collect(),
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
        let unassigned_levels: Vec<&OrgLevel> = unassigned.keys().copied().collect();
        for (level, members) in unassigned {
            // The unassigned node one level up, when there is one, else the root.
            let above = unassigned_levels.iter().filter(|l| **l > level).min();
            out.push(Group {
                level: level.clone(),
                id: UNASSIGNED.into(),
                name: UNASSIGNED.into(),
                parent_id: above.map(|_| UNASSIGNED.to_string()).or_else(|| root_id.clone()),
                members,
            });
        }
        // A rep whose manager is unknown hangs under the unassigned node.
        for g in out.iter_mut().filter(|g| g.level == OrgLevel::Rep && g.parent_id.is_none()) {
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
    out.sort_by(|a, b| (&a.level, &a.id).cmp(&(&b.level, &b.id)));
    out.push(Group {
        level: OrgLevel::Company,
        id: "company".into(),
        name: "Company".into(),
        parent_id: None,
        members: (0..reps.len() as u32).collect(),
    });
    out
}
