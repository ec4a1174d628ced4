//! A lever: what a diagnosis names and a plan works on. One type, parsed once at the edge and
//! printed with the same ids files have always used (`case->proposal`, `volume:lead`,
//! `volume:activity:case`, `coaching:agreed`), so ledgers and tables do not change.

use std::fmt;
use std::str::FromStr;

/// A manager's (or director's) coaching skill, judged on the plans of the people they coach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CoachingSkill {
    /// Share of the team's worksheets that ended with an agreed plan.
    Agreed,
    /// Share of agreed plans that were reviewed.
    Reviewed,
    /// Share of reviewed plans that improved.
    Improved,
    /// Share of agreed plans with the rep's own actions written down.
    Actions,
}

impl CoachingSkill {
    /// Every skill, in the order a sheet lists them.
    pub const ALL: [CoachingSkill; 4] = [
        CoachingSkill::Agreed,
        CoachingSkill::Reviewed,
        CoachingSkill::Improved,
        CoachingSkill::Actions,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CoachingSkill::Agreed => "agreed",
            CoachingSkill::Reviewed => "reviewed",
            CoachingSkill::Improved => "improved",
            CoachingSkill::Actions => "actions",
        }
    }

    /// Its position in [`CoachingSkill::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A lever of a funnel, or of coaching.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LeverId {
    /// The step-up rate from one stage to the next: `case->proposal`.
    Step { from: String, to: String },
    /// New deals a month at the first stage: `volume:lead`.
    LeadVolume { stage: String },
    /// Activities per deal at a stage: `volume:activity:case`.
    Activity { stage: String },
    /// A coaching skill: `coaching:agreed`.
    Coaching(CoachingSkill),
}

const STEP: &str = "->";
const VOLUME: &str = "volume:";
const ACTIVITY: &str = "activity:";
const COACHING: &str = "coaching:";

impl FromStr for LeverId {
    type Err = String;

    /// Reads a lever id by its shape alone; [`LeverId::parse`] also checks the stages.
    fn from_str(text: &str) -> Result<LeverId, String> {
        let t = text.trim();
        let bad = || format!("`{t}` is not a lever id (e.g. case->proposal, volume:lead)");
        if let Some(rest) = t.strip_prefix(COACHING) {
            return CoachingSkill::ALL
                .into_iter()
                .find(|s| s.name() == rest)
                .map(LeverId::Coaching)
                .ok_or_else(bad);
        }
        if let Some(rest) = t.strip_prefix(VOLUME) {
            let (activity, stage) = match rest.strip_prefix(ACTIVITY) {
                Some(stage) => (true, stage),
                None => (false, rest),
            };
            if stage.is_empty() || stage.contains(':') {
                return Err(bad());
            }
            let stage = stage.to_string();
            return Ok(if activity {
                LeverId::Activity { stage }
            } else {
                LeverId::LeadVolume { stage }
            });
        }
        match t.split_once(STEP) {
            Some((from, to)) if !from.is_empty() && !to.is_empty() && !to.contains(STEP) => {
                Ok(LeverId::Step { from: from.to_string(), to: to.to_string() })
            }
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for LeverId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeverId::Step { from, to } => write!(f, "{from}{STEP}{to}"),
            LeverId::LeadVolume { stage } => write!(f, "{VOLUME}{stage}"),
            LeverId::Activity { stage } => write!(f, "{VOLUME}{ACTIVITY}{stage}"),
            LeverId::Coaching(skill) => write!(f, "{COACHING}{}", skill.name()),
        }
    }
}

impl serde::Serialize for LeverId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for LeverId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<LeverId, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl LeverId {
    /// The step from stage `i` to stage `i + 1`.
    pub fn step(stages: &[String], i: usize) -> LeverId {
        LeverId::Step { from: stages[i].clone(), to: stages[i + 1].clone() }
    }

    /// New deals a month at the funnel's first stage.
    pub fn lead_volume(stages: &[String]) -> LeverId {
        LeverId::LeadVolume { stage: stages[0].clone() }
    }

    /// Every lever of a funnel with these stages: steps, lead volume, activities per stage.
    pub fn all(stages: &[String]) -> Vec<LeverId> {
        let mut out: Vec<LeverId> =
            (0..stages.len() - 1).map(|i| LeverId::step(stages, i)).collect();
        out.push(LeverId::lead_volume(stages));
        out.extend(
            stages[..stages.len() - 1].iter().map(|s| LeverId::Activity { stage: s.clone() }),
        );
        out
    }

    /// Parses a lever of a funnel with these stages; the error lists the valid ids.
    pub fn parse(text: &str, stages: &[String]) -> Result<LeverId, String> {
        let all = LeverId::all(stages);
        match text.parse::<LeverId>() {
            Ok(id) if all.contains(&id) => Ok(id),
            _ => {
                let ids: Vec<String> = all.iter().map(LeverId::to_string).collect();
                Err(format!("`{}` is not a lever id ({})", text.trim(), ids.join(", ")))
            }
        }
    }

    /// The two sides of a step as a person writes it: `Case → Proposal`, `case -> proposal`,
    /// `商談 > 提案`. The sides are not checked against any stages.
    pub fn printed_step(text: &str) -> Option<(&str, &str)> {
        text.split_once('→').or_else(|| text.split_once(STEP)).or_else(|| text.split_once('>'))
    }

    /// A step-up rate (a share in [0, 1]), rather than a volume or a coaching share.
    pub fn is_step(&self) -> bool {
        matches!(self, LeverId::Step { .. })
    }

    /// A count a month or per deal (lead volume, activities per deal).
    pub fn is_volume(&self) -> bool {
        matches!(self, LeverId::LeadVolume { .. } | LeverId::Activity { .. })
    }

    pub fn is_coaching(&self) -> bool {
        matches!(self, LeverId::Coaching(_))
    }

    /// The two stages of a step.
    pub fn stages(&self) -> Option<(&str, &str)> {
        match self {
            LeverId::Step { from, to } => Some((from, to)),
            _ => None,
        }
    }

    /// The index of a step's first stage among the funnel's stages.
    pub fn step_index(&self, stages: &[String]) -> Option<usize> {
        let (from, to) = self.stages()?;
        let i = stages.iter().position(|s| s == from)?;
        (stages.get(i + 1).map(String::as_str) == Some(to)).then_some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages() -> Vec<String> {
        ["lead", "case", "won"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_id_reads_back_as_it_prints() {
        for id in LeverId::all(&stages())
            .into_iter()
            .chain(CoachingSkill::ALL.into_iter().map(LeverId::Coaching))
        {
            assert_eq!(id.to_string().parse::<LeverId>(), Ok(id.clone()), "{id}");
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(serde_json::from_str::<LeverId>(&json).unwrap(), id);
        }
        assert_eq!(
            LeverId::all(&stages()).iter().map(LeverId::to_string).collect::<Vec<_>>(),
            [
                "lead->case",
                "case->won",
                "volume:lead",
                "volume:activity:lead",
                "volume:activity:case"
            ]
        );
    }

    #[test]
    fn ids_are_checked_against_the_stages() {
        assert_eq!(
            LeverId::parse("lead->case", &stages()),
            Ok(LeverId::Step { from: "lead".into(), to: "case".into() })
        );
        assert!(LeverId::parse("case->lead", &stages()).unwrap_err().contains("volume:lead"));
        assert!("coaching:bogus".parse::<LeverId>().is_err());
        assert!("volume:".parse::<LeverId>().is_err());
        assert!("a->b->c".parse::<LeverId>().is_err());
        assert_eq!(LeverId::step(&stages(), 1).step_index(&stages()), Some(1));
    }
}
