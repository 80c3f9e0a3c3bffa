//! Named volumes: directories under `<root>/volumes/<name>/_data`, with a
//! small metadata file beside. A volume first mounted over a path the image
//! has gets that path's content copied in, as docker does.

use crate::db::Row;
use crate::error::{io, EngineError, Result};
use crate::model::MountKind;
use crate::Engine;
use hull_image::images::Image;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A volume as `volume inspect` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Volume {
    /// Name.
    pub name: String,
    /// Always `local`.
    pub driver: String,
    /// The data directory.
    pub mountpoint: PathBuf,
    /// Creation time.
    pub created_at: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// `local`.
    pub scope: String,
}

impl Engine {
    fn volume_root(&self) -> PathBuf {
        self.cfg.root.join("volumes")
    }

    /// Creates a volume (an existing one is returned as it is, as docker does).
    pub fn volume_create(&self, name: &str, labels: BTreeMap<String, String>) -> Result<(Volume, bool)> {
        if !crate::names::valid_name(name) {
            return Err(EngineError::Invalid(format!(
                "invalid volume name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )));
        }
        if let Ok(v) = self.volume_inspect(name) {
            return Ok((v, false));
        }
        let dir = self.volume_root().join(name);
        std::fs::create_dir_all(dir.join("_data")).map_err(io("mkdir", dir.display()))?;
        let v = Volume {
            name: name.into(),
            driver: "local".into(),
            mountpoint: dir.join("_data"),
            created_at: hull_shim::config::now_rfc3339(),
            labels,
            scope: "local".into(),
        };
        hull_shim::config::write_json(&dir.join("meta.json"), &v).map_err(io("write", dir.display()))?;
        self.emit("volume", "create", name, [("driver".to_string(), "local".to_string())].into());
        Ok((v, true))
    }

    /// A volume by name.
    pub fn volume_inspect(&self, name: &str) -> Result<Volume> {
        let meta = self.volume_root().join(name).join("meta.json");
        match hull_shim::config::read_json::<Volume>(&meta) {
            Ok(Some(v)) if crate::names::valid_name(name) => Ok(v),
            _ => Err(EngineError::NoSuchVolume(name.to_string())),
        }
    }

    /// Every volume.
    pub fn volume_list(&self) -> Result<Vec<Volume>> {
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(self.volume_root()) {
            for e in rd.flatten() {
                if let Ok(v) = self.volume_inspect(&e.file_name().to_string_lossy()) {
                    out.push(v);
                }
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Containers using a volume.
    pub fn volume_users(&self, name: &str) -> Result<Vec<String>> {
        Ok(self
            .db()
            .list()?
            .into_iter()
            .filter(|r| r.config.mounts.iter().any(|m| m.kind == MountKind::Volume && m.source == name))
            .map(|r| r.name)
            .collect())
    }

    /// Removes a volume no container uses.
    pub fn volume_remove(&self, name: &str, force: bool) -> Result<()> {
        self.volume_inspect(name)?;
        let users = self.volume_users(name)?;
        if !users.is_empty() && !force {
            return Err(EngineError::InUse(format!("remove {name}: volume is in use - [{}]", users.join(", "))));
        }
        let dir = self.volume_root().join(name);
        std::fs::remove_dir_all(&dir).map_err(io("remove", dir.display()))?;
        self.emit("volume", "destroy", name, [("driver".to_string(), "local".to_string())].into());
        Ok(())
    }

    /// Removes every volume no container uses; returns their names.
    pub fn volume_prune(&self) -> Result<Vec<String>> {
        let mut gone = Vec::new();
        for v in self.volume_list()? {
            if self.volume_users(&v.name)?.is_empty() {
                self.volume_remove(&v.name, false)?;
                gone.push(v.name);
            }
        }
        Ok(gone)
    }

    /// Makes the container's named volumes and fills each empty one with
    /// the image's content at its target, as docker does for any empty
    /// named volume (one from `volume create` too) unless `nocopy`.
    pub(crate) fn volumes_for(&self, row: &Row, _image: &Image) -> Result<()> {
        let rootfs = self.container_dir(&row.id).join("rootfs");
        for m in row.config.mounts.iter().filter(|m| m.kind == MountKind::Volume) {
            let (v, _fresh) = self.volume_create(&m.source, BTreeMap::new())?;
            let empty = std::fs::read_dir(&v.mountpoint).map_err(io("read", v.mountpoint.display()))?.next().is_none();
            if !empty || m.options.iter().any(|o| o == "nocopy") {
                continue;
            }
            // The image's content at the target, resolved inside the root;
            // cp reads it through our descriptor, never a path it could re-resolve.
            let root = hull_rootpath::Root::open(&rootfs).map_err(|e| EngineError::Invalid(e.to_string()))?;
            let Ok(dir) = root.open_dir(std::path::Path::new(&m.target)) else { continue };
            let from = format!("/proc/{}/fd/{}", std::process::id(), std::os::fd::AsRawFd::as_raw_fd(&dir));
            let status = std::process::Command::new("cp")
                .arg("-a")
                .arg(format!("{from}/."))
                .arg(&v.mountpoint)
                .status()
                .map_err(io("run", "cp"))?;
            if !status.success() {
                return Err(EngineError::Invalid(format!("copy {} into volume {}: cp failed", m.target, v.name)));
            }
            // The volume's root takes the owner and mode of the directory it
            // covers (postgres' initdb needs its data directory its own).
            let st = nix::sys::stat::fstat(std::os::fd::AsRawFd::as_raw_fd(&dir))
                .map_err(|e| io("stat", &m.target)(e.into()))?;
            drop(dir);
            std::os::unix::fs::chown(&v.mountpoint, Some(st.st_uid), Some(st.st_gid))
                .map_err(io("chown", v.mountpoint.display()))?;
            std::fs::set_permissions(&v.mountpoint, std::os::unix::fs::PermissionsExt::from_mode(st.st_mode & 0o7777))
                .map_err(io("chmod", v.mountpoint.display()))?;
        }
        Ok(())
    }
}
