//! The diagnosis settings and the rule set of the playbook: data that users edit, checked
//! when the playbook loads (syntax, levers, indicator names) before any data is read.

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How the benchmark of a lever is chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BenchmarkPolicy {
    /// Median of the shrunk rates of all reps (default).
    #[default]
    PeerMedian,
    /// Median of the shrunk rates of the reps with the same manager.
    TeamMedian,
    /// 75th percentile of the shrunk rates of all reps.
    TopQuartile,
    /// `diagnosis.targets` from the playbook.
    Fixed,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosisSettings {
    /// Posterior probability that a lever is below its benchmark needed to focus on it.
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    #[serde(default)]
    pub benchmark: BenchmarkPolicy,
    /// Months of data per diagnosis (the period and the ones before it).
    #[serde(default = "default_lookback")]
    pub lookback: u32,
    /// Fixed targets per lever id, for `benchmark = "fixed"`.
    #[serde(default)]
    pub targets: BTreeMap<String, f64>,
    /// Wins a rep needs for their own average deal size to price their impact.
    #[serde(default = "default_min_wins")]
    pub min_wins_for_amount: u64,
    /// Won deals a month a lever must be worth to be offered for coaching, as focus or suggestion.
    #[serde(default = "default_min_impact_won")]
    pub min_impact_won: f64,
}

impl Default for DiagnosisSettings {
    fn default() -> Self {
        DiagnosisSettings {
            confidence: default_confidence(),
            benchmark: BenchmarkPolicy::default(),
            lookback: default_lookback(),
            targets: BTreeMap::new(),
            min_wins_for_amount: default_min_wins(),
            min_impact_won: default_min_impact_won(),
        }
    }
}

fn default_confidence() -> f64 {
    0.8
}
fn default_lookback() -> u32 {
    3
}
fn default_min_wins() -> u64 {
    3
}
fn default_min_impact_won() -> f64 {
    0.1
}

/// A rule: the hypotheses to check when a lever is the focus.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub lever: crate::model::lever::LeverId,
    #[serde(default)]
    pub hypotheses: Vec<Hypothesis>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Hypothesis {
    pub id: String,
    pub title: String,
    /// Expression over `rep.*` and `peers.*`: true when the data supports the hypothesis.
    pub when: String,
    /// Expression giving the strength of the evidence (higher ranks first).
    pub strength: String,
    /// Template of the sentence that shows the evidence.
    pub evidence: String,
    /// Indicators the hypothesis reads; when the rep has none of them it is not checkable.
    #[serde(default)]
    pub needs: Vec<String>,
    /// What to look into more deeply.
    #[serde(default)]
    pub checks: Vec<String>,
    /// Questions for the manager to ask, so that the salesperson analyses the result.
    #[serde(default)]
    pub questions: Vec<String>,
    /// The title, evidence, checks and questions in Japanese (`--lang ja`).
    #[serde(default)]
    pub ja: Option<HypothesisText>,
}

/// A hypothesis's words in another language.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HypothesisText {
    pub title: String,
    /// Template of the evidence sentence, over the same indicators.
    #[serde(default)]
    pub evidence: Option<String>,
    #[serde(default)]
    pub checks: Vec<String>,
    #[serde(default)]
    pub questions: Vec<String>,
}

/// Indicators keyed by stage (`rep.contacts_per_deal.case`).
pub const STAGE_INDICATORS: [&str; 4] =
    ["rate", "contacts_per_deal", "touched_share", "personalized_share"];
/// Indicators of the rep as a whole (`rep.leads_per_month`).
pub const REP_INDICATORS: [&str; 6] = [
    "leads_per_month",
    "won_per_month",
    "first_contact_hours",
    "first_call_connected_share",
    "first_call_duration_s",
    "lead_won_rate",
];

/// The column of the activities table an indicator needs, for "not checkable" messages.
pub fn column_needed(indicator: &str) -> &'static str {
    match indicator.split('.').next().unwrap_or("") {
        "personalized_share" => "activities.personalized",
        "first_call_connected_share" => "activities.outcome",
        "first_call_duration_s" => "activities.duration_s",
        "contacts_per_deal" | "touched_share" | "first_contact_hours" => {
            "activities (--activities)"
        }
        _ => "events",
    }
}

/// A context in which every known indicator exists, for checking expressions at load time.
pub fn probe_context(stages: &[String]) -> minijinja::Value {
    let mut side = BTreeMap::new();
    for ind in STAGE_INDICATORS {
        let mut per_stage: BTreeMap<String, f64> =
            stages.iter().map(|s| (s.clone(), 0.5)).collect();
        per_stage.insert("all".into(), 0.5);
        side.insert(ind.to_string(), minijinja::Value::from(minijinja::value::Serde(&per_stage)));
    }
    for ind in REP_INDICATORS {
        side.insert(ind.to_string(), minijinja::Value::from(0.5));
    }
    let side = minijinja::Value::from(minijinja::value::Serde(&side));
    minijinja::context! { rep => side.clone(), peers => side }
}

/// Instructions a rule's expression or evidence template may run: a rule is a few lookups and
/// comparisons, so a template that loops for long is a mistake or an attack, not a rule.
pub const RULE_FUEL: u64 = 50_000;

/// The longest evidence text a rule may render.
pub const MAX_EVIDENCE_BYTES: usize = 4 * 1024;

/// The environment rules are evaluated in: strict, so that a misspelt indicator is an error,
/// and with fuel, so that a looping template stops.
pub fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_fuel(Some(RULE_FUEL));
    env.set_recursion_limit(50);
    env
}

