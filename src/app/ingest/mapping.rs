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
    pub dates: BTreeMap<String, DateColumns>,
    /// Snapshot layout: a status column whose `won` or `lost` overrides the current stage.
    #[serde(default)]
    pub status: Option<String>,
    /// Snapshot layout: a column holding the day each row's snapshot was taken (several
    /// snapshots in one file, or one per file); else the file name's date or --snapshot-date.
    #[serde(default)]
    pub snapshot_date: Option<String>,
    /// The zone of the export's times without an offset (a HubSpot portal's, a Pipedrive
    /// company's), unless --tz gives one.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Levels layout (roster): the export columns of the org levels, top first, such as
    /// `["region", "manager", "rep"]`; each value becomes a person reporting to the one before.
    #[serde(default)]
    pub levels: Vec<String>,
    /// Canonical column → a value for every row (a rep for a file that has none).
    #[serde(default)]
    pub constants: BTreeMap<String, String>,
    /// Canonical column → the value of a row whose cell is empty or whose column is absent.
    #[serde(default)]
    pub defaults: BTreeMap<String, String>,
    /// A second file joined by key, for columns the export lacks (deals + owners, MQLs +
    /// closed deals).
    #[serde(default)]
    pub join: Option<Join>,
    /// The mapping file's folder: a joined file's path is relative to it.
    #[serde(skip)]
    pub base: Option<std::path::PathBuf>,
    /// The preset's name or the file's path, for messages.
    #[serde(skip)]
    pub name: String,
}

/// The export column of a stage's date, or several tried in order (the first with a value):
/// `won = ["Deal - Won time", "Deal - Deal closed on"]`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum DateColumns {
    One(String),
    Many(Vec<String>),
}

impl DateColumns {
    pub fn names(&self) -> Vec<&str> {
        match self {
            DateColumns::One(c) => vec![c.as_str()],
            DateColumns::Many(cs) => cs.iter().map(String::as_str).collect(),
        }
    }
}

/// A left join of a second file: each export row takes columns from the row of the joined file
/// whose `key` equals its `on`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Join {
    /// The file (CSV), relative to the mapping file.
    pub file: String,
    /// The export's column holding the key.
    pub on: String,
    /// The joined file's key column.
    pub key: String,
    /// Canonical column → the joined file's column.
    pub columns: BTreeMap<String, String>,
    /// An export row whose key is not in the file: `reject` it (the default) or `keep` it with
    /// the joined columns empty (a default or constant may fill them).
    #[serde(default)]
    pub unmatched: Unmatched,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unmatched {
    #[default]
    Reject,
    Keep,
}

impl Mapping {
    /// The export column a stage's date is read from first, for messages.
    pub fn date_column(&self, stage: &str) -> String {
        self.dates
            .get(stage)
            .and_then(|d| d.names().first().map(|s| s.to_string()))
            .unwrap_or_else(|| "date".into())
    }

    /// How to see this mapping as a file, for messages that point at a key to set.
    pub fn show_hint(&self) -> String {
        let is_preset = self.name == "canonical" || PRESETS.iter().any(|p| p.0 == self.name);
        if is_preset {
            format!(
                "`salescoach ingest --preset {} --show` prints it as a mapping file to edit",
                self.name
            )
        } else {
            format!("in {}", self.name)
        }
    }

    /// Whether a canonical column gets values some way: bound to a header, a constant, a
    /// default or a joined column.
    pub fn fills(&self, column: &str) -> bool {
        self.constants.contains_key(column)
            || self.defaults.contains_key(column)
            || self.join.as_ref().is_some_and(|j| j.columns.contains_key(column))
    }

    /// The joined file's path.
    pub fn join_path(&self) -> Option<std::path::PathBuf> {
        let j = self.join.as_ref()?;
        let file = std::path::Path::new(&j.file);
        Some(match &self.base {
            Some(base) if file.is_relative() => base.join(file),
            _ => file.to_path_buf(),
        })
    }
}

