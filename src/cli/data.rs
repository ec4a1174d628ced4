//! The arguments of the commands that read, check, count and make data.

use crate::metrics::funnel::Method;
use crate::model::time::PeriodKind;
use clap::Args;
use std::path::PathBuf;

/// Write editable copies of the playbook and the worksheet templates.
///
/// Writes DIR/playbook.toml (funnel stages, aliases, windows, levels, diagnosis rules) and the
/// worksheet templates DIR/templates/{en,ja}/{rep,manager,director,board}.md.j2. Edit them, then pass
/// `--config DIR/playbook.toml` to any command and `--templates DIR/templates` to `plan`.
/// Existing files are kept unless --force is given.
///
/// A pipeline of your own: --stages lists its stages in order, as the CRM labels them; the
/// playbook gets an id per stage, the labels as given (accents kept) for the sheets and as
/// aliases for the export, and the built-in rules moved onto its steps where they fit. Labels
/// that name a loss ("Perdido", "Closed Lost") become outcomes. --stages-from reads the
/// distinct values of an export's stage column instead (check their order).
///
/// Examples:
///
///   $ salescoach init coaching
///
///   $ salescoach funnel --config coaching/playbook.toml --events events.csv
///
///   $ salescoach init es --stages "Interés,Diseño Propuesta,Negociación,Ganado,Perdido"
///
///   $ salescoach init hs --stages-from deals.csv --stage-column "Deal Stage"
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct InitArgs {
    /// Folder to write into.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Overwrite files that already exist.
    #[arg(long)]
    pub force: bool,
    /// The pipeline's stages in order, comma-separated, as the CRM labels them.
    #[arg(long, value_name = "LABELS", conflicts_with = "stages_from")]
    pub stages: Option<String>,
    /// Read the stages from the distinct values of an export's stage column (CSV).
    #[arg(long, value_name = "FILE", requires = "stage_column")]
    pub stages_from: Option<PathBuf>,
    /// The stage column of --stages-from.
    #[arg(long, value_name = "COLUMN")]
    pub stage_column: Option<String>,
    /// Losing outcomes, comma-separated, besides the labels of --stages that name a loss
    /// [default: Lost, when none does].
    #[arg(long, value_name = "LABELS")]
    pub lost: Option<String>,
}

/// Generate a synthetic but realistic sales organisation: roster, events and activities.
///
/// Builds a roster tree (board → directors → managers → reps), then simulates every rep's
/// deals month by month through the playbook's funnel, with the activities on each deal. Every
/// rep has step-up rates of their own; some have a planted weakness: one transition, low lead
/// volume, or for case → proposal one of the seed's three causes made visible in the activities
/// (few contacts per case, few personalised responses, short first calls). `--truth` writes
/// what was planted, so that diagnosis can be scored. With --ledger, the plans' reps are coached
/// from the month after each plan: a share of them (--fix-share) lose the planted weakness on
/// the coached lever, and --truth says which. The same --seed gives the same bytes.
/// Output streams: memory does not grow with the number of rows.
///
/// Examples:
///
///   $ salescoach generate --out data --seed 7 --truth data/truth.csv
///
///   $ salescoach generate --out big -f parquet --directors 10 --managers 10 --reps 20 \
///       --months 12 --leads 140
///
///   $ salescoach generate --out coached --seed 7 --ledger plans.csv --fix-share 0.5 \
///       --truth coached/truth.csv
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct GenerateArgs {
    /// Folder for events, activities and roster (named by table, extension by --format).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Random seed; the same seed and flags give byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of directors under the board.
    #[arg(long, default_value_t = 1)]
    pub directors: u32,
    /// Managers per director.
    #[arg(long, default_value_t = 3)]
    pub managers: u32,
    /// Reps per manager.
    #[arg(long, default_value_t = 8)]
    pub reps: u32,
    /// Months of data.
    #[arg(long, default_value_t = 6)]
    pub months: u32,
    /// First month (YYYY-MM).
    #[arg(long, default_value = "2026-01")]
    pub start: String,
    /// Mean new leads per rep per month.
    #[arg(long, default_value_t = 20.0)]
    pub leads: f64,
    /// Share of reps with a planted weakness.
    #[arg(long, default_value_t = 0.5)]
    pub weak_share: f64,
    /// Share of reps who join late (one or two months before the last three), so have little data.
    #[arg(long, default_value_t = 0.0)]
    pub late_share: f64,
    /// Do not write activities.
    #[arg(long)]
    pub no_activities: bool,
    /// Write what was planted per rep (CSV) here.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Simulate coaching: the plans of this ledger act from the month after their period.
    #[arg(long, value_name = "FILE")]
    pub ledger: Option<PathBuf>,
    /// With --ledger: share of coached reps whose planted weakness on the coached lever is removed.
    #[arg(long, default_value_t = 0.5, requires = "ledger")]
    pub fix_share: f64,
    /// Write only what an export taken at this moment holds (a month end: 2026-05-31T23:59:59Z,
    /// or the bare date 2026-05-31, the end of that day).
    /// The deals are the same whatever the cut, so a cut and an uncut run of one seed compare
    /// the month end with hindsight.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Mean days from entering a stage to stepping up.
    #[arg(long, default_value_t = 14.0, value_name = "DAYS")]
    pub won_days: f64,
    /// Mean days from entering a stage to being lost (real pipelines give up on deals late).
    #[arg(long, default_value_t = 35.0, value_name = "DAYS")]
    pub lost_days: f64,
}

