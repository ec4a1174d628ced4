//! Small domain values parsed once at the edge: which worksheets, in which language, a plan's
//! status, a review's verdict.

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SheetLevel {
    Rep,
    Manager,
    Director,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Ja,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }
}

/// Where a plan stands in the coaching cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanStatus {
    /// A low-confidence candidate: not a plan unless the manager agrees it.
    Suggested,
    /// Written by `plan` or `report`, not yet agreed in the meeting.
    #[default]
    Proposed,
    /// Read back from the worksheet by `plan import`.
    Agreed,
    /// Given a verdict by `review`.
    Reviewed,
}

impl PlanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Suggested => "suggested",
            PlanStatus::Proposed => "proposed",
            PlanStatus::Agreed => "agreed",
            PlanStatus::Reviewed => "reviewed",
        }
    }
}

impl std::str::FromStr for PlanStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<PlanStatus, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "suggested" => Ok(PlanStatus::Suggested),
            "proposed" => Ok(PlanStatus::Proposed),
            "agreed" => Ok(PlanStatus::Agreed),
            "reviewed" => Ok(PlanStatus::Reviewed),
            other => {
                Err(format!("status `{other}` is not one of suggested, proposed, agreed, reviewed"))
            }
        }
    }
}

/// What review concluded about a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Improved,
    Worse,
    Inconclusive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Improved => "improved",
            Verdict::Worse => "worse",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Verdict, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "improved" => Ok(Verdict::Improved),
            "worse" => Ok(Verdict::Worse),
            // Earlier versions gave `not_improved` on no evidence: it reads as no verdict yet.
            "inconclusive" | "not_improved" => Ok(Verdict::Inconclusive),
            other => Err(format!("verdict `{other}` is not one of improved, worse, inconclusive")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_once_and_print_as_their_ids() {
        assert_eq!("Agreed".parse::<PlanStatus>(), Ok(PlanStatus::Agreed));
        assert!("done".parse::<PlanStatus>().is_err());
        assert_eq!("worse".parse::<Verdict>().map(|v| v.as_str()), Ok("worse"));
        assert_eq!("not_improved".parse::<Verdict>(), Ok(Verdict::Inconclusive));
    }
}
