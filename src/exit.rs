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
#[derive(Debug)]
pub struct DataError(pub String);

impl DataError {
    pub fn new(msg: impl Into<String>) -> DataError {
        DataError(msg.into())
    }
}

impl std::fmt::Display for DataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DataError {}
