//! seccomp: `linux.seccomp` is compiled with libseccomp by the runtime before
//! clone (so a bad profile fails early, naming the field, with nothing to
//! clean up) and loaded by the init as late as it can be.

use crate::error::{spec, Result};
use hull_spec::{Seccomp, SeccompArg};
use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use std::str::FromStr;

/// A compiled filter: the kernel's BPF program plus how to load it.
pub struct Filter {
    bpf: Vec<u8>,
    flags: libc::c_ulong,
    /// Whether a rule (or the default) is SCMP_ACT_NOTIFY.
    pub uses_notify: bool,
    /// Syscall names libseccomp does not know; skipped, as runc and crun do
    /// (Docker's profile lists syscalls newer than many libseccomp builds).
    pub unknown_names: Vec<String>,
}

const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;
const FLAG_TSYNC: libc::c_ulong = 1;
const FLAG_LOG: libc::c_ulong = 2;
const FLAG_SPEC_ALLOW: libc::c_ulong = 4;
const FLAG_NEW_LISTENER: libc::c_ulong = 8;

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

/// Compiles a profile with libseccomp into a BPF program.
pub fn build(s: &Seccomp) -> Result<Filter> {
    let (ctx, mut filter) = build_context(s)?;
    let mut bpf = enosys_stub(s, &ctx);
    bpf.extend(export(&ctx)?);
    if bpf.len() / 8 > 4096 {
        return Err(spec(
            "linux.seccomp",
            format!("the filter has {} instructions; the kernel takes 4096", bpf.len() / 8),
        ));
    }
    filter.bpf = bpf;
    Ok(filter)
}

/// One classic BPF instruction (struct sock_filter), native-endian.
fn insn(code: u16, jt: u8, jf: u8, k: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[..2].copy_from_slice(&code.to_ne_bytes());
    b[2] = jt;
    b[3] = jf;
    b[4..].copy_from_slice(&k.to_ne_bytes());
    b
}

/// The audit architecture the kernel reports in seccomp_data.arch.
fn audit_arch(a: ScmpArch) -> Option<u32> {
    Some(match a {
        ScmpArch::X8664 => 0xC000_003E,
        ScmpArch::X86 => 0x4000_0003,
        ScmpArch::Aarch64 => 0xC000_00B7,
        ScmpArch::Arm => 0x4000_0028,
        ScmpArch::Riscv64 => 0xC000_00F3,
        ScmpArch::Ppc64Le => 0xC000_0015,
        ScmpArch::S390X => 0x8000_0016,
        _ => return None,
    })
}

/// A program prepended to the profile's, as runc does: a syscall numbered
/// above every syscall the profile names (on that architecture) is newer
/// than the profile, and gets ENOSYS rather than the default action, so
/// that libc falls back to the older call it replaces (clone3 → clone,
/// faccessat2 → faccessat) instead of failing with EPERM or dying. Not for
/// permissive defaults, nor when the default already is ENOSYS. x32 calls
/// (bit 30 set) go straight to the profile.
fn enosys_stub(s: &Seccomp, ctx: &ScmpFilterContext) -> Vec<u8> {
    const LD_W_ABS: u16 = 0x20;
    const JEQ_K: u16 = 0x15;
    const JGT_K: u16 = 0x25;
    const JSET_K: u16 = 0x45;
    const JA: u16 = 0x05;
    const RET_K: u16 = 0x06;
    const RET_ERRNO_ENOSYS: u32 = 0x0005_0000 | libc::ENOSYS as u32;
    const X32_BIT: u32 = 0x4000_0000;
    let permissive = matches!(s.default_action.as_str(), "SCMP_ACT_ALLOW" | "SCMP_ACT_LOG");
    let enosys_default = s.default_action == "SCMP_ACT_ERRNO" && s.default_errno_ret == Some(libc::ENOSYS as u32);
    if permissive || enosys_default {
        return Vec::new();
    }
    let mut arches = vec![ScmpArch::native()];
    for a in s.architectures.iter().flatten().filter_map(|a| ScmpArch::from_str(a).ok()) {
        if !arches.contains(&a) && ctx.is_arch_present(a).unwrap_or(false) {
            arches.push(a);
        }
    }
    // (audit arch, largest syscall number named, whether x32 shares it)
    let sections: Vec<(u32, u32, bool)> = arches
        .iter()
        .filter_map(|&a| {
            let audit = audit_arch(a)?;
            let max = s
                .syscalls
                .iter()
                .flatten()
                .flat_map(|r| r.names.iter())
                .filter_map(|n| ScmpSyscall::from_name_by_arch(n, a).ok())
                .map(|sc| sc.as_raw_syscall())
                .filter(|&nr| nr >= 0)
                .max()?;
            Some((audit, max as u32, a == ScmpArch::X8664))
        })
        .collect();
    if sections.is_empty() {
        return Vec::new();
    }
    let len = |x86_64: bool| if x86_64 { 3 } else { 2 };
    let mut starts = Vec::new();
    let mut pc = 1 + sections.len() + 1;
    for &(_, _, x) in &sections {
        starts.push(pc);
        pc += len(x);
    }
    let (enosys, filter) = (pc, pc + 1);
    // A jump's offset counts from the instruction after it.
    let rel = |from: usize, to: usize| (to - from - 1) as u8;
    let mut prog = vec![insn(LD_W_ABS, 0, 0, 4)];
    for (i, &(audit, _, _)) in sections.iter().enumerate() {
        prog.push(insn(JEQ_K, rel(1 + i, starts[i]), 0, audit));
    }
    prog.push(insn(JA, 0, 0, (filter - (1 + sections.len()) - 1) as u32));
    for (i, &(_, max, x86_64)) in sections.iter().enumerate() {
        let mut at = starts[i];
        prog.push(insn(LD_W_ABS, 0, 0, 0));
        at += 1;
        if x86_64 {
            prog.push(insn(JSET_K, rel(at, filter), 0, X32_BIT));
            at += 1;
        }
        prog.push(insn(JGT_K, rel(at, enosys), rel(at, filter), max));
    }
    prog.push(insn(RET_K, 0, 0, RET_ERRNO_ENOSYS));
    prog.concat()
}

