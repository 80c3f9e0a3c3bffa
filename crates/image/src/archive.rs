//! The docker-archive format (`docker save` / `docker load`): a tar with
//! `manifest.json` (`[{Config, RepoTags, Layers}]`), the config, and the
//! layers as uncompressed tars (older docker: `<id>/layer.tar`; newer: an
//! OCI layout inside, `blobs/sha256/<hex>`). Both are read; Hull writes
//! the classic shape every docker version loads.

use crate::digest::Digest;
use crate::manifest::{Descriptor, ImageConfig, Manifest, DOCKER_CONFIG, DOCKER_MANIFEST, OCI_LAYER_TAR};
use crate::reference::Reference;
use crate::store::{Store, StoreError};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A docker archive could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The archive is malformed.
    #[error("{archive}: {reason}")]
    Invalid {
        /// The archive file.
        archive: PathBuf,
        /// Why.
        reason: String,
    },
    /// The store failed.
    #[error("{archive}: {source}")]
    Store {
        /// The archive file.
        archive: PathBuf,
        /// Cause.
        source: StoreError,
    },
}

type Result<T> = std::result::Result<T, ArchiveError>;

#[derive(serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Loads every image of a docker archive; returns (manifest digest, tags).
/// Blobs go in before any tag, and each is verified on the way.
pub fn load(store: &Store, path: &Path) -> Result<Vec<(Digest, Vec<Reference>)>> {
    let invalid = |reason: String| ArchiveError::Invalid { archive: path.to_path_buf(), reason };
    let store_err = |source| ArchiveError::Store { archive: path.to_path_buf(), source };
    // One pass: small files kept in memory, layers streamed into the store
    // under their (uncompressed) digest.
    let file = std::fs::File::open(path).map_err(|e| invalid(e.to_string()))?;
    let mut small: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut layers: BTreeMap<String, (Digest, u64)> = BTreeMap::new();
    let mut tar = tar::Archive::new(file);
    for entry in tar.entries().map_err(|e| invalid(e.to_string()))? {
        let mut entry = entry.map_err(|e| invalid(e.to_string()))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name =
            entry.path().map_err(|e| invalid(e.to_string()))?.to_string_lossy().trim_start_matches("./").to_string();
        let size = entry.size();
        if name.ends_with(".json")
            || name == "repositories"
            || name.ends_with("/VERSION")
            || size < 4096 && !name.ends_with(".tar")
        {
            let mut data = Vec::new();
            entry.read_to_end(&mut data).map_err(|e| invalid(format!("{name}: {e}")))?;
            small.insert(name, data);
        } else {
            // The name does not tell the digest for the classic layout: hash while storing.
            let tmp_digest = store.ingest_unknown(&mut entry).map_err(store_err)?;
            layers.insert(name, (tmp_digest, size));
        }
    }
    let manifest_json =
        small.get("manifest.json").ok_or_else(|| invalid("no manifest.json (not a docker archive)".into()))?;
    let entries: Vec<Entry> =
        serde_json::from_slice(manifest_json).map_err(|e| invalid(format!("manifest.json: {e}")))?;
    let mut out = Vec::new();
    for e in entries {
        let config_bytes = match (small.get(&e.config), layers.get(&e.config)) {
            (Some(b), _) => b.clone(),
            (None, Some((d, _))) => store.read_blob(d).map_err(store_err)?,
            (None, None) => return Err(invalid(format!("{} is missing", e.config))),
        };
        let config_bytes = &config_bytes;
        let config: ImageConfig =
            serde_json::from_slice(config_bytes).map_err(|err| invalid(format!("{}: {err}", e.config)))?;
        let config_digest = store.put_bytes(config_bytes).map_err(store_err)?;
        if e.layers.len() != config.rootfs.diff_ids.len() {
            return Err(invalid(format!(
                "{} lists {} layers, its config {}",
                e.config,
                e.layers.len(),
                config.rootfs.diff_ids.len()
            )));
        }
        let mut descs = Vec::new();
        for (layer, diff_id) in e.layers.iter().zip(&config.rootfs.diff_ids) {
            let (digest, size) = match (layers.get(layer), small.get(layer)) {
                (Some((d, s)), _) => (d.clone(), *s),
                (None, Some(bytes)) => (store.put_bytes(bytes).map_err(store_err)?, bytes.len() as u64),
                (None, None) => return Err(invalid(format!("{layer} is missing"))),
            };
            let (digest, size) = (&digest, &size);
            if digest != diff_id {
                return Err(invalid(format!("{layer} hashes to {digest}, the config says {diff_id}")));
            }
            descs.push(Descriptor {
                media_type: OCI_LAYER_TAR.into(),
                digest: digest.clone(),
                size: *size,
                platform: None,
                annotations: None,
            });
        }
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(DOCKER_MANIFEST.into()),
            config: Descriptor {
                media_type: DOCKER_CONFIG.into(),
                digest: config_digest,
                size: config_bytes.len() as u64,
                platform: None,
                annotations: None,
            },
            layers: descs,
            annotations: None,
        };
        let mb = serde_json::to_vec(&manifest).unwrap_or_default();
        let md = store.put_bytes(&mb).map_err(store_err)?;
        let tags = e.repo_tags.unwrap_or_default().iter().filter_map(|t| t.parse::<Reference>().ok()).collect();
        out.push((md, tags));
    }
    Ok(out)
}

