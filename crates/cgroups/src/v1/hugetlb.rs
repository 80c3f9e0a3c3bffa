//! v1 hugetlb controller.

use crate::{fs, Result};
use hull_spec::HugepageLimit;
use std::path::Path;

pub(super) fn apply(dir: &Path, limits: &[HugepageLimit]) -> Result<()> {
    for l in limits {
        fs::write(dir, &format!("hugetlb.{}.limit_in_bytes", l.page_size), l.limit)?;
    }
    Ok(())
}
