//! The one output path of every command: where a result goes (a file, written atomically, or
//! standard output), in which format, and the human table printer that fits the terminal.

use crate::io::write::TableWriter;
use crate::io::{Dest, Format};
use crate::model::tables::Column;
use anyhow::{Context, Result, bail};
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
                let mut out = std::io::stdout().lock();
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

/// Writes a file through a temporary sibling renamed into place, so that a failed run never
/// leaves half a file.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let (file, staged) = create_output(path)?;
    {
        let mut out = std::io::BufWriter::new(&file);
        write(&mut out)?;
        out.flush().with_context(|| format!("writing {}", path.display()))?;
    }
    commit_output(staged, path)
}

/// Opens an output file: a temporary sibling to rename into place with [`commit_output`], or,
/// when `path` is a device or a pipe (`/dev/null`, a FIFO), `path` itself, since renaming over it
/// would replace the device with a plain file.
pub fn create_output(path: &Path) -> Result<(std::fs::File, Option<tempfile::TempPath>)> {
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
        && !meta.is_dir()
    {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        return Ok((file, None));
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".salescoach-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    let (file, tmp_path) = tmp.into_parts();
    Ok((file, Some(tmp_path)))
}

/// Renames a staged output into place; nothing to do for a device written directly.
pub fn commit_output(staged: Option<tempfile::TempPath>, path: &Path) -> Result<()> {
    if let Some(tmp) = staged {
        tmp.persist(path).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn terminal_width() -> Option<u16> {
    let probe = comfy_table::Table::new();
    if probe.is_tty() { probe.width() } else { None }
}

/// Renders a human table, wrapped to `width` when given, at full width otherwise.
pub fn render_table<S: AsRef<str>>(header: &[&str], rows: &[Vec<S>], width: Option<u16>) -> String {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.force_no_tty();
    match width {
        Some(w) => {
            t.set_width(w);
            t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
        }
        None => {
            t.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
        }
    }
    let keep = columns_that_fit(header, width);
    t.set_header(header[..keep].iter().copied());
    for r in rows {
        t.add_row(r.iter().take(keep).map(|c| c.as_ref()));
    }
    let mut text = t.to_string();
    if keep < header.len() {
        let note = format!(
            "({} more columns not shown at this width: {}; use -f csv, or a wider --width)",
            header.len() - keep,
            header[keep..].join(", ")
        );
        text.push('\n');
        text.push_str(&wrap(&note, width.map_or(usize::MAX, usize::from)));
    }
    text
}

/// Word-wraps a line of prose to a width.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split(' ') {
        let len = word.chars().count();
        if line > 0 && line + 1 + len > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += len;
    }
    out
}

/// How many leading columns fit a width, each needing a few characters of its header, plus
/// borders and padding; at least one.
fn columns_that_fit(header: &[&str], width: Option<u16>) -> usize {
    let Some(width) = width else { return header.len() };
    let mut used = 1;
    for (i, h) in header.iter().enumerate() {
        used += h.chars().count().clamp(4, 8) + 3;
        if used > width as usize {
            return i.max(1);
        }
    }
    header.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_fits_the_width_it_is_given() {
        let rows = vec![vec!["R00001".to_string(), "x ".repeat(200)]];
        let text = render_table(&["rep", "why"], &rows, Some(80));
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        let wide = render_table(&["rep", "why"], &rows, None);
        assert!(wide.lines().any(|l| l.chars().count() > 200));
    }

    #[test]
    fn columns_that_cannot_fit_are_dropped_with_a_note() {
        let header: Vec<String> = (0..31).map(|i| format!("column_{i}")).collect();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
        let text = render_table(&header, &rows, Some(80));
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        assert!(text.contains("more columns not shown"), "{text}");
    }

    #[test]
    fn an_unknown_extension_is_refused() {
        let err = Output::new(Some(Path::new("y.xlsx")), None, None).unwrap_err();
        assert!(err.to_string().contains("y.xlsx"), "{err}");
        assert!(Output::new(Some(Path::new("y.xlsx")), Some(Format::Csv), None).is_ok());
        assert!(Output::new(Some(Path::new("noext")), None, None).is_ok());
    }
}
