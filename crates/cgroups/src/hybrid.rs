//! Hybrid hosts: v1 controllers plus a cgroup2 hierarchy (systemd's
//! "unified" mount). The container joins both; limits go to whichever tree
//! has the controller, v1 first.

use crate::v1::V1Manager;
use crate::v2::V2Manager;
use crate::{CgroupPaths, Manager, Result};
use hull_spec::Resources;

/// A v1 manager plus the container's directory in the cgroup2 tree.
#[derive(Debug)]
pub struct HybridManager {
    v1: V1Manager,
    v2: V2Manager,
}

impl HybridManager {
    /// A manager over already-resolved paths.
    pub fn new(paths: CgroupPaths) -> Self {
        let v2 = V2Manager::new_contained(paths.clone());
        HybridManager { v1: V1Manager::new(paths), v2 }
    }

    fn v2_only(r: &Resources) -> (Resources, Resources) {
        let mut v1 = r.clone();
        let v2 = Resources { unified: v1.unified.take(), ..Default::default() };
        (v1, v2)
    }
}

impl Manager for HybridManager {
    fn create(&mut self) -> Result<()> {
        self.v1.create_dirs()?;
        let mut created = self.v1.paths().created.clone();
        let result = self.v2.create_dir(&mut created);
        self.v1 = V1Manager::new(CgroupPaths { created: created.clone(), ..self.v1.paths().clone() });
        self.v2 = V2Manager::new_contained(self.v1.paths().clone());
        result
    }

    fn set(&self, r: &Resources) -> Result<()> {
        let (mut for_v1, for_v2) = Self::v2_only(r);
        // Hugepages live in whichever tree carries hugetlb (here, often cgroup2).
        let hugetlb_in_v1 = self.v1.dir("hugetlb").is_some();
        let mut for_v2 = for_v2;
        if !hugetlb_in_v1 {
            for_v2.hugepage_limits = for_v1.hugepage_limits.take();
        }
        self.v1.set(&for_v1)?;
        self.v2.set(&for_v2)
    }

    fn pids(&self) -> Result<Vec<i32>> {
        self.v1.pids()
    }

    fn destroy(&self) -> Result<()> {
        self.v1.destroy()
    }

    fn paths(&self) -> &CgroupPaths {
        self.v1.paths()
    }

    fn freeze(&self) -> Result<()> {
        self.v1.freeze()
    }

    fn thaw(&self) -> Result<()> {
        self.v1.thaw()
    }

    fn is_frozen(&self) -> bool {
        self.v1.is_frozen()
    }

    fn stats(&self) -> Result<crate::stats::Stats> {
        self.v1.stats()
    }
}
