//! Walking a folder without following its links: what is in it, as relative paths.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// What a leaf of a folder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Leaf {
    /// A file, a link, a pipe: anything that is not a folder.
    File,
    /// An empty folder.
    EmptyDir,
}

/// Every leaf under `root` as a path relative to it; links are leaves, never followed.
pub fn leaves(root: &Path) -> Result<Vec<(PathBuf, Leaf)>> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let mut empty = true;
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            empty = false;
            let child = rel.join(entry.file_name());
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(child);
            } else {
                out.push((child, Leaf::File));
            }
        }
        if empty && !rel.as_os_str().is_empty() {
            out.push((rel, Leaf::EmptyDir));
        }
    }
    out.sort();
    Ok(out)
}

/// The files (not empty folders) under `root`.
pub fn rel_files(root: &Path) -> Result<Vec<PathBuf>> {
    Ok(leaves(root)?.into_iter().filter(|(_, l)| *l == Leaf::File).map(|(p, _)| p).collect())
}

/// Removes the folders above `path` that are left empty, up to (not including) `root`.
pub fn remove_empty_parents(root: &Path, path: &Path) {
    let mut dir = path.parent();
    while let Some(d) = dir.filter(|d| *d != root && d.starts_with(root)) {
        if std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// Makes the folder a file goes in.
pub fn make_parent(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    Ok(())
}
