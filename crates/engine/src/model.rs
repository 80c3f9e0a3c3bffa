//! What the engine keeps about a container: its configuration (fixed at
//! create) and its state (changed by the lifecycle), both stored as JSON in
//! the state database.

use hull_shim::config::RestartPolicy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A container's lifecycle status, as docker names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created, never started (or its start failed).
    #[default]
    Created,
    /// Its process runs.
    Running,
    /// Frozen.
    Paused,
    /// Waiting to be started again by its restart policy.
    Restarting,
    /// Its process ended.
    Exited,
    /// Being removed.
    Removing,
}

impl Status {
    /// docker's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Exited => "exited",
            Status::Removing => "removing",
        }
    }

    /// A shim supervises it.
    pub fn is_live(self) -> bool {
        matches!(self, Status::Running | Status::Paused | Status::Restarting)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a [`MountSpec`] mounts (docker's mount `Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    /// A host path.
    Bind,
    /// A named (or anonymous) volume.
    Volume,
    /// A tmpfs.
    Tmpfs,
}

impl MountKind {
    /// docker's name.
    pub fn as_str(self) -> &'static str {
        match self {
            MountKind::Bind => "bind",
            MountKind::Volume => "volume",
            MountKind::Tmpfs => "tmpfs",
        }
    }
}

impl std::fmt::Display for MountKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for MountKind {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<MountKind, ()> {
        match s {
            "bind" => Ok(MountKind::Bind),
            "volume" => Ok(MountKind::Volume),
            "tmpfs" => Ok(MountKind::Tmpfs),
            _ => Err(()),
        }
    }
}

/// A bind mount, named volume or tmpfs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountSpec {
    /// What it mounts.
    pub kind: MountKind,
    /// Host path (bind) or volume name (volume); empty for tmpfs.
    pub source: String,
    /// Path in the container.
    pub target: String,
    /// Read-only.
    pub readonly: bool,
    /// Extra mount options (tmpfs size=, mode=).
    pub options: Vec<String>,
    /// A volume made for the image's VOLUME, named by a random id, removed
    /// with the container by `rm -v` and `--rm`.
    #[serde(default)]
    pub anonymous: bool,
}

/// A device made in the container (`--device HOST[:CTR[:PERMS]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSpec {
    /// Host device path.
    pub host: String,
    /// Path in the container.
    pub container: String,
    /// Cgroup permissions, `rwm` by default.
    pub permissions: String,
}

/// A resource limit (`--ulimit name=soft[:hard]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    /// `nofile`, `nproc`, ...
    pub name: String,
    /// Soft limit.
    pub soft: u64,
    /// Hard limit.
    pub hard: u64,
}

/// cgroup limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Memory limit in bytes.
    pub memory: Option<i64>,
    /// Memory + swap in bytes (-1: unlimited).
    pub memory_swap: Option<i64>,
    /// CPUs in billionths.
    pub nano_cpus: Option<i64>,
    /// Relative CPU weight.
    pub cpu_shares: Option<u64>,
    /// Allowed CPUs.
    pub cpuset_cpus: Option<String>,
    /// Maximum number of tasks.
    pub pids_limit: Option<i64>,
    /// /dev/shm size in bytes.
    pub shm_size: Option<i64>,
    /// `--memory-reservation`: the soft limit, in bytes.
    pub memory_reservation: Option<i64>,
    /// `--oom-kill-disable`.
    pub oom_kill_disable: bool,
    /// `--cpu-period`, in microseconds.
    pub cpu_period: Option<u64>,
    /// `--cpu-quota`, in microseconds per period.
    pub cpu_quota: Option<i64>,
    /// `--cpuset-mems`: allowed memory nodes.
    pub cpuset_mems: Option<String>,
    /// `--blkio-weight` (10 to 1000).
    pub blkio_weight: Option<u16>,
    /// `--device-read-bps`.
    pub device_read_bps: Vec<DeviceRate>,
    /// `--device-write-bps`.
    pub device_write_bps: Vec<DeviceRate>,
}

/// A per-device I/O rate: `--device-read-bps /dev/sda:1mb`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRate {
    /// The host's device node.
    pub path: String,
    /// Bytes per second.
    pub rate: u64,
}

