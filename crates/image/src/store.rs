//! The content-addressed store: blobs by digest (verified on write, written
//! atomically, shared by every image), tags mapping references to manifests,
//! and garbage collection of what nothing references.
//!
//! Layout under the store root:
//! `blobs/<algo>/<hex>`, `ingest/` (temp files on the same filesystem),
//! `tags.json` (reference → manifest digest), `lock` (flock for writers).

use crate::digest::{Digest, HashingReader};
use crate::manifest::{Index, Manifest, DOCKER_LIST, OCI_INDEX};
use crate::reference::Reference;
use fs2::FileExt;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Filesystem error.
    #[error("{op} {path}: {source}")]
    Io {
        /// Operation.
        op: &'static str,
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Content did not match its descriptor.
    #[error("blob {expected}: {reason}")]
    Verify {
        /// The digest asked for.
        expected: Digest,
        /// What was wrong.
        reason: String,
    },
    /// A blob is not in the store.
    #[error("blob {0} is not in the store")]
    MissingBlob(Digest),
    /// No image matches.
    #[error("no such image: {0}")]
    NoSuchImage(String),
    /// Several images match a short id.
    #[error("image id prefix {0} is ambiguous")]
    Ambiguous(String),
    /// A document is not valid JSON of the expected shape.
    #[error("{what} {digest}: {reason}")]
    Document {
        /// What it should be.
        what: &'static str,
        /// Its digest.
        digest: Digest,
        /// Parser message.
        reason: String,
    },
}

type Result<T> = std::result::Result<T, StoreError>;

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |source| StoreError::Io { op, path: path.to_path_buf(), source }
}

/// The store at a root directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// An exclusive hold on the store's tags and garbage collection.
pub struct StoreLock {
    _file: File,
}

/// No ingest running and the store lock held (see [`Store::exclusive`]).
pub struct Exclusive {
    _ingest: File,
    lock: StoreLock,
}

impl Exclusive {
    /// The store lock it holds.
    pub fn lock(&self) -> &StoreLock {
        &self.lock
    }
}

/// A shared hold that keeps gc away from blobs not yet tagged.
pub struct IngestLease {
    _file: File,
}

impl Store {
    /// Opens (creating if needed) the store at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store> {
        let root = root.into();
        for d in ["blobs/sha256", "blobs/sha512", "ingest"] {
            let p = root.join(d);
            std::fs::create_dir_all(&p).map_err(io("mkdir", &p))?;
        }
        crate::private_dir(&root).map_err(io("chmod 0700", &root))?;
        Ok(Store { root })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Takes the store lock (tags and gc; blobs need none: they are
    /// written atomically under their own names).
    pub fn lock(&self) -> Result<StoreLock> {
        let path = self.root.join("lock");
        let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(io("open", &path))?;
        file.lock_exclusive().map_err(io("lock", &path))?;
        Ok(StoreLock { _file: file })
    }

    /// Where a blob lives.
    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.root.join("blobs").join(d.algorithm().name()).join(d.hex())
    }

    /// Whether a blob is present.
    pub fn has_blob(&self, d: &Digest) -> bool {
        self.blob_path(d).exists()
    }

