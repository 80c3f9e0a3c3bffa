//! `inspect` in docker's shapes (moby's `ContainerJSON`, `NetworkResource`
//! and `ImageInspect`), as typed structs for the fields Hull has. Front
//! ends serialize them (the CLI's templates and the API's bodies); the
//! engine builds no untyped JSON.

// The fields are moby's, by its names: its api/swagger.yaml documents each.
#![allow(missing_docs)]

use crate::model::{Container, MountKind, NetworkMode, Status};
use crate::Engine;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// docker's "never" time.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// A container, as `docker inspect` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerInspect {
    pub id: String,
    pub created: String,
    pub path: String,
    pub args: Vec<String>,
    pub state: ContainerStateView,
    /// The image's id.
    pub image: String,
    pub resolv_conf_path: PathBuf,
    pub hostname_path: PathBuf,
    pub hosts_path: PathBuf,
    pub log_path: PathBuf,
    /// `/NAME`.
    pub name: String,
    pub restart_count: u32,
    pub driver: &'static str,
    pub platform: &'static str,
    pub host_config: HostConfigView,
    pub mounts: Vec<MountPoint>,
    pub config: ConfigView,
    pub network_settings: NetworkSettings,
}

/// `.State`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerStateView {
    pub status: &'static str,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub dead: bool,
    pub pid: i32,
    pub exit_code: i32,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
    pub health: Option<hull_shim::config::HealthState>,
}

/// `.HostConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostConfigView {
    pub runtime: String,
    pub binds: Vec<String>,
    pub network_mode: String,
    pub port_bindings: BTreeMap<String, Vec<PortBinding>>,
    pub publish_all_ports: bool,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    pub extra_hosts: Vec<String>,
    pub restart_policy: RestartPolicyView,
    pub auto_remove: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub privileged: bool,
    pub init: bool,
    pub readonly_rootfs: bool,
    pub memory: i64,
    pub memory_swap: i64,
    pub nano_cpus: i64,
    pub cpu_shares: u64,
    pub cpuset_cpus: String,
    pub pids_limit: Option<i64>,
    pub shm_size: i64,
    pub cgroup_parent: String,
    pub sysctls: BTreeMap<String, String>,
    pub ulimits: Vec<UlimitView>,
    pub log_config: LogConfigView,
    pub pid_mode: String,
    pub volumes_from: Vec<String>,
    pub links: Vec<String>,
    pub ipc_mode: String,
    #[serde(rename = "UTSMode")]
    pub uts_mode: String,
    pub memory_reservation: i64,
    pub oom_kill_disable: bool,
    pub cpu_period: u64,
    pub cpu_quota: i64,
    pub cpuset_mems: String,
    pub blkio_weight: u16,
    pub blkio_device_read_bps: Vec<ThrottleDevice>,
    pub blkio_device_write_bps: Vec<ThrottleDevice>,
}

/// A published port's host side.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortBinding {
    pub host_ip: String,
    pub host_port: String,
}

/// docker's restart policy object.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestartPolicyView {
    pub name: &'static str,
    pub maximum_retry_count: u32,
}

impl From<hull_shim::config::RestartPolicy> for RestartPolicyView {
    fn from(p: hull_shim::config::RestartPolicy) -> Self {
        use hull_shim::config::RestartPolicy as P;
        let (name, maximum_retry_count) = match p {
            P::No => ("no", 0),
            P::OnFailure(n) => ("on-failure", n),
            P::Always => ("always", 0),
            P::UnlessStopped => ("unless-stopped", 0),
        };
        RestartPolicyView { name, maximum_retry_count }
    }
}

/// One ulimit.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UlimitView {
    pub name: String,
    pub soft: u64,
    pub hard: u64,
}

/// The log driver and its options.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogConfigView {
    #[serde(rename = "Type")]
    pub typ: String,
    pub config: BTreeMap<String, String>,
}

