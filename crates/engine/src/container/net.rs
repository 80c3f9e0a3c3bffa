//! A container's networking: its pinned network namespace, its interfaces
//! added by CNI before its process starts and deleted when it ends (also
//! after a crash: from the cached results), its published ports, its
//! records in aardvark-dns, and its /etc/hosts and /etc/resolv.conf.

use crate::db::Row;
use crate::error::{EngineError, Result};
use crate::model::{Endpoint, NetworkAttachment, NetworkMode};
use crate::Engine;
use hull_network::cni::{Cni, NetworkConfigList, RuntimeConf};
use hull_network::network::Network;
use hull_network::ports::{self, PortMapping};
use std::net::IpAddr;
use std::path::PathBuf;

/// Where the container's network namespace comes from.
pub(crate) enum Netns {
    /// The host's.
    Host,
    /// A new, empty one the runtime makes (`none`).
    Own,
    /// One to join.
    Path(PathBuf),
}

impl Engine {
    pub(crate) fn netns_path(&self, id: &str) -> PathBuf {
        self.cfg.run_root.join("netns").join(id)
    }

    pub(crate) fn cni(&self) -> Cni {
        let mut c = Cni::new(self.cfg.run_root.join("cni").join("cache"));
        if let Ok(p) = std::env::var("HULL_CNI_PATH") {
            c.plugin_dirs = std::env::split_paths(&p).collect();
        }
        c
    }

    fn ipam_dir(&self) -> PathBuf {
        self.cfg.run_root.join("cni").join("networks")
    }

    fn aardvark(&self) -> hull_network::dns::Aardvark {
        hull_network::dns::Aardvark::new(self.cfg.run_root.join("aardvark-dns"))
    }

    /// The namespace a container's spec names.
    pub(crate) fn netns_of(&self, row: &Row) -> Result<Netns> {
        let mode = &row.config.network;
        if mode.is_host() {
            return Ok(Netns::Host);
        }
        // Disconnected from every network: only loopback, as `none`. Made
        // by the engine for another runtime, as dockerd always makes it
        // (runsc uses the namespace it is given and makes none).
        let loopback_only = match mode {
            NetworkMode::None | NetworkMode::Default => true,
            NetworkMode::Network(_) => row.config.networks.is_empty(),
            NetworkMode::Host | NetworkMode::Container(_) => false,
        };
        if loopback_only {
            if !row.config.runtime.is_empty() {
                return Ok(Netns::Path(self.netns_path(&row.id)));
            }
            return Ok(Netns::Own);
        }
        if let Some(other) = mode.container() {
            let o = self.refreshed(other)?;
            if !o.state.status.is_live() {
                return Err(EngineError::Conflict {
                    id: o.id,
                    status: o.state.status.to_string(),
                    what: format!("cannot join the network namespace of container {other}: it is not running"),
                });
            }
            return Ok(match o.config.network {
                NetworkMode::Host => Netns::Host,
                _ if !o.state.netns.is_empty() => Netns::Path(o.state.netns.into()),
                _ => Netns::Path(format!("/proc/{}/ns/net", o.state.pid).into()),
            });
        }
        Ok(Netns::Path(self.netns_path(&row.id)))
    }

    /// Sets up a container's networks before it starts: namespace, one
    /// interface per network (eth0, eth1, ...), ports, DNS records. On
    /// error whatever was made is undone.
    pub(crate) fn network_up(&self, row: &mut Row) -> Result<()> {
        // Only a namespace of its own is made here (container: mode joins
        // another's; host and Hull's own `none` need none made).
        if !matches!(self.netns_of(row)?, Netns::Path(p) if p == self.netns_path(&row.id)) {
            return Ok(());
        }
        let path = self.netns_path(&row.id);
        // A namespace left by a crash: its interfaces went with the DEL in release.
        let _ = hull_network::netns::remove(&path);
        hull_network::netns::create(&path)?;
        row.state.netns = path.display().to_string();
        row.state.endpoints.clear();
        row.state.ports.clear();
        let r = self.attach_all(row);
        match r {
            Err(e) => Err(e.with_cleanup(self.network_down(row))),
            ok => ok,
        }
    }

