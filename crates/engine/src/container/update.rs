//! `update`: a container's limits changed live (its cgroup, through the
//! runtime) and kept in its config for its next starts, as docker's
//! `update` does; its restart policy too.

use crate::error::{EngineError, Result};
use crate::model::Limits;
use crate::Engine;

/// What `update` changes; None leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct UpdateRequest {
    /// `--memory`.
    pub memory: Option<i64>,
    /// `--memory-swap` (-1: unlimited).
    pub memory_swap: Option<i64>,
    /// `--memory-reservation`.
    pub memory_reservation: Option<i64>,
    /// `--cpus`, in billionths.
    pub nano_cpus: Option<i64>,
    /// `--cpu-shares`.
    pub cpu_shares: Option<u64>,
    /// `--cpu-period`.
    pub cpu_period: Option<u64>,
    /// `--cpu-quota`.
    pub cpu_quota: Option<i64>,
    /// `--cpuset-cpus`.
    pub cpuset_cpus: Option<String>,
    /// `--cpuset-mems`.
    pub cpuset_mems: Option<String>,
    /// `--pids-limit`.
    pub pids_limit: Option<i64>,
    /// `--blkio-weight`.
    pub blkio_weight: Option<u16>,
    /// `--restart` (applied at once to a running container, as docker does).
    pub restart: Option<hull_shim::config::RestartPolicy>,
}

impl UpdateRequest {
    fn apply(&self, l: &mut Limits) {
        fn set<T: Clone>(to: &mut Option<T>, from: &Option<T>) {
            if from.is_some() {
                *to = from.clone();
            }
        }
        set(&mut l.memory, &self.memory);
        set(&mut l.memory_swap, &self.memory_swap);
        set(&mut l.memory_reservation, &self.memory_reservation);
        set(&mut l.cpu_shares, &self.cpu_shares);
        set(&mut l.cpuset_cpus, &self.cpuset_cpus);
        set(&mut l.cpuset_mems, &self.cpuset_mems);
        set(&mut l.pids_limit, &self.pids_limit);
        set(&mut l.blkio_weight, &self.blkio_weight);
        // --cpus and --cpu-period/--cpu-quota replace each other.
        if self.nano_cpus.is_some() {
            l.nano_cpus = self.nano_cpus;
            l.cpu_period = None;
            l.cpu_quota = None;
        }
        if self.cpu_period.is_some() || self.cpu_quota.is_some() {
            l.nano_cpus = None;
            set(&mut l.cpu_period, &self.cpu_period);
            set(&mut l.cpu_quota, &self.cpu_quota);
        }
    }
}

impl Engine {
    /// Changes a container's limits (live if it runs) and restart policy.
    pub fn update(&self, key: &str, req: &UpdateRequest) -> Result<()> {
        let id = self.db().find(key)?.id;
        let _lock = self.lock(&id)?;
        let mut row = self.refreshed_locked(&id)?;
        let mut limits = row.config.limits.clone();
        req.apply(&mut limits);
        let mut probe = row.config.clone();
        probe.limits = limits.clone();
        if let Some(r) = req.restart {
            if probe.auto_remove && r != hull_shim::config::RestartPolicy::No {
                return Err(EngineError::Invalid("conflicting options: --restart and --rm".into()));
            }
            probe.restart = r;
        }
        crate::container::create::validate_config(&probe)?;
        if row.state.status.is_live() {
            let mut res = hull_spec::Resources::default();
            crate::oci::apply_limits(&limits, &mut res)?;
            // docker: a memory limit alone keeps what swap there is (-1 when none was set).
            if req.memory.is_some() && req.memory_swap.is_none() && row.config.limits.memory_swap.is_none() {
                if let Some(m) = res.memory.as_mut() {
                    m.swap = Some(-1);
                }
            }
            let req = hull_shim::protocol::Request::Update { resources: Box::new(res) };
            self.shim_request(&id, &req)?;
        }
        if let (Some(policy), true) = (req.restart, row.state.status.is_live()) {
            self.shim_request(&id, &hull_shim::protocol::Request::SetRestart { policy })?;
        }
        row.config = probe;
        self.db().set_config(&id, &row.config)?;
        self.emit_container(&row, "update", &[]);
        Ok(())
    }
}
