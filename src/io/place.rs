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
        let mut out = std::io::BufWriter::new(Named::file(&file, path));
        write(&mut out)?;
        // The Named writer puts the path in the error.
        out.flush()?;
    }
    commit_output(staged, path)
}

/// A writer whose errors name what it writes ("writing out.csv: No space left on device"),
/// wherever they surface. A closed pipe keeps its kind, so that it still ends the run quietly.
pub struct Named<W> {
    inner: W,
    name: String,
}

impl<W> Named<W> {
    pub fn file(inner: W, path: &Path) -> Named<W> {
        Named { inner, name: path.display().to_string() }
    }

    pub fn stdout(inner: W) -> Named<W> {
        Named { inner, name: "standard output".into() }
    }

    fn named(&self, e: std::io::Error) -> std::io::Error {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return e;
        }
        std::io::Error::new(e.kind(), format!("writing {}: {e}", self.name))
    }
}

impl<W: Write> Write for Named<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).map_err(|e| self.named(e))
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.inner.write_all(buf).map_err(|e| self.named(e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().map_err(|e| self.named(e))
    }
}

/// Opens an output file: a temporary sibling to rename into place with [`commit_output`], or,
/// when `path` is a device or a pipe (`/dev/null`, a FIFO), `path` itself, since renaming over it
/// would replace the device with a plain file.
///
/// An output path that is a symlink is written through: the link stays, and its target is
/// replaced (a plain file) or written in place (a device, a pipe, a `/proc/self/fd` or
/// `/dev/fd` descriptor such as `/dev/stdout`).
pub fn create_output(path: &Path) -> Result<(std::fs::File, Option<tempfile::TempPath>)> {
    let target = target_of(path);
    let in_place = match std::fs::metadata(&target) {
        Ok(meta) => !meta.is_file() && !meta.is_dir(),
        Err(_) => false,
    } || is_descriptor_link(path);
    if in_place {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        return Ok((file, None));
    }
    let path = target.as_path();
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = temp_file_in(dir).map_err(|e| {
        let cause = e.root_cause().to_string();
        let cause = cause.split(" at path ").next().unwrap_or(&cause).to_string();
        anyhow::anyhow!(
            "writing {}: cannot create a file in {}: {cause}",
            path.display(),
            dir.display()
        )
    })?;
    let (file, tmp_path) = tmp.into_parts();
    Ok((file, Some(tmp_path)))
}

/// The prefix of every temporary file the tool makes; the PID after it tells whether the run
/// that made it is still alive.
pub const TEMP_PREFIX: &str = ".salescoach-tmp-";

/// A temporary file in `dir`, named `.salescoach-tmp-PID-XXXXXX`, readable like any output.
/// Temporary files that killed runs left in `dir` are removed first.
pub fn temp_file_in(dir: &Path) -> Result<tempfile::NamedTempFile> {
    remove_dead_temps(dir);
    let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    builder
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))
}

/// Removes from `dir` the temporary files of runs that are no longer alive (a `kill -9`, a
/// power cut). A file whose run cannot be told dead is left alone.
pub fn remove_dead_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_owner) else { continue };
        if !process_alive(pid) && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The PID in a temporary file's name (`.salescoach-tmp-PID-XXXXXX`).
pub fn temp_owner(name: &str) -> Option<u32> {
    name.strip_prefix(TEMP_PREFIX)?.split_once('-')?.0.parse().ok()
}

/// Whether a process runs, where the system can tell (`/proc`); elsewhere it is assumed alive.
pub fn process_alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

/// A point between two steps that change files on disk. In debug builds (the tests),
/// `SALESCOACH_ABORT_AFTER=N` kills the process as `kill -9` would once N steps are done, so
/// that a test can prove a kill at any instant loses nothing. Release builds ignore it.
pub fn fault_point() {
    #[cfg(debug_assertions)]
    {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static DONE: AtomicUsize = AtomicUsize::new(0);
        if let Some(limit) =
            std::env::var("SALESCOACH_ABORT_AFTER").ok().and_then(|v| v.parse::<usize>().ok())
            && DONE.fetch_add(1, Ordering::SeqCst) >= limit
        {
            std::process::abort();
        }
    }
}

/// The file an output path names: itself, or through its symlinks the file they point to (which
/// need not exist yet).
fn target_of(path: &Path) -> std::path::PathBuf {
    let mut target = path.to_path_buf();
    for _ in 0..40 {
        let is_link = std::fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink());
        if !is_link {
            break;
        }
        let Ok(next) = std::fs::read_link(&target) else { break };
        target = match target.parent() {
            Some(dir) if next.is_relative() => dir.join(next),
            _ => next,
        };
    }
    target
}

/// A link into a process's descriptors (`/dev/stdout` → `/proc/self/fd/1`): renaming over what
/// it names would detach the file from the descriptor, so it is written in place.
fn is_descriptor_link(path: &Path) -> bool {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        let Ok(next) = std::fs::read_link(&current) else { return false };
        let text = next.to_string_lossy();
        if text.starts_with("/proc/") || text.starts_with("/dev/fd/") {
            return true;
        }
        current = match current.parent() {
            Some(dir) if next.is_relative() => dir.join(&next),
            _ => next,
        };
    }
    false
}

/// Renames a staged output into place; nothing to do for a device written directly. Through
/// a symlink, the file it points to is replaced and the link stays.
pub fn commit_output(staged: Option<tempfile::TempPath>, path: &Path) -> Result<()> {
    let target = target_of(path);
    if let Some(tmp) = staged {
        fault_point();
        tmp.persist(&target).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// An exclusive advisory lock held for as long as the guard lives: every read-modify-write of a
/// ledger, and every run into a report folder, takes one, so that two runs never interleave.
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
}

/// Locks `target` through a file beside it (`plans.csv.lock`, `.2026-03.lock`). A second
/// writer waits, saying so on standard error, or with `SALESCOACH_LOCK_WAIT=0` fails at once.
pub fn lock(target: &Path, what: &str) -> Result<Lock> {
    let name =
        target.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!(".{}.lock", name.trim_start_matches('.')));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| {
            format!("cannot lock {what} {} (lock file {})", target.display(), path.display())
        })?;
    match file.try_lock() {
        Ok(()) => return Ok(Lock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => {}
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(anyhow::Error::new(e).context(format!("locking {}", path.display())));
        }
    }
    if std::env::var("SALESCOACH_LOCK_WAIT").is_ok_and(|v| v == "0") {
        anyhow::bail!(
            "another salescoach is updating {what} {} (lock {}); run again when it is done",
            target.display(),
            path.display()
        );
    }
    crate::note!(
        "waiting for another salescoach to finish with {what} {} (lock {})…",
        target.display(),
        path.display()
    );
    file.lock().with_context(|| format!("locking {}", path.display()))?;
    Ok(Lock { _file: file })
}
