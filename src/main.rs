//! The `salescoach` binary: parse arguments, run, map the outcome to an exit code.

use clap::Parser;
use salescoach::{ExitStatus, cli::Cli};

fn main() -> std::process::ExitCode {
    salescoach::io::install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitStatus::Success.into()
                }
                _ => ExitStatus::Error.into(),
            };
        }
    };
    match salescoach::run(cli) {
        Ok(status) => status.into(),
        Err(e) if salescoach::io::is_broken_pipe(&e) => ExitStatus::Success.into(),
        Err(e) => {
            {
                use std::io::Write as _;
                let _ = writeln!(std::io::stderr(), "error: {e:#}");
            }
            if e.downcast_ref::<salescoach::DataError>().is_some() {
                ExitStatus::DataFailed.into()
            } else {
                ExitStatus::Error.into()
            }
        }
    }
}