fn export(ctx: &ScmpFilterContext) -> Result<Vec<u8>> {
    use std::io::{Read, Seek};
    let fd = nix::sys::memfd::memfd_create(c"hull-seccomp", nix::sys::memfd::MemFdCreateFlag::MFD_CLOEXEC)
        .map_err(|e| crate::error::sys("memfd_create", "seccomp export", e))?;
    let mut file = std::fs::File::from(fd);
    ctx.export_bpf(&file).map_err(|e| spec("linux.seccomp", format!("export: {e}")))?;
    let mut bpf = Vec::new();
    file.rewind()
        .and_then(|()| file.read_to_end(&mut bpf))
        .map_err(|e| crate::error::sys("read", "seccomp export", e))?;
    Ok(bpf)
}

fn build_context(s: &Seccomp) -> Result<(ScmpFilterContext, Filter)> {
    let default = action("linux.seccomp.defaultAction", &s.default_action, s.default_errno_ret)?;
    if default == ScmpAction::Notify {
        // Every call the init makes after loading the filter (handing the
        // notify fd over among them) would wait on a listener it has not
        // reached yet: refused, as runc does.
        return Err(spec("linux.seccomp.defaultAction", "SCMP_ACT_NOTIFY cannot be the default action"));
    }
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
    let mut flags = 0;
    for flag in s.flags.iter().flatten() {
        flags |= match flag.as_str() {
            "SECCOMP_FILTER_FLAG_TSYNC" => FLAG_TSYNC,
            "SECCOMP_FILTER_FLAG_LOG" => FLAG_LOG,
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => FLAG_SPEC_ALLOW,
            other => return Err(spec("linux.seccomp.flags", format!("unknown flag {other:?}"))),
        };
    }
    let mut uses_notify = default == ScmpAction::Notify;
    let mut unknown_names = Vec::new();
    for (i, rule) in s.syscalls.iter().flatten().enumerate() {
        let field = format!("linux.seccomp.syscalls[{i}]");
        let act = action(&format!("{field}.action"), &rule.action, rule.errno_ret)?;
        uses_notify |= act == ScmpAction::Notify;
        // The init writes and sends the notify fd itself once the filter is
        // loaded: notifying those would deadlock it (runc refuses write too).
        if act == ScmpAction::Notify {
            if let Some(n) = rule.names.iter().find(|n| ["write", "sendmsg"].contains(&n.as_str())) {
                return Err(spec(format!("{field}.names"), format!("SCMP_ACT_NOTIFY cannot be used for {n}")));
            }
        }
        let conds =
            rule.args.iter().flatten().map(|a| compare(&format!("{field}.args"), a)).collect::<Result<Vec<_>>>()?;
        // libseccomp takes one condition per argument; conditions on a
        // repeated index become separate rules (either may match), as runc does.
        let mut indexes: Vec<u32> = rule.args.iter().flatten().map(|a| a.index).collect();
        indexes.sort_unstable();
        let distinct = indexes.windows(2).all(|w| w[0] != w[1]);
        if rule.names.is_empty() {
            return Err(spec(format!("{field}.names"), "empty"));
        }
        for name in &rule.names {
            // A well-formed name this libseccomp does not know is skipped
            // (newer profiles name newer syscalls); anything else is an error.
            let well_formed = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !well_formed {
                return Err(spec(format!("{field}.names"), format!("{name:?} is not a syscall name")));
            }
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
    if uses_notify {
        // The init is single-threaded; TSYNC cannot be combined with NEW_LISTENER.
        flags = (flags & !FLAG_TSYNC) | FLAG_NEW_LISTENER;
    }
    Ok((ctx, Filter { bpf: Vec::new(), flags, uses_notify, unknown_names }))
}

impl Filter {
    /// Loads the filter into the calling process; returns the notify fd when
    /// the filter has SCMP_ACT_NOTIFY rules.
    pub fn load(&self) -> Result<Option<std::os::fd::OwnedFd>> {
        use std::os::fd::FromRawFd;
        #[repr(C)]
        struct SockFprog {
            len: libc::c_ushort,
            filter: *const u8,
        }
        let prog = SockFprog { len: (self.bpf.len() / 8) as libc::c_ushort, filter: self.bpf.as_ptr() };
        // SAFETY: prog points to self.bpf, a whole number of 8-byte sock_filter
        // instructions produced by libseccomp, alive for the duration of the call.
        let ret =
            unsafe { libc::syscall(libc::SYS_seccomp, SECCOMP_SET_MODE_FILTER, self.flags, &prog as *const SockFprog) };
        if ret < 0 {
            return Err(crate::error::sys("load", "seccomp filter", std::io::Error::last_os_error()));
        }
        if self.flags & FLAG_NEW_LISTENER != 0 {
            // SAFETY: with NEW_LISTENER the kernel returned a new descriptor.
            return Ok(Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(ret as i32) }));
        }
        Ok(None)
    }
}

