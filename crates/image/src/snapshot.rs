//! Snapshots: each layer unpacked once into `layers/<chain-id>/fs`, and a
//! container's rootfs as an overlay of its image's layers with its own
//! upper and work directories.

use crate::digest::Digest;
use crate::manifest::{chain_ids, layer_compression, Manifest};
use crate::store::{Store, StoreError};
use crate::unpack::{unpack_layer, UnpackError};
use std::path::{Path, PathBuf};

/// A snapshot operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A layer did not unpack.
    #[error("layer {layer}: {source}")]
    Unpack {
        /// Layer digest.
        layer: Digest,
        /// Cause.
        source: UnpackError,
    },
    /// A layer's content does not match the config's diff id.
    #[error("layer {layer}: uncompressed content is {actual}, the image config says {expected}")]
    DiffId {
        /// Layer digest.
        layer: Digest,
        /// What the config says.
        expected: Digest,
        /// What it is.
        actual: Digest,
    },
    /// A layer has a media type that is not a layer.
    #[error("layer {layer}: unknown media type {media_type:?}")]
    MediaType {
        /// Layer digest.
        layer: Digest,
        /// The type.
        media_type: String,
    },
    /// The image is malformed.
    #[error("image {0}")]
    Image(String),
    /// Filesystem or mount error.
    #[error("{op} {path}: {source}")]
    Io {
        /// Operation.
        op: &'static str,
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

type Result<T> = std::result::Result<T, SnapshotError>;

/// The sizes of the regular files under `dir`, symlinks not followed.
fn tree_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => tree_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> SnapshotError + 'a {
    move |source| SnapshotError::Io { op, path: path.to_path_buf(), source }
}

/// Written beside a layer's `fs` once its directory modes are known to be
/// the layer's own (see `repair_modes`).
const MODES_MARKER: &str = "modes-v2";

/// The snapshot directory tree.
#[derive(Debug, Clone)]
pub struct Snapshots {
    root: PathBuf,
}

