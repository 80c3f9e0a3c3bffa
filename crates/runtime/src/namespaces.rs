//! Creating and joining namespaces.
//!
//! New namespaces come from the clone flags of the init, except two that must
//! be prepared in the runtime itself: a pid namespace joined by path and a new
//! time namespace (both only affect children), restored right after clone.
//! A new cgroup namespace is unshared by the init after it joined its cgroup.

use crate::error::{spec, Context, Result};
use hull_spec::{Namespace, NamespaceType, TimeOffset};
use nix::sched::CloneFlags;
use std::collections::BTreeMap;
use std::fs::File;

/// The kernel's CLONE_NEW* flag for a namespace type.
pub fn flag(t: NamespaceType) -> CloneFlags {
    match t {
        NamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        NamespaceType::Network => CloneFlags::CLONE_NEWNET,
        NamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        NamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        NamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        NamespaceType::User => CloneFlags::CLONE_NEWUSER,
        NamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        NamespaceType::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
    }
}

/// Flags for clone(2): every new namespace but cgroup and time.
pub fn clone_flags(list: &[Namespace]) -> CloneFlags {
    list.iter()
        .filter(|n| n.path.is_none() && !matches!(n.typ, NamespaceType::Cgroup | NamespaceType::Time))
        .fold(CloneFlags::empty(), |f, n| f | flag(n.typ))
}

/// Whether the config asks for a new namespace of this type.
pub fn creates(list: &[Namespace], t: NamespaceType) -> bool {
    list.iter().any(|n| n.typ == t && n.path.is_none())
}

/// Runtime-side preparation that must be undone after clone.
pub struct ParentPrep {
    restore_pid: Option<File>,
    restore_time: Option<File>,
}

impl ParentPrep {
    /// Enters a joined pid namespace and/or a new time namespace for the
    /// runtime's next child.
    pub fn enter(list: &[Namespace], offsets: Option<&BTreeMap<String, TimeOffset>>) -> Result<ParentPrep> {
        let mut prep = ParentPrep { restore_pid: None, restore_time: None };
        if let Some(path) = list.iter().find(|n| n.typ == NamespaceType::Pid).and_then(|n| n.path.as_ref()) {
            let own = File::open("/proc/self/ns/pid").ctx("open", "/proc/self/ns/pid")?;
            let target = File::open(path).ctx("open pid namespace", path.display())?;
            nix::sched::setns(&target, CloneFlags::CLONE_NEWPID).ctx("setns pid", path.display())?;
            prep.restore_pid = Some(own);
        }
        if creates(list, NamespaceType::Time) {
            let own = File::open("/proc/self/ns/time").ctx("open", "/proc/self/ns/time")?;
            nix::sched::unshare(flag(NamespaceType::Time)).ctx("unshare", "time namespace")?;
            prep.restore_time = Some(own);
            write_time_offsets(offsets)?;
        }
        Ok(prep)
    }

    /// Returns the runtime to its own namespaces.
    pub fn restore(self) -> Result<()> {
        if let Some(own) = self.restore_pid {
            nix::sched::setns(&own, CloneFlags::CLONE_NEWPID).ctx("setns", "own pid namespace")?;
        }
        if let Some(own) = self.restore_time {
            nix::sched::setns(&own, flag(NamespaceType::Time)).ctx("setns", "own time namespace")?;
        }
        Ok(())
    }
}

fn write_time_offsets(offsets: Option<&BTreeMap<String, TimeOffset>>) -> Result<()> {
    let mut text = String::new();
    for (clock, off) in offsets.into_iter().flatten() {
        if !matches!(clock.as_str(), "monotonic" | "boottime") {
            return Err(spec("linux.timeOffsets", format!("unknown clock {clock:?}")));
        }
        text.push_str(&format!("{clock} {} {}\n", off.secs, off.nanosecs));
    }
    if !text.is_empty() {
        std::fs::write("/proc/self/timens_offsets", text).ctx("write", "/proc/self/timens_offsets")?;
    }
    Ok(())
}

/// In the init: joins the namespaces given by path (user first, so that the
/// others are joined with its privileges), except pid which the parent did.
pub fn join_paths(list: &[Namespace]) -> Result<()> {
    let mut joined: Vec<&Namespace> = list.iter().filter(|n| n.path.is_some() && n.typ != NamespaceType::Pid).collect();
    joined.sort_by_key(|n| n.typ != NamespaceType::User);
    for ns in joined {
        let Some(path) = &ns.path else { continue };
        let file = File::open(path).ctx(&format!("open {} namespace", ns.typ.spec_name()), path.display())?;
        nix::sched::setns(&file, flag(ns.typ)).ctx(&format!("setns {}", ns.typ.spec_name()), path.display())?;
    }
    Ok(())
}
