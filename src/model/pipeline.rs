//! A playbook for a pipeline of one's own: stage ids from the CRM's labels, the labels kept
//! as written (accents and all), and the built-in rules moved onto the steps where they fit.

use crate::model::playbook::DEFAULT_PLAYBOOK;
use anyhow::{Result, bail};

/// A stage of the pipeline: its id in the playbook and its label as the CRM spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageLabel {
    pub id: String,
    pub label: String,
}

/// The pipeline, in order, and its losing outcomes.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub stages: Vec<StageLabel>,
    pub lost: Vec<StageLabel>,
}

/// Words that name a lost outcome in the languages CRMs are set up in.
const LOST_WORDS: &[&str] =
    &["lost", "perdid", "perdu", "verlor", "abandon", "失注", "不成立", "disqualif", "cancel"];
/// Words that name the win.
const WON_WORDS: &[&str] = &["won", "ganad", "gagn", "gewonnen", "vinto", "受注", "成約"];

fn names(label: &str, words: &[&str]) -> bool {
    let l = label.to_lowercase();
    words.iter().any(|w| l.contains(w))
}

impl Pipeline {
    /// The pipeline of `labels` in order; labels that name a loss become outcomes, and
    /// `lost` adds more. Without a lost outcome, `lost` ("Lost") is added.
    pub fn from_labels(labels: &[String], lost: &[String]) -> Result<Pipeline> {
        let clean = |v: &[String]| -> Vec<String> {
            v.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
        };
        let (labels, extra_lost) = (clean(labels), clean(lost));
        let (losses, mut stages): (Vec<String>, Vec<String>) =
            labels.into_iter().partition(|l| names(l, LOST_WORDS));
        // The win ends the funnel, wherever the export listed it.
        if let Some(i) = stages.iter().position(|l| names(l, WON_WORDS))
            && i + 1 != stages.len()
        {
            let won = stages.remove(i);
            stages.push(won);
        }
        if stages.len() < 2 {
            bail!(
                "--stages: a pipeline needs at least two stages, the first one and the win (got {})",
                stages.join(", ")
            );
        }
        if stages.len() > 32 {
            bail!("--stages: at most 32 stages (got {})", stages.len());
        }
        let mut lost_labels: Vec<String> = losses.into_iter().chain(extra_lost).collect();
        if lost_labels.is_empty() {
            lost_labels.push("Lost".into());
        }
        let mut used = Vec::new();
        let mut label = |l: String| {
            let id = unique_id(&l, &used);
            used.push(id.clone());
            StageLabel { id, label: l }
        };
        let stages = stages.into_iter().map(&mut label).collect();
        let lost = lost_labels.into_iter().map(&mut label).collect();
        Ok(Pipeline { stages, lost })
    }

    /// The built-in rules' steps (lead → case, case → proposal, proposal → quote, quote →
    /// won) on this pipeline's steps: the first and last steps keep theirs, the second and the
    /// one before the last follow where the pipeline is long enough.
    fn step_of_default(&self, default_step: usize) -> Option<usize> {
        let steps = self.stages.len() - 1;
        match default_step {
            0 => Some(0),
            1 => (1 < steps - 1).then_some(1),
            2 => (steps >= 2 && steps - 2 > 1).then(|| steps - 2),
            3 => (steps > 1).then(|| steps - 1),
            _ => None,
        }
    }

    /// This pipeline's steps that no built-in rule moves onto (a long pipeline's middle), as
    /// "From → To" labels.
    pub fn steps_without_rules(&self) -> Vec<String> {
        let covered: Vec<usize> = (0..4).filter_map(|d| self.step_of_default(d)).collect();
        (0..self.stages.len().saturating_sub(1))
            .filter(|s| !covered.contains(s))
            .map(|s| format!("{} → {}", self.stages[s].label, self.stages[s + 1].label))
            .collect()
    }

