//! Networks: create (with subnet choice and overlap checks), list,
//! inspect, remove, prune; the default network `hull` made on first use.

use crate::error::{EngineError, Result};
use crate::Engine;
use hull_network::network::{self as net, Driver, Network, SubnetConfig};
use hull_network::subnet::Subnet;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What `network create` takes.
#[derive(Debug, Clone, Default)]
pub struct NetworkCreate {
    /// Name.
    pub name: String,
    /// Driver (`bridge`, `macvlan`, `ipvlan`).
    pub driver: Driver,
    /// `--subnet`s (at most one per family).
    pub subnets: Vec<Subnet>,
    /// `--gateway`s, matched to subnets by family and containment.
    pub gateways: Vec<IpAddr>,
    /// `--ip-range`s, matched likewise.
    pub ip_ranges: Vec<Subnet>,
    /// No route out.
    pub internal: bool,
    /// Add an IPv6 subnet (one is chosen if none is given).
    pub ipv6: bool,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Driver options: `parent` for macvlan/ipvlan, `macvlan_mode`, `ipvlan_mode`.
    pub options: BTreeMap<String, String>,
}

/// docker's name for the default network, which Hull calls `hull`.
pub const BRIDGE_ALIAS: &str = "bridge";

impl Engine {
    /// Creates a network. Its subnets may not overlap another network's
    /// or a route of the host.
    pub fn network_create(&self, req: NetworkCreate) -> Result<Network> {
        if !net::valid_name(&req.name) {
            return Err(EngineError::Invalid(format!(
                "invalid network name {:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                req.name
            )));
        }
        if matches!(req.name.as_str(), "none" | "host" | BRIDGE_ALIAS) || req.name.starts_with("container:") {
            return Err(EngineError::Invalid(format!("network name {:?} is reserved", req.name)));
        }
        self.make_network(req, false)
    }

