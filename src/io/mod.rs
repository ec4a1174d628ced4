//! Shared input and output: paths or `-`, formats by extension or flag, atomic writes.

pub mod human;
pub mod ledger;
pub mod output;
pub mod place;
pub mod quotes;
pub mod read;
mod read_json;
pub mod records;
pub mod roster;
pub mod row;
pub mod write;

use anyhow::{Context, Result, bail};
use std::fmt;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

/// A file format for tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "lowercase")]
pub enum Format {
    /// Human-readable table (the default on a terminal).
    Table,
    Csv,
    Tsv,
    Json,
    Ndjson,
    Parquet,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Parquet => "parquet",
        })
    }
}

impl Format {
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "txt" => Some(Format::Table),
            "tsv" | "tab" => Some(Format::Tsv),
            "json" => Some(Format::Json),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            "parquet" | "pq" => Some(Format::Parquet),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Parquet => "parquet",
        }
    }
}

/// Where a table comes from: a file or standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    pub fn parse(s: &str) -> Source {
        if s == "-" { Source::Stdin } else { Source::File(PathBuf::from(s)) }
    }

    /// The input format: the explicit flag, else the extension, else CSV.
    pub fn format(&self, explicit: Option<Format>) -> Result<Format> {
        if let Some(f) = explicit {
            if f == Format::Table {
                bail!("`table` is an output format only");
            }
            return Ok(f);
        }
        match self {
            Source::Stdin => Ok(Format::Csv),
            Source::File(p) => match Format::from_path(p) {
                // A `.txt` export is text: read it as CSV (delimiters are sniffed by ingest).
                Some(Format::Table) => Ok(Format::Csv),
                Some(f) => Ok(f),
                None if p.extension().is_none() => Ok(Format::Csv),
                None => bail!(
                    "{}: cannot tell the format from the extension; use .csv, .tsv, .parquet, .json or .ndjson, or --input-format",
                    p.display()
                ),
            },
        }
    }

    pub fn open(&self) -> Result<Box<dyn Read + Send>> {
        match self {
            Source::Stdin => Ok(Box::new(std::io::stdin())),
            Source::File(p) => {
                self.ensure_exists()?;
                let f =
                    std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?;
                Ok(Box::new(f))
            }
        }
    }

    /// A missing file says so in words a user expects, before anything else is tried on it.
    pub fn ensure_exists(&self) -> Result<()> {
        match self {
            Source::File(p) if is_pattern(p) => self.parts().map(|_| ()),
            Source::File(p) if !p.exists() => bail!("no such file: {}", p.display()),
            _ => Ok(()),
        }
    }

    /// The files a folder (searched recursively, as Hive-style `month=2026-05/` partitions are)
    /// or a glob pattern (`exports/*/events.parquet`) stands for, in path order: read one after
    /// the other as one table. None for a plain file or standard input.
    pub fn parts(&self) -> Result<Option<Vec<PathBuf>>> {
        let Source::File(p) = self else { return Ok(None) };
        let mut files: Vec<PathBuf> = if p.is_dir() {
            files_under(p)?.into_iter().filter(|f| is_table_file(f)).collect()
        } else if is_pattern(p) {
            let pattern = p.to_string_lossy();
            glob::glob(&pattern)
                .with_context(|| format!("the pattern {pattern}"))?
                .filter_map(Result::ok)
                .filter(|f| f.is_file())
                .collect()
        } else {
            return Ok(None);
        };
        if files.is_empty() && p.is_dir() {
            bail!("no table file (.csv, .tsv, .parquet, .json, .ndjson) in {}", p.display());
        }
        if files.is_empty() {
            bail!("no file matches {}", p.display());
        }
        files.sort();
        Ok(Some(files))
    }

    /// This source, or the files it stands for when it is a folder or a pattern.
    pub fn expand(self) -> Result<Vec<Source>> {
        Ok(match self.parts()? {
            Some(files) => files.into_iter().map(Source::File).collect(),
            None => vec![self],
        })
    }

    pub fn path(&self) -> Option<&Path> {
        match self {
            Source::Stdin => None,
            Source::File(p) => Some(p),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Stdin => f.write_str("<stdin>"),
            Source::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Where a table goes: a file (written atomically) or standard output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    Stdout,
    File(PathBuf),
}

impl Dest {
    pub fn parse(s: Option<&Path>) -> Dest {
        match s {
            None => Dest::Stdout,
            Some(p) if p.as_os_str() == "-" => Dest::Stdout,
            Some(p) => Dest::File(p.to_path_buf()),
        }
    }

    /// The output format: the flag, else the file's extension, else table on a terminal and
    /// CSV otherwise. Parquet is refused on a terminal.
    pub fn format(&self, explicit: Option<Format>) -> Result<Format> {
        let stdout_tty = std::io::stdout().is_terminal();
        let f = match (explicit, self) {
            (Some(f), _) => f,
            (None, Dest::File(p)) => Format::from_path(p).unwrap_or(Format::Csv),
            (None, Dest::Stdout) if stdout_tty => Format::Table,
            (None, Dest::Stdout) => Format::Csv,
        };
        if f == Format::Parquet && *self == Dest::Stdout && stdout_tty {
            bail!("refusing to write Parquet to a terminal; use -o FILE.parquet or a pipe");
        }
        Ok(f)
    }
}

/// A path that is a glob pattern rather than a file: it does not exist and holds `*`, `?` or `[`.
fn is_pattern(p: &Path) -> bool {
    !p.exists() && p.to_string_lossy().contains(['*', '?', '['])
}

/// A file whose extension names a table format (hidden files such as `.crc` are not tables).
fn is_table_file(p: &Path) -> bool {
    let hidden = p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(['.', '_']));
    !hidden && matches!(Format::from_path(p), Some(f) if f != Format::Table)
}

