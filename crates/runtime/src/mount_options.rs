//! Mount options as the spec (and mount(8)) spell them, split into mount(2)
//! flags, propagation changes and filesystem data.

use nix::mount::MsFlags;

/// Parsed `mounts[].options`.
#[derive(Debug, Clone, PartialEq)]
pub struct MountOptions {
    /// Flags to set.
    pub flags: MsFlags,
    /// Flags explicitly cleared (`rw`, `suid`, `dev`, ...), relevant on remount.
    pub cleared: MsFlags,
    /// Propagation changes, applied in order after the mount.
    pub propagation: Vec<MsFlags>,
    /// Filesystem-specific data (`mode=755,size=64k`).
    pub data: String,
    /// `bind` or `rbind` was given.
    pub bind: bool,
    /// Recursive attributes (`rro`, `rnosuid`, ...): MOUNT_ATTR_* to set
    /// and to clear on the whole tree with mount_setattr(AT_RECURSIVE).
    pub recursive: RecursiveAttrs,
    /// Options that are neither flags, propagation nor recursive attributes:
    /// a filesystem's data for a new mount, an error for a bind.
    pub unknown: Vec<String>,
    /// `tmpcopyup`: copy what the covered directory holds into the new tmpfs.
    pub tmpcopyup: bool,
    /// `idmap` (false) or `ridmap` (true, the whole tree): an idmapped bind.
    pub idmap: Option<bool>,
}

/// MOUNT_ATTR_* bits to set and clear recursively.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecursiveAttrs {
    /// To set.
    pub set: u64,
    /// To clear.
    pub clear: u64,
}

impl RecursiveAttrs {
    /// Whether any attribute is asked for.
    pub fn is_empty(&self) -> bool {
        self.set == 0 && self.clear == 0
    }
}

const ATTR_RDONLY: u64 = 0x1;
const ATTR_NOSUID: u64 = 0x2;
const ATTR_NODEV: u64 = 0x4;
const ATTR_NOEXEC: u64 = 0x8;
const ATTR_ATIME_MASK: u64 = 0x70;
const ATTR_RELATIME: u64 = 0x0;
const ATTR_NOATIME: u64 = 0x10;
const ATTR_STRICTATIME: u64 = 0x20;
const ATTR_NODIRATIME: u64 = 0x80;
const ATTR_NOSYMFOLLOW: u64 = 0x20_0000;

/// A recursive attribute option: (set?, attribute), or the atime mode it picks.
fn recursive_attr(name: &str) -> Option<(bool, u64)> {
    Some(match name {
        "rro" => (true, ATTR_RDONLY),
        "rrw" => (false, ATTR_RDONLY),
        "rnosuid" => (true, ATTR_NOSUID),
        "rsuid" => (false, ATTR_NOSUID),
        "rnodev" => (true, ATTR_NODEV),
        "rdev" => (false, ATTR_NODEV),
        "rnoexec" => (true, ATTR_NOEXEC),
        "rexec" => (false, ATTR_NOEXEC),
        "rnodiratime" => (true, ATTR_NODIRATIME),
        "rdiratime" => (false, ATTR_NODIRATIME),
        "rnosymfollow" => (true, ATTR_NOSYMFOLLOW),
        "rsymfollow" => (false, ATTR_NOSYMFOLLOW),
        _ => return None,
    })
}

/// The atime options: each picks one mode of the atime field (the kernel
/// takes one at a time, so the whole field is cleared first).
fn recursive_atime(name: &str) -> Option<u64> {
    Some(match name {
        "rnoatime" => ATTR_NOATIME,
        "ratime" | "rrelatime" | "rnostrictatime" => ATTR_RELATIME,
        "rstrictatime" | "rnorelatime" => ATTR_STRICTATIME,
        _ => return None,
    })
}

/// Maps a propagation name to its flags.
pub fn propagation(name: &str) -> Option<MsFlags> {
    Some(match name {
        "private" => MsFlags::MS_PRIVATE,
        "rprivate" => MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        "shared" => MsFlags::MS_SHARED,
        "rshared" => MsFlags::MS_SHARED | MsFlags::MS_REC,
        "slave" => MsFlags::MS_SLAVE,
        "rslave" => MsFlags::MS_SLAVE | MsFlags::MS_REC,
        "unbindable" => MsFlags::MS_UNBINDABLE,
        "runbindable" => MsFlags::MS_UNBINDABLE | MsFlags::MS_REC,
        _ => return None,
    })
}

