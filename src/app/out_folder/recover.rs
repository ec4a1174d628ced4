//! What a killed run left, finished or removed by the next run into the same folder (which
//! holds the folder's lock, so no other run is using them). Only the tool's own staging folders
//! and temporary files are touched, recognised by their names and their marks or manifest.

use super::names::{INSIDE_PREFIX, MANIFEST, NEW_MARK, OLD_MARK, name_of, parent_of};
use super::swap::{is_temp, roll_forward, sweep_into};
use super::tree::leaves;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// A folder a killed run left beside the output folder.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Leftover {
    /// A new output with its manifest: complete, not yet swapped in.
    Complete(PathBuf),
    /// The earlier output, swapped out.
    Old(PathBuf),
    /// A new output still being built.
    Incomplete(PathBuf),
}

/// Returns what it did, one line each, for standard error.
pub fn recover(out: &Path) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    let mut leftovers = leftovers_beside(out)?;
    leftovers.sort();
    if std::fs::symlink_metadata(out).is_err() {
        let pick = leftovers
            .iter()
            .position(|l| matches!(l, Leftover::Complete(_)))
            .or_else(|| leftovers.iter().position(|l| matches!(l, Leftover::Old(_))));
        if let Some(i) = pick {
            let (dir, what) = match leftovers.remove(i) {
                Leftover::Complete(d) => (d, "finished putting in place the report"),
                Leftover::Old(d) => (d, "put back the earlier report"),
                Leftover::Incomplete(d) => (d, "kept"),
            };
            std::fs::rename(&dir, out)
                .with_context(|| format!("moving {} to {}", dir.display(), out.display()))?;
            let _ = std::fs::remove_file(out.join(OLD_MARK));
            notes.push(format!("{}: {what} a killed run left", out.display()));
        }
    }
    for leftover in leftovers {
        let dir = match leftover {
            Leftover::Old(dir) => {
                if out.is_dir() {
                    sweep_into(&dir, out)?;
                }
                dir
            }
            Leftover::Complete(dir) | Leftover::Incomplete(dir) => dir,
        };
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        notes.push(format!("removed {}, left by a killed run", dir.display()));
    }
    if out.is_dir() {
        notes.extend(recover_inside(out)?);
    }
    Ok(notes)
}

/// The staging folders and swapped-out outputs beside `out` (`.OUT.staging-PID`,
/// `.OUT.old-PID`) that carry one of the tool's marks or a manifest.
fn leftovers_beside(out: &Path) -> Result<Vec<Leftover>> {
    let parent = parent_of(out);
    let name = name_of(out);
    let (staging, old) = (format!(".{name}.staging-"), format!(".{name}.old-"));
    let Ok(entries) = std::fs::read_dir(parent) else { return Ok(Vec::new()) };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let ours = [&staging, &old].iter().any(|p| {
            file_name.strip_prefix(p.as_str()).is_some_and(|pid| pid.parse::<u32>().is_ok())
        });
        if !ours || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let dir = entry.path();
        if dir.join(OLD_MARK).is_file() {
            found.push(Leftover::Old(dir));
        } else if dir.join(NEW_MARK).is_file() {
            found.push(Leftover::Incomplete(dir));
        } else if dir.join(MANIFEST).is_file() {
            found.push(Leftover::Complete(dir));
        }
    }
    Ok(found)
}

/// Inside the output folder: a mark of a swap that did not finish, staging folders of runs at
/// a mount point (finished when complete), and temporary files.
fn recover_inside(out: &Path) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    let _ = std::fs::remove_file(out.join(OLD_MARK));
    for entry in std::fs::read_dir(out).with_context(|| format!("reading {}", out.display()))? {
        let entry = entry.with_context(|| format!("reading {}", out.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_staging =
            name.strip_prefix(INSIDE_PREFIX).is_some_and(|pid| pid.parse::<u32>().is_ok())
                && entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_staging {
            continue;
        }
        let dir = entry.path();
        if dir.join(MANIFEST).is_file() && !dir.join(NEW_MARK).exists() {
            roll_forward(out, &dir)?;
            notes.push(format!(
                "{}: finished putting in place the report a killed run left",
                out.display()
            ));
        } else if dir.join(NEW_MARK).is_file() || dir.join(MANIFEST).is_file() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
            notes.push(format!("removed {}, left by a killed run", dir.display()));
        } else if super::tree::rel_files(&dir).is_ok_and(|files| files.is_empty()) {
            // Emptied by a roll forward that was killed just before removing it.
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    let mut removed = 0;
    for (rel, _) in leaves(out)? {
        if is_temp(&rel) && std::fs::remove_file(out.join(&rel)).is_ok() {
            removed += 1;
        }
    }
    if removed > 0 {
        notes.push(format!(
            "removed {removed} temporary files a killed run left in {}",
            out.display()
        ));
    }
    Ok(notes)
}
