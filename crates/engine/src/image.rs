//! The image verbs every front end offers (`tag`, `rmi`, `load`; `pull` is
//! in [`crate::pull`]), on the store, each saying what it did in the event
//! journal (docker's `tag`, `untag`, `delete`, `load`), and refusing to take
//! the last name of an image a container uses unless forced.

use crate::error::{io, EngineError, Result};
use crate::Engine;
use hull_image::images::ImageError;
use std::io::Read;
use std::path::Path;

/// One thing `remove_image` did (docker's `ImageDeleteResponseItem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageDeleted {
    /// A name was removed.
    Untagged(String),
    /// The image itself went (its id).
    Deleted(String),
}

impl Engine {
    /// Gives the image `source` the name `target`; returns it normalised.
    pub fn tag_image(&self, source: &str, target: &str) -> Result<String> {
        let r = self.images.tag(source, target)?.to_string();
        self.emit_image("tag", &r);
        Ok(r)
    }

    /// Removes a name (or, by id, every name) of an image; the image goes
    /// with its last name. The last name of an image a container uses is
    /// refused (409) unless `force`, which keeps the image as `<none>`
    /// until no container uses it and a prune runs.
    pub fn remove_image(&self, name: &str, force: bool) -> Result<Vec<ImageDeleted>> {
        let img = self.images.resolve(name).ok();
        let id = img.as_ref().map(|i| i.id.to_string());
        let unused = self.check_in_use(name, force)?;
        let tags = self.images.remove(name, force)?;
        // By id, and no container uses it: a `<none>` image kept for a
        // build or an earlier container goes as well (docker's rmi ID).
        if let (Some(img), true) = (&img, unused) {
            let by_tag =
                name.parse::<hull_image::reference::Reference>().is_ok_and(|r| Some(&r) == img.reference.as_ref());
            if !by_tag {
                self.images.unkeep(img)?;
            }
        }
        let mut out = Vec::new();
        for t in tags {
            self.emit_image("untag", &t);
            out.push(ImageDeleted::Untagged(t));
        }
        if let Some(id) = id.filter(|id| self.images.resolve(id).is_err()) {
            self.emit_image("delete", &id);
            out.push(ImageDeleted::Deleted(id));
        }
        Ok(out)
    }

    /// Whether the removal may go on; true when no container uses the image.
    fn check_in_use(&self, name: &str, force: bool) -> Result<bool> {
        let Ok(img) = self.images.resolve(name) else { return Ok(true) }; // remove() reports it
        let id = img.id.to_string();
        let users: Vec<String> =
            self.list()?.into_iter().filter(|c| c.config.image_id == id).map(|c| c.short_id().to_string()).collect();
        let tags = self.images.store.tags().map_err(ImageError::from)?;
        let names = tags.values().filter(|d| **d == img.target).count();
        // By one of several tags: the others keep it. By id: every tag goes.
        let by_tag = name.parse::<hull_image::reference::Reference>().is_ok_and(|r| tags.contains_key(&r.to_string()));
        if users.is_empty() {
            return Ok(true);
        }
        if by_tag && names > 1 {
            return Ok(false);
        }
        if force {
            self.images.keep_unnamed(&img)?;
            return Ok(false);
        }
        Err(EngineError::InUse(format!(
            "conflict: unable to remove repository reference \"{name}\" (must force) - container {} is using its referenced image {}",
            users.join(", "),
            &img.id.hex()[..12]
        )))
    }

