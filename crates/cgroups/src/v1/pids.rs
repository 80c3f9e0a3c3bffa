//! v1 pids controller.

use crate::{fs, Result};
use hull_spec::Pids;
use std::path::Path;

pub(super) fn apply(dir: &Path, p: &Pids) -> Result<()> {
    if p.limit > 0 {
        fs::write(dir, "pids.max", p.limit)
    } else {
        fs::write(dir, "pids.max", "max")
    }
}
