//! One module per subcommand, each with one entry function `run`: resolve the arguments into a
//! checked configuration, call the application layer, print. Commands never import each other;
//! what they share to resolve arguments lives here.

pub mod demo;
pub mod diagnose;
pub mod funnel;
pub mod generate;
pub mod ingest;
pub mod init;
pub mod plan;
pub mod report;
pub mod review;
pub mod validate;

use crate::cli::Global;
use crate::io::output::Output;
use crate::io::{Format, Source};
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::model::time::{Micros, Period, PeriodKind, parse_cli_instant};
use anyhow::{Context, Result, bail};

/// The playbook of `--config` (or the built-in one), with `--rates` applied.
pub fn load_playbook(global: &Global) -> Result<Playbook> {
    let mut playbook = Playbook::load(global.config.as_deref())?;
    playbook.set_rates(&global.rates)?;
    for w in playbook.warnings.iter().filter(|_| !global.quiet) {
        crate::note!("{w}");
    }
    Ok(playbook)
}

/// The output of a command that writes one result to `-o` in the `-f` format.
pub fn output(global: &Global) -> Result<Output> {
    Output::new(global.output.as_deref(), global.format, global.width)
}

/// Refuses `-o` and `-f` for a command that writes a folder or nothing, rather than ignoring
/// them.
pub fn refuse_output_options(global: &Global, command: &str, instead: &str) -> Result<()> {
    if global.output.is_some() {
        bail!("`salescoach {command}` does not take -o/--output; {instead}");
    }
    if global.format.is_some() {
        bail!("`salescoach {command}` does not take -f/--format; {instead}");
    }
    Ok(())
}

/// A month label from the command line (`2026-04`), or exit 2 with an example.
pub fn parse_month(flag: &str, text: &str) -> Result<Period> {
    Period::parse(PeriodKind::Month, text).with_context(|| format!("{flag} {text}"))
}

/// A date or timestamp from the command line, in the playbook's time zone.
/// Reads `--as-of`: a bare date is the end of that day.
pub fn parse_as_of(text: Option<&str>, playbook: &Playbook) -> Result<Option<Micros>> {
    text.map(|s| {
        crate::model::time::parse_cli_as_of(s, playbook.timezone)
            .with_context(|| format!("--as-of {s}"))
    })
    .transpose()
}

pub fn parse_instant(
    flag: &str,
    text: Option<&str>,
    playbook: &Playbook,
) -> Result<Option<Micros>> {
    text.map(|s| parse_cli_instant(s, playbook.timezone).with_context(|| format!("{flag} {s}")))
        .transpose()
}

/// Reads the roster when one is given.
pub fn load_roster(
    path: Option<&str>,
    input_format: Option<Format>,
    playbook: &Playbook,
) -> Result<Option<Roster>> {
    path.map(|p| {
        crate::io::roster::load_roster(&Source::parse(p), input_format, playbook).map(|r| r.0)
    })
    .transpose()
}

/// At most one input may be standard input.
pub fn one_stdin(sources: &[&Source]) -> Result<()> {
    if sources.iter().filter(|s| ***s == Source::Stdin).count() > 1 {
        bail!("only one input can be read from standard input (`-`)");
    }
    Ok(())
}
