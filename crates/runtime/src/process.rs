//! The container process's attributes: user, rlimits, scheduling, I/O
//! priority, personality, environment and the executable to run.

use crate::error::{sys, Context, Result};
use hull_spec::{IoPriority, Process, Rlimit, Scheduler, User};
use std::ffi::CString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Maps `RLIMIT_*` to its resource number.
pub fn rlimit_resource(name: &str) -> Option<libc::__rlimit_resource_t> {
    Some(match name {
        "RLIMIT_AS" => libc::RLIMIT_AS,
        "RLIMIT_CORE" => libc::RLIMIT_CORE,
        "RLIMIT_CPU" => libc::RLIMIT_CPU,
        "RLIMIT_DATA" => libc::RLIMIT_DATA,
        "RLIMIT_FSIZE" => libc::RLIMIT_FSIZE,
        "RLIMIT_LOCKS" => libc::RLIMIT_LOCKS,
        "RLIMIT_MEMLOCK" => libc::RLIMIT_MEMLOCK,
        "RLIMIT_MSGQUEUE" => libc::RLIMIT_MSGQUEUE,
        "RLIMIT_NICE" => libc::RLIMIT_NICE,
        "RLIMIT_NOFILE" => libc::RLIMIT_NOFILE,
        "RLIMIT_NPROC" => libc::RLIMIT_NPROC,
        "RLIMIT_RSS" => libc::RLIMIT_RSS,
        "RLIMIT_RTPRIO" => libc::RLIMIT_RTPRIO,
        "RLIMIT_RTTIME" => libc::RLIMIT_RTTIME,
        "RLIMIT_SIGPENDING" => libc::RLIMIT_SIGPENDING,
        "RLIMIT_STACK" => libc::RLIMIT_STACK,
        _ => return None,
    })
}

/// Maps `SCHED_*` to its policy number.
pub fn scheduler_policy(name: &str) -> Option<u32> {
    Some(match name {
        "SCHED_OTHER" => 0,
        "SCHED_FIFO" => 1,
        "SCHED_RR" => 2,
        "SCHED_BATCH" => 3,
        "SCHED_ISO" => 4,
        "SCHED_IDLE" => 5,
        "SCHED_DEADLINE" => 6,
        _ => return None,
    })
}