fn flag(name: &str) -> Option<(bool, MsFlags)> {
    use MsFlags as F;
    Some(match name {
        "defaults" => (true, F::empty()),
        "ro" => (true, F::MS_RDONLY),
        "rw" => (false, F::MS_RDONLY),
        "nosuid" => (true, F::MS_NOSUID),
        "suid" => (false, F::MS_NOSUID),
        "nodev" => (true, F::MS_NODEV),
        "dev" => (false, F::MS_NODEV),
        "noexec" => (true, F::MS_NOEXEC),
        "exec" => (false, F::MS_NOEXEC),
        "sync" => (true, F::MS_SYNCHRONOUS),
        "async" => (false, F::MS_SYNCHRONOUS),
        "dirsync" => (true, F::MS_DIRSYNC),
        "remount" => (true, F::MS_REMOUNT),
        "mand" => (true, F::MS_MANDLOCK),
        "nomand" => (false, F::MS_MANDLOCK),
        "atime" => (false, F::MS_NOATIME),
        "noatime" => (true, F::MS_NOATIME),
        "diratime" => (false, F::MS_NODIRATIME),
        "nodiratime" => (true, F::MS_NODIRATIME),
        "relatime" => (true, F::MS_RELATIME),
        "norelatime" => (false, F::MS_RELATIME),
        "strictatime" => (true, F::MS_STRICTATIME),
        "nostrictatime" => (false, F::MS_STRICTATIME),
        "silent" => (true, F::MS_SILENT),
        "loud" => (false, F::MS_SILENT),
        "iversion" => (true, F::MS_I_VERSION),
        "noiversion" => (false, F::MS_I_VERSION),
        "lazytime" => (true, F::MS_LAZYTIME),
        "nolazytime" => (false, F::MS_LAZYTIME),
        "nosymfollow" => (true, F::from_bits_retain(libc::MS_NOSYMFOLLOW)),
        "symfollow" => (false, F::from_bits_retain(libc::MS_NOSYMFOLLOW)),
        _ => return None,
    })
}

impl MountOptions {
    /// Splits an option list.
    pub fn parse(options: &[String]) -> MountOptions {
        let mut out = MountOptions {
            flags: MsFlags::empty(),
            cleared: MsFlags::empty(),
            propagation: Vec::new(),
            data: String::new(),
            bind: false,
            recursive: RecursiveAttrs::default(),
            unknown: Vec::new(),
            tmpcopyup: false,
            idmap: None,
        };
        let mut data = Vec::new();
        for opt in options {
            match opt.as_str() {
                "bind" => {
                    out.flags |= MsFlags::MS_BIND;
                    out.bind = true;
                }
                "rbind" => {
                    out.flags |= MsFlags::MS_BIND | MsFlags::MS_REC;
                    out.bind = true;
                }
                // runc's extension: the new tmpfs starts with what the directory it covers held.
                "tmpcopyup" => out.tmpcopyup = true,
                // runc's extensions: an idmapped bind, of the top mount or of the tree.
                "idmap" => out.idmap = Some(out.idmap == Some(true)),
                "ridmap" => out.idmap = Some(true),
                o => {
                    if let Some(p) = propagation(o) {
                        out.propagation.push(p);
                    } else if let Some((set, f)) = flag(o) {
                        if set {
                            out.flags |= f;
                            out.cleared &= !f;
                        } else {
                            out.flags &= !f;
                            out.cleared |= f;
                        }
                    } else if let Some((set, a)) = recursive_attr(o) {
                        if set {
                            out.recursive.set |= a;
                            out.recursive.clear &= !a;
                        } else {
                            out.recursive.clear |= a;
                            out.recursive.set &= !a;
                        }
                    } else if let Some(mode) = recursive_atime(o) {
                        out.recursive.set = (out.recursive.set & !ATTR_ATIME_MASK) | mode;
                        out.recursive.clear |= ATTR_ATIME_MASK;
                    } else {
                        data.push(o.to_string());
                        out.unknown.push(o.to_string());
                    }
                }
            }
        }
        out.data = data.join(",");
        out
    }

    /// Flags that a bind mount can only get through a remount.
    pub fn remount_flags(&self) -> MsFlags {
        self.flags & !(MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str]) -> MountOptions {
        MountOptions::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn splits_flags_propagation_and_data() {
        let o = opts(&["rbind", "ro", "nosuid", "rslave", "mode=755", "size=64k"]);
        assert!(o.bind);
        assert!(o.flags.contains(MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_RDONLY | MsFlags::MS_NOSUID));
        assert_eq!(o.propagation, vec![MsFlags::MS_SLAVE | MsFlags::MS_REC]);
        assert_eq!(o.data, "mode=755,size=64k");
        assert_eq!(o.remount_flags(), MsFlags::MS_RDONLY | MsFlags::MS_NOSUID);
        let o = opts(&["ro", "rw"]);
        assert!(!o.flags.contains(MsFlags::MS_RDONLY));
        assert!(o.cleared.contains(MsFlags::MS_RDONLY));
    }

    #[test]
    fn recursive_attributes_are_not_mount_data() {
        let o = opts(&["rbind", "rro", "rnosuid", "rnoexec", "rsuid", "rnoatime", "rnosymfollow"]);
        assert_eq!(o.recursive.set, ATTR_RDONLY | ATTR_NOEXEC | ATTR_NOATIME | ATTR_NOSYMFOLLOW);
        assert_eq!(o.recursive.clear, ATTR_NOSUID | ATTR_ATIME_MASK);
        assert!(o.data.is_empty() && o.unknown.is_empty());
        let o = opts(&["bind", "rrw", "rstrictatime", "bogus"]);
        assert_eq!(o.recursive.set, ATTR_STRICTATIME);
        assert_eq!(o.recursive.clear, ATTR_RDONLY | ATTR_ATIME_MASK);
        assert_eq!(o.unknown, ["bogus"]);
    }

    #[test]
    fn idmap_and_ridmap_are_known_options() {
        assert_eq!(opts(&["rbind", "idmap"]).idmap, Some(false));
        assert_eq!(opts(&["bind", "ridmap"]).idmap, Some(true));
        assert_eq!(opts(&["ridmap", "idmap"]).idmap, Some(true));
        assert_eq!(opts(&["bind"]).idmap, None);
        assert!(opts(&["rbind", "ridmap"]).unknown.is_empty());
    }
}
