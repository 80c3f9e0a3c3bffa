//! `inspect` in docker's JSON shape, for the fields Hull has.

use crate::model::{Container, Status};
use crate::Engine;
use serde_json::{json, Value};

impl Engine {
    /// docker's `ContainerJSON` for a container.
    pub fn inspect_json(&self, c: &Container) -> Value {
        let s = &c.state;
        let cfg = &c.config;
        let (path, args) = match cfg.command.split_first() {
            Some((p, a)) => (p.clone(), a.to_vec()),
            None => (String::new(), vec![]),
        };
        let zero = "0001-01-01T00:00:00Z";
        let mounts: Vec<Value> = cfg
            .mounts
            .iter()
            .map(|m| {
                let source = match m.kind.as_str() {
                    "volume" => self.config().root.join("volumes").join(&m.source).join("_data").display().to_string(),
                    _ => m.source.clone(),
                };
                json!({
                    "Type": m.kind, "Name": if m.kind == "volume" { m.source.clone() } else { String::new() },
                    "Source": source, "Destination": m.target, "Mode": if m.readonly { "ro" } else { "" },
                    "RW": !m.readonly, "Propagation": if m.kind == "bind" { "rprivate" } else { "" },
                })
            })
            .collect();
        let dir = self.container_dir(&c.id);
        json!({
            "Id": c.id,
            "Created": c.created,
            "Path": path,
            "Args": args,
            "State": {
                "Status": s.status.as_str(),
                "Running": matches!(s.status, Status::Running | Status::Paused),
                "Paused": s.status == Status::Paused,
                "Restarting": s.status == Status::Restarting,
                "OOMKilled": s.oom_killed,
                "Dead": false,
                "Pid": s.pid,
                "ExitCode": s.exit_code,
                "Error": s.error,
                "StartedAt": if s.started_at.is_empty() { zero } else { &s.started_at },
                "FinishedAt": if s.finished_at.is_empty() { zero } else { &s.finished_at },
            },
            "Image": cfg.image_id,
            "ResolvConfPath": dir.join("resolv.conf"),
            "HostnamePath": dir.join("hostname"),
            "HostsPath": dir.join("hosts"),
            "LogPath": self.log_path(&c.id),
            "Name": format!("/{}", c.name),
            "RestartCount": s.restart_count,
            "Driver": "overlay",
            "Platform": "linux",
            "HostConfig": {
                "Binds": cfg.mounts.iter().filter(|m| m.kind != "tmpfs").map(|m| format!("{}:{}{}", m.source, m.target, if m.readonly { ":ro" } else { "" })).collect::<Vec<_>>(),
                "NetworkMode": if cfg.network.is_empty() { "none" } else { &cfg.network },
                "RestartPolicy": cfg.restart,
                "AutoRemove": cfg.auto_remove,
                "CapAdd": cfg.cap_add,
                "CapDrop": cfg.cap_drop,
                "Privileged": cfg.privileged,
                "Init": cfg.init,
                "ReadonlyRootfs": cfg.read_only,
                "Memory": cfg.limits.memory.unwrap_or(0),
                "MemorySwap": cfg.limits.memory_swap.unwrap_or(0),
                "NanoCpus": cfg.limits.nano_cpus.unwrap_or(0),
                "CpuShares": cfg.limits.cpu_shares.unwrap_or(0),
                "CpusetCpus": cfg.limits.cpuset_cpus.clone().unwrap_or_default(),
                "PidsLimit": cfg.limits.pids_limit,
                "ShmSize": cfg.limits.shm_size.unwrap_or(64 << 20),
                "CgroupParent": cfg.cgroup_parent.clone().unwrap_or_default(),
                "Sysctls": cfg.sysctls,
                "Ulimits": cfg.ulimits.iter().map(|u| json!({"Name": u.name, "Soft": u.soft, "Hard": u.hard})).collect::<Vec<_>>(),
                "LogConfig": {"Type": "json-file", "Config": log_config(cfg)},
            },
            "Mounts": mounts,
            "Config": {
                "Hostname": cfg.hostname.clone().unwrap_or_else(|| c.short_id().to_string()),
                "User": cfg.user.clone().unwrap_or_default(),
                "Tty": cfg.tty,
                "OpenStdin": cfg.stdin,
                "StdinOnce": cfg.stdin,
                "Env": cfg.env,
                "Cmd": cfg.cmd,
                "Image": cfg.image,
                "WorkingDir": cfg.workdir.clone().unwrap_or_default(),
                "Entrypoint": cfg.entrypoint,
                "Labels": cfg.labels,
                "StopSignal": cfg.stop_signal,
                "StopTimeout": cfg.stop_timeout,
            },
            "NetworkSettings": {"Networks": {}, "Ports": {}},
        })
    }
}

fn log_config(cfg: &crate::model::ContainerConfig) -> Value {
    let mut m = serde_json::Map::new();
    if cfg.log_max_size > 0 {
        m.insert("max-size".into(), json!(cfg.log_max_size.to_string()));
        m.insert("max-file".into(), json!(cfg.log_max_files.to_string()));
    }
    Value::Object(m)
}