/// Step-up rates per rep and up the org tree, with honest uncertainty.
///
/// For each group (rep, manager, director, …, company) and period, counts the deals that
/// entered each stage and how many of them stepped up to the next one.
///
/// Stage entries: only a deal's first entry into a stage counts. A later stage fills skipped
/// earlier stages at its own time (--strict-stages turns this off and reports skipped deals).
/// Events with the same timestamp are ordered by stage; the result never depends on row order.
///
/// Cohort (default): of the deals that entered stage s during the period, credited to the rep
/// who owned the deal on that entry, `converted` entered s+1 within the window (default 90 days,
/// inclusive), `lost` reached a terminal outcome without converting, `open` neither; entered =
/// converted + lost + open; rate_observed = converted / entered. `rate` is the month-end
/// estimate: the probability of stepping up within the window from what is known at as-of
/// (decided deals count fully, an open deal by what its age says, with the time steps take to
/// be won and lost learned from the data); equal to rate_observed once every deal is decided.
/// observed_share says how much of the outcome is known. A cohort is mature when as-of ≥ end of
/// period + window; as-of defaults to the latest timestamp in the data.
///
/// Flow: rate = deals entering s+1 during the period / deals entering s during the period, each
/// credited to the owner on that entry. A flow rate can exceed 1.
///
/// Levels: a node's counts are sums over the deals credited to the reps under it. Every rate
/// has a 95% interval (Wilson once every deal is decided; with deals still open, one that also
/// carries what is not known yet) and a shrunk value: the beta-binomial posterior mean toward
/// the peers (same level, period and transition; Beta prior fitted by the method of moments).
/// A rate with entered = 0 is empty, never 0.
///
/// Examples:
///
///   $ salescoach funnel --events sample-data/events.csv --roster sample-data/roster.csv
///
///   $ salescoach funnel --events events.parquet --roster roster.csv --by manager \
///       --grain quarter -f json
///
///   $ salescoach funnel --events events.csv --roster roster.csv --by company --period 2026-03
///
///   $ salescoach funnel --events events.csv -f csv | salescoach diagnose --funnel -
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct FunnelArgs {
    /// Events table (CSV, TSV, Parquet, JSON, NDJSON; `-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub events: String,
    /// Activities table, for the per-stage activity indicators.
    #[arg(long, value_name = "FILE")]
    pub activities: Option<String>,
    /// Roster, for the levels above rep.
    #[arg(long, value_name = "FILE")]
    pub roster: Option<String>,
    /// Which level to report: rep, manager, director, any level name, company, or all.
    #[arg(long, default_value = "all")]
    pub by: String,
    /// Period length: month, week (ISO) or quarter [default: month, or the kind of --period].
    #[arg(long, value_enum)]
    pub grain: Option<PeriodKind>,
    /// Only this period (2026-04, 2026-W14, 2026-Q2), or `all` for one period over the whole
    /// data; a period without events exits 1.
    /// (`--period month|week|quarter` is the old spelling of --grain, accepted for one release.)
    #[arg(long, value_name = "LABEL")]
    pub period: Option<String>,
    /// Cohort (share of a period's entrants that stepped up) or flow (entries s+1 / entries s).
    #[arg(long, value_enum, default_value_t = Method::Cohort)]
    pub method: Method,
    /// Conversion window in days for every transition, or `none` for ever (default: the
    /// playbook's).
    #[arg(long, value_name = "DAYS|none")]
    pub window: Option<String>,
    /// The moment the export was taken [default: the latest timestamp]; events after it are
    /// counted, warned about and left out. A bare date (2026-03-31) is the end of that day.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// First day to report (periods starting before it are left out).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last day to report (periods ending after it are left out).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Count only stages a deal has its own event for; report skipped transitions.
    #[arg(long)]
    pub strict_stages: bool,
}

