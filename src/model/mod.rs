//! The canonical tables, the playbook and time, as typed Rust.

pub mod cell;
pub mod coaching;
pub mod dates;
pub mod level;
pub mod lever;
pub mod money;
pub mod pipeline;
pub mod plans;
pub mod playbook;
pub mod roster;
pub mod rules;
pub mod schema;
pub mod tables;
pub mod time;
pub mod values;