    /// Where each built-in stage falls on this pipeline, for the rules that read a stage's
    /// indicators.
    fn stage_of_default(&self, default: &str) -> Option<&str> {
        let id = |i: usize| self.stages.get(i).map(|s| s.id.as_str());
        match default {
            "lead" => id(0),
            "case" => self.step_of_default(1).map_or(id(1), id),
            "proposal" => self.step_of_default(2).and_then(id),
            "quote" => self.step_of_default(3).and_then(id),
            "won" => id(self.stages.len() - 1),
            _ => None,
        }
    }

    /// The built-in playbook rewritten for this pipeline, and what was left out.
    pub fn playbook(&self) -> (String, Vec<String>) {
        let mut out = String::new();
        let mut notes = Vec::new();
        let mut section = String::new();
        let mut block: Vec<String> = Vec::new();
        let mut targets_done = std::collections::BTreeSet::new();
        for line in DEFAULT_PLAYBOOK.lines() {
            let trimmed = line.trim();
            let is_header = trimmed.starts_with('[');
            // A `[[rules]]` block runs to the next rule, the coaching part or a comment.
            if !block.is_empty()
                && (trimmed == "[[rules]]" || trimmed == "[[coaching]]" || trimmed.starts_with('#'))
            {
                self.flush_rule(&mut block, &mut out, &mut notes, &mut targets_done);
            }
            if trimmed == "[[rules]]" {
                block.push(line.to_string());
                section = trimmed.to_string();
                continue;
            }
            if !block.is_empty() {
                block.push(line.to_string());
                continue;
            }
            if is_header {
                section = trimmed.to_string();
                out.push_str(line);
                out.push('\n');
                out.push_str(&self.section_body(&section));
                continue;
            }
            if let Some(kept) = self.rewrite_line(&section, line) {
                out.push_str(&kept);
                out.push('\n');
            }
        }
        if !block.is_empty() {
            self.flush_rule(&mut block, &mut out, &mut notes, &mut targets_done);
        }
        (out, notes)
    }

    /// The lines a section starts with: the labels and aliases of this pipeline.
    fn section_body(&self, section: &str) -> String {
        let all = || self.stages.iter().chain(&self.lost);
        match section {
            "[funnel.display.en]" | "[funnel.display.ja]" => {
                all().map(|s| format!("{} = {}\n", s.id, quoted(&s.label))).collect()
            }
            "[aliases]" => all()
                .map(|s| {
                    let mut spellings = vec![s.label.clone()];
                    if s.id != s.label.to_lowercase() {
                        spellings.push(s.id.clone());
                    }
                    let list: Vec<String> = spellings.iter().map(|x| quoted(x)).collect();
                    format!("{} = [{}]\n", s.id, list.join(", "))
                })
                .collect(),
            _ => String::new(),
        }
    }

