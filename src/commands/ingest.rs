//! `salescoach ingest`: resolve the export options, run the ingest, print its summary.

use crate::ExitStatus;
use crate::app::ingest::{self, IngestJob, ValueOptions};
use crate::cli::{Global, IngestArgs};
use crate::io::{Dest, Source};
use crate::model::playbook::Playbook;
use anyhow::{Context, Result, bail};

pub fn run(global: &Global, args: IngestArgs) -> Result<ExitStatus> {
    if args.show {
        let table = args.table.unwrap_or(crate::model::tables::TableKind::Events);
        let text = ingest::show_mapping(args.mapping.as_deref(), table)?;
        super::output(global)?.text(|w| Ok(w.write_all(text.as_bytes())?))?;
        return Ok(ExitStatus::Success);
    }
    let playbook = super::load_playbook(global)?;
    let job = resolve(global, &args, &playbook)?;
    let outcome = ingest::run(&job, &playbook)?;
    let values = &job.values;
    if !global.quiet && values.trimmed.get() > 0 {
        crate::note!("warning: {} cells had spaces around them, trimmed", values.trimmed.get());
    }
    if !global.quiet && values.replaced.get() > 0 {
        crate::note!(
            "warning: {} records kept with malformed bytes replaced by U+FFFD (--lossy)",
            values.replaced.get()
        );
    }
    // A zone given on purpose (--tz, the mapping's) is said, not warned about.
    let zone_given = match (&args.tz, &job.mapping.timezone) {
        (Some(_), _) => Some("--tz".to_string()),
        (None, Some(_)) => Some(format!("the mapping {}", job.mapping.name)),
        (None, None) => None,
    };
    if let Some(by) = zone_given.filter(|_| !global.quiet && values.without_offset.get()) {
        let months = if values.tz == playbook.timezone {
            String::new()
        } else {
            format!(
                "; months and days are still the playbook's ({}): set `timezone` in the playbook to count them in {}",
                playbook.timezone.name(),
                values.tz.name()
            )
        };
        crate::note!(
            "ingest: timestamps without a UTC offset were read as {} time ({by}){months}",
            values.tz.name()
        );
    } else if !global.quiet && values.without_offset.get() {
        crate::note!(
            "warning: timestamps without a UTC offset were read as {} time (the playbook's); if the CRM shows another zone (a HubSpot portal's, a Pipedrive company's), pass --tz ZONE (e.g. --tz America/Mexico_City) or set `timezone = \"…\"` in the mapping",
            values.tz.name()
        );
    }
    if !global.quiet {
        for (value, n) in values.read_as_lost.borrow().iter() {
            crate::note!(
                "ingest: {n} rows with stage {value:?} read as lost, by the mapping {} ({}); drop or change that line to count them otherwise",
                job.mapping.name,
                job.mapping.show_hint()
            );
        }
    }
    if !global.quiet {
        // Over the limit nothing is written: the records that passed are counted as held back,
        // so that the figures still add up to what was read.
        let held_back = if outcome.over {
            format!(", held back {} (over --max-rejects)", outcome.written)
        } else {
            String::new()
        };
        let removed_records = outcome.removed_records;
        let deleted = outcome.dropped - removed_records;
        let deals = if outcome.removed == 1 { "deal" } else { "deals" };
        let why = match (deleted, outcome.removed) {
            (_, 0) => "deals deleted in the CRM".to_string(),
            (0, n) => format!("records of {n} {deals} removed between snapshots"),
            (d, n) => format!(
                "{d} of deals deleted in the CRM, {removed_records} of {n} {deals} removed between snapshots"
            ),
        };
        let dropped = if outcome.dropped > 0 {
            format!(", dropped {} ({why}: not counted)", outcome.dropped)
        } else {
            String::new()
        };
        let events = match outcome.events_written {
            Some(n) if n != outcome.written && !outcome.over => format!("; {n} events written"),
            _ => String::new(),
        };
        for line in &outcome.history_notes {
            crate::note!("{line}");
        }
        crate::note!(
            "ingest: read {}, written {}, rejected {}{dropped}{held_back}{events}",
            outcome.read,
            if outcome.over { 0 } else { outcome.written },
            outcome.rejected
        );
        for p in outcome.first_problems.iter().take(5) {
            crate::note!("  {p}");
        }
        let unshown = outcome.rejected.saturating_sub(outcome.first_problems.len().min(5) as u64);
        if unshown > 0 {
            let all = if args.rejects.is_some() {
                "in the rejects report"
            } else {
                "with --rejects FILE"
            };
            crate::note!("  … and {unshown} more rejected records (all listed {all})");
        }
        if let Some(money) = outcome.money.as_ref().filter(|_| !outcome.over) {
            for line in money_notes(money) {
                crate::note!("{line}");
            }
        }
        if outcome.over {
            crate::note!(
                "  more rejects than --max-rejects {}: no output written",
                args.max_rejects
            );
        }
    }
    Ok(if outcome.over { ExitStatus::DataFailed } else { ExitStatus::Success })
}

