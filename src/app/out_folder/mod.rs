//! Output folders (a report, `plan --out`) replaced as a whole. The new output is built in a
//! staging folder and swapped in, so that a kill at any instant leaves the old or the new output
//! complete; the next run finishes or removes what a killed run left. A manifest in the folder
//! lists the files the tool wrote, so that the next run knows which files are its own: every
//! other file is the user's and is carried over untouched.
//!
//! Beside the folder (the usual case) the staging folder is exchanged with it in one step
//! (`renameat2(RENAME_EXCHANGE)`, or two renames where the system lacks it). A folder that is
//! a mount point cannot be renamed: the staging folder is made inside it and its files are
//! moved in one by one, the staging folder with its manifest marking the move until it ends.

mod names;
mod recover;
mod swap;
mod tree;

use crate::io::Source;
use anyhow::{Context, Result, bail};
pub use names::MANIFEST;
use names::{INSIDE_PREFIX, NEW_MARK, name_of, parent_of, read_manifest};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tree::{leaves, rel_files};

/// What the output folder holds before a run.
pub enum Previous {
    /// Nothing yet (or an empty folder).
    Nothing,
    /// An earlier output: the files it wrote.
    Output(BTreeSet<PathBuf>),
    /// Other files only (allowed with `--force`, or always for `plan --out`).
    Foreign,
}

/// What happens to the earlier output's files that this run does not write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// They go: a report is the whole of one month end.
    Replace,
    /// They stay: `plan --out` for one manager leaves the other managers' sheets.
    Merge,
}

/// How the staged output was put in place.
#[derive(Debug, Default)]
pub struct Committed {
    /// Worksheets edited since the tool wrote them, kept as they are.
    pub kept: Vec<PathBuf>,
    /// Edited worksheets of an earlier period, kept under a name with their period
    /// (`reps/R00012.2026-02.md`) so that this period's sheet could be written: (from, to).
    pub archived: Vec<(PathBuf, PathBuf)>,
    /// Files whose new version is byte for byte the old one.
    pub unchanged: usize,
    /// Files the run wrote.
    pub written: usize,
}

/// The folder an output path names: through a symlink, the folder it points to, so that the
/// swap replaces that folder and the link stays.
pub fn resolve(out: &Path) -> PathBuf {
    let is_link = std::fs::symlink_metadata(out).is_ok_and(|m| m.file_type().is_symlink());
    match is_link.then(|| std::fs::canonicalize(out)) {
        Some(Ok(target)) => target,
        _ => out.to_path_buf(),
    }
}

/// Looks at the output folder: a non-empty folder that is no earlier output is refused unless
/// `foreign_ok`.
pub fn inspect(out: &Path, foreign_ok: bool) -> Result<Previous> {
    if std::fs::symlink_metadata(out).is_err() {
        return Ok(Previous::Nothing);
    }
    if !out.is_dir() {
        bail!("--out {} is a file, not a folder", out.display());
    }
    let manifest = out.join(MANIFEST);
    if manifest.is_file() {
        return Ok(Previous::Output(read_manifest(&manifest)?));
    }
    let mut entries =
        std::fs::read_dir(out).with_context(|| format!("reading {}", out.display()))?;
    if entries.next().is_none() {
        return Ok(Previous::Nothing);
    }
    if foreign_ok {
        return Ok(Previous::Foreign);
    }
    bail!(
        "--out {} is not empty and holds no earlier report; choose an empty or new folder, or \
         give --force to write the report's files there (nothing else in it is deleted)",
        out.display()
    )
}

/// The folder an output is built in. Dropped without [`Staging::commit`], it is removed.
pub struct Staging {
    dir: PathBuf,
    out: PathBuf,
    inside: bool,
    committed: bool,
}

