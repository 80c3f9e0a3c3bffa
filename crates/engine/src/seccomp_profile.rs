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
    groups: Vec<Group>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Group {
    names: Vec<String>,
    action: String,
    errno_ret: Option<u32>,
    #[serde(default)]
    unless_caps: Vec<String>,
    /// One rule per flag: the action when `arg[index] & flag == flag`.
    flag_args: Option<FlagArgs>,
}

#[derive(Deserialize)]
struct FlagArgs {
    index: u32,
    flags: Vec<u64>,
}

/// The default profile for a container holding `caps` (`CAP_*` names).
pub fn default_for(caps: &[String]) -> Seccomp {
    // The profile is part of the binary and parsed by a unit test.
    let profile: Profile =
        serde_json::from_str(PROFILE).unwrap_or(Profile { default_action: "SCMP_ACT_ALLOW".into(), groups: vec![] });
    let mut rules = Vec::new();
    for g in profile.groups {
        if g.unless_caps.iter().any(|c| caps.contains(c)) {
            continue;
        }
        let rule =
            |args| SeccompSyscall { names: g.names.clone(), action: g.action.clone(), errno_ret: g.errno_ret, args };
        match &g.flag_args {
            None => rules.push(rule(None)),
            Some(f) => {
                for flag in &f.flags {
                    let arg = SeccompArg {
                        index: f.index,
                        value: *flag,
                        value_two: Some(*flag),
                        op: "SCMP_CMP_MASKED_EQ".into(),
                    };
                    rules.push(rule(Some(vec![arg])));
                }
            }
        }
    }
    Seccomp {
        default_action: profile.default_action,
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
        let plain = super::default_for(&[]);
        let names = |s: &hull_spec::Seccomp| -> Vec<String> {
            s.syscalls.iter().flatten().flat_map(|r| r.names.clone()).collect()
        };
        assert!(names(&plain).contains(&"mount".to_string()));
        assert!(names(&plain).contains(&"reboot".to_string()));
        let admin = super::default_for(&["CAP_SYS_ADMIN".into()]);
        assert!(!names(&admin).contains(&"mount".to_string()));
        assert!(names(&admin).contains(&"keyctl".to_string()));
    }
}