fn resolve(global: &Global, args: &IngestArgs, playbook: &Playbook) -> Result<IngestJob> {
    let table = args.table.expect("clap requires --table without --show");
    let mapping = ingest::load_mapping(args.mapping.as_deref(), table, args.layout.as_deref())?;
    let tz: chrono_tz::Tz = match (&args.tz, &mapping.timezone) {
        (Some(t), _) => {
            t.parse().map_err(|_| anyhow::anyhow!("--tz {t}: not an IANA time zone"))?
        }
        (None, Some(t)) => t.parse().map_err(|_| {
            anyhow::anyhow!("mapping {}: timezone {t:?} is not an IANA time zone", mapping.name)
        })?,
        (None, None) => playbook.timezone,
    };
    let values = ValueOptions {
        tz,
        date_format: args.date_format.clone(),
        currency: args.currency_symbols,
        group_separator: args.group_separator,
        decimal_comma: args.decimal_comma,
        without_offset: std::cell::Cell::new(false),
        max_field_bytes: args.max_field_bytes,
        trimmed: std::cell::Cell::new(0),
        decoding: std::cell::Cell::new(false),
        lossy: args.lossy,
        replaced: std::cell::Cell::new(0),
        read_as_lost: Default::default(),
    };
    let snapshot_dates = args
        .snapshot_date
        .iter()
        .map(|d| {
            crate::model::time::parse_cli_as_of(d, tz)
                .with_context(|| format!("--snapshot-date {d}"))
        })
        .collect::<Result<Vec<_>>>()?;
    if values.decimal_comma && values.group_separator == Some(',') {
        bail!("--decimal-comma and --group-separator , cannot both hold");
    }
    let output = super::output(global)?;
    let sources: Vec<Source> = args.inputs.iter().map(|i| Source::parse(i)).collect();
    let rejects = args.rejects.as_deref().map(|p| Dest::parse(Some(p)));
    if let Some(Dest::File(p)) = &rejects
        && crate::io::Format::from_path(p).is_none()
    {
        bail!(
            "--rejects {}: write the rejects as .csv, .tsv, .json, .ndjson or .parquet",
            p.display()
        );
    }
    let outputs: Vec<&Dest> = std::iter::once(&output.dest).chain(rejects.iter()).collect();
    crate::io::ensure_distinct_files(&outputs, &sources)?;
    Ok(IngestJob {
        table,
        salesforce: mapping.layout == "salesforce",
        mapping,
        sources,
        dest: output.dest,
        format: output.format,
        rejects,
        max_rejects: args.max_rejects,
        snapshot_dates,
        delimiter: args.delimiter.clone(),
        encoding: ingest::encoding(args.encoding.as_deref())?,
        values,
        quiet: global.quiet,
    })
}

/// What ingest did with the amounts' currencies: converted (and with which rates), or kept
/// apart.
fn money_notes(money: &crate::model::money::MoneyRead) -> Vec<String> {
    let mut out = Vec::new();
    if let Some((corporate, files)) = &money.rates {
        let from: Vec<String> = money
            .amounts
            .iter()
            .filter_map(|(c, n)| c.filter(|c| c != corporate).map(|c| format!("{n} in {c}")))
            .collect();
        if !from.is_empty() {
            out.push(format!(
                "ingest: amounts converted to {corporate} with {} ({}); the currency column says {corporate}",
                files.join(", "),
                from.join(", ")
            ));
        }
    }
    out.extend(money.warning());
    out
}
