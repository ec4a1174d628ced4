//! salescoach: scientific sales management from CRM exports.
//!
//! The data flows one way: `io` → `model` → `metrics` → `commands` → `io`.

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
