//! Hull's default seccomp profile (`profiles/seccomp.json`, embedded) and
//! its compilation into an OCI seccomp section for one container's
//! capabilities: a group marked `unlessCaps` is left out when the container
//! holds one of them, the way docker's profile grants syscalls with caps.

use hull_spec::{Seccomp, SeccompArg, SeccompSyscall};
use serde::Deserialize;

const PROFILE: &str = include_str!("../profiles/seccomp.json");

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    default_action: String,
    default_errno_ret: Option<u32>,
    groups: Vec<Group>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Group {
    names: Vec<String>,
    action: String,
    errno_ret: Option<u32>,
    /// Left out when the container holds one of these.
    #[serde(default)]
    unless_caps: Vec<String>,
    /// Only when the container holds one of these.
    #[serde(default)]
    if_caps: Vec<String>,
    /// Conditions, all of which must hold (one rule).
    args: Option<Vec<SeccompArg>>,
    /// One rule per value: the action when `arg[index] == value`.
    arg_values: Option<ArgValues>,
    /// One rule per flag: the action when `arg[index] & flag == flag`.
    flag_args: Option<FlagArgs>,
}

#[derive(Deserialize)]
struct FlagArgs {
    index: u32,
    flags: Vec<u64>,
}

#[derive(Deserialize)]
struct ArgValues {
    index: u32,
    values: Vec<u64>,
}

fn arg(index: u32, value: u64, value_two: Option<u64>, op: &str) -> SeccompArg {
    SeccompArg { index, value, value_two, op: op.into() }
}

impl Group {
    fn applies(&self, caps: &[String]) -> bool {
        let held = |list: &[String]| list.iter().any(|c| caps.contains(c));
        !held(&self.unless_caps) && (self.if_caps.is_empty() || held(&self.if_caps))
    }

    fn rules(&self) -> Vec<SeccompSyscall> {
        let rule = |args| SeccompSyscall {
            names: self.names.clone(),
            action: self.action.clone(),
            errno_ret: self.errno_ret,
            args,
        };
        if let Some(f) = &self.flag_args {
            return f
                .flags
                .iter()
                .map(|&fl| rule(Some(vec![arg(f.index, fl, Some(fl), "SCMP_CMP_MASKED_EQ")])))
                .collect();
        }
        if let Some(v) = &self.arg_values {
            return v.values.iter().map(|&val| rule(Some(vec![arg(v.index, val, None, "SCMP_CMP_EQ")]))).collect();
        }
        vec![rule(self.args.clone())]
    }
}

/// The default profile for a container holding `caps` (`CAP_*` names).
pub fn default_for(caps: &[String]) -> Seccomp {
    // The profile is part of the binary and parsed by a unit test.
    let profile: Profile = serde_json::from_str(PROFILE).unwrap_or(Profile {
        default_action: "SCMP_ACT_ERRNO".into(),
        default_errno_ret: Some(1),
        groups: vec![],
    });
    let rules = profile.groups.iter().filter(|g| g.applies(caps)).flat_map(Group::rules).collect();
    Seccomp {
        default_action: profile.default_action,
        default_errno_ret: profile.default_errno_ret,
        architectures: Some(vec!["SCMP_ARCH_X86_64".into(), "SCMP_ARCH_X86".into(), "SCMP_ARCH_X32".into()]),
        syscalls: Some(rules),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn profile_parses_and_caps_lift_groups() {
        let p: super::Profile = serde_json::from_str(super::PROFILE).unwrap();
        assert!(p.groups.len() > 10);
        assert_eq!(p.default_action, "SCMP_ACT_ERRNO", "an allow list");
        let rules_for = |s: &hull_spec::Seccomp, name: &str, action: &str| -> usize {
            s.syscalls.iter().flatten().filter(|r| r.action == action && r.names.iter().any(|n| n == name)).count()
        };
        let plain = super::default_for(&[]);
        assert_eq!(rules_for(&plain, "read", "SCMP_ACT_ALLOW"), 1);
        assert_eq!(rules_for(&plain, "mount", "SCMP_ACT_ERRNO"), 1);
        assert_eq!(rules_for(&plain, "mount", "SCMP_ACT_ALLOW"), 0);
        assert_eq!(rules_for(&plain, "keyctl", "SCMP_ACT_ERRNO"), 1);
        assert_eq!(rules_for(&plain, "personality", "SCMP_ACT_ALLOW"), 5);
        assert_eq!(rules_for(&plain, "clone", "SCMP_ACT_ERRNO"), 7);
        let admin = super::default_for(&["CAP_SYS_ADMIN".into()]);
        assert_eq!(rules_for(&admin, "mount", "SCMP_ACT_ALLOW"), 1);
        assert_eq!(rules_for(&admin, "mount", "SCMP_ACT_ERRNO"), 0);
        assert_eq!(rules_for(&admin, "clone", "SCMP_ACT_ERRNO"), 0);
        assert_eq!(rules_for(&admin, "keyctl", "SCMP_ACT_ERRNO"), 1);
        // No syscall is both allowed and refused unconditionally for one set of caps.
        for caps in [vec![], vec!["CAP_SYS_ADMIN".to_string()], vec!["CAP_SYS_PTRACE".to_string()]] {
            let s = super::default_for(&caps);
            let plain_rules = |action: &str| -> Vec<String> {
                s.syscalls
                    .iter()
                    .flatten()
                    .filter(|r| r.action == action && r.args.is_none())
                    .flat_map(|r| r.names.clone())
                    .collect()
            };
            let denied = plain_rules("SCMP_ACT_ERRNO");
            let both: Vec<_> = plain_rules("SCMP_ACT_ALLOW").into_iter().filter(|n| denied.contains(n)).collect();
            assert!(both.is_empty(), "{caps:?}: {both:?}");
        }
    }
}
