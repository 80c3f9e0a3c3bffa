//! `inspect` in docker's JSON shape, for the fields Hull has.

use crate::model::{Container, MountKind, Status};
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
                    "Type": m.kind.as_str(), "Name": if m.kind == MountKind::Volume { m.source.clone() } else { String::new() },
                    "Source": source, "Destination": m.target, "Mode": if m.readonly { "ro" } else { "" },
                    "RW": !m.readonly, "Propagation": if m.kind == MountKind::Bind { "rprivate" } else { "" },
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
                "Health": self.health(c),
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
                "Runtime": if cfg.runtime.is_empty() { crate::runtimes::HULL } else { &cfg.runtime },
                "Binds": cfg.mounts.iter().filter(|m| m.kind != MountKind::Tmpfs).map(|m| format!("{}:{}{}", m.source, m.target, if m.readonly { ":ro" } else { "" })).collect::<Vec<_>>(),
                "NetworkMode": if cfg.network.is_empty() { "none" } else { &cfg.network },
                "PortBindings": port_bindings(&cfg.ports),
                "PublishAllPorts": cfg.publish_all,
                "Dns": cfg.dns,
                "DnsSearch": cfg.dns_search,
                "DnsOptions": cfg.dns_options,
                "ExtraHosts": cfg.extra_hosts,
                "RestartPolicy": cfg.restart,
                "AutoRemove": cfg.auto_remove,
                "CapAdd": cfg.cap_add,
                "CapDrop": cfg.cap_drop,
                "Privileged": cfg.privileged,
                "Init": cfg.init,
                "ReadonlyRootfs": cfg.read_only,
                "Memory": cfg.limits.memory.unwrap_or(0),
                // docker's default with -m alone: as much swap again.
                "MemorySwap": cfg.limits.memory_swap.or(cfg.limits.memory.map(|m| m * 2)).unwrap_or(0),
                "NanoCpus": cfg.limits.nano_cpus.unwrap_or(0),
                "CpuShares": cfg.limits.cpu_shares.unwrap_or(0),
                "CpusetCpus": cfg.limits.cpuset_cpus.clone().unwrap_or_default(),
                "PidsLimit": cfg.limits.pids_limit,
                "ShmSize": cfg.limits.shm_size.unwrap_or(64 << 20),
                "CgroupParent": cfg.cgroup_parent.clone().unwrap_or_default(),
                "Sysctls": cfg.sysctls,
                "Ulimits": cfg.ulimits.iter().map(|u| json!({"Name": u.name, "Soft": u.soft, "Hard": u.hard})).collect::<Vec<_>>(),
                "LogConfig": {"Type": if cfg.log_driver.is_empty() { "json-file" } else { &cfg.log_driver }, "Config": log_config(cfg)},
                "PidMode": cfg.pid_mode,
                "VolumesFrom": cfg.volumes_from,
                "Links": cfg.links.iter().map(|l| { let (n, a) = l.split_once(':').unwrap_or((l, l)); format!("/{n}:/{}/{a}", c.name) }).collect::<Vec<_>>(),
                "IpcMode": if cfg.ipc_mode.is_empty() { "private" } else { &cfg.ipc_mode },
                "UTSMode": cfg.uts_mode,
                "MemoryReservation": cfg.limits.memory_reservation.unwrap_or(0),
                "OomKillDisable": cfg.limits.oom_kill_disable,
                "CpuPeriod": cfg.limits.cpu_period.unwrap_or(0),
                "CpuQuota": cfg.limits.cpu_quota.unwrap_or(0),
                "CpusetMems": cfg.limits.cpuset_mems.clone().unwrap_or_default(),
                "BlkioWeight": cfg.limits.blkio_weight.unwrap_or(0),
                "BlkioDeviceReadBps": cfg.limits.device_read_bps.iter().map(|r| json!({"Path": r.path, "Rate": r.rate})).collect::<Vec<_>>(),
                "BlkioDeviceWriteBps": cfg.limits.device_write_bps.iter().map(|r| json!({"Path": r.path, "Rate": r.rate})).collect::<Vec<_>>(),
            },
            "Mounts": mounts,
            "Config": self.merged_config(c),
            "NetworkSettings": network_settings(c),
        })
    }

    /// docker's `.Config`: the container's settings over its image's (Cmd,
    /// Entrypoint, Env, ExposedPorts, Labels, WorkingDir, User, Volumes),
    /// as the process actually gets them. The image's part is missing only
    /// if the image was removed since.
    fn merged_config(&self, c: &Container) -> Value {
        let cfg = &c.config;
        let image = self.images.resolve(&cfg.image_id).ok().and_then(|i| i.config.config).unwrap_or_default();
        let mut env: Vec<String> = image.env.clone().unwrap_or_default();
        for kv in &cfg.env {
            let key = kv.split('=').next().unwrap_or(kv);
            env.retain(|e| e.split('=').next() != Some(key));
            env.push(kv.clone());
        }
        let mut labels = image.labels.clone().unwrap_or_default();
        labels.extend(cfg.labels.clone());
        let mut exposed = image.exposed_ports.clone().unwrap_or_default();
        for key in cfg.ports.iter().map(|p| p.key()).chain(cfg.expose.iter().cloned()) {
            exposed.entry(key).or_insert_with(|| json!({}));
        }
        let entrypoint = cfg.entrypoint.clone().or(image.entrypoint.clone());
        let cmd = cfg.cmd.clone().or(if cfg.entrypoint.is_some() { None } else { image.cmd.clone() });
        json!({
            "Hostname": crate::oci::hostname_of(cfg, &c.id),
            "Domainname": cfg.domainname.clone().unwrap_or_default(),
            "User": cfg.user.clone().or(image.user.clone()).unwrap_or_default(),
            "Tty": cfg.tty,
            "OpenStdin": cfg.stdin,
            "StdinOnce": cfg.stdin,
            "Env": env,
            "Cmd": cmd,
            "Image": cfg.image,
            "Volumes": image.volumes,
            "WorkingDir": cfg.workdir.clone().or(image.working_dir.clone()).unwrap_or_default(),
            "Entrypoint": entrypoint,
            "ExposedPorts": if exposed.is_empty() { Value::Null } else { json!(exposed) },
            "Labels": labels,
            "StopSignal": cfg.stop_signal,
            "StopTimeout": cfg.stop_timeout,
            "Healthcheck": crate::container::health::effective(cfg),
        })
    }

    /// docker's `network inspect` shape for one network.
    pub fn inspect_network(&self, n: &hull_network::network::Network) -> crate::Result<Value> {
        let mut containers = serde_json::Map::new();
        for c in self.network_users(&n.name)? {
            if let Some(ep) = c.state.endpoints.iter().find(|e| e.network == n.name) {
                containers.insert(
                    c.id.clone(),
                    json!({
                        "Name": c.name,
                        "EndpointID": format!("{}-{}", &c.id[..12], ep.ifname),
                        "MacAddress": ep.mac,
                        "IPv4Address": ep.ips.iter().find(|i| !i.contains(':')).cloned().unwrap_or_default(),
                        "IPv6Address": ep.ips.iter().find(|i| i.contains(':')).cloned().unwrap_or_default(),
                    }),
                );
            }
        }
        Ok(json!({
            "Name": n.name,
            "Id": n.id,
            "Created": n.created,
            "Scope": "local",
            "Driver": n.driver.to_string(),
            "EnableIPv6": n.ipv6,
            "IPAM": {
                "Driver": "default",
                "Options": {},
                "Config": n.subnets.iter().map(|s| {
                    let mut v = json!({"Subnet": s.subnet.to_string()});
                    if let Some(g) = s.gateway { v["Gateway"] = json!(g.to_string()); }
                    if let Some(r) = s.ip_range { v["IPRange"] = json!(r.to_string()); }
                    v
                }).collect::<Vec<_>>(),
            },
            "Internal": n.internal,
            "Attachable": true,
            "Containers": containers,
            "Options": n.options,
            "Labels": n.labels,
            "DNSEnabled": n.dns,
            "NetworkInterface": n.interface,
        }))
    }
}