impl Staging {
    /// Finishes or removes what killed runs left, then makes the staging folder. Call it with
    /// the output folder's lock held.
    pub fn new(out: &Path, quiet: bool) -> Result<Staging> {
        for note in recover::recover(out)? {
            if !quiet {
                crate::note!("{note}");
            }
        }
        let parent = parent_of(out);
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        let pid = std::process::id();
        let beside = parent.join(format!(".{}.staging-{pid}", name_of(out)));
        let inside = out.is_dir() && (swap::is_mount_point(out) || swap::forced("inside"));
        let dir = if inside { out.join(format!("{INSIDE_PREFIX}{pid}")) } else { beside };
        let made = std::fs::create_dir(&dir);
        let (dir, inside) = match made {
            // A parent folder the user cannot write (only the output folder is theirs).
            Err(e)
                if !inside && out.is_dir() && e.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                let dir = out.join(format!("{INSIDE_PREFIX}{pid}"));
                std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
                (dir, true)
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!("creating {}", dir.display())));
            }
            Ok(()) => (dir, inside),
        };
        std::fs::write(dir.join(NEW_MARK), format!("{}\n", out.display()))
            .with_context(|| format!("writing {}", dir.join(NEW_MARK).display()))?;
        Ok(Staging { dir, out: out.to_path_buf(), inside, committed: false })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The files the run staged, relative to the staging folder (its mark left out).
    fn staged_files(&self) -> Result<BTreeSet<PathBuf>> {
        Ok(rel_files(&self.dir)?.into_iter().filter(|f| f.as_os_str() != NEW_MARK).collect())
    }

    /// Puts the staged output in place of the earlier one. A worksheet edited since the tool
    /// wrote it is kept unless `overwrite_edited`; a file of the user's with the name of an
    /// output file is never overwritten: the run is refused.
    pub fn commit(
        mut self,
        previous: Previous,
        inputs: &[Source],
        policy: Policy,
        overwrite_edited: bool,
    ) -> Result<Committed> {
        let files = self.staged_files()?;
        self.check(&previous, inputs, policy, overwrite_edited)?;
        let own = match previous {
            Previous::Output(old) => old,
            _ => BTreeSet::new(),
        };
        let mut kept = self.edited_sheets(&files, &own, policy, overwrite_edited);
        let archived = self.archive_other_periods(&mut kept, &files)?;
        for f in kept.iter().filter(|f| files.contains(*f)) {
            std::fs::remove_file(self.dir.join(f))?;
            // The chart beside a kept sheet stays the one it was drawn with.
            let chart = f.with_extension("svg");
            if files.contains(&chart) && self.out.join(&chart).is_file() {
                std::fs::remove_file(self.dir.join(&chart))?;
            }
            // Its page shows the sheet as edited.
            let page = f.with_extension("html");
            if files.contains(&page) {
                let kept_sheet = self.out.join(f);
                let text = crate::render::sheet_text(&std::fs::read(&kept_sheet)?)
                    .map_err(anyhow::Error::msg)?;
                crate::render::html::write_page(&kept_sheet, &text, &self.dir.join(&page))?;
            }
        }
        let unchanged = files
            .iter()
            .filter(|f| !kept.contains(*f))
            .filter(|f| same_bytes(&self.dir.join(f), &self.out.join(f)))
            .count();
        let written = files.len() - unchanged - kept.iter().filter(|f| files.contains(*f)).count();
        let mut manifest: BTreeSet<PathBuf> = files.union(&kept).cloned().collect();
        if policy == Policy::Merge {
            manifest.extend(own.iter().filter(|f| self.out.join(f).is_file()).cloned());
        }
        let stale: BTreeSet<PathBuf> = own.difference(&manifest).cloned().collect();
        if self.inside {
            swap::inside(&self.out, &self.dir, &manifest)?;
        } else {
            swap::beside(&self.out, &self.dir, &manifest, &stale)?;
        }
        self.committed = true;
        Ok(Committed { kept: kept.into_iter().collect(), archived, unchanged, written })
    }

    /// The checks that may refuse the run, before anything beside the folder (the ledger) is
    /// written: an input overwritten, a file of the user's where the output writes.
    pub fn check(
        &self,
        previous: &Previous,
        inputs: &[Source],
        policy: Policy,
        overwrite_edited: bool,
    ) -> Result<()> {
        let files = self.staged_files()?;
        self.refuse_overwriting_inputs(&files, inputs)?;
        let empty = BTreeSet::new();
        let own = match previous {
            Previous::Output(old) => old,
            _ => &empty,
        };
        self.refuse_clashes(&files, own, policy, overwrite_edited)
    }

    /// An edited sheet of another period than the one this run writes is the record of that
    /// meeting: it is kept under a name with its period, and this period's sheet is written.
    fn archive_other_periods(
        &self,
        kept: &mut BTreeSet<PathBuf>,
        files: &BTreeSet<PathBuf>,
    ) -> Result<Vec<(PathBuf, PathBuf)>> {
        let mut archived = Vec::new();
        for f in kept.clone().iter().filter(|f| files.contains(*f)) {
            let (Some(old), Some(new)) =
                (sheet_period(&self.out.join(f)), sheet_period(&self.dir.join(f)))
            else {
                continue;
            };
            let stem = f.file_stem().map_or(String::new(), |s| s.to_string_lossy().into_owned());
            let to = f.with_file_name(format!("{stem}.{}.md", crate::render::safe_file_stem(&old)));
            let taken = |p: &Path| std::fs::symlink_metadata(p).is_ok();
            if old == new || taken(&self.out.join(&to)) || taken(&self.dir.join(&to)) {
                continue;
            }
            tree::make_parent(&self.dir.join(&to))?;
            std::fs::hard_link(self.out.join(f), self.dir.join(&to))
                .or_else(|_| std::fs::copy(self.out.join(f), self.dir.join(&to)).map(|_| ()))
                .with_context(|| format!("keeping {} as {}", f.display(), to.display()))?;
            kept.remove(f);
            archived.push((f.clone(), to));
        }
        Ok(archived)
    }

    fn refuse_overwriting_inputs(
        &self,
        files: &BTreeSet<PathBuf>,
        inputs: &[Source],
    ) -> Result<()> {
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
        Ok(())
    }

    /// Files of the user's where the output writes. For `plan --out` a worksheet or chart the
    /// tool wrote before folders had manifests is its own.
    fn refuse_clashes(
        &self,
        files: &BTreeSet<PathBuf>,
        own: &BTreeSet<PathBuf>,
        policy: Policy,
        overwrite: bool,
    ) -> Result<()> {
        let clashes: Vec<String> = files
            .iter()
            .filter(|f| !own.contains(*f))
            .filter(|f| std::fs::symlink_metadata(self.out.join(f)).is_ok())
            .filter(|f| {
                !(policy == Policy::Merge && (overwrite || tool_written(&self.out.join(f))))
            })
            .map(|f| f.display().to_string())
            .collect();
        if clashes.is_empty() {
            return Ok(());
        }
        bail!(
            "--out {} holds files of yours with the names of report files ({}); the report \
             does not overwrite them: move them or choose another --out",
            self.out.display(),
            clashes.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        )
    }

    /// The earlier output's worksheets edited since: those this run writes again, and (when
    /// the output is replaced) those it no longer writes, which would otherwise be deleted.
    fn edited_sheets(
        &self,
        files: &BTreeSet<PathBuf>,
        own: &BTreeSet<PathBuf>,
        policy: Policy,
        overwrite: bool,
    ) -> BTreeSet<PathBuf> {
        if overwrite {
            return BTreeSet::new();
        }
        let candidates = files.iter().filter(|f| own.contains(*f) || policy == Policy::Merge);
        let stale = own.iter().filter(|f| policy == Policy::Replace && !files.contains(*f));
        candidates
            .chain(stale)
            .filter(|f| f.extension().is_some_and(|e| e == "md"))
            .filter(|f| {
                std::fs::read(self.out.join(f)).is_ok_and(|bytes| {
                    crate::render::sheet_text(&bytes)
                        .map_or(true, |text| crate::app::worksheets::edited(&text))
                })
            })
            .cloned()
            .collect()
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The period a worksheet's front matter names.
fn sheet_period(path: &Path) -> Option<String> {
    let text = crate::render::sheet_text(&std::fs::read(path).ok()?).ok()?;
    let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let (fields, _) = crate::render::parse_front_matter(&text)?;
    fields.into_iter().find(|(k, _)| k == "period").map(|(_, v)| v).filter(|v| !v.is_empty())
}

/// A worksheet the tool sealed (edited since or not), or the chart or page beside one.
fn tool_written(path: &Path) -> bool {
    match path.extension().and_then(|e| e.to_str()) {
        Some("md") => {
            let Ok(bytes) = std::fs::read(path) else { return false };
            let Ok(text) = crate::render::sheet_text(&bytes) else { return false };
            crate::render::unchanged_since_sealed(&text)
                .is_some_and(|unchanged| unchanged || text.contains("\nchecksum:"))
        }
        Some("svg" | "html") => tool_written(&path.with_extension("md")),
        _ => false,
    }
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(ma), Ok(mb)) if ma.len() == mb.len() => std::fs::read(a).ok() == std::fs::read(b).ok(),
        _ => false,
    }
}

/// A relative path's leaves under `root`, for the tests and the recovery.
pub fn output_files(root: &Path) -> Result<Vec<PathBuf>> {
    Ok(leaves(root)?.into_iter().map(|(rel, _)| rel).collect())
}
