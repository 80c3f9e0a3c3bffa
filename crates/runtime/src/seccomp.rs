//! seccomp: `linux.seccomp` is compiled with libseccomp by the runtime before
//! clone (so a bad profile fails early, naming the field, with nothing to
//! clean up) and loaded by the init as late as it can be.

use crate::error::{spec, Result};
use hull_spec::{Seccomp, SeccompArg};
use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use std::str::FromStr;

/// A compiled filter, ready to load.
pub struct Filter {
    ctx: ScmpFilterContext,
    /// Whether a rule (or the default) is SCMP_ACT_NOTIFY.
    pub uses_notify: bool,
    /// Syscall names libseccomp does not know; skipped, as runc and crun do
    /// (Docker's profile lists syscalls newer than many libseccomp builds).
    pub unknown_names: Vec<String>,
}

const EPERM: u32 = 1;

fn action(field: &str, name: &str, errno: Option<u32>) -> Result<ScmpAction> {
    let errno = errno.unwrap_or(EPERM);
    Ok(match name {
        "SCMP_ACT_ALLOW" => ScmpAction::Allow,
        "SCMP_ACT_ERRNO" => ScmpAction::Errno(errno as i32),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => ScmpAction::KillThread,
        "SCMP_ACT_KILL_PROCESS" => ScmpAction::KillProcess,
        "SCMP_ACT_TRAP" => ScmpAction::Trap,
        "SCMP_ACT_TRACE" => ScmpAction::Trace(errno as u16),
        "SCMP_ACT_LOG" => ScmpAction::Log,
        "SCMP_ACT_NOTIFY" => ScmpAction::Notify,
        other => return Err(spec(field, format!("unknown action {other:?}"))),
    })
}

fn compare(field: &str, a: &SeccompArg) -> Result<ScmpArgCompare> {
    if a.index > 5 {
        return Err(spec(field, format!("argument index {} is above 5", a.index)));
    }
    let (op, datum) = match a.op.as_str() {
        "SCMP_CMP_NE" => (ScmpCompareOp::NotEqual, a.value),
        "SCMP_CMP_LT" => (ScmpCompareOp::Less, a.value),
        "SCMP_CMP_LE" => (ScmpCompareOp::LessOrEqual, a.value),
        "SCMP_CMP_EQ" => (ScmpCompareOp::Equal, a.value),
        "SCMP_CMP_GE" => (ScmpCompareOp::GreaterEqual, a.value),
        "SCMP_CMP_GT" => (ScmpCompareOp::Greater, a.value),
        "SCMP_CMP_MASKED_EQ" => (ScmpCompareOp::MaskedEqual(a.value), a.value_two.unwrap_or(0)),
        other => return Err(spec(field, format!("unknown operator {other:?}"))),
    };
    Ok(ScmpArgCompare::new(a.index, op, datum))
}

fn libseccomp_err(field: &str, e: libseccomp::error::SeccompError) -> crate::RuntimeError {
    spec(field, e.to_string())
}

/// Compiles a profile.
pub fn build(s: &Seccomp) -> Result<Filter> {
    let default = action("linux.seccomp.defaultAction", &s.default_action, s.default_errno_ret)?;
    let mut ctx = ScmpFilterContext::new(default).map_err(|e| libseccomp_err("linux.seccomp", e))?;
    // no_new_privs is the config's decision (process.noNewPrivileges), not libseccomp's.
    ctx.set_ctl_nnp(false).map_err(|e| libseccomp_err("linux.seccomp", e))?;
    for arch in s.architectures.iter().flatten() {
        let a = ScmpArch::from_str(arch)
            .map_err(|_| spec("linux.seccomp.architectures", format!("unknown architecture {arch:?}")))?;
        if !ctx.is_arch_present(a).unwrap_or(false) {
            ctx.add_arch(a).map_err(|e| libseccomp_err("linux.seccomp.architectures", e))?;
        }
    }
    for flag in s.flags.iter().flatten() {
        let r = match flag.as_str() {
            "SECCOMP_FILTER_FLAG_TSYNC" => ctx.set_ctl_tsync(true).map(drop),
            "SECCOMP_FILTER_FLAG_LOG" => ctx.set_ctl_log(true).map(drop),
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => ctx.set_ctl_ssb(true).map(drop),
            other => return Err(spec("linux.seccomp.flags", format!("unknown flag {other:?}"))),
        };
        r.map_err(|e| libseccomp_err("linux.seccomp.flags", e))?;
    }
    let mut uses_notify = default == ScmpAction::Notify;
    let mut unknown_names = Vec::new();
    for (i, rule) in s.syscalls.iter().flatten().enumerate() {
        let field = format!("linux.seccomp.syscalls[{i}]");
        let act = action(&format!("{field}.action"), &rule.action, rule.errno_ret)?;
        uses_notify |= act == ScmpAction::Notify;
        let conds =
            rule.args.iter().flatten().map(|a| compare(&format!("{field}.args"), a)).collect::<Result<Vec<_>>>()?;
        // libseccomp takes one condition per argument; conditions on a
        // repeated index become separate rules (either may match), as runc does.
        let mut indexes: Vec<u32> = rule.args.iter().flatten().map(|a| a.index).collect();
        indexes.sort_unstable();
        let distinct = indexes.windows(2).all(|w| w[0] != w[1]);
        for name in &rule.names {
            let Ok(sc) = ScmpSyscall::from_name(name) else {
                unknown_names.push(name.clone());
                continue;
            };
            if act == default {
                continue; // libseccomp refuses rules that repeat the default.
            }
            let added = if conds.is_empty() {
                ctx.add_rule(act, sc)
            } else if distinct {
                ctx.add_rule_conditional(act, sc, &conds)
            } else {
                conds.iter().try_for_each(|c| ctx.add_rule_conditional(act, sc, &[*c]).map(drop)).map(|()| &mut ctx)
            };
            added.map_err(|e| spec(&field, format!("{name}: {e}")))?;
        }
    }
    if uses_notify && s.listener_path.as_ref().is_none_or(|p| p.as_os_str().is_empty()) {
        return Err(spec("linux.seccomp.listenerPath", "required when an action is SCMP_ACT_NOTIFY"));
    }
    Ok(Filter { ctx, uses_notify, unknown_names })
}

