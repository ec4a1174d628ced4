//! salescoach: scientific sales management from CRM exports.
//!
//! Layers, each depending only on the ones listed before it:
//!
//! - `exit`: exit codes and `DataError`, the error that means "the data failed a check".
//! - `model`: the canonical tables, the playbook, levers, org levels and time, as typed Rust.
//! - `io`: reading and writing tables (CSV, TSV, JSON, NDJSON, Parquet), the ledger, the
//!   roster, placing files; every reader applies the same cell checks (`io::row`).
//! - `metrics`: pure computations: deals and their outcome (`metrics::deals`, one rule for
//!   every command), funnel counts, month-end estimates, statistics, plan reviews.
//! - `diagnosis`: each rep's lever to coach, its confidence and the playbook's hypotheses.
//! - `render`: Markdown and SVG helpers for the sheets.
//! - `sim`: the synthetic organisation behind `generate`.
//! - `app`: the use cases the commands share (funnel table, validation, ingest, worksheets,
//!   review, the month end); they never read the command line.
//! - `cli`: the command line (clap); `commands`: one module per subcommand: resolve the
//!   arguments, call `app`, print.
//!
//! No file imports another that imports it back (`tests/architecture.rs` checks).

pub mod app;
pub mod cli;
pub mod commands;
pub mod diagnosis;
pub mod exit;
#[doc(hidden)]
pub mod fuzz;
pub mod io;
pub mod metrics;
pub mod model;
pub mod render;
pub mod sim;

/// Writes a line to standard error. A closed standard error (`… 2>&1 | head -1`) is ignored:
/// the work goes on and its exit code says how it went, where `eprintln!` would panic.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use cli::{Cli, Command};
pub use exit::{DataError, ExitStatus};

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let global = cli.global;
    if let Some(lines) = global.max_quoted_lines {
        io::quotes::set_max_quoted_lines(lines as usize);
    }
    match cli.command {
        Command::Init(args) => commands::init::run(&global, args),
        Command::Generate(args) => commands::generate::run(&global, args),
        Command::Funnel(args) => commands::funnel::run(&global, args),
        Command::Diagnose(args) => commands::diagnose::run(&global, args),
        Command::Plan(args) => commands::plan::run(&global, args),
        Command::Review(args) => commands::review::run(&global, args),
        Command::Validate(args) => commands::validate::run(&global, args),
        Command::Report(args) => commands::report::run(&global, args),
        Command::Demo(args) => commands::demo::run(&global, args),
        Command::Ingest(args) => commands::ingest::run(&global, args),
    }
}
