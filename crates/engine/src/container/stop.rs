//! `stop`, `kill` and `restart`: signals delivered by the shim, which also
//! stops the restart policy and, for stop, sends SIGKILL after the timeout.

use crate::error::{EngineError, Result};
use crate::model::Signal;
use crate::Engine;
use hull_shim::protocol::Request;

impl Engine {
    /// Stops a container: its stop signal, then SIGKILL after `timeout`
    /// seconds (its own --stop-timeout, or 10). Stopping a stopped container is fine.
    pub fn stop(&self, key: &str, timeout: Option<i64>) -> Result<()> {
        self.stop_with(key, timeout, None)
    }

    /// [`stop`](Self::stop) with `signal` in place of the container's stop
    /// signal (`stop -s`).
    pub fn stop_with(&self, key: &str, timeout: Option<i64>, signal: Option<Signal>) -> Result<()> {
        let row = self.refreshed(key)?;
        if !row.state.status.is_live() {
            return Ok(());
        }
        if row.state.status == crate::Status::Paused {
            // A frozen container cannot take its stop signal; a failure shows
            // in the stop's own request below.
            if let Err(e) = self.shim_request(&row.id, &hull_shim::protocol::Request::Resume) {
                tracing::debug!(container = %row.id, "stop: resume: {e}");
            }
        }
        let signal = signal.or(row.config.stop_signal.clone()).unwrap_or_else(Signal::term).number();
        let timeout = timeout.or(row.config.stop_timeout).unwrap_or(10);
        let sent =
            self.shim_request(&row.id, &Request::Signal { signal, stop: true, timeout: Some(timeout), exec: None });
        self.emit_container(&row, "kill", &[("signal", signal.to_string())]);
        self.mark_stopped_by_user(&row.id);
        if let Err(e) = sent {
            // The shim went away meanwhile: the refresh below records that.
            if self.refreshed(&row.id)?.state.status.is_live() {
                return Err(e);
            }
        }
        self.wait(&row.id)?;
        self.emit_container(&row, "stop", &[]);
        Ok(())
    }

    /// Sends a signal to the container's init.
    pub fn kill(&self, key: &str, signal: &Signal) -> Result<()> {
        let row = self.refreshed(key)?;
        let sig = signal.number();
        if !row.state.status.is_live() || row.state.status == crate::Status::Restarting {
            return Err(EngineError::Conflict {
                id: row.id,
                status: row.state.status.to_string(),
                what: "cannot kill a container that is not running".into(),
            });
        }
        let stop = sig == libc::SIGKILL || row.config.stop_signal.as_ref().unwrap_or(&Signal::term()).number() == sig;
        self.shim_request(&row.id, &Request::Signal { signal: sig, stop, timeout: None, exec: None })?;
        self.emit_container(&row, "kill", &[("signal", sig.to_string())]);
        if stop {
            self.mark_stopped_by_user(&row.id);
        }
        Ok(())
    }

    /// Stops (if running) and starts a container.
    pub fn restart(&self, key: &str, timeout: Option<i64>) -> Result<()> {
        self.stop(key, timeout)?;
        let c = self.start(key, None)?;
        self.emit_container(&self.db().find(&c.id)?, "restart", &[]);
        Ok(())
    }

    fn mark_stopped_by_user(&self, id: &str) {
        let db = self.db();
        if let Ok(mut r) = db.find(id) {
            r.state.stopped_by_user = true;
            let _ = db.set_state(id, &r.state);
        }
    }
}
