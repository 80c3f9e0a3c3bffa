//! Creating and joining namespaces.
//!
//! New namespaces come from the clone flags of the init, except two that must
//! be prepared in the runtime itself: a pid namespace joined by path and a new
//! time namespace (both only affect children), restored right after clone.
//! A new cgroup namespace is unshared by the init after it joined its cgroup.
//!
//! A namespace is owned by the user namespace of the process that makes it.
//! So when the config joins a user namespace and makes others, or makes a
//! user namespace and joins others, the joins come first, in a helper
//! process that then clones the init (see `joins_before_creating`), as
//! runc's nsexec does.

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
        let restore_pid = join_pid_for_children(list)?;
        let restore_time = unshare_time_for_children(list, offsets)?;
        Ok(ParentPrep { restore_pid, restore_time })
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

/// Joins the config's pid namespace for our next children; returns our own.
pub fn join_pid_for_children(list: &[Namespace]) -> Result<Option<File>> {
    let Some(path) = list.iter().find(|n| n.typ == NamespaceType::Pid).and_then(|n| n.path.as_ref()) else {
        return Ok(None);
    };
    let own = File::open("/proc/self/ns/pid").ctx("open", "/proc/self/ns/pid")?;
    let target = File::open(path).ctx("open pid namespace", path.display())?;
    nix::sched::setns(&target, CloneFlags::CLONE_NEWPID).ctx("setns pid", path.display())?;
    Ok(Some(own))
}

/// Makes a new time namespace, with its offsets, for our next children;
/// returns our own.
pub fn unshare_time_for_children(
    list: &[Namespace],
    offsets: Option<&BTreeMap<String, TimeOffset>>,
) -> Result<Option<File>> {
    if !creates(list, NamespaceType::Time) {
        return Ok(None);
    }
    let own = File::open("/proc/self/ns/time").ctx("open", "/proc/self/ns/time")?;
    nix::sched::unshare(flag(NamespaceType::Time)).ctx("unshare", "time namespace")?;
    write_time_offsets(offsets)?;
    Ok(Some(own))
}

/// Whether the init must come from a helper that joins the namespaces
/// given by path before any new one is made: a joined user namespace must
/// own the new namespaces, and namespaces joined next to a new user
/// namespace must be joined while we still have the host's privileges.
pub fn joins_before_creating(list: &[Namespace]) -> bool {
    let joins = |t: NamespaceType| list.iter().any(|n| n.typ == t && n.path.is_some());
    let joins_others =
        list.iter().any(|n| n.path.is_some() && !matches!(n.typ, NamespaceType::User | NamespaceType::Pid));
    let makes_others = !clone_flags(list).is_empty() || creates(list, NamespaceType::Time);
    (joins(NamespaceType::User) && makes_others) || (creates(list, NamespaceType::User) && joins_others)
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

/// Joins the namespaces given by path, except pid (joined for children
/// by whoever forks the init), in the order `join_in_order` gives.
pub fn join_paths(list: &[Namespace]) -> Result<()> {
    let mut files = Vec::new();
    for ns in list.iter().filter(|n| n.typ != NamespaceType::Pid) {
        let Some(path) = &ns.path else { continue };
        let file = File::open(path).ctx(&format!("open {} namespace", ns.typ.spec_name()), path.display())?;
        files.push((ns.typ, file, path.display().to_string()));
    }
    join_in_order(files.iter().map(|(t, f, shown)| (*t, f, shown.as_str())))
}

/// Joins namespaces in an order that works whoever owns them: each one
/// first with the privileges we have (host root may join any namespace,
/// and once in a user namespace only those it owns), then the user
/// namespace, then those that needed it (an unprivileged runtime may join
/// only namespaces owned by a user namespace it joined), as runc does.
pub fn join_in_order<'a>(list: impl IntoIterator<Item = (NamespaceType, &'a File, &'a str)>) -> Result<()> {
    let mut user = None;
    let mut later = Vec::new();
    for (typ, file, shown) in list {
        if typ == NamespaceType::User {
            user = Some((file, shown));
            continue;
        }
        match nix::sched::setns(file, flag(typ)) {
            Ok(()) => {}
            // Retried after the user namespace (without one, it fails again, named).
            Err(nix::errno::Errno::EPERM) => later.push((typ, file, shown)),
            Err(e) => return Err(crate::error::sys(format!("setns {}", typ.spec_name()), shown, e)),
        }
    }
    if let Some((file, shown)) = user {
        nix::sched::setns(file, flag(NamespaceType::User)).ctx("setns user", shown)?;
    }
    for (typ, file, shown) in later {
        nix::sched::setns(file, flag(typ)).ctx(&format!("setns {}", typ.spec_name()), shown)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(list: &[(NamespaceType, bool)]) -> Vec<Namespace> {
        list.iter().map(|&(typ, joined)| Namespace { typ, path: joined.then(|| "/proc/1/ns/x".into()) }).collect()
    }

    #[test]
    fn joins_come_first_only_where_a_user_namespace_decides_ownership() {
        use NamespaceType::*;
        // A joined user namespace with new namespaces: they must be its.
        assert!(joins_before_creating(&ns(&[(User, true), (Pid, false), (Mount, false)])));
        assert!(joins_before_creating(&ns(&[(User, true), (Time, false)])));
        // A new user namespace beside a joined network namespace.
        assert!(joins_before_creating(&ns(&[(User, false), (Network, true), (Mount, false)])));
        // Nothing to order: no user namespace, or only joins, or a pid
        // namespace joined by the runtime for its children.
        assert!(!joins_before_creating(&ns(&[(Network, true), (Mount, false)])));
        assert!(!joins_before_creating(&ns(&[(User, true), (Network, true)])));
        assert!(!joins_before_creating(&ns(&[(User, false), (Pid, true), (Mount, false)])));
        assert!(!joins_before_creating(&ns(&[(User, true), (Cgroup, false)])));
    }
}
