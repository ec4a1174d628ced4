//! The use cases that several commands share, arranged over the lower layers: load inputs and
//! count the funnel, validate, diagnose, review with the ledger, write worksheets, ingest
//! exports, and the month end that runs them all. Commands resolve their arguments and call
//! these; these never read the command line or print a command's result.

pub mod diagnose;
pub mod funnel;
pub mod ingest;
pub mod month_end;
pub mod out_folder;
pub mod review;
pub mod validation;
pub mod worksheets;
