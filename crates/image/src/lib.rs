//! hull_image: images for Hull. A content-addressed [`store::Store`] of
//! OCI and Docker image blobs, [`reference`] parsing as docker does it,
//! layer [`unpack`]ing with overlayfs whiteouts, per-layer [`snapshot`]s
//! stacked with overlayfs, OCI [`layout`] import/export, the image config
//! turned into a runtime spec ([`runtime_spec`]), and Hull's offline
//! default image ([`busybox`]).
#![warn(missing_docs)]

pub mod archive;
pub mod busybox;
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
