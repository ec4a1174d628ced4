//! salescoach: scientific sales management from CRM exports.
//!
//! The data flows one way: `io` → `model` → `metrics` → `commands` → `io`.

pub mod cli;
pub mod commands;
pub mod diagnosis;
pub mod io;
pub mod metrics;
pub mod model;
pub mod render;
pub mod sim;

use cli::{Cli, Command};

/// The process exit code, as documented in README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the command did its work and the data passed its checks.
    Success,
    /// 1: the data failed a check.
    DataFailed,
    /// 2: usage, configuration or IO error.
    Error,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(match s {
            ExitStatus::Success => 0,
            ExitStatus::DataFailed => 1,
            ExitStatus::Error => 2,
        })
    }
}

/// An error caused by the data (exit 1), not by the tool or its use (exit 2).
#[derive(Debug)]
pub struct DataError(pub String);

impl DataError {
    pub fn new(msg: impl Into<String>) -> DataError {
        DataError(msg.into())
    }
}

impl std::fmt::Display for DataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DataError {}

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
        Command::Demo(args) => commands::report::run_demo(&global, args),
        Command::Ingest(args) => commands::ingest::run(&global, args),
    }
}
