//! Where the host mounts its cgroup hierarchies, and which mode that is.

use crate::{CgroupError, CgroupPaths, CgroupSpec, Result};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

const V1_CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "net_prio",
    "blkio",
    "perf_event",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
];

/// The host's cgroup mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Only v1 hierarchies.
    Legacy,
    /// v1 controllers plus a cgroup2 hierarchy (usually /sys/fs/cgroup/unified).
    Hybrid,
    /// Only cgroup2, mounted on /sys/fs/cgroup.
    Unified,
}

/// One mounted hierarchy.
#[derive(Debug, Clone, PartialEq)]
pub struct Hierarchy {
    /// Comma-joined controllers (`cpu,cpuacct`, `name=systemd`; empty for cgroup2).
    pub controllers: String,
    /// Where it is mounted.
    pub mountpoint: PathBuf,
    /// The cgroup that mount shows at its mountpoint.
    pub root: PathBuf,
}

impl Hierarchy {
    /// Whether this hierarchy carries the named controller.
    pub fn has(&self, controller: &str) -> bool {
        self.controllers.split(',').any(|c| c == controller)
    }
}

/// All of the host's cgroup mounts.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The mode they add up to.
    pub mode: Mode,
    /// v1 hierarchies.
    pub v1: Vec<Hierarchy>,
    /// The cgroup2 hierarchy.
    pub unified: Option<Hierarchy>,
}

/// The caller's own cgroup per hierarchy (from /proc/self/cgroup), keyed by
/// controller list (`""` for cgroup2).
#[derive(Debug, Clone, Default)]
pub struct OwnCgroups(pub BTreeMap<String, PathBuf>);

impl OwnCgroups {
    /// Reads /proc/self/cgroup.
    pub fn read() -> Result<OwnCgroups> {
        let text = crate::fs::read("/proc/self/cgroup".as_ref())?;
        Ok(Self::parse(&text))
    }

    /// Parses the `/proc/PID/cgroup` format.
    pub fn parse(text: &str) -> OwnCgroups {
        let mut map = BTreeMap::new();
        for line in text.lines() {
            let mut parts = line.splitn(3, ':');
            let (_, Some(ctrls), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            map.insert(ctrls.to_string(), PathBuf::from(path));
        }
        OwnCgroups(map)
    }

    fn for_hierarchy(&self, h: &Hierarchy) -> Option<&Path> {
        let want: Vec<&str> = h.controllers.split(',').filter(|c| !c.is_empty()).collect();
        self.0
            .iter()
            .find(|(ctrls, _)| {
                let have: Vec<&str> = ctrls.split(',').filter(|c| !c.is_empty()).collect();
                have.len() == want.len() && want.iter().all(|w| have.contains(w))
            })
            .map(|(_, p)| p.as_path())
    }
}

impl Layout {
    /// Reads /proc/self/mountinfo.
    pub fn detect() -> Result<Layout> {
        let text = crate::fs::read("/proc/self/mountinfo".as_ref())?;
        Self::from_mountinfo(&text)
    }

