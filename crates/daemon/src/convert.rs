//! docker's `POST /containers/create` body (`Config` with `HostConfig` and
//! `NetworkingConfig`) to the engine's create request, through the same
//! parsers the CLI uses (`hull_engine::parse`). Fields docker itself ignores
//! on Linux are accepted and ignored; fields Hull cannot honour are refused
//! with a 400 naming them, never dropped silently.

use crate::error::{ApiError, ApiResult};
use hull_engine::model::{DeviceSpec, Limits, MountKind, MountSpec, NetworkAttachment, SeccompChoice, Ulimit};
use hull_engine::{ContainerConfig, CreateRequest, PortMapping};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateBody {
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub attach_stdin: bool,
    pub tty: bool,
    pub open_stdin: bool,
    pub env: Option<Vec<String>>,
    pub cmd: Option<StringOrList>,
    pub entrypoint: Option<StringOrList>,
    pub image: String,
    pub labels: Option<BTreeMap<String, String>>,
    pub working_dir: String,
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<i64>,
    pub healthcheck: Option<HealthConfig>,
    pub mac_address: Option<String>,
    pub network_disabled: bool,
    pub host_config: HostConfig,
    pub networking_config: Option<NetworkingConfig>,
}

/// `Cmd` and `Entrypoint` may be a string (docker's older clients).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    fn into_vec(self) -> Vec<String> {
        match self {
            StringOrList::One(s) => vec![s],
            StringOrList::Many(v) => v,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthConfig {
    pub test: Option<Vec<String>>,
    pub interval: i64,
    pub timeout: i64,
    pub retries: i64,
    pub start_period: i64,
    pub start_interval: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    pub binds: Option<Vec<String>>,
    pub log_config: Option<LogConfig>,
    pub network_mode: String,
    pub port_bindings: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    pub restart_policy: Option<RestartPolicyBody>,
    pub auto_remove: bool,
    pub volumes_from: Option<Vec<String>>,
    pub mounts: Option<Vec<MountBody>>,
    pub cap_add: Option<Vec<String>>,
    pub cap_drop: Option<Vec<String>>,
    pub cgroupns_mode: String,
    pub dns: Option<Vec<String>>,
    pub dns_options: Option<Vec<String>>,
    pub dns_search: Option<Vec<String>>,
    pub extra_hosts: Option<Vec<String>>,
    pub group_add: Option<Vec<String>>,
    pub ipc_mode: String,
    pub links: Option<Vec<String>>,
    pub pid_mode: String,
    pub privileged: bool,
    pub publish_all_ports: bool,
    pub readonly_rootfs: bool,
    pub security_opt: Option<Vec<String>>,
    pub tmpfs: Option<BTreeMap<String, String>>,
    #[serde(rename = "UTSMode")]
    pub uts_mode: String,
    pub userns_mode: String,
    pub shm_size: i64,
    pub sysctls: Option<BTreeMap<String, String>>,
    pub runtime: String,
    pub cpu_shares: i64,
    pub memory: i64,
    pub nano_cpus: i64,
    pub cgroup_parent: String,
    pub blkio_weight: u16,
    pub cpu_period: i64,
    pub cpu_quota: i64,
    pub cpuset_cpus: String,
    pub cpuset_mems: String,
    pub devices: Option<Vec<DeviceBody>>,
    pub memory_reservation: i64,
    pub memory_swap: i64,
    pub oom_kill_disable: Option<bool>,
    pub pids_limit: Option<i64>,
    pub ulimits: Option<Vec<UlimitBody>>,
    pub init: Option<bool>,
    pub blkio_device_read_bps: Option<Vec<RateBody>>,
    pub blkio_device_write_bps: Option<Vec<RateBody>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LogConfig {
    #[serde(rename = "Type")]
    pub typ: String,
    pub config: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortBinding {
    pub host_ip: String,
    pub host_port: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicyBody {
    pub name: String,
    pub maximum_retry_count: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MountBody {
    #[serde(rename = "Type")]
    pub typ: String,
    pub source: String,
    pub target: String,
    pub read_only: bool,
    pub bind_options: Option<BindOptions>,
    pub volume_options: Option<VolumeOptions>,
    pub tmpfs_options: Option<TmpfsOptions>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BindOptions {
    pub propagation: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeOptions {
    pub no_copy: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TmpfsOptions {
    pub size_bytes: i64,
    pub mode: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeviceBody {
    pub path_on_host: String,
    pub path_in_container: String,
    pub cgroup_permissions: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UlimitBody {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RateBody {
    pub path: String,
    pub rate: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkingConfig {
    pub endpoints_config: Option<BTreeMap<String, EndpointBody>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointBody {
    pub aliases: Option<Vec<String>>,
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<IpamBody>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IpamBody {
    #[serde(rename = "IPv4Address")]
    pub ipv4: String,
    #[serde(rename = "IPv6Address")]
    pub ipv6: String,
}

fn opt(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn pos<T: Default + PartialEq>(v: T) -> Option<T> {
    (v != T::default()).then_some(v)
}

/// The engine's request for a create body named `name`.
pub fn create_request(name: Option<String>, b: CreateBody) -> ApiResult<CreateRequest> {
    let h = b.host_config;
    let bad = |m: String| ApiError::bad_request(m);
    if b.image.is_empty() {
        return Err(bad("no image given: Config.Image is required".into()));
    }
    for (field, value, ok) in [
        ("HostConfig.UsernsMode", h.userns_mode.as_str(), &["", "host"][..]),
        ("HostConfig.CgroupnsMode", h.cgroupns_mode.as_str(), &["", "private"][..]),
    ] {
        if !ok.contains(&value) {
            return Err(bad(format!("{field} {value:?} is not supported by Hull")));
        }
    }
    let mut mounts = Vec::new();
    for bind in h.binds.unwrap_or_default() {
        mounts.push(hull_engine::parse::bind(&bind)?);
    }
    for m in h.mounts.unwrap_or_default() {
        let kind: MountKind = m.typ.parse().map_err(|_| bad(format!("mount type {:?} is not supported", m.typ)))?;
        let mut options = Vec::new();
        if let Some(p) = m.bind_options.map(|o| o.propagation).filter(|p| !p.is_empty()) {
            options.push(p);
        }
        if m.volume_options.is_some_and(|o| o.no_copy) {
            options.push("nocopy".into());
        }
        if let Some(t) = m.tmpfs_options {
            if t.size_bytes > 0 {
                options.push(format!("size={}", t.size_bytes));
            }
            if t.mode > 0 {
                options.push(format!("mode={:o}", t.mode));
            }
        }
        if m.target.is_empty() {
            return Err(bad("invalid mount config: a mount needs a Target".into()));
        }
        let anonymous = kind == MountKind::Volume && m.source.is_empty();
        mounts.push(MountSpec { kind, source: m.source, target: m.target, readonly: m.read_only, options, anonymous });
    }
    for (path, options) in h.tmpfs.unwrap_or_default() {
        mounts.push(hull_engine::parse::tmpfs(&path, &options)?);
    }
    // `docker run -v /data`: an anonymous volume, sent as Config.Volumes.
    for path in b.volumes.unwrap_or_default().into_keys() {
        if !mounts.iter().any(|m| m.target.trim_end_matches('/') == path.trim_end_matches('/')) {
            mounts.push(hull_engine::parse::bind(&path)?);
        }
    }
    let mut ports = Vec::new();
    for (key, bindings) in h.port_bindings.unwrap_or_default() {
        let (port, proto) = key.split_once('/').unwrap_or((&key, "tcp"));
        let container_port: u16 = port.parse().map_err(|_| bad(format!("invalid port {key:?}")))?;
        for pb in bindings.unwrap_or_default() {
            let host_port = if pb.host_port.is_empty() {
                0
            } else {
                pb.host_port.parse().map_err(|_| bad(format!("invalid host port {:?}", pb.host_port)))?
            };
            ports.push(PortMapping { host_ip: pb.host_ip, host_port, container_port, protocol: proto.to_string() });
        }
    }
    let mut expose = Vec::new();
    for key in b.exposed_ports.unwrap_or_default().into_keys() {
        expose.extend(hull_engine::parse::expose(&key)?);
    }
    let restart = match h.restart_policy {
        Some(r) if r.name == "on-failure" => hull_engine::RestartPolicy::OnFailure(r.maximum_retry_count),
        Some(r) if !r.name.is_empty() && r.name != "no" => {
            r.name.parse().map_err(|e: hull_shim::config::BadRestartPolicy| bad(e.to_string()))?
        }
        _ => hull_engine::RestartPolicy::No,
    };
    let (mut seccomp, mut no_new_privileges) = (SeccompChoice::Default, false);
    for o in h.security_opt.unwrap_or_default() {
        match o.split_once(['=', ':']) {
            Some(("seccomp", "unconfined")) => seccomp = SeccompChoice::Unconfined,
            // The docker CLI sends the profile's JSON itself.
            Some(("seccomp", profile)) => seccomp = SeccompChoice::Custom(profile.to_string()),
            None if o == "no-new-privileges" => no_new_privileges = true,
            Some(("no-new-privileges", v)) => no_new_privileges = v == "true",
            // No LSM on this kind of host: docker ignores labels it cannot apply too.
            Some(("label" | "apparmor", _)) => {}
            _ => return Err(bad(format!("invalid --security-opt {o:?}"))),
        }
    }
    let log = h.log_config.unwrap_or_default();
    let log_driver = if log.typ.is_empty() { "json-file".to_string() } else { log.typ };
    if !matches!(log_driver.as_str(), "json-file" | "local" | "none") {
        return Err(bad(format!("logging driver {log_driver:?} is not supported: Hull has json-file, local and none")));
    }
    let mut log_max = if log_driver == "local" { (20u64 << 20, 5u32) } else { (0, 1) };
    let (mut log_labels, mut log_env) = (Vec::new(), Vec::new());
    for (k, v) in log.config.unwrap_or_default() {
        match k.as_str() {
            "max-size" => log_max.0 = hull_engine::units::parse_bytes("max-size", &v)? as u64,
            "max-file" => log_max.1 = v.parse().map_err(|_| bad(format!("invalid max-file {v:?}")))?,
            "labels" => log_labels.extend(v.split(',').filter(|x| !x.is_empty()).map(String::from)),
            "env" => log_env.extend(v.split(',').filter(|x| !x.is_empty()).map(String::from)),
            other => return Err(bad(format!("unknown log opt {other:?} for the {log_driver} driver"))),
        }
    }
    let network = if b.network_disabled {
        "none".to_string()
    } else {
        opt(h.network_mode.clone()).unwrap_or_else(|| "bridge".into())
    };
    // "default" is docker's name for the bridge.
    let network = if network == "default" { "bridge".to_string() } else { network };
    let mut networks = Vec::new();
    let endpoints = b.networking_config.and_then(|n| n.endpoints_config).unwrap_or_default();
    let user_net = !matches!(network.as_str(), "bridge" | "host" | "none") && !network.starts_with("container:");
    if user_net {
        networks.push(NetworkAttachment { network: network.clone(), ..Default::default() });
    }
    for (net, ep) in endpoints {
        let net = if net == "default" { "bridge".to_string() } else { net };
        let att = match networks.iter_mut().find(|a: &&mut NetworkAttachment| a.network == net) {
            Some(a) => a,
            None if net == "bridge" || net == network => continue,
            None => {
                networks.push(NetworkAttachment { network: net.clone(), ..Default::default() });
                networks.last_mut().ok_or_else(|| bad("no network".into()))?
            }
        };
        att.aliases.extend(ep.aliases.unwrap_or_default());
        if let Some(ipam) = ep.ipam_config {
            for ip in [ipam.ipv4, ipam.ipv6].into_iter().filter(|s| !s.is_empty()) {
                att.ips.push(ip.parse().map_err(|_| bad(format!("invalid IP address {ip:?}")))?);
            }
        }
    }
    let healthcheck = b.healthcheck.map(|hc| hull_shim::config::Healthcheck {
        test: hc.test.unwrap_or_default(),
        interval: hc.interval,
        timeout: hc.timeout,
        start_period: hc.start_period,
        start_interval: hc.start_interval,
        retries: hc.retries,
    });
    let no_healthcheck = healthcheck.as_ref().is_some_and(|h| h.test.first().is_some_and(|t| t == "NONE"));
    let limits = Limits {
        memory: pos(h.memory),
        memory_swap: pos(h.memory_swap),
        nano_cpus: pos(h.nano_cpus),
        cpu_shares: pos(h.cpu_shares.max(0) as u64),
        cpuset_cpus: opt(h.cpuset_cpus),
        pids_limit: h.pids_limit.filter(|p| *p != 0),
        shm_size: pos(h.shm_size),
        memory_reservation: pos(h.memory_reservation),
        oom_kill_disable: h.oom_kill_disable.unwrap_or(false),
        cpu_period: pos(h.cpu_period.max(0) as u64),
        cpu_quota: pos(h.cpu_quota),
        cpuset_mems: opt(h.cpuset_mems),
        blkio_weight: pos(h.blkio_weight),
        device_read_bps: rates(h.blkio_device_read_bps),
        device_write_bps: rates(h.blkio_device_write_bps),
    };
    let ulimits = h
        .ulimits
        .unwrap_or_default()
        .into_iter()
        .map(|u| Ulimit { name: u.name, soft: u.soft.max(0) as u64, hard: u.hard.max(0) as u64 })
        .collect();
    let devices = h
        .devices
        .unwrap_or_default()
        .into_iter()
        .map(|d| DeviceSpec {
            container: if d.path_in_container.is_empty() { d.path_on_host.clone() } else { d.path_in_container },
            host: d.path_on_host,
            permissions: if d.cgroup_permissions.is_empty() { "rwm".into() } else { d.cgroup_permissions },
        })
        .collect();
    let config = ContainerConfig {
        image: b.image,
        cmd: b.cmd.map(StringOrList::into_vec),
        entrypoint: b.entrypoint.map(StringOrList::into_vec),
        env: b.env.unwrap_or_default(),
        workdir: opt(b.working_dir),
        user: opt(b.user),
        hostname: opt(b.hostname),
        domainname: opt(b.domainname),
        tty: b.tty,
        stdin: b.open_stdin || b.attach_stdin,
        labels: b.labels.unwrap_or_default(),
        restart,
        auto_remove: h.auto_remove,
        stop_signal: b
            .stop_signal
            .filter(|s| !s.is_empty())
            .map(|s| s.parse())
            .transpose()
            .map_err(|e: hull_engine::EngineError| bad(e.to_string()))?,
        stop_timeout: b.stop_timeout,
        mounts,
        read_only: h.readonly_rootfs,
        init: h.init.unwrap_or(false),
        limits,
        ulimits,
        cap_add: h.cap_add.unwrap_or_default(),
        cap_drop: h.cap_drop.unwrap_or_default(),
        privileged: h.privileged,
        seccomp,
        no_new_privileges,
        group_add: h.group_add.unwrap_or_default(),
        sysctls: h.sysctls.unwrap_or_default(),
        devices,
        network: network.into(),
        networks,
        ports,
        publish_all: h.publish_all_ports,
        dns: h.dns.unwrap_or_default(),
        dns_search: h.dns_search.unwrap_or_default(),
        dns_options: h.dns_options.unwrap_or_default(),
        extra_hosts: h.extra_hosts.unwrap_or_default(),
        cgroup_parent: opt(h.cgroup_parent),
        log_max_size: log_max.0,
        log_max_files: log_max.1,
        log_driver,
        pid_mode: h.pid_mode,
        ipc_mode: h.ipc_mode,
        uts_mode: h.uts_mode,
        expose,
        volumes_from: h.volumes_from.unwrap_or_default(),
        links: h.links.unwrap_or_default(),
        mac_address: b.mac_address.filter(|m| !m.is_empty()),
        log_labels,
        log_env,
        healthcheck: healthcheck.filter(|_| !no_healthcheck),
        no_healthcheck,
        runtime: h.runtime,
        ..Default::default()
    };
    Ok(CreateRequest { name, config })
}

fn rates(r: Option<Vec<RateBody>>) -> Vec<hull_engine::model::DeviceRate> {
    r.unwrap_or_default().into_iter().map(|r| hull_engine::model::DeviceRate { path: r.path, rate: r.rate }).collect()
}

/// `POST /containers/{id}/update`: docker's `UpdateConfig` (its Resources
/// and RestartPolicy; zero or absent leaves a setting as it is, as docker's).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdateBody {
    pub memory: i64,
    pub memory_swap: i64,
    pub memory_reservation: i64,
    pub nano_cpus: i64,
    pub cpu_shares: i64,
    pub cpu_period: i64,
    pub cpu_quota: i64,
    pub cpuset_cpus: String,
    pub cpuset_mems: String,
    pub pids_limit: Option<i64>,
    pub blkio_weight: u16,
    pub restart_policy: Option<RestartPolicyBody>,
}

pub fn update_request(b: UpdateBody) -> ApiResult<hull_engine::UpdateRequest> {
    let bad = |m: String| ApiError::bad_request(m);
    let nz = |v: i64| (v != 0).then_some(v);
    let restart = match b.restart_policy {
        Some(r) if r.name == "on-failure" => Some(hull_engine::RestartPolicy::OnFailure(r.maximum_retry_count)),
        Some(r) if r.name == "no" => Some(hull_engine::RestartPolicy::No),
        Some(r) if !r.name.is_empty() => {
            Some(r.name.parse().map_err(|e: hull_shim::config::BadRestartPolicy| bad(e.to_string()))?)
        }
        _ => None,
    };
    // -1 means unlimited only for the swap and the CFS quota, as in docker.
    let negative = [b.memory, b.memory_reservation, b.nano_cpus, b.cpu_shares, b.cpu_period].iter().any(|v| *v < 0);
    if negative || b.memory_swap < -1 || b.cpu_quota < -1 {
        return Err(bad("invalid resources: values cannot be negative (but -1 for MemorySwap and CpuQuota)".into()));
    }
    Ok(hull_engine::UpdateRequest {
        memory: nz(b.memory),
        memory_swap: nz(b.memory_swap),
        memory_reservation: nz(b.memory_reservation),
        nano_cpus: nz(b.nano_cpus),
        cpu_shares: nz(b.cpu_shares).map(|v| v as u64),
        cpu_period: nz(b.cpu_period).map(|v| v as u64),
        cpu_quota: nz(b.cpu_quota),
        cpuset_cpus: (!b.cpuset_cpus.is_empty()).then_some(b.cpuset_cpus),
        cpuset_mems: (!b.cpuset_mems.is_empty()).then_some(b.cpuset_mems),
        pids_limit: b.pids_limit.filter(|p| *p != 0),
        blkio_weight: (b.blkio_weight != 0).then_some(b.blkio_weight),
        restart,
    })
}