    /// Reads a whole blob (for small JSON documents).
    pub fn read_blob(&self, d: &Digest) -> Result<Vec<u8>> {
        let p = self.blob_path(d);
        match std::fs::read(&p) {
            Ok(v) => Ok(v),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::MissingBlob(d.clone())),
            Err(e) => Err(io("read", &p)(e)),
        }
    }

    /// Opens a blob for streaming.
    pub fn open_blob(&self, d: &Digest) -> Result<File> {
        let p = self.blob_path(d);
        File::open(&p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                StoreError::MissingBlob(d.clone())
            } else {
                io("open", &p)(e)
            }
        })
    }

    /// Streams `content` into the store, verifying it against `expected`
    /// (digest and, if given, size). Nothing is visible under the digest
    /// unless the whole content matched; an existing blob is kept.
    pub fn put_blob(&self, content: impl Read, expected: &Digest, size: Option<u64>) -> Result<Digest> {
        let tmp = tempfile_in(&self.root.join("ingest"))?;
        let (file, tmp_path) = tmp;
        let mut reader = HashingReader::new(content, expected.algorithm());
        let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
        let copied = std::io::copy(&mut reader, &mut writer);
        let result = copied.map_err(io("write", &tmp_path)).and_then(|_| {
            let file = writer.into_inner().map_err(|e| io("write", &tmp_path)(e.into_error()))?;
            let (digest, count) = reader.finish();
            if &digest != expected {
                return Err(StoreError::Verify {
                    expected: expected.clone(),
                    reason: format!("content hashes to {digest}"),
                });
            }
            if let Some(size) = size.filter(|s| *s != count) {
                return Err(StoreError::Verify {
                    expected: expected.clone(),
                    reason: format!("{count} bytes, descriptor says {size}"),
                });
            }
            // Durable before it becomes visible: a crash must not leave a
            // half-written blob under a valid name.
            file.sync_all().map_err(io("fsync", &tmp_path))?;
            let dest = self.blob_path(expected);
            std::fs::rename(&tmp_path, &dest).map_err(io("rename", &dest))?;
            Ok(digest)
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp_path);
        }
        result
    }

    /// Streams content of unknown digest into the store (SHA-256), for
    /// formats that name blobs by path; returns its digest.
    pub fn ingest_unknown(&self, content: impl Read) -> Result<Digest> {
        let (file, tmp_path) = tempfile_in(&self.root.join("ingest"))?;
        let mut reader = HashingReader::new(content, crate::digest::Algorithm::Sha256);
        let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
        let result = std::io::copy(&mut reader, &mut writer).map_err(io("write", &tmp_path)).and_then(|_| {
            let file = writer.into_inner().map_err(|e| io("write", &tmp_path)(e.into_error()))?;
            file.sync_all().map_err(io("fsync", &tmp_path))?;
            let (digest, _) = reader.finish();
            let dest = self.blob_path(&digest);
            std::fs::rename(&tmp_path, &dest).map_err(io("rename", &dest))?;
            Ok(digest)
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp_path);
        }
        result
    }

    /// Stores bytes under their SHA-256.
    pub fn put_bytes(&self, data: &[u8]) -> Result<Digest> {
        let d = Digest::sha256(data);
        if !self.has_blob(&d) {
            self.put_blob(data, &d, Some(data.len() as u64))?;
        }
        Ok(d)
    }

    fn tags_path(&self) -> PathBuf {
        self.root.join("tags.json")
    }

    /// All tags: reference → manifest (or index) digest.
    pub fn tags(&self) -> Result<BTreeMap<String, Digest>> {
        let p = self.tags_path();
        match std::fs::read(&p) {
            Ok(data) => serde_json::from_slice(&data).map_err(|e| io("parse", &p)(std::io::Error::other(e))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(io("read", &p)(e)),
        }
    }

    fn write_tags(&self, tags: &BTreeMap<String, Digest>, _lock: &StoreLock) -> Result<()> {
        let p = self.tags_path();
        let (mut f, tmp) = tempfile_in(&self.root.join("ingest"))?;
        f.write_all(&serde_json::to_vec_pretty(tags).unwrap_or_default()).map_err(io("write", &tmp))?;
        f.sync_all().map_err(io("fsync", &tmp))?;
        std::fs::rename(&tmp, &p).map_err(io("rename", &p))
    }

    /// Points `reference` at a manifest already in the store.
    pub fn tag(&self, reference: &Reference, manifest: &Digest, lock: &StoreLock) -> Result<()> {
        if !self.has_blob(manifest) {
            return Err(StoreError::MissingBlob(manifest.clone()));
        }
        let mut tags = self.tags()?;
        tags.insert(reference.to_string(), manifest.clone());
        self.write_tags(&tags, lock)
    }

    /// Removes a tag; returns the manifest it pointed at.
    pub fn untag(&self, reference: &str, lock: &StoreLock) -> Result<Option<Digest>> {
        let mut tags = self.tags()?;
        let old = tags.remove(reference);
        if old.is_some() {
            self.write_tags(&tags, lock)?;
        }
        Ok(old)
    }

    fn kept_path(&self) -> PathBuf {
        self.root.join("kept.json")
    }

    /// Manifests kept without a name: images a container still uses after
    /// their last tag went (docker's dangling `<none>` images).
    pub fn kept(&self) -> Result<BTreeSet<Digest>> {
        let p = self.kept_path();
        match std::fs::read(&p) {
            Ok(data) => serde_json::from_slice(&data).map_err(|e| io("parse", &p)(std::io::Error::other(e))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
            Err(e) => Err(io("read", &p)(e)),
        }
    }

    /// Replaces the set of kept manifests.
    pub fn set_kept(&self, kept: &BTreeSet<Digest>, _lock: &StoreLock) -> Result<()> {
        let p = self.kept_path();
        let (mut f, tmp) = tempfile_in(&self.root.join("ingest"))?;
        f.write_all(&serde_json::to_vec_pretty(kept).unwrap_or_default()).map_err(io("write", &tmp))?;
        f.sync_all().map_err(io("fsync", &tmp))?;
        std::fs::rename(&tmp, &p).map_err(io("rename", &p))
    }

    /// Parses a manifest blob.
    pub fn manifest(&self, d: &Digest) -> Result<Manifest> {
        let data = self.read_blob(d)?;
        serde_json::from_slice(&data).map_err(|e| StoreError::Document {
            what: "manifest",
            digest: d.clone(),
            reason: e.to_string(),
        })
    }

    /// Parses an index blob.
    pub fn index(&self, d: &Digest) -> Result<Index> {
        let data = self.read_blob(d)?;
        serde_json::from_slice(&data).map_err(|e| StoreError::Document {
            what: "index",
            digest: d.clone(),
            reason: e.to_string(),
        })
    }

    /// Whether a blob is an index (manifest list) rather than a manifest.
    pub fn is_index(&self, d: &Digest) -> Result<bool> {
        let data = self.read_blob(d)?;
        let v: serde_json::Value = serde_json::from_slice(&data).map_err(|e| StoreError::Document {
            what: "manifest",
            digest: d.clone(),
            reason: e.to_string(),
        })?;
        let mt = v.get("mediaType").and_then(|m| m.as_str()).unwrap_or("");
        Ok(mt == OCI_INDEX || mt == DOCKER_LIST || (mt.is_empty() && v.get("manifests").is_some()))
    }

    /// Every blob reachable from the tags and the kept manifests.
    pub fn referenced(&self) -> Result<BTreeSet<Digest>> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<Digest> = self.tags()?.into_values().chain(self.kept()?).collect();
        while let Some(d) = todo.pop() {
            if !seen.insert(d.clone()) || !self.has_blob(&d) {
                continue;
            }
            if self.is_index(&d)? {
                todo.extend(self.index(&d)?.manifests.into_iter().map(|m| m.digest));
            } else {
                let m = self.manifest(&d)?;
                seen.insert(m.config.digest);
                seen.extend(m.layers.into_iter().map(|l| l.digest));
            }
        }
        Ok(seen)
    }

    /// Taken (shared) by whatever writes blobs it will tag afterwards (a
    /// pull, a load, a build) until the tag is written, so that gc cannot
    /// collect them in between. Always take it before [`Store::lock`].
    pub fn ingest_lease(&self) -> Result<IngestLease> {
        let path = self.root.join("ingest.lock");
        let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(io("open", &path))?;
        FileExt::lock_shared(&file).map_err(io("lock", &path))?;
        Ok(IngestLease { _file: file })
    }

    /// Deletes every blob no tag reaches, and stale ingest files; returns
    /// the removed digests and the bytes freed. Waits for running ingests
    /// (their leases) first, then takes the store lock itself: the caller
    /// must hold neither.
    pub fn gc(&self) -> Result<(Vec<Digest>, u64)> {
        let ex = self.exclusive()?;
        self.gc_locked(&ex)
    }

    /// Waits for running ingests to end and keeps new ones out, then takes
    /// the store lock: what gc and layer pruning run under.
    pub fn exclusive(&self) -> Result<Exclusive> {
        let path = self.root.join("ingest.lock");
        let ingest = File::options().create(true).truncate(false).write(true).open(&path).map_err(io("open", &path))?;
        ingest.lock_exclusive().map_err(io("lock", &path))?;
        let lock = self.lock()?;
        Ok(Exclusive { _ingest: ingest, lock })
    }

    /// [`Store::gc`] under a hold the caller already has.
    pub fn gc_locked(&self, _ex: &Exclusive) -> Result<(Vec<Digest>, u64)> {
        let keep = self.referenced()?;
        let mut removed = Vec::new();
        let mut freed = 0;
        for algo in ["sha256", "sha512"] {
            let dir = self.root.join("blobs").join(algo);
            for entry in std::fs::read_dir(&dir).map_err(io("read", &dir))?.flatten() {
                let name = format!("{algo}:{}", entry.file_name().to_string_lossy());
                let Ok(d) = name.parse::<Digest>() else { continue };
                if !keep.contains(&d) {
                    freed += entry.metadata().map(|m| m.len()).unwrap_or(0);
                    std::fs::remove_file(entry.path()).map_err(io("remove", &entry.path()))?;
                    removed.push(d);
                }
            }
        }
        let ingest = self.root.join("ingest");
        for entry in std::fs::read_dir(&ingest).map_err(io("read", &ingest))?.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
        Ok((removed, freed))
    }
}