/// Which seccomp filter the container gets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeccompChoice {
    /// Hull's default profile (docker's equivalent).
    #[default]
    Default,
    /// No filter.
    Unconfined,
    /// A profile given by the user (its JSON).
    Custom(String),
}

/// Everything fixed when the container is created.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerConfig {
    /// The image as the user named it.
    pub image: String,
    /// The image id (`sha256:...`).
    pub image_id: String,
    /// Replaces the image's Cmd.
    pub cmd: Option<Vec<String>>,
    /// Replaces the image's Entrypoint.
    pub entrypoint: Option<Vec<String>>,
    /// Extra environment, `KEY=value`.
    pub env: Vec<String>,
    /// Working directory.
    pub workdir: Option<String>,
    /// `user[:group]`.
    pub user: Option<String>,
    /// Hostname (default: the short id).
    pub hostname: Option<String>,
    /// Allocate a terminal.
    pub tty: bool,
    /// Keep stdin open.
    pub stdin: bool,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Restart policy.
    pub restart: RestartPolicy,
    /// Remove the container when it exits.
    pub auto_remove: bool,
    /// Signal `stop` sends.
    pub stop_signal: Option<Signal>,
    /// Seconds `stop` waits before SIGKILL.
    pub stop_timeout: Option<i64>,
    /// Binds, volumes and tmpfs mounts.
    pub mounts: Vec<MountSpec>,
    /// Read-only root filesystem.
    pub read_only: bool,
    /// cgroup limits.
    pub limits: Limits,
    /// Resource limits.
    pub ulimits: Vec<Ulimit>,
    /// Capabilities added to the default set.
    pub cap_add: Vec<String>,
    /// Capabilities dropped from it.
    pub cap_drop: Vec<String>,
    /// All capabilities and devices, no confinement.
    pub privileged: bool,
    /// seccomp filter.
    pub seccomp: SeccompChoice,
    /// Set no_new_privs.
    pub no_new_privileges: bool,
    /// Namespaced sysctls.
    pub sysctls: BTreeMap<String, String>,
    /// `--group-add`: more groups for the process (names from the image's
    /// /etc/group, or numbers).
    #[serde(default)]
    pub group_add: Vec<String>,
    /// Devices.
    pub devices: Vec<DeviceSpec>,
    /// docker's network mode.
    pub network: NetworkMode,
    /// The networks it is attached to (bridge modes), first the primary.
    #[serde(default)]
    pub networks: Vec<NetworkAttachment>,
    /// Published ports (host port 0: chosen at start).
    #[serde(default)]
    pub ports: Vec<hull_network::ports::PortMapping>,
    /// Publish every port the image exposes, on random host ports.
    #[serde(default)]
    pub publish_all: bool,
    /// `--dns`: resolvers.
    #[serde(default)]
    pub dns: Vec<String>,
    /// `--dns-search`: search domains.
    #[serde(default)]
    pub dns_search: Vec<String>,
    /// `--dns-option`: resolver options.
    #[serde(default)]
    pub dns_options: Vec<String>,
    /// `--add-host`: `NAME:IP` lines for /etc/hosts.
    #[serde(default)]
    pub extra_hosts: Vec<String>,
    /// cgroup parent (default `/hull`).
    pub cgroup_parent: Option<String>,
    /// Log rotation: bytes per file (0: no rotation).
    pub log_max_size: u64,
    /// Log rotation: files kept.
    pub log_max_files: u32,
    /// Run an init (tini) as PID 1 that reaps and forwards signals.
    #[serde(default)]
    pub init: bool,
    /// The command it runs (entrypoint and cmd, resolved at create).
    #[serde(default)]
    pub command: Vec<String>,
    /// `--pid`: "" (its own), `host`, or `container:NAME`.
    pub pid_mode: String,
    /// `--ipc`: "" or `private`/`shareable` (its own), `none`, `host`, or `container:NAME`.
    pub ipc_mode: String,
    /// `--uts`: "" (its own) or `host`.
    pub uts_mode: String,
    /// `--domainname`.
    pub domainname: Option<String>,
    /// `--expose`: more ports it listens on (`80/tcp`), published by `-P`.
    pub expose: Vec<String>,
    /// `--log-driver`: `json-file` (or "", the default), `local`, or `none`.
    pub log_driver: String,
    /// `--volumes-from`, as given (`NAME[:ro|rw]`); their mounts are copied
    /// into `mounts` at create.
    pub volumes_from: Vec<String>,
    /// `--link`: `NAME:ALIAS` (the container's name at create), written into
    /// /etc/hosts at each start.
    pub links: Vec<String>,
    /// `--mac-address` on the first network.
    pub mac_address: Option<String>,
    /// `--log-opt labels=`: labels shown by `logs --details`.
    pub log_labels: Vec<String>,
    /// `--log-opt env=`: variables shown by `logs --details`.
    pub log_env: Vec<String>,
    /// The health check: the `--health-*` flags given, merged at create
    /// over the image's (each set field replaces the image's).
    pub healthcheck: Option<hull_shim::config::Healthcheck>,
    /// `--no-healthcheck`.
    pub no_healthcheck: bool,
    /// The OCI runtime (`--runtime`); empty: Hull's own.
    #[serde(default)]
    pub runtime: String,
}