/// A device's I/O rate limit.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ThrottleDevice {
    pub path: String,
    pub rate: u64,
}

/// One of `.Mounts`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MountPoint {
    #[serde(rename = "Type")]
    pub typ: &'static str,
    pub name: String,
    pub source: String,
    pub destination: String,
    pub mode: &'static str,
    #[serde(rename = "RW")]
    pub rw: bool,
    pub propagation: &'static str,
}

/// `.Config`: the container's settings over its image's.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfigView {
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    pub image: String,
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    pub working_dir: String,
    pub entrypoint: Option<Vec<String>>,
    /// docker's `{"80/tcp": {}}`; null when none.
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    pub labels: BTreeMap<String, String>,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<i64>,
    pub healthcheck: Option<hull_shim::config::Healthcheck>,
}

/// `.NetworkSettings`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    pub sandbox_key: String,
    pub networks: BTreeMap<String, EndpointSettings>,
    /// Each port: its host bindings, or null while not running.
    pub ports: BTreeMap<String, Option<Vec<PortBinding>>>,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    pub gateway: String,
    pub mac_address: String,
}

/// One network's endpoint of a container.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointSettings {
    pub aliases: Vec<String>,
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub gateway: String,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u32,
    #[serde(rename = "GlobalIPv6Address")]
    pub global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen")]
    pub global_ipv6_prefix_len: u32,
    pub mac_address: String,
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<IpamConfig>,
}

/// The addresses asked for on a network.
#[derive(Debug, Clone, Serialize)]
pub struct IpamConfig {
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: Option<String>,
}

/// A network, as `docker network inspect` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInspect {
    pub name: String,
    pub id: String,
    pub created: String,
    pub scope: &'static str,
    pub driver: String,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    pub internal: bool,
    pub attachable: bool,
    pub containers: BTreeMap<String, NetworkContainer>,
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    #[serde(rename = "DNSEnabled")]
    pub dns_enabled: bool,
    pub network_interface: String,
}

/// A network's address management.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipam {
    pub driver: &'static str,
    pub options: BTreeMap<String, String>,
    pub config: Vec<IpamPool>,
}

/// One subnet of a network.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpamPool {
    pub subnet: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    #[serde(rename = "IPRange", skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<String>,
}

/// A container on a network.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkContainer {
    pub name: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub mac_address: String,
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: String,
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: String,
}

/// An image, as `docker image inspect` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub created: Option<String>,
    pub author: Option<String>,
    pub architecture: String,
    pub os: String,
    pub variant: Option<String>,
    pub config: hull_image::manifest::ExecConfig,
    pub size: u64,
    #[serde(rename = "RootFS")]
    pub root_fs: RootFsView,
    pub manifest: String,
}

/// An image's layers by DiffID.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RootFsView {
    #[serde(rename = "Type")]
    pub typ: String,
    pub layers: Vec<String>,
}