impl Snapshots {
    /// Opens (creating) `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Snapshots> {
        let root = root.into();
        let layers = root.join("layers");
        std::fs::create_dir_all(&layers).map_err(io("mkdir", &layers))?;
        crate::private_dir(&root).map_err(io("chmod 0700", &root))?;
        Ok(Snapshots { root })
    }

    /// Where a layer's files are.
    pub fn layer_dir(&self, chain_id: &Digest) -> PathBuf {
        self.root.join("layers").join(chain_id.hex()).join("fs")
    }

    /// The bytes a layer's files take unpacked (regular files' sizes, as
    /// docker counts a layer), or None if it is not unpacked. Counted once
    /// and kept in a `size` file beside the layer's `fs`.
    pub fn unpacked_size(&self, chain_id: &Digest) -> Option<u64> {
        let dir = self.root.join("layers").join(chain_id.hex());
        let cache = dir.join("size");
        if let Some(n) = std::fs::read_to_string(&cache).ok().and_then(|s| s.trim().parse().ok()) {
            return Some(n);
        }
        let fs = dir.join("fs");
        if !fs.is_dir() {
            return None;
        }
        let n = tree_size(&fs);
        // Best-effort: a cache that cannot be written only costs a walk.
        let tmp = dir.join(format!("size.tmp-{}", std::process::id()));
        if std::fs::write(&tmp, n.to_string()).is_ok() {
            let _ = std::fs::rename(&tmp, &cache);
        }
        Some(n)
    }

    /// Unpacks every layer of `manifest` not already unpacked; returns the
    /// layer directories, base first. Each layer lands in a temporary
    /// directory renamed into place when complete, so a crash or a bad
    /// layer never leaves a half layer under a chain id.
    pub fn prepare(&self, store: &Store, manifest: &Manifest, diff_ids: &[Digest]) -> Result<Vec<PathBuf>> {
        if diff_ids.len() != manifest.layers.len() {
            return Err(SnapshotError::Image(format!(
                "has {} layers but its config lists {} diff ids",
                manifest.layers.len(),
                diff_ids.len()
            )));
        }
        let chains = chain_ids(diff_ids);
        let missing: Vec<_> = manifest
            .layers
            .iter()
            .zip(diff_ids)
            .zip(&chains)
            .filter(|(_, chain)| !self.layer_dir(chain).exists())
            .collect();
        for ((layer, _), chain) in manifest.layers.iter().zip(diff_ids).zip(&chains) {
            if self.layer_dir(chain).exists() && !self.marker(chain).exists() {
                self.repair_modes(store, layer, chain)?;
            }
        }
        // Layers unpack into separate directories: do them side by side (one
        // thread per core at most); creating files, not reading, is the cost.
        if !missing.is_empty() {
            // Asked only when there is work: std reads the cgroup mounts and
            // quotas for it, a cost every container create would pay.
            let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
            crate::parallel::try_for_each(&missing, workers, |((layer, diff_id), chain)| {
                self.unpack_one(store, layer, diff_id, chain)
            })?;
        }
        Ok(chains.iter().map(|c| self.layer_dir(c)).collect())
    }

    fn unpack_one(
        &self,
        store: &Store,
        layer: &crate::manifest::Descriptor,
        diff_id: &Digest,
        chain: &Digest,
    ) -> Result<()> {
        let compression = layer_compression(&layer.media_type).ok_or_else(|| SnapshotError::MediaType {
            layer: layer.digest.clone(),
            media_type: layer.media_type.clone(),
        })?;
        // Unique per call: two threads of one process (the daemon creating
        // two containers at once) may unpack the same layer side by side.
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = self.root.join("layers").join(format!("tmp-{}-{seq}-{}", std::process::id(), chain.hex()));
        let _ = std::fs::remove_dir_all(&tmp);
        let fs_dir = tmp.join("fs");
        std::fs::create_dir_all(&fs_dir).map_err(io("mkdir", &fs_dir))?;
        let result = (|| {
            let blob = store.open_blob(&layer.digest)?;
            let actual = unpack_layer(blob, compression, &fs_dir)
                .map_err(|source| SnapshotError::Unpack { layer: layer.digest.clone(), source })?;
            if &actual != diff_id {
                return Err(SnapshotError::DiffId { layer: layer.digest.clone(), expected: diff_id.clone(), actual });
            }
            let marker = tmp.join(MODES_MARKER);
            std::fs::write(&marker, b"").map_err(io("write", &marker))?;
            let final_dir = self.root.join("layers").join(chain.hex());
            match std::fs::rename(&tmp, &final_dir) {
                Ok(()) => Ok(()),
                // Another process unpacked the same layer meanwhile.
                Err(_) if final_dir.join("fs").exists() => Ok(()),
                Err(e) => Err(io("rename", &final_dir)(e)),
            }
        })();
        let _ = std::fs::remove_dir_all(&tmp);
        result
    }

    fn marker(&self, chain: &Digest) -> PathBuf {
        self.root.join("layers").join(chain.hex()).join(MODES_MARKER)
    }

    /// Layers unpacked before directory modes were kept have every
    /// directory 0777 (writable by any user in the container): sets each
    /// one the layer lists back to its mode, and those it does not list
    /// (implicit parents) to 0755; then marks the layer repaired. In place,
    /// so containers already running on the layer are fixed too.
    fn repair_modes(&self, store: &Store, layer: &crate::manifest::Descriptor, chain: &Digest) -> Result<()> {
        let fs_dir = self.layer_dir(chain);
        let compression = layer_compression(&layer.media_type).ok_or_else(|| SnapshotError::MediaType {
            layer: layer.digest.clone(),
            media_type: layer.media_type.clone(),
        })?;
        let blob = store.open_blob(&layer.digest)?;
        crate::unpack::repair_directory_modes(blob, compression, &fs_dir)
            .map_err(|source| SnapshotError::Unpack { layer: layer.digest.clone(), source })?;
        let marker = self.marker(chain);
        std::fs::write(&marker, b"").map_err(io("write", &marker))
    }

    /// Layer directories no image in `keep` uses, removed; returns how many.
    pub fn prune(&self, keep: &[Digest]) -> Result<(usize, u64)> {
        let layers = self.root.join("layers");
        let mut removed = 0;
        let mut freed = 0;
        for entry in std::fs::read_dir(&layers).map_err(io("read", &layers))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // A layer another process is unpacking right now stays.
            let busy = name
                .strip_prefix("tmp-")
                .and_then(|rest| rest.split('-').next())
                .is_some_and(|pid| Path::new("/proc").join(pid).exists());
            if !busy && !keep.iter().any(|k| k.hex() == name) {
                let cached = std::fs::read_to_string(entry.path().join("size")).ok();
                freed +=
                    cached.and_then(|s| s.trim().parse().ok()).unwrap_or_else(|| tree_size(&entry.path().join("fs")));
                std::fs::remove_dir_all(entry.path()).map_err(io("remove", &entry.path()))?;
                removed += 1;
            }
        }
        Ok((removed, freed))
    }
}

