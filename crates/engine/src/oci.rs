//! A container's OCI runtime config: the image's config turned into a spec
//! (hull_image::runtime_spec), then docker's defaults and the user's flags.

use crate::error::{EngineError, Result};
use crate::model::{ContainerConfig, MountKind, SeccompChoice};
use hull_image::manifest::ImageConfig;
use hull_image::runtime_spec::{spec_for_image, SpecOptions};
use hull_spec::{Capabilities, DeviceCgroup, Mount, NamespaceType, Rlimit, Spec};
use std::path::Path;

/// docker's default capability set.
pub const DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Every capability Linux knows.
pub const ALL_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Normalises `net_admin` / `NET_ADMIN` / `CAP_NET_ADMIN`; `ALL` stays.
fn cap_name(flag: &str, s: &str) -> Result<String> {
    let up = s.trim().to_ascii_uppercase();
    if up == "ALL" {
        return Ok(up);
    }
    let full = if up.starts_with("CAP_") { up } else { format!("CAP_{up}") };
    if !ALL_CAPS.contains(&full.as_str()) {
        return Err(EngineError::Invalid(format!("invalid {flag} {s:?}: unknown capability")));
    }
    Ok(full)
}

/// Every capability this process may pass on (its bounding set): "all"
/// for --privileged and --cap-add ALL, since no process can grant more.
pub fn held_caps() -> Vec<String> {
    let bits = status_caps("CapBnd:").unwrap_or(u64::MAX);
    // ALL_CAPS is in capability-number order.
    ALL_CAPS.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, c)| c.to_string()).collect()
}

/// The capabilities a container gets: docker's defaults, plus and minus.
pub fn capabilities(cfg: &ContainerConfig) -> Result<Vec<String>> {
    if cfg.privileged {
        return Ok(held_caps());
    }
    let add = cfg.cap_add.iter().map(|c| cap_name("--cap-add", c)).collect::<Result<Vec<_>>>()?;
    let drop = cfg.cap_drop.iter().map(|c| cap_name("--cap-drop", c)).collect::<Result<Vec<_>>>()?;
    let mut set: Vec<String> = if drop.iter().any(|d| d == "ALL") {
        Vec::new()
    } else {
        DEFAULT_CAPS.iter().filter(|c| !drop.iter().any(|d| d == *c)).map(|s| s.to_string()).collect()
    };
    if add.iter().any(|a| a == "ALL") {
        set = held_caps();
    }
    for a in add.into_iter().filter(|a| a != "ALL") {
        if !set.contains(&a) {
            set.push(a);
        }
    }
    Ok(set)
}

/// Files the engine writes for the container and bind-mounts in.
pub struct EtcFiles<'a> {
    /// /etc/hostname.
    pub hostname: &'a Path,
    /// /etc/hosts.
    pub hosts: &'a Path,
    /// /etc/resolv.conf.
    pub resolv: &'a Path,
    /// The network namespace to join (None: the host's when the mode is
    /// `host`, else a new one).
    pub netns: Option<&'a Path>,
    /// `--pid`, `--ipc`, `--uts` other than a namespace of its own: the
    /// host's (None) or one to join.
    pub shared: &'a [(NamespaceType, Option<std::path::PathBuf>)],
    /// Where /dev/shm comes from with `--ipc host|container:`; `--ipc none`
    /// has none at all.
    pub shm: ShmSource,
}

/// The container's /dev/shm.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ShmSource {
    /// A tmpfs of its own.
    #[default]
    Own,
    /// None (`--ipc none`).
    None,
    /// This directory bound (the host's, or another container's).
    Bind(std::path::PathBuf),
}

/// A `--group-add` group: a number, or a name in the image's /etc/group
/// (read inside the root, as every image file is).
fn group_id(rootfs: &Path, group: &str) -> Result<u32> {
    if let Ok(n) = group.parse() {
        return Ok(n);
    }
    let (_, gid, _, _) = hull_image::runtime_spec::resolve_user(&format!("0:{group}"), rootfs)
        .map_err(|_| EngineError::Invalid(format!("--group-add {group}: no such group in the image's /etc/group")))?;
    Ok(gid)
}

