//! Mappings: how an export's columns and stage values bind to a canonical table; the presets.

use crate::model::tables::TableKind;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;

/// How an export maps onto a canonical table.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// `history`: each export row is one canonical row.
    #[serde(default = "history")]
    pub layout: String,
    /// Canonical column → export header.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Export stage value → canonical stage, before the playbook's aliases.
    #[serde(default)]
    pub stages: BTreeMap<String, String>,
    /// Snapshot layout: canonical stage → the export column holding the date it was reached.
    #[serde(default)]
    pub dates: BTreeMap<String, String>,
    /// Snapshot layout: a status column whose `won` or `lost` overrides the current stage.
    #[serde(default)]
    pub status: Option<String>,
    /// Levels layout (roster): the export columns of the org levels, top first, such as
    /// `["region", "manager", "rep"]`; each value becomes a person reporting to the one before.
    #[serde(default)]
    pub levels: Vec<String>,
}

/// Built-in mappings for CRM exports (see export-formats in the README).
pub(super) const PRESETS: &[(&str, &str)] = &[
    (
        "hubspot-deals",
        r#"layout = "snapshot"
[columns]
deal_id = "Record ID"
rep_id = "Deal owner"
stage = "Deal Stage"
amount = "Amount"
[dates]
lead = "Create Date"
won = "Close Date"
lost = "Close Date"
[stages]
"Appointment Scheduled" = "lead"
"Qualified To Buy" = "case"
"Presentation Scheduled" = "proposal"
"Decision Maker Bought-In" = "proposal"
"Contract Sent" = "quote"
"Closed Won" = "won"
"Closed Lost" = "lost"
"Closed: abandoned" = "lost"
"#,
    ),
    (
        "pipedrive-deals",
        r#"layout = "snapshot"
status = "Deal - Status"
[columns]
deal_id = "Deal - ID"
rep_id = "Deal - Owner"
stage = "Deal - Stage"
amount = "Deal - Value"
[dates]
lead = "Deal - Deal created"
won = "Deal - Won time"
lost = "Deal - Lost time"
[stages]
"Qualified" = "lead"
"Contact Made" = "case"
"Demo Scheduled" = "case"
"Proposal Made" = "proposal"
"Negotiations Started" = "quote"
"#,
    ),
    (
        "salesforce-history",
        r#"layout = "history"
[columns]
deal_id = "OpportunityId"
rep_id = "OwnerId"
stage = "StageName"
ts = "CreatedDate"
amount = "Amount"
[stages]
"Prospecting" = "lead"
"Qualification" = "case"
"Needs Analysis" = "case"
"Value Proposition" = "proposal"
"Id. Decision Makers" = "proposal"
"Perception Analysis" = "proposal"
"Proposal/Price Quote" = "proposal"
"Negotiation/Review" = "quote"
"Closed Won" = "won"
"Closed Lost" = "lost"
"#,
    ),
];

pub(super) fn history() -> String {
    "history".into()
}

pub fn load_mapping(spec: Option<&str>, table: TableKind) -> Result<Mapping> {
    let preset = |name: &str| PRESETS.iter().find(|(n, _)| *n == name).map(|p| p.1);
    if spec == Some("salesforce") {
        // The Data Export preset reads several objects itself; only its stage map is shared.
        return Ok(toml::from_str(preset("salesforce-history").expect("built in")).expect("valid"));
    }
    let mapping: Mapping = match spec {
        None | Some("canonical") => Mapping {
            layout: history(),
            columns: table
                .columns()
                .iter()
                .map(|c| (c.name.to_string(), c.name.to_string()))
                .collect(),
            ..Mapping::default()
        },
        Some(name) if preset(name).is_some() => {
            toml::from_str(preset(name).expect("checked")).expect("built-in presets are valid")
        }
        Some(path) => {
            let names: Vec<&str> = PRESETS.iter().map(|p| p.0).collect();
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("reading mapping {path} (presets: canonical, {})", names.join(", "))
            })?;
            toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{path} is not a valid mapping: {e}"))?
        }
    };
    match (mapping.layout.as_str(), table) {
        ("history", _) => {}
        ("snapshot" | "stage-dates", TableKind::Events) if !mapping.dates.is_empty() => {}
        ("snapshot" | "stage-dates", TableKind::Events) => {
            bail!(
                "a {} mapping needs [dates]: the export column of each stage's date",
                mapping.layout
            )
        }
        ("levels", TableKind::Roster) if mapping.levels.len() >= 2 => {}
        ("levels", TableKind::Roster) => {
            bail!("a levels mapping needs `levels`: two or more columns, top first")
        }
        ("levels", _) => bail!("the levels layout makes a roster; use --table roster"),
        ("snapshot" | "stage-dates", _) => {
            bail!("the {} layout makes events; use --table events", mapping.layout)
        }
        (other, _) => {
            bail!("layout {other:?} is not supported; use history, snapshot or stage-dates")
        }
    }
    for c in mapping.columns.keys() {
        if !table.columns().iter().any(|k| k.name == c) {
            bail!("the mapping names `{c}`, which is not a column of the {} table", table.name());
        }
    }
    Ok(mapping)
}
