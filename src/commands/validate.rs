//! `salescoach validate`: check canonical tables for a CI job; findings are output, exit 1.

use crate::ExitStatus;
use crate::app::validation::{check, detect_table, print_report};
use crate::cli::{Global, ValidateArgs};
use crate::io::{Dest, Format, Source};
use crate::model::tables::TableKind;
use anyhow::{Result, bail};

pub fn run(global: &Global, args: ValidateArgs) -> Result<ExitStatus> {
    let playbook = super::load_playbook(global)?;
    let output = super::output(global)?;
    let as_of = super::parse_as_of(args.as_of.as_deref(), &playbook)?;
    let mut inputs: Vec<(Source, TableKind)> = Vec::new();
    for f in &args.files {
        let source = Source::parse(f);
        source.ensure_exists()?;
        let table = match args.table.or_else(|| detect_table(&source, global.input_format)) {
            Some(t) => t,
            None => bail!(
                "{f}: cannot tell which table this is from its name or header; give --table events|activities|roster"
            ),
        };
        inputs.push((source, table));
    }
    for (flag, table) in [(&args.roster, TableKind::Roster), (&args.events, TableKind::Events)] {
        if let Some(f) = flag
            && !inputs.iter().any(|(s, t)| *t == table && s.to_string() == *f)
        {
            inputs.push((Source::parse(f), table));
        }
    }
    let sources: Vec<Source> = inputs.iter().map(|(s, _)| s.clone()).collect();
    super::one_stdin(&sources.iter().collect::<Vec<_>>())?;
    crate::io::ensure_distinct_files(&[&output.dest], &sources)?;
    // The report is text for people or JSON for programs; it is not a table of rows.
    let json = match output.format {
        Format::Json => true,
        Format::Table => false,
        // Text is the report's default on a pipe and in a .txt file as well.
        Format::Csv if global.format.is_none() && output.dest == Dest::Stdout => false,
        other => bail!("validate writes a report: use -f table or -f json (not {other})"),
    };
    let moment = crate::app::validation::Moment { cut: as_of, judged: as_of };
    let report = check(inputs, global.input_format, &playbook, moment, args.strict)?;
    if json {
        output.json(&report)?;
    } else {
        output.text(|out| print_report(&report, args.max_errors, out))?;
    }
    Ok(if report.valid { ExitStatus::Success } else { ExitStatus::DataFailed })
}
