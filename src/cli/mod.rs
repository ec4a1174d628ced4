//! The command line: global options and one argument struct per subcommand (clap derive).

use crate::io::Format;
use clap::{Args, Parser, Subcommand};

mod coaching;
mod data;

pub use coaching::{
    DemoArgs, DiagnoseArgs, PlanAction, PlanArgs, PlanImportArgs, ReportArgs, ReviewArgs,
};
pub use data::{FunnelArgs, GenerateArgs, IngestArgs, InitArgs, ValidateArgs};
use std::path::PathBuf;

pub use crate::model::values::{Lang, SheetLevel};

/// Scientific sales management: funnel indicators, skill diagnosis and coaching worksheets from
/// CRM exports.
///
/// salescoach turns a sales team's exported CRM data into step-up rates per salesperson and up
/// the org tree, says which skill each salesperson should work on this month and why, and
/// writes the worksheets that managers use in their 1:1s.
///
/// Exit codes: 0 success, 1 the data failed a check, 2 usage, configuration or IO error.
#[derive(Debug, Parser)]
#[command(name = "salescoach", version, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The playbook (TOML) to use instead of the built-in one.
    #[arg(long, global = true, env = "SALESCOACH_CONFIG", value_name = "PLAYBOOK")]
    pub config: Option<PathBuf>,
    /// Write the result here instead of standard output (`-` is standard output).
    #[arg(short, long, global = true, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Output format [default: table on a terminal, else from the output's extension, else csv].
    #[arg(short, long, global = true, value_enum)]
    pub format: Option<Format>,
    /// Format of the inputs when their extension does not tell (e.g. reading `-`).
    #[arg(long, global = true, value_enum)]
    pub input_format: Option<Format>,
    /// No summaries, warnings or progress on standard error.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Fit human tables to this many columns [default: the terminal's width; unlimited when
    /// not a terminal].
    #[arg(long, global = true, value_name = "COLUMNS")]
    pub width: Option<u16>,
    /// A quoted CSV cell may span this many lines; past them (or at the end of the file) the
    /// quote is taken for a stray `"`: its line is rejected and reading goes on at the next
    /// [default: 100].
    #[arg(long, global = true, value_name = "LINES", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub max_quoted_lines: Option<u64>,
    /// Exchange rates: amounts in other currencies are converted to the file's corporate
    /// currency (units of each currency per one unit of it: Salesforce's CurrencyType.csv or
    /// DatedConversionRate.csv, or `currency,rate[,start_date]`). Repeat for several files.
    /// Without rates, money in several currencies is reported per currency.
    #[arg(long, global = true, value_name = "FILE")]
    pub rates: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(InitArgs),
    Generate(GenerateArgs),
    Funnel(FunnelArgs),
    Diagnose(DiagnoseArgs),
    Plan(PlanArgs),
    Review(ReviewArgs),
    Validate(ValidateArgs),
    Report(ReportArgs),
    Demo(DemoArgs),
    Ingest(IngestArgs),
}