    fn attach_all(&self, row: &mut Row) -> Result<()> {
        let image_ports =
            if row.config.publish_all { self.image_of(row)?.config.config.and_then(|c| c.exposed_ports) } else { None };
        let expose = if row.config.publish_all { row.config.expose.clone() } else { Vec::new() };
        let mut wanted = row.config.ports.clone();
        for key in image_ports.iter().flat_map(|p| p.keys()).chain(expose.iter()) {
            if let Some(m) = ports::exposed(key) {
                if !wanted.iter().any(|w| w.key() == m.key()) {
                    wanted.push(m);
                }
            }
        }
        // Bound while the ports are chosen and checked; released once
        // portmap's rules hold them.
        let (ports, _held) = self.reserve_ports(&row.id, &wanted)?;
        row.state.ports = ports.clone();
        for (i, att) in row.config.networks.clone().iter().enumerate() {
            let n = self.network(&att.network)?;
            let publish = if i == 0 { ports.as_slice() } else { &[] };
            let (list, rt, planned) = self.endpoint_plan(row, &n, att, &format!("eth{i}"), publish);
            // Recorded before the ADD: a start killed during it leaves an
            // endpoint release DELs (CNI DEL of a partial ADD is allowed),
            // not a lease no one knows about.
            row.state.endpoints.push(planned.clone());
            let saved = self.db().set_state(&row.id, &row.state);
            saved?;
            let ep = self.endpoint_finish(&list, &rt, planned)?;
            if let Some(last) = row.state.endpoints.last_mut() {
                *last = ep;
            }
            self.ensure_masquerade(&n)?;
        }
        Ok(())
    }

    /// Picks random host ports and checks the asked ones are free (bound
    /// by no process, published by no running container).
    fn reserve_ports(&self, id: &str, wanted: &[PortMapping]) -> Result<(Vec<PortMapping>, Vec<ports::Socket>)> {
        let others: Vec<PortMapping> = self
            .db()
            .list()?
            .into_iter()
            .filter(|r| r.id != id && r.state.status.is_live())
            .flat_map(|r| r.state.ports)
            .collect();
        let mut held = Vec::new();
        let mut out = Vec::new();
        for m in wanted {
            if m.host_port != 0 {
                if let Some(o) = others.iter().chain(out.iter()).find(|o| {
                    o.host_port == m.host_port
                        && o.protocol == m.protocol
                        && (o.host_ip.is_empty() || m.host_ip.is_empty() || o.host_ip == m.host_ip)
                }) {
                    return Err(hull_network::NetError::PortInUse {
                        addr: format!(
                            "{}:{}/{}",
                            if o.host_ip.is_empty() { "0.0.0.0" } else { &o.host_ip },
                            m.host_port,
                            m.protocol
                        ),
                        source: std::io::Error::from_raw_os_error(libc::EADDRINUSE),
                    }
                    .into());
                }
            }
            let (addr, sock) = ports::reserve(m)?;
            held.push(sock);
            out.push(PortMapping { host_port: addr.port(), ..m.clone() });
        }
        Ok((out, held))
    }

