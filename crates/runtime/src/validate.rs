//! Checks a config before anything is created, so that a bad config fails
//! with the offending field named and leaves nothing behind.

use crate::capabilities;
use crate::error::{spec, Result};
use crate::process::{rlimit_resource, scheduler_policy};
use hull_spec::{NamespaceType, Spec};
use std::collections::BTreeSet;
use std::path::Path;

/// Validates `config` for a container whose rootfs resolved to `rootfs`.
pub fn validate(config: &Spec, rootfs: &Path) -> Result<()> {
    root(rootfs)?;
    process(config)?;
    let namespaces = namespaces(config)?;
    linux(config, &namespaces)?;
    mounts(config)?;
    Ok(())
}

fn root(rootfs: &Path) -> Result<()> {
    match std::fs::metadata(rootfs) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(spec("root.path", format!("{} is not a directory", rootfs.display()))),
        Err(e) => Err(spec("root.path", format!("{}: {e}", rootfs.display()))),
    }
}

fn process(config: &Spec) -> Result<()> {
    let p = config.process.as_ref().ok_or_else(|| spec("process", "missing"))?;
    validate_process(p)
}

/// Checks a process (the container's, or one given to `exec`).
pub fn validate_process(p: &hull_spec::Process) -> Result<()> {
    crate::process::validate_affinity(p)?;
    match &p.args {
        Some(args) if !args.is_empty() && !args[0].is_empty() => {}
        _ => return Err(spec("process.args", "missing: the container needs a command to run")),
    }
    if !p.cwd.is_absolute() {
        return Err(spec("process.cwd", format!("{:?} is not an absolute path", p.cwd)));
    }
    if let Some(c) = &p.capabilities {
        for (set, list) in [
            ("bounding", &c.bounding),
            ("effective", &c.effective),
            ("inheritable", &c.inheritable),
            ("permitted", &c.permitted),
            ("ambient", &c.ambient),
        ] {
            for name in list.iter().flatten() {
                capabilities::parse(name)
                    .map_err(|_| spec(format!("process.capabilities.{set}"), format!("unknown capability {name:?}")))?;
            }
        }
    }
    let mut seen = BTreeSet::new();
    for r in p.rlimits.iter().flatten() {
        rlimit_resource(&r.typ).ok_or_else(|| spec("process.rlimits", format!("unknown rlimit type {:?}", r.typ)))?;
        if !seen.insert(&r.typ) {
            return Err(spec("process.rlimits", format!("{} is given twice", r.typ)));
        }
        if r.soft > r.hard {
            return Err(spec(
                "process.rlimits",
                format!("{}: soft limit {} is above hard limit {}", r.typ, r.soft, r.hard),
            ));
        }
    }
    if let Some(s) = &p.scheduler {
        scheduler_policy(&s.policy)
            .ok_or_else(|| spec("process.scheduler.policy", format!("unknown policy {:?}", s.policy)))?;
    }
    if let Some(io) = &p.io_priority {
        if !matches!(io.class.as_str(), "IOPRIO_CLASS_RT" | "IOPRIO_CLASS_BE" | "IOPRIO_CLASS_IDLE") {
            return Err(spec("process.ioPriority.class", format!("unknown class {:?}", io.class)));
        }
        if !(0..=7).contains(&io.priority) {
            return Err(spec("process.ioPriority.priority", format!("{} is outside 0..7", io.priority)));
        }
    }
    if p.apparmor_profile.as_deref().is_some_and(|s| !s.is_empty())
        && !Path::new("/sys/kernel/security/apparmor").exists()
    {
        return Err(spec("process.apparmorProfile", "AppArmor is not enabled on this host"));
    }
    if p.selinux_label.as_deref().is_some_and(|s| !s.is_empty()) && !Path::new("/sys/fs/selinux/enforce").exists() {
        return Err(spec("process.selinuxLabel", "SELinux is not enabled on this host"));
    }
    Ok(())
}

fn namespaces(config: &Spec) -> Result<BTreeSet<NamespaceType>> {
    let mut seen = BTreeSet::new();
    for ns in config.linux.as_ref().and_then(|l| l.namespaces.as_ref()).into_iter().flatten() {
        if !seen.insert(ns.typ) {
            return Err(spec("linux.namespaces", format!("{} namespace is listed twice", ns.typ.spec_name())));
        }
        if let Some(path) = &ns.path {
            if !path.exists() {
                return Err(spec(
                    "linux.namespaces",
                    format!("{} namespace path {}: does not exist", ns.typ.spec_name(), path.display()),
                ));
            }
        }
    }
    // Without a mount namespace the process shares the caller's mounts and
    // root (runc): nothing is mounted, so nothing can be masked or made
    // read-only.
    if !seen.contains(&NamespaceType::Mount) {
        let linux = config.linux.as_ref();
        let masked = linux.and_then(|l| l.masked_paths.as_ref()).is_some_and(|m| !m.is_empty());
        let readonly = linux.and_then(|l| l.readonly_paths.as_ref()).is_some_and(|m| !m.is_empty());
        if masked || readonly {
            return Err(spec("linux.namespaces", "masked and read-only paths need a mount namespace"));
        }
        if config.root.as_ref().and_then(|r| r.readonly) == Some(true) {
            return Err(spec("root.readonly", "a read-only root needs a mount namespace"));
        }
    }
    Ok(seen)
}