    fn make_network(&self, req: NetworkCreate, default: bool) -> Result<Network> {
        let mut subnets = Vec::new();
        for s in &req.subnets {
            if subnets.iter().any(|o: &SubnetConfig| o.subnet.is_ipv4() == s.is_ipv4()) {
                return Err(EngineError::Invalid("one --subnet per address family".into()));
            }
            if !s.is_ipv4() && !req.ipv6 {
                return Err(EngineError::Invalid(format!("IPv6 subnet {s} needs --ipv6")));
            }
            if s.size() < 4 {
                return Err(EngineError::Invalid(format!("subnet {s} is too small for a gateway and a container")));
            }
            subnets.push(SubnetConfig { subnet: *s, gateway: None, ip_range: None });
        }
        for g in &req.gateways {
            let s = subnets
                .iter_mut()
                .find(|s| s.subnet.contains(*g))
                .ok_or_else(|| EngineError::Invalid(format!("gateway {g} is not in any --subnet")))?;
            s.gateway = Some(*g);
        }
        for r in &req.ip_ranges {
            let s = subnets
                .iter_mut()
                .find(|s| s.subnet.covers(r))
                .ok_or_else(|| EngineError::Invalid(format!("ip-range {r} is not inside any --subnet")))?;
            s.ip_range = Some(*r);
        }
        let existing = self.db().networks()?;
        if !subnets.iter().any(|s| s.subnet.is_ipv4()) {
            subnets.insert(0, SubnetConfig { subnet: free_v4(&existing)?, gateway: None, ip_range: None });
        }
        if req.ipv6 && !subnets.iter().any(|s| !s.subnet.is_ipv4()) {
            subnets.push(SubnetConfig { subnet: free_v6(&existing)?, gateway: None, ip_range: None });
        }
        for s in &mut subnets {
            if s.gateway.is_none() && req.driver == Driver::Bridge {
                s.gateway = s.subnet.nth(1);
            }
        }
        let interface = match req.driver {
            Driver::Bridge => {
                let used: Vec<&str> = existing.iter().map(|n| n.interface.as_str()).collect();
                if default {
                    net::DEFAULT_BRIDGE.to_string()
                } else {
                    (1..).map(|i| format!("hull{i}")).find(|b| !used.contains(&b.as_str())).unwrap_or_default()
                }
            }
            Driver::Macvlan | Driver::Ipvlan => {
                let parent = req.options.get("parent").cloned().or_else(default_route_interface).ok_or_else(|| {
                    EngineError::Invalid(format!("{} needs a parent interface: -o parent=IFACE", req.driver))
                })?;
                let c = std::ffi::CString::new(parent.clone())
                    .map_err(|_| EngineError::Invalid(format!("bad interface name {parent:?}")))?;
                // SAFETY: if_nametoindex reads a NUL-terminated string we own.
                if unsafe { libc::if_nametoindex(c.as_ptr()) } == 0 {
                    return Err(EngineError::Invalid(format!("parent interface {parent:?} does not exist")));
                }
                parent
            }
        };
        let n = Network {
            id: crate::names::new_id().map_err(crate::error::io("read", "/dev/urandom"))?,
            name: req.name.clone(),
            driver: req.driver,
            interface,
            subnets,
            internal: req.internal,
            ipv6: req.ipv6,
            dns: !default && req.driver == Driver::Bridge,
            labels: req.labels.clone(),
            options: req.options.clone(),
            created: hull_shim::config::now_rfc3339(),
        };
        let routes = hull_network::subnet::host_routes();
        // The default network's subnet is fixed; it is checked against host
        // routes only once other networks exist.
        let check_routes = !default || !existing.is_empty();
        self.db().insert_network(&n, &|all| {
            if let Some(o) = all.iter().find(|o| o.name == n.name) {
                return Err(EngineError::Conflict {
                    id: o.id.clone(),
                    status: "in use".into(),
                    what: format!("network with name {} already exists", n.name),
                });
            }
            for s in &n.subnets {
                if let Some((o, os)) =
                    all.iter().find_map(|o| o.subnets.iter().find(|x| x.subnet.overlaps(&s.subnet)).map(|x| (o, x)))
                {
                    return Err(EngineError::Invalid(format!(
                        "invalid subnet {}: it overlaps {} of network {}",
                        s.subnet, os.subnet, o.name
                    )));
                }
                // A route of the host's own (not one of our bridges') is taken too.
                if check_routes {
                    if let Some(r) = routes.iter().find(|r| r.overlaps(&s.subnet) && r.prefix() > 0) {
                        if !host_route_is_ours(r, all) {
                            return Err(EngineError::Invalid(format!(
                                "invalid subnet {}: it overlaps the host's route to {r}",
                                s.subnet
                            )));
                        }
                    }
                }
            }
            Ok(())
        })?;
        self.emit_network(&n, "create", &[]);
        Ok(n)
    }

    /// A network event (docker's attributes: name, type).
    pub(crate) fn emit_network(&self, n: &Network, action: &str, extra: &[(&str, String)]) {
        let mut attrs: BTreeMap<String, String> =
            [("name".to_string(), n.name.clone()), ("type".to_string(), n.driver.to_string())].into();
        attrs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        self.emit("network", action, &n.id, attrs);
    }

    /// Every network, the default one made if missing.
    pub fn networks(&self) -> Result<Vec<Network>> {
        self.default_network()?;
        self.db().networks()
    }

    /// The default network, made on first use.
    pub fn default_network(&self) -> Result<Network> {
        let all = self.db().networks()?;
        if let Some(n) = all.into_iter().find(|n| n.name == net::DEFAULT_NETWORK) {
            return Ok(n);
        }
        let req = NetworkCreate {
            name: net::DEFAULT_NETWORK.into(),
            subnets: vec![net::DEFAULT_SUBNET.parse().map_err(EngineError::from)?],
            ..Default::default()
        };
        match self.make_network(req, true) {
            Ok(n) => Ok(n),
            // Another process made it first.
            Err(EngineError::Conflict { .. }) => self.network(net::DEFAULT_NETWORK),
            Err(e) => Err(e),
        }
    }

