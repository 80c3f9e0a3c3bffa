//! Small file helpers with errors that name the path.

use crate::{CgroupError, Result};
use std::path::{Path, PathBuf};

pub(crate) fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| CgroupError::Io { op: "read", path: path.into(), source })
}

/// Writes one value to a control file (no truncation games: cgroupfs takes
/// each write(2) as one command).
pub(crate) fn write(dir: &Path, file: &str, value: impl ToString) -> Result<()> {
    let path = dir.join(file);
    let value = value.to_string();
    std::fs::write(&path, value.as_bytes()).map_err(|source| CgroupError::Write { path, value, source })
}

/// Creates `dir` and its missing parents, appending each directory it made
/// (outermost first) to `created`. Another runtime may remove an empty
/// parent between our check and our mkdir (it created it and its container
/// just went away), so a vanished parent restarts the walk a few times.
pub(crate) fn mkdir_all(dir: &Path, created: &mut Vec<PathBuf>) -> Result<()> {
    let mut attempt = 0;
    loop {
        match mkdir_all_once(dir, created) {
            Err(CgroupError::Io { op: "mkdir", source, .. })
                if source.kind() == std::io::ErrorKind::NotFound && attempt < 5 =>
            {
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn mkdir_all_once(dir: &Path, created: &mut Vec<PathBuf>) -> Result<()> {
    let mut missing = Vec::new();
    let mut cur = dir;
    while !cur.exists() {
        missing.push(cur.to_path_buf());
        match cur.parent() {
            Some(p) => cur = p,
            None => break,
        }
    }
    for d in missing.into_iter().rev() {
        match std::fs::create_dir(&d) {
            Ok(()) => created.push(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(source) => return Err(CgroupError::Io { op: "mkdir", path: d, source }),
        }
    }
    Ok(())
}

/// Removes the directories in `created`, innermost first. A cgroup whose last
/// task just exited can be busy for a moment, so EBUSY is retried briefly.
/// Directories still holding other cgroups (ENOTEMPTY) are left alone.
pub(crate) fn remove_created(created: &[PathBuf]) -> Vec<CgroupError> {
    let mut errors = Vec::new();
    for dir in created.iter().rev() {
        let mut tries = 0;
        loop {
            match std::fs::remove_dir(dir) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(e) if e.raw_os_error() == Some(libc::ENOTEMPTY) => break,
                // A parent this container made that others' cgroups now
                // share: v1 says EBUSY, not ENOTEMPTY. Theirs to remove.
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) && has_child_cgroups(dir) => break,
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries < 50 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                Err(source) => {
                    errors.push(CgroupError::Io { op: "rmdir", path: dir.clone(), source });
                    break;
                }
            }
        }
    }
    errors
}

fn has_child_cgroups(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|rd| rd.flatten().any(|e| e.file_type().is_ok_and(|t| t.is_dir())))
}

pub(crate) fn read_pids(dir: &Path) -> Result<Vec<i32>> {
    let text = read(&dir.join("cgroup.procs"))?;
    Ok(text.lines().filter_map(|l| l.trim().parse().ok()).collect())
}

pub(crate) fn invalid(field: &str, reason: impl ToString) -> CgroupError {
    CgroupError::Invalid { field: field.into(), reason: reason.to_string() }
}
