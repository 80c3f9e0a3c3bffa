//! `hull cp`: files between the host and a container, as docker's CLI
//! does it: the container side is the engine's archive API (a tar stream
//! out of, or into, a directory of the container as the container sees it,
//! volumes and binds included); the host side names the entries and
//! unpacks with the tar crate's `unpack_in`, which refuses entries that
//! would land outside the destination.

use hull_engine::{Engine, PathStat, PutOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// `hull cp`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Archive mode: keep the files' owners (uid and gid).
    #[arg(short = 'a', long = "archive")]
    archive: bool,
    /// Always follow a symlink given as the source.
    #[arg(short = 'L', long = "follow-link")]
    follow_link: bool,
    /// Print nothing about the copy on stderr.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Source: HOST_PATH, CONTAINER:PATH, or `-` (a tar stream on stdin).
    src: String,
    /// Destination: HOST_PATH, CONTAINER:PATH, or `-` (a tar stream on stdout).
    dst: String,
}

fn split(s: &str) -> Option<(&str, &str)> {
    if s.starts_with('/') || s.starts_with('.') {
        return None;
    }
    s.split_once(':')
}

pub fn run(engine: &Engine, a: Args) -> anyhow::Result<i32> {
    // A reader of our stdout that goes away is its business, not a
    // SIGPIPE to die of (exit 141).
    // SAFETY: setting a signal's disposition to SIG_IGN touches no memory.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let copied = match (split(&a.src), split(&a.dst)) {
        (Some((c, path)), None) => from_container(engine, &a, c, path)?,
        (None, Some((c, path))) => into_container(engine, &a, c, path)?,
        _ => anyhow::bail!(
            "copying between containers or between host paths is not supported: one side must be CONTAINER:PATH"
        ),
    };
    if !a.quiet && a.dst != "-" && std::io::stderr().is_terminal() {
        eprintln!("Successfully copied {} to {}", human(copied), a.dst);
    }
    Ok(0)
}

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..=999 => format!("{bytes}B"),
        1000..=999_999 => format!("{:.3}kB", b / 1e3),
        _ => format!("{:.3}MB", b / 1e6),
    }
}

/// Counts what passes through.
struct Counted<T> {
    inner: T,
    n: u64,
}

impl<T: std::io::Read> std::io::Read for Counted<T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

impl<T: std::io::Write> std::io::Write for Counted<T> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn base(p: &str) -> String {
    hull_engine::archive::base_name(p)
}

/// The engine's archive of `path` (written on a thread while we read it).
fn get(
    engine: &Engine,
    c: &str,
    path: &str,
    into: impl FnOnce(&mut dyn std::io::Read) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let (r, w) = std::io::pipe()?;
    std::thread::scope(|s| {
        let writer = s.spawn(move || {
            let mut w = w;
            engine.archive_get(c, path, &mut w)
        });
        let mut counted = Counted { inner: r, n: 0 };
        let read = into(&mut counted);
        drop(counted.inner);
        // The engine's own error (a missing path) comes first.
        writer.join().map_err(|_| anyhow::anyhow!("the copy's thread panicked"))??;
        read.map(|()| counted.n)
    })
}

fn from_container(engine: &Engine, a: &Args, c: &str, path: &str) -> anyhow::Result<u64> {
    let mut path = path.to_string();
    if a.follow_link {
        let st = engine.archive_stat(c, &path)?;
        if st.is_symlink() {
            path = st.link_target;
        }
    }
    if a.dst == "-" {
        return get(engine, c, &path, |r| {
            std::io::copy(r, &mut std::io::stdout().lock())
                .map(drop)
                .map_err(|e| anyhow::anyhow!("write the archive to stdout: {e}"))
        });
    }
    let src = engine.archive_stat(c, &path)?;
    let dst = PathBuf::from(&a.dst);
    let (into, rename) = match std::fs::metadata(&dst) {
        Ok(m) if m.is_dir() => (dst.clone(), None),
        Ok(_) if src.is_dir() => anyhow::bail!("cannot copy a directory to a file: {}", dst.display()),
        Ok(_) => (parent(&dst), Some(base(&a.dst))),
        Err(_) if a.dst.ends_with('/') && !src.is_dir() => {
            anyhow::bail!("destination directory {} does not exist", dst.display())
        }
        Err(_) => {
            let p = parent(&dst);
            if !p.is_dir() {
                anyhow::bail!("no such directory: {}", p.display());
            }
            (p, Some(base(&a.dst)))
        }
    };
    let top = base(&path);
    get(engine, c, &path, |r| unpack(r, &into, &top, rename.as_deref(), a.archive))
}

