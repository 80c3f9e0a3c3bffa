//! The flags `run` and `create` share, turned into the engine's config.

use hull_engine::model::{DeviceSpec, Limits, MountSpec, SeccompChoice};
use hull_engine::{units, ContainerConfig, CreateRequest};
use std::collections::BTreeMap;

/// Container options, as docker spells them.
#[derive(Debug, Clone, clap::Args)]
pub struct ContainerFlags {
    /// Assign a name to the container.
    #[arg(long)]
    pub name: Option<String>,
    /// Keep STDIN open.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Remove the container when it exits.
    #[arg(long)]
    pub rm: bool,
    /// Set environment variables (KEY=value, or KEY to take it from here).
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Read environment variables from a file.
    #[arg(long = "env-file")]
    pub env_file: Vec<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>]).
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image.
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Bind mount a volume (HOST:CTR[:ro] or NAME:CTR[:ro]).
    #[arg(short = 'v', long = "volume")]
    pub volume: Vec<String>,
    /// Attach a mount (type=bind|volume|tmpfs,source=..,target=..[,readonly]).
    #[arg(long)]
    pub mount: Vec<String>,
    /// Mount a tmpfs directory (PATH[:OPTIONS]).
    #[arg(long)]
    pub tmpfs: Vec<String>,
    /// Add additional groups to join.
    #[arg(long = "group-add")]
    pub group_add: Vec<String>,
    /// Mount the container's root filesystem as read only.
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Memory limit.
    #[arg(short = 'm', long, allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// Memory plus swap limit ('-1' for unlimited swap).
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Number of CPUs.
    #[arg(long, allow_hyphen_values = true)]
    pub cpus: Option<String>,
    /// CPU shares (relative weight).
    #[arg(short = 'c', long = "cpu-shares")]
    pub cpu_shares: Option<u64>,
    /// CPUs in which to allow execution (0-3, 0,1).
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// Tune the container pids limit (-1 for unlimited).
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Ulimit options (name=soft[:hard]).
    #[arg(long)]
    pub ulimit: Vec<String>,
    /// Add Linux capabilities.
    #[arg(long = "cap-add")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities.
    #[arg(long = "cap-drop")]
    pub cap_drop: Vec<String>,
    /// Give extended privileges to this container.
    #[arg(long)]
    pub privileged: bool,
    /// Security options (seccomp=FILE|unconfined, no-new-privileges).
    #[arg(long = "security-opt")]
    pub security_opt: Vec<String>,
    /// Container host name.
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Run an init inside the container that forwards signals and reaps processes.
    #[arg(long)]
    pub init: bool,
    /// Restart policy (no, on-failure[:max-retries], always, unless-stopped).
    #[arg(long, default_value = "no")]
    pub restart: String,
    /// Signal to stop the container.
    #[arg(long = "stop-signal")]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container.
    #[arg(long = "stop-timeout", allow_hyphen_values = true)]
    pub stop_timeout: Option<i64>,
    /// Set meta data on a container (KEY=value).
    #[arg(short = 'l', long = "label")]
    pub label: Vec<String>,
    /// Sysctl options (KEY=value).
    #[arg(long)]
    pub sysctl: Vec<String>,
    /// Add a host device to the container (HOST[:CTR[:PERMS]]).
    #[arg(long)]
    pub device: Vec<String>,
    /// Size of /dev/shm.
    #[arg(long = "shm-size")]
    pub shm_size: Option<String>,
    /// Connect the container to a network: bridge (the default network),
    /// a network's name, none, host or container:NAME|ID; repeat for more networks.
    #[arg(long, alias = "net")]
    pub network: Vec<String>,
    /// Add a network-scoped alias for the container.
    #[arg(long = "network-alias", alias = "net-alias")]
    pub network_alias: Vec<String>,
    /// IPv4 address on the (first) network.
    #[arg(long)]
    pub ip: Option<String>,
    /// IPv6 address on the (first) network.
    #[arg(long)]
    pub ip6: Option<String>,
    /// Publish a container's port(s) to the host ([IP:][HOST:]CTR[/PROTO]).
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports.
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Set custom DNS servers.
    #[arg(long)]
    pub dns: Vec<String>,
    /// Set custom DNS search domains.
    #[arg(long = "dns-search")]
    pub dns_search: Vec<String>,
    /// Set DNS options.
    #[arg(long = "dns-option", alias = "dns-opt")]
    pub dns_option: Vec<String>,
    /// Add a custom host-to-IP mapping (HOST:IP).
    #[arg(long = "add-host")]
    pub add_host: Vec<String>,
    /// Parent cgroup for the container (default /hull, or $HULL_CGROUP_PARENT).
    #[arg(long = "cgroup-parent")]
    pub cgroup_parent: Option<String>,
    /// Log driver options (max-size=, max-file=).
    #[arg(long = "log-opt")]
    pub log_opt: Vec<String>,
    /// Logging driver: json-file, local or none.
    #[arg(long = "log-driver")]
    pub log_driver: Option<String>,
    /// PID namespace: host or container:NAME.
    #[arg(long)]
    pub pid: Option<String>,
    /// IPC namespace: private, shareable, none, host or container:NAME.
    #[arg(long)]
    pub ipc: Option<String>,
    /// UTS namespace: host.
    #[arg(long)]
    pub uts: Option<String>,
    /// Container NIS domain name.
    #[arg(long)]
    pub domainname: Option<String>,
    /// Expose a port or a range of ports (published by -P).
    #[arg(long)]
    pub expose: Vec<String>,
    /// Read in a line delimited file of labels.
    #[arg(long = "label-file")]
    pub label_file: Vec<String>,
    /// Memory soft limit.
    #[arg(long = "memory-reservation")]
    pub memory_reservation: Option<String>,
    /// Disable OOM Killer.
    #[arg(long = "oom-kill-disable")]
    pub oom_kill_disable: bool,
    /// Limit CPU CFS (Completely Fair Scheduler) period.
    #[arg(long = "cpu-period")]
    pub cpu_period: Option<u64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota.
    #[arg(long = "cpu-quota", allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// MEMs in which to allow execution (0-3, 0,1).
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    /// Block IO (relative weight), between 10 and 1000.
    #[arg(long = "blkio-weight")]
    pub blkio_weight: Option<u16>,
    /// Limit read rate (bytes per second) from a device (DEVICE:RATE).
    #[arg(long = "device-read-bps")]
    pub device_read_bps: Vec<String>,
    /// Limit write rate (bytes per second) to a device (DEVICE:RATE).
    #[arg(long = "device-write-bps")]
    pub device_write_bps: Vec<String>,
    /// Write the container ID to the file.
    #[arg(long)]
    pub cidfile: Option<String>,
    /// Set platform if server is multi-platform capable.
    #[arg(long)]
    pub platform: Option<String>,
    /// The OCI runtime to run the container with (hull, runc, crun, runsc, or a configured name).
    #[arg(long)]
    pub runtime: Option<String>,
    /// Mount volumes from the specified container(s) (NAME[:ro|rw]).
    #[arg(long = "volumes-from")]
    pub volumes_from: Vec<String>,
    /// Add link to another container (NAME[:ALIAS]).
    #[arg(long)]
    pub link: Vec<String>,
    /// Container MAC address (e.g., 92:d0:c6:0a:29:33).
    #[arg(long = "mac-address")]
    pub mac_address: Option<String>,
    /// Attach to STDIN, STDOUT or STDERR.
    #[arg(short = 'a', long = "attach")]
    pub attach: Vec<String>,
    /// Command to run to check health.
    #[arg(long = "health-cmd")]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h).
    #[arg(long = "health-interval")]
    pub health_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h).
    #[arg(long = "health-timeout")]
    pub health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy.
    #[arg(long = "health-retries")]
    pub health_retries: Option<i64>,
    /// Start period for the container to initialize before counting retries (ms|s|m|h).
    #[arg(long = "health-start-period")]
    pub health_start_period: Option<String>,
    /// Time between running the check during the start period (ms|s|m|h).
    #[arg(long = "health-start-interval")]
    pub health_start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK.
    #[arg(long = "no-healthcheck")]
    pub no_healthcheck: bool,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

