//! hull_runtime: Hull's OCI runtime as a library. [`Runtime`] holds the
//! lifecycle verbs (create, start, state, kill, delete, run, list); the
//! `hull-runtime` binary is a thin runc-compatible command line over it.
//!
//! The start path never re-executes the runtime binary: the container init is
//! a fork-like clone(2) of the calling process with the new namespaces, which
//! sets up the rootfs and blocks on an exec fifo until `start`.
#![warn(missing_docs)]

pub mod capabilities;
mod container;
mod copy_up;
pub mod devices;
pub mod error;
pub mod features;
pub mod hooks;
pub mod idmap;
mod init;
pub mod mount_options;
mod mount_source;
pub mod namespaces;
mod pidfd_socket;
pub mod process;
pub mod rootfs;
pub mod sealed;
pub mod seccomp;
pub mod state;
pub mod stdio;
pub mod sync;
pub mod sys;
mod tenant;
pub mod terminal;
pub mod util;
pub mod validate;

pub use container::{
    exec_process_from, parse_signal, CreateOptions, Created, ExecOptions, ExecRequest, ExecStarted, ListEntry,
    RunOutcome, Runtime, StateReport,
};
pub use error::{FailureKind, Result, RuntimeError};
