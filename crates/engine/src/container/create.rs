//! `create`: a container row, its directory and its root filesystem, with
//! the config validated by building its runtime spec once.

use crate::db::Row;
use crate::error::{io, EngineError, Result};
use crate::model::{Container, ContainerConfig, ContainerState, MountKind, NetworkMode};
use crate::{names, Engine};
use std::path::Path;

/// What `create` takes.
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    /// Name; generated when absent.
    pub name: Option<String>,
    /// The container's configuration (`image` names the image).
    pub config: ContainerConfig,
}

impl Engine {
    /// Creates a container. On any error nothing is left behind.
    pub fn create(&self, req: CreateRequest) -> Result<Container> {
        let mut cfg = req.config;
        if let Some(n) = &req.name {
            if !names::valid_name(n) {
                return Err(EngineError::Invalid(format!(
                    "invalid container name {n:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                )));
            }
        }
        validate(&cfg)?;
        if self.runtime_named(&cfg.runtime)?.is_none() {
            cfg.runtime.clear();
        }
        self.resolve_networks(&mut cfg)?;
        self.resolve_volumes_from(&mut cfg)?;
        self.resolve_links(&mut cfg)?;
        let image = self.images.resolve(&cfg.image)?;
        cfg.image_id = image.id.to_string();
        let exec = image.config.config.clone().unwrap_or_default();
        cfg.healthcheck = crate::container::health::merged(exec.healthcheck.as_ref(), cfg.healthcheck.take());
        if cfg.stop_signal.is_none() {
            if let Some(sig) = &exec.stop_signal {
                let parsed = sig.parse().map_err(|_| {
                    EngineError::Invalid(format!("the image's StopSignal {sig:?} is not a signal Hull knows"))
                })?;
                cfg.stop_signal = Some(parsed);
            }
        }
        let entry = cfg.entrypoint.clone().or(exec.entrypoint.clone()).unwrap_or_default();
        let cmd =
            cfg.cmd.clone().or(if cfg.entrypoint.is_some() { None } else { exec.cmd.clone() }).unwrap_or_default();
        cfg.command = entry.into_iter().chain(cmd).collect();
        anonymous_volumes(&mut cfg, exec.volumes.as_ref())?;
        if cfg.command.is_empty() {
            return Err(EngineError::Invalid("no command specified: the image has none and none was given".into()));
        }
        let id = names::new_id().map_err(io("read", "/dev/urandom"))?;
        let created = hull_shim::config::now_rfc3339();
        let mut row =
            Row { id: id.clone(), name: String::new(), created, config: cfg, state: ContainerState::default() };
        // The row comes first: a create killed half-way leaves a container
        // `rm` can remove, never an orphan directory.
        self.insert_named(&mut row, req.name.as_deref())?;
        let _lock = self.lock(&id)?;
        if let Err(e) = self.prepare(&row, &image).and_then(|_| self.volumes_for(&row, &image)) {
            return Err(e.with_cleanup(self.discard(&id)));
        }
        self.emit_container(&row, "create", &[]);
        Ok(self.to_container(row))
    }

    fn insert_named(&self, row: &mut Row, name: Option<&str>) -> Result<()> {
        if let Some(n) = name {
            row.name = n.to_string();
            return self.db().insert(row);
        }
        for attempt in 0..10 {
            row.name = names::random_name(&row.id, attempt);
            match self.db().insert(row) {
                Err(EngineError::NameInUse { .. }) => continue,
                other => return other,
            }
        }
        row.name = row.id[..12].to_string();
        self.db().insert(row)
    }

    /// `--volumes-from NAME[:ro|rw]`: the other container's binds and
    /// volumes (not its tmpfs), read-only or not as it has them unless the
    /// mode says. A mount of ours at the same target wins. Shared volumes
    /// are never this container's anonymous ones (`rm -v` keeps them).
    fn resolve_volumes_from(&self, cfg: &mut ContainerConfig) -> Result<()> {
        for given in cfg.volumes_from.clone() {
            let (name, mode) = given.split_once(':').unwrap_or((&given, ""));
            let readonly = match mode {
                "" => None,
                "ro" => Some(true),
                "rw" => Some(false),
                _ => {
                    return Err(EngineError::Invalid(format!(
                        "invalid --volumes-from {given:?}: mode must be ro or rw"
                    )))
                }
            };
            let other = self.db().find(name)?;
            for m in other.config.mounts.iter().filter(|m| m.kind != MountKind::Tmpfs) {
                if cfg.mounts.iter().any(|o| o.target == m.target) {
                    continue;
                }
                let mut m = m.clone();
                m.readonly = readonly.unwrap_or(m.readonly);
                m.anonymous = false;
                cfg.mounts.push(m);
            }
        }
        Ok(())
    }

    /// `--link NAME[:ALIAS]`: the container must exist; kept by its name.
    fn resolve_links(&self, cfg: &mut ContainerConfig) -> Result<()> {
        let mut out = Vec::new();
        for given in &cfg.links {
            let (name, alias) = given.split_once(':').unwrap_or((given, given));
            if alias.is_empty() || !names::valid_name(alias) {
                return Err(EngineError::Invalid(format!("invalid --link {given:?}: want NAME[:ALIAS]")));
            }
            let other = self.db().find(name)?;
            out.push(format!("{}:{alias}", other.name));
        }
        cfg.links = out;
        if let Some(mac) = &cfg.mac_address {
            let ok = mac.split(':').count() == 6
                && mac.split(':').all(|b| b.len() == 2 && b.chars().all(|c| c.is_ascii_hexdigit()));
            if !ok {
                return Err(EngineError::Invalid(format!(
                    "invalid --mac-address {mac:?}: want six hex pairs (aa:bb:cc:dd:ee:ff)"
                )));
            }
            if cfg.networks.is_empty() {
                return Err(EngineError::Invalid(format!(
                    "conflicting options: --mac-address and the network mode {}",
                    cfg.network
                )));
            }
        }
        Ok(())
    }

    /// Undoes a failed create: mounts, directory, row, lock; every failure
    /// is returned.
    pub(crate) fn discard(&self, id: &str) -> Result<()> {
        let mut failed = crate::error::Failures::default();
        let dir = self.container_dir(id);
        for m in ["rootfs", "shm"] {
            let path = dir.join(m);
            match nix::mount::umount2(&path, nix::mount::MntFlags::MNT_DETACH) {
                // Not mounted, or not there: nothing to undo.
                Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
                Err(e) => failed.fail(format!("unmount {}", path.display()), e),
            }
        }
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => failed.fail(format!("remove {}", dir.display()), e),
            _ => {}
        }
        failed.note(self.db().delete(id));
        self.unlink_lock(id);
        failed.into_result()
    }

    pub(crate) fn to_container(&self, r: Row) -> Container {
        Container { id: r.id, name: r.name, created: r.created, config: r.config, state: r.state }
    }
}

impl Engine {
    /// Checks the network mode and makes its attachments canonical: the
    /// default network for `bridge`, each network by its name.
    pub(crate) fn resolve_networks(&self, cfg: &mut ContainerConfig) -> Result<()> {
        // Whatever the network mode: the lines go into the container's /etc/hosts.
        for h in &cfg.extra_hosts {
            let ok = h.split_once(':').is_some_and(|(n, ip)| !n.is_empty() && ip.parse::<std::net::IpAddr>().is_ok());
            if !ok {
                return Err(EngineError::Invalid(format!("invalid --add-host {h:?}: want NAME:IP")));
            }
        }
        if cfg.network == NetworkMode::Default {
            cfg.network = NetworkMode::Network(crate::networks::BRIDGE_ALIAS.into());
        }
        let mode = cfg.network.clone();
        if mode.is_special() {
            if cfg.networks.len() > 1 || cfg.networks.first().is_some_and(|a| a.network != mode.to_string()) {
                return Err(EngineError::Invalid(format!(
                    "conflicting options: --network {mode} cannot be combined with other networks"
                )));
            }
            if cfg.networks.first().is_some_and(|a| !a.aliases.is_empty() || !a.ips.is_empty()) {
                return Err(EngineError::Invalid(format!(
                    "conflicting options: --ip and --network-alias need a user-defined network, not {mode}"
                )));
            }
            cfg.networks.clear();
            if mode.is_host() {
                cfg.ports.clear();
                cfg.publish_all = false;
            } else if !cfg.ports.is_empty() || cfg.publish_all {
                return Err(EngineError::Invalid(format!(
                    "conflicting options: port publishing and the network mode {mode}"
                )));
            }
            if let Some(other) = mode.container() {
                if other.is_empty() {
                    return Err(EngineError::Invalid("--network container: needs a container".into()));
                }
                self.db().find(other)?;
                if !cfg.dns.is_empty() || !cfg.extra_hosts.is_empty() || cfg.hostname.is_some() {
                    return Err(EngineError::Invalid(
                        "conflicting options: --dns, --add-host and --hostname cannot go with --network container:"
                            .into(),
                    ));
                }
            }
            return Ok(());
        }
        if cfg.networks.is_empty() {
            cfg.networks.push(crate::model::NetworkAttachment { network: mode.to_string(), ..Default::default() });
        }
        let mut seen = Vec::new();
        for a in &mut cfg.networks {
            let n = self.network(&a.network)?;
            if seen.contains(&n.name) {
                return Err(EngineError::Invalid(format!("network {} given twice", n.name)));
            }
            seen.push(n.name.clone());
            for ip in &a.ips {
                if !n.dns {
                    return Err(EngineError::Invalid(format!(
                        "--ip {ip}: a fixed address needs a user-defined network, not {}",
                        a.network
                    )));
                }
                if n.subnet_of(*ip).is_none() {
                    let subnets: Vec<String> = n.subnets.iter().map(|s| s.subnet.to_string()).collect();
                    return Err(EngineError::Invalid(format!(
                        "--ip {ip} is not in network {}'s subnets ({})",
                        n.name,
                        subnets.join(", ")
                    )));
                }
            }
            if !a.aliases.is_empty() && !n.dns {
                return Err(EngineError::Invalid(format!(
                    "--network-alias needs a user-defined network, not {}",
                    a.network
                )));
            }
            a.network = n.name;
        }
        if cfg.network != NetworkMode::Network(crate::networks::BRIDGE_ALIAS.into()) {
            cfg.network = NetworkMode::Network(cfg.networks[0].network.clone());
        }
        Ok(())
    }
}

/// Names `-v /path` volumes; an anonymous volume for each of the image's
/// VOLUMEs no mount covers.
fn anonymous_volumes(
    cfg: &mut ContainerConfig,
    volumes: Option<&std::collections::BTreeMap<String, serde_json::Value>>,
) -> Result<()> {
    // `-v /path`: a volume of its own, named by a random id, as docker.
    for m in cfg.mounts.iter_mut().filter(|m| m.anonymous && m.source.is_empty()) {
        m.source = names::new_id().map_err(io("read", "/dev/urandom"))?;
    }
    for path in volumes.into_iter().flat_map(|v| v.keys()) {
        let target = path.trim_end_matches('/');
        let target = if target.is_empty() { "/" } else { target };
        if cfg.mounts.iter().any(|m| m.target.trim_end_matches('/') == target) {
            continue;
        }
        cfg.mounts.push(crate::model::MountSpec {
            kind: MountKind::Volume,
            source: names::new_id().map_err(io("read", "/dev/urandom"))?,
            target: target.into(),
            readonly: false,
            options: vec![],
            anonymous: true,
        });
    }
    Ok(())
}

/// Checks what can be checked before anything is made.
pub(crate) fn validate_config(cfg: &ContainerConfig) -> Result<()> {
    validate(cfg)
}

fn validate(cfg: &ContainerConfig) -> Result<()> {
    if cfg.auto_remove && cfg.restart != hull_shim::config::RestartPolicy::No {
        return Err(EngineError::Invalid("conflicting options: --restart and --rm".into()));
    }
    for m in &cfg.mounts {
        if !m.target.starts_with('/') {
            return Err(EngineError::Invalid(format!("invalid mount target {:?}: not an absolute path", m.target)));
        }
        if m.kind == MountKind::Bind && !Path::new(&m.source).exists() {
            return Err(EngineError::Invalid(format!(
                "invalid mount config for type \"bind\": bind source path does not exist: {}",
                m.source
            )));
        }
        // (an anonymous volume's name is made later)
        if m.kind == MountKind::Volume && !(m.anonymous && m.source.is_empty()) && !names::valid_name(&m.source) {
            return Err(EngineError::Invalid(format!("invalid volume name {:?}", m.source)));
        }
    }
    crate::oci::capabilities(cfg)?;
    if let (Some(m), Some(s)) = (cfg.limits.memory, cfg.limits.memory_swap) {
        if s != -1 && s < m {
            return Err(EngineError::Invalid("minimum memoryswap limit should be larger than memory limit".into()));
        }
    }
    if cfg.limits.memory.is_some_and(|m| m < 6 << 20) {
        return Err(EngineError::Invalid("minimum memory limit allowed is 6MB".into()));
    }
    validate_limits(&cfg.limits)?;
    validate_namespace_modes(cfg)
}

/// docker's checks of the CPU and I/O flags, in its words.
fn validate_limits(l: &crate::model::Limits) -> Result<()> {
    let bad = |m: &str| Err(EngineError::Invalid(m.into()));
    if let (Some(m), Some(r)) = (l.memory, l.memory_reservation) {
        if r > m {
            return bad("minimum memory limit can not be less than memory reservation limit, see usage");
        }
    }
    if l.nano_cpus.is_some() && (l.cpu_period.is_some() || l.cpu_quota.is_some()) {
        return bad("conflicting options: --cpus and --cpu-period/--cpu-quota cannot both be set");
    }
    if l.cpu_period.is_some_and(|p| !(1000..=1_000_000).contains(&p)) {
        return bad("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
    }
    if l.cpu_quota.is_some_and(|q| q != -1 && q < 1000) {
        return bad("CPU cfs quota can not be less than 1ms (i.e. 1000)");
    }
    if l.blkio_weight.is_some_and(|w| !(10..=1000).contains(&w)) {
        return bad("invalid --blkio-weight: range is 10 to 1000");
    }
    Ok(())
}

/// `--pid`, `--ipc`, `--uts` as docker takes them.
fn validate_namespace_modes(cfg: &ContainerConfig) -> Result<()> {
    let joins = |m: &str| m.strip_prefix("container:").is_some_and(|n| !n.is_empty());
    let checks = [
        ("PID", &cfg.pid_mode, &["", "host"][..]),
        ("IPC", &cfg.ipc_mode, &["", "host", "private", "shareable", "none"][..]),
        ("UTS", &cfg.uts_mode, &["", "host"][..]),
    ];
    for (what, mode, plain) in checks {
        let valid = plain.contains(&mode.as_str()) || (what != "UTS" && joins(mode));
        if !valid {
            return Err(EngineError::Invalid(format!("invalid {what} mode: {mode}")));
        }
    }
    if cfg.uts_mode == "host" && (cfg.hostname.is_some() || cfg.domainname.is_some()) {
        return Err(EngineError::Invalid("conflicting options: hostname and the UTS mode".into()));
    }
    Ok(())
}