    /// Builds the layout from mountinfo text.
    pub fn from_mountinfo(text: &str) -> Result<Layout> {
        let mut v1 = Vec::new();
        let mut unified = None;
        for line in text.lines() {
            let Some((pre, post)) = line.split_once(" - ") else {
                continue;
            };
            let pre: Vec<&str> = pre.split(' ').collect();
            let post: Vec<&str> = post.split(' ').collect();
            if pre.len() < 5 || post.len() < 3 {
                continue;
            }
            let (root, mountpoint) = (unescape(pre[3]), unescape(pre[4]));
            match post[0] {
                // A hierarchy may be mounted more than once (bind mounts, a
                // container sharing our mount namespace mounting its own
                // under its rootfs): the first wins, unless a later one is
                // at the standard place and the first is not.
                "cgroup2" => {
                    let h = Hierarchy { controllers: String::new(), mountpoint, root };
                    if unified.as_ref().is_none_or(|u: &Hierarchy| better(&h, u)) {
                        unified = Some(h);
                    }
                }
                "cgroup" => {
                    let ctrls: Vec<&str> =
                        post[2].split(',').filter(|o| V1_CONTROLLERS.contains(o) || o.starts_with("name=")).collect();
                    let h = Hierarchy { controllers: ctrls.join(","), mountpoint, root };
                    match v1.iter_mut().find(|o: &&mut Hierarchy| o.controllers == h.controllers) {
                        None => v1.push(h),
                        Some(old) if better(&h, old) => *old = h,
                        Some(_) => {}
                    }
                }
                _ => {}
            }
        }
        let mode = match (&unified, v1.is_empty()) {
            (Some(_), true) => Mode::Unified,
            (Some(_), false) => Mode::Hybrid,
            (None, false) => Mode::Legacy,
            (None, true) => return Err(CgroupError::Layout("no cgroup filesystem is mounted".into())),
        };
        Ok(Layout { mode, v1, unified })
    }

    /// The v1 hierarchy carrying `controller`.
    pub fn v1_with(&self, controller: &str) -> Option<&Hierarchy> {
        self.v1.iter().find(|h| h.has(controller))
    }

    /// Where a process is (`of`: its `/proc/PID/cgroup`), as directories
    /// in each hierarchy; hierarchies it is not shown in are left out.
    pub fn paths_of(&self, of: &OwnCgroups) -> CgroupPaths {
        let at = |h: &Hierarchy| {
            let cgroup = of.for_hierarchy(h)?;
            let rel = cgroup.strip_prefix(&h.root).or_else(|_| cgroup.strip_prefix("/")).ok()?;
            let rel: PathBuf = rel.components().filter(|c| matches!(c, Component::Normal(_))).collect();
            Some(h.mountpoint.join(rel))
        };
        let mut paths = CgroupPaths::default();
        for h in &self.v1 {
            if let Some(d) = at(h) {
                paths.v1.push((h.controllers.clone(), d));
            }
        }
        paths.unified = self.unified.as_ref().and_then(at);
        paths
    }

    /// Resolves a container's cgroup to a directory in each hierarchy.
    pub fn resolve(&self, spec: &CgroupSpec, own: &OwnCgroups) -> Result<CgroupPaths> {
        let inner = match spec.path {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from(spec.id),
        };
        if inner.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(CgroupError::Invalid {
                field: "linux.cgroupsPath".into(),
                reason: format!("{} must not contain '..'", inner.display()),
            });
        }
        let mut paths = CgroupPaths::default();
        for h in &self.v1 {
            paths.v1.push((h.controllers.clone(), dir_in(h, &inner, own)?));
        }
        if let Some(h) = &self.unified {
            paths.unified = Some(dir_in(h, &inner, own)?);
        }
        Ok(paths)
    }
}

fn dir_in(h: &Hierarchy, inner: &Path, own: &OwnCgroups) -> Result<PathBuf> {
    let cgroup = if inner.is_absolute() {
        inner.to_path_buf()
    } else {
        let base = own.for_hierarchy(h).unwrap_or(Path::new("/"));
        base.join(inner)
    };
    // The mount shows `root` at its mountpoint; paths outside it are unreachable.
    let rel = cgroup.strip_prefix(&h.root).or_else(|_| cgroup.strip_prefix("/")).map_err(|_| {
        CgroupError::Layout(format!("{} is outside the mount of {}", cgroup.display(), h.mountpoint.display()))
    })?;
    let rel: PathBuf = rel.components().filter(|c| matches!(c, Component::Normal(_))).collect();
    if rel.as_os_str().is_empty() {
        return Err(CgroupError::Invalid {
            field: "linux.cgroupsPath".into(),
            reason: "resolves to the root cgroup".into(),
        });
    }
    Ok(h.mountpoint.join(rel))
}

