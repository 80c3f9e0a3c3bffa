//! `hull cp`: files between the host and a container, as a tar stream.
//! The container side runs in a child chrooted into the container's root,
//! so no path or symlink in the container can lead outside it; the host
//! side unpacks with the tar crate's `unpack_in`, which refuses entries
//! that would land outside the destination.

use hull_engine::Engine;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `hull cp`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source: HOST_PATH or CONTAINER:PATH.
    src: String,
    /// Destination: HOST_PATH or CONTAINER:PATH.
    dst: String,
}

fn split(s: &str) -> Option<(&str, &str)> {
    if s.starts_with('/') || s.starts_with('.') {
        return None;
    }
    s.split_once(':')
}

pub fn run(engine: &Engine, a: Args) -> anyhow::Result<i32> {
    // The side in the container may fail and close its end of the pipe:
    // that is its error to report, not a SIGPIPE to die of (exit 141).
    // SAFETY: setting a signal's disposition to SIG_IGN touches no memory.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    match (split(&a.src), split(&a.dst)) {
        // `-`: a tar stream on stdout or stdin, as docker's cp.
        (Some((c, path)), None) if a.dst == "-" => {
            let path = path.to_string();
            engine.with_root(c, |root| to_stdout(root, &path))??;
        }
        (None, Some((c, path))) if a.src == "-" => {
            let path = path.to_string();
            engine.with_root(c, |root| from_stdin(root, &path))??;
        }
        (Some((c, path)), None) => {
            let path = path.to_string();
            let dst = PathBuf::from(&a.dst);
            engine.with_root(c, |root| from_container(root, &path, &dst))??;
        }
        (None, Some((c, path))) => {
            let src = PathBuf::from(&a.src);
            let path = path.to_string();
            engine.with_root(c, |root| into_container(root, &src, &path))??;
        }
        _ => anyhow::bail!(
            "copying between containers or between host paths is not supported: one side must be CONTAINER:PATH"
        ),
    }
    Ok(0)
}

fn base(p: &str) -> String {
    Path::new(p.trim_end_matches('/')).file_name().map_or_else(|| ".".into(), |n| n.to_string_lossy().into_owned())
}

/// Forks a child that chroots into `root` and runs `f` with a pipe end.
fn in_root(
    root: &Path,
    write: bool,
    f: impl FnOnce(std::fs::File) -> anyhow::Result<()>,
) -> anyhow::Result<(std::fs::File, nix::unistd::Pid)> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // SAFETY: the CLI is single-threaded here; the child only chroots, does file work and _exits.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Child => {
            let (mine, _theirs) = if write { (w, r) } else { (r, w) };
            drop(_theirs);
            let code = match nix::unistd::chroot(root)
                .map_err(anyhow::Error::from)
                .and_then(|()| std::env::set_current_dir("/").map_err(anyhow::Error::from))
                .and_then(|()| f(std::fs::File::from(mine)))
            {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("Error: {e}");
                    1
                }
            };
            // SAFETY: _exit ends the child without running the parent's destructors.
            unsafe { libc::_exit(code) }
        }
        nix::unistd::ForkResult::Parent { child } => Ok((std::fs::File::from(if write { r } else { w }), child)),
    }
}

fn reap(pid: nix::unistd::Pid) -> anyhow::Result<()> {
    match nix::sys::wait::waitpid(pid, None)? {
        nix::sys::wait::WaitStatus::Exited(_, 0) => Ok(()),
        _ => anyhow::bail!("copy in the container failed"),
    }
}

/// A child in the container's root writing `path` as a tar stream.
fn tar_from_container(root: &Path, path: &str) -> anyhow::Result<(std::fs::File, nix::unistd::Pid)> {
    let src = path.to_string();
    let name = base(path);
    in_root(root, true, move |out| {
        let meta = std::fs::symlink_metadata(&src).map_err(|e| anyhow::anyhow!("stat {src}: {e}"))?;
        let mut b = tar::Builder::new(out);
        b.follow_symlinks(false);
        if meta.is_dir() {
            b.append_dir_all(&name, &src)?;
        } else {
            b.append_path_with_name(&src, &name)?;
        }
        b.into_inner()?.flush()?;
        Ok(())
    })
}

/// `cp CTR:PATH -`: the tar stream to stdout (never a file named `-`).
fn to_stdout(root: &Path, path: &str) -> anyhow::Result<()> {
    let (mut pipe, pid) = tar_from_container(root, path)?;
    let copied = std::io::copy(&mut pipe, &mut std::io::stdout().lock());
    reap(pid)?;
    copied.map(drop).map_err(|e| anyhow::anyhow!("write the archive to stdout: {e}"))
}

