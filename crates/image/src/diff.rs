//! A container's changes as an image layer, the reverse of `unpack`: an
//! overlay upper directory walked through descriptors (never following a
//! link the container made), overlayfs whiteouts turned into OCI ones
//! (a 0/0 character device → `.wh.NAME`, the opaque xattr →
//! `.wh..wh..opq`), owners, modes, xattrs, hard links and times kept (times
//! clamped to SOURCE_DATE_EPOCH when given), compressed as asked, with the
//! DiffID and the blob's digest computed in the one pass that writes it.

use crate::digest::{Algorithm, Digest, Hasher};
use crate::manifest::{Compression, OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_LAYER_ZSTD};
use crate::store::{Store, StoreError};
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};
use std::collections::HashMap;
use std::ffi::{CString, OsStr, OsString};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Writing a layer failed.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// A file of the upper directory could not be read.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was done.
        op: &'static str,
        /// To which path of the layer.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The store refused the blob.
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Result<T> = std::result::Result<T, DiffError>;

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> DiffError + 'a {
    move |source| DiffError::Io { op, path: path.to_path_buf(), source }
}

fn errno<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(nix::errno::Errno) -> DiffError + 'a {
    move |e| DiffError::Io { op, path: path.to_path_buf(), source: e.into() }
}

/// How the layer is written.
#[derive(Debug, Clone, Copy)]
pub struct LayerOptions {
    /// Its compression.
    pub compression: Compression,
    /// No time in the layer is later than this (Unix seconds), for
    /// reproducible layers.
    pub source_date_epoch: Option<i64>,
}

impl Default for LayerOptions {
    fn default() -> Self {
        LayerOptions { compression: Compression::Gzip, source_date_epoch: None }
    }
}

/// A layer in the store.
#[derive(Debug, Clone)]
pub struct WrittenLayer {
    /// The SHA-256 of the uncompressed tar.
    pub diff_id: Digest,
    /// The blob's digest.
    pub digest: Digest,
    /// The blob's size.
    pub size: u64,
    /// Its media type.
    pub media_type: &'static str,
}

/// What happened to a path, as `docker diff` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Changed (`C`): a directory that holds changes, or a file written over.
    Modified,
    /// Added (`A`).
    Added,
    /// Deleted (`D`).
    Deleted,
}

impl ChangeKind {
    /// docker's number for it in the API (0 modified, 1 added, 2 deleted).
    pub fn code(self) -> u8 {
        match self {
            ChangeKind::Modified => 0,
            ChangeKind::Added => 1,
            ChangeKind::Deleted => 2,
        }
    }

    /// docker's letter.
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Modified => 'C',
            ChangeKind::Added => 'A',
            ChangeKind::Deleted => 'D',
        }
    }
}

/// One changed path (absolute, inside the container).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The path.
    pub path: String,
    /// What happened.
    pub kind: ChangeKind,
}

const OPAQUE_XATTRS: [&str; 2] = ["trusted.overlay.opaque", "user.overlay.opaque"];

