//! The Salesforce Data Export preset: OpportunityHistory with owners joined from Opportunity,
//! Lead for the lead stage.

use super::cells::{Fill, Rejection, convert};
use super::input::open_export;
use super::job::IngestJob;
use super::layouts::Rows;
use super::sink::Sink;
use crate::io::Source;
use crate::io::records::OwnedTextRecord;
use crate::model::playbook::Playbook;
use crate::model::tables::TableKind;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;

/// Counts and reports one export record as rejected, at its line, with its raw cells.
fn reject_record(
    r: &csv::StringRecord,
    file: &str,
    number: u64,
    why: Rejection,
    sink: &mut Sink,
) -> Result<()> {
    sink.counts.read += 1;
    let line = r.position().map_or(0, |p| p.line());
    let raw = r.iter().collect::<Vec<_>>().join(",");
    sink.settle(&Err(why), file, line, number, &|| raw.clone())
}

/// A record that does not read: bytes that are not UTF-8 (older orgs export Latin-1) get the
/// option that fixes them, as the other presets say.
fn read_error(e: csv::Error, file: &str, headers: &[String]) -> anyhow::Error {
    if let csv::ErrorKind::Utf8 { pos, err } = e.kind() {
        let line = pos.as_ref().map_or(0, |p| p.line());
        let column = headers.get(err.field()).map_or(String::new(), |h| format!(", column {h}"));
        return crate::DataError::new(format!(
            "{file}:{line}{column}: bytes that are not UTF-8 (at byte {} of the cell); older Salesforce orgs export Latin-1: give --encoding windows-1252",
            err.valid_up_to()
        ))
        .into();
    }
    anyhow::Error::new(e).context(format!("reading {file}"))
}

/// The `IsDeleted` column of a Salesforce object, if the export has it.
fn is_deleted_column(headers: &[String]) -> Option<usize> {
    headers.iter().position(|h| h.trim() == "IsDeleted")
}

/// The `CurrencyIsoCode` column of a multi-currency org's object, if the export has it.
fn currency_column(headers: &[String]) -> Option<usize> {
    headers.iter().position(|h| h.trim() == "CurrencyIsoCode")
}

/// Salesforce's null reference id.
const SF_NULL_ID: &str = "000000000000000AAA";