impl Engine {
    /// docker's `ContainerJSON` for a container.
    pub fn inspect_container(&self, c: &Container) -> ContainerInspect {
        let s = &c.state;
        let cfg = &c.config;
        let (path, args) = match cfg.command.split_first() {
            Some((p, a)) => (p.clone(), a.to_vec()),
            None => (String::new(), vec![]),
        };
        let mounts = cfg
            .mounts
            .iter()
            .map(|m| MountPoint {
                typ: m.kind.as_str(),
                name: if m.kind == MountKind::Volume { m.source.clone() } else { String::new() },
                source: match m.kind {
                    MountKind::Volume => {
                        self.config().root.join("volumes").join(&m.source).join("_data").display().to_string()
                    }
                    _ => m.source.clone(),
                },
                destination: m.target.clone(),
                mode: if m.readonly { "ro" } else { "" },
                rw: !m.readonly,
                propagation: if m.kind == MountKind::Bind { "rprivate" } else { "" },
            })
            .collect();
        let dir = self.container_dir(&c.id);
        let time = |t: &str| if t.is_empty() { ZERO_TIME.to_string() } else { t.to_string() };
        let l = &cfg.limits;
        ContainerInspect {
            id: c.id.clone(),
            created: c.created.clone(),
            path,
            args,
            state: ContainerStateView {
                status: s.status.as_str(),
                running: matches!(s.status, Status::Running | Status::Paused),
                paused: s.status == Status::Paused,
                restarting: s.status == Status::Restarting,
                oom_killed: s.oom_killed,
                dead: false,
                pid: s.pid,
                exit_code: s.exit_code,
                error: s.error.clone(),
                started_at: time(&s.started_at),
                finished_at: time(&s.finished_at),
                health: self.health(c),
            },
            image: cfg.image_id.clone(),
            resolv_conf_path: dir.join("resolv.conf"),
            hostname_path: dir.join("hostname"),
            hosts_path: dir.join("hosts"),
            log_path: self.log_path(&c.id),
            name: format!("/{}", c.name),
            restart_count: s.restart_count,
            driver: "overlay",
            platform: "linux",
            host_config: HostConfigView {
                runtime: if cfg.runtime.is_empty() { crate::runtimes::HULL.to_string() } else { cfg.runtime.clone() },
                binds: cfg
                    .mounts
                    .iter()
                    .filter(|m| m.kind != MountKind::Tmpfs)
                    .map(|m| format!("{}:{}{}", m.source, m.target, if m.readonly { ":ro" } else { "" }))
                    .collect(),
                network_mode: match &cfg.network {
                    NetworkMode::Default => "none".into(),
                    m => m.to_string(),
                },
                port_bindings: port_bindings(&cfg.ports),
                publish_all_ports: cfg.publish_all,
                dns: cfg.dns.clone(),
                dns_search: cfg.dns_search.clone(),
                dns_options: cfg.dns_options.clone(),
                extra_hosts: cfg.extra_hosts.clone(),
                restart_policy: cfg.restart.into(),
                auto_remove: cfg.auto_remove,
                cap_add: cfg.cap_add.clone(),
                cap_drop: cfg.cap_drop.clone(),
                privileged: cfg.privileged,
                init: cfg.init,
                readonly_rootfs: cfg.read_only,
                memory: l.memory.unwrap_or(0),
                // docker's default with -m alone: as much swap again.
                memory_swap: l.memory_swap.or(l.memory.map(|m| m * 2)).unwrap_or(0),
                nano_cpus: l.nano_cpus.unwrap_or(0),
                cpu_shares: l.cpu_shares.unwrap_or(0),
                cpuset_cpus: l.cpuset_cpus.clone().unwrap_or_default(),
                pids_limit: l.pids_limit,
                shm_size: l.shm_size.unwrap_or(64 << 20),
                cgroup_parent: cfg.cgroup_parent.clone().unwrap_or_default(),
                sysctls: cfg.sysctls.clone(),
                ulimits: cfg
                    .ulimits
                    .iter()
                    .map(|u| UlimitView { name: u.name.clone(), soft: u.soft, hard: u.hard })
                    .collect(),
                log_config: LogConfigView {
                    typ: if cfg.log_driver.is_empty() { "json-file".into() } else { cfg.log_driver.clone() },
                    config: log_config(cfg),
                },
                pid_mode: cfg.pid_mode.clone(),
                volumes_from: cfg.volumes_from.clone(),
                links: cfg
                    .links
                    .iter()
                    .map(|l| {
                        let (n, a) = l.split_once(':').unwrap_or((l, l));
                        format!("/{n}:/{}/{a}", c.name)
                    })
                    .collect(),
                ipc_mode: if cfg.ipc_mode.is_empty() { "private".into() } else { cfg.ipc_mode.clone() },
                uts_mode: cfg.uts_mode.clone(),
                memory_reservation: l.memory_reservation.unwrap_or(0),
                oom_kill_disable: l.oom_kill_disable,
                cpu_period: l.cpu_period.unwrap_or(0),
                cpu_quota: l.cpu_quota.unwrap_or(0),
                cpuset_mems: l.cpuset_mems.clone().unwrap_or_default(),
                blkio_weight: l.blkio_weight.unwrap_or(0),
                blkio_device_read_bps: throttles(&l.device_read_bps),
                blkio_device_write_bps: throttles(&l.device_write_bps),
            },
            mounts,
            config: self.merged_config(c),
            network_settings: network_settings(c),
        }
    }

