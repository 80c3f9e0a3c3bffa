//! cgroup v1: one directory per mounted hierarchy, one file per controller.

mod blkio;
mod cpu;
pub mod devices;
mod hugetlb;
mod memory;
mod network;
mod pids;
mod stats;

use crate::{fs, CgroupPaths, Manager, Result};
use hull_spec::Resources;
use std::path::{Path, PathBuf};

/// Manager for v1 hierarchies.
#[derive(Debug)]
pub struct V1Manager {
    paths: CgroupPaths,
}

impl V1Manager {
    /// A manager over already-resolved paths.
    pub fn new(paths: CgroupPaths) -> Self {
        V1Manager { paths }
    }

    /// The container's directory in the hierarchy carrying `controller`.
    pub fn dir(&self, controller: &str) -> Option<&Path> {
        self.paths.v1.iter().find(|(ctrls, _)| ctrls.split(',').any(|c| c == controller)).map(|(_, p)| p.as_path())
    }

    fn require(&self, controller: &str, field: &str) -> Result<&Path> {
        if self.paths.v1.is_empty() {
            return Err(fs::invalid(
                field,
                "the container has no cgroup of its own (rootless, without a delegated cgroup)",
            ));
        }
        self.dir(controller).ok_or_else(|| {
            fs::invalid(field, format!("the {controller} cgroup controller is not mounted on this host"))
        })
    }

    pub(crate) fn create_dirs(&mut self) -> Result<()> {
        let dirs: Vec<(String, PathBuf)> = self.paths.v1.clone();
        for (ctrls, dir) in dirs {
            let start = self.paths.created.len();
            fs::mkdir_all(&dir, &mut self.paths.created)?;
            if ctrls.split(',').any(|c| c == "cpuset") {
                // A new cpuset cgroup starts with empty cpus/mems and refuses
                // tasks until they are filled in; inherit them from the parent.
                for made in &self.paths.created[start..] {
                    let made = made.clone();
                    cpu::inherit_cpuset(&made)?;
                }
            }
        }
        Ok(())
    }
}

impl Manager for V1Manager {
    fn create(&mut self) -> Result<()> {
        self.create_dirs()
    }

    fn set(&self, r: &Resources) -> Result<()> {
        if let Some(m) = &r.memory {
            memory::apply(self.require("memory", "linux.resources.memory")?, m)?;
        }
        if let Some(c) = &r.cpu {
            cpu::apply(self, c)?;
        }
        if let Some(p) = &r.pids {
            pids::apply(self.require("pids", "linux.resources.pids")?, p)?;
        }
        if let Some(b) = &r.block_io {
            blkio::apply(self.require("blkio", "linux.resources.blockIO")?, b)?;
        }
        if let Some(h) = r.hugepage_limits.as_deref().filter(|h| !h.is_empty()) {
            hugetlb::apply(self.require("hugetlb", "linux.resources.hugepageLimits")?, h)?;
        }
        if let Some(n) = &r.network {
            network::apply(self, n)?;
        }
        if let Some(d) = &r.devices {
            devices::apply(self.require("devices", "linux.resources.devices")?, d)?;
        }
        if r.unified.as_ref().is_some_and(|u| !u.is_empty()) {
            return Err(fs::invalid("linux.resources.unified", "needs cgroup v2, and this host has only cgroup v1"));
        }
        Ok(())
    }

    fn pids(&self) -> Result<Vec<i32>> {
        let dir = ["pids", "freezer", "memory", "cpu"]
            .iter()
            .find_map(|c| self.dir(c))
            .or_else(|| self.paths.v1.first().map(|(_, p)| p.as_path()));
        match dir {
            Some(d) => fs::read_pids(d),
            None => Ok(Vec::new()),
        }
    }

    fn destroy(&self) -> Result<()> {
        let errors = fs::remove_created(&self.paths.created);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(crate::CgroupError::Many(errors))
        }
    }

    fn paths(&self) -> &CgroupPaths {
        &self.paths
    }

    fn freeze(&self) -> Result<()> {
        let dir = self.require("freezer", "pause")?;
        fs::write(dir, "freezer.state", "FROZEN")?;
        // FREEZING becomes FROZEN once every task stopped; re-writing FROZEN
        // retries tasks that were in the middle of something.
        for _ in 0..1000 {
            if fs::read(&dir.join("freezer.state"))?.trim() == "FROZEN" {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
            fs::write(dir, "freezer.state", "FROZEN")?;
        }
        let _ = fs::write(dir, "freezer.state", "THAWED");
        Err(fs::invalid("pause", format!("{} did not freeze within a second", dir.display())))
    }

    fn thaw(&self) -> Result<()> {
        fs::write(self.require("freezer", "resume")?, "freezer.state", "THAWED")
    }

    fn is_frozen(&self) -> bool {
        self.dir("freezer").is_some_and(|d| fs::read(&d.join("freezer.state")).is_ok_and(|s| s.trim() == "FROZEN"))
    }

    fn stats(&self) -> Result<crate::stats::Stats> {
        Ok(stats::read(self))
    }
}