use hull_engine::parse::key_value;

fn rates(flag: &str, given: &[String]) -> anyhow::Result<Vec<hull_engine::model::DeviceRate>> {
    Ok(given.iter().map(|g| hull_engine::parse::device_rate(flag, g)).collect::<Result<_, _>>()?)
}

impl ContainerFlags {
    /// The engine's create request for `image` and `command`.
    pub fn request(&self, image: &str, command: &[String]) -> anyhow::Result<CreateRequest> {
        let mut env = Vec::new();
        for f in &self.env_file {
            let text = std::fs::read_to_string(f).map_err(|e| anyhow::anyhow!("open --env-file {f}: {e}"))?;
            env.extend(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from));
        }
        env.extend(self.env.iter().cloned());
        let env = env
            .into_iter()
            .filter_map(|e| if e.contains('=') { Some(e) } else { std::env::var(&e).ok().map(|v| format!("{e}={v}")) })
            .collect();
        let mut security = (SeccompChoice::Default, false);
        for o in &self.security_opt {
            security = match o.split_once(['=', ':']) {
                Some(("seccomp", "unconfined")) => (SeccompChoice::Unconfined, security.1),
                Some(("seccomp", file)) => (
                    SeccompChoice::Custom(
                        std::fs::read_to_string(file)
                            .map_err(|e| anyhow::anyhow!("open seccomp profile {file}: {e}"))?,
                    ),
                    security.1,
                ),
                None if o == "no-new-privileges" => (security.0, true),
                Some(("no-new-privileges", v)) => (security.0, v == "true"),
                _ => anyhow::bail!(
                    "invalid --security-opt {o:?}: Hull takes seccomp=FILE|unconfined and no-new-privileges"
                ),
            };
        }
        let log_driver = self.log_driver.as_deref().unwrap_or("json-file");
        // docker's `local` driver keeps 5 files of 20 MB by default (Hull
        // writes them in the json-file format).
        let mut log = if log_driver == "local" { (20u64 << 20, 5u32) } else { (0u64, 1u32) };
        match log_driver {
            "json-file" | "local" => {}
            "none" if self.log_opt.is_empty() => {}
            "none" => anyhow::bail!("the none logging driver takes no --log-opt"),
            other => anyhow::bail!("invalid --log-driver {other:?}: Hull has json-file, local and none"),
        }
        let (mut log_labels, mut log_env) = (Vec::new(), Vec::new());
        for o in &self.log_opt {
            match key_value("--log-opt", o)? {
                (k, v) if k == "labels" => log_labels.extend(v.split(',').filter(|x| !x.is_empty()).map(String::from)),
                (k, v) if k == "env" => log_env.extend(v.split(',').filter(|x| !x.is_empty()).map(String::from)),
                (k, v) if k == "max-size" => log.0 = units::parse_bytes("--log-opt max-size", &v)? as u64,
                (k, v) if k == "max-file" => {
                    log.1 = v.parse().map_err(|_| anyhow::anyhow!("invalid --log-opt max-file {v:?}"))?
                }
                (k, _) => {
                    anyhow::bail!(
                        "unknown --log-opt {k:?}: the json-file driver takes max-size, max-file, labels and env"
                    )
                }
            }
        }
        let config = ContainerConfig {
            image: image.to_string(),
            cmd: (!command.is_empty()).then(|| command.to_vec()),
            entrypoint: self.entrypoint.as_ref().map(|e| if e.is_empty() { vec![] } else { vec![e.clone()] }),
            env,
            workdir: self.workdir.clone(),
            user: self.user.clone(),
            hostname: self.hostname.clone(),
            tty: self.tty,
            stdin: self.interactive,
            labels: self.all_labels()?,
            restart: self.restart.parse()?,
            auto_remove: self.rm,
            stop_signal: self
                .stop_signal
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("invalid --stop-signal: {e}"))?,
            stop_timeout: self.stop_timeout,
            mounts: self.mounts()?,
            read_only: self.read_only,
            init: self.init,
            limits: self.limits()?,
            ulimits: self.ulimit.iter().map(|u| units::parse_ulimit(u)).collect::<Result<_, _>>()?,
            cap_add: self.cap_add.clone(),
            cap_drop: self.cap_drop.clone(),
            privileged: self.privileged,
            seccomp: security.0,
            no_new_privileges: security.1,
            group_add: self.group_add.clone(),
            sysctls: self.sysctl.iter().map(|s| key_value("--sysctl", s)).collect::<Result<BTreeMap<_, _>, _>>()?,
            devices: self.devices()?,
            network: self.network.first().map_or_else(|| "bridge".into(), |n| n.as_str().into()),
            networks: self.attachments()?,
            ports: self
                .publish
                .iter()
                .map(|p| hull_network::ports::parse(p))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .collect(),
            publish_all: self.publish_all,
            dns: self
                .dns
                .iter()
                .map(|d| {
                    d.parse::<std::net::IpAddr>()
                        .map(|_| d.clone())
                        .map_err(|_| anyhow::anyhow!("invalid --dns {d:?}: not an IP address"))
                })
                .collect::<anyhow::Result<_>>()?,
            dns_search: self.dns_search.clone(),
            dns_options: self.dns_option.clone(),
            extra_hosts: self.add_host.clone(),
            cgroup_parent: self.cgroup_parent.clone().or_else(|| std::env::var("HULL_CGROUP_PARENT").ok()),
            log_max_size: log.0,
            log_max_files: log.1,
            log_driver: log_driver.to_string(),
            pid_mode: self.pid.clone().unwrap_or_default(),
            ipc_mode: self.ipc.clone().unwrap_or_default(),
            uts_mode: self.uts.clone().unwrap_or_default(),
            domainname: self.domainname.clone(),
            expose: self.exposed()?,
            volumes_from: self.volumes_from.clone(),
            links: self.link.clone(),
            mac_address: self.mac_address.clone(),
            log_labels,
            log_env,
            healthcheck: self.healthcheck()?,
            no_healthcheck: self.no_healthcheck,
            runtime: self.runtime.clone().unwrap_or_default(),
            ..Default::default()
        };
        if config.network.is_host() && (!config.ports.is_empty() || config.publish_all) {
            eprintln!("WARNING: Published ports are discarded when using host network mode");
        }
        Ok(CreateRequest { name: self.name.clone(), config })
    }

    /// The `--health-*` flags given (each replaces the image's setting).
    fn healthcheck(&self) -> anyhow::Result<Option<hull_shim::config::Healthcheck>> {
        let d = |flag: &str, v: &Option<String>| -> anyhow::Result<i64> {
            Ok(v.as_deref().map(|s| units::parse_duration(flag, s)).transpose()?.unwrap_or(0))
        };
        let h = hull_shim::config::Healthcheck {
            test: self
                .health_cmd
                .iter()
                .map(|c| ["CMD-SHELL".to_string(), c.clone()])
                .next()
                .map(Vec::from)
                .unwrap_or_default(),
            interval: d("--health-interval", &self.health_interval)?,
            timeout: d("--health-timeout", &self.health_timeout)?,
            start_period: d("--health-start-period", &self.health_start_period)?,
            start_interval: d("--health-start-interval", &self.health_start_interval)?,
            retries: self.health_retries.unwrap_or(0),
        };
        if self.no_healthcheck && h != hull_shim::config::Healthcheck::default() {
            anyhow::bail!("--no-healthcheck conflicts with --health-* options");
        }
        if h.retries < 0 {
            anyhow::bail!("--health-retries cannot be negative");
        }
        Ok((h != hull_shim::config::Healthcheck::default()).then_some(h))
    }

    /// `-a`: which of stdin, stdout and stderr a foreground run attaches
    /// (all it has when none is named).
    pub fn streams(&self) -> anyhow::Result<super::attach::Streams> {
        if self.attach.is_empty() {
            return Ok(super::attach::Streams::ALL);
        }
        let mut s = super::attach::Streams { stdin: false, stdout: false, stderr: false };
        for a in &self.attach {
            match a.to_ascii_lowercase().as_str() {
                "stdin" => s.stdin = true,
                "stdout" => s.stdout = true,
                "stderr" => s.stderr = true,
                _ => anyhow::bail!(
                    "invalid argument \"{a}\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR"
                ),
            }
        }
        Ok(s)
    }

    /// `-l` over `--label-file` lines (docker: the flags win).
    fn all_labels(&self) -> anyhow::Result<BTreeMap<String, String>> {
        let mut given = Vec::new();
        for f in &self.label_file {
            let text = std::fs::read_to_string(f).map_err(|e| anyhow::anyhow!("open --label-file {f}: {e}"))?;
            given
                .extend(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from));
        }
        given.extend(self.label.iter().cloned());
        Ok(hull_engine::parse::labels(&given))
    }

    /// `--expose PORT[/PROTO]` or a range `START-END[/PROTO]`, as `80/tcp` keys.
    fn exposed(&self) -> anyhow::Result<Vec<String>> {
        let mut out = Vec::new();
        for e in &self.expose {
            out.extend(hull_engine::parse::expose(e).map_err(|err| anyhow::anyhow!("invalid --expose: {err}"))?);
        }
        Ok(out)
    }

    /// The networks as given, aliases and fixed addresses on the first.
    fn attachments(&self) -> anyhow::Result<Vec<hull_engine::model::NetworkAttachment>> {
        let mut out: Vec<hull_engine::model::NetworkAttachment> = self
            .network
            .iter()
            .map(|n| hull_engine::model::NetworkAttachment { network: n.clone(), ..Default::default() })
            .collect();
        let extra = !self.network_alias.is_empty() || self.ip.is_some() || self.ip6.is_some();
        if out.is_empty() && extra {
            anyhow::bail!("--ip, --ip6 and --network-alias need a user-defined --network");
        }
        if let Some(first) = out.first_mut() {
            first.aliases = self.network_alias.clone();
            for (flag, v) in [("--ip", &self.ip), ("--ip6", &self.ip6)] {
                if let Some(s) = v {
                    let ip: std::net::IpAddr =
                        s.parse().map_err(|_| anyhow::anyhow!("invalid {flag} {s:?}: not an IP address"))?;
                    if ip.is_ipv4() != (flag == "--ip") {
                        anyhow::bail!("invalid {flag} {s:?}: wrong address family");
                    }
                    first.ips.push(ip);
                }
            }
        }
        Ok(out)
    }

    fn limits(&self) -> anyhow::Result<Limits> {
        Ok(Limits {
            memory: self.memory.as_deref().map(|m| units::parse_bytes("--memory", m)).transpose()?,
            memory_swap: match self.memory_swap.as_deref() {
                Some("-1") => Some(-1),
                Some(s) => Some(units::parse_bytes("--memory-swap", s)?),
                None => None,
            },
            nano_cpus: self.cpus.as_deref().map(units::parse_cpus).transpose()?,
            cpu_shares: self.cpu_shares,
            cpuset_cpus: self.cpuset_cpus.clone(),
            pids_limit: self.pids_limit,
            shm_size: self.shm_size.as_deref().map(|s| units::parse_bytes("--shm-size", s)).transpose()?,
            memory_reservation: self
                .memory_reservation
                .as_deref()
                .map(|m| units::parse_bytes("--memory-reservation", m))
                .transpose()?,
            oom_kill_disable: self.oom_kill_disable,
            cpu_period: self.cpu_period,
            cpu_quota: self.cpu_quota,
            cpuset_mems: self.cpuset_mems.clone(),
            blkio_weight: self.blkio_weight,
            device_read_bps: rates("--device-read-bps", &self.device_read_bps)?,
            device_write_bps: rates("--device-write-bps", &self.device_write_bps)?,
        })
    }

    fn mounts(&self) -> anyhow::Result<Vec<MountSpec>> {
        let mut out = Vec::new();
        for v in &self.volume {
            // `./dir` binds are the CLI's to make absolute, as docker's
            // CLI does; a bare NAME is a volume.
            let spec = match v.split_once(':') {
                Some((src, rest)) if src.starts_with('.') => {
                    format!("{}:{rest}", absolute(src)?)
                }
                _ => v.clone(),
            };
            if hull_engine::parse::relabels(&spec) && !std::path::Path::new("/sys/fs/selinux/enforce").exists() {
                eprintln!("hull: -v {v}: SELinux is not enabled on this host; z/Z relabels nothing");
            }
            out.push(hull_engine::parse::bind(&spec)?);
        }
        for m in &self.mount {
            out.push(hull_engine::parse::mount(&relative_source(m)?)?);
        }
        for t in &self.tmpfs {
            let (path, opts) = t.split_once(':').unwrap_or((t, ""));
            out.push(hull_engine::parse::tmpfs(path, opts)?);
        }
        Ok(out)
    }

    fn devices(&self) -> anyhow::Result<Vec<DeviceSpec>> {
        Ok(self.device.iter().map(|d| hull_engine::parse::device(d)).collect::<Result<_, _>>()?)
    }
}

/// `--mount type=bind,source=./dir,...`: the relative source made absolute.
fn relative_source(csv: &str) -> anyhow::Result<String> {
    let mut fields = Vec::new();
    let bind = csv.split(',').any(|f| f == "type=bind");
    for f in csv.split(',') {
        match f.split_once('=') {
            Some((k @ ("source" | "src"), v)) if bind && !v.starts_with('/') => {
                fields.push(format!("{k}={}", absolute(v)?))
            }
            _ => fields.push(f.to_string()),
        }
    }
    Ok(fields.join(","))
}

fn absolute(p: &str) -> anyhow::Result<String> {
    let path = std::path::Path::new(p);
    if path.is_absolute() {
        return Ok(p.to_string());
    }
    Ok(std::env::current_dir()?.join(path).display().to_string())
}
