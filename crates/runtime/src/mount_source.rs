//! Bind sources opened by the runtime before any namespace of the
//! container exists: a detached copy of the source (open_tree with
//! OPEN_TREE_CLONE), made with the runtime's host privileges, that the init
//! moves onto its destination. Two cases need it:
//! - a container with a user namespace: its root is an unprivileged host
//!   user and cannot reach a source only host root may read (runc opens
//!   these in its parent too);
//! - an idmapped bind (`uidMappings` on the mount, `idmap`, `ridmap`):
//!   mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN over the source
//!   filesystem's user namespace, which only the host side has.
//!
//! A source is resolved in the runtime's mount namespace, so a source that
//! only an earlier `mounts[]` entry of the same container would create is
//! not seen (runc resolves them the same way for these two cases).

use crate::error::{spec, Context, Result};
use crate::mount_options::MountOptions;
use hull_spec::{Mount, NamespaceType, Spec};
use nix::mount::MsFlags;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;

/// The container's own user namespace, as far as the sources care.
enum ContainerUserns<'a> {
    None,
    /// New, with the config's mappings.
    New,
    /// Joined by path.
    Joined(&'a Path),
}

/// Per `mounts[]` index, the prepared source of a bind that needs one.
pub fn prepare(config: &Spec) -> Result<Vec<Option<OwnedFd>>> {
    let linux = config.linux.clone().unwrap_or_default();
    let userns = match linux.namespaces.iter().flatten().find(|n| n.typ == NamespaceType::User) {
        None => ContainerUserns::None,
        Some(n) => match n.path.as_deref() {
            Some(p) => ContainerUserns::Joined(p),
            None => ContainerUserns::New,
        },
    };
    // Only host root can clone a tree; an unprivileged runtime's container
    // reaches what its user can, and binds by path.
    let privileged = nix::unistd::geteuid().is_root();
    let parsed: Vec<(&Mount, MountOptions)> = config
        .mounts
        .iter()
        .flatten()
        .map(|m| (m, MountOptions::parse(m.options.as_deref().unwrap_or_default())))
        .collect();
    let takes_container_map = parsed.iter().any(|(m, o)| idmap_request(m, o).is_some() && !has_own_mapping(m));
    let container_map = if takes_container_map { container_mapping(&userns, &linux)? } else { None };
    let mut out = Vec::new();
    for (i, (m, opts)) in parsed.into_iter().enumerate() {
        let bind = opts.bind || m.typ.as_deref() == Some("bind");
        let idmap = idmap_request(m, &opts);
        if !bind || (idmap.is_none() && (!privileged || matches!(userns, ContainerUserns::None))) {
            out.push(None);
            continue;
        }
        let tree = clone_tree(m, &opts)?;
        if let Some(recursive) = idmap {
            let owned;
            let map = if has_own_mapping(m) {
                owned = crate::idmap::userns_for(
                    m.uid_mappings.as_deref().unwrap_or_default(),
                    m.gid_mappings.as_deref().unwrap_or_default(),
                )?;
                &owned
            } else {
                container_map.as_ref().ok_or_else(|| {
                    spec(
                        format!("mounts[{i}].options"),
                        "idmap without uidMappings on the mount takes the container's mapping, and the container has no user namespace",
                    )
                })?
            };
            let attr = crate::sys::MountAttr {
                attr_set: MOUNT_ATTR_IDMAP,
                userns_fd: map.as_raw_fd() as u64,
                ..Default::default()
            };
            let source = m.source.as_deref().unwrap_or(Path::new(""));
            crate::sys::mount_setattr(&tree, recursive, &attr).ctx("idmap mount of", source.display())?;
        }
        out.push(Some(tree));
    }
    Ok(out)
}

/// Whether the mount is idmapped, and then whether recursively (`ridmap`).
/// Mappings on the mount without either option map the top mount only (runc).
fn idmap_request(m: &Mount, opts: &MountOptions) -> Option<bool> {
    opts.idmap.or(has_own_mapping(m).then_some(false))
}

fn has_own_mapping(m: &Mount) -> bool {
    m.uid_mappings.as_ref().is_some_and(|u| !u.is_empty())
}

/// A detached copy of the source: the whole tree for `rbind`.
fn clone_tree(m: &Mount, opts: &MountOptions) -> Result<OwnedFd> {
    use std::os::unix::ffi::OsStrExt;
    let source = m.source.as_deref().unwrap_or(Path::new(""));
    let path = std::ffi::CString::new(source.as_os_str().as_bytes()).map_err(|_| spec("mounts", "NUL in a source"))?;
    let recursive = opts.flags.contains(MsFlags::MS_REC);
    let flags = OPEN_TREE_CLONE
        | libc::O_CLOEXEC as libc::c_uint
        | if recursive { libc::AT_RECURSIVE as libc::c_uint } else { 0 };
    crate::sys::open_tree(&path, flags).ctx("open bind source", source.display())
}

/// The user namespace whose mapping an `idmap` without mappings of its own
/// takes: the container's; none without one.
fn container_mapping(userns: &ContainerUserns, linux: &hull_spec::Linux) -> Result<Option<OwnedFd>> {
    Ok(match userns {
        ContainerUserns::New => Some(crate::idmap::userns_for(
            linux.uid_mappings.as_deref().unwrap_or_default(),
            linux.gid_mappings.as_deref().unwrap_or_default(),
        )?),
        ContainerUserns::Joined(path) => {
            Some(std::fs::File::open(path).ctx("open user namespace", path.display())?.into())
        }
        ContainerUserns::None => None,
    })
}
