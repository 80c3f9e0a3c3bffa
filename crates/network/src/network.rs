//! Networks as Hull keeps them, and the CNI configuration list each one
//! turns into: bridge (with NAT unless internal), macvlan or ipvlan, with
//! host-local addresses and, for published ports, portmap.

use crate::cni::NetworkConfigList;
use crate::subnet::Subnet;
use crate::NetError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

/// The default network's name, its bridge and subnet.
pub const DEFAULT_NETWORK: &str = "hull";
/// The default network's bridge.
pub const DEFAULT_BRIDGE: &str = "hull0";
/// The default network's subnet.
pub const DEFAULT_SUBNET: &str = "10.88.0.0/16";

/// How containers are attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Driver {
    /// A Linux bridge on the host, veths to the containers.
    #[default]
    Bridge,
    /// macvlan devices on a host interface.
    Macvlan,
    /// ipvlan devices on a host interface.
    Ipvlan,
}

impl std::str::FromStr for Driver {
    type Err = NetError;
    fn from_str(s: &str) -> Result<Driver, NetError> {
        match s {
            "bridge" => Ok(Driver::Bridge),
            "macvlan" => Ok(Driver::Macvlan),
            "ipvlan" => Ok(Driver::Ipvlan),
            other => {
                Err(NetError::Invalid(format!("unknown network driver {other:?}: want bridge, macvlan or ipvlan")))
            }
        }
    }
}

impl std::fmt::Display for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Driver::Bridge => "bridge",
            Driver::Macvlan => "macvlan",
            Driver::Ipvlan => "ipvlan",
        })
    }
}

/// One subnet of a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetConfig {
    /// The subnet.
    pub subnet: Subnet,
    /// The gateway (the bridge's address).
    pub gateway: Option<IpAddr>,
    /// Where container addresses are taken from (default: all of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<Subnet>,
}

/// A network.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Network {
    /// 64-hex id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Driver.
    pub driver: Driver,
    /// The bridge (bridge driver) or parent interface (macvlan, ipvlan).
    pub interface: String,
    /// Subnets, IPv4 first.
    pub subnets: Vec<SubnetConfig>,
    /// No route out and no NAT.
    pub internal: bool,
    /// Has an IPv6 subnet.
    pub ipv6: bool,
    /// Containers resolve each other by name (user-defined bridge networks).
    pub dns: bool,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Driver options (`-o`).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// Creation time, RFC 3339.
    pub created: String,
}

impl Network {
    /// The gateways of its subnets (where its DNS server listens).
    pub fn gateways(&self) -> Vec<IpAddr> {
        self.subnets.iter().filter_map(|s| s.gateway).collect()
    }

    /// The subnet an address belongs to.
    pub fn subnet_of(&self, ip: IpAddr) -> Option<&SubnetConfig> {
        self.subnets.iter().find(|s| s.subnet.contains(ip))
    }

