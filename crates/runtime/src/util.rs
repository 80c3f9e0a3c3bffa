//! Small helpers shared by the verbs.

use crate::error::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Writes a file atomically: temp file in the same directory, fsync, rename.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    write_atomic_mode(path, data, 0o644)
}

/// [`write_atomic`] with the file's permission bits.
pub fn write_atomic_mode(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::File::options()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .ctx("create", tmp.display())?;
    f.write_all(data).ctx("write", tmp.display())?;
    std::fs::rename(&tmp, path).ctx("rename", path.display())
}

pub use hull_spec::time::{now_rfc3339, rfc3339};

/// Name of a uid from /etc/passwd, or the number.
pub fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(uid.into()).ok().flatten().map_or_else(|| uid.to_string(), |u| u.name)
}