fn parent(p: &Path) -> PathBuf {
    p.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()
}

/// The container side of a destination: docker follows a symlink there
/// (the copy goes to its target, the link kept).
fn stat_dst(engine: &Engine, c: &str, path: &str) -> anyhow::Result<(String, Option<PathStat>)> {
    let st = match engine.archive_stat(c, path) {
        Ok(st) => st,
        Err(hull_engine::EngineError::NoSuchPath { .. }) => return Ok((path.to_string(), None)),
        Err(e) => return Err(e.into()),
    };
    if !st.is_symlink() {
        return Ok((path.to_string(), Some(st)));
    }
    let target = st.link_target;
    match engine.archive_stat(c, &target) {
        Ok(st) => Ok((target, Some(st))),
        Err(hull_engine::EngineError::NoSuchPath { .. }) => Ok((target, None)),
        Err(e) => Err(e.into()),
    }
}

fn into_container(engine: &Engine, a: &Args, c: &str, path: &str) -> anyhow::Result<u64> {
    let (dst, st) = stat_dst(engine, c, path)?;
    let opts = PutOptions { no_overwrite_dir_non_dir: true, copy_uid_gid: a.archive };
    if a.src == "-" {
        // A tar stream from stdin, unpacked into DIR (docker's rule: the
        // destination must be one).
        if !st.as_ref().is_some_and(PathStat::is_dir) {
            anyhow::bail!("destination \"{c}:{path}\" must be a directory");
        }
        let mut input = Counted { inner: std::io::stdin(), n: 0 };
        engine.archive_put(c, &dst, &mut input, opts)?;
        return Ok(input.n);
    }
    let src = Path::new(&a.src);
    let meta = std::fs::symlink_metadata(src).map_err(|e| anyhow::anyhow!("stat {}: {e}", src.display()))?;
    let (dir, name) = match &st {
        Some(st) if st.is_dir() => (dst.clone(), base(&a.src)),
        Some(_) if meta.is_dir() => anyhow::bail!("cannot copy a directory to a file: {c}:{dst}"),
        Some(_) => (parent_in_container(&dst), base(&dst)),
        None if dst.ends_with('/') && !meta.is_dir() => {
            anyhow::bail!("destination directory {c}:{dst} does not exist")
        }
        None => (parent_in_container(&dst), base(&dst)),
    };
    let (r, w) = std::io::pipe()?;
    std::thread::scope(|s| {
        let builder = s.spawn(move || {
            let mut b = tar::Builder::new(w);
            b.follow_symlinks(false);
            let sent = if meta.is_dir() { b.append_dir_all(&name, src) } else { b.append_path_with_name(src, &name) };
            sent.and_then(|()| b.into_inner().map(drop))
        });
        let mut input = Counted { inner: r, n: 0 };
        let put = engine.archive_put(c, &dir, &mut input, opts);
        drop(input.inner);
        let built = builder.join().map_err(|_| anyhow::anyhow!("the copy's thread panicked"))?;
        // The container side's error (a missing directory) comes first.
        put?;
        built.map_err(|e| anyhow::anyhow!("archive {}: {e}", src.display()))?;
        Ok(input.n)
    })
}

fn parent_in_container(p: &str) -> String {
    let trimmed = p.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((dir, _)) => dir.into(),
    }
}

/// Every entry of the archive under `dir` through `unpack_in`, which
/// refuses `..` and symlinked parents; modes kept, existing files replaced.
fn unpack_entries(r: impl std::io::Read, dir: &Path, owners: bool) -> anyhow::Result<()> {
    let mut ar = tar::Archive::new(r);
    ar.set_preserve_permissions(true);
    ar.set_preserve_ownerships(owners);
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
/// renamed into place (merged into an existing directory).
fn unpack(r: impl std::io::Read, into: &Path, from: &str, to: Option<&str>, owners: bool) -> anyhow::Result<()> {
    let tmp = into.join(format!(".hull-cp-{}", std::process::id()));
    std::fs::create_dir(&tmp).map_err(|e| anyhow::anyhow!("mkdir {}: {e}", tmp.display()))?;
    let result = (|| {
        unpack_entries(r, &tmp, owners)?;
        let final_path = into.join(to.unwrap_or(from));
        if final_path.is_dir() && !std::fs::symlink_metadata(&final_path)?.file_type().is_symlink() {
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