/// Applies every rlimit.
pub fn apply_rlimits(limits: &[Rlimit]) -> Result<()> {
    for r in limits {
        let Some(res) = rlimit_resource(&r.typ) else {
            continue;
        };
        let lim = libc::rlimit { rlim_cur: r.soft, rlim_max: r.hard };
        // SAFETY: lim is a valid rlimit struct for the duration of the call.
        if unsafe { libc::setrlimit(res, &lim) } != 0 {
            return Err(sys("setrlimit", &r.typ, std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// Switches to the process's uid/gid/groups, keeping the permitted
/// capabilities across the uid change so they can be set afterwards.
pub fn switch_user(user: &User, setgroups_allowed: bool) -> Result<()> {
    crate::sys::prctl(libc::PR_SET_KEEPCAPS, 1).ctx("prctl", "PR_SET_KEEPCAPS")?;
    if setgroups_allowed {
        let groups: Vec<nix::unistd::Gid> =
            user.additional_gids.iter().flatten().map(|g| nix::unistd::Gid::from_raw(*g)).collect();
        nix::unistd::setgroups(&groups).ctx("setgroups", format!("{:?}", user.additional_gids))?;
    }
    let gid = nix::unistd::Gid::from_raw(user.gid);
    nix::unistd::setresgid(gid, gid, gid).ctx("setresgid", user.gid)?;
    let uid = nix::unistd::Uid::from_raw(user.uid);
    nix::unistd::setresuid(uid, uid, uid).ctx("setresuid", user.uid)?;
    crate::sys::prctl(libc::PR_SET_KEEPCAPS, 0).ctx("prctl", "PR_SET_KEEPCAPS")
}

/// Sets the I/O priority.
pub fn apply_io_priority(io: &IoPriority) -> Result<()> {
    let class = match io.class.as_str() {
        "IOPRIO_CLASS_RT" => 1,
        "IOPRIO_CLASS_BE" => 2,
        _ => 3,
    };
    crate::sys::ioprio_set(class, io.priority).ctx("ioprio_set", &io.class)
}

/// Sets the scheduling policy.
pub fn apply_scheduler(s: &Scheduler) -> Result<()> {
    let mut flags = 0u64;
    for f in s.flags.iter().flatten() {
        flags |= match f.as_str() {
            "SCHED_FLAG_RESET_ON_FORK" => 0x01,
            "SCHED_FLAG_RECLAIM" => 0x02,
            "SCHED_FLAG_DL_OVERRUN" => 0x04,
            "SCHED_FLAG_KEEP_POLICY" => 0x08,
            "SCHED_FLAG_KEEP_PARAMS" => 0x10,
            "SCHED_FLAG_UTIL_CLAMP_MIN" => 0x20,
            "SCHED_FLAG_UTIL_CLAMP_MAX" => 0x40,
            other => return Err(crate::error::spec("process.scheduler.flags", format!("unknown flag {other:?}"))),
        };
    }
    let mut attr = crate::sys::SchedAttr {
        policy: scheduler_policy(&s.policy).unwrap_or(0),
        flags,
        nice: s.nice.unwrap_or(0),
        priority: s.priority.unwrap_or(0) as u32,
        runtime: s.runtime.unwrap_or(0),
        deadline: s.deadline.unwrap_or(0),
        period: s.period.unwrap_or(0),
        ..Default::default()
    };
    crate::sys::sched_setattr(&mut attr).ctx("sched_setattr", &s.policy)
}

/// Parses a CPU list (`0-3,7`) into a set.
pub fn cpu_set(field: &str, list: &str) -> Result<libc::cpu_set_t> {
    // SAFETY: cpu_set_t is a plain bit array; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let bad = || crate::error::spec(field, format!("{list:?} is not a CPU list (like 0-3,7)"));
    let max = 8 * std::mem::size_of::<libc::cpu_set_t>();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b): (usize, usize) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
        if a > b || b >= max {
            return Err(bad());
        }
        // SAFETY: every index is below the set's size (checked above).
        (a..=b).for_each(|c| unsafe { libc::CPU_SET(c, &mut set) });
    }
    if list.trim().is_empty() {
        return Err(bad());
    }
    Ok(set)
}

/// Sets the calling process's CPU affinity: `list`, or, without one, every
/// CPU (the kernel keeps those the cgroup's cpuset allows). The runtime
/// does this so that the container never inherits its caller's affinity
/// (runc resets it too).
pub fn set_affinity(field: &str, list: Option<&str>) -> Result<()> {
    let all = format!("0-{}", 8 * std::mem::size_of::<libc::cpu_set_t>() - 1);
    let set = cpu_set(field, list.unwrap_or(&all))?;
    // SAFETY: set is a valid cpu_set_t of the size passed.
    let ret = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if ret != 0 {
        return Err(sys("sched_setaffinity", field, std::io::Error::last_os_error()));
    }
    Ok(())
}

const INITIAL: &str = "process.execCPUAffinity.initial";
const FINAL: &str = "process.execCPUAffinity.final";

/// The affinity while the runtime's part runs: `execCPUAffinity.initial`,
/// else every CPU (never the caller's).
pub fn initial_affinity(p: &Process) -> Result<()> {
    set_affinity(INITIAL, p.exec_cpu_affinity.as_ref().and_then(|a| a.initial.as_deref()))
}

/// The process's own affinity, set before the last privileges go:
/// `execCPUAffinity.final`, else every CPU when `initial` narrowed it.
pub fn final_affinity(p: &Process) -> Result<()> {
    match &p.exec_cpu_affinity {
        Some(a) if a.final_.is_some() || a.initial.is_some() => set_affinity(FINAL, a.final_.as_deref()),
        _ => Ok(()),
    }
}

/// Checks both lists parse (before anything is made).
pub fn validate_affinity(p: &Process) -> Result<()> {
    if let Some(a) = &p.exec_cpu_affinity {
        for (field, list) in [(INITIAL, &a.initial), (FINAL, &a.final_)] {
            if let Some(l) = list {
                cpu_set(field, l)?;
            }
        }
    }
    Ok(())
}

/// Sets the execution domain.
pub fn apply_personality(domain: &str) -> Result<()> {
    const PER_LINUX: libc::c_ulong = 0;
    const PER_LINUX32: libc::c_ulong = 8;
    crate::sys::personality(if domain == "LINUX32" { PER_LINUX32 } else { PER_LINUX }).ctx("personality", domain)
}

/// The environment: a key given twice keeps its last value, and HOME,
/// when missing or empty, comes from /etc/passwd (or is `/`), as runc does.
pub fn environment(p: &Process) -> Vec<String> {
    let mut env: Vec<String> = Vec::new();
    for kv in p.env.iter().flatten() {
        let key = kv.split('=').next().unwrap_or(kv);
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(kv.clone());
    }
    env.retain(|e| e != "HOME=");
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        let home = home_of(p.user.uid).unwrap_or_else(|| "/".into());
        env.push(format!("HOME={home}"));
    }
    env
}

fn home_of(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 6 && f[2].parse() == Ok(uid)).then(|| f[5].to_string())
    })
}