/// Everything the lifecycle changes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContainerState {
    /// Status.
    pub status: Status,
    /// Host pid of the container's init (0 when not running).
    pub pid: i32,
    /// The shim's pid and start time (to detect a dead or reused pid).
    pub shim_pid: i32,
    /// The shim's start time in clock ticks since boot.
    pub shim_start: u64,
    /// Last exit code.
    pub exit_code: i32,
    /// When it last started, RFC 3339.
    pub started_at: String,
    /// When it last ended, RFC 3339.
    pub finished_at: String,
    /// Restarts by the policy.
    pub restart_count: u32,
    /// Killed by the OOM killer.
    pub oom_killed: bool,
    /// Why the last start or run failed.
    pub error: String,
    /// Stopped by the user (unless-stopped stays down).
    pub stopped_by_user: bool,
    /// Its last run ended with its shim's death (kill -9, a reboot), which
    /// no restart policy has answered yet: [`crate::Engine::recover`] does.
    #[serde(default)]
    pub shim_died: bool,
    /// The pinned network namespace while it runs (bridge modes).
    #[serde(default)]
    pub netns: String,
    /// Its interfaces on networks while it runs.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    /// Published ports as bound (random host ports chosen).
    #[serde(default)]
    pub ports: Vec<hull_network::ports::PortMapping>,
}

/// A container's place on a network, as asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkAttachment {
    /// Network name.
    pub network: String,
    /// Extra DNS names on it (`--network-alias`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// A fixed address (`--ip`, `--ip6`).
    #[serde(default)]
    pub ips: Vec<std::net::IpAddr>,
}

/// A container's interface on a network, as made.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Endpoint {
    /// Network name.
    pub network: String,
    /// Network id.
    pub network_id: String,
    /// Interface in the container.
    pub ifname: String,
    /// Addresses, CIDR.
    pub ips: Vec<String>,
    /// Gateways.
    pub gateways: Vec<String>,
    /// MAC address.
    pub mac: String,
    /// The CNI list it was added with (DEL gets the same).
    pub conflist: serde_json::Value,
    /// The capability arguments it was added with (portmap's DEL needs them).
    #[serde(default)]
    pub capability_args: serde_json::Map<String, serde_json::Value>,
}

/// A container as the engine reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Container {
    /// 64-hex id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Creation time, RFC 3339.
    pub created: String,
    /// The config.
    pub config: ContainerConfig,
    /// The state.
    pub state: ContainerState,
}

impl Container {
    /// The 12-character id.
    pub fn short_id(&self) -> &str {
        &self.id[..12.min(self.id.len())]
    }
}

/// docker's network mode (`--network`, `HostConfig.NetworkMode`), kept as
/// docker spells it (`none`, `host`, `container:NAME`, a network's name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum NetworkMode {
    /// Not said: the default network (`bridge`), chosen at create.
    #[default]
    Default,
    /// Loopback only.
    None,
    /// The host's network namespace.
    Host,
    /// Another container's namespace, by its name or id.
    Container(String),
    /// A network by name (`bridge` is the default one).
    Network(String),
}

impl NetworkMode {
    /// The container whose namespace this joins.
    pub fn container(&self) -> Option<&str> {
        match self {
            NetworkMode::Container(c) => Some(c),
            _ => None,
        }
    }