    /// A line outside the rules, kept, rewritten for this pipeline, or dropped (`None`).
    fn rewrite_line(&self, section: &str, line: &str) -> Option<String> {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return Some(line.to_string());
        }
        let ids = |v: &[StageLabel]| v.iter().map(|s| quoted(&s.id)).collect::<Vec<_>>().join(", ");
        match section {
            "[funnel]" if trimmed.starts_with("stages =") => {
                Some(format!("stages = [{}]", ids(&self.stages)))
            }
            "[funnel]" if trimmed.starts_with("terminal =") => {
                Some(format!("terminal = [{}]", ids(&self.lost)))
            }
            "[funnel.display.en]" | "[funnel.display.ja]" | "[aliases]" => None,
            "[funnel.windows]" | "[diagnosis.targets]" => {
                let (key, value) = trimmed.split_once('=')?;
                let lever = key.trim().trim_matches('"');
                let (from, to) = lever.split_once("->")?;
                let i = ["lead", "case", "proposal", "quote"].iter().position(|s| *s == from)?;
                let j = self.step_of_default(i)?;
                debug_assert!(["case", "proposal", "quote", "won"][i] == to);
                let (a, b) = (&self.stages[j].id, &self.stages[j + 1].id);
                Some(format!("\"{a}->{b}\" ={value}"))
            }
            _ => Some(line.to_string()),
        }
    }

    /// Writes one built-in rule moved onto this pipeline, or notes that it has no step here.
    fn flush_rule(
        &self,
        block: &mut Vec<String>,
        out: &mut String,
        notes: &mut Vec<String>,
        seen: &mut std::collections::BTreeSet<String>,
    ) {
        let lines = std::mem::take(block);
        let lever = lines
            .iter()
            .find_map(|l| {
                l.trim().strip_prefix("lever = ").map(|v| v.trim_matches('"').to_string())
            })
            .unwrap_or_default();
        let Some((new_lever, map)) = self.map_lever(&lever) else {
            notes.push(format!("the built-in rule for {lever} has no step in this pipeline"));
            return;
        };
        if !seen.insert(new_lever.clone()) {
            notes
                .push(format!("the built-in rule for {lever} falls on {new_lever}, which has one"));
            return;
        }
        for line in lines {
            let line = if line.trim().starts_with("lever = ") {
                format!("lever = \"{new_lever}\"")
            } else {
                replace_stage_tokens(&line, &map)
            };
            out.push_str(&line);
            out.push('\n');
        }
    }

    /// A built-in lever on this pipeline, with how its stage names translate.
    fn map_lever(&self, lever: &str) -> Option<(String, Vec<(&'static str, String)>)> {
        const DEFAULTS: [&str; 5] = ["lead", "case", "proposal", "quote", "won"];
        let mut map: Vec<(&'static str, String)> = DEFAULTS
            .iter()
            .filter_map(|d| self.stage_of_default(d).map(|s| (*d, s.to_string())))
            .collect();
        let set = |map: &mut Vec<(&'static str, String)>, k: &'static str, v: &str| {
            map.retain(|(d, _)| *d != k);
            map.push((k, v.to_string()));
        };
        if let Some((from, to)) = lever.split_once("->") {
            let i = DEFAULTS.iter().position(|s| *s == from)?;
            debug_assert_eq!(DEFAULTS[i + 1], to);
            let j = self.step_of_default(i)?;
            let (a, b) = (self.stages[j].id.clone(), self.stages[j + 1].id.clone());
            set(&mut map, DEFAULTS[i], &a);
            set(&mut map, DEFAULTS[i + 1], &b);
            return Some((format!("{a}->{b}"), map));
        }
        if let Some(stage) = lever.strip_prefix("volume:activity:") {
            let to = self.stage_of_default(stage)?;
            // The last stage has no step out of it, so no activity lever.
            if to == self.stages[self.stages.len() - 1].id {
                return None;
            }
            return Some((format!("volume:activity:{to}"), map));
        }
        if let Some(stage) = lever.strip_prefix("volume:") {
            let to = self.stage_of_default(stage)?;
            return Some((format!("volume:{to}"), map));
        }
        None
    }
}

/// `contacts_per_deal.case` → `contacts_per_deal.<the stage case maps to>`: a built-in stage
/// name after a dot and before a non-identifier character.
fn replace_stage_tokens(line: &str, map: &[(&'static str, String)]) -> String {
    let mut out = String::with_capacity(line.len());
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < line.len() {
        if bytes[i] == b'.' && i > 0 && is_ident_byte(bytes[i - 1]) {
            let rest = &line[i + 1..];
            let hit = map.iter().find(|(d, _)| {
                rest.starts_with(d)
                    && rest.as_bytes().get(d.len()).is_none_or(|b| !is_ident_byte(*b))
            });
            if let Some((d, to)) = hit {
                out.push('.');
                out.push_str(to);
                i += 1 + d.len();
                continue;
            }
        }
        let c = line[i..].chars().next().expect("in bounds");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A lower_snake_case id from a label: accents dropped ("Diseño Propuesta" → diseno_propuesta),
/// `stage_N` where nothing Latin is left (リード), a number added where two would be the same.
fn unique_id(label: &str, used: &[String]) -> String {
    let mut id = String::new();
    for c in label.chars().flat_map(fold_accent) {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('_') && !id.is_empty() {
            id.push('_');
        }
    }
    let id = id.trim_matches('_').to_string();
    let id = if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) {
        format!(
            "stage_{}{}",
            used.len() + 1,
            if id.is_empty() { String::new() } else { format!("_{id}") }
        )
    } else {
        id
    };
    let mut candidate = id.clone();
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = format!("{id}_{n}");
        n += 1;
    }
    candidate
}

/// The letter without its accent, for the Latin letters CRMs' stage names use.
fn fold_accent(c: char) -> Vec<char> {
    let plain = match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'Á' | 'À' | 'Â' | 'Ä' | 'Ã' | 'Å' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'Ó' | 'Ò' | 'Ô' | 'Ö' | 'Õ' => 'o',
        'ú' | 'ù' | 'û' | 'ü' | 'Ú' | 'Ù' | 'Û' | 'Ü' => 'u',
        'ñ' | 'Ñ' => 'n',
        'ç' | 'Ç' => 'c',
        'ß' => return vec!['s', 's'],
        other => other,
    };
    vec![plain]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::playbook::Playbook;

    fn labels(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ids_keep_the_letters_and_drop_the_accents() {
        assert_eq!(unique_id("Diseño Propuesta", &[]), "diseno_propuesta");
        assert_eq!(unique_id("Interés", &[]), "interes");
        assert_eq!(unique_id("リード", &[]), "stage_1");
        assert_eq!(unique_id("Closed Won", &["closed_won".into()]), "closed_won_2");
    }

    #[test]
    fn losses_become_outcomes_and_the_win_ends_the_funnel() {
        let p = Pipeline::from_labels(
            &labels(&["Interés", "Ganado", "Diseño Propuesta", "Perdido"]),
            &[],
        )
        .unwrap();
        let ids: Vec<&str> = p.stages.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["interes", "diseno_propuesta", "ganado"]);
        assert_eq!(p.lost[0].id, "perdido");
        assert_eq!(p.stages[1].label, "Diseño Propuesta");
    }

    #[test]
    fn every_length_of_pipeline_gives_a_playbook_that_loads_with_rules() {
        for n in 2..=9 {
            let names: Vec<String> = (0..n).map(|i| format!("Etapa {i}")).collect();
            let p = Pipeline::from_labels(&names, &[]).unwrap();
            let (text, _) = p.playbook();
            let pb =
                Playbook::parse(&text, "generated").unwrap_or_else(|e| panic!("{n}: {e}\n{text}"));
            assert!(pb.warnings.is_empty(), "{n}: {:?}", pb.warnings);
            assert_eq!(pb.stages.len(), n);
            let step_rules = pb.rules.iter().filter(|r| r.lever.is_step()).count();
            assert_eq!(step_rules, (n - 1).min(4), "{n} stages");
            assert!(pb.rules.iter().any(|r| r.lever.to_string() == "volume:etapa_0"));
            assert_eq!(pb.display["en"]["etapa_1"], "Etapa 1");
        }
    }

    #[test]
    fn a_six_stage_pipeline_moves_the_rules_onto_its_steps() {
        let p = Pipeline::from_labels(
            &labels(&["Interes", "Diseño Propuesta", "Demo", "Negociación", "Contrato", "Ganado"]),
            &labels(&["Perdido"]),
        )
        .unwrap();
        let (text, notes) = p.playbook();
        let pb = Playbook::parse(&text, "generated").unwrap();
        let levers: Vec<String> = pb.rules.iter().map(|r| r.lever.to_string()).collect();
        assert!(levers.contains(&"interes->diseno_propuesta".to_string()), "{levers:?}");
        assert!(levers.contains(&"diseno_propuesta->demo".to_string()), "{levers:?}");
        assert!(levers.contains(&"negociacion->contrato".to_string()), "{levers:?}");
        assert!(levers.contains(&"contrato->ganado".to_string()), "{levers:?}");
        assert!(text.contains("contacts_per_deal.diseno_propuesta"), "{text}");
        assert!(!text.contains("contacts_per_deal.case"));
        assert!(notes.iter().all(|n| !n.contains("->")), "{notes:?}");
    }
}
