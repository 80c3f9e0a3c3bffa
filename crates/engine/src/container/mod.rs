//! The container lifecycle, one file per verb.

pub mod archive;
pub mod attach;
pub mod commit;
pub mod create;
pub mod exec;
pub(crate) mod health;
pub mod logs;
mod misc;
mod net;
mod prepare;
mod remove;
pub(crate) mod start;
mod stop;
pub(crate) mod sync;
pub mod update;