/// Writes images (by manifest) as one docker archive.
pub fn save(store: &Store, images: &[(Manifest, Vec<Reference>)], path: &Path) -> Result<()> {
    let invalid = |reason: String| ArchiveError::Invalid { archive: path.to_path_buf(), reason };
    let store_err = |source| ArchiveError::Store { archive: path.to_path_buf(), source };
    let tmp = path.with_extension("tmp");
    let file = std::fs::File::create(&tmp).map_err(|e| invalid(e.to_string()))?;
    let mut tar = tar::Builder::new(file);
    let mut entries = Vec::new();
    let mut written = std::collections::BTreeSet::new();
    let add = |tar: &mut tar::Builder<std::fs::File>, name: &str, size: u64, data: &mut dyn Read| -> Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        tar.append_data(&mut h, name, data).map_err(|e| invalid(e.to_string()))
    };
    for (m, refs) in images {
        let config_name = format!("{}.json", m.config.digest.hex());
        let config = store.read_blob(&m.config.digest).map_err(store_err)?;
        if written.insert(config_name.clone()) {
            add(&mut tar, &config_name, config.len() as u64, &mut &config[..])?;
        }
        let diff_ids = serde_json::from_slice::<ImageConfig>(&config)
            .map(|c| c.rootfs.diff_ids)
            .map_err(|e| invalid(format!("config {}: {e}", m.config.digest)))?;
        let mut layer_names = Vec::new();
        for (l, diff_id) in m.layers.iter().zip(&diff_ids) {
            // Classic archives hold uncompressed layers named by their diff id.
            let name = format!("{}/layer.tar", diff_id.hex());
            if written.insert(name.clone()) {
                let compression = crate::manifest::layer_compression(&l.media_type)
                    .ok_or_else(|| invalid(format!("layer {}: unknown media type", l.digest)))?;
                let blob = store.open_blob(&l.digest).map_err(store_err)?;
                let mut data = Vec::new();
                let mut reader: Box<dyn Read> = match compression {
                    crate::manifest::Compression::None => Box::new(blob),
                    crate::manifest::Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(blob)),
                    crate::manifest::Compression::Zstd => {
                        Box::new(zstd::stream::read::Decoder::new(blob).map_err(|e| invalid(e.to_string()))?)
                    }
                };
                reader.read_to_end(&mut data).map_err(|e| invalid(format!("layer {}: {e}", l.digest)))?;
                add(&mut tar, &name, data.len() as u64, &mut &data[..])?;
            }
            layer_names.push(name);
        }
        let repo_tags: Vec<String> =
            refs.iter().map(|r| format!("{}:{}", r.familiar_name(), r.tag.clone().unwrap_or_default())).collect();
        entries.push(Entry { config: config_name, repo_tags: Some(repo_tags), layers: layer_names });
    }
    let mj = serde_json::to_vec(&entries).unwrap_or_default();
    add(&mut tar, "manifest.json", mj.len() as u64, &mut &mj[..])?;
    tar.into_inner().map_err(|e| invalid(e.to_string()))?.sync_all().map_err(|e| invalid(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| invalid(e.to_string()))
}
