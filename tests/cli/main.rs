//! End-to-end tests of the `salescoach` binary, one module per subcommand.

mod closings;
mod coaching_tree;
mod contract;
mod currencies;
mod dates;
mod diagnose;
mod exit_codes;
mod faults;
mod funnel;
mod generate;
mod hostile;
mod ingest;
mod month_end;
mod one_reading;
mod parquet_inputs;
mod plan;
mod real_exports;
mod regressions;
mod report;
mod review;
mod review_cases;
mod sheets_read;
mod support;
mod surface;
mod swap;
mod validate;