/// Mounts an image read-only at `target` for the host to look at: a
/// read-only bind of its only layer, or an overlay of its layers without
/// an upper directory; nosuid and nodev, so no file of the image is a way
/// to root on the host.
pub fn mount_readonly(layers: &[PathBuf], target: &Path) -> Result<()> {
    match layers {
        [] => Err(SnapshotError::Image("has no layers".into())),
        [one] => {
            nix::mount::mount(Some(one.as_path()), target, None::<&str>, nix::mount::MsFlags::MS_BIND, None::<&str>)
                .map_err(|e| io("bind", target)(e.into()))?;
            use nix::mount::MsFlags as F;
            let flags = F::MS_BIND | F::MS_REMOUNT | F::MS_RDONLY | F::MS_NOSUID | F::MS_NODEV;
            nix::mount::mount(None::<&str>, target, None::<&str>, flags, None::<&str>)
                .map_err(|e| io("remount ro", target)(e.into()))
        }
        many => mount_overlay_impl(many, None, target),
    }
}

/// Mounts an overlay of `layers` (base first) with `upper`/`work` at
/// `target`. Uses the new mount API, adding lower layers one `lowerdir+`
/// at a time, so the page-size limit of mount(2)'s option string does not
/// cap the number of layers.
pub fn mount_overlay(layers: &[PathBuf], upper: &Path, work: &Path, target: &Path) -> Result<()> {
    if layers.is_empty() {
        // An image of no layers (a config alone): its container starts from
        // an empty root, as overlayfs needs one lower directory.
        let empty = work.with_file_name("empty-lower");
        std::fs::create_dir_all(&empty).map_err(io("mkdir", &empty))?;
        return mount_overlay_impl(&[empty], Some((upper, work)), target);
    }
    mount_overlay_impl(layers, Some((upper, work)), target)
}

fn mount_overlay_impl(layers: &[PathBuf], upper: Option<(&Path, &Path)>, target: &Path) -> Result<()> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let cstr = |s: &str| {
        std::ffi::CString::new(s).map_err(|_| io("mount overlay", target)(std::io::ErrorKind::InvalidInput.into()))
    };
    let path_c = |p: &Path| cstr(&p.to_string_lossy());
    // SAFETY: fsopen takes a valid C string; the result is a new fd.
    let fs = unsafe {
        libc::syscall(libc::SYS_fsopen, c"overlay".as_ptr(), 1u32 /* FSOPEN_CLOEXEC */)
    };
    if fs < 0 {
        return Err(io("fsopen overlay for", target)(std::io::Error::last_os_error()));
    }
    // SAFETY: the kernel just returned this descriptor.
    let fs = unsafe { OwnedFd::from_raw_fd(fs as i32) };
    let set = |key: &str, value: &std::ffi::CStr| -> Result<()> {
        let k = cstr(key)?;
        // SAFETY: FSCONFIG_SET_STRING (1) with valid key and value strings.
        let r = unsafe { libc::syscall(libc::SYS_fsconfig, fs.as_raw_fd(), 1u32, k.as_ptr(), value.as_ptr(), 0) };
        if r < 0 {
            return Err(io("overlay option", Path::new(key))(std::io::Error::last_os_error()));
        }
        Ok(())
    };
    // Overlay stacks lowerdir+ entries top-most first.
    for layer in layers.iter().rev() {
        set("lowerdir+", &path_c(layer)?)?;
    }
    if let Some((upper, work)) = upper {
        set("upperdir", &path_c(upper)?)?;
        set("workdir", &path_c(work)?)?;
    }
    // SAFETY: FSCONFIG_CMD_CREATE (6) takes no key or value.
    if unsafe { libc::syscall(libc::SYS_fsconfig, fs.as_raw_fd(), 6u32, 0usize, 0usize, 0) } < 0 {
        return Err(io("create overlay for", target)(std::io::Error::last_os_error()));
    }
    // A container's root keeps set-id files working inside; a read-only
    // view for the host (no upper) gets nosuid and nodev.
    const MOUNT_ATTR_RDONLY_NOSUID_NODEV: u32 = 0x1 | 0x2 | 0x4;
    let attrs = if upper.is_none() { MOUNT_ATTR_RDONLY_NOSUID_NODEV } else { 0 };
    // SAFETY: fsmount on a created context returns a new mount fd.
    let mnt = unsafe {
        libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), 1u32 /* FSMOUNT_CLOEXEC */, attrs)
    };
    if mnt < 0 {
        return Err(io("fsmount overlay for", target)(std::io::Error::last_os_error()));
    }
    // SAFETY: the kernel just returned this descriptor.
    let mnt = unsafe { OwnedFd::from_raw_fd(mnt as i32) };
    let t = path_c(target)?;
    // SAFETY: MOVE_MOUNT_F_EMPTY_PATH (4) moves the detached mount onto target.
    if unsafe { libc::syscall(libc::SYS_move_mount, mnt.as_raw_fd(), c"".as_ptr(), libc::AT_FDCWD, t.as_ptr(), 4u32) }
        < 0
    {
        return Err(io("move overlay to", target)(std::io::Error::last_os_error()));
    }
    Ok(())
}
