//! Health checks: the image's HEALTHCHECK with the `--health-*` flags over
//! it, run by the container's shim as an exec (see hull-shim's
//! supervisor), its state read back from the shim's `health.json`.

use crate::db::Row;
use crate::error::Result;
use crate::model::Container;
use crate::Engine;
use hull_shim::config::{HealthSetup, HealthState, Healthcheck};

/// The check a container gets, fixed at create: the image's, each field
/// the `--health-*` flags set replaced (docker's rule).
pub(crate) fn merged(image: Option<&serde_json::Value>, flags: Option<Healthcheck>) -> Option<Healthcheck> {
    let image: Healthcheck = image.and_then(|h| serde_json::from_value(h.clone()).ok()).unwrap_or_default();
    let flags = flags.unwrap_or_default();
    let pick = |a: i64, b: i64| if a != 0 { a } else { b };
    let h = Healthcheck {
        test: if flags.test.is_empty() { image.test } else { flags.test },
        interval: pick(flags.interval, image.interval),
        timeout: pick(flags.timeout, image.timeout),
        start_period: pick(flags.start_period, image.start_period),
        start_interval: pick(flags.start_interval, image.start_interval),
        retries: pick(flags.retries, image.retries),
    };
    (h != Healthcheck::default()).then_some(h)
}

/// The check a container runs: none with `--no-healthcheck` or `NONE`.
pub(crate) fn effective(cfg: &crate::model::ContainerConfig) -> Option<Healthcheck> {
    if cfg.no_healthcheck {
        return None;
    }
    cfg.healthcheck.clone().filter(|h| !matches!(h.test.first().map(String::as_str), None | Some("NONE")))
}

impl Engine {
    /// What the shim needs to run the check: its settings and its process.
    pub(crate) fn health_setup(&self, row: &Row) -> Result<Option<HealthSetup>> {
        let Some(check) = effective(&row.config) else { return Ok(None) };
        let cmd: Vec<String> = match check.test.first().map(String::as_str) {
            Some("CMD-SHELL") => vec!["/bin/sh".into(), "-c".into(), check.test[1..].join(" ")],
            Some("CMD") => check.test[1..].to_vec(),
            // docker takes a bare list as CMD.
            _ => check.test.clone(),
        };
        if cmd.is_empty() {
            return Ok(None);
        }
        // The container's own process settings (user, env, cwd,
        // capabilities), with the check's command, as docker runs it.
        let bundle = self.container_dir(&row.id).join("config.json");
        let spec = hull_spec::Spec::load(&bundle)
            .map_err(|e| crate::EngineError::Invalid(format!("{}: {e}", bundle.display())))?;
        let mut process = spec.process.unwrap_or_default();
        process.args = Some(cmd);
        process.terminal = Some(false);
        process.console_size = None;
        Ok(Some(HealthSetup { check, process }))
    }

    /// docker's `State.Health`, while the container has a check.
    pub fn health(&self, c: &Container) -> Option<HealthState> {
        effective(&c.config)?;
        let state =
            hull_shim::config::read_json(&self.shim_dir(&c.id).join(hull_shim::config::HEALTH_FILE)).ok().flatten();
        Some(state.unwrap_or_else(|| HealthState { status: "starting".into(), ..Default::default() }))
    }
}
