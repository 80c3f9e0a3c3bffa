//! Process capabilities: the five sets of `process.capabilities`.

use crate::error::{Context, Result};
use crate::sys;
use caps::{CapSet, Capability};
use hull_spec::Capabilities;
use std::str::FromStr;

/// Parses a `CAP_*` name.
pub fn parse(name: &str) -> std::result::Result<Capability, caps::errors::CapsError> {
    Capability::from_str(name)
}

fn mask(list: &Option<Vec<String>>) -> u64 {
    list.iter().flatten().filter_map(|n| parse(n).ok()).fold(0, |m, c| m | c.bitmask())
}

/// Drops from the bounding set every capability the spec does not list.
/// Must run while CAP_SETPCAP is still effective (before changing user).
pub fn drop_bounding(c: &Capabilities) -> Result<()> {
    let keep = mask(&c.bounding);
    let supported = caps::runtime::thread_all_supported();
    for cap in supported {
        if keep & cap.bitmask() == 0 {
            caps::drop(None, CapSet::Bounding, cap)
                .map_err(std::io::Error::other)
                .ctx("drop bounding capability", cap)?;
        }
    }
    Ok(())
}

/// Sets effective, permitted and inheritable in one capset, then raises
/// ambient. The kernel only lets a capability be ambient if it is both
/// permitted and inheritable; others are skipped, as runc does (with a warning
/// there; runc's own default spec lists ambient caps without inheritable ones).
pub fn apply(c: &Capabilities) -> Result<()> {
    let (permitted, inheritable) = (mask(&c.permitted), mask(&c.inheritable));
    sys::capset(mask(&c.effective), permitted, inheritable).ctx("capset", "process.capabilities")?;
    for name in c.ambient.iter().flatten() {
        let Ok(cap) = parse(name) else { continue };
        if permitted & inheritable & cap.bitmask() == 0 {
            continue;
        }
        caps::raise(None, CapSet::Ambient, cap).map_err(std::io::Error::other).ctx("raise ambient capability", name)?;
    }
    Ok(())
}

/// Makes every permitted capability effective (the init needs CAP_SYS_ADMIN
/// to load a seccomp filter without no_new_privs after the user switch).
pub fn raise_permitted() -> std::io::Result<()> {
    let permitted = caps::read(None, CapSet::Permitted).map_err(std::io::Error::other)?;
    caps::set(None, CapSet::Effective, &permitted).map_err(std::io::Error::other)
}
