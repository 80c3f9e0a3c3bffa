//! The image API the CLI (and later the engine) uses: resolve, list, tag,
//! remove, prune, load/save OCI layouts, build the default image, and
//! prepare an image's layers for a container.

use crate::digest::Digest;
use crate::layout::{self, LayoutError};
use crate::manifest::{Descriptor, ImageConfig, Manifest};
use crate::reference::{Reference, ReferenceError};
use crate::snapshot::{SnapshotError, Snapshots};
use crate::store::{Store, StoreError};
use std::path::{Path, PathBuf};

/// An image operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Bad reference.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Snapshot failure.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// Layout failure.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// Default image build failure.
    #[error(transparent)]
    Build(#[from] crate::busybox::BuildError),
    /// The request cannot be done as asked.
    #[error("{0}")]
    Refused(String),
}

type Result<T> = std::result::Result<T, ImageError>;

/// A resolved image.
#[derive(Debug, Clone)]
pub struct Image {
    /// The tag it was found by, if any.
    pub reference: Option<Reference>,
    /// What the tag points at (a manifest, or an index).
    pub target: Digest,
    /// The platform manifest's descriptor.
    pub manifest_digest: Digest,
    /// The manifest.
    pub manifest: Manifest,
    /// The image id: its config's digest.
    pub id: Digest,
    /// The config.
    pub config: ImageConfig,
}

/// What [`Images::commit`] makes an image of.
#[derive(Debug)]
pub struct CommitRequest<'a> {
    /// The image below (None: from scratch).
    pub parent: Option<&'a Image>,
    /// The new layer (None: the config alone changes).
    pub layer: Option<&'a crate::diff::WrittenLayer>,
    /// The new image's execution config.
    pub config: crate::manifest::ExecConfig,
    /// Its author.
    pub author: Option<String>,
    /// What made it (history's `created_by`).
    pub created_by: String,
    /// A comment (history's `comment`).
    pub comment: Option<String>,
    /// When (RFC 3339).
    pub created: String,
    /// The name it gets, if any.
    pub tag: Option<Reference>,
}

/// The host's architecture in OCI's words.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// One row of `hull images`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    /// Repository (familiar form).
    pub repository: String,
    /// Tag.
    pub tag: String,
    /// Image id.
    pub id: String,
    /// Manifest digest.
    pub digest: String,
    /// Creation time.
    pub created: String,
    /// Sum of the compressed layer sizes.
    pub size: u64,
    /// Sum of the unpacked layer sizes (what docker shows as SIZE), when
    /// every layer is unpacked.
    pub unpacked_size: Option<u64>,
    /// The image's labels.
    pub labels: std::collections::BTreeMap<String, String>,
}

/// The store and snapshots under one root.
#[derive(Debug, Clone)]
pub struct Images {
    /// Blobs and tags.
    pub store: Store,
    /// Unpacked layers.
    pub snapshots: Snapshots,
}

impl Images {
    /// Opens `root/image` and `root/snapshots`.
    pub fn open(root: &Path) -> Result<Images> {
        Ok(Images { store: Store::open(root.join("image"))?, snapshots: Snapshots::open(root.join("snapshots"))? })
    }

    fn load(&self, reference: Option<Reference>, target: Digest) -> Result<Image> {
        let manifest_digest = if self.store.is_index(&target)? {
            let index = self.store.index(&target)?;
            let pick = index
                .manifests
                .iter()
                .filter(|m| self.store.has_blob(&m.digest))
                .find(|m| m.platform.as_ref().is_some_and(|p| p.os == "linux" && p.architecture == "amd64"))
                .or_else(|| index.manifests.iter().find(|m| self.store.has_blob(&m.digest)))
                .ok_or_else(|| ImageError::Refused(format!("index {target} lists no manifest")))?;
            pick.digest.clone()
        } else {
            target.clone()
        };
        let manifest = self.store.manifest(&manifest_digest)?;
        let data = self.store.read_blob(&manifest.config.digest)?;
        let config: ImageConfig = serde_json::from_slice(&data).map_err(|e| StoreError::Document {
            what: "image config",
            digest: manifest.config.digest.clone(),
            reason: e.to_string(),
        })?;
        Ok(Image { reference, target, manifest_digest, id: manifest.config.digest.clone(), manifest, config })
    }