/// Built-in mappings for CRM exports (see export-formats in the README).
pub(super) const PRESETS: &[(&str, &str)] = &[
    (
        "hubspot-deals",
        r#"layout = "snapshot"
# HubSpot writes times in the portal's zone (Settings > Account defaults): set it here.
# timezone = "America/New_York"
[columns]
deal_id = "Record ID"
rep_id = "Deal owner"
stage = "Deal Stage"
amount = "Amount"
currency = "Currency"
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
# A deal closed as abandoned counts as lost (win rates fall): delete this line to leave
# abandoned deals open, or map them to another outcome of your playbook.
"Closed: abandoned" = "lost"
"#,
    ),
    (
        "pipedrive-deals",
        r#"layout = "snapshot"
# Pipedrive writes times in the company's zone (Company settings): set it here.
# timezone = "Europe/Berlin"
status = "Deal - Status"
[columns]
deal_id = "Deal - ID"
rep_id = "Deal - Owner"
stage = "Deal - Stage"
amount = "Deal - Value"
currency = "Deal - Currency"
[dates]
lead = "Deal - Deal created"
won = ["Deal - Won time", "Deal - Deal closed on"]
lost = ["Deal - Lost time", "Deal - Deal closed on"]
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
currency = "CurrencyIsoCode"
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

/// A mapping as a file to start from: a preset's text, a mapping file's own, or the canonical
/// identity mapping of `table`.
pub fn show_mapping(spec: Option<&str>, table: TableKind) -> Result<String> {
    let preset = |name: &str| PRESETS.iter().find(|(n, _)| *n == name).map(|p| p.1);
    let how = "# Save this as a file, edit it, and pass it with --mapping FILE.\n";
    Ok(match spec {
        None | Some("canonical") => {
            let mut text = format!(
                "# The canonical {} table: each column under its own name.\n{how}layout = \"history\"\n[columns]\n",
                table.name()
            );
            for c in table.columns() {
                text += &format!("{} = \"{}\"\n", c.name, c.name);
            }
            text
        }
        Some("salesforce") => {
            let history = preset("salesforce-history").expect("built in");
            let stages = &history[history.find("[stages]").expect("the preset maps stages")..];
            format!(
                "# The salesforce preset reads a Data Export folder (or its files) whole:\n\
                 #   OpportunityHistory.csv  StageName at CreatedDate, one event per stage change;\n\
                 #   Opportunity.csv         OwnerId joined by OpportunityId = Id (the rep);\n\
                 #   Lead.csv                CreatedDate as the lead stage, ConvertedOpportunityId;\n\
                 #   User.csv                the roster (--table roster): ManagerId.\n\
                 #   CurrencyType.csv, DatedConversionRate.csv  (multi-currency orgs) amounts\n\
                 #                           converted to the corporate currency, CurrencyIsoCode\n\
                 #                           read from OpportunityHistory or Opportunity.\n\
                 # Other files of the folder are not read. Rows with IsDeleted = true are dropped\n\
                 # and counted, not rejected. Saved and edited, this mapping reads the same\n\
                 # folder with your stage names: --mapping FILE FOLDER.\n\
                 # An export without these files or columns needs a mapping of its own. For\n\
                 # OpportunityHistory alone: `salescoach ingest --preset salesforce-history\n\
                 # --show`. For Opportunity.csv alone (the current stage of each deal, as after an\n\
                 # Excel round trip), use layout = \"snapshot\" with [dates] lead = \"CreatedDate\",\n\
                 # won = \"CloseDate\", lost = \"CloseDate\", and a [join] of a file that has the\n\
                 # owner when OwnerId was dropped.\n{how}layout = \"salesforce\"\n{stages}"
            )
        }
        Some(name) if preset(name).is_some() => {
            format!("# The {name} preset.\n{how}{}", preset(name).expect("checked"))
        }
        Some(path) => std::fs::read_to_string(path).with_context(|| {
            let names: Vec<&str> = PRESETS.iter().map(|p| p.0).collect();
            format!("reading mapping {path} (presets: canonical, salesforce, {})", names.join(", "))
        })?,
    })
}

/// The mapping named by `spec` (a preset or a file), read in `layout` when one is given.
pub fn load_mapping(spec: Option<&str>, table: TableKind, layout: Option<&str>) -> Result<Mapping> {
    let preset = |name: &str| PRESETS.iter().find(|(n, _)| *n == name).map(|p| p.1);
    if spec == Some("salesforce") {
        // The Data Export preset reads several objects itself; only its stage map is shared.
        let mut m: Mapping =
            toml::from_str(preset("salesforce-history").expect("built in")).expect("valid");
        m.name = "salesforce".into();
        m.layout = "salesforce".into();
        return Ok(m);
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
            let mut m: Mapping = toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{path} is not a valid mapping: {e}"))?;
            m.base = std::path::Path::new(path).parent().map(std::path::Path::to_path_buf);
            m
        }
    };
    let mut mapping = mapping;
    mapping.name = spec.unwrap_or("canonical").to_string();
    if let Some(layout) = layout {
        mapping.layout = layout.to_string();
    }
    match (mapping.layout.as_str(), table) {
        ("history", _) => {}
        ("salesforce", TableKind::Events | TableKind::Roster) => {
            // The folder reader binds Salesforce's own columns; a file gives its stage names.
            let preset: Mapping =
                toml::from_str(preset("salesforce-history").expect("built in")).expect("valid");
            mapping.columns = preset.columns;
        }
        ("salesforce", _) => {
            bail!(
                "the salesforce layout reads events (--table events) or the roster (--table roster)"
            )
        }
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
            bail!(
                "layout {other:?} is not supported; use history, snapshot, stage-dates, levels or salesforce"
            )
        }
    }
    let joined = mapping.join.iter().flat_map(|j| j.columns.keys());
    let named =
        mapping.columns.keys().chain(mapping.constants.keys()).chain(mapping.defaults.keys());
    for c in named.chain(joined) {
        if !table.columns().iter().any(|k| k.name == c) {
            bail!("the mapping names `{c}`, which is not a column of the {} table", table.name());
        }
    }
    Ok(mapping)
}