    /// What the endpoint `ifname` on network `n` will be: the CNI list and
    /// runtime arguments of its ADD, and the endpoint as release needs it.
    fn endpoint_plan(
        &self,
        row: &Row,
        n: &Network,
        att: &NetworkAttachment,
        ifname: &str,
        ports: &[PortMapping],
    ) -> (NetworkConfigList, RuntimeConf, Endpoint) {
        let list = n.conflist(&self.ipam_dir(), !ports.is_empty());
        let mut rt = RuntimeConf {
            container_id: row.id.clone(),
            netns: self.netns_path(&row.id),
            ifname: ifname.into(),
            ..Default::default()
        };
        if !ports.is_empty() {
            rt.capability_args.insert("portMappings".into(), ports::capability_arg(ports));
        }
        let primary = row.config.networks.first().is_some_and(|a| a.network == att.network);
        if let Some(mac) = row.config.mac_address.as_ref().filter(|_| primary) {
            rt.capability_args.insert("mac".into(), serde_json::json!(mac));
        }
        if !att.ips.is_empty() {
            let ips: Vec<serde_json::Value> = att
                .ips
                .iter()
                .map(|ip| {
                    let prefix = n.subnet_of(*ip).map_or(if ip.is_ipv4() { 32 } else { 128 }, |s| s.subnet.prefix());
                    serde_json::json!(format!("{ip}/{prefix}"))
                })
                .collect();
            rt.capability_args.insert("ips".into(), serde_json::Value::Array(ips));
        }
        let ep = Endpoint {
            network: n.name.clone(),
            network_id: n.id.clone(),
            ifname: ifname.into(),
            ips: Vec::new(),
            gateways: Vec::new(),
            mac: String::new(),
            conflist: serde_json::to_value(&list).unwrap_or_default(),
            capability_args: rt.capability_args.clone(),
        };
        (list, rt, ep)
    }

    /// The CNI ADD of a planned endpoint; the endpoint with its addresses.
    fn endpoint_finish(&self, list: &NetworkConfigList, rt: &RuntimeConf, mut ep: Endpoint) -> Result<Endpoint> {
        let res = self.cni().add(list, rt).map_err(hull_network::NetError::from)?;
        ep.mac = res
            .interfaces
            .iter()
            .find(|i| i.name == ep.ifname && !i.sandbox.is_empty())
            .map(|i| i.mac.clone())
            .unwrap_or_default();
        ep.ips = res.ips.iter().map(|i| i.address.clone()).collect();
        ep.gateways = res.ips.iter().filter_map(|i| i.gateway.clone()).collect();
        Ok(ep)
    }

    /// Adds the endpoint `ifname` on network `n` (CNI ADD).
    pub(crate) fn endpoint_add(
        &self,
        row: &Row,
        n: &Network,
        att: &NetworkAttachment,
        ifname: &str,
        ports: &[PortMapping],
    ) -> Result<Endpoint> {
        let (list, rt, ep) = self.endpoint_plan(row, n, att, ifname, ports);
        self.endpoint_finish(&list, &rt, ep)
    }

    /// The network's NAT rule, checked once per network and network
    /// namespace (a marker under the run root says it was), so that
    /// later starts pay no iptables run.
    fn ensure_masquerade(&self, n: &Network) -> Result<()> {
        use std::os::unix::fs::MetadataExt;
        if n.internal || n.driver != hull_network::network::Driver::Bridge {
            return Ok(());
        }
        let ns = std::fs::metadata("/proc/thread-self/ns/net").map(|m| m.ino()).unwrap_or(0);
        let marker = self.cfg.run_root.join("cni").join("nat").join(format!("{}-{ns}", n.id));
        if marker.exists() {
            return Ok(());
        }
        let _lock = self.masquerade_lock()?;
        n.masquerade(true)?;
        if let Some(d) = marker.parent() {
            std::fs::create_dir_all(d).map_err(crate::error::io("mkdir", d.display()))?;
        }
        std::fs::write(&marker, b"").map_err(crate::error::io("write", marker.display()))?;
        Ok(())
    }

