//! OCI image layouts (`oci:DIR`, the format skopeo and umoci read and
//! write): import into the store, export from it.

use crate::digest::Digest;
use crate::manifest::{Descriptor, Index, OCI_INDEX};
use crate::reference::Reference;
use crate::store::{Store, StoreError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The annotation naming a manifest in a layout's index.json.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// A layout could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// Store error (a blob failed verification, ...).
    #[error("{dir}: {source}")]
    Store {
        /// Layout directory.
        dir: PathBuf,
        /// Cause.
        source: StoreError,
    },
    /// The layout is malformed or lacks what was asked for.
    #[error("{dir}: {reason}")]
    Invalid {
        /// Layout directory.
        dir: PathBuf,
        /// Why.
        reason: String,
    },
}

type Result<T> = std::result::Result<T, LayoutError>;

fn invalid(dir: &Path, reason: impl Into<String>) -> LayoutError {
    LayoutError::Invalid { dir: dir.to_path_buf(), reason: reason.into() }
}

fn blob_path(dir: &Path, d: &Digest) -> PathBuf {
    dir.join("blobs").join(d.algorithm().name()).join(d.hex())
}

/// Imports the manifest named `name` (or the only one) from the layout at
/// `dir`, verifying every blob, and returns its descriptor. Blobs go in
/// before the caller tags anything, so a failed import leaves at most
/// unreferenced blobs for gc, never a half image.
pub fn import(store: &Store, dir: &Path, name: Option<&str>) -> Result<Descriptor> {
    let index_path = dir.join("index.json");
    let data = std::fs::read(&index_path).map_err(|e| invalid(dir, format!("index.json: {e}")))?;
    let index: Index = serde_json::from_slice(&data).map_err(|e| invalid(dir, format!("index.json: {e}")))?;
    let pick: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|m| match name {
            Some(n) => m.annotations.as_ref().and_then(|a| a.get(REF_NAME)).is_some_and(|r| r == n),
            None => true,
        })
        .collect();
    let desc = match (pick.as_slice(), name) {
        ([one], _) => (*one).clone(),
        ([], Some(n)) => return Err(invalid(dir, format!("no image named {n:?}"))),
        ([], None) => return Err(invalid(dir, "index.json lists no image")),
        (_, _) => return Err(invalid(dir, "several images; name one (oci:DIR:NAME)")),
    };
    let store_err = |source| LayoutError::Store { dir: dir.to_path_buf(), source };
    let copy = |d: &Descriptor| -> Result<()> {
        if store.has_blob(&d.digest) {
            return Ok(());
        }
        let f = std::fs::File::open(blob_path(dir, &d.digest))
            .map_err(|e| invalid(dir, format!("blob {}: {e}", d.digest)))?;
        store.put_blob(f, &d.digest, Some(d.size)).map(drop).map_err(store_err)
    };
    copy(&desc)?;
    let mut todo = vec![desc.clone()];
    while let Some(d) = todo.pop() {
        if store.is_index(&d.digest).map_err(store_err)? {
            for m in store.index(&d.digest).map_err(store_err)?.manifests {
                copy(&m)?;
                todo.push(m);
            }
        } else {
            let m = store.manifest(&d.digest).map_err(store_err)?;
            copy(&m.config)?;
            for l in &m.layers {
                copy(l)?;
            }
        }
    }
    Ok(desc)
}

/// Writes the image `manifest` (tagged `reference`) as an OCI layout in
/// `dir`, adding to an existing layout.
pub fn export(store: &Store, manifest: &Descriptor, reference: Option<&Reference>, dir: &Path) -> Result<()> {
    let store_err = |source| LayoutError::Store { dir: dir.to_path_buf(), source };
    let mut blobs = vec![manifest.digest.clone()];
    let mut todo = vec![manifest.digest.clone()];
    while let Some(d) = todo.pop() {
        if store.is_index(&d).map_err(store_err)? {
            for m in store.index(&d).map_err(store_err)?.manifests {
                blobs.push(m.digest.clone());
                todo.push(m.digest);
            }
        } else {
            let m = store.manifest(&d).map_err(store_err)?;
            blobs.push(m.config.digest);
            blobs.extend(m.layers.into_iter().map(|l| l.digest));
        }
    }
    for d in &blobs {
        let dest = blob_path(dir, d);
        if dest.exists() {
            continue;
        }
        let parent = dest.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent).map_err(|e| invalid(dir, format!("mkdir {}: {e}", parent.display())))?;
        let tmp = dest.with_extension("tmp");
        std::fs::copy(store.blob_path(d), &tmp).map_err(|e| invalid(dir, format!("write {}: {e}", tmp.display())))?;
        std::fs::rename(&tmp, &dest).map_err(|e| invalid(dir, format!("rename {}: {e}", dest.display())))?;
    }
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)
        .map_err(|e| invalid(dir, format!("write oci-layout: {e}")))?;
    let index_path = dir.join("index.json");
    let mut index: Index =
        std::fs::read(&index_path).ok().and_then(|d| serde_json::from_slice(&d).ok()).unwrap_or(Index {
            schema_version: 2,
            media_type: Some(OCI_INDEX.into()),
            manifests: Vec::new(),
            annotations: None,
        });
    let mut entry = manifest.clone();
    if let Some(r) = reference {
        let tag = r.tag.clone().unwrap_or_else(|| "latest".into());
        let mut ann = BTreeMap::new();
        ann.insert(REF_NAME.to_string(), tag.clone());
        entry.annotations = Some(ann);
        index.manifests.retain(|m| m.annotations.as_ref().and_then(|a| a.get(REF_NAME)) != Some(&tag));
    }
    index.manifests.push(entry);
    let data = serde_json::to_vec(&index).unwrap_or_default();
    let tmp = dir.join("index.json.tmp");
    std::fs::write(&tmp, data).map_err(|e| invalid(dir, format!("write index.json: {e}")))?;
    std::fs::rename(&tmp, &index_path).map_err(|e| invalid(dir, format!("write index.json: {e}")))
}
