//! OCI hooks: executables run with the container state on stdin.

use crate::error::{Result, RuntimeError};
use hull_spec::{Hook, State};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};

/// Where a hook runs beyond its own config: its working directory and the
/// environment it gets when its config has no `env`.
#[derive(Default, Clone, Copy)]
pub struct HookContext<'a> {
    /// Working directory (the runtime's when None).
    pub cwd: Option<&'a std::path::Path>,
    /// Environment of a hook without `env` (empty when None).
    pub inherit_env: Option<&'a [String]>,
}

/// Runs each hook in order; the first failure stops the run.
pub fn run_all(kind: &'static str, hooks: &[Hook], state: &State) -> Result<()> {
    run_all_in(kind, hooks, state, HookContext::default())
}

/// [`run_all`] in a context: the createContainer hooks run in the
/// container's root, startContainer hooks without `env` get the
/// process's environment (runc).
pub fn run_all_in(kind: &'static str, hooks: &[Hook], state: &State, ctx: HookContext) -> Result<()> {
    let input = serde_json::to_vec(state).unwrap_or_default();
    for hook in hooks {
        run(kind, hook, &input, ctx)?;
    }
    Ok(())
}

/// Runs each hook, collecting failures instead of stopping (poststop, poststart).
pub fn run_all_best_effort(kind: &'static str, hooks: &[Hook], state: &State) -> Vec<RuntimeError> {
    let input = serde_json::to_vec(state).unwrap_or_default();
    hooks.iter().filter_map(|h| run(kind, h, &input, HookContext::default()).err()).collect()
}

fn run(kind: &'static str, hook: &Hook, input: &[u8], ctx: HookContext) -> Result<()> {
    let fail = |reason: String| RuntimeError::Hook { kind, path: hook.path.clone(), reason };
    let mut cmd = Command::new(&hook.path);
    let args = hook.args.as_deref().unwrap_or_default();
    if let Some((arg0, rest)) = args.split_first() {
        cmd.arg0(arg0).args(rest);
    }
    cmd.env_clear().stdin(Stdio::piped());
    let env = hook.env.as_deref().or(ctx.inherit_env).unwrap_or_default();
    for kv in env {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    if let Some(dir) = ctx.cwd {
        cmd.current_dir(dir);
    }
    let mut child = cmd.spawn().map_err(|e| fail(format!("start: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook may exit without reading its stdin; EPIPE is not its failure.
        let _ = stdin.write_all(input);
    }
    if let Some(secs) = hook.timeout {
        if secs <= 0 {
            let _ = child.kill();
            let _ = child.wait();
            return Err(fail(format!("timeout {secs} must be positive")));
        }
        if !wait_exit(child.id() as i32, secs) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(fail(format!("timed out after {secs}s")));
        }
    }
    let status = child.wait().map_err(|e| fail(format!("wait: {e}")))?;
    match (status.code(), status.signal()) {
        (Some(0), _) => Ok(()),
        (Some(code), _) => Err(fail(format!("exited with status {code}"))),
        (_, Some(sig)) => Err(fail(format!("killed by signal {sig}"))),
        _ => Err(fail("ended abnormally".into())),
    }
}

/// Waits up to `secs` for a child to exit, without reaping it.
fn wait_exit(pid: i32, secs: i64) -> bool {
    let Ok(fd) = crate::sys::pidfd_open(pid) else {
        return true;
    };
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    let ms = (secs.saturating_mul(1000)).min(i64::from(i32::MAX)) as i32;
    matches!(nix::poll::poll(&mut fds, PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)), Ok(n) if n > 0)
}
