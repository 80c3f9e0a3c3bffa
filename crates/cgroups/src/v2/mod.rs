//! cgroup v2: one directory in the unified hierarchy, controllers enabled
//! through the parents' cgroup.subtree_control.

pub mod devices;
mod resources;
mod stats;

use crate::{fs, CgroupPaths, Manager, Result};
use hull_spec::Resources;
use std::path::{Path, PathBuf};

pub use resources::{blkio_weight_to_io, shares_to_weight};

/// Manager for a cgroup2 directory.
#[derive(Debug)]
pub struct V2Manager {
    paths: CgroupPaths,
    /// Whether ancestors that this runtime did not create may have controllers
    /// enabled (true on a unified host, false in hybrid mode where the cgroup2
    /// tree belongs to someone else).
    enable_in_ancestors: bool,
}

impl V2Manager {
    /// A manager for a unified host.
    pub fn new(paths: CgroupPaths) -> Self {
        V2Manager { paths, enable_in_ancestors: true }
    }

    /// A manager that only touches directories it creates (hybrid hosts).
    pub fn new_contained(paths: CgroupPaths) -> Self {
        V2Manager { paths, enable_in_ancestors: false }
    }

    fn dir(&self) -> Result<&Path> {
        self.paths.unified.as_deref().ok_or_else(|| fs::invalid("linux.cgroupsPath", "no cgroup2 hierarchy is mounted"))
    }

    /// Creates the directory, enabling every available controller on the way.
    pub(crate) fn create_dir(&mut self, created: &mut Vec<PathBuf>) -> Result<()> {
        let dir = self.dir()?.to_path_buf();
        let start = created.len();
        fs::mkdir_all(&dir, created)?;
        let made: Vec<PathBuf> = created[start..].to_vec();
        let mut parents: Vec<PathBuf> = made.iter().filter_map(|d| d.parent().map(Path::to_path_buf)).collect();
        if !self.enable_in_ancestors {
            // Only parents we created ourselves (the first one's parent is foreign).
            parents.retain(|p| made.contains(p));
        }
        for parent in parents {
            enable_controllers(&parent)?;
        }
        Ok(())
    }
}

/// Enables in `dir`'s subtree_control every controller `dir` has.
fn enable_controllers(dir: &Path) -> Result<()> {
    let available = fs::read(&dir.join("cgroup.controllers"))?;
    let enable: Vec<String> = available.split_whitespace().map(|c| format!("+{c}")).collect();
    if enable.is_empty() {
        return Ok(());
    }
    fs::write(dir, "cgroup.subtree_control", enable.join(" "))
}

impl Manager for V2Manager {
    fn create(&mut self) -> Result<()> {
        let mut created = std::mem::take(&mut self.paths.created);
        let result = self.create_dir(&mut created);
        self.paths.created = created;
        result
    }

    fn set(&self, r: &Resources) -> Result<()> {
        resources::apply(self.dir()?, r)
    }

    fn pids(&self) -> Result<Vec<i32>> {
        fs::read_pids(self.dir()?)
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
        let dir = self.dir()?;
        fs::write(dir, "cgroup.freeze", 1)?;
        for _ in 0..1000 {
            let events = fs::read(&dir.join("cgroup.events"))?;
            if events.lines().any(|l| l.trim() == "frozen 1") {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let _ = fs::write(dir, "cgroup.freeze", 0);
        Err(fs::invalid("pause", format!("{} did not freeze within a second", dir.display())))
    }

    fn thaw(&self) -> Result<()> {
        fs::write(self.dir()?, "cgroup.freeze", 0)
    }

    fn is_frozen(&self) -> bool {
        self.dir().is_ok_and(|d| fs::read(&d.join("cgroup.freeze")).is_ok_and(|s| s.trim() == "1"))
    }

    fn stats(&self) -> Result<crate::stats::Stats> {
        Ok(stats::read(self.dir()?))
    }
}
