//! The names the tool gives its marks, manifests and staging folders, and reading a manifest.

use anyhow::{Context, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The manifest of an output folder: one relative path per line, the files the tool wrote.
pub const MANIFEST: &str = ".salescoach-report";
/// In a staging folder still being built.
pub const NEW_MARK: &str = ".salescoach-staging";
/// In an earlier output being swapped out (it travels with it).
pub const OLD_MARK: &str = ".salescoach-replaced";
/// The staging folder inside an output folder that is a mount point.
pub const INSIDE_PREFIX: &str = ".salescoach-staging-";

pub fn read_manifest(path: &Path) -> Result<BTreeSet<PathBuf>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text.lines().filter(|l| is_safe_relative(l)).map(PathBuf::from).collect())
}

/// A manifest line names a file inside the folder, never outside it.
fn is_safe_relative(line: &str) -> bool {
    let p = Path::new(line);
    !line.is_empty()
        && p.is_relative()
        && p.components().all(|c| matches!(c, std::path::Component::Normal(_)))
}

pub fn parent_of(out: &Path) -> &Path {
    out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

pub fn name_of(out: &Path) -> String {
    out.file_name().map_or("report".into(), |n| n.to_string_lossy().into_owned())
}