fn open_dir_at(dir: BorrowedFd, name: &OsStr, path: &Path) -> Result<OwnedFd> {
    let c = CString::new(name.as_bytes()).map_err(|e| io("open", path)(std::io::Error::other(e)))?;
    let fd = nix::fcntl::openat(
        Some(dir.as_raw_fd()),
        c.as_c_str(),
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno("open", path))?;
    // SAFETY: openat just returned this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn open_file_at(dir: BorrowedFd, name: &OsStr, path: &Path) -> Result<std::fs::File> {
    let c = CString::new(name.as_bytes()).map_err(|e| io("open", path)(std::io::Error::other(e)))?;
    let fd = nix::fcntl::openat(
        Some(dir.as_raw_fd()),
        c.as_c_str(),
        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NOCTTY | OFlag::O_NONBLOCK,
        Mode::empty(),
    )
    .map_err(errno("open", path))?;
    // SAFETY: openat just returned this descriptor; nothing else owns it.
    Ok(std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// The names in a directory, sorted (a layer's order is stable).
fn names(dir: BorrowedFd, path: &Path) -> Result<Vec<OsString>> {
    // A second descriptor: nix's Dir owns and closes the one it reads.
    let dup = nix::unistd::dup(dir.as_raw_fd()).map_err(errno("dup", path))?;
    let mut d = nix::dir::Dir::from_fd(dup).map_err(errno("read", path))?;
    let mut out: Vec<OsString> = d
        .iter()
        .filter_map(|e| e.ok())
        .map(|e| OsStr::from_bytes(e.file_name().to_bytes()).to_os_string())
        .filter(|n| n != "." && n != "..")
        .collect();
    out.sort();
    Ok(out)
}

/// An xattr of an open file (None when absent).
fn get_xattr(fd: BorrowedFd, name: &str) -> Option<Vec<u8>> {
    let cname = CString::new(name).ok()?;
    let mut buf = vec![0u8; 4096];
    // SAFETY: fgetxattr writes at most buf.len() bytes into buf, a live
    // buffer of that length; the name is a NUL-terminated string.
    let n = unsafe { libc::fgetxattr(fd.as_raw_fd(), cname.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return None;
    }
    buf.truncate(n as usize);
    Some(buf)
}

/// Every xattr of an open file but overlayfs' own.
fn xattrs(fd: BorrowedFd) -> Vec<(String, Vec<u8>)> {
    let mut list = vec![0u8; 16 * 1024];
    // SAFETY: flistxattr writes at most list.len() bytes into list.
    let n = unsafe { libc::flistxattr(fd.as_raw_fd(), list.as_mut_ptr().cast(), list.len()) };
    if n <= 0 {
        return Vec::new();
    }
    list.truncate(n as usize);
    list.split(|b| *b == 0)
        .filter(|n| !n.is_empty())
        .filter_map(|n| std::str::from_utf8(n).ok())
        .filter(|n| !n.starts_with("trusted.overlay.") && !n.starts_with("user.overlay."))
        .filter_map(|n| get_xattr(fd, n).map(|v| (n.to_string(), v)))
        .collect()
}

fn is_whiteout(st: &nix::sys::stat::FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFCHR && st.st_rdev == 0
}

fn is_opaque(fd: BorrowedFd) -> bool {
    OPAQUE_XATTRS.iter().any(|x| get_xattr(fd, x).as_deref() == Some(b"y"))
}

/// The changes in an overlay upper directory, relative to the layers
/// below (`lower`: does a path exist below, to tell added from changed).
pub fn changes(upper: &Path, lower: &dyn Fn(&Path) -> bool) -> Result<Vec<Change>> {
    let root = std::fs::File::open(upper).map_err(io("open", upper))?;
    let mut out = Vec::new();
    walk_changes(root.as_fd(), Path::new("/"), lower, &mut out)?;
    Ok(out)
}

fn walk_changes(dir: BorrowedFd, at: &Path, lower: &dyn Fn(&Path) -> bool, out: &mut Vec<Change>) -> Result<()> {
    for name in names(dir, at)? {
        let path = at.join(&name);
        let st = fstatat(Some(dir.as_raw_fd()), name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
            .map_err(errno("stat", &path))?;
        let text = path.display().to_string();
        if is_whiteout(&st) {
            out.push(Change { path: text, kind: ChangeKind::Deleted });
            continue;
        }
        let existed = lower(&path);
        let kind = if existed { ChangeKind::Modified } else { ChangeKind::Added };
        out.push(Change { path: text, kind });
        if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR {
            let sub = open_dir_at(dir, &name, &path)?;
            walk_changes(sub.as_fd(), &path, lower, out)?;
        }
    }
    Ok(())
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Option<Hasher>,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(h) = self.hasher.as_mut() {
            h.update(&buf[..n]);
        }
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W> Hashing<W> {
    fn new(inner: W) -> Self {
        Hashing { inner, hasher: Some(Hasher::new(Algorithm::Sha256)), size: 0 }
    }
    fn finish(mut self) -> (W, Digest, u64) {
        let d = self.hasher.take().map(Hasher::finish).unwrap_or_else(|| Digest::sha256(b""));
        (self.inner, d, self.size)
    }
}

enum Encoder<W: Write> {
    Plain(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Encoder::Plain(w) => w.write(buf),
            Encoder::Gzip(w) => w.write(buf),
            Encoder::Zstd(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Encoder::Plain(w) => w.flush(),
            Encoder::Gzip(w) => w.flush(),
            Encoder::Zstd(w) => w.flush(),
        }
    }
}

impl<W: Write> Encoder<W> {
    fn finish(self) -> std::io::Result<W> {
        match self {
            Encoder::Plain(w) => Ok(w),
            Encoder::Gzip(w) => w.finish(),
            Encoder::Zstd(w) => w.finish(),
        }
    }
}

/// The tar entries of a walk.
struct TarWalk<'a, W: Write> {
    tar: tar::Builder<W>,
    opts: &'a LayerOptions,
    /// (dev, ino) of files with more than one link → their first path.
    links: HashMap<(u64, u64), PathBuf>,
}

impl<W: Write> TarWalk<'_, W> {
    fn clamp(&self, t: i64) -> u64 {
        let t = t.max(0);
        self.opts.source_date_epoch.map_or(t, |e| t.min(e.max(0))) as u64
    }

    fn header(&self, st: &nix::sys::stat::FileStat, kind: tar::EntryType) -> tar::Header {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_mode(st.st_mode & 0o7777);
        h.set_uid(u64::from(st.st_uid));
        h.set_gid(u64::from(st.st_gid));
        h.set_mtime(self.clamp(st.st_mtime));
        h.set_size(0);
        h
    }

    fn pax(&mut self, xattrs: &[(String, Vec<u8>)], path: &Path) -> Result<()> {
        if xattrs.is_empty() {
            return Ok(());
        }
        let keys: Vec<(String, &[u8])> =
            xattrs.iter().map(|(k, v)| (format!("SCHILY.xattr.{k}"), v.as_slice())).collect();
        self.tar
            .append_pax_extensions(keys.iter().map(|(k, v)| (k.as_str(), *v)))
            .map_err(io("write the xattrs of", path))
    }

    fn walk(&mut self, dir: BorrowedFd, at: &Path) -> Result<()> {
        for name in names(dir, at)? {
            let path = at.join(&name);
            let st = fstatat(Some(dir.as_raw_fd()), name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
                .map_err(errno("stat", &path))?;
            let fmt = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
            if is_whiteout(&st) {
                let wh = at.join(format!(".wh.{}", name.to_string_lossy()));
                let mut h = self.header(&st, tar::EntryType::Regular);
                h.set_mode(0o644);
                self.tar.append_data(&mut h, &wh, std::io::empty()).map_err(io("write", &wh))?;
                continue;
            }
            if fmt == SFlag::S_IFDIR {
                let sub = open_dir_at(dir, &name, &path)?;
                self.pax(&xattrs(sub.as_fd()), &path)?;
                let mut h = self.header(&st, tar::EntryType::Directory);
                self.tar.append_data(&mut h, &path, std::io::empty()).map_err(io("write", &path))?;
                if is_opaque(sub.as_fd()) {
                    let opq = path.join(".wh..wh..opq");
                    let mut h = self.header(&st, tar::EntryType::Regular);
                    h.set_mode(0o644);
                    self.tar.append_data(&mut h, &opq, std::io::empty()).map_err(io("write", &opq))?;
                }
                self.walk(sub.as_fd(), &path)?;
                continue;
            }
            if st.st_nlink > 1 && fmt != SFlag::S_IFLNK {
                let key = (st.st_dev, st.st_ino);
                if let Some(first) = self.links.get(&key).cloned() {
                    let mut h = self.header(&st, tar::EntryType::Link);
                    self.tar.append_link(&mut h, &path, &first).map_err(io("write", &path))?;
                    continue;
                }
                self.links.insert(key, path.clone());
            }
            match fmt {
                SFlag::S_IFREG => {
                    let f = open_file_at(dir, &name, &path)?;
                    self.pax(&xattrs(f.as_fd()), &path)?;
                    let mut h = self.header(&st, tar::EntryType::Regular);
                    h.set_size(st.st_size as u64);
                    // Exactly the size stat said: a file the container
                    // grows meanwhile cannot make the entry lie.
                    self.tar.append_data(&mut h, &path, f.take(st.st_size as u64)).map_err(io("write", &path))?;
                }
                SFlag::S_IFLNK => {
                    let target = nix::fcntl::readlinkat(Some(dir.as_raw_fd()), name.as_os_str())
                        .map_err(errno("readlink", &path))?;
                    let mut h = self.header(&st, tar::EntryType::Symlink);
                    self.tar.append_link(&mut h, &path, Path::new(&target)).map_err(io("write", &path))?;
                }
                SFlag::S_IFCHR | SFlag::S_IFBLK => {
                    let kind = if fmt == SFlag::S_IFCHR { tar::EntryType::Char } else { tar::EntryType::Block };
                    let mut h = self.header(&st, kind);
                    h.set_device_major(libc::major(st.st_rdev)).map_err(io("write", &path))?;
                    h.set_device_minor(libc::minor(st.st_rdev)).map_err(io("write", &path))?;
                    self.tar.append_data(&mut h, &path, std::io::empty()).map_err(io("write", &path))?;
                }
                SFlag::S_IFIFO => {
                    let mut h = self.header(&st, tar::EntryType::Fifo);
                    self.tar.append_data(&mut h, &path, std::io::empty()).map_err(io("write", &path))?;
                }
                // Sockets are not kept in layers (docker drops them too).
                _ => {}
            }
        }
        Ok(())
    }
}

/// Writes the changes in `upper` (an overlay upper directory) as a layer
/// into the store.
pub fn write_layer(store: &Store, upper: &Path, opts: &LayerOptions) -> Result<WrittenLayer> {
    let root = std::fs::File::open(upper).map_err(io("open", upper))?;
    let tmp_dir = store.root().join("ingest");
    std::fs::create_dir_all(&tmp_dir).map_err(io("mkdir", &tmp_dir))?;
    let tmp = tempfile_in(&tmp_dir).map_err(io("create a file in", &tmp_dir))?;
    let file = tmp.reopen().map_err(io("open", tmp.path()))?;
    let blob = Hashing::new(std::io::BufWriter::with_capacity(1 << 20, file));
    let (encoder, media_type) = match opts.compression {
        Compression::None => (Encoder::Plain(blob), OCI_LAYER_TAR),
        Compression::Gzip => {
            (Encoder::Gzip(flate2::write::GzEncoder::new(blob, flate2::Compression::fast())), OCI_LAYER_GZIP)
        }
        Compression::Zstd => {
            (Encoder::Zstd(zstd::stream::write::Encoder::new(blob, 3).map_err(io("compress", upper))?), OCI_LAYER_ZSTD)
        }
    };
    let tar_out = Hashing::new(encoder);
    let mut walk = TarWalk { tar: tar::Builder::new(tar_out), opts, links: HashMap::new() };
    walk.tar.mode(tar::HeaderMode::Complete);
    walk.walk(root.as_fd(), Path::new(""))?;
    let tar_out = walk.tar.into_inner().map_err(io("write the layer of", upper))?;
    let (encoder, diff_id, _) = tar_out.finish();
    let blob = encoder.finish().map_err(io("compress", upper))?;
    let (buf, digest, size) = blob.finish();
    buf.into_inner().map_err(|e| io("write", upper)(e.into_error()))?.sync_all().map_err(io("sync", upper))?;
    let f = std::fs::File::open(tmp.path()).map_err(io("open", tmp.path()))?;
    store.put_blob(f, &digest, Some(size))?;
    Ok(WrittenLayer { diff_id, digest, size, media_type })
}

/// A whole directory tree (a container's merged root) as one plain tar
/// written to `out` (`docker export`).
pub fn write_tree(dir: &Path, out: &mut dyn Write) -> Result<()> {
    let root = std::fs::File::open(dir).map_err(io("open", dir))?;
    let opts = LayerOptions { compression: Compression::None, source_date_epoch: None };
    let mut walk = TarWalk { tar: tar::Builder::new(out), opts: &opts, links: HashMap::new() };
    walk.tar.mode(tar::HeaderMode::Complete);
    walk.walk(root.as_fd(), Path::new(""))?;
    walk.tar.into_inner().map_err(io("write the tar of", dir))?.flush().map_err(io("write the tar of", dir))
}

/// Passes what is read on to a writer too.
struct Tee<R, W> {
    inner: R,
    copy: W,
}

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// A tar from outside (`docker import`; plain, gzip or zstd) as a layer in
/// the store: read once, checked to be a tar entry by entry while it is
/// hashed and stored gzip-compressed.
pub fn import_tar(store: &Store, input: &mut dyn Read) -> Result<WrittenLayer> {
    let here = Path::new("the imported archive");
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < head.len() {
        match input.read(&mut head[got..]).map_err(io("read", here))? {
            0 => break,
            n => got += n,
        }
    }
    let rest = std::io::Cursor::new(head[..got].to_vec()).chain(input);
    let decoded: Box<dyn Read> = match &head[..got] {
        [0x1f, 0x8b, ..] => Box::new(flate2::read::MultiGzDecoder::new(rest)),
        [0x28, 0xb5, 0x2f, 0xfd] => Box::new(zstd::stream::read::Decoder::new(rest).map_err(io("read", here))?),
        _ => Box::new(rest),
    };
    let tmp_dir = store.root().join("ingest");
    std::fs::create_dir_all(&tmp_dir).map_err(io("mkdir", &tmp_dir))?;
    let tmp = tempfile_in(&tmp_dir).map_err(io("create a file in", &tmp_dir))?;
    let file = tmp.reopen().map_err(io("open", tmp.path()))?;
    let blob = Hashing::new(std::io::BufWriter::with_capacity(1 << 20, file));
    let gz = flate2::write::GzEncoder::new(blob, flate2::Compression::fast());
    let mut tee = Tee { inner: decoded, copy: Hashing::new(gz) };
    {
        let mut archive = tar::Archive::new(&mut tee);
        let mut entries = 0usize;
        for e in archive.entries().map_err(io("read", here))? {
            let mut e = e.map_err(|e| io("read", here)(std::io::Error::other(format!("not a tar archive: {e}"))))?;
            std::io::copy(&mut e, &mut std::io::sink()).map_err(io("read", here))?;
            entries += 1;
        }
        if entries == 0 {
            return Err(io("read", here)(std::io::Error::other("not a tar archive, or an empty one")));
        }
    }
    // The end-of-archive blocks and any padding after them.
    std::io::copy(&mut tee, &mut std::io::sink()).map_err(io("read", here))?;
    let (gz, diff_id, _) = tee.copy.finish();
    let blob = gz.finish().map_err(io("compress", here))?;
    let (buf, digest, size) = blob.finish();
    buf.into_inner().map_err(|e| io("write", here)(e.into_error()))?.sync_all().map_err(io("sync", here))?;
    let f = std::fs::File::open(tmp.path()).map_err(io("open", tmp.path()))?;
    store.put_blob(f, &digest, Some(size))?;
    Ok(WrittenLayer { diff_id, digest, size, media_type: OCI_LAYER_GZIP })
}

/// A named temporary file, removed when dropped.
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    fn path(&self) -> &Path {
        &self.path
    }
    fn reopen(&self) -> std::io::Result<std::fs::File> {
        std::fs::OpenOptions::new().write(true).open(&self.path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn tempfile_in(dir: &Path) -> std::io::Result<TempFile> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!(".layer-{}-{n}", std::process::id()));
    std::fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
    Ok(TempFile { path })
}
