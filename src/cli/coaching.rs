//! The arguments of the coaching commands: diagnose, plan, review, the month end and the demo.

use crate::model::values::{Lang, SheetLevel};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Which skill each rep should work on this month, why in numbers, and the hypotheses.
///
/// For each rep, over the period and the months before it (--lookback, default 3): every lever
/// (each step-up rate, new leads a month, activities per deal at each stage) and the confidence
/// that the rep has a deficit there: each lever's peers are modelled as a typical and a
/// deficient group, and the confidence is the posterior probability of the deficient group given
/// the rep's counts (of reps called 90% sure, about 9 in 10 really have the weakness; being below
/// the median is not a deficit). The impact is the expected gain: confidence × the won deals a
/// month of reaching the typical level with everything else unchanged. The focus is the largest
/// impact among the levers at least as sure as the playbook's threshold (0.8); when none is, the
/// output says "no lever stands out" and names the strongest candidate as a suggestion. The
/// playbook's rules then check their hypotheses for the focus against the activity indicators.
///
/// The default period is the month end: the latest month with deals. Months whose deals are
/// still open count with the month-end estimates, as much as their outcome is known.
///
/// Examples:
///
///   $ salescoach diagnose --events sample-data/events.csv --activities sample-data/activities.csv \
///       --roster sample-data/roster.csv
///
///   $ salescoach funnel --events events.csv --activities activities.csv --roster roster.csv -f csv \
///       | salescoach diagnose --funnel - --period 2026-03 -f json
///
///   $ salescoach diagnose --events events.csv --roster roster.csv --manager M001 -o team.csv
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DiagnoseArgs {
    /// Events table (with --activities and --roster), or use --funnel.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "funnel",
        conflicts_with = "funnel"
    )]
    pub events: Option<String>,
    /// Activities table, for the hypotheses that read activity indicators.
    #[arg(long, value_name = "FILE")]
    pub activities: Option<String>,
    /// Roster: rep names and managers.
    #[arg(long, value_name = "FILE")]
    pub roster: Option<String>,
    /// A funnel table written by `salescoach funnel` (monthly, cohort); `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub funnel: Option<String>,
    /// Month to diagnose (YYYY-MM) [default: the month end, the latest month with deals].
    #[arg(long, value_name = "YYYY-MM")]
    pub period: Option<String>,
    /// Months of data per diagnosis [default: the playbook's, 3].
    #[arg(long, value_name = "N")]
    pub lookback: Option<u32>,
    /// Only the reps under this manager (benchmarks stay company-wide).
    #[arg(long, value_name = "ID")]
    pub manager: Option<String>,
    /// Date of the data's extract (with --events); a bare date is the end of that day.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

/// Markdown coaching worksheets for the rep, manager and director meetings, and the plan ledger.
///
/// Writes one worksheet per rep (OUT/reps/ID.md with its funnel chart OUT/reps/ID.svg): which
/// skill this month, why in numbers (the funnel against the benchmarks, the trend, the impact,
/// how sure), the hypotheses with their evidence and checks, the questions to ask, blanks for
/// the rep's own analysis and actions, and the agreed target. With a roster, one per manager
/// (OUT/managers/ID.md) and one per director (OUT/directors/ID.md). Each worksheet starts with
/// YAML front matter holding its plan; --ledger adds the proposed plans to the plan ledger.
/// A worksheet edited since it was written is kept unless --force is given. Each page also
/// comes as HTML beside it (ID.html), to open in a browser and print (--no-html: none).
///
/// `salescoach plan import` reads edited worksheets back into the ledger (the agreed focus,
/// target and actions) and marks those plans agreed.
///
/// Examples:
///
///   $ salescoach plan --events sample-data/events.csv --activities sample-data/activities.csv \
///       --roster sample-data/roster.csv --out worksheets --ledger plans.csv
///
///   $ salescoach diagnose --events events.csv --roster roster.csv -f json \
///       | salescoach plan --diagnosis - --roster roster.csv --out worksheets --lang ja
///
///   $ salescoach plan import worksheets --ledger plans.csv
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, args_conflicts_with_subcommands = true)]
pub struct PlanArgs {
    #[command(subcommand)]
    pub action: Option<PlanAction>,
    /// The JSON written by `salescoach diagnose -f json` (`-` for standard input).
    #[arg(long, value_name = "FILE", conflicts_with = "events")]
    pub diagnosis: Option<String>,
    /// Events table, to diagnose here instead of reading --diagnosis.
    #[arg(long, value_name = "FILE")]
    pub events: Option<String>,
    /// Activities table (with --events).
    #[arg(long, value_name = "FILE")]
    pub activities: Option<String>,
    /// Roster: names, and the manager and director levels.
    #[arg(long, value_name = "FILE")]
    pub roster: Option<String>,
    /// Folder for the worksheets.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Month of the plans (YYYY-MM) [default: the diagnosis's].
    #[arg(long, value_name = "YYYY-MM")]
    pub period: Option<String>,
    /// Months of data per diagnosis (with --events).
    #[arg(long, value_name = "N")]
    pub lookback: Option<u32>,
    /// The moment the export was taken [default: the latest timestamp]: deals still open then
    /// count by what their age says; rows dated after it are counted, warned about and left out.
    /// A bare date (2026-03-31) is the end of that day.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Which worksheets: rep, manager, director or all.
    #[arg(long, value_enum, default_value_t = SheetLevel::All)]
    pub level: SheetLevel,
    /// Only this manager's reps and worksheet.
    #[arg(long, value_name = "ID")]
    pub manager: Option<String>,
    /// Folder of replacement templates (LANG/rep.md.j2, LANG/manager.md.j2, LANG/director.md.j2).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Language of the worksheets.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
    /// ISO 4217 code of the amounts (JPY, USD, …) [default: the playbook's `currency`].
    #[arg(long, value_name = "CODE")]
    pub currency: Option<String>,
    /// Write no HTML pages (by default every Markdown page gets an HTML page beside it, which
    /// opens in a browser and prints as a meeting sheet).
    #[arg(long)]
    pub no_html: bool,
    /// The plan ledger (CSV or Parquet) to add the proposed plans to.
    #[arg(long, value_name = "FILE")]
    pub ledger: Option<PathBuf>,
    /// Overwrite worksheets edited since they were written.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum PlanAction {
    /// Read edited worksheets back into the plan ledger and mark their plans agreed.
    Import(PlanImportArgs),
}

