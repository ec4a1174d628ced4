//! The swap itself: every step that changes the disk passes a fault point, so that the tests
//! can kill a run after any of them.

use super::names::{
    INSIDE_PREFIX, MANIFEST, NEW_MARK, OLD_MARK, name_of, parent_of, read_manifest,
};
use super::tree::{Leaf, leaves, make_parent, remove_empty_parents};
use crate::io::place::fault_point;
use anyhow::{Context, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Beside the output folder: the user's files are linked into the staging folder, which is then
/// exchanged with the output folder in one step; the earlier output is removed last.
pub fn beside(
    out: &Path,
    staging: &Path,
    manifest: &BTreeSet<PathBuf>,
    stale: &BTreeSet<PathBuf>,
) -> Result<()> {
    let exists = std::fs::symlink_metadata(out).is_ok();
    if exists {
        carry_over(out, staging, stale)?;
    }
    fault_point();
    write_manifest(staging, manifest)?;
    fault_point();
    remove(&staging.join(NEW_MARK))?;
    if !exists {
        fault_point();
        return rename(staging, out);
    }
    fault_point();
    std::fs::write(out.join(OLD_MARK), "")
        .with_context(|| format!("writing {}", out.join(OLD_MARK).display()))?;
    if let Ok(meta) = std::fs::metadata(out) {
        let _ = std::fs::set_permissions(staging, meta.permissions());
    }
    let old = exchange_or_rename(out, staging)?;
    // Files the user put in the folder while the report was being built.
    sweep_into(&old, out)?;
    fault_point();
    std::fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))
}

/// Inside the output folder (a mount point): the staged files are moved in one by one, the
/// earlier output's stale files removed, and the manifest moved last. The staging folder, with
/// its manifest, tells the next run to finish the move should this one be killed.
pub fn inside(out: &Path, staging: &Path, manifest: &BTreeSet<PathBuf>) -> Result<()> {
    fault_point();
    write_manifest(staging, manifest)?;
    fault_point();
    remove(&staging.join(NEW_MARK))?;
    roll_forward(out, staging)
}

/// Finishes moving a complete inside staging folder into `out`.
pub fn roll_forward(out: &Path, staging: &Path) -> Result<()> {
    let manifest = read_manifest(&staging.join(MANIFEST))?;
    for (rel, leaf) in leaves(staging)? {
        if leaf == Leaf::File && rel.as_os_str() != MANIFEST {
            let target = out.join(&rel);
            make_parent(&target)?;
            fault_point();
            rename(&staging.join(&rel), &target)?;
        }
    }
    let old = match out.join(MANIFEST) {
        m if m.is_file() => read_manifest(&m)?,
        _ => BTreeSet::new(),
    };
    for stale in old.difference(&manifest) {
        let path = out.join(stale);
        if path.is_file() {
            fault_point();
            remove(&path)?;
            remove_empty_parents(out, &path);
        }
    }
    fault_point();
    rename(&staging.join(MANIFEST), &out.join(MANIFEST))?;
    fault_point();
    std::fs::remove_dir_all(staging).with_context(|| format!("removing {}", staging.display()))
}

/// Links into the staging folder everything of the output folder's that the new output does
/// not replace: the user's files, edited sheets, and (for `plan --out`) the earlier sheets.
fn carry_over(out: &Path, staging: &Path, stale: &BTreeSet<PathBuf>) -> Result<()> {
    for (rel, leaf) in leaves(out)? {
        let name = rel.to_string_lossy();
        let inside_staging = name.starts_with(INSIDE_PREFIX);
        if name == MANIFEST
            || name == OLD_MARK
            || inside_staging
            || stale.contains(&rel)
            || is_temp(&rel)
        {
            continue;
        }
        let target = staging.join(&rel);
        if std::fs::symlink_metadata(&target).is_ok() {
            continue;
        }
        fault_point();
        match leaf {
            Leaf::EmptyDir => std::fs::create_dir_all(&target)
                .with_context(|| format!("creating {}", target.display()))?,
            Leaf::File => {
                make_parent(&target)?;
                link_or_copy(&out.join(&rel), &target)?;
            }
        }
    }
    Ok(())
}

