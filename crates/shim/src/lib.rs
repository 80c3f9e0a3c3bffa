//! hull_shim: what the engine and `hull-shim` share: the shim's
//! configuration and the files it leaves ([`config`]), the event journal
//! both append to ([`events`]), the wire format of its control socket
//! ([`protocol`]), and the command line of other OCI runtimes ([`oci_cli`]). The supervisor itself is the
//! `hull-shim` binary.
#![warn(missing_docs)]

pub mod config;
pub mod events;
pub mod oci_cli;
pub mod protocol;
