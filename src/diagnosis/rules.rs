//! Evaluates the playbook's hypotheses for a lever against a rep's and the peers' indicators.

use super::types::{HypothesisResult, HypothesisStatus, Indicators, LeverId};
use crate::model::playbook::Playbook;
use crate::model::rules::{column_needed, environment};
use anyhow::Result;
use minijinja::value::{Serde, Value};

/// Looks up `contacts_per_deal.case` or `leads_per_month` in serialized indicators.
fn lookup<'a>(ind: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(ind, |v, key| v.get(key)).filter(|v| !v.is_null())
}

/// Renders the Japanese evidence sentence beside the English one.
fn localize_evidence(
    result: &mut HypothesisResult,
    h: &crate::model::rules::Hypothesis,
    env: &minijinja::Environment,
    ctx: &minijinja::Value,
) {
    let template = h.ja.as_ref().and_then(|j| j.evidence.as_deref());
    if let (Some(ja), Some(t)) = (result.ja.as_mut(), template) {
        ja.evidence = crate::model::rules::render_evidence(env, t, ctx).ok();
    }
}

/// The hypotheses of the rules for `lever`: supported ones first, strongest first, then the
/// ones the data does not support, then the ones it cannot check.
pub fn evaluate(
    playbook: &Playbook,
    lever: &LeverId,
    rep: &Indicators,
    peers: &Indicators,
) -> Result<Vec<HypothesisResult>> {
    let env = environment();
    let rep_json = serde_json::to_value(rep)?;
    let peers_json = serde_json::to_value(peers)?;
    let ctx =
        minijinja::context! { rep => Value::from(Serde(rep)), peers => Value::from(Serde(peers)) };
    let mut out = Vec::new();
    for rule in playbook.rules.iter().filter(|r| &r.lever == lever) {
        for h in &rule.hypotheses {
            let missing: Vec<String> = h
                .needs
                .iter()
                .filter(|n| lookup(&rep_json, n).is_none() || lookup(&peers_json, n).is_none())
                .map(|n| column_needed(n).to_string())
                .collect();
            let mut result = HypothesisResult {
                id: h.id.clone(),
                title: h.title.clone(),
                status: HypothesisStatus::NotCheckable,
                strength: None,
                evidence: None,
                needs_columns: Vec::new(),
                checks: h.checks.clone(),
                questions: h.questions.clone(),
                ja: h.ja.clone().map(|mut j| {
                    j.evidence = None;
                    j
                }),
            };
            if !missing.is_empty() {
                let mut cols = missing;
                cols.dedup();
                result.needs_columns = cols;
                out.push(result);
                continue;
            }
            // An expression that fails on real numbers (a division by a zero median, say)
            // leaves the hypothesis unchecked rather than failing the whole diagnosis.
            let when =
                env.compile_expression(&h.when).and_then(|e| e.eval(&ctx)).map(|v| v.is_true());
            match when {
                Ok(true) => {
                    let strength = env
                        .compile_expression(&h.strength)
                        .and_then(|e| e.eval(&ctx))
                        .ok()
                        .and_then(|v| f64::try_from(v).ok())
                        .filter(|s| s.is_finite());
                    result.status = HypothesisStatus::Supported;
                    result.strength = Some(strength.unwrap_or(0.0));
                    result.evidence =
                        crate::model::rules::render_evidence(&env, &h.evidence, &ctx).ok();
                    localize_evidence(&mut result, h, &env, &ctx);
                }
                Ok(false) => {
                    result.status = HypothesisStatus::NotSupported;
                    result.evidence =
                        crate::model::rules::render_evidence(&env, &h.evidence, &ctx).ok();
                    localize_evidence(&mut result, h, &env, &ctx);
                }
                Err(_) => result.needs_columns = vec!["indicators that are not zero".into()],
            }
            out.push(result);
        }
    }
    let rank = |h: &HypothesisResult| match h.status {
        HypothesisStatus::Supported => 0,
        HypothesisStatus::NotSupported => 1,
        HypothesisStatus::NotCheckable => 2,
    };
    out.sort_by(|a, b| {
        rank(a).cmp(&rank(b)).then(b.strength.unwrap_or(0.0).total_cmp(&a.strength.unwrap_or(0.0)))
    });
    Ok(out)
}