/// The container's hostname: `--hostname`, else the host's on the host's
/// network (docker), else its short id.
pub(crate) fn hostname_of(cfg: &ContainerConfig, id: &str) -> String {
    if let Some(h) = &cfg.hostname {
        return h.clone();
    }
    if cfg.network.is_host() || cfg.uts_mode == "host" {
        if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
            return h.trim().to_string();
        }
    }
    id[..12].to_string()
}

/// Builds the container's config; `rootfs` is its mounted root.
pub fn build(
    id: &str,
    cfg: &ContainerConfig,
    image: &ImageConfig,
    rootfs: &Path,
    etc: &EtcFiles,
    volume_dir: &dyn Fn(&str) -> std::path::PathBuf,
) -> Result<Spec> {
    let opts = SpecOptions {
        cmd: cfg.cmd.clone(),
        entrypoint: cfg.entrypoint.clone(),
        env: cfg.env.clone(),
        workdir: cfg.workdir.clone(),
        user: cfg.user.clone(),
        hostname: Some(hostname_of(cfg, id)),
    };
    let mut spec = spec_for_image(image, rootfs, &opts)?;
    let caps = capabilities(cfg)?;
    if let Some(p) = spec.process.as_mut() {
        p.terminal = Some(cfg.tty);
        for g in &cfg.group_add {
            let gid = group_id(rootfs, g)?;
            let list = p.user.additional_gids.get_or_insert_with(Vec::new);
            if !list.contains(&gid) && gid != p.user.gid {
                list.push(gid);
            }
        }
        // docker's daemon environment: HOSTNAME first, unless given.
        let env = p.env.get_or_insert_with(Vec::new);
        if !env.iter().any(|e| e.starts_with("HOSTNAME=")) {
            let host = spec.hostname.clone().unwrap_or_default();
            env.insert(0, format!("HOSTNAME={host}"));
        }
        if cfg.tty && !p.env.iter().flatten().any(|e| e.starts_with("TERM=")) {
            p.env.get_or_insert_with(Vec::new).push("TERM=xterm".into());
        }
        p.capabilities = Some(Capabilities {
            bounding: Some(caps.clone()),
            effective: Some(caps.clone()),
            permitted: Some(caps.clone()),
            inheritable: None,
            ambient: None,
        });
        p.no_new_privileges = Some(cfg.no_new_privileges);
        p.rlimits = Some(rlimits(cfg)?);
    }
    if let Some(root) = spec.root.as_mut() {
        root.readonly = Some(cfg.read_only);
    }
    spec.annotations = Some(cfg.labels.clone()).filter(|l| !l.is_empty());
    let mounts = spec.mounts.get_or_insert_with(Vec::new);
    harden_kernel_mounts(mounts);
    if let Some(size) = cfg.limits.shm_size {
        if let Some(shm) = mounts.iter_mut().find(|m| m.destination == Path::new("/dev/shm")) {
            let opts = shm.options.get_or_insert_with(Vec::new);
            opts.retain(|o| !o.starts_with("size="));
            opts.push(format!("size={size}"));
        }
    }
    match &etc.shm {
        ShmSource::Own => {}
        ShmSource::None => mounts.retain(|m| m.destination != Path::new("/dev/shm")),
        ShmSource::Bind(dir) => {
            for m in mounts.iter_mut().filter(|m| m.destination == Path::new("/dev/shm")) {
                *m = Mount {
                    destination: "/dev/shm".into(),
                    typ: Some("bind".into()),
                    source: Some(dir.clone()),
                    options: Some(["rbind", "nosuid", "noexec", "nodev"].iter().map(|s| s.to_string()).collect()),
                    ..Default::default()
                };
            }
        }
    }
    let bind = |src: &Path, dst: &str, ro: bool| Mount {
        destination: dst.into(),
        typ: Some("bind".into()),
        source: Some(src.to_path_buf()),
        options: Some(["rbind", "rprivate", if ro { "ro" } else { "rw" }].iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    };
    mounts.push(bind(etc.hostname, "/etc/hostname", false));
    mounts.push(bind(etc.hosts, "/etc/hosts", false));
    mounts.push(bind(etc.resolv, "/etc/resolv.conf", false));
    for m in &cfg.mounts {
        match m.kind {
            MountKind::Tmpfs => {
                let mut o: Vec<String> = vec!["nosuid".into(), "nodev".into(), "noexec".into()];
                o.extend(m.options.iter().cloned());
                if m.readonly {
                    o.push("ro".into());
                }
                mounts.push(Mount {
                    destination: m.target.clone().into(),
                    typ: Some("tmpfs".into()),
                    source: Some("tmpfs".into()),
                    options: Some(o),
                    ..Default::default()
                });
            }
            kind => {
                let src = if kind == MountKind::Volume { volume_dir(&m.source) } else { m.source.clone().into() };
                let mut b = bind(&src, &m.target, m.readonly);
                // -v SRC:DST:rshared and friends replace the default rprivate.
                const PROPAGATION: [&str; 6] = ["shared", "rshared", "slave", "rslave", "private", "rprivate"];
                if let Some(p) = m.options.iter().find(|o| PROPAGATION.contains(&o.as_str())) {
                    for o in b.options.iter_mut().flatten().filter(|o| *o == "rprivate") {
                        *o = p.clone();
                    }
                }
                mounts.push(b);
            }
        }
    }
    if cfg.init {
        add_init(&mut spec)?;
    }
    let linux = spec.linux.get_or_insert_with(Default::default);
    if let Some(ns) = linux.namespaces.as_mut() {
        match etc.netns {
            Some(p) => {
                for n in ns.iter_mut().filter(|n| n.typ == NamespaceType::Network) {
                    n.path = Some(p.to_path_buf());
                }
            }
            None if cfg.network.is_host() || cfg.network.container().is_some() => {
                ns.retain(|n| n.typ != NamespaceType::Network)
            }
            None => {}
        }
    }
    if let Some(ns) = linux.namespaces.as_mut() {
        for (typ, choice) in etc.shared {
            match choice {
                None => ns.retain(|n| n.typ != *typ),
                Some(path) => ns.iter_mut().filter(|n| n.typ == *typ).for_each(|n| n.path = Some(path.clone())),
            }
        }
    }
    if cfg.uts_mode == "host" {
        // The host's UTS namespace: its names are not ours to set.
        spec.hostname = None;
    } else {
        spec.domainname = cfg.domainname.clone();
    }
    let linux = spec.linux.get_or_insert_with(Default::default);
    linux.cgroups_path = Some(format!("{}/{id}", cfg.cgroup_parent.as_deref().unwrap_or("/hull")).into());
    linux.sysctl = Some(cfg.sysctls.clone()).filter(|s| !s.is_empty());
    apply_limits(&cfg.limits, linux.resources.get_or_insert_with(Default::default))?;
    devices(cfg, linux)?;
    if cfg.privileged {
        linux.masked_paths = None;
        linux.readonly_paths = None;
    } else {
        // As podman masks them: the host's power capping and block devices.
        let masked = linux.masked_paths.get_or_insert_with(Vec::new);
        masked.extend(["/sys/devices/virtual/powercap".to_string(), "/sys/dev/block".to_string()]);
    }
    linux.seccomp = match (&cfg.seccomp, cfg.privileged) {
        (_, true) | (SeccompChoice::Unconfined, _) => None,
        (SeccompChoice::Default, _) => Some(crate::seccomp_profile::default_for(&caps)),
        (SeccompChoice::Custom(json), _) => {
            Some(serde_json::from_str(json).map_err(|e| EngineError::Invalid(format!("--security-opt seccomp: {e}")))?)
        }
    };
    Ok(spec)
}

/// The container's limits as the runtime's `linux.resources` (at create,
/// and for `update`).
pub(crate) fn apply_limits(l: &crate::model::Limits, res: &mut hull_spec::Resources) -> Result<()> {
    if l.memory.is_some() || l.memory_swap.is_some() {
        let mem = res.memory.get_or_insert_with(Default::default);
        mem.limit = l.memory;
        mem.swap = match (l.memory, l.memory_swap) {
            (_, Some(s)) => Some(s),
            // docker: swap defaults to as much again as the memory limit.
            (Some(m), None) => Some(m * 2),
            _ => None,
        };
    }
    if l.memory_reservation.is_some() || l.oom_kill_disable {
        let mem = res.memory.get_or_insert_with(Default::default);
        mem.reservation = l.memory_reservation;
        mem.disable_oom_killer = l.oom_kill_disable.then_some(true);
    }
    let any_cpu = l.nano_cpus.is_some() || l.cpu_shares.is_some() || l.cpuset_cpus.is_some();
    if any_cpu || l.cpu_period.is_some() || l.cpu_quota.is_some() || l.cpuset_mems.is_some() {
        let cpu = res.cpu.get_or_insert_with(Default::default);
        if let Some(n) = l.nano_cpus {
            cpu.period = Some(100_000);
            cpu.quota = Some(n / 10_000);
        }
        cpu.period = l.cpu_period.or(cpu.period);
        cpu.quota = l.cpu_quota.or(cpu.quota);
        cpu.shares = l.cpu_shares;
        cpu.cpus = l.cpuset_cpus.clone();
        cpu.mems = l.cpuset_mems.clone();
    }
    if l.blkio_weight.is_some() || !l.device_read_bps.is_empty() || !l.device_write_bps.is_empty() {
        let io = res.block_io.get_or_insert_with(Default::default);
        io.weight = l.blkio_weight;
        io.throttle_read_bps_device = throttle(&l.device_read_bps, "--device-read-bps")?;
        io.throttle_write_bps_device = throttle(&l.device_write_bps, "--device-write-bps")?;
    }
    if let Some(p) = l.pids_limit.filter(|p| *p != 0) {
        res.pids = Some(hull_spec::Pids { limit: p });
    }
    Ok(())
}

/// `--device-read-bps` and friends: the host device's numbers, which must
/// be a block device.
fn throttle(rates: &[crate::model::DeviceRate], flag: &str) -> Result<Option<Vec<hull_spec::ThrottleDevice>>> {
    if rates.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for r in rates {
        let st = nix::sys::stat::stat(r.path.as_str())
            .map_err(|e| EngineError::Invalid(format!("invalid {flag} {}: {e}", r.path)))?;
        if st.st_mode & libc::S_IFMT != libc::S_IFBLK {
            return Err(EngineError::Invalid(format!("invalid {flag} {}: not a block device", r.path)));
        }
        let (major, minor) = (nix::sys::stat::major(st.st_rdev), nix::sys::stat::minor(st.st_rdev));
        out.push(hull_spec::ThrottleDevice { major: major as i64, minor: minor as i64, rate: r.rate });
    }
    Ok(Some(out))
}

/// Where `--init` puts the init in the container, as docker does.
pub const INIT_PATH: &str = "/sbin/docker-init";

/// The host's static init for `--init`: $HULL_INIT_PATH, else Debian's tini-static.
fn init_binary() -> Result<std::path::PathBuf> {
    let path = std::env::var_os("HULL_INIT_PATH").map_or_else(|| "/usr/bin/tini-static".into(), Into::into);
    if std::path::Path::new(&path).is_file() {
        return Ok(path);
    }
    Err(EngineError::Invalid(format!(
        "--init needs a static init at {} (apt install tini, or set HULL_INIT_PATH)",
        std::path::Path::new(&path).display()
    )))
}

/// Binds the init in read-only and makes it PID 1 in front of the command.
fn add_init(spec: &mut Spec) -> Result<()> {
    let host = init_binary()?;
    spec.mounts.get_or_insert_with(Vec::new).push(Mount {
        destination: INIT_PATH.into(),
        typ: Some("bind".into()),
        source: Some(host),
        options: Some(["rbind", "rprivate", "ro"].iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    });
    if let Some(p) = spec.process.as_mut() {
        let args = p.args.get_or_insert_with(Vec::new);
        args.splice(0..0, [INIT_PATH.to_string(), "--".to_string()]);
    }
    Ok(())
}

fn rlimits(cfg: &ContainerConfig) -> Result<Vec<Rlimit>> {
    let mut out = vec![Rlimit { typ: "RLIMIT_NOFILE".into(), soft: 1024, hard: 1024 }];
    let host_nofile =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).map(|(_, h)| h).unwrap_or(u64::MAX);
    out[0].soft = out[0].soft.min(host_nofile);
    out[0].hard = out[0].hard.min(host_nofile);
    let may_raise = caps_has_sys_resource();
    for u in &cfg.ulimits {
        let typ = format!("RLIMIT_{}", u.name.to_ascii_uppercase());
        let resource = rlimit_resource(&u.name);
        if let (false, Some(r)) = (may_raise, resource) {
            let (_, hard) = nix::sys::resource::getrlimit(r).unwrap_or((u64::MAX, u64::MAX));
            if u.hard > hard {
                return Err(EngineError::Invalid(format!(
                    "--ulimit {}={}:{}: the hard limit is above this host's {hard}, and Hull lacks CAP_SYS_RESOURCE to raise it",
                    u.name, u.soft, u.hard
                )));
            }
        }
        out.retain(|r| r.typ != typ);
        out.push(Rlimit { typ, soft: u.soft, hard: u.hard });
    }
    Ok(out)
}

fn rlimit_resource(name: &str) -> Option<nix::sys::resource::Resource> {
    use nix::sys::resource::Resource::*;
    Some(match name {
        "nofile" => RLIMIT_NOFILE,
        "nproc" => RLIMIT_NPROC,
        "core" => RLIMIT_CORE,
        "cpu" => RLIMIT_CPU,
        "data" => RLIMIT_DATA,
        "fsize" => RLIMIT_FSIZE,
        "memlock" => RLIMIT_MEMLOCK,
        "stack" => RLIMIT_STACK,
        "as" => RLIMIT_AS,
        "locks" => RLIMIT_LOCKS,
        "msgqueue" => RLIMIT_MSGQUEUE,
        "nice" => RLIMIT_NICE,
        "rtprio" => RLIMIT_RTPRIO,
        "sigpending" => RLIMIT_SIGPENDING,
        _ => return None,
    })
}

fn caps_has_sys_resource() -> bool {
    // CAP_SYS_RESOURCE is bit 24 of CapEff.
    status_caps("CapEff:").is_some_and(|bits| bits & (1 << 24) != 0)
}

/// A capability set of this process from /proc/self/status (`CapBnd:`,
/// `CapEff:`), read once: a long-running daemon creating many containers
/// need not read it for each.
fn status_caps(key: &str) -> Option<u64> {
    static STATUS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let status = STATUS.get_or_init(|| std::fs::read_to_string("/proc/self/status").unwrap_or_default());
    status.lines().find_map(|l| l.strip_prefix(key).map(|v| v.trim())).and_then(|v| u64::from_str_radix(v, 16).ok())
}

/// `--device` nodes and their cgroup rules; `--privileged` allows all.
fn devices(cfg: &ContainerConfig, linux: &mut hull_spec::Linux) -> Result<()> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let res = linux.resources.get_or_insert_with(Default::default);
    if cfg.privileged {
        // docker: the host's devices, all of them allowed.
        res.devices = Some(vec![DeviceCgroup { allow: true, access: Some("rwm".into()), ..Default::default() }]);
        let mut found = Vec::new();
        host_devices(Path::new("/dev"), &mut found);
        linux.devices.get_or_insert_with(Vec::new).extend(found);
        return Ok(());
    }
    for d in &cfg.devices {
        let meta = std::fs::metadata(&d.host).map_err(|e| EngineError::Invalid(format!("--device {}: {e}", d.host)))?;
        let typ = match meta.file_type() {
            t if t.is_char_device() => "c",
            t if t.is_block_device() => "b",
            _ => return Err(EngineError::Invalid(format!("--device {}: not a device node", d.host))),
        };
        let (major, minor) = (libc::major(meta.rdev()) as i64, libc::minor(meta.rdev()) as i64);
        linux.devices.get_or_insert_with(Vec::new).push(hull_spec::Device {
            path: d.container.clone().into(),
            typ: typ.into(),
            major,
            minor,
            file_mode: Some(meta.mode() & 0o7777),
            uid: Some(meta.uid()),
            gid: Some(meta.gid()),
        });
        res.devices.get_or_insert_with(Vec::new).push(DeviceCgroup {
            allow: true,
            typ: Some(typ.into()),
            major: Some(major),
            minor: Some(minor),
            access: Some(d.permissions.clone()),
        });
    }
    Ok(())
}