    /// A network by name, id or unique id prefix (`bridge`: the default one).
    pub fn network(&self, key: &str) -> Result<Network> {
        if key == BRIDGE_ALIAS || key == net::DEFAULT_NETWORK {
            return self.default_network();
        }
        let all = self.db().networks()?;
        if let Some(n) = all.iter().find(|n| n.name == key || n.id == key) {
            return Ok(n.clone());
        }
        let by_prefix: Vec<&Network> =
            all.iter().filter(|n| !key.is_empty() && n.id.starts_with(&key.to_ascii_lowercase())).collect();
        match by_prefix.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(EngineError::NoSuchNetwork(key.into())),
            _ => Err(EngineError::Invalid(format!("network {key} is ambiguous ({} matches)", by_prefix.len()))),
        }
    }

    /// The containers configured on a network (any state).
    pub fn network_users(&self, name: &str) -> Result<Vec<crate::Container>> {
        Ok(self.list()?.into_iter().filter(|c| c.config.networks.iter().any(|a| a.network == name)).collect())
    }

    /// Removes a network no container uses; the default one stays.
    pub fn network_remove(&self, key: &str) -> Result<String> {
        let n = self.network(key)?;
        if n.name == net::DEFAULT_NETWORK {
            return Err(EngineError::Invalid(format!("{} is the default network and cannot be removed", n.name)));
        }
        let users = self.network_users(&n.name)?;
        if !users.is_empty() {
            let names: Vec<&str> = users.iter().map(|c| c.name.as_str()).collect();
            return Err(EngineError::InUse(format!(
                "error while removing network: network {} id {} has active endpoints ({})",
                n.name,
                n.id,
                names.join(", ")
            )));
        }
        self.db().delete_network(&n.name)?;
        self.remove_bridge(&n);
        self.emit_network(&n, "destroy", &[]);
        Ok(n.name)
    }

    /// Removes every unused network but the default; returns their names.
    pub fn network_prune(&self) -> Result<Vec<String>> {
        let mut gone = Vec::new();
        let all = self.db().networks()?;
        for n in all {
            if n.name != net::DEFAULT_NETWORK && self.network_users(&n.name)?.is_empty() {
                self.db().delete_network(&n.name)?;
                self.remove_bridge(&n);
                self.emit_network(&n, "destroy", &[]);
                gone.push(n.name);
            }
        }
        Ok(gone)
    }

    /// The bridge plugin leaves its bridge when the last container goes; a
    /// removed network takes it along.
    fn remove_bridge(&self, n: &Network) {
        if let Err(e) = n.masquerade(false) {
            tracing::warn!("{e}");
        }
        self.forget_masquerade(n);
        if n.driver == Driver::Bridge {
            let _ = std::process::Command::new("ip")
                .args(["link", "delete", &n.interface, "type", "bridge"])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

/// Whether a host route is one of our networks' (a bridge's own subnet).
fn host_route_is_ours(r: &Subnet, all: &[Network]) -> bool {
    all.iter().any(|n| n.subnets.iter().any(|s| s.subnet == *r))
}

/// The first 10.89.N.0/24 no network or host route uses (Podman's pool).
fn free_v4(existing: &[Network]) -> Result<Subnet> {
    let routes = hull_network::subnet::host_routes();
    for i in 0..=255u32 {
        let s: Subnet = format!("10.89.{i}.0/24").parse()?;
        let taken = existing.iter().any(|n| n.subnets.iter().any(|x| x.subnet.overlaps(&s)))
            || routes.iter().any(|r| r.overlaps(&s));
        if !taken {
            return Ok(s);
        }
    }
    Err(EngineError::Invalid("no free subnet left in 10.89.0.0/16: give one with --subnet".into()))
}

/// The first fd00:0:0:N::/64 no network uses.
fn free_v6(existing: &[Network]) -> Result<Subnet> {
    for i in 0..=0xffffu32 {
        let s: Subnet = format!("fd00:0:0:{i:x}::/64").parse()?;
        if !existing.iter().any(|n| n.subnets.iter().any(|x| x.subnet.overlaps(&s))) {
            return Ok(s);
        }
    }
    Err(EngineError::Invalid("no free IPv6 subnet left: give one with --subnet".into()))
}

/// The interface of the default route (macvlan's parent when none is given).
fn default_route_interface() -> Option<String> {
    let t = std::fs::read_to_string("/proc/net/route").ok()?;
    t.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.get(1) == Some(&"00000000") && f.get(7) == Some(&"00000000")).then(|| f[0].to_string())
    })
}
