//! hull_network: container networking for Hull. So far the [`cni`] client:
//! CNI 1.0 plugin chains run as the spec says (ADD, CHECK, DEL, VERSION),
//! with results cached so DEL gets what ADD returned.
#![warn(missing_docs)]

pub mod cni;
