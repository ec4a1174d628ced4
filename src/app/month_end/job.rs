//! The inputs of one month-end run.

use crate::io::Format;
use crate::model::values::Lang;
use std::path::Path;

/// The inputs of one monthly run.
pub struct MonthEnd<'a> {
    pub events: &'a str,
    pub activities: Option<&'a str>,
    pub roster: &'a str,
    pub ledger: Option<&'a Path>,
    pub period: &'a str,
    pub out: &'a Path,
    pub allow_invalid: bool,
    /// Write into a non-empty folder that is not an earlier report (only report files replaced).
    pub force: bool,
    /// The moment the export was taken; `None` is the latest timestamp.
    pub as_of: Option<crate::model::time::Micros>,
    /// Warn about events dated after as-of (a real export should have none; the demo cuts
    /// its data on purpose).
    pub warn_after_as_of: bool,
    pub input_format: Option<Format>,
    pub quiet: bool,
    /// Language of the worksheets and the board page.
    pub lang: Lang,
    /// Write an HTML page beside every Markdown page.
    pub html: bool,
}
