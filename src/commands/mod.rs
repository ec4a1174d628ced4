//! One module per subcommand, each with one entry function `run`.

pub mod diagnose;
pub mod funnel;
pub mod generate;
pub mod ingest;
pub mod init;
pub mod plan;
pub mod report;
pub mod review;
pub mod validate;
