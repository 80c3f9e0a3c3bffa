//! Disk usage, for `system df` in every front end (the CLI's table, the
//! Docker API's `/system/df`): images with shared layers counted once,
//! containers' writable layers, volumes, each with what uses it.

use crate::error::Result;
use crate::{Container, Engine};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One image's share.
#[derive(Debug, Clone)]
pub struct ImageUsage {
    /// The image id.
    pub id: String,
    /// Its layers' unpacked size.
    pub size: u64,
    /// The part of it other images share.
    pub shared_size: u64,
    /// Containers made from it.
    pub containers: usize,
}

/// A volume's share.
#[derive(Debug, Clone)]
pub struct VolumeUsage {
    /// The volume.
    pub volume: crate::volumes::Volume,
    /// Bytes in it.
    pub size: u64,
    /// Containers that mount it.
    pub ref_count: usize,
}

/// What `system df` reports.
#[derive(Debug, Clone, Default)]
pub struct DiskUsage {
    /// Every unpacked layer once.
    pub layers_size: u64,
    /// Of that, the layers images with containers use.
    pub layers_in_use: u64,
    /// Each image (by id).
    pub images: Vec<ImageUsage>,
    /// Each container with its writable layer's size.
    pub containers: Vec<(Container, u64)>,
    /// Each volume.
    pub volumes: Vec<VolumeUsage>,
}

/// Bytes in the files under `p` (not following links).
pub fn dir_size(p: &Path) -> u64 {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::read_dir(p).map_or(0, |rd| rd.flatten().map(|e| dir_size(&e.path())).sum()),
        Ok(m) => m.len(),
        Err(_) => 0,
    }
}

impl Engine {
    /// The store's disk usage.
    pub fn disk_usage(&self) -> Result<DiskUsage> {
        let images = self.images();
        let containers = self.list()?;
        let mut users: BTreeMap<&str, usize> = BTreeMap::new();
        for c in &containers {
            *users.entry(c.config.image_id.as_str()).or_default() += 1;
        }
        let mut seen = BTreeSet::new();
        let mut layers: BTreeMap<_, (u64, usize)> = BTreeMap::new();
        let mut per_image = Vec::new();
        for summary in images.list()? {
            if !seen.insert(summary.id.clone()) {
                continue;
            }
            let Ok(img) = images.resolve(&summary.id) else { continue };
            let chains = images.chain_ids(&img);
            for chain in &chains {
                let size = images.snapshots.unpacked_size(chain).unwrap_or(0);
                layers.entry(chain.clone()).or_insert((size, 0)).1 += 1;
            }
            per_image.push((summary.id.clone(), chains));
        }
        let mut out = DiskUsage { layers_size: layers.values().map(|(s, _)| s).sum(), ..Default::default() };
        let mut used = BTreeSet::new();
        for (id, chains) in per_image {
            let n = users.get(id.as_str()).copied().unwrap_or(0);
            let (mut size, mut shared) = (0, 0);
            for c in &chains {
                let (s, count) = layers.get(c).copied().unwrap_or((0, 0));
                size += s;
                if count > 1 {
                    shared += s;
                }
                if n > 0 {
                    used.insert(c.clone());
                }
            }
            out.images.push(ImageUsage { id, size, shared_size: shared, containers: n });
        }
        out.layers_in_use = used.iter().filter_map(|c| layers.get(c)).map(|(s, _)| s).sum();
        for c in containers {
            let rw = dir_size(&self.container_dir(&c.id).join("upper"));
            out.containers.push((c, rw));
        }
        for v in self.volume_list()? {
            let size = dir_size(&v.mountpoint);
            let ref_count = self.volume_users(&v.name).map(|u| u.len()).unwrap_or(0);
            out.volumes.push(VolumeUsage { volume: v, size, ref_count });
        }
        Ok(out)
    }
}