    /// The CNI list for one attachment; `portmap` adds the port
    /// publishing plugin (only containers that publish ports pay for it).
    /// Host-local keeps its leases in `ipam_dir`.
    pub fn conflist(&self, ipam_dir: &Path, portmap: bool) -> NetworkConfigList {
        let ranges: Vec<Value> = self
            .subnets
            .iter()
            .map(|s| {
                let mut r = json!({"subnet": s.subnet.to_string()});
                if let Some(g) = s.gateway {
                    r["gateway"] = json!(g.to_string());
                }
                if let Some(ipr) = s.ip_range {
                    r["rangeStart"] =
                        json!(ipr.nth(if ipr.is_ipv4() && ipr.size() > 2 { 1 } else { 0 }).map(|a| a.to_string()));
                    r["rangeEnd"] = json!(ipr.last_host().map(|a| a.to_string()));
                }
                json!([r])
            })
            .collect();
        let mut routes = Vec::new();
        if !self.internal {
            for s in &self.subnets {
                routes.push(json!({"dst": if s.subnet.is_ipv4() { "0.0.0.0/0" } else { "::/0" }}));
            }
        }
        let ipam = json!({
            "type": "host-local",
            "ranges": ranges,
            "routes": routes,
            "dataDir": ipam_dir.display().to_string(),
        });
        let main = match self.driver {
            Driver::Bridge => json!({
                "type": "bridge",
                "bridge": self.interface,
                "isGateway": true,
                // NAT is one rule per network (see `masquerade`), not a
                // chain per container: that halves the plugin's time.
                "ipMasq": false,
                "hairpinMode": true,
                "capabilities": {"ips": true, "mac": true},
                "ipam": ipam,
            }),
            Driver::Macvlan => json!({
                "type": "macvlan",
                "master": self.interface,
                "mode": self.options.get("macvlan_mode").map_or("bridge", String::as_str),
                "capabilities": {"ips": true, "mac": true},
                "ipam": ipam,
            }),
            Driver::Ipvlan => json!({
                "type": "ipvlan",
                "master": self.interface,
                "mode": self.options.get("ipvlan_mode").map_or("l2", String::as_str),
                "capabilities": {"ips": true},
                "ipam": ipam,
            }),
        };
        let mut plugins = vec![main];
        if portmap && self.driver == Driver::Bridge {
            plugins.push(json!({"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}));
        }
        NetworkConfigList {
            cni_version: crate::cni::CNI_VERSION.into(),
            name: self.name.clone(),
            disable_check: false,
            plugins,
        }
    }
}

impl Network {
    /// Adds (or, `add` false, deletes) the network's NAT: one MASQUERADE
    /// rule per subnet for traffic leaving through another interface, as
    /// docker does. Adding is idempotent (checked first). Internal
    /// networks and other drivers have none.
    pub fn masquerade(&self, add: bool) -> Result<(), NetError> {
        if self.internal || self.driver != Driver::Bridge {
            return Ok(());
        }
        for s in &self.subnets {
            let tool = if s.subnet.is_ipv4() { "iptables" } else { "ip6tables" };
            let comment = format!("hull network {}", self.name);
            let subnet = s.subnet.to_string();
            let rule = |op: &str| -> Result<bool, NetError> {
                let out = std::process::Command::new(tool)
                    .args(["-w", "-t", "nat", op, "POSTROUTING", "-s", &subnet, "!", "-o", &self.interface])
                    .args(["-m", "comment", "--comment", &comment, "-j", "MASQUERADE"])
                    .output()
                    .map_err(|e| NetError::Io { op: "run", path: tool.into(), source: e })?;
                if op != "-C" && !out.status.success() {
                    return Err(NetError::Invalid(format!(
                        "{tool} {op} masquerade for {subnet}: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    )));
                }
                Ok(out.status.success())
            };
            let present = rule("-C")?;
            match (add, present) {
                (true, false) => {
                    rule("-A")?;
                }
                (false, true) => {
                    rule("-D")?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Docker's rule for network names.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(internal: bool) -> Network {
        Network {
            id: "0".repeat(64),
            name: "n1".into(),
            driver: Driver::Bridge,
            interface: "hull1".into(),
            subnets: vec![SubnetConfig {
                subnet: "10.89.0.0/24".parse().unwrap(),
                gateway: Some("10.89.0.1".parse().unwrap()),
                ip_range: Some("10.89.0.128/25".parse().unwrap()),
            }],
            internal,
            ipv6: false,
            dns: true,
            labels: BTreeMap::new(),
            options: BTreeMap::new(),
            created: String::new(),
        }
    }

    #[test]
    fn conflists() {
        let l = net(false).conflist(Path::new("/run/ipam"), true);
        assert_eq!(l.plugins.len(), 2);
        let b = &l.plugins[0];
        assert_eq!(b["bridge"], "hull1");
        assert_eq!(b["ipMasq"], false);
        assert_eq!(b["ipam"]["ranges"][0][0]["rangeStart"], "10.89.0.129");
        assert_eq!(b["ipam"]["ranges"][0][0]["rangeEnd"], "10.89.0.254");
        assert_eq!(b["ipam"]["routes"][0]["dst"], "0.0.0.0/0");
        let l = net(true).conflist(Path::new("/run/ipam"), false);
        assert_eq!(l.plugins.len(), 1);
        assert_eq!(l.plugins[0]["ipMasq"], false);
        assert!(l.plugins[0]["ipam"]["routes"].as_array().unwrap().is_empty());
    }

    #[test]
    fn names() {
        assert!(valid_name("front-end_1.x") && !valid_name("-x") && !valid_name("a b") && !valid_name(""));
    }
}
