//! v1 blkio controller (CFQ/BFQ weights and throttles).

use crate::{fs, Result};
use hull_spec::{BlockIo, ThrottleDevice};
use std::path::Path;

pub(super) fn apply(dir: &Path, b: &BlockIo) -> Result<()> {
    // Kernels without CFQ expose the weight as blkio.bfq.weight.
    let weight_file = if dir.join("blkio.weight").exists() { "blkio.weight" } else { "blkio.bfq.weight" };
    if let Some(w) = b.weight.filter(|w| *w != 0) {
        fs::write(dir, weight_file, w)?;
    }
    if let Some(w) = b.leaf_weight.filter(|w| *w != 0) {
        fs::write(dir, "blkio.leaf_weight", w)?;
    }
    for d in b.weight_device.iter().flatten() {
        if let Some(w) = d.weight {
            fs::write(dir, &format!("{weight_file}_device"), format!("{}:{} {}", d.major, d.minor, w))?;
        }
        if let Some(w) = d.leaf_weight {
            fs::write(dir, "blkio.leaf_weight_device", format!("{}:{} {}", d.major, d.minor, w))?;
        }
    }
    throttle(dir, "blkio.throttle.read_bps_device", &b.throttle_read_bps_device)?;
    throttle(dir, "blkio.throttle.write_bps_device", &b.throttle_write_bps_device)?;
    throttle(dir, "blkio.throttle.read_iops_device", &b.throttle_read_iops_device)?;
    throttle(dir, "blkio.throttle.write_iops_device", &b.throttle_write_iops_device)
}

fn throttle(dir: &Path, file: &str, list: &Option<Vec<ThrottleDevice>>) -> Result<()> {
    for d in list.iter().flatten() {
        fs::write(dir, file, format!("{}:{} {}", d.major, d.minor, d.rate))?;
    }
    Ok(())
}
