//! What only a long-running daemon can do: notice a shim's death the moment
//! it happens (a pidfd per shim, on tokio's reactor) and answer it with the
//! container's restart policy ([`Engine::recover`]); and, when the daemon
//! starts, re-adopt the containers that outlived its last run and recover
//! those whose shims died meanwhile. New shims are learnt from the engine's
//! `start` events, whoever started them (this daemon, the CLI, a shim's own
//! restart).

use hull_engine::Engine;
use std::collections::HashSet;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use tokio::io::unix::AsyncFd;

/// A pidfd for `pid` if it is still the process that started at `start`
/// (clock ticks since boot).
fn pidfd(pid: i32, start: u64) -> Option<OwnedFd> {
    if pid <= 0 {
        return None;
    }
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: the descriptor was just returned to us and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    // Checked after the open: the pidfd cannot come to mean another process.
    (hull_engine::start_time(pid) == Some(start)).then_some(fd)
}

/// Starts supervising: recovers every container now, then watches each live
/// shim and every shim started from here on.
pub fn start(engine: Arc<Engine>) {
    let watching: Arc<Mutex<HashSet<(String, i32)>>> = Default::default();
    let handle = tokio::runtime::Handle::current();
    let e = engine.clone();
    std::thread::spawn(move || {
        // Starts from this moment on are replayed below: none falls between
        // the scan and the follow.
        let since = hull_engine::time::now_nanos();
        match e.recover_all() {
            Ok(ids) if !ids.is_empty() => tracing::info!("restarted {} container(s) whose shims had died", ids.len()),
            Ok(_) => {}
            Err(err) => tracing::warn!("recovering containers: {err}"),
        }
        if let Ok(all) = e.list() {
            for c in all.iter().filter(|c| c.state.status.is_live()) {
                watch(&handle, &e, &watching, &c.id);
            }
        }
        // Every start from now on; the journal is followed, not polled.
        let filter = hull_engine::events::EventFilter::parse(&["type=container".into(), "event=start".into()]);
        let Ok(filter) = filter else { return };
        let _ = e.events(Some(since), None, &filter, &mut |ev| {
            watch(&handle, &e, &watching, &ev.actor.id);
            true
        });
    });
}

fn watch(
    handle: &tokio::runtime::Handle,
    engine: &Arc<Engine>,
    watching: &Arc<Mutex<HashSet<(String, i32)>>>,
    id: &str,
) {
    let Ok(c) = engine.get(id) else { return };
    let (pid, start) = (c.state.shim_pid, c.state.shim_start);
    let key = (c.id.clone(), pid);
    if !watching.lock().is_ok_and(|mut w| w.insert(key.clone())) {
        return; // already watched
    }
    let Some(fd) = pidfd(pid, start) else {
        // Gone already: recover at once.
        let _ = engine.recover(&c.id);
        if let Ok(mut w) = watching.lock() {
            w.remove(&key);
        }
        return;
    };
    let (engine, watching) = (engine.clone(), watching.clone());
    handle.spawn(async move {
        // SAFETY: an OwnedFd stays open, as the same descriptor, for the AsyncFd's life.
        match unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) } {
            // A pidfd is readable once its process has ended.
            Ok(afd) => drop(afd.readable().await),
            Err(e) => tracing::warn!(container = %key.0, "cannot watch its shim: {e}"),
        }
        let id = key.0.clone();
        let e = engine.clone();
        let _ = tokio::task::spawn_blocking(move || match e.recover(&id) {
            Ok(hull_engine::Recovered::Restarted) => tracing::info!(container = %id, "restarted after its shim died"),
            Ok(_) => {}
            Err(err) => tracing::warn!(container = %id, "after its shim ended: {err}"),
        })
        .await;
        if let Ok(mut w) = watching.lock() {
            w.remove(&key);
        }
    });
}