fn linux(config: &Spec, ns: &BTreeSet<NamespaceType>) -> Result<()> {
    let has_uts = ns.contains(&NamespaceType::Uts);
    if config.hostname.as_deref().is_some_and(|h| !h.is_empty()) && !has_uts {
        return Err(spec("hostname", "setting a hostname needs a uts namespace"));
    }
    if config.domainname.as_deref().is_some_and(|h| !h.is_empty()) && !has_uts {
        return Err(spec("domainname", "setting a domainname needs a uts namespace"));
    }
    let Some(linux) = &config.linux else {
        return Ok(());
    };
    if let Some(r) = &linux.resources {
        hull_cgroups::validate(r)?;
    }
    if let Some(p) = &linux.cgroups_path {
        if p.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
            return Err(spec("linux.cgroupsPath", format!("{} must not contain '..'", p.display())));
        }
    }
    let has_user = ns.contains(&NamespaceType::User);
    for (field, maps) in [("linux.uidMappings", &linux.uid_mappings), ("linux.gidMappings", &linux.gid_mappings)] {
        let maps = maps.as_deref().unwrap_or_default();
        if !maps.is_empty() && !has_user {
            return Err(spec(field, "id mappings need a user namespace"));
        }
        crate::idmap::validate(field, maps)?;
    }
    for key in linux.sysctl.iter().flat_map(|s| s.keys()) {
        sysctl_allowed(key, ns)?;
    }
    if linux.time_offsets.as_ref().is_some_and(|t| !t.is_empty()) && !ns.contains(&NamespaceType::Time) {
        return Err(spec("linux.timeOffsets", "time offsets need a time namespace"));
    }
    if let Some(p) = &linux.personality {
        if !matches!(p.domain.as_str(), "LINUX" | "LINUX32") {
            return Err(spec("linux.personality.domain", format!("unknown domain {:?}", p.domain)));
        }
    }
    if linux.intel_rdt.is_some() {
        return Err(spec("linux.intelRdt", "Intel RDT is not supported by this runtime"));
    }
    if linux.mount_label.as_deref().is_some_and(|s| !s.is_empty()) && !Path::new("/sys/fs/selinux/enforce").exists() {
        return Err(spec("linux.mountLabel", "SELinux is not enabled on this host"));
    }
    if let Some(prop) = linux.rootfs_propagation.as_deref().filter(|p| !p.is_empty()) {
        crate::mount_options::propagation(prop)
            .ok_or_else(|| spec("linux.rootfsPropagation", format!("unknown propagation {prop:?}")))?;
    }
    for d in linux.devices.iter().flatten() {
        if !matches!(d.typ.as_str(), "c" | "u" | "b" | "p") {
            return Err(spec("linux.devices", format!("{}: unknown device type {:?}", d.path.display(), d.typ)));
        }
        if !d.path.starts_with("/dev") {
            return Err(spec("linux.devices", format!("{} is not under /dev", d.path.display())));
        }
    }
    Ok(())
}

/// Namespaced sysctls, as runc allows them: IPC ones with an ipc namespace,
/// net.* with a network namespace, the UTS names with a uts namespace.
fn sysctl_allowed(key: &str, ns: &BTreeSet<NamespaceType>) -> Result<()> {
    const IPC: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    let need = if IPC.contains(&key) || key.starts_with("fs.mqueue.") {
        NamespaceType::Ipc
    } else if key.starts_with("net.") {
        NamespaceType::Network
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        NamespaceType::Uts
    } else {
        return Err(spec("linux.sysctl", format!("{key} is not a namespaced sysctl and would change the host")));
    };
    if key.contains('/') || key.contains("..") {
        return Err(spec("linux.sysctl", format!("{key:?} is not a sysctl name")));
    }
    if !ns.contains(&need) {
        return Err(spec("linux.sysctl", format!("{key} needs a {} namespace", need.spec_name())));
    }
    Ok(())
}

fn mounts(config: &Spec) -> Result<()> {
    for (i, m) in config.mounts.iter().flatten().enumerate() {
        let field = format!("mounts[{i}]");
        if m.destination.as_os_str().is_empty() {
            return Err(spec(format!("{field}.destination"), "missing"));
        }
        let opts = crate::mount_options::MountOptions::parse(m.options.as_deref().unwrap_or_default());
        if opts.bind && m.source.as_ref().is_none_or(|s| s.as_os_str().is_empty()) {
            return Err(spec(format!("{field}.source"), "a bind mount needs a source"));
        }
        let bind = opts.bind || m.typ.as_deref() == Some("bind");
        if opts.idmap.is_some() && !bind {
            return Err(spec(format!("{field}.options"), "only bind mounts can be idmapped (idmap, ridmap)"));
        }
        let (u, g) = (m.uid_mappings.as_deref().unwrap_or_default(), m.gid_mappings.as_deref().unwrap_or_default());
        if !u.is_empty() || !g.is_empty() {
            if u.is_empty() || g.is_empty() {
                return Err(spec(
                    format!("{field}.uidMappings"),
                    "an idmapped mount needs both uidMappings and gidMappings",
                ));
            }
            if !bind {
                return Err(spec(format!("{field}.uidMappings"), "only bind mounts can be idmapped"));
            }
            crate::idmap::validate(&format!("{field}.uidMappings"), u)?;
            crate::idmap::validate(&format!("{field}.gidMappings"), g)?;
        }
    }
    Ok(())
}