/// docker's NetworkSettings: each network's endpoint and the published ports.
fn network_settings(c: &crate::model::Container) -> Value {
    let s = &c.state;
    let mut nets = serde_json::Map::new();
    for a in &c.config.networks {
        let ep = s.endpoints.iter().find(|e| e.network == a.network);
        let v4 = ep.and_then(|e| e.ips.iter().find(|i| !i.contains(':')));
        let v6 = ep.and_then(|e| e.ips.iter().find(|i| i.contains(':')));
        let split = |c: Option<&String>| -> (String, u32) {
            c.and_then(|c| c.split_once('/'))
                .map_or((String::new(), 0), |(a, p)| (a.to_string(), p.parse().unwrap_or(0)))
        };
        let (ip, len) = split(v4);
        let (ip6, len6) = split(v6);
        nets.insert(
            a.network.clone(),
            json!({
                "Aliases": a.aliases,
                "NetworkID": ep.map(|e| e.network_id.clone()).unwrap_or_default(),
                "EndpointID": ep.map(|e| format!("{}-{}", &c.id[..12], e.ifname)).unwrap_or_default(),
                "Gateway": ep.and_then(|e| e.gateways.iter().find(|g| !g.contains(':')).cloned()).unwrap_or_default(),
                "IPAddress": ip,
                "IPPrefixLen": len,
                "GlobalIPv6Address": ip6,
                "GlobalIPv6PrefixLen": len6,
                "MacAddress": ep.map(|e| e.mac.clone()).unwrap_or_default(),
                "IPAMConfig": if a.ips.is_empty() { Value::Null } else { json!({"IPv4Address": a.ips.iter().find(|i| i.is_ipv4()).map(|i| i.to_string())}) },
            }),
        );
    }
    let mut ports = serde_json::Map::new();
    for p in &s.ports {
        let e = ports.entry(p.key()).or_insert_with(|| json!([]));
        if let Some(a) = e.as_array_mut() {
            a.push(json!({"HostIp": if p.host_ip.is_empty() { "0.0.0.0" } else { &p.host_ip }, "HostPort": p.host_port.to_string()}));
        }
    }
    // Published but not running: the ports as asked, unbound (docker's null).
    if s.ports.is_empty() {
        for p in &c.config.ports {
            ports.entry(p.key()).or_insert(Value::Null);
        }
    }
    let first = nets.values().next().cloned().unwrap_or(Value::Null);
    json!({
        "SandboxKey": s.netns,
        "Networks": nets,
        "Ports": ports,
        "IPAddress": first.get("IPAddress").cloned().unwrap_or(json!("")),
        "Gateway": first.get("Gateway").cloned().unwrap_or(json!("")),
        "MacAddress": first.get("MacAddress").cloned().unwrap_or(json!("")),
    })
}

