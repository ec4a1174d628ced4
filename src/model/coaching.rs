//! Coaching up the tree as playbook data: the skills of a manager's (or director's) coaching,
//! with the hypotheses, checks and questions for the level above.

use serde::{Deserialize, Serialize};

use crate::model::lever::{CoachingSkill, LeverId};

/// The coaching levers, in the order a sheet lists them.
pub fn coaching_levers() -> [LeverId; 4] {
    CoachingSkill::ALL.map(LeverId::Coaching)
}

/// One coaching lever's rule: what to discuss when it is the focus.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CoachingRule {
    pub lever: LeverId,
    #[serde(flatten)]
    pub text: CoachingText,
    /// The same text in Japanese.
    #[serde(default)]
    pub ja: Option<CoachingText>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CoachingText {
    pub title: String,
    #[serde(default)]
    pub hypotheses: Vec<String>,
    #[serde(default)]
    pub checks: Vec<String>,
    #[serde(default)]
    pub questions: Vec<String>,
}

impl CoachingRule {
    /// The text in a language, English when the rule has no translation.
    pub fn text(&self, lang: crate::model::values::Lang) -> &CoachingText {
        match (lang, &self.ja) {
            (crate::model::values::Lang::Ja, Some(ja)) => ja,
            _ => &self.text,
        }
    }
}

/// Checks a playbook's coaching rules: known levers, each once.
pub fn validate(rules: &[CoachingRule], origin: &str) -> anyhow::Result<()> {
    for (i, r) in rules.iter().enumerate() {
        if !r.lever.is_coaching() {
            let ids: Vec<String> = coaching_levers().iter().map(ToString::to_string).collect();
            anyhow::bail!(
                "{origin}: key `coaching.lever`: expected one of {}, found {:?}",
                ids.join(", "),
                r.lever.to_string()
            );
        }
        if rules[..i].iter().any(|o| o.lever == r.lever) {
            anyhow::bail!("{origin}: coaching lever {:?} has two rules", r.lever.to_string());
        }
    }
    Ok(())
}