/// A Salesforce Data Export (a folder, or its files): OpportunityHistory for the stage changes
/// with the owner joined from Opportunity, Lead for the lead stage, User for the roster.
pub(super) fn ingest_salesforce(
    sources: &[Source],
    args: &IngestJob,
    playbook: &Playbook,
    sink: &mut Sink,
) -> Result<()> {
    let (mapping, opts) = (&args.mapping, &args.values);
    let mut files: BTreeMap<String, Source> = BTreeMap::new();
    for s in sources {
        let path = s
            .path()
            .context("the salesforce preset reads files or a folder, not standard input")?;
        let entries: Vec<std::path::PathBuf> = if path.is_dir() {
            std::fs::read_dir(path)?.filter_map(|e| e.ok().map(|e| e.path())).collect()
        } else {
            vec![path.to_path_buf()]
        };
        for p in entries {
            if let Some(name) = p.file_name().and_then(|n| n.to_str()) {
                files.insert(name.to_lowercase(), Source::File(p.clone()));
            }
        }
    }
    // A multi-currency org's own rates convert its amounts, unless --rates gave others.
    let rate_files: Vec<std::path::PathBuf> = ["currencytype.csv", "datedconversionrate.csv"]
        .iter()
        .filter_map(|n| files.get(*n).and_then(|s| s.path().map(std::path::Path::to_path_buf)))
        .collect();
    if args.table == TableKind::Events
        && !rate_files.is_empty()
        && sink.money.as_ref().is_some_and(|m| !m.has_rates())
    {
        let rates = crate::model::money::Rates::load(&rate_files)?;
        let fallback = playbook.currency.as_deref().and_then(crate::model::money::Currency::parse);
        sink.money =
            Some(crate::model::money::Converter::new(Some(std::sync::Arc::new(rates)), fallback));
    }
    let need = |name: &str| {
        files.get(name).cloned().with_context(|| {
            format!(
                "the salesforce preset needs {name} (found: {}); for other exports write a mapping: `salescoach ingest --preset salesforce --show` prints one to start from",
                files.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    };
    let columns = |headers: &[String], file: &str, wanted: &[&str]| -> Result<Vec<usize>> {
        wanted
            .iter()
            .map(|w| {
                headers
                    .iter()
                    .position(|h| h == w)
                    .ok_or_else(|| {
                        crate::DataError::new(format!(
                            "{file}: no column {w}, which the salesforce preset reads (it looks for {}); the header has: {}. For an export without it (an Excel round trip drops OwnerId) write a mapping with a [join]: `salescoach ingest --preset salesforce --show` prints one to start from",
                            wanted.join(", "),
                            headers.iter().take(12).cloned().collect::<Vec<_>>().join(", ")
                        ))
                        .into()
                    })
            })
            .collect()
    };
    let id = |v: &str| if v == SF_NULL_ID { String::new() } else { v.trim().to_string() };
    // A short record (a truncated export line) has no cell for the columns past its end.
    let field = |r: &csv::StringRecord, i: usize| -> String { r.get(i).unwrap_or("").to_string() };
    let short = |r: &csv::StringRecord, headers: &[String]| r.len() < headers.len();
    let reject_short =
        |r: &csv::StringRecord, headers: &[String], file: &str, number: u64, sink: &mut Sink| {
            let message = format!("{} cells, the header has {}", r.len(), headers.len());
            reject_record(r, file, number, (None, "missing-cell", message), sink)
        };
    let identity: Vec<Option<usize>> = (0..args.table.columns().len()).map(Some).collect();
    let width = args.table.columns().len();
    // One export record as one or more canonical rows (a closed lead is a lead and a loss),
    // counted as one record read.
    let convert_rows = |sets: Vec<Vec<String>>,
                        file: &str,
                        line: u64,
                        number: u64,
                        sink: &mut Sink|
     -> Result<()> {
        let owned: Vec<OwnedTextRecord> = sets.iter().map(|c| OwnedTextRecord::new(c)).collect();
        let mut rows = Vec::with_capacity(sets.len());
        let mut outcome = Ok(());
        for record in &owned {
            let converted = convert(
                record.record(),
                &identity,
                args.table.columns(),
                width,
                mapping,
                playbook,
                opts,
                false,
                Fill { given: &[], defaults: &[] },
                Vec::new(),
            );
            match converted {
                Ok(row) => rows.push(row),
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        let outcome = outcome
            .map(|()| if rows.len() == 1 { Rows::One(rows.remove(0)) } else { Rows::Many(rows) });
        sink.counts.read += 1;
        sink.settle(&outcome, file, line, number, &|| sets[0].join(","))
    };
    let convert_row = |cells: Vec<String>, file: &str, line: u64, number: u64, sink: &mut Sink| {
        convert_rows(vec![cells], file, line, number, sink)
    };
    match args.table {
        TableKind::Events => {
            let opp = need("opportunity.csv")?;
            let (mut rdr, headers) = open_export(&opp, args)?;
            let c = columns(&headers, &opp.to_string(), &["Id", "OwnerId"])?;
            let mut owners: BTreeMap<String, String> = BTreeMap::new();
            let mut currencies: BTreeMap<String, String> = BTreeMap::new();
            let mut deleted: std::collections::BTreeSet<String> = Default::default();
            let opp_deleted = is_deleted_column(&headers);
            let opp_currency = currency_column(&headers);
            for r in rdr.records() {
                let r = r.map_err(|e| read_error(e, &opp.to_string(), &headers))?;
                if opp_deleted.is_some_and(|i| field(&r, i).eq_ignore_ascii_case("true")) {
                    deleted.insert(id(&field(&r, c[0])));
                }
                owners.insert(id(&field(&r, c[0])), id(&field(&r, c[1])));
                if let Some(i) = opp_currency {
                    currencies.insert(id(&field(&r, c[0])), field(&r, i).trim().to_string());
                }
            }
            let hist = need("opportunityhistory.csv")?;
            let (mut rdr, headers) = open_export(&hist, args)?;
            let c = columns(
                &headers,
                &hist.to_string(),
                &["OpportunityId", "StageName", "CreatedDate", "Amount"],
            )?;
            let hist_deleted = is_deleted_column(&headers);
            let hist_currency = currency_column(&headers);
            for (n, r) in rdr.records().enumerate() {
                let r = r.map_err(|e| read_error(e, &hist.to_string(), &headers))?;
                if short(&r, &headers) {
                    reject_short(&r, &headers, &hist.to_string(), n as u64 + 1, sink)?;
                    continue;
                }
                let line = r.position().map_or(0, |p| p.line());
                let deal = id(&field(&r, c[0]));
                let row_deleted =
                    hist_deleted.is_some_and(|i| field(&r, i).eq_ignore_ascii_case("true"));
                if row_deleted || deleted.contains(&deal) {
                    let message = format!(
                        "opportunity {deal} is deleted in Salesforce (IsDeleted = true): not counted"
                    );
                    let why = (Some("IsDeleted".into()), super::cells::DELETED, message);
                    reject_record(&r, &hist.to_string(), n as u64 + 1, why, sink)?;
                    continue;
                }
                let Some(owner) = owners.get(&deal).cloned().filter(|o| !o.is_empty()) else {
                    let message = format!("opportunity {deal} has no owner in Opportunity.csv");
                    let why = (Some("OpportunityId".into()), "foreign-key", message);
                    reject_record(&r, &hist.to_string(), n as u64 + 1, why, sink)?;
                    continue;
                };
                let currency = hist_currency
                    .map(|i| field(&r, i).trim().to_string())
                    .filter(|c| !c.is_empty())
                    .or_else(|| currencies.get(&deal).cloned())
                    .unwrap_or_default();
                convert_row(
                    vec![
                        deal,
                        owner,
                        field(&r, c[1]).to_string(),
                        field(&r, c[2]).to_string(),
                        field(&r, c[3]).to_string(),
                        String::new(),
                        currency,
                    ],
                    &hist.to_string(),
                    line,
                    n as u64 + 1,
                    sink,
                )?;
            }
            if let Some(lead) = files.get("lead.csv").cloned() {
                let (mut rdr, headers) = open_export(&lead, args)?;
                let c = columns(
                    &headers,
                    &lead.to_string(),
                    &["Id", "OwnerId", "CreatedDate", "ConvertedOpportunityId"],
                )?;
                let lead_deleted = is_deleted_column(&headers);
                let lead_status = headers.iter().position(|h| h.trim() == "Status");
                let lead_modified = headers.iter().position(|h| h.trim() == "LastModifiedDate");
                for (n, r) in rdr.records().enumerate() {
                    let r = r.map_err(|e| read_error(e, &lead.to_string(), &headers))?;
                    if short(&r, &headers) {
                        reject_short(&r, &headers, &lead.to_string(), n as u64 + 1, sink)?;
                        continue;
                    }
                    let line = r.position().map_or(0, |p| p.line());
                    if lead_deleted.is_some_and(|i| field(&r, i).eq_ignore_ascii_case("true")) {
                        let message =
                            "the lead is deleted in Salesforce (IsDeleted = true): not counted";
                        let why = (Some("IsDeleted".into()), super::cells::DELETED, message.into());
                        reject_record(&r, &lead.to_string(), n as u64 + 1, why, sink)?;
                        continue;
                    }
                    let converted = id(&field(&r, c[3]));
                    let closed_unconverted = converted.is_empty()
                        && lead_status.is_some_and(|i| {
                            field(&r, i).trim().to_lowercase().starts_with("closed")
                        });
                    let deal = if converted.is_empty() { id(&field(&r, c[0])) } else { converted };
                    let owner = id(&field(&r, c[1]));
                    let mut events = vec![(playbook.stages[0].clone(), field(&r, c[2]))];
                    // A lead closed without converting ("Closed - Not Converted") is lost, when it
                    // was last touched (else when it was created): not open for ever.
                    if closed_unconverted && let Some(lost) = playbook.terminal.first() {
                        let at = lead_modified
                            .map(|i| field(&r, i))
                            .filter(|t| !t.trim().is_empty())
                            .unwrap_or_else(|| field(&r, c[2]));
                        events.push((lost.clone(), at));
                    }
                    let sets = events
                        .into_iter()
                        .map(|(stage, ts)| {
                            vec![
                                deal.clone(),
                                owner.clone(),
                                stage,
                                ts,
                                String::new(),
                                String::new(),
                                String::new(),
                            ]
                        })
                        .collect();
                    convert_rows(sets, &lead.to_string(), line, n as u64 + 1, sink)?;
                }
            }
        }
        TableKind::Roster => {
            let user = need("user.csv")?;
            let (mut rdr, headers) = open_export(&user, args)?;
            let c = columns(
                &headers,
                &user.to_string(),
                &["Id", "FirstName", "LastName", "UserRoleId", "ManagerId"],
            )?;
            // A job title ("Sales Manager") says more than a role id and is what a playbook's
            // [roles] can map to a level; the role id stands in where the title is empty.
            let title = headers.iter().position(|h| h.trim() == "Title");
            for (n, r) in rdr.records().enumerate() {
                let r = r.map_err(|e| read_error(e, &user.to_string(), &headers))?;
                if short(&r, &headers) {
                    reject_short(&r, &headers, &user.to_string(), n as u64 + 1, sink)?;
                    continue;
                }
                let line = r.position().map_or(0, |p| p.line());
                let name = format!("{} {}", field(&r, c[1]).trim(), field(&r, c[2]).trim())
                    .trim()
                    .to_string();
                let role = title
                    .map(|t| field(&r, t).trim().to_string())
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| id(&field(&r, c[3])));
                convert_row(
                    vec![id(&field(&r, c[0])), name, role, id(&field(&r, c[4]))],
                    &user.to_string(),
                    line,
                    n as u64 + 1,
                    sink,
                )?;
            }
        }
        _ => bail!(
            "the salesforce preset makes events (OpportunityHistory, Opportunity, Lead) or a roster (User)"
        ),
    }
    Ok(())
}