fn port_bindings(ports: &[hull_network::ports::PortMapping]) -> Value {
    let mut m = serde_json::Map::new();
    for p in ports {
        let e = m.entry(p.key()).or_insert_with(|| json!([]));
        if let Some(a) = e.as_array_mut() {
            a.push(json!({"HostIp": p.host_ip, "HostPort": if p.host_port == 0 { String::new() } else { p.host_port.to_string() }}));
        }
    }
    Value::Object(m)
}

fn log_config(cfg: &crate::model::ContainerConfig) -> Value {
    let mut m = serde_json::Map::new();
    if cfg.log_max_size > 0 {
        m.insert("max-size".into(), json!(cfg.log_max_size.to_string()));
        m.insert("max-file".into(), json!(cfg.log_max_files.to_string()));
    }
    Value::Object(m)
}

/// docker's "3 minutes" style durations (`Up 3 minutes`, `2 hours ago`).
pub fn human_duration(secs: i64) -> String {
    match secs {
        s if s < 1 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        s if s < 120 => "About a minute".into(),
        s if s < 3600 => format!("{} minutes", s / 60),
        s if s < 7200 => "About an hour".into(),
        s if s < 48 * 3600 => format!("{} hours", s / 3600),
        s if s < 14 * 86_400 => format!("{} days", s / 86_400),
        s if s < 60 * 86_400 => format!("{} weeks", s / 604_800),
        s if s < 2 * 365 * 86_400 => format!("{} months", s / 2_592_000),
        s => format!("{} years", s / 31_536_000),
    }
}

