//! The playbook: one TOML file holding a sales organisation's method (funnel stages, aliases,
//! windows, level names), checked when it loads so that a mistake fails before any data is read.

use crate::model::lever::LeverId;
use crate::model::rules::{DiagnosisSettings, Rule};
use anyhow::{Context, Result, bail};
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The longest diagnosis window a playbook may set: ten years of months.
pub const MAX_LOOKBACK_MONTHS: u32 = 120;
/// The longest step-up window a playbook may set: ten years of days (`--window none`).
pub const MAX_WINDOW_DAYS: u32 = 3650;

pub const DEFAULT_PLAYBOOK: &str = include_str!("../../templates/playbook.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlaybook {
    #[serde(default = "default_tz")]
    timezone: String,
    funnel: RawFunnel,
    #[serde(default)]
    aliases: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    levels: BTreeMap<String, String>,
    #[serde(default)]
    diagnosis: DiagnosisSettings,
    #[serde(default)]
    rules: Vec<Rule>,
    #[serde(default)]
    coaching: Vec<crate::model::coaching::CoachingRule>,
    /// ISO 4217 code of the amounts (`JPY`, `USD`, …), for money on the sheets.
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    data: RawData,
}

/// What dates the data may hold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawData {
    /// The plausible years of a timestamp, first and last.
    #[serde(default = "default_years")]
    years: [i32; 2],
}

impl Default for RawData {
    fn default() -> RawData {
        RawData { years: default_years() }
    }
}

fn default_years() -> [i32; 2] {
    [1990, 2100]
}

