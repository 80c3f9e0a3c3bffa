//! Everything a container needs on disk before its shim starts it: the
//! overlay root, /etc/hostname, /etc/hosts, /etc/resolv.conf and the
//! bundle's config.json. Done at create and again at each start (after a
//! reboot the mounts are gone).

use crate::db::Row;
use crate::error::EngineError;
use crate::error::{io, Result};
use crate::oci::{self, EtcFiles, ShmSource};
use crate::Engine;
use hull_image::images::Image;
use hull_spec::NamespaceType;
use std::path::PathBuf;

/// A namespace shared with the host (None) or joined by path.
type SharedNamespace = (NamespaceType, Option<PathBuf>);

impl Engine {
    /// Mounts the root (if it is not), writes the /etc files and config.json.
    pub(crate) fn prepare(&self, row: &Row, image: &Image) -> Result<hull_spec::Spec> {
        let dir = self.container_dir(&row.id);
        for d in ["upper", "work"] {
            std::fs::create_dir_all(dir.join(d)).map_err(io("mkdir", dir.join(d).display()))?;
        }
        let rootfs = dir.join("rootfs");
        // A root made just now has nothing on it: no need to read the mount table.
        let fresh = match std::fs::create_dir(&rootfs) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(io("mkdir", rootfs.display())(e)),
        };
        if fresh || !crate::is_mounted(&rootfs) {
            let layers = self.images.layers(image)?;
            hull_image::snapshot::mount_overlay(&layers, &dir.join("upper"), &dir.join("work"), &rootfs)
                .map_err(hull_image::images::ImageError::from)?;
        }
        self.write_etc(row)?;
        let netns = match self.netns_of(row)? {
            super::net::Netns::Path(p) => Some(p),
            _ => None,
        };
        let (shared, shm) = self.shared_namespaces(row)?;
        let etc = EtcFiles {
            hostname: &dir.join("hostname"),
            hosts: &dir.join("hosts"),
            resolv: &dir.join("resolv.conf"),
            netns: netns.as_deref(),
            shared: &shared,
            shm,
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
        let c = &row.config;
        let joins_another = c.network.container().is_some()
            || [&c.pid_mode, &c.ipc_mode, &c.uts_mode].iter().any(|m| m.starts_with("container:"));
        if crate::is_mounted(&dir.join("rootfs")) && !joins_another {
            if let Ok(spec) = hull_spec::Spec::load(&dir.join("config.json")) {
                return Ok(spec);
            }
        }
        self.prepare(row, &self.image_of(row)?)
    }

    /// `--pid`, `--ipc` and `--uts`: the namespaces it shares (the host's,
    /// or a running container's) and where its /dev/shm comes from.
    fn shared_namespaces(&self, row: &Row) -> Result<(Vec<SharedNamespace>, ShmSource)> {
        let c = &row.config;
        let mut out = Vec::new();
        let mut shm = ShmSource::Own;
        for (flag, mode, typ) in [
            ("--pid", &c.pid_mode, NamespaceType::Pid),
            ("--ipc", &c.ipc_mode, NamespaceType::Ipc),
            ("--uts", &c.uts_mode, NamespaceType::Uts),
        ] {
            match mode.as_str() {
                "" | "private" => {}
                // docker's way: /dev/shm is a tmpfs on the host that others may bind.
                "shareable" => shm = ShmSource::Bind(self.shareable_shm(row)?),
                "none" => shm = ShmSource::None,
                "host" => {
                    out.push((typ, None));
                    if typ == NamespaceType::Ipc {
                        shm = ShmSource::Bind("/dev/shm".into());
                    }
                }
                other => {
                    let name = other.strip_prefix("container:").unwrap_or_default();
                    let o = self.refreshed(name)?;
                    if !o.state.status.is_live() {
                        return Err(EngineError::Conflict {
                            id: o.id,
                            status: o.state.status.to_string(),
                            what: format!("{flag} container:{name}: it is not running"),
                        });
                    }
                    if typ == NamespaceType::Ipc {
                        if o.config.ipc_mode != "shareable" {
                            return Err(EngineError::Invalid(format!(
                                "--ipc container:{name}: its IPC is not shareable (run it with --ipc shareable)"
                            )));
                        }
                        shm = ShmSource::Bind(self.container_dir(&o.id).join("shm"));
                    }
                    out.push((typ, Some(format!("/proc/{}/ns/{}", o.state.pid, typ.proc_name()).into())));
                }
            }
        }
        Ok((out, shm))
    }

    /// The host-side /dev/shm of a `--ipc shareable` container, mounted if
    /// it is not (size --shm-size, 64 MB by default, as docker's).
    fn shareable_shm(&self, row: &Row) -> Result<PathBuf> {
        let dir = self.container_dir(&row.id).join("shm");
        std::fs::create_dir_all(&dir).map_err(crate::error::io("mkdir", dir.display()))?;
        if !crate::is_mounted(&dir) {
            use nix::mount::MsFlags;
            let size = row.config.limits.shm_size.unwrap_or(64 << 20);
            let data = format!("mode=1777,size={size}");
            nix::mount::mount(
                Some("shm"),
                &dir,
                Some("tmpfs"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                Some(data.as_str()),
            )
            .map_err(|e| crate::error::io("mount shm on", dir.display())(e.into()))?;
        }
        Ok(dir)
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