    /// Loads an image archive (docker-archive or oci-archive; plain, gzip
    /// or zstd) from `input` (docker's `load`, `POST /images/load`); returns
    /// the names given. `tag` names an archive that names nothing (an OCI
    /// archive with a bare tag goes under `localhost/loaded`).
    pub fn load(&self, input: &mut dyn Read, tag: Option<&str>) -> Result<Vec<String>> {
        // Spooled beside the store (same filesystem), removed however we end.
        let spool = tempfile::Builder::new()
            .prefix(".load-")
            .tempdir_in(&self.cfg.root)
            .map_err(io("mkdir", self.cfg.root.join(".load-*").display()))?;
        let tar = spool.path().join("archive.tar");
        plain_tar(input, &tar)?;
        let names = match archive_kind(&tar)? {
            ArchiveKind::Docker => {
                self.images.load_archive(&tar, tag)?.into_iter().map(|r| r.to_string()).collect::<Vec<_>>()
            }
            ArchiveKind::Oci => {
                let dir = spool.path().join("layout");
                let f = std::fs::File::open(&tar).map_err(io("open", tar.display()))?;
                tar::Archive::new(f).unpack(&dir).map_err(|e| bad_archive(&e.to_string()))?;
                let name = single_ref_name(&dir);
                let tag = match (tag, &name) {
                    (Some(t), _) => t.to_string(),
                    // podman writes the full reference; others a bare tag.
                    (None, Some(n)) if n.contains('/') || n.contains(':') => n.clone(),
                    (None, Some(n)) => format!("localhost/loaded:{n}"),
                    (None, None) => {
                        return Err(EngineError::Invalid("the oci-archive names no image: name it with a tag".into()))
                    }
                };
                let img = self.images.load_layout(&dir, name.as_deref(), &tag)?;
                vec![img.reference.map(|r| r.to_string()).unwrap_or(tag)]
            }
        };
        for n in &names {
            self.emit_image("load", n);
        }
        Ok(names)
    }

    /// Loads the image `name` (its `ref.name`; the layout's one image when
    /// `None`) of the OCI layout `dir` as `tag`.
    pub fn load_layout(&self, dir: &Path, name: Option<&str>, tag: &str) -> Result<String> {
        let img = self.images.load_layout(dir, name, tag)?;
        let r = img.reference.map(|r| r.to_string()).unwrap_or_else(|| tag.to_string());
        self.emit_image("load", &r);
        Ok(r)
    }

    /// The images `names` as one docker-archive written to `out` (spooled
    /// beside the store first: a bad name fails before any byte is out).
    pub fn save(&self, names: &[String], out: &mut dyn std::io::Write) -> Result<()> {
        let spool = tempfile::Builder::new()
            .prefix(".save-")
            .tempdir_in(&self.cfg.root)
            .map_err(io("mkdir", self.cfg.root.join(".save-*").display()))?;
        let tar = spool.path().join("archive.tar");
        self.images.save_archive(names, &tar)?;
        let mut f = std::fs::File::open(&tar).map_err(io("open", tar.display()))?;
        std::io::copy(&mut f, out).map_err(io("write", "the archive"))?;
        for n in names {
            self.emit_image("save", n);
        }
        Ok(())
    }

    /// Removes what no image and no container needs: untagged images no
    /// container uses, unreferenced blobs, unpacked layers; the bytes freed.
    pub fn prune_images(&self) -> Result<u64> {
        let in_use = self.list()?.into_iter().map(|c| c.config.image_id).collect();
        let (_blobs, bytes, _layers) = self.images.prune(&in_use)?;
        self.emit("image", "prune", "", [("reclaimed".to_string(), bytes.to_string())].into());
        Ok(bytes)
    }

    /// An image's history, newest first, as `docker history` lists it:
    /// each step with the size of the layer it made (0 for config-only
    /// steps); the newest row carries the image's id and tags.
    pub fn history(&self, name: &str) -> Result<Vec<HistoryEntry>> {
        let img = self.images.resolve(name)?;
        let chains = self.images.chain_ids(&img);
        let sizes: Vec<u64> = chains.iter().map(|c| self.images.snapshots.unpacked_size(c).unwrap_or(0)).collect();
        let tags: Vec<String> = self
            .images
            .list()?
            .into_iter()
            .filter(|s| s.id == img.id.to_string() && s.repository != "<none>")
            .map(|s| format!("{}:{}", s.repository, s.tag))
            .collect();
        let history = img.config.history.clone().unwrap_or_default();
        let row = |created: i64, created_by: &str, size: u64, comment: &str| HistoryEntry {
            id: "<missing>".into(),
            created,
            created_by: created_by.to_string(),
            size,
            comment: comment.to_string(),
            tags: None,
        };
        let mut rows: Vec<HistoryEntry> = Vec::new();
        if history.is_empty() {
            rows.extend(sizes.iter().map(|s| row(0, "", *s, "")));
        }
        let mut layer = 0;
        for h in &history {
            let text = |k: &str| h.get(k).and_then(|c| c.as_str()).unwrap_or("").to_string();
            let size = if h.get("empty_layer").and_then(|e| e.as_bool()).unwrap_or(false) {
                0
            } else {
                layer += 1;
                sizes.get(layer - 1).copied().unwrap_or(0)
            };
            let created = crate::time::rfc3339_secs(&text("created")).unwrap_or(0);
            rows.push(row(created, &text("created_by"), size, &text("comment")));
        }
        rows.reverse();
        if let Some(first) = rows.first_mut() {
            first.id = img.id.to_string();
            first.tags = Some(tags);
        }
        Ok(rows)
    }

