//! The roster as a tree: loading, ancestors (cycle-safe) and the level of each node.

use crate::model::playbook::Playbook;
use crate::model::tables::Person;
use std::collections::HashMap;

/// Role labels that name a level as they are.
pub const STANDARD_LEVELS: [&str; 4] = ["rep", "manager", "director", "board"];

#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub people: Vec<Person>,
    pub index: HashMap<String, usize>,
    /// Parent of each person, `None` at a root or when `reports_to` is unknown.
    pub parent: Vec<Option<usize>>,
}

impl Roster {
    /// Builds the tree; a duplicate id keeps its first row.
    pub fn from_people(people: Vec<Person>) -> Roster {
        let mut index = HashMap::with_capacity(people.len());
        for (i, p) in people.iter().enumerate() {
            index.entry(p.person_id.clone()).or_insert(i);
        }
        let parent = people
            .iter()
            .map(|p| p.reports_to.as_ref().and_then(|r| index.get(r).copied()))
            .collect();
        Roster { people, index, parent }
    }

    /// The chain of ancestors of a person, nearest first. Stops at a cycle.
    pub fn ancestors(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut cur = self.parent[i];
        while let Some(p) = cur {
            if p == i || out.contains(&p) {
                break;
            }
            out.push(p);
            cur = self.parent[p];
        }
        out
    }

    /// Cycles in the tree, each as the path of ids that closes it.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        let mut seen_in_cycle = vec![false; self.people.len()];
        let mut out = Vec::new();
        for start in 0..self.people.len() {
            let mut path = vec![start];
            let mut cur = self.parent[start];
            while let Some(p) = cur {
                if let Some(pos) = path.iter().position(|&x| x == p) {
                    let cycle = &path[pos..];
                    if !cycle.iter().any(|&x| seen_in_cycle[x]) {
                        cycle.iter().for_each(|&x| seen_in_cycle[x] = true);
                        let mut ids: Vec<String> =
                            cycle.iter().map(|&x| self.people[x].person_id.clone()).collect();
                        ids.push(self.people[p].person_id.clone());
                        out.push(ids);
                    }
                    break;
                }
                path.push(p);
                cur = self.parent[p];
            }
        }
        out
    }

    /// The level of every person: the playbook's mapping of their role label when it has one,
    /// the label itself when it is a standard level name, else their height in the tree (0 rep, 1 manager, 2 director, 3 board, then level-N).
    /// `owns_deals[i]` marks people who own deals: they are reps whatever their place.
    pub fn levels(&self, playbook: &Playbook, owns_deals: &[bool]) -> Vec<String> {
        let n = self.people.len();
        let mut height = vec![0usize; n];
        for i in 0..n {
            for (d, &a) in self.ancestors(i).iter().enumerate() {
                height[a] = height[a].max(d + 1);
            }
        }
        (0..n)
            .map(|i| {
                let role = &self.people[i].role;
                if let Some(l) = playbook.level_of_role(role) {
                    return l.to_string();
                }
                if let Some(l) =
                    STANDARD_LEVELS.iter().find(|l| role.trim().eq_ignore_ascii_case(l))
                {
                    return l.to_string();
                }
                if owns_deals.get(i).copied().unwrap_or(false) && height[i] == 0 {
                    return "rep".into();
                }
                match height[i] {
                    0 => "rep".into(),
                    1 => "manager".into(),
                    2 => "director".into(),
                    3 => "board".into(),
                    h => format!("level-{h}"),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: &str, to: Option<&str>) -> Person {
        Person {
            person_id: id.into(),
            name: id.into(),
            role: String::new(),
            reports_to: to.map(Into::into),
        }
    }

    #[test]
    fn ancestors_levels_and_cycles() {
        let r = Roster::from_people(vec![
            p("B", None),
            p("D", Some("B")),
            p("M", Some("D")),
            p("R", Some("M")),
        ]);
        assert_eq!(r.ancestors(3), vec![2, 1, 0]);
        let levels = r.levels(&Playbook::default_playbook(), &[false, false, false, true]);
        assert_eq!(levels, vec!["board", "director", "manager", "rep"]);
        assert!(r.cycles().is_empty());

        let c = Roster::from_people(vec![
            p("A", Some("C")),
            p("B", Some("A")),
            p("C", Some("B")),
            p("X", Some("A")),
        ]);
        assert_eq!(c.ancestors(3), vec![0, 2, 1]);
        assert_eq!(c.cycles(), vec![vec!["A", "C", "B", "A"]]);
    }
}