/// [`build`], with the compiled program cached in `dir` under a hash of the
/// profile: libseccomp takes milliseconds to compile a Docker-sized profile,
/// and most containers reuse a few profiles. The cache entry keeps the whole
/// profile and is used only when it matches exactly.
pub fn build_cached(s: &Seccomp, dir: &std::path::Path) -> Result<Filter> {
    use std::hash::{Hash, Hasher};
    let key_text = serde_json::to_string(s).unwrap_or_default();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (env!("CARGO_PKG_VERSION"), "enosys-stub-1", libseccomp_version(), &key_text).hash(&mut h);
    let base = dir.join(format!("{:016x}", h.finish()));
    if let Some(f) = read_cache(&base, &key_text) {
        return Ok(f);
    }
    let f = build(s)?;
    // Best-effort: a cache that cannot be written only costs time.
    let _ = write_cache(&base, &key_text, &f);
    Ok(f)
}

fn libseccomp_version() -> String {
    libseccomp::ScmpVersion::current().map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro)).unwrap_or_default()
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CacheMeta {
    profile: String,
    flags: u64,
    uses_notify: bool,
    unknown_names: Vec<String>,
}

fn read_cache(base: &std::path::Path, profile: &str) -> Option<Filter> {
    let meta: CacheMeta = serde_json::from_slice(&std::fs::read(base.with_extension("json")).ok()?).ok()?;
    if meta.profile != profile {
        return None;
    }
    let bpf = std::fs::read(base.with_extension("bpf")).ok()?;
    (bpf.len() % 8 == 0 && !bpf.is_empty()).then_some(Filter {
        bpf,
        flags: meta.flags,
        uses_notify: meta.uses_notify,
        unknown_names: meta.unknown_names,
    })
}

fn write_cache(base: &std::path::Path, profile: &str, f: &Filter) -> Result<()> {
    if let Some(dir) = base.parent() {
        std::fs::create_dir_all(dir).map_err(|e| crate::error::sys("mkdir", dir.display(), e))?;
    }
    let meta = CacheMeta {
        profile: profile.to_string(),
        flags: f.flags,
        uses_notify: f.uses_notify,
        unknown_names: f.unknown_names.clone(),
    };
    // The program first, then the metadata that makes the entry visible.
    crate::util::write_atomic(&base.with_extension("bpf"), &f.bpf)?;
    crate::util::write_atomic(&base.with_extension("json"), &serde_json::to_vec(&meta).unwrap_or_default())
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

    #[test]
    fn cache_hits_only_the_same_profile() {
        let dir = tempfile::tempdir().unwrap();
        let a = profile(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write","bogus_name"],"action":"SCMP_ACT_ALLOW"}]}"#,
        );
        let first = build_cached(&a, dir.path()).unwrap();
        let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(entries.len(), 2, "program and metadata are cached");
        let second = build_cached(&a, dir.path()).unwrap();
        assert_eq!(first.bpf, second.bpf);
        assert_eq!(second.unknown_names, ["bogus_name"]);
        let b =
            profile(r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#);
        assert_ne!(build_cached(&b, dir.path()).unwrap().bpf, first.bpf);
    }
}