    /// Finds an image by reference (`busybox`, `host/repo:tag`,
    /// `repo@sha256:...`), by id (`sha256:...`) or by a unique id prefix.
    pub fn resolve(&self, name: &str) -> Result<Image> {
        let tags = self.store.tags()?;
        if let Ok(r) = name.parse::<Reference>() {
            if let Some(d) = tags.get(&r.to_string()) {
                return self.load(Some(r), d.clone());
            }
            if let Some(d) = &r.digest {
                if self.store.has_blob(d) {
                    return self.load(Some(r.clone()), d.clone());
                }
            }
        }
        let prefix = name.strip_prefix("sha256:").unwrap_or(name);
        if prefix.len() >= 4 && prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut matches: Vec<Image> = Vec::new();
            for (t, d) in &tags {
                let Ok(r) = t.parse::<Reference>() else { continue };
                let img = self.load(Some(r), d.clone())?;
                if img.id.hex().starts_with(prefix) {
                    matches.push(img);
                }
            }
            for d in self.store.kept()? {
                let img = self.load(None, d)?;
                if img.id.hex().starts_with(prefix) {
                    matches.push(img);
                }
            }
            let distinct: std::collections::BTreeSet<&Digest> = matches.iter().map(|m| &m.id).collect();
            match distinct.len() {
                0 => {}
                1 => return Ok(matches.swap_remove(0)),
                _ => return Err(StoreError::Ambiguous(prefix.to_string()).into()),
            }
        }
        Err(StoreError::NoSuchImage(name.to_string()).into())
    }

    /// Every tagged image, then the kept ones without a name (`<none>`).
    pub fn list(&self) -> Result<Vec<ImageSummary>> {
        let mut out = Vec::new();
        let tags = self.store.tags()?;
        for (t, d) in &tags {
            let r: Reference = t.parse()?;
            let img = self.load(Some(r.clone()), d.clone())?;
            out.push(self.summary(&img, r.familiar_name(), r.tag.clone().unwrap_or_else(|| "<none>".into())));
        }
        for d in self.store.kept()? {
            if !tags.values().any(|t| *t == d) {
                let img = self.load(None, d)?;
                out.push(self.summary(&img, "<none>".into(), "<none>".into()));
            }
        }
        Ok(out)
    }

    fn summary(&self, img: &Image, repository: String, tag: String) -> ImageSummary {
        ImageSummary {
            repository,
            tag,
            id: img.id.to_string(),
            digest: img.target.to_string(),
            created: img.config.created.clone().unwrap_or_default(),
            size: img.manifest.layers.iter().map(|l| l.size).sum(),
            unpacked_size: self.chain_ids(img).iter().map(|c| self.snapshots.unpacked_size(c)).sum(),
            labels: img.config.config.as_ref().and_then(|c| c.labels.clone()).unwrap_or_default(),
        }
    }

    /// The chain ids of an image's layers (the names of their snapshots).
    pub fn chain_ids(&self, img: &Image) -> Vec<Digest> {
        crate::manifest::chain_ids(&img.config.rootfs.diff_ids)
    }

    /// Keeps an image a container still uses when its last tag goes: it
    /// stays as a `<none>` image until no container uses it and a prune
    /// runs, as docker's dangling images do.
    pub fn keep_unnamed(&self, img: &Image) -> Result<()> {
        let lock = self.store.lock()?;
        let mut kept = self.store.kept()?;
        if kept.insert(img.target.clone()) {
            self.store.set_kept(&kept, &lock)?;
        }
        Ok(())
    }

    /// Stops keeping a `<none>` image (one removed by id that no container
    /// uses) and frees what only it held.
    pub fn unkeep(&self, img: &Image) -> Result<()> {
        let lock = self.store.lock()?;
        let mut kept = self.store.kept()?;
        if !kept.remove(&img.target) {
            return Ok(());
        }
        self.store.set_kept(&kept, &lock)?;
        drop(lock);
        let ex = self.store.exclusive()?;
        self.store.gc_locked(&ex)?;
        self.prune_layers_locked(&ex)?;
        Ok(())
    }

    /// Tags `source` as `target`.
    pub fn tag(&self, source: &str, target: &str) -> Result<Reference> {
        let img = self.resolve(source)?;
        let r: Reference = target.parse()?;
        if r.digest.is_some() {
            return Err(ImageError::Refused(format!("{target}: a tag cannot carry a digest")));
        }
        let lock = self.store.lock()?;
        self.store.tag(&r, &img.target, &lock)?;
        Ok(r)
    }

    /// Removes an image by name (that tag only) or by id (all its tags,
    /// only with `force` when there are several); returns the removed tags
    /// and frees blobs nothing references any more.
    pub fn remove(&self, name: &str, force: bool) -> Result<Vec<String>> {
        let img = self.resolve(name)?;
        let lock = self.store.lock()?;
        let by_tag = img.reference.as_ref().is_some_and(|r| {
            let n = name.parse::<Reference>().ok();
            n.as_ref() == Some(r)
        });
        let tags: Vec<String> = if by_tag {
            img.reference.iter().map(|r| r.to_string()).collect()
        } else {
            let mut all = Vec::new();
            for (t, d) in self.store.tags()? {
                if let Ok(i) = self.load(None, d) {
                    if i.id == img.id {
                        all.push(t);
                    }
                }
            }
            if all.len() > 1 && !force {
                return Err(ImageError::Refused(format!(
                    "image {} is tagged {} times ({}); remove a tag by name, or use -f",
                    &img.id.hex()[..12],
                    all.len(),
                    all.join(", ")
                )));
            }
            all
        };
        for t in &tags {
            self.store.untag(t, &lock)?;
        }
        drop(lock);
        // Its blobs and the unpacked layers no remaining image uses go now.
        let ex = self.store.exclusive()?;
        self.store.gc_locked(&ex)?;
        self.prune_layers_locked(&ex)?;
        Ok(tags)
    }

    /// Removes the unpacked layers no tagged or kept image uses; returns
    /// how many and their bytes.
    fn prune_layers_locked(&self, _ex: &crate::store::Exclusive) -> Result<(usize, u64)> {
        let mut keep = Vec::new();
        let named = self.store.tags()?.into_iter().map(|(t, d)| (t.parse().ok(), d));
        for (r, d) in named.chain(self.store.kept()?.into_iter().map(|d| (None, d))) {
            let img = self.load(r, d)?;
            keep.extend(self.chain_ids(&img));
        }
        Ok(self.snapshots.prune(&keep)?)
    }

    /// Removes unreferenced blobs and unused layer snapshots; returns the
    /// number of blobs and bytes freed and layers removed.
    /// Kept `<none>` images whose id is not in `in_use` go first.
    pub fn prune(&self, in_use: &std::collections::BTreeSet<String>) -> Result<(usize, u64, usize)> {
        let ex = self.store.exclusive()?;
        let mut kept = self.store.kept()?;
        let before = kept.len();
        kept.retain(|d| self.load(None, d.clone()).is_ok_and(|img| in_use.contains(&img.id.to_string())));
        if kept.len() != before {
            self.store.set_kept(&kept, ex.lock())?;
        }
        let (blobs, bytes) = self.store.gc_locked(&ex)?;
        let (layers, layer_bytes) = self.prune_layers_locked(&ex)?;
        Ok((blobs.len(), bytes + layer_bytes, layers))
    }

    /// Imports from an OCI layout and tags the image as `as_ref`.
    pub fn load_layout(&self, dir: &Path, name: Option<&str>, as_ref: &str) -> Result<Image> {
        let r: Reference = as_ref.parse()?;
        let _lease = self.store.ingest_lease()?;
        let desc = layout::import(&self.store, dir, name)?;
        let img = self.load(Some(r.clone()), desc.digest.clone())?;
        let lock = self.store.lock()?;
        self.store.tag(&r, &desc.digest, &lock)?;
        Ok(img)
    }

    /// Exports an image as an OCI layout.
    pub fn save_layout(&self, name: &str, dir: &Path) -> Result<()> {
        let img = self.resolve(name)?;
        let data = self.store.read_blob(&img.target)?;
        let media_type = serde_json::from_slice::<serde_json::Value>(&data)
            .ok()
            .and_then(|v| v.get("mediaType").and_then(|m| m.as_str()).map(String::from))
            .unwrap_or_else(|| crate::manifest::OCI_MANIFEST.into());
        let desc = Descriptor {
            media_type,
            digest: img.target.clone(),
            size: data.len() as u64,
            platform: None,
            annotations: None,
        };
        layout::export(&self.store, &desc, img.reference.as_ref(), dir)?;
        Ok(())
    }

    /// Loads a docker archive (`docker save` output); returns the tags set.
    /// `tag` names the image too (an archive of one image only).
    pub fn load_archive(&self, path: &Path, tag: Option<&str>) -> Result<Vec<Reference>> {
        let extra: Option<Reference> = tag.map(str::parse).transpose()?;
        let _lease = self.store.ingest_lease()?;
        let mut loaded = crate::archive::load(&self.store, path).map_err(|e| ImageError::Refused(e.to_string()))?;
        if let Some(r) = extra {
            match loaded.as_mut_slice() {
                [(_, refs)] => refs.push(r),
                many => {
                    return Err(ImageError::Refused(format!(
                        "--tag names one image, and {} holds {}",
                        path.display(),
                        many.len()
                    )))
                }
            }
        }
        let lock = self.store.lock()?;
        let mut tags = Vec::new();
        for (digest, refs) in loaded {
            for r in refs {
                self.store.tag(&r, &digest, &lock)?;
                tags.push(r);
            }
        }
        Ok(tags)
    }

    /// Saves images as one docker archive.
    pub fn save_archive(&self, names: &[String], path: &Path) -> Result<()> {
        let mut images = Vec::new();
        for n in names {
            let img = self.resolve(n)?;
            images.push((img.manifest, img.reference.into_iter().collect()));
        }
        crate::archive::save(&self.store, &images, path).map_err(|e| ImageError::Refused(e.to_string()))
    }

    /// Builds and tags Hull's default busybox image.
    pub fn build_default(&self, busybox: &Path) -> Result<Image> {
        let _lease = self.store.ingest_lease()?;
        let desc = crate::busybox::build(&self.store, busybox)?;
        let r: Reference = crate::busybox::DEFAULT_IMAGE.parse()?;
        let lock = self.store.lock()?;
        self.store.tag(&r, &desc.digest, &lock)?;
        drop(lock);
        self.load(Some(r), desc.digest)
    }

    /// Writes a new image: `parent`'s layers (none: from scratch) and
    /// `layer` on top (none: a step that changes only the config), with
    /// `config` and one more history entry; tags it if asked, else keeps it
    /// as a `<none>` image. The caller holds an ingest lease from before
    /// the layer was written until this returns.
    pub fn commit(&self, req: CommitRequest<'_>) -> Result<Image> {
        let (mut layers, mut diff_ids, mut history, base) = match req.parent {
            Some(p) => (
                p.manifest.layers.clone(),
                p.config.rootfs.diff_ids.clone(),
                p.config.history.clone().unwrap_or_default(),
                p.config.clone(),
            ),
            None => (
                Vec::new(),
                Vec::new(),
                Vec::new(),
                ImageConfig { architecture: host_architecture().into(), os: "linux".into(), ..Default::default() },
            ),
        };
        // History covers every layer below (tools match them one to one):
        // an image that came without enough gets entries for the rest.
        let described =
            history.iter().filter(|h| !h.get("empty_layer").and_then(|e| e.as_bool()).unwrap_or(false)).count();
        if described < layers.len() {
            let missing = layers.len() - described;
            let filler =
                (0..missing).map(|_| serde_json::json!({"created_by": "", "comment": "layer without history"}));
            history = filler.chain(history).collect();
        }
        // One manifest type: docker's layer types are the same bytes as OCI's.
        for l in &mut layers {
            if l.media_type == crate::manifest::DOCKER_LAYER_GZIP {
                l.media_type = crate::manifest::OCI_LAYER_GZIP.into();
            }
        }
        let mut entry = serde_json::json!({"created": req.created, "created_by": req.created_by});
        if let Some(a) = &req.author {
            entry["author"] = a.clone().into();
        }
        if let Some(c) = &req.comment {
            entry["comment"] = c.clone().into();
        }
        match req.layer {
            Some(l) => {
                layers.push(Descriptor {
                    media_type: l.media_type.into(),
                    digest: l.digest.clone(),
                    size: l.size,
                    platform: None,
                    annotations: None,
                });
                diff_ids.push(l.diff_id.clone());
            }
            None => entry["empty_layer"] = true.into(),
        }
        history.push(entry);
        let config = ImageConfig {
            created: Some(req.created.clone()),
            author: req.author.clone().or(base.author.clone()),
            config: Some(req.config),
            rootfs: crate::manifest::RootFs { typ: "layers".into(), diff_ids },
            history: Some(history),
            ..base
        };
        let config_bytes =
            serde_json::to_vec(&config).map_err(|e| ImageError::Refused(format!("image config: {e}")))?;
        let config_digest = self.store.put_bytes(&config_bytes)?;
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(crate::manifest::OCI_MANIFEST.into()),
            config: Descriptor {
                media_type: crate::manifest::OCI_CONFIG.into(),
                digest: config_digest,
                size: config_bytes.len() as u64,
                platform: None,
                annotations: None,
            },
            layers,
            annotations: None,
        };
        let manifest_bytes =
            serde_json::to_vec(&manifest).map_err(|e| ImageError::Refused(format!("manifest: {e}")))?;
        let digest = self.store.put_bytes(&manifest_bytes)?;
        let lock = self.store.lock()?;
        match &req.tag {
            Some(r) => self.store.tag(r, &digest, &lock)?,
            None => {
                let mut kept = self.store.kept()?;
                if kept.insert(digest.clone()) {
                    self.store.set_kept(&kept, &lock)?;
                }
            }
        }
        drop(lock);
        self.load(req.tag, digest)
    }

    /// Unpacks (once) and returns the image's layer directories, base first.
    pub fn layers(&self, img: &Image) -> Result<Vec<PathBuf>> {
        Ok(self.snapshots.prepare(&self.store, &img.manifest, &img.config.rootfs.diff_ids)?)
    }
}