/// Check canonical tables for a CI job: schemas, keys, cross-table references, the roster tree
/// and event sanity.
///
/// Checks each file against schemas/<table>.schema.json (required, type, enum, minimum and
/// maximum, unique and primary keys), then across tables: every rep_id in the roster, every
/// activity's deal_id among the events, the roster tree (unknown reports_to, cycles reported as
/// their path, several roots as a warning), and the events: unknown stages, exact duplicates
/// (warning, counted once), conflicting duplicates, events after --as-of, a later stage dated
/// before an earlier one (warning) and stages after a terminal outcome (warning). Every error is
/// counted; --max-errors caps what is printed. The table a file holds comes from its name
/// (events, activities, roster) or --table.
///
/// Exit codes: 0 valid (warnings allowed), 1 invalid (or any warning with --strict), 2 usage or
/// IO error.
///
/// Examples:
///
///   $ salescoach validate sample-data/events.csv sample-data/activities.csv sample-data/roster.csv
///
///   $ salescoach validate export.parquet --table events --roster roster.csv --as-of 2026-07-01 -f json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ValidateArgs {
    /// Tables to check (CSV, TSV, Parquet, JSON, NDJSON; `-` for standard input).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Which table the files hold, when their names do not say.
    #[arg(long, value_enum)]
    pub table: Option<crate::model::tables::TableKind>,
    /// Roster to check rep ids against.
    #[arg(long, value_name = "FILE")]
    pub roster: Option<String>,
    /// Events to check activity deal ids against.
    #[arg(long, value_name = "FILE")]
    pub events: Option<String>,
    /// Date of the extract: events after it are errors. A bare date (2026-03-31) is the end of
    /// that day.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Fail on warnings too.
    #[arg(long)]
    pub strict: bool,
    /// Print at most this many errors and warnings each (all are counted).
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub max_errors: usize,
}