fn unescape(field: &str) -> PathBuf {
    // mountinfo escapes space, tab, newline and backslash as \ooo.
    let mut out = Vec::with_capacity(field.len());
    let bytes = field.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() && bytes[i + 1..i + 4].iter().all(|b| (b'0'..=b'7').contains(b)) {
            let v = (bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(out))
}

/// Whether `new` is to be used over `old`, another mount of the same
/// hierarchy: only when it is under /sys/fs/cgroup and `old` is not.
fn better(new: &Hierarchy, old: &Hierarchy) -> bool {
    let standard = |h: &Hierarchy| h.mountpoint.starts_with("/sys/fs/cgroup");
    standard(new) && !standard(old)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn detects_hybrid_and_resolves_paths() {
        let l = Layout::from_mountinfo(HYBRID).unwrap();
        assert_eq!(l.mode, Mode::Hybrid);
        assert_eq!(l.v1.len(), 3);
        let own = OwnCgroups::parse("4:memory:/outer\n1:cpu:/\n0::/u\n");
        let p = l.resolve(&CgroupSpec { path: Some("rel/c1".as_ref()), id: "x" }, &own).unwrap();
        assert_eq!(p.v1[0].1, PathBuf::from("/sys/fs/cgroup/cpu/rel/c1"));
        assert_eq!(p.v1[1].1, PathBuf::from("/sys/fs/cgroup/memory/outer/rel/c1"));
        assert_eq!(p.unified, Some(PathBuf::from("/sys/fs/cgroup/unified/u/rel/c1")));
        let p = l.resolve(&CgroupSpec { path: Some("/abs".as_ref()), id: "x" }, &own).unwrap();
        assert_eq!(p.v1[1].1, PathBuf::from("/sys/fs/cgroup/memory/abs"));
        assert!(l.resolve(&CgroupSpec { path: Some("/a/../../b".as_ref()), id: "x" }, &own).is_err());
    }

    #[test]
    fn where_a_process_is() {
        let l = Layout::from_mountinfo(HYBRID).unwrap();
        let of = OwnCgroups::parse("5:name=systemd:/\n4:memory:/hull/c1\n1:cpu:/hull/c1\n0::/\n");
        let p = l.paths_of(&of);
        assert_eq!(p.v1.len(), 3);
        assert_eq!(p.v1[1], ("memory".to_string(), PathBuf::from("/sys/fs/cgroup/memory/hull/c1")));
        assert_eq!(p.unified, Some(PathBuf::from("/sys/fs/cgroup/unified")));
        // Hierarchies the process is not shown in are left out.
        assert!(l.paths_of(&OwnCgroups::parse("4:memory:/m\n")).v1.len() == 1);
    }

    #[test]
    fn detects_unified_and_legacy() {
        let u = "1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        assert_eq!(Layout::from_mountinfo(u).unwrap().mode, Mode::Unified);
        let l = "1 0 0:1 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
        assert_eq!(Layout::from_mountinfo(l).unwrap().mode, Mode::Legacy);
        assert!(Layout::from_mountinfo("").is_err());
    }

    #[test]
    fn a_second_mount_of_a_hierarchy_elsewhere_is_not_used() {
        // A container sharing our mount namespace mounted its own cgroup
        // filesystems under its rootfs: before or after ours in mountinfo.
        let theirs = "9 1 0:1 / /tmp/b/rootfs/sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n\
                      10 1 0:2 / /tmp/b/rootfs/sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
        let ours = "1 0 0:1 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n\
                    2 0 0:2 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
        for text in [format!("{ours}{theirs}"), format!("{theirs}{ours}")] {
            let l = Layout::from_mountinfo(&text).unwrap();
            assert_eq!(l.v1.len(), 1);
            assert_eq!(l.v1[0].mountpoint, PathBuf::from("/sys/fs/cgroup/pids"));
            assert_eq!(l.unified.unwrap().mountpoint, PathBuf::from("/sys/fs/cgroup/unified"));
        }
    }
}