/// A hard link keeps the very file (and what an editor has open); where the file system has
/// none, a copy.
fn link_or_copy(from: &Path, to: &Path) -> Result<()> {
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    if std::fs::symlink_metadata(from).is_ok_and(|m| m.file_type().is_symlink()) {
        #[cfg(unix)]
        {
            let link = std::fs::read_link(from)?;
            return std::os::unix::fs::symlink(link, to)
                .with_context(|| format!("linking {}", to.display()));
        }
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))
}

/// Moves into `out` what an earlier output folder holds that is neither its own file nor
/// already in `out`: files the user added while a run was going, or before it was killed.
pub fn sweep_into(old: &Path, out: &Path) -> Result<()> {
    let own = match old.join(MANIFEST) {
        m if m.is_file() => read_manifest(&m)?,
        _ => BTreeSet::new(),
    };
    for (rel, leaf) in leaves(old)? {
        let name = rel.to_string_lossy();
        if leaf == Leaf::EmptyDir || own.contains(&rel) || name == MANIFEST || name == OLD_MARK {
            continue;
        }
        let target = out.join(&rel);
        if std::fs::symlink_metadata(&target).is_ok() || is_temp(&rel) {
            continue;
        }
        make_parent(&target)?;
        fault_point();
        rename(&old.join(&rel), &target)?;
    }
    Ok(())
}

/// Swaps the staging folder with the output folder; returns where the earlier output now is.
fn exchange_or_rename(out: &Path, staging: &Path) -> Result<PathBuf> {
    fault_point();
    if !forced("rename") && exchange(staging, out).is_ok() {
        return Ok(staging.to_path_buf());
    }
    let aside = parent_of(out).join(format!(".{}.old-{}", name_of(out), std::process::id()));
    rename(out, &aside)?;
    fault_point();
    rename(staging, out)?;
    Ok(aside)
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// A folder on another file system than its parent's: a mount point, which cannot be renamed.
pub fn is_mount_point(dir: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let parent =
            std::fs::canonicalize(dir).ok().and_then(|d| d.parent().map(Path::to_path_buf));
        match (std::fs::metadata(dir), parent.map(std::fs::metadata)) {
            (Ok(d), Some(Ok(p))) => d.dev() != p.dev(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        false
    }
}

/// Debug builds (the tests) can force a way of swapping: `SALESCOACH_SWAP=inside` (as at a
/// mount point) or `rename` (as where the system cannot exchange two folders).
pub fn forced(how: &str) -> bool {
    cfg!(debug_assertions) && std::env::var("SALESCOACH_SWAP").is_ok_and(|v| v == how)
}

/// A temporary file of the tool's, current or from an earlier version (`.salescoach-XXXXXX`).
pub fn is_temp(rel: &Path) -> bool {
    let Some(name) = rel.file_name().and_then(|n| n.to_str()) else { return false };
    if name.starts_with(crate::io::place::TEMP_PREFIX) {
        return true;
    }
    let legacy = name.strip_prefix(".salescoach-");
    legacy.is_some_and(|r| {
        r.len() == 6 && r.chars().all(|c| c.is_ascii_alphanumeric()) && name != MANIFEST
    })
}

fn write_manifest(dir: &Path, files: &BTreeSet<PathBuf>) -> Result<()> {
    let text: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    std::fs::write(dir.join(MANIFEST), text)
        .with_context(|| format!("writing {}", dir.join(MANIFEST).display()))
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to)
        .with_context(|| format!("moving {} to {}", from.display(), to.display()))
}

fn remove(path: &Path) -> Result<()> {
    std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))
}
