//! `salescoach report`: the month end in one command.

use crate::ExitStatus;
use crate::app::month_end::{MonthEnd, month_end, print_summary};
use crate::app::validation::print_report;
use crate::cli::{Global, ReportArgs};
use anyhow::Result;

pub fn run(global: &Global, args: ReportArgs) -> Result<ExitStatus> {
    let mut playbook = super::load_playbook(global)?;
    if let Some(c) = &args.currency {
        playbook.set_currency(c)?;
    }
    let period = super::parse_month("--period", &args.period)?.label();
    let output = explicit_output(global)?;
    let job = MonthEnd {
        events: &args.events,
        activities: args.activities.as_deref(),
        roster: &args.roster,
        ledger: args.ledger.as_deref(),
        period: &period,
        out: &args.out,
        allow_invalid: args.allow_invalid,
        force: args.force,
        as_of: super::parse_as_of(args.as_of.as_deref(), &playbook)?,
        warn_after_as_of: true,
        input_format: global.input_format,
        quiet: global.quiet,
        lang: args.lang,
        html: !args.no_html,
    };
    match month_end(&playbook, &job)? {
        Ok(summary) => {
            print_summary(&summary, &period, output.as_ref(), global.quiet)?;
            Ok(ExitStatus::Success)
        }
        Err(validation) => {
            let _ = print_report(&validation, 50, &mut std::io::stderr().lock());
            crate::note!(
                "report: the inputs failed validation; nothing was written (--allow-invalid goes on anyway)"
            );
            Ok(ExitStatus::DataFailed)
        }
    }
}

/// `-o`/`-f` ask for the run's summary as a table; without them the index's path is printed.
fn explicit_output(global: &Global) -> Result<Option<crate::io::output::Output>> {
    if global.output.is_none() && global.format.is_none() {
        return Ok(None);
    }
    super::output(global).map(Some)
}
