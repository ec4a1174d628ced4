//! Skill diagnosis: for each rep, the lever that would add the most won deals, with the
//! benchmark, the confidence that the rep is really below it, and the rule-based hypotheses.
//!
//! Input is the rep level of the funnel table (monthly cohorts), so that `diagnose` runs the
//! same way from events or from a funnel file.

pub mod coaching;
mod context;
mod entry;
mod evidence;
pub mod rules;
mod two_groups;
mod types;
pub mod why;
mod window;

pub use entry::{DiagnoseOptions, diagnose};
pub use types::{
    Diagnosis, HypothesisResult, HypothesisStatus, Indicators, Lever, LeverId, LeverKind,
    TrendPoint,
};
pub use why::sure_pct;
pub use window::{default_period, stretch_lever};
