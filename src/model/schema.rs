//! The Frictionless Table Schemas in `schemas/`, embedded, and value checks against them.
//!
//! These are the same files users read and check with frictionless tools; the Rust column
//! lists in `tables.rs` and the commands are kept in agreement with them by tests.

use anyhow::{Context, Result};
use serde::Deserialize;

/// Every schema file, by table name.
pub const SCHEMAS: &[(&str, &str)] = &[
    ("events", include_str!("../../schemas/events.schema.json")),
    ("activities", include_str!("../../schemas/activities.schema.json")),
    ("roster", include_str!("../../schemas/roster.schema.json")),
    ("funnel", include_str!("../../schemas/funnel.schema.json")),
    ("diagnosis", include_str!("../../schemas/diagnosis.schema.json")),
    ("plans", include_str!("../../schemas/plans.schema.json")),
    ("review", include_str!("../../schemas/review.schema.json")),
];

#[derive(Debug, Clone, Deserialize)]
pub struct Schema {
    pub name: String,
    pub fields: Vec<Field>,
    #[serde(default, rename = "primaryKey")]
    pub primary_key: Vec<String>,
    #[serde(default, rename = "foreignKeys")]
    pub foreign_keys: Vec<ForeignKey>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub constraints: Constraints,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Constraints {
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    #[serde(rename = "enum")]
    pub allowed: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ForeignKey {
    pub fields: String,
    pub reference: Reference,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Reference {
    pub resource: String,
    pub fields: String,
}

impl Schema {
    pub fn get(table: &str) -> Result<Schema> {
        let (_, text) = SCHEMAS
            .iter()
            .find(|(n, _)| *n == table)
            .with_context(|| format!("no schema for table `{table}`"))?;
        serde_json::from_str(text).with_context(|| format!("schemas/{table}.schema.json"))
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

impl Field {
    /// Checks one cell's text; an empty cell is missing. Returns a Frictionless error code
    /// and a message.
    pub fn check(&self, cell: &str) -> Result<(), (&'static str, String)> {
        if cell.is_empty() {
            return if self.constraints.required {
                Err(("constraint-error", format!("{} is required", self.name)))
            } else {
                Ok(())
            };
        }
        let err = |e: crate::model::cell::CellError| (e.code, e.message);
        let number = match self.kind.as_str() {
            "integer" => Some(
                cell.parse::<i64>().map_err(|_| ("type-error", "not an integer".to_string()))?
                    as f64,
            ),
            "number" if self.name == "amount" => {
                crate::model::cell::amount(cell).map_err(err)?;
                None
            }
            "number" => Some(crate::model::cell::number(cell).map_err(err)?),
            "string" if self.name == "currency" => {
                crate::model::cell::currency(cell).map_err(err)?;
                None
            }
            "boolean" => {
                crate::model::cell::boolean(cell).map_err(err)?;
                None
            }
            "datetime" => {
                let (t, _) = crate::model::time::parse_iso(cell)
                    .ok_or(("type-error", "not an ISO 8601 datetime".to_string()))?;
                crate::model::cell::timestamp_in_range(t).map_err(err)?;
                None
            }
            _ => None,
        };
        if let (Some(v), Some(min)) = (number, self.constraints.minimum)
            && v < min
        {
            return Err(("constraint-error", format!("below the minimum {min}")));
        }
        if let (Some(v), Some(max)) = (number, self.constraints.maximum)
            && v > max
        {
            return Err(("constraint-error", format!("above the maximum {max}")));
        }
        if let Some(allowed) = &self.constraints.allowed
            && !allowed.iter().any(|a| a == cell)
        {
            return Err(("constraint-error", format!("not one of {}", allowed.join(", "))));
        }
        Ok(())
    }
}

/// Test helper: the Rust columns of an output table agree with its schema file (names, order,
/// types, required).
#[cfg(test)]
pub fn assert_columns_match(table: &str, columns: &[crate::model::tables::Column]) {
    let schema = Schema::get(table).unwrap();
    let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    let rust: Vec<&str> = columns.iter().map(|c| c.name).collect();
    assert_eq!(names, rust, "{table}");
    for (f, c) in schema.fields.iter().zip(columns) {
        assert_eq!(f.kind, c.kind.frictionless(), "{table}.{}", f.name);
        assert_eq!(f.constraints.required, c.required, "{table}.{}", f.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tables::TableKind;

    #[test]
    fn every_schema_parses_and_matches_the_rust_columns() {
        for (kind, schema) in [
            (TableKind::Events, "events"),
            (TableKind::Activities, "activities"),
            (TableKind::Roster, "roster"),
            (TableKind::Funnel, "funnel"),
            (TableKind::Plans, "plans"),
        ] {
            let s = Schema::get(schema).unwrap();
            let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
            let rust: Vec<&str> = kind.columns().iter().map(|c| c.name).collect();
            assert_eq!(names, rust, "{schema}");
            for (f, c) in s.fields.iter().zip(kind.columns()) {
                assert_eq!(f.kind, c.kind.frictionless(), "{schema}.{}", f.name);
                assert_eq!(f.constraints.required, c.required, "{schema}.{}", f.name);
            }
        }
        let roster = Schema::get("roster").unwrap();
        assert_eq!(roster.primary_key, vec!["person_id"]);
        assert_eq!(roster.foreign_keys[0].fields, "reports_to");
        assert_eq!(roster.foreign_keys[0].reference.fields, "person_id");
    }

    #[test]
    fn cell_checks() {
        let s = Schema::get("activities").unwrap();
        let dur = s.field("duration_s").unwrap();
        assert!(dur.check("12").is_ok());
        assert_eq!(dur.check("-1").unwrap_err().0, "constraint-error");
        assert_eq!(dur.check("x").unwrap_err().0, "type-error");
        assert_eq!(s.field("rep_id").unwrap().check("").unwrap_err().0, "constraint-error");
        assert!(s.field("ts").unwrap().check("2026-01-01T00:00:00Z").is_ok());
    }
}
