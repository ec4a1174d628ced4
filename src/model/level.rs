//! A level of the organisation: where a group sits in the tree the funnel is summed up.

use std::fmt;

/// A level of the org tree, in reporting order: reps first, up the tree, the company last.
/// Levels the roster names otherwise (`regional_office`, `level-4`) sit between the board and
/// the company. Printed and read as the ids files have always used.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrgLevel {
    Rep,
    Manager,
    Director,
    Board,
    /// A level named by the roster or the playbook's role mapping.
    Named(String),
    Company,
}

impl OrgLevel {
    /// The standard levels a role label can name as it is.
    pub const STANDARD: [OrgLevel; 4] =
        [OrgLevel::Rep, OrgLevel::Manager, OrgLevel::Director, OrgLevel::Board];

    pub fn as_str(&self) -> &str {
        match self {
            OrgLevel::Rep => "rep",
            OrgLevel::Manager => "manager",
            OrgLevel::Director => "director",
            OrgLevel::Board => "board",
            OrgLevel::Named(name) => name,
            OrgLevel::Company => "company",
        }
    }

    /// The level a label names: a standard one (any case), else a named level.
    pub fn parse(text: &str) -> OrgLevel {
        let t = text.trim();
        [OrgLevel::Rep, OrgLevel::Manager, OrgLevel::Director, OrgLevel::Board, OrgLevel::Company]
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(t))
            .unwrap_or_else(|| OrgLevel::Named(t.to_string()))
    }

    /// The level of a person `height` steps above the reps, when the roster does not name it.
    pub fn at_height(height: usize) -> OrgLevel {
        match height {
            0 => OrgLevel::Rep,
            1 => OrgLevel::Manager,
            2 => OrgLevel::Director,
            3 => OrgLevel::Board,
            h => OrgLevel::Named(format!("level-{h}")),
        }
    }

    /// A manager's or director's level, whose plans are coaching plans.
    pub fn coaches(&self) -> bool {
        !matches!(self, OrgLevel::Rep | OrgLevel::Company)
    }
}

impl fmt::Display for OrgLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OrgLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<OrgLevel, String> {
        if s.trim().is_empty() {
            return Err("a level cannot be empty".into());
        }
        Ok(OrgLevel::parse(s))
    }
}

impl serde::Serialize for OrgLevel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for OrgLevel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<OrgLevel, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_read_back_as_printed_and_sort_in_reporting_order() {
        let mut levels: Vec<OrgLevel> =
            ["company", "regional_office", "board", "Manager", "rep", "director"]
                .iter()
                .map(|s| s.parse().unwrap())
                .collect();
        levels.sort();
        let printed: Vec<&str> = levels.iter().map(OrgLevel::as_str).collect();
        assert_eq!(printed, ["rep", "manager", "director", "board", "regional_office", "company"]);
        assert_eq!(OrgLevel::at_height(5).to_string(), "level-5");
        assert!("".parse::<OrgLevel>().is_err());
    }
}