/// `cp - CTR:DIR`: a tar stream from stdin, unpacked into the directory
/// DIR in the container (docker's rule: the destination must be one).
fn from_stdin(root: &Path, dst: &str) -> anyhow::Result<()> {
    let dst = dst.to_string();
    let (mut pipe, pid) = in_root(root, false, move |input| {
        let d = follow_links(Path::new(&dst))?;
        if !d.is_dir() {
            anyhow::bail!("destination \"{dst}\" must be a directory");
        }
        unpack_entries(input, &d)
    })?;
    let sent = std::io::copy(&mut std::io::stdin().lock(), &mut pipe);
    drop(pipe);
    // The container side's own error (it printed why) comes first.
    reap(pid)?;
    sent.map(drop).map_err(|e| anyhow::anyhow!("read the archive from stdin: {e}"))
}

fn from_container(root: &Path, path: &str, dst: &Path) -> anyhow::Result<()> {
    let (pipe, pid) = tar_from_container(root, path)?;
    let (into, rename) = if dst.is_dir() {
        (dst.to_path_buf(), None)
    } else {
        let parent = dst.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
        (parent, dst.file_name().map(|n| n.to_string_lossy().into_owned()))
    };
    let result = unpack(pipe, &into, &base(path), rename.as_deref());
    reap(pid)?;
    result
}

/// Every entry of the archive under `dir` through `unpack_in`, which
/// refuses `..` and symlinked parents; modes kept, existing files replaced.
fn unpack_entries(r: impl std::io::Read, dir: &Path) -> anyhow::Result<()> {
    let mut ar = tar::Archive::new(r);
    ar.set_preserve_permissions(true);
    ar.set_overwrite(true);
    for entry in ar.entries()? {
        let mut e = entry?;
        if !e.unpack_in(dir)? {
            anyhow::bail!("refusing tar entry {}", e.path()?.display());
        }
    }
    Ok(())
}

/// Unpacks the archive (top-level entry `from`) under `into`, as `to`
/// when given. Every entry goes through `unpack_in` into a fresh directory
/// (which refuses `..` and symlinked parents), then the top entry is
/// renamed into place.
fn unpack(r: impl std::io::Read, into: &Path, from: &str, to: Option<&str>) -> anyhow::Result<()> {
    let tmp = into.join(format!(".hull-cp-{}", std::process::id()));
    std::fs::create_dir(&tmp).map_err(|e| anyhow::anyhow!("mkdir {}: {e}", tmp.display()))?;
    let result = (|| {
        unpack_entries(r, &tmp)?;
        let final_path = into.join(to.unwrap_or(from));
        if final_path.is_dir() && !std::fs::symlink_metadata(&final_path)?.file_type().is_symlink() {
            // Merge into an existing directory: move each child.
            for c in std::fs::read_dir(tmp.join(from))? {
                let c = c?;
                std::fs::rename(c.path(), final_path.join(c.file_name()))?;
            }
        } else {
            std::fs::rename(tmp.join(from), &final_path)?;
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn into_container(root: &Path, src: &Path, dst: &str) -> anyhow::Result<()> {
    let meta = std::fs::symlink_metadata(src).map_err(|e| anyhow::anyhow!("stat {}: {e}", src.display()))?;
    let name = base(&src.to_string_lossy());
    let dst = dst.to_string();
    let from = name.clone();
    let (pipe, pid) = in_root(root, false, move |input| {
        // A symlink at the destination is followed, as docker does: the
        // copy goes to its target (inside the container: we are chrooted).
        let d = follow_links(Path::new(&dst))?;
        let d = d.as_path();
        let (into, rename) = if d.is_dir() {
            (d.to_path_buf(), None)
        } else {
            let parent = d.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("/")).to_path_buf();
            if !parent.is_dir() {
                anyhow::bail!("no such directory in the container: {}", parent.display());
            }
            (parent, d.file_name().map(|n| n.to_string_lossy().into_owned()))
        };
        unpack(input, &into, &from, rename.as_deref())
    })?;
    let mut b = tar::Builder::new(pipe);
    b.follow_symlinks(false);
    let sent = if meta.is_dir() { b.append_dir_all(&name, src) } else { b.append_path_with_name(src, &name) };
    let sent = sent.and_then(|()| b.into_inner().map(drop));
    // The container side's own error (it printed why) comes first.
    reap(pid)?;
    Ok(sent?)
}

/// `p` with every symlink at its end followed (at most 40), relative ones
/// against their directory.
fn follow_links(p: &Path) -> anyhow::Result<PathBuf> {
    let mut p = p.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&p)?;
                p = p.parent().unwrap_or(Path::new("/")).join(target);
            }
            _ => return Ok(p),
        }
    }
    anyhow::bail!("{}: too many levels of symbolic links", p.display())
}