/// Renders an evidence template, refusing output past [`MAX_EVIDENCE_BYTES`].
pub fn render_evidence(
    env: &minijinja::Environment<'_>,
    template: &str,
    ctx: &minijinja::Value,
) -> Result<String, minijinja::Error> {
    struct Capped(Vec<u8>);
    impl std::io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0.len() + buf.len() > MAX_EVIDENCE_BYTES {
                return Err(std::io::Error::other("evidence too long"));
            }
            self.0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let tmpl = env.template_from_str(template)?;
    let mut out = Capped(Vec::new());
    tmpl.render_captured_to(ctx.clone(), &mut out).map_err(|e| {
        if out.0.len() + 1 > MAX_EVIDENCE_BYTES || e.kind() == minijinja::ErrorKind::WriteFailure {
            minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("renders more than {MAX_EVIDENCE_BYTES} bytes"),
            )
        } else {
            e
        }
    })?;
    Ok(String::from_utf8_lossy(&out.0).into_owned())
}

/// All lever ids of a funnel, as printed: transitions, lead volume, activity volume per stage.
pub fn lever_ids(stages: &[String]) -> Vec<String> {
    crate::model::lever::LeverId::all(stages).iter().map(ToString::to_string).collect()
}

/// Checks every rule: known lever, expressions that parse and only read known indicators,
/// evidence templates that render.
/// A rule for a lever this funnel lacks (written for another pipeline) is left out with a
/// warning; the rules kept are returned.
pub fn validate(
    rules: Vec<Rule>,
    stages: &[String],
    origin: &str,
    text: &str,
) -> Result<(Vec<Rule>, Vec<String>)> {
    let levers = crate::model::lever::LeverId::all(stages);
    let env = environment();
    let ctx = probe_context(stages);
    let mut kept = Vec::with_capacity(rules.len());
    let mut warnings = Vec::new();
    for rule in rules {
        if !levers.contains(&rule.lever) {
            warnings.push(format!(
                "warning: {origin}{}: the rule for `{}` names a lever this funnel lacks (it has {}): left out",
                line_hint(text, &rule.lever.to_string()),
                rule.lever,
                lever_ids(stages).join(", ")
            ));
            continue;
        }
        for h in &rule.hypotheses {
            for (key, expr) in [("when", &h.when), ("strength", &h.strength)] {
                let fail = |e: minijinja::Error| {
                    anyhow::anyhow!(
                        "{origin}{}: rule `{}`, hypothesis `{}`: bad `{key}` expression {expr:?}: {}",
                        line_hint(text, expr),
                        rule.lever,
                        h.id,
                        describe(&e)
                    )
                };
                let compiled = env.compile_expression(expr).map_err(fail)?;
                compiled.eval(&ctx).map_err(fail)?;
            }
            let ja_evidence = h.ja.as_ref().and_then(|j| j.evidence.as_deref());
            for template in std::iter::once(h.evidence.as_str()).chain(ja_evidence) {
                render_evidence(&env, template, &ctx).map_err(|e| {
                    anyhow::anyhow!(
                        "{origin}{}: rule `{}`, hypothesis `{}`: bad `evidence` template: {}",
                        line_hint(text, &h.id),
                        rule.lever,
                        h.id,
                        describe(&e)
                    )
                })?;
            }
            for n in &h.needs {
                let head = n.split('.').next().unwrap_or("");
                if !STAGE_INDICATORS.contains(&head) && !REP_INDICATORS.contains(&head) {
                    bail!(
                        "{origin}{}: rule `{}`, hypothesis `{}`: `needs` names unknown indicator `{n}`",
                        line_hint(text, &h.id),
                        rule.lever,
                        h.id
                    );
                }
            }
        }
        kept.push(rule);
    }
    Ok((kept, warnings))
}

fn describe(e: &minijinja::Error) -> String {
    let mut s = e.kind().to_string();
    if let Some(detail) = e.detail() {
        s.push_str(": ");
        s.push_str(detail);
    }
    if let Some(range) = e.range() {
        s.push_str(&format!(" (at characters {}..{})", range.start, range.end));
    }
    s
}

fn line_hint(text: &str, needle: &str) -> String {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(String::new(), |i| format!(" (line {})", i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages() -> Vec<String> {
        ["lead", "case", "proposal", "quote", "won"].map(String::from).to_vec()
    }

    fn rule(lever: &str, when: &str) -> Vec<Rule> {
        vec![Rule {
            lever: lever.parse().unwrap(),
            hypotheses: vec![Hypothesis {
                id: "h1".into(),
                title: "t".into(),
                when: when.into(),
                strength: "1".into(),
                evidence: "{{ rep.leads_per_month }}".into(),
                needs: vec![],
                checks: vec![],
                questions: vec![],
                ja: None,
            }],
        }]
    }

    #[test]
    fn good_rules_pass_and_bad_ones_name_the_rule() {
        let ok = rule(
            "case->proposal",
            "rep.contacts_per_deal.case < 0.7 * peers.contacts_per_deal.case",
        );
        assert_eq!(validate(ok, &stages(), "p", "").unwrap().0.len(), 1);
        // A rule for a lever this funnel lacks is left out with a warning, not refused.
        let (kept, warnings) = validate(rule("case->won", "true"), &stages(), "p", "").unwrap();
        assert!(kept.is_empty());
        assert!(
            warnings[0].contains("`case->won` names a lever this funnel lacks"),
            "{warnings:?}"
        );
        let e =
            validate(rule("case->proposal", "rep.contacts_per_deal.case <"), &stages(), "p", "")
                .unwrap_err()
                .to_string();
        assert!(e.contains("hypothesis `h1`") && e.contains("syntax"), "{e}");
        let e = validate(rule("case->proposal", "rep.calls_per_deal.case > 1"), &stages(), "p", "")
            .unwrap_err()
            .to_string();
        assert!(e.contains("hypothesis `h1`") && e.contains("undefined"), "{e}");
    }
}