/// Turn exports into a canonical table; every record is either written or rejected.
///
/// Reads CSV exports in these layouts. *history*: rows map one to one onto a canonical table (one
/// row per stage change, such as Salesforce's OpportunityHistory once the owner is a column, or
/// any spreadsheet of events, activities or people). *snapshot*: one row per deal with its
/// current stage and a few dates (HubSpot's and Pipedrive's deals exports); every earlier stage
/// counts as reached, and a stage whose date the export lacks takes the nearest known date and
/// is marked `inferred`. Several snapshots of one portal (files, a folder or a glob) are read as
/// a history: each snapshot's day comes from --snapshot-date, the mapping's `snapshot_date`
/// column, or a date in the file name (deals-2026-10-01.csv); a stage first shown by a later
/// snapshot is entered halfway between it and the one before, an outcome without a close date
/// at the first snapshot that shows it (both `inferred`); an open deal missing from the next
/// snapshot was removed in the CRM: dropped, counted and named. *stage-dates*: one row per
/// deal with a date column per stage (HubSpot's "Date entered" properties), unpivoted into one
/// event per dated stage. *levels* (roster): one row per rep with the org as level columns
/// (office, manager, rep), turned into the tree. A mapping file (TOML) names the export column
/// of each canonical column and maps export stage values to the playbook's stages; presets: canonical (the default),
/// salesforce-history, hubspot-deals, pipedrive-deals, and salesforce: a Data Export folder (or
/// its files) read whole, OpportunityHistory with the owner joined from Opportunity, Lead for
/// the lead stage, and User for the roster. The delimiter is sniffed from the
/// header and reported; UTF-8 and UTF-16 byte-order marks are honoured; --encoding reads
/// cp932/shift_jis, windows-1252, latin1 and others. Invalid UTF-8 without --encoding is an
/// error naming the line and byte offset. Timestamps are ISO 8601 (without an offset: --tz,
/// default the playbook's); other forms only with --date-format. Amounts are plain decimals,
/// kept exact; currency symbols, digit grouping and a decimal comma only with their options.
/// NUL bytes, fields over 1 MiB, unknown stages and bad values are rejected, never guessed.
///
/// The summary counts export records: `read N, written M, rejected K, dropped D` (N = M + K +
/// D; a snapshot record writes several events, counted beside). --rejects writes one row per
/// rejected record with file, line, record number, column, code and a preview of the record.
/// With more rejects than --max-rejects (default 0) nothing is written and the exit is 1.
///
/// A mapping file:
///
///   layout = "history"
///   [columns]
///   deal_id = "OpportunityId"
///   rep_id = "OwnerId"
///   stage = "StageName"
///   ts = "CreatedDate"
///   amount = "Amount"
///   [stages]
///   "Prospecting" = "lead"
///   "Negotiation/Review" = "quote"
///
/// Examples:
///
///   $ salescoach ingest export.csv --table events --mapping history.toml -o events.parquet \
///       --rejects rejects.csv --max-rejects 100
///
///   $ salescoach ingest people.csv --table roster --encoding cp932 -o roster.csv
///
///   $ salescoach ingest --table events --preset hubspot-deals snapshots/ -o events.csv
///
///   $ salescoach ingest --preset hubspot-deals --show > my-hubspot.toml
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct IngestArgs {
    /// Export files (CSV or TSV; a folder or a quoted glob reads every file in it; `-` for
    /// standard input).
    #[arg(required_unless_present = "show", value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// The canonical table to write.
    #[arg(long, value_enum, required_unless_present = "show")]
    pub table: Option<crate::model::tables::TableKind>,
    /// A mapping file, or a preset: canonical (the default), salesforce (a Data Export folder),
    /// salesforce-history, hubspot-deals, pipedrive-deals.
    #[arg(long, visible_alias = "preset", value_name = "PRESET|FILE")]
    pub mapping: Option<String>,
    /// Read the exports in this layout, whatever the mapping says: history, snapshot,
    /// stage-dates, levels.
    #[arg(long, value_name = "LAYOUT")]
    pub layout: Option<String>,
    /// The day a snapshot was taken, once per input file in reading order [default: a snapshot
    /// date column of the mapping, else a date in the file name: deals-2026-10-01.csv].
    #[arg(long, value_name = "DATE")]
    pub snapshot_date: Vec<String>,
    /// Print the mapping (a preset as a mapping file to start from) and exit.
    #[arg(long)]
    pub show: bool,
    /// Write one row per rejected record here (CSV).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Rejected records allowed before ingest writes nothing and exits 1.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub max_rejects: u64,
    /// Field delimiter (one character, or `tab`) [default: sniffed from the header].
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,
    /// Source encoding: utf-8, utf-16, cp932, shift_jis, windows-1252, latin1, …
    #[arg(long, value_name = "NAME")]
    pub encoding: Option<String>,
    /// Keep records whose bytes are malformed in the --encoding (as U+FFFD, counted) instead
    /// of rejecting them.
    #[arg(long)]
    pub lossy: bool,
    /// Time zone of timestamps without an offset [default: the playbook's].
    #[arg(long, value_name = "TZ")]
    pub tz: Option<String>,
    /// strftime format of timestamps that are not ISO 8601 (e.g. %m/%d/%Y %H:%M); repeat it
    /// for an export with several forms (an Excel round trip: %m/%d/%y and %m/%d/%y %I:%M %p).
    #[arg(long, value_name = "FORMAT")]
    pub date_format: Vec<String>,
    /// Amounts may carry a currency symbol ($, €, £, ¥), which is dropped.
    #[arg(long)]
    pub currency_symbols: bool,
    /// Amounts may group digits with this character (`,`, `.`, ` ` or `'`), which is dropped.
    #[arg(long, value_name = "CHAR")]
    pub group_separator: Option<char>,
    /// Amounts use a decimal comma (1234,50).
    #[arg(long)]
    pub decimal_comma: bool,
    /// Reject a record with a field longer than this many bytes (a runaway quote or a pasted
    /// document, not data).
    #[arg(long, default_value_t = crate::io::read::MAX_FIELD_BYTES, value_name = "BYTES")]
    pub max_field_bytes: usize,
}
