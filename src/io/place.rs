//! Putting output files in place: through a temporary sibling renamed over the target, so that
//! a failed run never leaves half a file.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

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