fn default_tz() -> String {
    "UTC".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunnel {
    stages: Vec<String>,
    #[serde(default)]
    terminal: Vec<String>,
    #[serde(default = "default_window")]
    window_days: u32,
    #[serde(default)]
    windows: BTreeMap<String, u32>,
    #[serde(default = "default_stale")]
    stale_after_days: u32,
    #[serde(default)]
    display: BTreeMap<String, BTreeMap<String, String>>,
}

fn default_window() -> u32 {
    90
}

/// Longer than any silence between two events of one deal in the sample organisation (145
/// days; 99.9% are under 100), so a deal still being worked is not closed by it.
pub const DEFAULT_STALE_AFTER_DAYS: u32 = 180;

fn default_stale() -> u32 {
    DEFAULT_STALE_AFTER_DAYS
}

/// A stage code: `0..stages.len()` are funnel stages in order, the rest terminal outcomes.
pub type StageCode = u8;

/// The checked playbook that commands use.
#[derive(Debug, Clone)]
pub struct Playbook {
    pub timezone: Tz,
    pub stages: Vec<String>,
    pub terminal: Vec<String>,
    /// Window in days per transition `i -> i+1`, indexed by `i`.
    pub windows: Vec<u32>,
    /// An open deal with no event for this many days counts as lost (`funnel.stale_after_days`).
    pub stale_after_days: u32,
    pub display: BTreeMap<String, BTreeMap<String, String>>,
    /// Role label (lower-case) to level name.
    pub levels: HashMap<String, String>,
    pub diagnosis: DiagnosisSettings,
    pub rules: Vec<Rule>,
    /// ISO 4217 code of the amounts, when the playbook or `--currency` gives it.
    pub currency: Option<String>,
    /// What the playbook named that this funnel lacks, left out (one line each).
    pub warnings: Vec<String>,
    /// `--rates`: amounts in other currencies are converted to the rates' corporate one.
    pub rates: Option<std::sync::Arc<crate::model::money::Rates>>,
    /// The coaching levers' rules (the built-in ones when the playbook has none).
    pub coaching: Vec<crate::model::coaching::CoachingRule>,
    /// The plausible years of the data's timestamps (`[data] years`), first and last.
    pub years: (i32, i32),
    /// Lower-cased, trimmed spelling to stage code.
    aliases: HashMap<String, StageCode>,
}

impl Playbook {
    pub fn default_playbook() -> Playbook {
        Playbook::parse(DEFAULT_PLAYBOOK, "the built-in playbook")
            .expect("built-in playbook is valid")
    }

    /// Loads `--config FILE`, or the built-in playbook without one.
    pub fn load(path: Option<&Path>) -> Result<Playbook> {
        match path {
            None => Ok(Playbook::default_playbook()),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading playbook {}", p.display()))?;
                Playbook::parse(&text, &p.display().to_string())
            }
        }
    }

    pub fn parse(text: &str, origin: &str) -> Result<Playbook> {
        let raw: RawPlaybook = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("{origin} is not a valid playbook: {e}"))?;
        let at =
            |needle: &str| line_of(text, needle).map_or(String::new(), |l| format!(" (line {l})"));
        let timezone: Tz = raw.timezone.parse().map_err(|_| {
            anyhow::anyhow!(
                "{origin}{}: key `timezone`: expected an IANA time zone such as \"Asia/Tokyo\", found {:?}",
                at("timezone"),
                raw.timezone
            )
        })?;
        let f = raw.funnel;
        if f.stages.len() < 2 {
            bail!("{origin}{}: key `funnel.stages`: expected at least two stages", at("stages"));
        }
        if f.stages.len() > 32 || f.terminal.len() > 32 {
            bail!("{origin}: key `funnel.stages`: expected at most 32 stages and 32 outcomes");
        }
        let mut aliases = HashMap::new();
        for (code, name) in f.stages.iter().chain(&f.terminal).enumerate() {
            if !is_identifier(name) {
                bail!(
                    "{origin}{}: key `funnel.stages`: expected lower_snake_case stage ids, found {name:?}; labels as your CRM spells them go in [funnel.display.en] and [aliases], or let `salescoach init DIR --stages \"{name},…\"` write the playbook of your pipeline",
                    at(&format!("\"{name}\""))
                );
            }
            if aliases.insert(name.to_lowercase(), code as StageCode).is_some() {
                bail!("{origin}{}: stage {name:?} is listed twice", at(&format!("\"{name}\"")));
            }
        }
        let canonical = aliases.clone();
        // Keys naming a stage this funnel lacks (a playbook written for another pipeline) are
        // left out with one warning each, not refused.
        let mut warnings = Vec::new();
        let stage_list =
            || f.stages.iter().chain(&f.terminal).cloned().collect::<Vec<_>>().join(", ");
        for (target, spellings) in &raw.aliases {
            let Some(&code) = canonical.get(target.as_str()) else {
                warnings.push(format!(
                    "warning: {origin}{}: key `aliases.{target}` names a stage this funnel lacks ({}): left out",
                    at(&format!("{target} =")),
                    stage_list()
                ));
                continue;
            };
            for s in spellings {
                let key = normalize(s);
                if let Some(&other) = aliases.get(&key)
                    && other != code
                {
                    bail!(
                        "{origin}{}: alias {s:?} maps to both `{target}` and another stage",
                        at(&format!("\"{s}\""))
                    );
                }
                aliases.insert(key, code);
            }
        }
        let mut windows = vec![f.window_days; f.stages.len() - 1];
        for (lever, days) in &f.windows {
            let Some(i) = f.stages.windows(2).position(|w| format!("{}->{}", w[0], w[1]) == *lever)
            else {
                warnings.push(format!(
                    "warning: {origin}{}: key `funnel.windows.\"{lever}\"` is not a transition between neighbouring stages of this funnel (such as \"{}->{}\"): left out",
                    at(lever),
                    f.stages[0],
                    f.stages[1]
                ));
                continue;
            };
            windows[i] = *days;
        }
        let levels = raw.levels.into_iter().map(|(k, v)| (normalize(&k), v)).collect();
        let d = &raw.diagnosis;
        if !(0.5..1.0).contains(&d.confidence) {
            bail!(
                "{origin}{}: key `diagnosis.confidence`: expected a probability in [0.5, 1), found {}",
                at("confidence"),
                d.confidence
            );
        }
        if !(1..=MAX_LOOKBACK_MONTHS).contains(&d.lookback) {
            bail!(
                "{origin}{}: key `diagnosis.lookback`: expected 1 to {MAX_LOOKBACK_MONTHS} months, found {}",
                at("lookback"),
                d.lookback
            );
        }
        if d.min_wins_for_amount > 1_000_000 {
            bail!(
                "{origin}{}: key `diagnosis.min_wins_for_amount`: expected 0 to 1000000, found {}",
                at("min_wins_for_amount"),
                d.min_wins_for_amount
            );
        }
        if !(0.0..=1000.0).contains(&d.min_impact_won) {
            bail!(
                "{origin}{}: key `diagnosis.min_impact_won`: expected 0 to 1000 won deals a month, found {}",
                at("min_impact_won"),
                d.min_impact_won
            );
        }
        if !(1..=MAX_WINDOW_DAYS).contains(&f.stale_after_days) {
            bail!(
                "{origin}{}: key `funnel.stale_after_days`: expected 1 to {MAX_WINDOW_DAYS} days, found {}",
                at("stale_after_days"),
                f.stale_after_days
            );
        }
        let windows_out_of_range = std::iter::once(f.window_days).chain(windows.iter().copied());
        if let Some(w) =
            windows_out_of_range.into_iter().find(|w| !(1..=MAX_WINDOW_DAYS).contains(w))
        {
            bail!(
                "{origin}{}: key `funnel.window_days` or `funnel.windows`: expected 1 to {MAX_WINDOW_DAYS} days, found {w}",
                at("window")
            );
        }
        let levers = crate::model::lever::LeverId::all(&f.stages);
        for (lever, target) in &d.targets {
            let parsed: Option<crate::model::lever::LeverId> = lever.parse().ok();
            if parsed.as_ref().is_some_and(|l| !levers.contains(l)) {
                warnings.push(format!(
                    "warning: {origin}{}: key `diagnosis.targets.\"{lever}\"` names a lever this funnel lacks: left out",
                    at(lever)
                ));
                continue;
            }
            if parsed.as_ref().is_none_or(|l| l.is_step() && !(0.0..=1.0).contains(target)) {
                bail!(
                    "{origin}{}: key `diagnosis.targets.\"{lever}\"`: expected a known lever with a rate in [0, 1]",
                    at(lever)
                );
            }
        }
        let [first, last] = raw.data.years;
        if !(1..=9999).contains(&first) || !(1..=9999).contains(&last) || first > last {
            bail!(
                "{origin}{}: key `data.years`: expected [first, last] with 1 ≤ first ≤ last ≤ 9999, found [{first}, {last}]",
                at("years")
            );
        }
        let (rules, rule_warnings) =
            crate::model::rules::validate(raw.rules, &f.stages, origin, text)?;
        warnings.extend(rule_warnings);
        crate::model::coaching::validate(&raw.coaching, origin)?;
        let coaching = if raw.coaching.is_empty() && text != DEFAULT_PLAYBOOK {
            Playbook::default_playbook().coaching
        } else {
            raw.coaching
        };
        if let Some(c) = &raw.currency
            && !(c.len() == 3 && c.chars().all(|x| x.is_ascii_uppercase()))
        {
            bail!(
                "{origin}{}: key `currency`: expected an ISO 4217 code such as \"JPY\", found {c:?}",
                at("currency")
            );
        }
        Ok(Playbook {
            diagnosis: raw.diagnosis,
            rules,
            coaching,
            currency: raw.currency,
            rates: None,
            warnings,
            timezone,
            stages: f.stages,
            terminal: f.terminal,
            windows,
            stale_after_days: f.stale_after_days,
            display: f.display,
            levels,
            years: (raw.data.years[0], raw.data.years[1]),
            aliases,
        })
    }

    /// `--currency CODE` over the playbook's.
    pub fn set_currency(&mut self, code: &str) -> Result<()> {
        let Some(c) = crate::model::money::Currency::parse(code) else {
            bail!("--currency {code}: expected an ISO 4217 code such as JPY or USD");
        };
        self.currency = Some(c.to_string());
        Ok(())
    }

    /// `--rates FILE…`: money is converted to the rates' corporate currency, which becomes the
    /// currency of the sheets unless one was given.
    pub fn set_rates(&mut self, files: &[std::path::PathBuf]) -> Result<()> {
        if files.is_empty() {
            return Ok(());
        }
        let rates = crate::model::money::Rates::load(files)?;
        if self.currency.is_none() {
            self.currency = Some(rates.corporate.to_string());
        }
        self.rates = Some(std::sync::Arc::new(rates));
        Ok(())
    }

    /// The stage code of an export's spelling, if it names a stage or outcome.
    pub fn resolve_stage(&self, s: &str) -> Option<StageCode> {
        if let Some(i) = self.stages.iter().chain(&self.terminal).position(|n| n == s) {
            return Some(i as StageCode);
        }
        self.aliases.get(&normalize(s)).copied()
    }

    pub fn is_terminal(&self, code: StageCode) -> bool {
        code as usize >= self.stages.len()
    }

    /// Whether a stage closes a deal: a terminal outcome or the last stage (the win).
    pub fn is_outcome(&self, code: StageCode) -> bool {
        self.is_terminal(code) || code as usize + 1 == self.stages.len()
    }

    pub fn stage_name(&self, code: StageCode) -> &str {
        let i = code as usize;
        if i < self.stages.len() { &self.stages[i] } else { &self.terminal[i - self.stages.len()] }
    }

    /// Lever ids of the transitions, in funnel order: `lead->case`, …
    pub fn transitions(&self) -> Vec<crate::model::lever::LeverId> {
        (0..self.stages.len() - 1)
            .map(|i| crate::model::lever::LeverId::step(&self.stages, i))
            .collect()
    }

    /// Every spelling the playbook knows, for "did you mean" hints.
    pub fn known_spellings(&self) -> impl Iterator<Item = &str> {
        self.aliases.keys().map(String::as_str)
    }

    /// A lever as a worksheet prints it, in any language of the playbook (`Case → Proposal`,
    /// `商談 → 提案`), or its id. Each side of the arrow is a stage id, a display name or an
    /// alias of the playbook.
    pub fn parse_printed_lever(&self, text: &str) -> Result<LeverId, String> {
        let id_err = match LeverId::parse(text, &self.stages) {
            Ok(id) => return Ok(id),
            Err(e) => e,
        };
        let stage_of = |side: &str| -> Option<String> {
            let side = side.trim();
            if let Some(s) = self.stages.iter().find(|s| s.eq_ignore_ascii_case(side)) {
                return Some(s.clone());
            }
            for names in self.display.values() {
                if let Some((id, _)) =
                    names.iter().find(|(_, n)| n.trim().eq_ignore_ascii_case(side))
                {
                    return Some(id.clone());
                }
            }
            let code = self.resolve_stage(side)? as usize;
            self.stages.get(code).cloned()
        };
        if let Some((a, b)) = LeverId::printed_step(text)
            && let (Some(from), Some(to)) = (stage_of(a), stage_of(b))
        {
            return LeverId::parse(&LeverId::Step { from, to }.to_string(), &self.stages);
        }
        Err(id_err)
    }

    /// The dates this run accepts: the playbook's plausible years, up to the run's clock.
    pub fn date_policy(&self) -> crate::model::dates::DatePolicy {
        crate::model::dates::DatePolicy {
            min_year: self.years.0,
            max_year: self.years.1,
            now: crate::model::dates::run_clock(),
        }
    }

    /// The level a roster role label is mapped to, if the playbook maps it.
    pub fn level_of_role(&self, role: &str) -> Option<&str> {
        self.levels.get(&normalize(role)).map(String::as_str)
    }
}

