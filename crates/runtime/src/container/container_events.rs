//! `events`: statistics and OOM notifications.

use super::Runtime;
use crate::error::{Context, Result};
use hull_cgroups::stats::Stats;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

impl Runtime {
    /// Current resource usage of a container.
    pub fn stats(&self, id: &str) -> Result<Stats> {
        let (_, record) = self.open(id)?;
        Ok(record.cgroup().stats()?)
    }

    /// How many times the kernel's OOM killer has acted in the container's
    /// cgroup (v2 memory.events, or v1 memory.oom_control), 0 if unknown.
    pub fn oom_kills(&self, id: &str) -> Result<u64> {
        let (_, record) = self.open(id)?;
        Ok(record.cgroup_paths.oom_kills().unwrap_or(0))
    }

    /// An eventfd that becomes readable each time the container's memory
    /// cgroup (v1) hits an OOM; `None` when the host has no v1 memory controller.
    pub fn oom_eventfd(&self, id: &str) -> Result<Option<OwnedFd>> {
        let (_, record) = self.open(id)?;
        let Some((_, dir)) = record.cgroup_paths.v1.iter().find(|(c, _)| c.split(',').any(|c| c == "memory")) else {
            return Ok(None);
        };
        // SAFETY: eventfd takes no pointers; the result is a new descriptor we own.
        let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        if efd < 0 {
            return Err(crate::error::sys("eventfd", "oom notification", std::io::Error::last_os_error()));
        }
        // SAFETY: the kernel just returned this descriptor.
        let efd = unsafe { OwnedFd::from_raw_fd(efd) };
        let oom = std::fs::File::open(dir.join("memory.oom_control"))
            .ctx("open", dir.join("memory.oom_control").display())?;
        let control = dir.join("cgroup.event_control");
        std::fs::write(&control, format!("{} {}", efd.as_raw_fd(), oom.as_raw_fd())).ctx("write", control.display())?;
        Ok(Some(efd))
    }
}