impl Filter {
    /// Loads the filter into the calling process.
    pub fn load(&self) -> Result<()> {
        self.ctx.load().map_err(|e| crate::error::sys("load", "seccomp filter", std::io::Error::other(e.to_string())))
    }

    /// The user-notification fd of a loaded filter.
    pub fn notify_fd(&self) -> Result<i32> {
        self.ctx
            .get_notify_fd()
            .map_err(|e| crate::error::sys("get", "seccomp notify fd", std::io::Error::other(e.to_string())))
    }
}

/// Hands the notify fd to the listener at `listenerPath`, with the container
/// process state, as the runtime spec describes (`fds: ["seccompFd"]`).
pub fn send_to_listener(
    s: Option<&Seccomp>,
    record: &crate::state::ContainerRecord,
    fd: &std::os::fd::OwnedFd,
) -> Result<()> {
    use std::os::fd::AsRawFd;
    let s = s.ok_or_else(|| spec("linux.seccomp", "missing"))?;
    let path = s.listener_path.clone().unwrap_or_default();
    let state = serde_json::json!({
        "ociVersion": hull_spec::OCI_VERSION,
        "fds": ["seccompFd"],
        "pid": record.pid,
        "metadata": s.listener_metadata.clone().unwrap_or_default(),
        "state": hull_spec::State { status: "creating".into(), ..record.oci_state(crate::state::Status::Created) },
    });
    let sock = std::os::unix::net::UnixStream::connect(&path)
        .map_err(|e| crate::error::sys("connect to seccomp listener", path.display(), e))?;
    let data = serde_json::to_vec(&state).unwrap_or_default();
    crate::sync::send_fd(sock.as_raw_fd(), &data, fd.as_raw_fd())
        .map_err(|e| crate::error::sys("send notify fd to", path.display(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(json: &str) -> Seccomp {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn builds_and_rejects() {
        let ok = profile(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
            "flags":["SECCOMP_FILTER_FLAG_LOG"],
            "syscalls":[{"names":["mkdir","no_such_syscall"],"action":"SCMP_ACT_ERRNO","errnoRet":38},
                        {"names":["personality"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"},{"index":0,"value":4294967295,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]}]}"#,
        );
        let f = build(&ok).unwrap();
        assert_eq!(f.unknown_names, ["no_such_syscall"]);
        assert!(!f.uses_notify);
        for (bad, field) in [
            (r#"{"defaultAction":"SCMP_ACT_BOGUS"}"#, "linux.seccomp.defaultAction"),
            (r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_VAX"]}"#, "linux.seccomp.architectures"),
            (r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_BOGUS"]}"#, "linux.seccomp.flags"),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":9,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
                "linux.seccomp.syscalls[0].args",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_NOPE"}]}]}"#,
                "linux.seccomp.syscalls[0].args",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_NOTIFY"}]}"#,
                "linux.seccomp.listenerPath",
            ),
        ] {
            let err = build(&profile(bad)).err().unwrap().to_string();
            assert!(err.starts_with(field), "{bad}: {err}");
        }
    }
}