#[derive(Debug, Args)]
pub struct PlanImportArgs {
    /// Worksheets, or folders holding them.
    #[arg(required = true, value_name = "DIR_OR_FILE")]
    pub paths: Vec<PathBuf>,
    /// The plan ledger to update.
    #[arg(long, value_name = "FILE", required = true)]
    pub ledger: PathBuf,
}

/// Verify whether coaching worked: per plan, per manager and up the org tree.
///
/// Takes the ledger's plans whose review month is --period or earlier and that have no outcome
/// yet, or whose outcome was given for this same --period (a rerun gives them again, and
/// --update-ledger then changes nothing). A plan's *before* is its baseline window (the plan's month and the lookback months
/// before it); its *after* runs from the month after the plan through --period (at most as many
/// months as the lookback), with the month-end estimates for cohorts still open, so that a plan
/// can be checked the month after. Plans made in 2026-03 and reviewed with
/// --period 2026-05 compare Jan–Mar with Apr–May.
///
/// For each plan: the indicator after coaching, its change, the probability that it improved
/// (two Beta posteriors), and the coaching effect with a 95% interval. What the baseline alone
/// predicts without coaching (expected_after: a worst step tends to bounce back on its own) is
/// subtracted from the rep's after value, and so is the same residual of the 5 uncoached reps
/// whose predictions were nearest (uncoached: no agreed plan on that lever that month; a
/// suggestion is not a plan). So regression to the mean and common trends are not credited to
/// coaching. Verdict: improved when the effect's 95% interval is above zero, worse when it is
/// below zero, inconclusive when it straddles zero, with about how many more deals would decide
/// it (no evidence is never a negative verdict). A plan with too little data after it, or no
/// uncoached rep to compare with, is not reviewable yet and says why. Beside the verdict, a
/// leading indicator: the activity the plan's hypothesis reads, before and after.
///
/// Then the coaching record per manager and up the roster: plans reviewed, share improved
/// (Wilson 95% interval, and shrunk across the level), mean effect on rates (95% interval).
///
/// Examples:
///
///   $ salescoach review --ledger plans.csv --events events.csv --roster roster.csv --period 2026-05
///
///   $ salescoach review --ledger plans.csv --events events.csv --roster roster.csv \
///       --update-ledger -f json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ReviewArgs {
    /// The plan ledger (CSV or Parquet).
    #[arg(long, value_name = "FILE")]
    pub ledger: PathBuf,
    /// Events table.
    #[arg(long, value_name = "FILE")]
    pub events: String,
    /// Activities table (for activity-volume levers).
    #[arg(long, value_name = "FILE")]
    pub activities: Option<String>,
    /// Roster: the manager, director and higher roll-ups, and reps who left.
    #[arg(long, value_name = "FILE")]
    pub roster: Option<String>,
    /// The month of the review (YYYY-MM) [default: the month end, the latest month with deals].
    #[arg(long, value_name = "YYYY-MM")]
    pub period: Option<String>,
    /// Months per window [default: the playbook's lookback].
    #[arg(long, value_name = "N")]
    pub lookback: Option<u32>,
    /// The moment the export was taken [default: the latest timestamp]: deals still open then
    /// count by what their age says; rows dated after it are counted, warned about and left out.
    /// A bare date (2026-03-31) is the end of that day.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Write the outcomes into the ledger (atomically; a second run changes nothing).
    #[arg(long)]
    pub update_ledger: bool,
}