    fn emit_image(&self, action: &str, name: &str) {
        self.emit("image", action, name, [("name".to_string(), name.to_string())].into());
    }
}

fn bad_archive(why: &str) -> EngineError {
    EngineError::Invalid(format!("not an image archive: {why}"))
}

enum ArchiveKind {
    Docker,
    Oci,
}

/// `input` as a plain tar at `out`, decompressed if it is gzip or zstd.
fn plain_tar(input: &mut dyn Read, out: &Path) -> Result<()> {
    let mut magic = [0u8; 6];
    let mut n = 0;
    while n < magic.len() {
        match input.read(&mut magic[n..]).map_err(io("read", "the archive"))? {
            0 => break,
            k => n += k,
        }
    }
    if n == 0 {
        return Err(bad_archive("the input is empty"));
    }
    let whole = std::io::Cursor::new(magic[..n].to_vec()).chain(input);
    let mut reader: Box<dyn Read> = match &magic[..n] {
        [0x1f, 0x8b, ..] => Box::new(flate2::read::MultiGzDecoder::new(whole)),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Box::new(zstd::stream::read::Decoder::new(whole).map_err(io("read", "zstd"))?),
        [0xfd, b'7', b'z', b'X', b'Z', 0] => {
            return Err(EngineError::Invalid("the archive is xz-compressed: decompress it first (xz -d)".into()))
        }
        _ => Box::new(whole),
    };
    let mut f = std::fs::File::create(out).map_err(io("create", out.display()))?;
    std::io::copy(&mut reader, &mut f).map_err(|e| bad_archive(&format!("read: {e}")))?;
    Ok(())
}

/// docker-archive (manifest.json) or oci-archive (oci-layout, index.json).
fn archive_kind(tar: &Path) -> Result<ArchiveKind> {
    let f = std::fs::File::open(tar).map_err(io("open", tar.display()))?;
    let mut archive = tar::Archive::new(f);
    let (mut docker, mut oci) = (false, false);
    for entry in archive.entries().map_err(|e| bad_archive(&e.to_string()))? {
        let entry = entry.map_err(|e| bad_archive(&e.to_string()))?;
        let path = entry.path().map_err(|e| bad_archive(&e.to_string()))?;
        let name = path.to_string_lossy().trim_start_matches("./").to_string();
        docker |= name == "manifest.json";
        oci |= name == "oci-layout";
    }
    match (docker, oci) {
        (true, _) => Ok(ArchiveKind::Docker),
        (false, true) => Ok(ArchiveKind::Oci),
        _ => Err(bad_archive("no manifest.json (docker-archive) or oci-layout (oci-archive) in it")),
    }
}

/// The ref.name of the layout's one image, if it has exactly one.
fn single_ref_name(dir: &Path) -> Option<String> {
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).ok()?).ok()?;
    let manifests = index["manifests"].as_array()?;
    let [one] = manifests.as_slice() else { return None };
    one["annotations"]["org.opencontainers.image.ref.name"].as_str().map(str::to_string)
}

/// One step of an image's history (docker's `HistoryResponseItem`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryEntry {
    /// The image's id on the newest row, `<missing>` on the others.
    pub id: String,
    /// When (Unix seconds).
    pub created: i64,
    /// The instruction.
    pub created_by: String,
    /// The size of the layer it made.
    pub size: u64,
    /// Its comment.
    pub comment: String,
    /// The image's tags (newest row only).
    pub tags: Option<Vec<String>>,
}
