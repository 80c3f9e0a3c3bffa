//! Everything a container needs on disk before its shim starts it: the
//! overlay root, /etc/hostname, /etc/hosts, /etc/resolv.conf and the
//! bundle's config.json. Done at create and again at each start (after a
//! reboot the mounts are gone).

use crate::db::Row;
use crate::error::{io, Result};
use crate::oci::{self, EtcFiles};
use crate::Engine;
use hull_image::images::Image;

impl Engine {
    /// Mounts the root (if it is not), writes the /etc files and config.json.
    pub(crate) fn prepare(&self, row: &Row, image: &Image) -> Result<hull_spec::Spec> {
        let dir = self.container_dir(&row.id);
        for d in ["upper", "work", "rootfs"] {
            std::fs::create_dir_all(dir.join(d)).map_err(io("mkdir", dir.join(d).display()))?;
        }
        let rootfs = dir.join("rootfs");
        if !crate::is_mounted(&rootfs) {
            let layers = self.images.layers(image)?;
            hull_image::snapshot::mount_overlay(&layers, &dir.join("upper"), &dir.join("work"), &rootfs)
                .map_err(hull_image::images::ImageError::from)?;
        }
        self.write_etc(row)?;
        let netns = match self.netns_of(row)? {
            super::net::Netns::Path(p) => Some(p),
            _ => None,
        };
        let etc = EtcFiles {
            hostname: &dir.join("hostname"),
            hosts: &dir.join("hosts"),
            resolv: &dir.join("resolv.conf"),
            netns: netns.as_deref(),
        };
        let volumes = self.cfg.root.join("volumes");
        let spec =
            oci::build(&row.id, &row.config, &image.config, &rootfs, &etc, &|name| volumes.join(name).join("_data"))?;
        let data = serde_json::to_vec_pretty(&spec).unwrap_or_default();
        write_bytes(&dir.join("config.json"), &data)?;
        Ok(spec)
    }

    /// The container's config, ready to start: what create wrote while the
    /// root is still mounted, else prepared again (after a reboot or a stop).
    pub(crate) fn ready_spec(&self, row: &Row) -> Result<hull_spec::Spec> {
        let dir = self.container_dir(&row.id);
        // Another container's namespace is found anew at each start.
        if crate::is_mounted(&dir.join("rootfs")) && !row.config.network.starts_with("container:") {
            if let Ok(spec) = hull_spec::Spec::load(&dir.join("config.json")) {
                return Ok(spec);
            }
        }
        self.prepare(row, &self.image_of(row)?)
    }

    /// The image a container was created from (by id, so a retag does not matter).
    pub(crate) fn image_of(&self, row: &Row) -> Result<Image> {
        Ok(self.images.resolve(&row.config.image_id).or_else(|_| self.images.resolve(&row.config.image))?)
    }
}

impl Engine {
    /// /etc/hostname, /etc/hosts and /etc/resolv.conf as the container's
    /// networks make them (again at each start: its addresses change).
    pub(crate) fn write_etc(&self, row: &Row) -> Result<()> {
        let dir = self.container_dir(&row.id);
        let hostname = crate::oci::hostname_of(&row.config, &row.id);
        write(&dir.join("hostname"), &format!("{hostname}\n"))?;
        let (hosts, resolv) = self.etc_files(row, &hostname)?;
        write(&dir.join("hosts"), &hosts)?;
        write(&dir.join("resolv.conf"), &resolv)
    }
}

fn write(path: &std::path::Path, s: &str) -> Result<()> {
    write_bytes(path, s.as_bytes())
}

fn write_bytes(path: &std::path::Path, data: &[u8]) -> Result<()> {
    hull_shim::config::replace_file(path, data).map_err(io("write", path.display()))
}
