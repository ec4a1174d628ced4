//! The process's outcome: exit codes and the error that means "the data failed a check".

/// The process exit code, as documented in README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the command did its work and the data passed its checks.
    Success,
    /// 1: the data failed a check.
    DataFailed,
    /// 2: usage, configuration or IO error.
    Error,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(match s {
            ExitStatus::Success => 0,
            ExitStatus::DataFailed => 1,
            ExitStatus::Error => 2,
        })
    }
}

/// An error caused by the data (exit 1), not by the tool or its use (exit 2).
/// `code` is the Frictionless error type when the error is about a table's shape
/// (`duplicate-label`, `schema-error`), for validate's report.
#[derive(Debug)]
pub struct DataError {
    pub message: String,
    pub code: Option<&'static str>,
}

impl DataError {
    pub fn new(msg: impl Into<String>) -> DataError {
        DataError { message: msg.into(), code: None }
    }

    pub fn with_code(code: &'static str, msg: impl Into<String>) -> DataError {
        DataError { message: msg.into(), code: Some(code) }
    }
}

impl std::fmt::Display for DataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DataError {}
