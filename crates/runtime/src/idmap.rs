//! Writing a new user namespace's uid and gid maps: directly as root, or
//! as an unprivileged user directly for the one mapping of their own ids,
//! and through newuidmap/newgidmap (shadow's setuid helpers, which check
//! /etc/subuid and /etc/subgid) for anything more.

use crate::error::{sys, Context, Result};
use hull_spec::IdMapping;
use std::process::Command;

fn text(maps: &[IdMapping]) -> String {
    maps.iter().map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size)).collect()
}

/// Writes the maps of process `pid`.
pub fn write(pid: i32, uid: &Option<Vec<IdMapping>>, gid: &Option<Vec<IdMapping>>) -> Result<()> {
    let uid = uid.as_deref().unwrap_or_default();
    let gid = gid.as_deref().unwrap_or_default();
    let root = nix::unistd::geteuid().is_root();
    let own = |maps: &[IdMapping], id: u32| maps.len() == 1 && maps[0].size == 1 && maps[0].host_id == id;
    if !uid.is_empty() {
        if root || own(uid, nix::unistd::geteuid().as_raw()) {
            let path = format!("/proc/{pid}/uid_map");
            std::fs::write(&path, text(uid)).ctx("write", &path)?;
        } else {
            helper("newuidmap", pid, uid)?;
        }
    }
    if !gid.is_empty() {
        if root {
            let path = format!("/proc/{pid}/gid_map");
            std::fs::write(&path, text(gid)).ctx("write", &path)?;
        } else if own(gid, nix::unistd::getegid().as_raw()) {
            // An unprivileged process may map its own gid only after giving
            // up setgroups(2) in the namespace.
            let setgroups = format!("/proc/{pid}/setgroups");
            std::fs::write(&setgroups, "deny").ctx("write", &setgroups)?;
            let path = format!("/proc/{pid}/gid_map");
            std::fs::write(&path, text(gid)).ctx("write", &path)?;
        } else {
            helper("newgidmap", pid, gid)?;
        }
    }
    Ok(())
}

fn helper(tool: &str, pid: i32, maps: &[IdMapping]) -> Result<()> {
    let mut cmd = Command::new(tool);
    cmd.arg(pid.to_string());
    for m in maps {
        cmd.args([m.container_id.to_string(), m.host_id.to_string(), m.size.to_string()]);
    }
    let out = cmd.output().map_err(|e| sys(format!("run {tool}"), "(install uidmap)", e))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(sys(format!("run {tool}"), pid, std::io::Error::other(err)));
    }
    Ok(())
}

/// Checks mappings for overlaps and overflow (the kernel would refuse them
/// with a bare EINVAL).
pub fn validate(field: &str, maps: &[IdMapping]) -> Result<()> {
    if maps.len() > 340 {
        return Err(crate::error::spec(field, format!("{} ranges; the kernel takes at most 340", maps.len())));
    }
    for (i, m) in maps.iter().enumerate() {
        if m.size == 0 {
            return Err(crate::error::spec(field, format!("range {i} has size 0")));
        }
        for (name, start) in [("containerID", m.container_id), ("hostID", m.host_id)] {
            if u64::from(start) + u64::from(m.size) > 1 << 32 {
                return Err(crate::error::spec(
                    field,
                    format!("range {i}: {name} {start} + size {} exceeds 2^32", m.size),
                ));
            }
        }
        for (j, o) in maps.iter().enumerate().skip(i + 1) {
            let overlap = |a: u32, b: u32| {
                u64::from(a) < u64::from(b) + u64::from(o.size) && u64::from(b) < u64::from(a) + u64::from(m.size)
            };
            if overlap(m.container_id, o.container_id) || overlap(m.host_id, o.host_id) {
                return Err(crate::error::spec(field, format!("ranges {i} and {j} overlap")));
            }
        }
    }
    Ok(())
}

/// A user namespace carrying the given maps, for an idmapped mount: made
/// by a short-lived child that waits while its maps are written, then ends.
pub fn userns_for(uid: &[IdMapping], gid: &[IdMapping]) -> Result<std::os::fd::OwnedFd> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let (rd, wr) = nix::unistd::pipe().ctx("pipe", "idmap helper")?;
    let pid = match crate::sys::clone_fork(libc::CLONE_NEWUSER).ctx("clone", "idmap user namespace")? {
        crate::sys::Forked::Child => {
            drop(wr);
            let mut b = [0u8; 1];
            let _ = nix::unistd::read(std::os::fd::AsRawFd::as_raw_fd(&rd), &mut b);
            // SAFETY: _exit ends only this helper.
            unsafe { libc::_exit(0) }
        }
        crate::sys::Forked::Parent(pid) => pid,
    };
    drop(rd);
    let result = (|| {
        let w = |file: &str, text: String| {
            let path = format!("/proc/{pid}/{file}");
            std::fs::write(&path, text).ctx("write", &path)
        };
        w("uid_map", text(uid))?;
        w("gid_map", text(gid))?;
        let path = format!("/proc/{pid}/ns/user");
        let fd = nix::fcntl::open(
            path.as_str(),
            nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .ctx("open", &path)?;
        // SAFETY: open just returned this descriptor.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    })();
    drop(wr);
    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(c: u32, h: u32, s: u32) -> IdMapping {
        IdMapping { container_id: c, host_id: h, size: s }
    }

    #[test]
    fn rejects_overlaps_and_overflow() {
        assert!(validate("f", &[m(0, 1000, 1), m(1, 100000, 65536)]).is_ok());
        assert!(validate("f", &[m(0, 1000, 10), m(5, 200, 1)]).unwrap_err().to_string().contains("overlap"));
        assert!(validate("f", &[m(0, 1000, 10), m(20, 1005, 1)]).unwrap_err().to_string().contains("overlap"));
        assert!(validate("f", &[m(0, u32::MAX, 2)]).unwrap_err().to_string().contains("exceeds"));
        assert!(validate("f", &[m(0, 1, 0)]).unwrap_err().to_string().contains("size 0"));
    }
}
