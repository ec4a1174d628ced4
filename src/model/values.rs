//! Small domain values parsed once at the edge: which worksheets, in which language, a plan's
//! status, a review's verdict, a lever id.

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

/// A lever of a funnel, checked against the playbook's stages: `case->proposal`,
/// `volume:lead`, `volume:activity:case`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct LeverId(String);

impl LeverId {
    /// Parses a lever id of a funnel with these stages; the error lists the valid ids.
    pub fn parse(text: &str, stages: &[String]) -> Result<LeverId, String> {
        let ids = crate::model::rules::lever_ids(stages);
        let t = text.trim();
        if ids.iter().any(|i| i == t) {
            Ok(LeverId(t.to_string()))
        } else {
            Err(format!("`{t}` is not a lever id ({})", ids.join(", ")))
        }
    }

    /// A lever as a worksheet prints it, in any language of the playbook (`Case → Proposal`,
    /// `商談 → 提案`), or its id. Each side of the arrow is a stage id, a display name or an
    /// alias of the playbook.
    pub fn parse_printed(
        text: &str,
        playbook: &crate::model::playbook::Playbook,
    ) -> Result<LeverId, String> {
        let id_err = match LeverId::parse(text, &playbook.stages) {
            Ok(id) => return Ok(id),
            Err(e) => e,
        };
        let stage_of = |side: &str| -> Option<String> {
            let side = side.trim();
            if let Some(s) = playbook.stages.iter().find(|s| s.eq_ignore_ascii_case(side)) {
                return Some(s.clone());
            }
            for names in playbook.display.values() {
                if let Some((id, _)) =
                    names.iter().find(|(_, n)| n.trim().eq_ignore_ascii_case(side))
                {
                    return Some(id.clone());
                }
            }
            let code = playbook.resolve_stage(side)? as usize;
            playbook.stages.get(code).cloned()
        };
        let sides: Option<(&str, &str)> =
            text.split_once('→').or_else(|| text.split_once("->")).or_else(|| text.split_once('>'));
        if let Some((a, b)) = sides
            && let (Some(a), Some(b)) = (stage_of(a), stage_of(b))
        {
            return LeverId::parse(&format!("{a}->{b}"), &playbook.stages);
        }
        Err(id_err)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LeverId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
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
        let stages: Vec<String> = ["lead", "case", "won"].iter().map(|s| s.to_string()).collect();
        assert_eq!(LeverId::parse("lead->case", &stages).unwrap().as_str(), "lead->case");
        assert!(LeverId::parse("case->lead", &stages).unwrap_err().contains("volume:lead"));
        let playbook = crate::model::playbook::Playbook::default_playbook();
        for printed in ["Case → Proposal", "商談 → 提案", "case -> proposal", "case->proposal"]
        {
            assert_eq!(
                LeverId::parse_printed(printed, &playbook).map(|l| l.to_string()),
                Ok("case->proposal".to_string()),
                "{printed}"
            );
        }
        assert!(LeverId::parse_printed("Case → Lead", &playbook).is_err());
    }
}