    /// Forgets a removed network's NAT markers.
    pub(crate) fn forget_masquerade(&self, n: &Network) {
        let dir = self.cfg.run_root.join("cni").join("nat");
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if e.file_name().to_string_lossy().starts_with(&format!("{}-", n.id)) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    fn masquerade_lock(&self) -> Result<std::fs::File> {
        use fs2::FileExt;
        let path = self.cfg.run_root.join("cni").join("nat.lock");
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).map_err(crate::error::io("mkdir", d.display()))?;
        }
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(crate::error::io("open", path.display()))?;
        f.lock_exclusive().map_err(crate::error::io("lock", path.display()))?;
        Ok(f)
    }

    /// Tears a container's networking down: DEL of each interface (from
    /// the list it was added with, so a changed or removed network does
    /// not matter), the namespace, its DNS records. Best effort: each step
    /// runs whatever the others did; errors go to stderr.
    /// Tears the container's networking down: every endpoint (CNI DEL),
    /// its namespace, its DNS records; every step is tried, every failure
    /// returned.
    pub(crate) fn network_down(&self, row: &mut Row) -> Result<()> {
        let mut failed = crate::error::Failures::default();
        let cni = self.cni();
        for ep in std::mem::take(&mut row.state.endpoints) {
            failed.note(self.detach(&cni, &row.id, &ep));
        }
        row.state.ports.clear();
        if !row.state.netns.is_empty() {
            failed.note(hull_network::netns::remove(std::path::Path::new(&row.state.netns)).map_err(EngineError::from));
            row.state.netns.clear();
        }
        for a in &row.config.networks {
            self.dns_sync(&a.network, Some(&row.id));
        }
        failed.into_result()
    }

    pub(crate) fn detach(&self, cni: &Cni, id: &str, ep: &Endpoint) -> Result<()> {
        let list =
            serde_json::from_value::<NetworkConfigList>(ep.conflist.clone()).map_err(|e| EngineError::Teardown {
                what: format!("network {} of {}", ep.network, &id[..12.min(id.len())]),
                why: format!("its recorded configuration: {e}"),
            })?;
        let rt = RuntimeConf {
            container_id: id.into(),
            netns: self.netns_path(id),
            ifname: ep.ifname.clone(),
            capability_args: ep.capability_args.clone(),
            ..Default::default()
        };
        cni.del(&list, &rt).map_err(|e| EngineError::Teardown {
            what: format!("network {} of {}", ep.network, &id[..12.min(id.len())]),
            why: e.to_string(),
        })
    }

    /// `network connect`: attaches a container to one more network, at
    /// once if it is running (its next interface, DNS records, /etc/hosts).
    pub fn network_connect(&self, network: &str, key: &str, aliases: Vec<String>, ips: Vec<IpAddr>) -> Result<()> {
        let id = self.db().find(key)?.id;
        let _lock = self.lock(&id)?;
        let mut row = self.refreshed_locked(&id)?;
        let n = self.network(network)?;
        let mode = &row.config.network;
        if mode.is_special() {
            return Err(EngineError::Invalid(format!(
                "container {} has network mode {mode}: it cannot join other networks",
                row.name
            )));
        }
        if row.config.networks.iter().any(|a| a.network == n.name) {
            return Err(EngineError::Invalid(format!(
                "container {} is already connected to network {}",
                row.name, n.name
            )));
        }
        let att = NetworkAttachment { network: n.name.clone(), aliases, ips };
        let mut probe = row.config.clone();
        probe.networks = vec![att.clone()];
        probe.network = NetworkMode::Network(n.name.clone());
        self.resolve_networks(&mut probe)?;
        if row.state.status.is_live() && !row.state.netns.is_empty() {
            let used: Vec<&str> = row.state.endpoints.iter().map(|e| e.ifname.as_str()).collect();
            let ifname = (0..).map(|i| format!("eth{i}")).find(|f| !used.contains(&f.as_str())).unwrap_or_default();
            let ep = self.endpoint_add(&row, &n, &att, &ifname, &[])?;
            row.state.endpoints.push(ep);
            self.db().set_state(&id, &row.state)?;
        }
        row.config.networks.push(att);
        self.db().set_config(&id, &row.config)?;
        if row.state.status.is_live() {
            self.write_etc(&row)?;
            self.dns_sync(&n.name, None);
        }
        self.emit_network(&n, "connect", &[("container", id.clone())]);
        Ok(())
    }

    /// `network disconnect`: takes a container off a network (its
    /// interface and DNS records go at once if it is running).
    pub fn network_disconnect(&self, network: &str, key: &str) -> Result<()> {
        let id = self.db().find(key)?.id;
        let _lock = self.lock(&id)?;
        let mut row = self.refreshed_locked(&id)?;
        let n = self.network(network)?;
        let Some(pos) = row.config.networks.iter().position(|a| a.network == n.name) else {
            return Err(EngineError::Invalid(format!("container {} is not connected to network {}", row.name, n.name)));
        };
        row.config.networks.remove(pos);
        // A DEL that fails is said once the row no longer has the endpoint.
        let mut detached = Ok(());
        if let Some(i) = row.state.endpoints.iter().position(|e| e.network == n.name) {
            let ep = row.state.endpoints.remove(i);
            detached = self.detach(&self.cni(), &id, &ep);
            self.db().set_state(&id, &row.state)?;
        }
        self.db().set_config(&id, &row.config)?;
        if row.state.status.is_live() {
            self.write_etc(&row)?;
        }
        self.dns_sync(&n.name, None);
        self.emit_network(&n, "disconnect", &[("container", id.clone())]);
        detached
    }

    /// Rewrites a network's DNS records from the running containers on it
    /// (`leaving` is left out: it is stopping).
    pub(crate) fn dns_sync(&self, network: &str, leaving: Option<&str>) {
        self.dns_sync_with(network, leaving, None)
    }

    /// [`dns_sync`](Self::dns_sync) with `joining` among the records though
    /// its process has not started yet; returns once the server answers its
    /// name (bounded), so that its first lookup at boot finds the network.
    pub(crate) fn dns_sync_joining(&self, network: &str, joining: &Row) {
        self.dns_sync_with(network, None, Some(joining))
    }

    fn dns_sync_with(&self, network: &str, leaving: Option<&str>, joining: Option<&Row>) {
        let Ok(n) = self.network(network) else { return };
        if !n.dns {
            return;
        }
        let records = || -> Vec<hull_network::dns::Entry> {
            let Ok(mut rows) = self.db().list() else { return Vec::new() };
            if let Some(j) = joining {
                rows.retain(|r| r.id != j.id);
            }
            // Live containers, and those being started (their endpoints are
            // recorded before their process runs: see dns_sync_joining).
            let starting = |r: &Row| r.state.status == crate::model::Status::Created && !r.state.endpoints.is_empty();
            rows.iter()
                .filter(|r| Some(r.id.as_str()) != leaving && (r.state.status.is_live() || starting(r)))
                .chain(joining)
                .filter_map(|r| {
                    let ep = r.state.endpoints.iter().find(|e| e.network == n.name)?;
                    let att = r.config.networks.iter().find(|a| a.network == n.name);
                    let mut names = vec![r.name.clone(), r.id[..12].to_string()];
                    names.extend(att.into_iter().flat_map(|a| a.aliases.iter().cloned()));
                    Some(hull_network::dns::Entry {
                        id: r.id.clone(),
                        ips: ep.ips.iter().filter_map(|c| c.split('/').next()?.parse().ok()).collect(),
                        names,
                        dns_servers: r.config.dns.clone(),
                    })
                })
                .collect()
        };
        let aardvark = self.aardvark();
        let mut entries = Vec::new();
        let written = aardvark.update_from(&n.name, &n.gateways(), || {
            entries = records();
            entries.clone()
        });
        if let Err(e) = written {
            tracing::warn!("DNS for network {}: {e}", n.name);
            return;
        }
        let Some(j) = joining else { return };
        let Some(entry) = entries.iter().find(|e| e.id == j.id) else { return };
        let (Some(name), Some(gw)) = (entry.names.first(), n.gateways().first().copied()) else { return };
        let Some(ip) = entry.ips.iter().find(|i| i.is_ipv4() == gw.is_ipv4()).copied() else { return };
        if !aardvark.wait_serving(gw, name, ip, std::time::Duration::from_secs(3)) {
            tracing::warn!("DNS for network {}: the server does not answer {name} yet", n.name);
        }
    }

    /// /etc/hosts and /etc/resolv.conf for the container's networks.
    pub(crate) fn etc_files(&self, row: &Row, hostname: &str) -> Result<(String, String)> {
        if let Some(other) = row.config.network.container() {
            let o = self.db().find(other)?;
            let dir = self.container_dir(&o.id);
            let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
            return Ok((read("hosts"), read("resolv.conf")));
        }
        let mut hosts = if row.config.network.is_host() {
            std::fs::read_to_string("/etc/hosts").unwrap_or_default()
        } else {
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n".to_string()
        };
        for h in &row.config.extra_hosts {
            if let Some((name, ip)) = h.split_once(':') {
                hosts.push_str(&format!("{ip}\t{name}\n"));
            }
        }
        // --link: the linked container's address under its alias, name and
        // short id, as docker writes them (only running ones have one).
        for link in &row.config.links {
            let (name, alias) = link.split_once(':').unwrap_or((link, link));
            let Ok(o) = self.db().find(name) else { continue };
            let ip = o.state.endpoints.iter().flat_map(|e| e.ips.iter()).find_map(|c| {
                let ip = c.split('/').next()?;
                ip.parse::<std::net::Ipv4Addr>().ok().map(|_| ip.to_string())
            });
            if let Some(ip) = ip {
                let names = if alias == o.name {
                    format!("{alias} {}", &o.id[..12])
                } else {
                    format!("{alias} {} {}", &o.id[..12], o.name)
                };
                hosts.push_str(&format!("{ip}\t{names}\n"));
            }
        }
        if !row.config.network.is_host() {
            let ips: Vec<&str> =
                row.state.endpoints.iter().flat_map(|e| e.ips.iter()).filter_map(|c| c.split('/').next()).collect();
            if ips.is_empty() {
                hosts.push_str(&format!("127.0.1.1\t{hostname}\n"));
            }
            for ip in ips {
                hosts.push_str(&format!("{ip}\t{hostname}\n"));
            }
        }
        let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let mut servers: Vec<String> = host
            .lines()
            .filter_map(|l| l.strip_prefix("nameserver").map(str::trim))
            .filter(|s| row.config.network.is_host() || !(s.starts_with("127.") || *s == "::1"))
            .map(String::from)
            .collect();
        // On a network with DNS its server comes first; --dns goes to it
        // as the container's upstream.
        let dns_gw = row.state.endpoints.iter().find_map(|e| {
            let n = self.network(&e.network).ok().filter(|n| n.dns)?;
            n.gateways().into_iter().find(IpAddr::is_ipv4)
        });
        if let Some(gw) = dns_gw {
            servers = vec![gw.to_string()];
        } else if !row.config.dns.is_empty() {
            servers = row.config.dns.clone();
        }
        let mut resolv: String = servers.iter().map(|s| format!("nameserver {s}\n")).collect();
        resolv.push_str(&resolv_line("search", &host, &row.config.dns_search));
        resolv.push_str(&resolv_line("options", &host, &row.config.dns_options));
        Ok((hosts, resolv))
    }
}

/// A resolv.conf `search` or `options` line: the given values, else the
/// host's; empty when there are none.
fn resolv_line(key: &str, host: &str, given: &[String]) -> String {
    let values: Vec<&str> = if given.is_empty() {
        host.lines().filter_map(|l| l.strip_prefix(key)).flat_map(str::split_whitespace).collect()
    } else {
        given.iter().map(String::as_str).collect()
    };
    if values.is_empty() {
        String::new()
    } else {
        format!("{key} {}\n", values.join(" "))
    }
}