    /// `none`, `host` or `container:`: no network of the engine's.
    pub fn is_special(&self) -> bool {
        matches!(self, NetworkMode::None | NetworkMode::Host | NetworkMode::Container(_))
    }

    /// The host's namespace.
    pub fn is_host(&self) -> bool {
        *self == NetworkMode::Host
    }
}

impl From<String> for NetworkMode {
    fn from(s: String) -> Self {
        match s.as_str() {
            "" => NetworkMode::Default,
            "none" => NetworkMode::None,
            "host" => NetworkMode::Host,
            // docker's name for the daemon's default network.
            "default" => NetworkMode::Network(crate::networks::BRIDGE_ALIAS.into()),
            _ => match s.strip_prefix("container:") {
                Some(c) => NetworkMode::Container(c.to_string()),
                None => NetworkMode::Network(s),
            },
        }
    }
}

impl From<&str> for NetworkMode {
    fn from(s: &str) -> Self {
        NetworkMode::from(s.to_string())
    }
}

impl From<NetworkMode> for String {
    fn from(m: NetworkMode) -> String {
        m.to_string()
    }
}

impl std::fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetworkMode::Default => Ok(()),
            NetworkMode::None => f.write_str("none"),
            NetworkMode::Host => f.write_str("host"),
            NetworkMode::Container(c) => write!(f, "container:{c}"),
            NetworkMode::Network(n) => f.write_str(n),
        }
    }
}

#[cfg(test)]
mod network_mode_tests {
    use super::NetworkMode;

    #[test]
    fn dockers_spellings_round_trip() {
        for s in ["", "none", "host", "container:web", "bridge", "my-net"] {
            assert_eq!(NetworkMode::from(s).to_string(), s);
            let json = serde_json::to_string(&NetworkMode::from(s)).unwrap();
            assert_eq!(serde_json::from_str::<NetworkMode>(&json).unwrap(), NetworkMode::from(s));
        }
        assert_eq!(NetworkMode::from("container:web").container(), Some("web"));
        assert_eq!(NetworkMode::from("default"), NetworkMode::Network("bridge".into()));
        assert!(NetworkMode::from("host").is_special() && !NetworkMode::from("bridge").is_special());
    }
}

/// A signal as the user named it (`SIGTERM`, `TERM`, `15`, `SIGRTMIN+3`),
/// checked once when it is given: kept in its words (docker shows them),
/// delivered by number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Signal {
    given: String,
    number: i32,
}

impl Signal {
    /// SIGTERM, the stop signal of a container that names none.
    pub fn term() -> Signal {
        Signal { given: "SIGTERM".into(), number: libc::SIGTERM }
    }

    /// SIGKILL.
    pub fn kill() -> Signal {
        Signal { given: "SIGKILL".into(), number: libc::SIGKILL }
    }

    /// Its number.
    pub fn number(&self) -> i32 {
        self.number
    }

    /// As the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.given
    }
}

impl std::str::FromStr for Signal {
    type Err = crate::EngineError;
    fn from_str(s: &str) -> Result<Signal, Self::Err> {
        let number = hull_runtime::parse_signal(s)
            .map_err(|e| crate::EngineError::Invalid(format!("invalid signal {s:?}: {e}")))?
            as i32;
        Ok(Signal { given: s.to_string(), number })
    }
}

impl TryFrom<String> for Signal {
    type Error = crate::EngineError;
    fn try_from(s: String) -> Result<Signal, Self::Error> {
        s.parse()
    }
}

impl From<Signal> for String {
    fn from(s: Signal) -> String {
        s.given
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.given)
    }
}

#[cfg(test)]
mod signal_tests {
    use super::Signal;

    #[test]
    fn signals_keep_their_words_and_say_what_is_wrong() {
        for (s, n) in [("SIGTERM", 15), ("TERM", 15), ("9", 9), ("SIGUSR1", 10)] {
            let sig: Signal = s.parse().unwrap();
            assert_eq!((sig.as_str(), sig.number()), (s, n));
            assert_eq!(serde_json::to_string(&sig).unwrap(), format!("{s:?}"));
        }
        let e = "SIGNOPE".parse::<Signal>().unwrap_err();
        assert!(e.to_string().contains("SIGNOPE"), "{e}");
        assert!(serde_json::from_str::<Signal>("\"SIGNOPE\"").is_err());
    }
}
