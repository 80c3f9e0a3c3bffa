//! The device allow/deny list: v1 devices.allow/deny files, and the rule set
//! every container gets (the spec's rules and the standard devices every
//! container needs, as runc adds them).

use crate::{fs, Result};
use hull_spec::DeviceCgroup;
use std::path::Path;

fn rule(typ: &str, major: Option<i64>, minor: Option<i64>, access: &str) -> DeviceCgroup {
    DeviceCgroup { allow: true, typ: Some(typ.into()), major, minor, access: Some(access.into()) }
}

/// Devices every container may use: mknod of anything, and the standard
/// character devices (null, zero, full, random, urandom, tty, console, ptmx, pts).
pub fn default_allowed() -> Vec<DeviceCgroup> {
    vec![
        rule("c", None, None, "m"),
        rule("b", None, None, "m"),
        rule("c", Some(1), Some(3), "rwm"),
        rule("c", Some(1), Some(5), "rwm"),
        rule("c", Some(1), Some(7), "rwm"),
        rule("c", Some(1), Some(8), "rwm"),
        rule("c", Some(1), Some(9), "rwm"),
        rule("c", Some(5), Some(0), "rwm"),
        rule("c", Some(5), Some(1), "rwm"),
        rule("c", Some(5), Some(2), "rwm"),
        rule("c", Some(136), None, "rwm"),
    ]
}

/// The full ordered rule list for a container: its own rules, then the
/// defaults, as runc appends them. `linux.devices` adds nothing: a node the
/// container has is usable only if `resources.devices` allows it (runc).
pub fn effective_rules(spec_rules: &[DeviceCgroup]) -> Vec<DeviceCgroup> {
    let mut rules = spec_rules.to_vec();
    rules.extend(default_allowed());
    rules
}

/// The access letters the kernel knows (r, w, m), each once, in that
/// order; others ("rwa", as runc's tests write) are dropped, as runc's
/// parser does; none at all means all (an access naming only unknown
/// letters is refused by `validate`).
pub fn normalized_access(access: Option<&str>) -> String {
    let a = access.unwrap_or_default();
    let known: String = ['r', 'w', 'm'].iter().filter(|c| a.contains(**c)).collect();
    if known.is_empty() {
        "rwm".into()
    } else {
        known
    }
}

/// `type major:minor access` as devices.allow takes it.
pub fn format_rule(r: &DeviceCgroup) -> String {
    let num = |n: Option<i64>| n.filter(|n| *n >= 0).map_or("*".to_string(), |n| n.to_string());
    let typ = r.typ.as_deref().filter(|t| !t.is_empty()).unwrap_or("a");
    let access = normalized_access(r.access.as_deref());
    let access = access.as_str();
    if typ == "a" {
        return format!("a *:* {access}");
    }
    format!("{typ} {}:{} {access}", num(r.major), num(r.minor))
}

pub(super) fn apply(dir: &Path, rules: &[DeviceCgroup]) -> Result<()> {
    for r in rules {
        let file = if r.allow { "devices.allow" } else { "devices.deny" };
        fs::write(dir, file, format_rule(r))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rules() {
        let deny_all = DeviceCgroup { allow: false, access: Some("rwm".into()), ..Default::default() };
        assert_eq!(format_rule(&deny_all), "a *:* rwm");
        assert_eq!(format_rule(&rule("c", Some(136), None, "rwm")), "c 136:* rwm");
        assert_eq!(format_rule(&rule("c", Some(1), Some(11), "rwa")), "c 1:11 rw");
        assert_eq!(format_rule(&rule("c", Some(1), Some(11), "mr")), "c 1:11 rm");
        let all = effective_rules(&[deny_all]);
        assert_eq!(format_rule(&all[1]), "c *:* m");
    }
}
