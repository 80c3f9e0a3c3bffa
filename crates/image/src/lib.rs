//! hull_image: images for Hull. A content-addressed [`store::Store`] of
//! OCI and Docker image blobs, [`reference`] parsing as docker does it,
//! layer [`unpack`]ing with overlayfs whiteouts and its reverse ([`diff`]:
//! a container's changes as a layer), per-layer [`snapshot`]s
//! stacked with overlayfs, OCI [`layout`] import/export, the image config
//! turned into a runtime spec ([`runtime_spec`]), and Hull's offline
//! default image ([`busybox`]).
#![warn(missing_docs)]

pub mod archive;
pub mod busybox;
pub mod diff;
pub mod digest;
pub mod images;
pub mod layout;
pub mod manifest;
pub mod parallel;
pub mod reference;
pub mod registry;
pub mod runtime_spec;
pub mod snapshot;
pub mod store;
pub mod unpack;

/// Makes `dir` reachable by its owner only (0700), whatever it was: image
/// layers hold set-id files and file capabilities, so another host user who
/// could reach them would have a way to root. Existing stores made by an
/// older Hull with 0755 are tightened here, on open.
pub fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o7700))?;
    }
    Ok(())
}