    /// docker's `.Config`: the container's settings over its image's (Cmd,
    /// Entrypoint, Env, ExposedPorts, Labels, WorkingDir, User, Volumes),
    /// as the process actually gets them. The image's part is missing only
    /// if the image was removed since.
    fn merged_config(&self, c: &Container) -> ConfigView {
        let cfg = &c.config;
        let image = self.images.resolve(&cfg.image_id).ok().and_then(|i| i.config.config).unwrap_or_default();
        let mut env: Vec<String> = image.env.clone().unwrap_or_default();
        for kv in &cfg.env {
            let key = kv.split('=').next().unwrap_or(kv);
            env.retain(|e| e.split('=').next() != Some(key));
            env.push(kv.clone());
        }
        let mut labels = image.labels.clone().unwrap_or_default();
        labels.extend(cfg.labels.clone());
        let mut exposed = image.exposed_ports.clone().unwrap_or_default();
        for key in cfg.ports.iter().map(|p| p.key()).chain(cfg.expose.iter().cloned()) {
            exposed.entry(key).or_insert_with(|| serde_json::Value::Object(Default::default()));
        }
        let entrypoint = cfg.entrypoint.clone().or(image.entrypoint.clone());
        let cmd = cfg.cmd.clone().or(if cfg.entrypoint.is_some() { None } else { image.cmd.clone() });
        ConfigView {
            hostname: crate::oci::hostname_of(cfg, &c.id),
            domainname: cfg.domainname.clone().unwrap_or_default(),
            user: cfg.user.clone().or(image.user.clone()).unwrap_or_default(),
            tty: cfg.tty,
            open_stdin: cfg.stdin,
            stdin_once: cfg.stdin,
            env,
            cmd,
            image: cfg.image.clone(),
            volumes: image.volumes,
            working_dir: cfg.workdir.clone().or(image.working_dir.clone()).unwrap_or_default(),
            entrypoint,
            exposed_ports: if exposed.is_empty() { None } else { Some(exposed) },
            labels,
            stop_signal: cfg.stop_signal.as_ref().map(|s| s.to_string()),
            stop_timeout: cfg.stop_timeout,
            healthcheck: crate::container::health::effective(cfg),
        }
    }

    /// docker's `network inspect` shape for one network.
    pub fn inspect_network(&self, n: &hull_network::network::Network) -> crate::Result<NetworkInspect> {
        let mut containers = BTreeMap::new();
        for c in self.network_users(&n.name)? {
            if let Some(ep) = c.state.endpoints.iter().find(|e| e.network == n.name) {
                containers.insert(
                    c.id.clone(),
                    NetworkContainer {
                        name: c.name.clone(),
                        endpoint_id: format!("{}-{}", &c.id[..12], ep.ifname),
                        mac_address: ep.mac.clone(),
                        ipv4_address: ep.ips.iter().find(|i| !i.contains(':')).cloned().unwrap_or_default(),
                        ipv6_address: ep.ips.iter().find(|i| i.contains(':')).cloned().unwrap_or_default(),
                    },
                );
            }
        }
        Ok(NetworkInspect {
            name: n.name.clone(),
            id: n.id.clone(),
            created: n.created.clone(),
            scope: "local",
            driver: n.driver.to_string(),
            enable_ipv6: n.ipv6,
            ipam: Ipam {
                driver: "default",
                options: BTreeMap::new(),
                config: n
                    .subnets
                    .iter()
                    .map(|s| IpamPool {
                        subnet: s.subnet.to_string(),
                        gateway: s.gateway.map(|g| g.to_string()),
                        ip_range: s.ip_range.map(|r| r.to_string()),
                    })
                    .collect(),
            },
            internal: n.internal,
            attachable: true,
            containers,
            options: n.options.clone(),
            labels: n.labels.clone(),
            dns_enabled: n.dns,
            network_interface: n.interface.clone(),
        })
    }

