//! hull_network: container networking for Hull. The [`cni`] client (CNI
//! 1.0 plugin chains run as the spec says, results cached so DEL gets what
//! ADD returned); networks and the CNI lists they become ([`network`],
//! [`subnet`]); pinned network namespaces ([`netns`]); published ports
//! ([`ports`]); and name resolution through aardvark-dns ([`dns`]).
#![warn(missing_docs)]

pub mod cni;
pub mod dns;
pub mod dns_probe;
pub mod netns;
pub mod network;
pub mod ports;
pub mod subnet;

/// What went wrong outside a CNI plugin.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
    /// A host port is taken.
    #[error("Bind for {addr} failed: port is already allocated ({source})")]
    PortInUse {
        /// Address and protocol.
        addr: String,
        /// The bind error.
        source: std::io::Error,
    },
    /// A file or system operation.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was done.
        op: &'static str,
        /// To what.
        path: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A CNI plugin.
    #[error(transparent)]
    Cni(#[from] cni::CniError),
}