/// The monthly batch in one command: validate, funnel, review, diagnose, worksheets, index.
///
/// Validates the inputs (on errors: exit 1 with the validation report and nothing written,
/// unless --allow-invalid), computes the funnel at every level, reviews the ledger's plans due
/// this month, diagnoses every rep, writes every worksheet (rep, manager, director) and
/// OUT/index.md with the company funnel, links to every page, the review results, the data
/// tables (CSV and Parquet, under OUT/data) and the validation summary. The report is built in a
/// staging folder and moved into place, so a failed run never leaves half a report; OUT keeps
/// a manifest (.salescoach-report) of the report's own files, and only those are ever
/// replaced. The ledger gets the outcomes and the new proposed plans. A second run over the
/// same inputs gives the same files. Every page also comes as HTML beside its Markdown (index.html,
/// board.html, every sheet), to open in a browser and print. Prints the path of index.html
/// (index.md with --no-html; with -o/-f: a summary row).
///
/// Examples:
///
///   $ salescoach report --events events.csv --activities activities.csv --roster roster.csv \
///       --ledger plans.csv --period 2026-03 --out reports/2026-03
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ReportArgs {
    /// Events table.
    #[arg(long, value_name = "FILE")]
    pub events: String,
    /// Activities table.
    #[arg(long, value_name = "FILE")]
    pub activities: Option<String>,
    /// Roster.
    #[arg(long, value_name = "FILE")]
    pub roster: String,
    /// The plan ledger to review and to add this month's plans to.
    #[arg(long, value_name = "FILE")]
    pub ledger: Option<PathBuf>,
    /// The month (YYYY-MM).
    #[arg(long, value_name = "YYYY-MM")]
    pub period: String,
    /// Folder of the report. An earlier report there is replaced file by file (worksheets
    /// edited since are kept); a non-empty folder that is not a report is refused unless
    /// --force; nothing the report did not write is ever deleted or overwritten.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The moment the export was taken [default: the latest timestamp]: deals still open then
    /// count by what their age says; rows dated after it are counted, warned about and left out.
    /// A bare date (2026-03-31) is the end of that day.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Go on when the inputs fail validation.
    #[arg(long)]
    pub allow_invalid: bool,
    /// Write into a non-empty --out that is not an earlier report; only the report's own
    /// files are replaced, anything else there is kept.
    #[arg(long)]
    pub force: bool,
    /// Language of the worksheets and the board page.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
    /// ISO 4217 code of the amounts (JPY, USD, …) [default: the playbook's `currency`].
    #[arg(long, value_name = "CODE")]
    pub currency: Option<String>,
    /// Write no HTML pages (by default every Markdown page gets an HTML page beside it, which
    /// opens in a browser and prints as a meeting sheet).
    #[arg(long)]
    pub no_html: bool,
}

/// A first run that shows everything: the monthly report on the embedded sample data.
///
/// Writes the sample organisation's data to OUT/input, then runs the month end for 2026-02 and
/// 2026-03 (OUT/2026-02, OUT/2026-03) with one plan ledger (OUT/plans.csv), so that the second
/// month reviews the first month's plans. Prints the path of the last index.html, which opens in a
/// browser.
///
/// Examples:
///
///   $ salescoach demo
///
///   $ salescoach demo --out /tmp/coaching-demo
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DemoArgs {
    /// Folder to write the demo into.
    #[arg(long, value_name = "DIR", default_value = "salescoach-demo")]
    pub out: PathBuf,
    /// Language of the worksheets and the board page.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
    /// ISO 4217 code of the amounts (JPY, USD, …) [default: the playbook's `currency`].
    #[arg(long, value_name = "CODE")]
    pub currency: Option<String>,
    /// Write no HTML pages (by default every Markdown page gets an HTML page beside it, which
    /// opens in a browser and prints as a meeting sheet).
    #[arg(long)]
    pub no_html: bool,
}
