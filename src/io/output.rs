//! The one output path of every command: where a result goes (a file, written atomically, or
//! standard output), in which format, and the human table printer that fits the terminal.

pub use crate::io::human::render_table;
pub use crate::io::place::{commit_output, create_output, write_atomic};
use crate::io::write::TableWriter;
use crate::io::{Dest, Format};
use crate::model::tables::Column;
use anyhow::{Result, bail};
use std::io::{IsTerminal, Write};
use std::path::Path;

/// A resolved output: destination, format and, for human tables, the width to fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub dest: Dest,
    pub format: Format,
    /// Columns a human table may take; `None` is unlimited (a file or a pipe).
    pub width: Option<u16>,
}

impl Output {
    /// Resolves `-o` and `-f`: the flag, else the file's extension, else a table on a terminal
    /// and CSV otherwise. An extension salescoach does not write (`.xlsx`) is refused rather
    /// than written as CSV under a misleading name.
    pub fn new(
        path: Option<&Path>,
        explicit: Option<Format>,
        width: Option<u16>,
    ) -> Result<Output> {
        let dest = Dest::parse(path);
        if let (Dest::File(p), None) = (&dest, explicit)
            && Format::from_path(p).is_none()
            && p.extension().is_some()
        {
            bail!(
                "-o {}: salescoach writes .csv, .tsv, .json, .ndjson, .parquet or .txt (a table); \
                 give one of those or -f FORMAT",
                p.display()
            );
        }
        let format = dest.format(explicit)?;
        let on_terminal = dest == Dest::Stdout && std::io::stdout().is_terminal();
        let width = width.or_else(|| if on_terminal { terminal_width() } else { None });
        Ok(Output { dest, format, width })
    }

    /// A file in the format its extension names (`data/funnel.parquet`).
    pub fn file(path: &Path) -> Result<Output> {
        Output::new(Some(path), None, None)
    }

    /// A streaming writer of rows in this output's format.
    pub fn table(&self, columns: &[Column]) -> Result<TableWriter> {
        TableWriter::create(&self.dest, self.format, columns).map(|w| w.fit(self.width))
    }

    /// Writes text produced by `write`, atomically when it goes to a file.
    pub fn text(&self, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
        match &self.dest {
            Dest::Stdout => {
                let mut out = crate::io::place::Named::stdout(std::io::stdout().lock());
                write(&mut out)?;
                out.flush()?;
                Ok(())
            }
            Dest::File(path) => write_atomic(path, write),
        }
    }

    /// Writes a value as pretty JSON.
    pub fn json<T: serde::Serialize>(&self, value: &T) -> Result<()> {
        self.text(|out| {
            serde_json::to_writer_pretty(&mut *out, value)?;
            writeln!(out)?;
            Ok(())
        })
    }
}

/// "1 warning", "2 warnings": a count with its noun.
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

fn terminal_width() -> Option<u16> {
    let probe = comfy_table::Table::new();
    if probe.is_tty() { probe.width() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_extension_is_refused() {
        let err = Output::new(Some(Path::new("y.xlsx")), None, None).unwrap_err();
        assert!(err.to_string().contains("y.xlsx"), "{err}");
        assert!(Output::new(Some(Path::new("y.xlsx")), Some(Format::Csv), None).is_ok());
        assert!(Output::new(Some(Path::new("noext")), None, None).is_ok());
    }
}