/// A new temp file (O_EXCL) in `dir`.
fn tempfile_in(dir: &Path) -> Result<(File, PathBuf)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    for _ in 0..100 {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let p = dir.join(format!("{}-{nanos}-{n}", std::process::id()));
        match File::options().write(true).create_new(true).open(&p) {
            Ok(f) => return Ok((f, p)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io("create", &p)(e)),
        }
    }
    Err(io("create", dir)(std::io::Error::other("no free temporary name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_dedups_and_collects() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let d = store.put_bytes(b"hello").unwrap();
        assert_eq!(store.read_blob(&d).unwrap(), b"hello");
        // Wrong content or size: an error, nothing visible, nothing left in ingest.
        let other = Digest::sha256(b"other");
        assert!(store.put_blob(&b"hello"[..], &other, None).unwrap_err().to_string().contains("hashes to"));
        assert!(!store.has_blob(&other));
        assert!(store.put_blob(&b"hello"[..], &d, Some(4)).unwrap_err().to_string().contains("5 bytes"));
        assert_eq!(std::fs::read_dir(dir.path().join("ingest")).unwrap().count(), 0);
        // gc removes what no tag reaches.
        let (removed, freed) = store.gc().unwrap();
        assert_eq!(removed, vec![d.clone()]);
        assert_eq!(freed, 5);
        assert!(!store.has_blob(&d));
    }

    #[test]
    fn gc_waits_for_an_ingest_to_tag_its_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let lease = store.ingest_lease().unwrap();
        let manifest = br#"{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0},"layers":[]}"#;
        let d = store.put_bytes(manifest).unwrap();
        let gc_store = store.clone();
        let gc = std::thread::spawn(move || gc_store.gc().unwrap());
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!gc.is_finished(), "gc ran while an ingest held its lease");
        let lock = store.lock().unwrap();
        store.tag(&"localhost/leased:1".parse().unwrap(), &d, &lock).unwrap();
        drop(lock);
        drop(lease);
        let (removed, _) = gc.join().unwrap();
        assert!(!removed.contains(&d), "gc took a blob the ingest tagged");
        assert!(store.has_blob(&d));
    }
}