    /// docker's image inspect object for `name`.
    pub fn inspect_image(&self, name: &str) -> crate::Result<ImageInspect> {
        let img = self.images.resolve(name)?;
        let tags = self.images.store.tags().map_err(hull_image::images::ImageError::from)?;
        let repo_tags: Vec<String> = tags
            .iter()
            .filter(|(_, d)| **d == img.target)
            .filter_map(|(t, _)| t.parse::<hull_image::reference::Reference>().ok())
            .map(|r| format!("{}:{}", r.familiar_name(), r.tag.unwrap_or_default()))
            .collect();
        let repo_digests: Vec<String> =
            img.reference.iter().map(|r| format!("{}@{}", r.familiar_name(), img.target)).collect();
        Ok(ImageInspect {
            id: img.id.to_string(),
            repo_tags,
            repo_digests,
            created: img.config.created.clone(),
            author: img.config.author.clone(),
            architecture: img.config.architecture.clone(),
            os: img.config.os.clone(),
            variant: img.config.variant.clone(),
            config: img.config.config.clone().unwrap_or_default(),
            size: img.manifest.layers.iter().map(|l| l.size).sum::<u64>(),
            root_fs: RootFsView {
                typ: img.config.rootfs.typ.clone(),
                layers: img.config.rootfs.diff_ids.iter().map(|d| d.to_string()).collect(),
            },
            manifest: img.manifest_digest.to_string(),
        })
    }
}

/// docker's NetworkSettings: each network's endpoint and the published ports.
fn network_settings(c: &Container) -> NetworkSettings {
    let s = &c.state;
    let mut networks = BTreeMap::new();
    for a in &c.config.networks {
        let ep = s.endpoints.iter().find(|e| e.network == a.network);
        let v4 = ep.and_then(|e| e.ips.iter().find(|i| !i.contains(':')));
        let v6 = ep.and_then(|e| e.ips.iter().find(|i| i.contains(':')));
        let split = |c: Option<&String>| -> (String, u32) {
            c.and_then(|c| c.split_once('/'))
                .map_or((String::new(), 0), |(a, p)| (a.to_string(), p.parse().unwrap_or(0)))
        };
        let (ip, len) = split(v4);
        let (ip6, len6) = split(v6);
        networks.insert(
            a.network.clone(),
            EndpointSettings {
                aliases: a.aliases.clone(),
                network_id: ep.map(|e| e.network_id.clone()).unwrap_or_default(),
                endpoint_id: ep.map(|e| format!("{}-{}", &c.id[..12], e.ifname)).unwrap_or_default(),
                gateway: ep.and_then(|e| e.gateways.iter().find(|g| !g.contains(':')).cloned()).unwrap_or_default(),
                ip_address: ip,
                ip_prefix_len: len,
                global_ipv6_address: ip6,
                global_ipv6_prefix_len: len6,
                mac_address: ep.map(|e| e.mac.clone()).unwrap_or_default(),
                ipam_config: (!a.ips.is_empty())
                    .then(|| IpamConfig { ipv4_address: a.ips.iter().find(|i| i.is_ipv4()).map(|i| i.to_string()) }),
            },
        );
    }
    let mut ports: BTreeMap<String, Option<Vec<PortBinding>>> = BTreeMap::new();
    for p in &s.ports {
        let host_ip = if p.host_ip.is_empty() { "0.0.0.0".to_string() } else { p.host_ip.clone() };
        ports
            .entry(p.key())
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding { host_ip, host_port: p.host_port.to_string() });
    }
    // Published but not running: the ports as asked, unbound (docker's null).
    if s.ports.is_empty() {
        for p in &c.config.ports {
            ports.entry(p.key()).or_insert(None);
        }
    }
    let first = networks.values().next().cloned().unwrap_or_default();
    NetworkSettings {
        sandbox_key: s.netns.clone(),
        networks,
        ports,
        ip_address: first.ip_address,
        gateway: first.gateway,
        mac_address: first.mac_address,
    }
}

