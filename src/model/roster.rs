//! The roster as a tree: loading, ancestors (cycle-safe) and the level of each node.

use crate::model::level::OrgLevel;
use crate::model::playbook::Playbook;
use crate::model::tables::Person;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub people: Vec<Person>,
    pub index: HashMap<String, usize>,
    /// Parent of each person, `None` at a root or when `reports_to` is unknown.
    pub parent: Vec<Option<usize>>,
    /// The table row of each person (the header is row 1).
    pub rows: Vec<u64>,
}

/// What makes a roster unusable as a tree: every command refuses it, `validate` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeProblem {
    /// `cycle` or `conflicting-person`.
    pub code: &'static str,
    /// The row the problem is found at (the later row of a conflict).
    pub row: u64,
    pub message: String,
}

impl Roster {
    /// Builds the tree; a duplicate id keeps its first row. Rows are numbered from 2.
    pub fn from_people(people: Vec<Person>) -> Roster {
        let rows = (0..people.len() as u64).map(|i| i + 2).collect();
        Roster::from_rows(people, rows)
    }

    /// Builds the tree from people and the rows they were read at.
    pub fn from_rows(people: Vec<Person>, rows: Vec<u64>) -> Roster {
        let mut index = HashMap::with_capacity(people.len());
        for (i, p) in people.iter().enumerate() {
            index.entry(p.person_id.clone()).or_insert(i);
        }
        let parent = people
            .iter()
            .map(|p| p.reports_to.as_ref().and_then(|r| index.get(r).copied()))
            .collect();
        Roster { people, index, parent, rows }
    }

    /// The problems no command can count through, in one place: reporting cycles
    /// (self-management included) and a person listed twice with different managers.
    pub fn tree_problems(&self) -> Vec<TreeProblem> {
        let mut out = Vec::new();
        for (i, p) in self.people.iter().enumerate() {
            let first = self.index[&p.person_id];
            if first != i && self.people[first].reports_to != p.reports_to {
                let manager = |x: &Person| x.reports_to.clone().unwrap_or_else(|| "no one".into());
                out.push(TreeProblem {
                    code: "conflicting-person",
                    row: self.rows[i],
                    message: format!(
                        "{} is listed twice with different managers: row {} reports to {}, row {} to {}",
                        p.person_id,
                        self.rows[first],
                        manager(&self.people[first]),
                        self.rows[i],
                        manager(p)
                    ),
                });
            }
        }
        for c in self.cycles() {
            let first = self.index[&c[0]];
            let message = format!("reporting cycle: {}", c.join(" → "));
            out.push(TreeProblem { code: "cycle", row: self.rows[first], message });
        }
        out
    }

    /// The chain of ancestors of a person, nearest first. Stops at a cycle. O(depth).
    pub fn ancestors(&self, i: usize) -> Vec<usize> {
        let n = self.people.len();
        let mut out = Vec::new();
        let mut cur = self.parent[i];
        while let Some(p) = cur {
            if p == i || out.len() > n {
                break;
            }
            out.push(p);
            cur = self.parent[p];
        }
        if out.len() > n || cur == Some(i) {
            // A cycle above this person: keep the chain up to its first repeat.
            let mut seen = std::collections::HashSet::with_capacity(out.len());
            let end = out.iter().position(|&p| !seen.insert(p) || p == i).unwrap_or(out.len());
            out.truncate(end);
        }
        out
    }

    /// Cycles in the tree, each as the path of ids that closes it. O(n): every person is
    /// walked once.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        const NEW: u8 = 0;
        const ON_PATH: u8 = 1;
        const DONE: u8 = 2;
        let n = self.people.len();
        let mut state = vec![NEW; n];
        let mut position = vec![0usize; n];
        let mut out = Vec::new();
        let mut path = Vec::new();
        for start in 0..n {
            if state[start] != NEW {
                continue;
            }
            path.clear();
            let mut cur = Some(start);
            while let Some(v) = cur {
                match state[v] {
                    NEW => {
                        state[v] = ON_PATH;
                        position[v] = path.len();
                        path.push(v);
                        cur = self.parent[v];
                    }
                    ON_PATH => {
                        let cycle = &path[position[v]..];
                        let mut ids: Vec<String> =
                            cycle.iter().map(|&x| self.people[x].person_id.clone()).collect();
                        ids.push(self.people[v].person_id.clone());
                        out.push(ids);
                        break;
                    }
                    _ => break,
                }
            }
            for &v in &path {
                state[v] = DONE;
            }
        }
        out
    }

    /// Each person's height: 0 for a leaf, else one more than their tallest report. O(n):
    /// leaves first, a manager once all their reports are done. People in a cycle keep the
    /// height their acyclic reports give them.
    pub fn heights(&self) -> Vec<usize> {
        let n = self.people.len();
        let mut height = vec![0usize; n];
        let mut pending = vec![0usize; n];
        for p in self.parent.iter().flatten() {
            pending[*p] += 1;
        }
        let mut ready: Vec<usize> = (0..n).filter(|&i| pending[i] == 0).collect();
        while let Some(v) = ready.pop() {
            if let Some(p) = self.parent[v].filter(|&p| p != v) {
                height[p] = height[p].max(height[v] + 1);
                pending[p] -= 1;
                if pending[p] == 0 {
                    ready.push(p);
                }
            }
        }
        height
    }

    /// The level of every person: the playbook's mapping of their role label when it has one,
    /// the label itself when it is a standard level name, else their height in the tree (0 rep, 1 manager, 2 director, 3 board, then level-N).
    pub fn levels(&self, playbook: &Playbook) -> Vec<OrgLevel> {
        let height = self.heights();
        let n = self.people.len();
        (0..n)
            .map(|i| {
                let role = &self.people[i].role;
                if let Some(l) = playbook.level_of_role(role) {
                    return OrgLevel::parse(l);
                }
                if let Some(l) =
                    OrgLevel::STANDARD.iter().find(|l| role.trim().eq_ignore_ascii_case(l.as_str()))
                {
                    return l.clone();
                }
                OrgLevel::at_height(height[i])
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
    fn a_long_chain_is_walked_in_linear_time() {
        let n = 100_000;
        let people: Vec<Person> = (0..n)
            .map(|i| {
                let id = format!("P{i}");
                let to = (i > 0).then(|| format!("P{}", i - 1));
                p(&id, to.as_deref())
            })
            .collect();
        let r = Roster::from_people(people);
        assert!(r.cycles().is_empty());
        let h = r.heights();
        assert_eq!(h[0], n - 1);
        assert_eq!(h[n - 1], 0);
        assert_eq!(r.ancestors(n - 1).len(), n - 1);
    }

    #[test]
    fn a_cycle_above_a_person_stops_their_chain() {
        let r = Roster::from_people(vec![p("A", Some("B")), p("B", Some("C")), p("C", Some("B"))]);
        assert_eq!(r.ancestors(0), vec![1, 2]);
        assert_eq!(r.cycles().len(), 1);
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
        let levels = r.levels(&Playbook::default_playbook());
        use OrgLevel::*;
        assert_eq!(levels, vec![Board, Director, Manager, Rep]);
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