pub fn normalize(s: &str) -> String {
    s.trim().to_lowercase()
}

/// The known spelling closest to `s` (edit distance at most a third of its length).
pub fn closest<'a>(s: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let target = normalize(s);
    let limit = (target.chars().count() / 3).max(1);
    known.map(|k| (edit_distance(&target, k), k)).filter(|(d, _)| *d <= limit).min().map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + (ca != *cb) as usize).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| !l.trim_start().starts_with('#') && l.contains(needle)).map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_keys_out_of_range_are_refused_with_the_key_and_the_range() {
        let base = DEFAULT_PLAYBOOK;
        for (from, to, says) in [
            (
                "lookback = 3",
                "lookback = 100000000",
                "`diagnosis.lookback`: expected 1 to 120 months",
            ),
            ("window_days = 90", "window_days = 0", "expected 1 to 3650 days, found 0"),
        ] {
            assert!(base.contains(from), "{from}");
            let e = Playbook::parse(&base.replacen(from, to, 1), "p").unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn printed_levers_read_in_either_language() {
        let playbook = Playbook::default_playbook();
        for printed in ["Case → Proposal", "商談 → 提案", "case -> proposal", "case->proposal"]
        {
            assert_eq!(
                playbook.parse_printed_lever(printed).map(|l| l.to_string()),
                Ok("case->proposal".to_string()),
                "{printed}"
            );
        }
        assert!(playbook.parse_printed_lever("Case → Lead").is_err());
    }

    #[test]
    fn default_playbook_resolves_aliases() {
        let p = Playbook::default_playbook();
        assert_eq!(p.resolve_stage("case"), Some(1));
        assert_eq!(p.resolve_stage("  opportunity "), Some(1));
        assert_eq!(p.resolve_stage("商談"), Some(1));
        assert_eq!(p.resolve_stage("Closed Won"), Some(4));
        assert_eq!(p.resolve_stage("失注"), Some(5));
        assert!(p.is_terminal(5));
        assert_eq!(p.resolve_stage("Negotiation"), None);
        assert_eq!(p.transitions()[1].to_string(), "case->proposal");
        assert_eq!(p.windows, vec![90; 4]);
        assert_eq!(closest("Proposl", p.known_spellings()), Some("proposal"));
        assert_eq!(closest("Negotiation/Review", p.known_spellings()), None);
    }

    #[test]
    fn bad_playbooks_name_key_and_line() {
        let e = Playbook::parse(
            "[funnel]\nstages = [\"lead\", \"won\"]\nwindow_days = \"x\"\n",
            "p.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3") && e.contains("window_days"), "{e}");
        // A key naming a stage the funnel lacks is left out with a warning naming it.
        let p = Playbook::parse(
            "[funnel]\nstages = [\"lead\", \"won\"]\n[aliases]\nwin = [\"W\"]\n",
            "p.toml",
        )
        .unwrap();
        let w = p.warnings.join("\n");
        assert!(w.contains("aliases.win") && w.contains("line 4"), "{w}");
        let e = Playbook::parse("colour = 1\n[funnel]\nstages = [\"a\", \"b\"]\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("colour") && e.contains("line 1"), "{e}");
        let e = Playbook::parse(
            "timezone = \"Mars/Base\"\n[funnel]\nstages = [\"a\", \"b\"]\n",
            "p.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("timezone") && e.contains("IANA"), "{e}");
    }
}
