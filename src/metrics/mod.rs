//! Pure computations over the canonical tables: funnel counts, rates, intervals, shrinkage.

pub mod config;
pub mod deals;
pub mod funnel;
pub mod groups;
pub mod interner;
pub mod open_cohorts;
pub mod review;
pub mod stats;
pub mod tally;