/// The device nodes under `dir`, as docker gives them to a privileged
/// container: not the ones of other mounts the runtime makes (pts, shm,
/// mqueue), nor /dev/console (the container's terminal), nor symlinks.
fn host_devices(dir: &Path, out: &mut Vec<hull_spec::Device>) {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        let name = e.file_name();
        let ft = meta.file_type();
        if ft.is_dir() {
            if !["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"].contains(&name.to_str().unwrap_or("")) {
                host_devices(&path, out);
            }
            continue;
        }
        let typ = match ft {
            t if t.is_char_device() => "c",
            t if t.is_block_device() => "b",
            _ => continue,
        };
        if path == Path::new("/dev/console") {
            continue;
        }
        out.push(hull_spec::Device {
            path,
            typ: typ.into(),
            major: libc::major(meta.rdev()) as i64,
            minor: libc::minor(meta.rdev()) as i64,
            file_mode: Some(meta.mode() & 0o7777),
            uid: Some(meta.uid()),
            gid: Some(meta.gid()),
        });
    }
}

/// The kernel's filesystems as docker and podman mount them: /proc
/// nosuid,noexec,nodev (runc's example has no options), /dev noexec (a
/// tmpfs a process could otherwise fill with programs to run).
fn harden_kernel_mounts(mounts: &mut [Mount]) {
    for m in mounts.iter_mut() {
        let extra: &[&str] = match m.destination.to_str() {
            Some("/proc") => &["nosuid", "noexec", "nodev"],
            Some("/dev") => &["noexec"],
            _ => continue,
        };
        let opts = m.options.get_or_insert_with(Vec::new);
        for o in extra {
            if !opts.iter().any(|x| x == o) {
                opts.push(o.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps() {
        let mut cfg =
            ContainerConfig { cap_add: vec!["net_admin".into()], cap_drop: vec!["CHOWN".into()], ..Default::default() };
        let c = capabilities(&cfg).unwrap();
        assert!(c.contains(&"CAP_NET_ADMIN".to_string()) && !c.contains(&"CAP_CHOWN".to_string()));
        cfg.cap_drop = vec!["all".into()];
        assert_eq!(capabilities(&cfg).unwrap(), vec!["CAP_NET_ADMIN".to_string()]);
        cfg.cap_add = vec!["BOGUS".into()];
        assert!(capabilities(&cfg).is_err());
    }
}