fn port_bindings(ports: &[hull_network::ports::PortMapping]) -> BTreeMap<String, Vec<PortBinding>> {
    let mut m: BTreeMap<String, Vec<PortBinding>> = BTreeMap::new();
    for p in ports {
        m.entry(p.key()).or_default().push(PortBinding {
            host_ip: p.host_ip.clone(),
            host_port: if p.host_port == 0 { String::new() } else { p.host_port.to_string() },
        });
    }
    m
}

fn throttles(rates: &[crate::model::DeviceRate]) -> Vec<ThrottleDevice> {
    rates.iter().map(|r| ThrottleDevice { path: r.path.clone(), rate: r.rate }).collect()
}

fn log_config(cfg: &crate::model::ContainerConfig) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if cfg.log_max_size > 0 {
        m.insert("max-size".into(), cfg.log_max_size.to_string());
        m.insert("max-file".into(), cfg.log_max_files.to_string());
    }
    m
}

/// docker's "3 minutes" style durations (`Up 3 minutes`, `2 hours ago`).
pub fn human_duration(secs: i64) -> String {
    match secs {
        s if s < 1 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        s if s < 120 => "About a minute".into(),
        s if s < 3600 => format!("{} minutes", s / 60),
        s if s < 7200 => "About an hour".into(),
        s if s < 48 * 3600 => format!("{} hours", s / 3600),
        s if s < 14 * 86_400 => format!("{} days", s / 86_400),
        s if s < 60 * 86_400 => format!("{} weeks", s / 604_800),
        s if s < 2 * 365 * 86_400 => format!("{} months", s / 2_592_000),
        s => format!("{} years", s / 31_536_000),
    }
}

/// Seconds since an RFC 3339 time (0 when it is not one).
pub fn since(t: &str) -> i64 {
    crate::time::seconds_between(t, crate::time::now_nanos()).max(0)
}

impl Engine {
    /// docker's status line (`ps`'s STATUS, the API's `Status`): `Up 3
    /// minutes (healthy)`, `Exited (0) 2 seconds ago`, `Created`.
    pub fn status_text(&self, c: &Container) -> String {
        let s = &c.state;
        let up = |extra: &str| {
            let health = self.health(c).map(|h| match h.status.as_str() {
                "starting" => " (health: starting)".to_string(),
                other => format!(" ({other})"),
            });
            format!("Up {}{}{extra}", human_duration(since(&s.started_at)), health.unwrap_or_default())
        };
        match s.status {
            Status::Created => "Created".into(),
            Status::Running => up(""),
            Status::Paused => up(" (Paused)"),
            Status::Restarting => format!("Restarting ({}) {} ago", s.exit_code, human_duration(since(&s.finished_at))),
            Status::Exited => format!("Exited ({}) {} ago", s.exit_code, human_duration(since(&s.finished_at))),
            Status::Removing => "Removal In Progress".into(),
        }
    }
}

#[cfg(test)]
mod duration_tests {
    #[test]
    fn durations() {
        assert_eq!(super::human_duration(0), "Less than a second");
        assert_eq!(super::human_duration(5), "5 seconds");
        assert_eq!(super::human_duration(90), "About a minute");
        assert_eq!(super::human_duration(3 * 3600), "3 hours");
    }
}
