//! What validation reports: findings Frictionless-style, counted in full, kept up to a bound.

use crate::io::read::RowProblem;

/// Everything validate found.
#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub valid: bool,
    pub stats: Stats,
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Stats {
    pub tables: usize,
    pub rows: u64,
    pub errors: u64,
    pub warnings: u64,
}

/// One finding, Frictionless-style.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    #[serde(rename = "type")]
    pub kind: String,
    pub file: String,
    #[serde(rename = "rowNumber")]
    pub row_number: Option<u64>,
    pub line: Option<u64>,
    #[serde(rename = "fieldName")]
    pub field_name: Option<String>,
    pub cell: Option<String>,
    pub message: String,
}

impl From<RowProblem> for Finding {
    fn from(p: RowProblem) -> Finding {
        Finding {
            kind: p.code.to_string(),
            file: p.file,
            row_number: (p.row > 0).then_some(p.row),
            line: (p.line > 0).then_some(p.line),
            field_name: p.column,
            cell: p.value,
            message: p.message,
        }
    }
}

/// Counts every finding; keeps the first ones for printing.
#[derive(Default)]
pub(super) struct Findings {
    pub(super) errors: Vec<Finding>,
    pub(super) warnings: Vec<Finding>,
    pub(super) n_errors: u64,
    pub(super) n_warnings: u64,
}

const KEEP: usize = 10_000;

impl Findings {
    pub(super) fn error(&mut self, f: Finding) {
        self.n_errors += 1;
        if self.errors.len() < KEEP {
            self.errors.push(f);
        }
    }
    pub(super) fn warning(&mut self, f: Finding) {
        self.n_warnings += 1;
        if self.warnings.len() < KEEP {
            self.warnings.push(f);
        }
    }
}