/// Finds the executable as execvp would, in the (container's) PATH.
pub fn find_executable(arg0: &str, env: &[String]) -> Result<PathBuf> {
    let not_found = |why: &str| sys("exec", arg0, std::io::Error::new(std::io::ErrorKind::NotFound, why.to_string()));
    if arg0.contains('/') {
        return match std::fs::metadata(arg0) {
            Ok(m) if m.is_file() => Ok(arg0.into()),
            Ok(_) => {
                Err(sys("exec", arg0, std::io::Error::new(std::io::ErrorKind::PermissionDenied, "not a regular file")))
            }
            Err(e) => Err(sys("exec", arg0, e)),
        };
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    path.split(':')
        .map(|dir| Path::new(if dir.is_empty() { "." } else { dir }).join(arg0))
        .find(|c| std::fs::metadata(c).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
        .ok_or_else(|| not_found("executable file not found in $PATH"))
}

/// Converts strings for execve.
pub fn cstrings(items: &[String]) -> Result<Vec<CString>> {
    items
        .iter()
        .map(|s| {
            CString::new(s.as_bytes()).map_err(|_| crate::error::spec("process", format!("{s:?} contains a NUL byte")))
        })
        .collect()
}

/// The command, resolved and converted for execve.
pub struct Prepared {
    /// Executable path.
    pub path: CString,
    /// argv.
    pub args: Vec<CString>,
    /// envp.
    pub env: Vec<CString>,
}

/// Turns the calling process into the configured one, short of the last
/// privileges ([`lock_down`]) and the execve: I/O priority, scheduler,
/// executable lookup, rlimits (before privileges go: raising a hard limit
/// needs CAP_SYS_RESOURCE), bounding set, user, cwd, umask, and every
/// descriptor beyond stdio and `preserve_fds` marked close-on-exec.
pub fn become_process(p: &Process, userns: bool, preserve_fds: u32) -> Result<Prepared> {
    final_affinity(p)?;
    if let Some(io) = &p.io_priority {
        apply_io_priority(io)?;
    }
    if let Some(s) = &p.scheduler {
        apply_scheduler(s)?;
    }
    let env = environment(p);
    let args = p.args.clone().unwrap_or_default();
    let arg0 = args.first().ok_or_else(|| crate::error::spec("process.args", "missing"))?;
    let exe = find_executable(arg0, &env)?;
    apply_rlimits(p.rlimits.as_deref().unwrap_or_default())?;
    if let Some(c) = &p.capabilities {
        crate::capabilities::drop_bounding(c)?;
    }
    let setgroups_allowed =
        !userns || std::fs::read_to_string("/proc/self/setgroups").map_or(true, |s| s.trim() == "allow");
    fix_stdio_owner(p.user.uid);
    // The cwd is entered while still root where it can be (a directory
    // only root may enter, as runc allows), else as the user.
    let entered = nix::unistd::chdir(&p.cwd);
    switch_user(&p.user, setgroups_allowed)?;
    if matches!(entered, Err(nix::errno::Errno::EACCES) | Err(nix::errno::Errno::EPERM)) {
        nix::unistd::chdir(&p.cwd).ctx("chdir", p.cwd.display())?;
    } else {
        entered.ctx("chdir", p.cwd.display())?;
    }
    // The cwd must lie inside the container's root (CVE-2024-21626): a
    // directory reached through a leaked descriptor shows as unreachable.
    let cwd = nix::unistd::getcwd().ctx("getcwd", p.cwd.display())?;
    if !cwd.starts_with("/") {
        return Err(crate::error::spec("process.cwd", format!("{} is outside the container", p.cwd.display())));
    }
    let umask = p.user.umask.unwrap_or(0o022);
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(umask));
    crate::sys::cloexec_from(3 + preserve_fds).ctx("close_range", "inherited descriptors")?;
    // The runtime's own signal set-up (Rust ignores SIGPIPE) must not leak.
    crate::sys::reset_signals().ctx("reset", "signal dispositions")?;
    let path = CString::new(exe.as_os_str().as_encoded_bytes())
        .map_err(|_| crate::error::spec("process.args", "NUL in path"))?;
    Ok(Prepared { path, args: cstrings(&args)?, env: cstrings(&env)? })
}

/// Gives the process's user its stdio when that is a terminal or a pipe
/// (runc): a process that reopens /dev/stdout or /proc/self/fd/2 needs to
/// own it. Only the owner changes (devpts sets the tty group). Regular
/// files and /dev/null are left alone: a file the caller passed stays the
/// caller's. Best-effort, as in runc (an unmapped owner, a read-only /dev).
fn fix_stdio_owner(uid: u32) {
    for fd in 0..3 {
        let Ok(st) = nix::sys::stat::fstat(fd) else { continue };
        let kind = st.st_mode & libc::S_IFMT;
        let tty = kind == libc::S_IFCHR && nix::unistd::isatty(fd).unwrap_or(false);
        if !(tty || kind == libc::S_IFIFO) || st.st_uid == uid {
            continue;
        }
        // SAFETY: fchown on a descriptor we hold; -1 keeps the group.
        unsafe { libc::fchown(fd, uid, u32::MAX) };
    }
}

/// The last privileges go: seccomp (while CAP_SYS_ADMIN is still there when
/// no_new_privs is off), the final capability sets, no_new_privs, and
/// seccomp last of all when no_new_privs is on.
pub fn lock_down(
    p: &hull_spec::Process,
    filter: Option<&crate::seccomp::Filter>,
) -> Result<Option<std::os::fd::OwnedFd>> {
    // Loading a filter without no_new_privs needs CAP_SYS_ADMIN; a process
    // that will not have it gets no_new_privs, as the kernel demands.
    let can_skip_nnp = caps::has_cap(None, caps::CapSet::Permitted, caps::Capability::CAP_SYS_ADMIN).unwrap_or(false);
    let nnp = p.no_new_privileges == Some(true) || (filter.is_some() && !can_skip_nnp);
    let mut notify = None;
    if let Some(f) = filter.filter(|_| !nnp) {
        crate::capabilities::raise_permitted().ctx("capset", "raise permitted capabilities to load seccomp")?;
        notify = f.load()?;
    }
    if let Some(c) = &p.capabilities {
        crate::capabilities::apply(c)?;
    }
    if nnp {
        crate::sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1).ctx("prctl", "PR_SET_NO_NEW_PRIVS")?;
    }
    if let Some(f) = filter.filter(|_| nnp) {
        notify = f.load()?;
    }
    Ok(notify)
}