/// Every file under a folder, recursively, in no particular order.
pub fn files_under(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    Ok(out)
}

/// Refuses outputs that would overwrite an input or each other (`-o` and `--rejects` on the
/// same file, or either on the export being read), by canonical path.
pub fn ensure_distinct_files(outputs: &[&Dest], inputs: &[Source]) -> Result<()> {
    let key = |p: &Path| std::fs::canonicalize(p).or_else(|_| std::path::absolute(p));
    let files: Vec<&PathBuf> =
        outputs.iter().filter_map(|d| if let Dest::File(p) = d { Some(p) } else { None }).collect();
    for (i, out) in files.iter().enumerate() {
        let out_key = key(out).ok();
        for input in inputs {
            if let Source::File(p) = input
                && key(p).ok() == out_key
            {
                bail!("refusing to write {} over the input {}", out.display(), p.display());
            }
        }
        if files[..i].iter().any(|earlier| key(earlier).ok() == out_key) {
            bail!("two outputs name the same file {}", out.display());
        }
    }
    Ok(())
}

thread_local! {
    /// Set while a dependency's reader runs under [`guard_dependency`], whose panic is reported
    /// as an error rather than printed.
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps the default panic message for real bugs, and silences it inside
/// [`guard_dependency`], which turns the panic into an error naming the file.
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !GUARDED.with(|g| g.get()) {
            default(info);
        }
    }));
}

/// Runs a dependency's reader on a file. The parquet crate panics on some corrupt files
/// (a damaged footer) instead of returning an error: such a panic becomes a data error that
/// names the file (exit 1), not a crash.
pub fn guard_dependency<T>(file: &str, read: impl FnOnce() -> Result<T>) -> Result<T> {
    let was = GUARDED.with(|g| g.replace(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    GUARDED.with(|g| g.set(was));
    outcome.unwrap_or_else(|payload| {
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no detail".into());
        Err(crate::DataError::new(format!(
            "{file}: the file is corrupt; its reader failed ({why})"
        ))
        .into())
    })
}

/// True when the error chain holds a closed pipe: `salescoach … | head` is a success.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || e.downcast_ref::<csv::Error>().is_some_and(|c| {
                matches!(c.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
            })
            || e.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
            || e.downcast_ref::<parquet::errors::ParquetError>()
                .is_some_and(|p| p.to_string().contains("Broken pipe"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dependency_panic_becomes_a_data_error_naming_the_file() {
        let err = guard_dependency::<()>("bad.parquet", || panic!("corrupt footer")).unwrap_err();
        assert!(err.downcast_ref::<crate::DataError>().is_some());
        assert!(err.to_string().contains("bad.parquet"), "{err}");
        assert!(err.to_string().contains("corrupt footer"), "{err}");
        assert_eq!(guard_dependency("ok", || Ok(7)).unwrap(), 7);
    }
}
