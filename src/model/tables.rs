//! The canonical tables (events, activities, roster) as column lists and typed records.
//!
//! The column lists are the Rust side of `schemas/*.schema.json`; a test keeps them in agreement.

use crate::model::time::Micros;
use rust_decimal::Decimal;

/// The type of a column, named as in Frictionless Table Schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Datetime,
    /// An exact decimal (money).
    Decimal,
    /// A floating-point measure (rates, shares, averages).
    Number,
    Integer,
    Boolean,
}

impl Kind {
    pub fn frictionless(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Datetime => "datetime",
            Kind::Decimal | Kind::Number => "number",
            Kind::Integer => "integer",
            Kind::Boolean => "boolean",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

pub const fn col(name: &'static str, kind: Kind, required: bool) -> Column {
    Column { name, kind, required }
}

/// A canonical input table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableKind {
    Events,
    Activities,
    Roster,
    Funnel,
    Plans,
}

impl TableKind {
    pub fn columns(self) -> &'static [Column] {
        match self {
            TableKind::Events => EVENT_COLUMNS,
            TableKind::Activities => ACTIVITY_COLUMNS,
            TableKind::Roster => ROSTER_COLUMNS,
            TableKind::Funnel => FUNNEL_COLUMNS,
            TableKind::Plans => PLAN_COLUMNS,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TableKind::Events => "events",
            TableKind::Activities => "activities",
            TableKind::Roster => "roster",
            TableKind::Funnel => "funnel",
            TableKind::Plans => "plans",
        }
    }
}

pub const EVENT_COLUMNS: &[Column] = &[
    col("deal_id", Kind::String, true),
    col("rep_id", Kind::String, true),
    col("stage", Kind::String, true),
    col("ts", Kind::Datetime, true),
    col("amount", Kind::Decimal, false),
    col("inferred", Kind::Boolean, false),
    col("currency", Kind::String, false),
];

pub mod ev {
    pub const DEAL_ID: usize = 0;
    pub const REP_ID: usize = 1;
    pub const STAGE: usize = 2;
    pub const TS: usize = 3;
    pub const AMOUNT: usize = 4;
    pub const INFERRED: usize = 5;
    pub const CURRENCY: usize = 6;
}

pub const ACTIVITY_COLUMNS: &[Column] = &[
    col("activity_id", Kind::String, false),
    col("rep_id", Kind::String, true),
    col("deal_id", Kind::String, false),
    col("type", Kind::String, true),
    col("ts", Kind::Datetime, true),
    col("duration_s", Kind::Integer, false),
    col("outcome", Kind::String, false),
    col("personalized", Kind::Boolean, false),
];

pub mod act {
    pub const ACTIVITY_ID: usize = 0;
    pub const REP_ID: usize = 1;
    pub const DEAL_ID: usize = 2;
    pub const TYPE: usize = 3;
    pub const TS: usize = 4;
    pub const DURATION_S: usize = 5;
    pub const OUTCOME: usize = 6;
    pub const PERSONALIZED: usize = 7;
}

pub const ROSTER_COLUMNS: &[Column] = &[
    col("person_id", Kind::String, true),
    col("name", Kind::String, false),
    col("role", Kind::String, false),
    col("reports_to", Kind::String, false),
];

pub mod ros {
    pub const PERSON_ID: usize = 0;
    pub const NAME: usize = 1;
    pub const ROLE: usize = 2;
    pub const REPORTS_TO: usize = 3;
}

/// The funnel table's columns (see schemas/funnel.schema.json), written by `funnel` and read
/// back by `diagnose --funnel`.
pub const FUNNEL_COLUMNS: &[Column] = &[
    col("level", Kind::String, true),
    col("group_id", Kind::String, true),
    col("group_name", Kind::String, false),
    col("parent_id", Kind::String, false),
    col("period", Kind::String, true),
    col("from_stage", Kind::String, true),
    col("to_stage", Kind::String, true),
    col("method", Kind::String, true),
    col("window_days", Kind::Integer, true),
    col("entered", Kind::Integer, true),
    col("converted", Kind::Integer, true),
    col("lost", Kind::Integer, false),
    col("open", Kind::Integer, false),
    col("skipped", Kind::Integer, true),
    col("rate", Kind::Number, false),
    col("rate_observed", Kind::Number, false),
    col("observed_share", Kind::Number, false),
    col("rate_low", Kind::Number, false),
    col("rate_high", Kind::Number, false),
    col("rate_shrunk", Kind::Number, false),
    col("prior_alpha", Kind::Number, false),
    col("prior_beta", Kind::Number, false),
    col("level_median", Kind::Number, false),
    col("mature", Kind::Boolean, true),
    col("step_days_median", Kind::Number, false),
    col("lost_days_median", Kind::Number, false),
    col("activities", Kind::Integer, false),
    col("activities_per_deal", Kind::Number, false),
    col("touched_share", Kind::Number, false),
    col("personalized_share", Kind::Number, false),
    col("activity_mix", Kind::String, false),
    col("first_activity_hours_median", Kind::Number, false),
    col("first_call_connected_share", Kind::Number, false),
    col("first_call_duration_median_s", Kind::Number, false),
    col("won", Kind::Integer, false),
    col("won_amount", Kind::Decimal, false),
    col("avg_deal_size", Kind::Decimal, false),
    col("currency", Kind::String, false),
    col("won_amount_by_currency", Kind::String, false),
    col("cycle_days_median", Kind::Number, false),
];

/// The index of a column by name, for the wide output tables.
pub fn column_index(columns: &[Column], name: &str) -> usize {
    columns.iter().position(|c| c.name == name).unwrap_or_else(|| panic!("no column {name}"))
}

/// One row of the roster.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Person {
    pub person_id: String,
    pub name: String,
    pub role: String,
    pub reports_to: Option<String>,
}

/// One event, owned (used where events are few: fixtures, tests, the generator's truth).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub deal_id: String,
    pub rep_id: String,
    pub stage: String,
    pub ts: Micros,
    pub amount: Option<Decimal>,
}

/// The ledger's columns (see schemas/plans.schema.json).
pub const PLAN_COLUMNS: &[Column] = &[
    col("plan_id", Kind::String, true),
    col("period", Kind::String, true),
    col("rep_id", Kind::String, true),
    col("rep_name", Kind::String, false),
    col("manager_id", Kind::String, false),
    col("focus", Kind::String, true),
    col("baseline_rate", Kind::Number, false),
    col("baseline_n", Kind::Integer, false),
    col("benchmark", Kind::Number, false),
    col("target_rate", Kind::Number, false),
    col("review_period", Kind::String, true),
    col("status", Kind::String, true),
    col("window_from", Kind::String, false),
    col("agreed_focus", Kind::String, false),
    col("agreed_target_rate", Kind::Number, false),
    col("actions", Kind::String, false),
    col("worksheet", Kind::String, false),
    col("after_rate", Kind::Number, false),
    col("after_n", Kind::Integer, false),
    col("change", Kind::Number, false),
    col("p_improved", Kind::Number, false),
    col("effect", Kind::Number, false),
    col("effect_low", Kind::Number, false),
    col("effect_high", Kind::Number, false),
    col("verdict", Kind::String, false),
    col("target_reached", Kind::Boolean, false),
    col("reviewed_in", Kind::String, false),
    col("hypothesis", Kind::String, false),
    col("leading_indicator", Kind::String, false),
    col("leading_before", Kind::Number, false),
    col("leading_after", Kind::Number, false),
    col("level", Kind::String, false),
    col("agreed", Kind::Boolean, false),
];