/// Seconds since an RFC 3339 time (0 when it is not one).
pub fn since(t: &str) -> i64 {
    crate::time::seconds_between(t, crate::time::now_nanos()).max(0)
}

impl Engine {
    /// docker's status line (`ps`'s STATUS, the API's `Status`): `Up 3
    /// minutes (healthy)`, `Exited (0) 2 seconds ago`, `Created`.
    pub fn status_text(&self, c: &Container) -> String {
        let s = &c.state;
        let up = |extra: &str| {
            let health = self.health(c).map(|h| match h.status.as_str() {
                "starting" => " (health: starting)".to_string(),
                other => format!(" ({other})"),
            });
            format!("Up {}{}{extra}", human_duration(since(&s.started_at)), health.unwrap_or_default())
        };
        match s.status {
            Status::Created => "Created".into(),
            Status::Running => up(""),
            Status::Paused => up(" (Paused)"),
            Status::Restarting => format!("Restarting ({}) {} ago", s.exit_code, human_duration(since(&s.finished_at))),
            Status::Exited => format!("Exited ({}) {} ago", s.exit_code, human_duration(since(&s.finished_at))),
            Status::Removing => "Removal In Progress".into(),
        }
    }

    /// docker's image inspect object for `name`.
    pub fn inspect_image(&self, name: &str) -> crate::Result<Value> {
        let img = self.images.resolve(name)?;
        let tags = self.images.store.tags().map_err(hull_image::images::ImageError::from)?;
        let repo_tags: Vec<String> = tags
            .iter()
            .filter(|(_, d)| **d == img.target)
            .filter_map(|(t, _)| t.parse::<hull_image::reference::Reference>().ok())
            .map(|r| format!("{}:{}", r.familiar_name(), r.tag.unwrap_or_default()))
            .collect();
        let repo_digests: Vec<String> =
            img.reference.iter().map(|r| format!("{}@{}", r.familiar_name(), img.target)).collect();
        let exec = img.config.config.clone().unwrap_or_default();
        Ok(json!({
            "Id": img.id.to_string(),
            "RepoTags": repo_tags,
            "RepoDigests": repo_digests,
            "Created": img.config.created,
            "Author": img.config.author,
            "Architecture": img.config.architecture,
            "Os": img.config.os,
            "Variant": img.config.variant,
            "Config": exec,
            "Size": img.manifest.layers.iter().map(|l| l.size).sum::<u64>(),
            "RootFS": {"Type": img.config.rootfs.typ, "Layers": img.config.rootfs.diff_ids},
            "Manifest": img.manifest_digest.to_string(),
        }))
    }
}

#[cfg(test)]
mod duration_tests {
    #[test]
    fn durations() {
        assert_eq!(super::human_duration(0), "Less than a second");
        assert_eq!(super::human_duration(5), "5 seconds");
        assert_eq!(super::human_duration(90), "About a minute");
        assert_eq!(super::human_duration(3 * 3600), "3 hours");
    }
}
