//! The folder a report is built in, and moving it into `--out` without deleting anything the
//! report did not write. A manifest in the report folder lists the files it wrote, so that the
//! next run knows which files are its own.

use crate::io::Source;
use anyhow::{Context, Result, bail};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The manifest of a report folder: one relative path per line, the files the report wrote.
pub const MANIFEST: &str = ".salescoach-report";

/// What `--out` holds before a run.
pub enum Previous {
    /// Nothing yet (or an empty folder).
    Nothing,
    /// An earlier report: the files it wrote.
    Report(BTreeSet<PathBuf>),
    /// Other files, allowed with --force: nothing there is deleted.
    Foreign,
}

/// Looks at `--out` before any work: a non-empty folder that is not an earlier report is refused
/// unless `force`.
pub fn inspect(out: &Path, force: bool) -> Result<Previous> {
    if !out.exists() {
        return Ok(Previous::Nothing);
    }
    if !out.is_dir() {
        bail!("--out {} is a file, not a folder", out.display());
    }
    let manifest = out.join(MANIFEST);
    if manifest.is_file() {
        let text = std::fs::read_to_string(&manifest)
            .with_context(|| format!("reading {}", manifest.display()))?;
        let files = text.lines().filter(|l| is_safe_relative(l)).map(PathBuf::from).collect();
        return Ok(Previous::Report(files));
    }
    let mut entries =
        std::fs::read_dir(out).with_context(|| format!("reading {}", out.display()))?;
    if entries.next().is_none() {
        return Ok(Previous::Nothing);
    }
    if force {
        return Ok(Previous::Foreign);
    }
    bail!(
        "--out {} is not empty and holds no earlier report; choose an empty or new folder, or \
         give --force to write the report's files there (nothing else in it is deleted)",
        out.display()
    )
}

/// A manifest line names a file inside the report folder, never outside it.
fn is_safe_relative(line: &str) -> bool {
    let p = Path::new(line);
    !line.is_empty()
        && p.is_relative()
        && p.components().all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// A sibling folder the report is built in.
pub struct Staging {
    dir: PathBuf,
    out: PathBuf,
    committed: bool,
}

impl Staging {
    pub fn new(out: &Path) -> Result<Staging> {
        let name = out.file_name().map_or("report".into(), |n| n.to_string_lossy().into_owned());
        let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        let dir = parent.join(format!(".{name}.staging-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Staging { dir, out: out.to_path_buf(), committed: false })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Moves the report into `--out`. A new folder is renamed into place whole. Into an
    /// existing folder each file is renamed over its old version, the earlier report's files
    /// that this one no longer writes are removed, and every other file is left as it was. A
    /// worksheet edited since the earlier report wrote it is kept, and returned. A file of the
    /// user's that has the name of a report file is never overwritten: the run is refused.
    pub fn commit(mut self, previous: Previous, inputs: &[Source]) -> Result<Vec<PathBuf>> {
        let files = files_under(&self.dir)?;
        for input in inputs {
            if let Source::File(p) = input
                && let Ok(input) = std::fs::canonicalize(p)
                && files
                    .iter()
                    .any(|f| std::fs::canonicalize(self.out.join(f)).ok() == Some(input.clone()))
            {
                bail!("the report would overwrite its input {}; choose another --out", p.display());
            }
        }
        let own: BTreeSet<PathBuf> = match &previous {
            Previous::Report(old) => old.clone(),
            _ => BTreeSet::new(),
        };
        let clashes: Vec<String> = files
            .iter()
            .filter(|f| !own.contains(*f) && self.out.join(f).exists())
            .map(|f| f.display().to_string())
            .collect();
        if !clashes.is_empty() {
            bail!(
                "--out {} holds files of yours with the names of report files ({}); the report \
                 does not overwrite them: move them or choose another --out",
                self.out.display(),
                clashes.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            );
        }
        let kept: Vec<PathBuf> = files
            .iter()
            .filter(|f| own.contains(*f) && f.extension().is_some_and(|e| e == "md"))
            .filter(|f| {
                std::fs::read_to_string(self.out.join(f))
                    .is_ok_and(|text| crate::app::worksheets::edited(&text))
            })
            .cloned()
            .collect();
        for f in &kept {
            std::fs::remove_file(self.dir.join(f))?;
        }
        let manifest: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
        std::fs::write(self.dir.join(MANIFEST), manifest)?;
        if matches!(previous, Previous::Nothing) && !self.out.exists() {
            std::fs::rename(&self.dir, &self.out)
                .with_context(|| format!("moving the report into {}", self.out.display()))?;
        } else {
            let moved: BTreeSet<PathBuf> =
                files.difference(&kept.iter().cloned().collect()).cloned().collect();
            self.merge_into_out(&moved, &files, previous)?;
        }
        self.committed = true;
        Ok(kept)
    }

    fn merge_into_out(
        &self,
        moved: &BTreeSet<PathBuf>,
        files: &BTreeSet<PathBuf>,
        previous: Previous,
    ) -> Result<()> {
        std::fs::create_dir_all(&self.out)
            .with_context(|| format!("creating {}", self.out.display()))?;
        for f in moved.iter().chain(std::iter::once(&PathBuf::from(MANIFEST))) {
            let target = self.out.join(f);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            if target.is_dir() {
                bail!("{} is a folder; the report writes a file there", target.display());
            }
            std::fs::rename(self.dir.join(f), &target)
                .with_context(|| format!("writing {}", target.display()))?;
        }
        if let Previous::Report(old) = previous {
            for stale in old.difference(files) {
                let path = self.out.join(stale);
                if path.is_file() {
                    std::fs::remove_file(&path)
                        .with_context(|| format!("removing the earlier {}", path.display()))?;
                }
                // Folders the earlier report made go when they are left empty.
                let mut dir = path.parent();
                while let Some(d) = dir.filter(|d| *d != self.out) {
                    if std::fs::remove_dir(d).is_err() {
                        break;
                    }
                    dir = d.parent();
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Every file under a folder, as paths relative to it.
fn files_under(root: &Path) -> Result<BTreeSet<PathBuf>> {
    Ok(crate::io::files_under(root)?
        .into_iter()
        .map(|p| p.strip_prefix(root).expect("under the root").to_path_buf())
        .collect())
}
