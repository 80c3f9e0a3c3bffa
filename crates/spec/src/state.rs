//! The OCI state (`runtime.md#state`) and the example config `spec` writes.

use crate::config::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Version of the runtime spec this crate implements.
pub const OCI_VERSION: &str = "1.1.0";

/// The container state, as `state` prints it and hooks read it on stdin.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct State {
    /// Spec version.
    pub oci_version: String,
    /// Container id.
    pub id: String,
    /// `creating`, `created`, `running` or `stopped` (`paused` is runc's extension).
    pub status: String,
    /// Host pid of the container init; 0 when stopped.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pid: i32,
    /// Absolute bundle path.
    pub bundle: PathBuf,
    /// Annotations from the config.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

fn is_zero(v: &i32) -> bool {
    *v == 0
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn mount(dest: &str, typ: &str, source: &str, options: &[&str]) -> Mount {
    Mount {
        destination: dest.into(),
        typ: Some(typ.into()),
        source: Some(source.into()),
        options: (!options.is_empty()).then(|| strings(options)),
        ..Default::default()
    }
}

impl Spec {
    /// The example config `hull-runtime spec` writes (the same shape as
    /// `runc spec`); `rootless` gives the caller's (uid, gid) to map to root.
    pub fn example(rootless: Option<(u32, u32)>) -> Spec {
        let caps = strings(&["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
        let mut mounts = vec![
            mount("/proc", "proc", "proc", &[]),
            mount("/dev", "tmpfs", "tmpfs", &["nosuid", "strictatime", "mode=755", "size=65536k"]),
            mount(
                "/dev/pts",
                "devpts",
                "devpts",
                &["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
            ),
            mount("/dev/shm", "tmpfs", "shm", &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            mount("/dev/mqueue", "mqueue", "mqueue", &["nosuid", "noexec", "nodev"]),
            mount("/sys", "sysfs", "sysfs", &["nosuid", "noexec", "nodev", "ro"]),
            mount("/sys/fs/cgroup", "cgroup", "cgroup", &["nosuid", "noexec", "nodev", "relatime", "ro"]),
        ];
        let ns = |typ| Namespace { typ, path: None };
        let mut linux = Linux {
            resources: Some(Resources {
                devices: Some(vec![DeviceCgroup { allow: false, access: Some("rwm".into()), ..Default::default() }]),
                ..Default::default()
            }),
            namespaces: Some(vec![
                ns(NamespaceType::Pid),
                ns(NamespaceType::Network),
                ns(NamespaceType::Ipc),
                ns(NamespaceType::Uts),
                ns(NamespaceType::Mount),
            ]),
            masked_paths: Some(strings(&[
                "/proc/acpi",
                "/proc/asound",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/timer_list",
                "/proc/timer_stats",
                "/proc/sched_debug",
                "/sys/firmware",
                "/proc/scsi",
            ])),
            readonly_paths: Some(strings(&["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"])),
            ..Default::default()
        };
        if let Some((uid, gid)) = rootless {
            let map = |host_id| vec![IdMapping { container_id: 0, host_id, size: 1 }];
            linux.uid_mappings = Some(map(uid));
            linux.gid_mappings = Some(map(gid));
            linux.resources = None;
            if let Some(list) = linux.namespaces.as_mut() {
                list.retain(|n| n.typ != NamespaceType::Network);
                list.push(ns(NamespaceType::User));
            }
            mounts[2].options = Some(strings(&["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]));
            mounts[5] = mount("/sys", "none", "/sys", &["rbind", "nosuid", "noexec", "nodev", "ro"]);
        }
        Spec {
            oci_version: OCI_VERSION.into(),
            root: Some(Root { path: "rootfs".into(), readonly: Some(true) }),
            process: Some(Process {
                terminal: Some(true),
                args: Some(strings(&["sh"])),
                env: Some(strings(&[
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "TERM=xterm",
                ])),
                cwd: "/".into(),
                capabilities: Some(Capabilities {
                    bounding: Some(caps.clone()),
                    effective: Some(caps.clone()),
                    permitted: Some(caps.clone()),
                    ambient: Some(caps),
                    inheritable: None,
                }),
                rlimits: Some(vec![Rlimit { typ: "RLIMIT_NOFILE".into(), hard: 1024, soft: 1024 }]),
                no_new_privileges: Some(true),
                ..Default::default()
            }),
            hostname: Some("hull".into()),
            mounts: Some(mounts),
            linux: Some(linux),
            ..Default::default()
        }
    }
}
