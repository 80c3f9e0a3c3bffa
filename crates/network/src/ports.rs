//! Published ports: docker's `-p` syntax, random host ports, the check
//! that a host port is free, and portmap's capability argument.

use crate::NetError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// One published port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMapping {
    /// Host address (empty: all).
    #[serde(default)]
    pub host_ip: String,
    /// Host port (0 until a random one is chosen).
    pub host_port: u16,
    /// Container port.
    pub container_port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
}

impl PortMapping {
    /// docker's `PORT/PROTO` key for the container side.
    pub fn key(&self) -> String {
        format!("{}/{}", self.container_port, self.protocol)
    }
}

fn range(s: &str, what: &str, spec: &str) -> Result<(u16, u16), NetError> {
    let bad = || NetError::Invalid(format!("invalid port spec {spec:?}: bad {what} port {s:?}"));
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: u16 = a.parse().map_err(|_| bad())?;
    let b: u16 = b.parse().map_err(|_| bad())?;
    if a == 0 || b < a {
        return Err(bad());
    }
    Ok((a, b))
}

/// Parses one `-p`: `[IP:][HOST[-END]:]CTR[-END][/tcp|udp]`, an IPv6 host
/// address in brackets. A missing host port is 0 (chosen at start).
pub fn parse(spec: &str) -> Result<Vec<PortMapping>, NetError> {
    let bad = |why: &str| NetError::Invalid(format!("invalid port spec {spec:?}: {why}"));
    let (rest, proto) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, p),
        None => (spec, "tcp"),
    };
    if !matches!(proto, "tcp" | "udp") {
        return Err(bad(&format!("unknown protocol {proto:?}: want tcp or udp")));
    }
    let (ip, rest) = if let Some(r) = rest.strip_prefix('[') {
        let (ip, r) = r.split_once("]:").ok_or_else(|| bad("unclosed [ in the host address"))?;
        (ip.to_string(), r)
    } else {
        let parts: Vec<&str> = rest.split(':').collect();
        match parts.len() {
            1 | 2 => (String::new(), rest),
            3 => (parts[0].to_string(), &rest[parts[0].len() + 1..]),
            _ => return Err(bad("too many colons")),
        }
    };
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(bad(&format!("{ip:?} is not an IP address")));
    }
    let (host, ctr) = match rest.split_once(':') {
        Some((h, c)) => (h, c),
        None => ("", rest),
    };
    let (c0, c1) = range(ctr, "container", spec)?;
    let (h0, h1) = if host.is_empty() { (0, 0) } else { range(host, "host", spec)? };
    if h0 != 0 && h1 - h0 != c1 - c0 && h0 != h1 {
        return Err(bad("the host and container ranges differ in size"));
    }
    Ok((c0..=c1)
        .enumerate()
        .map(|(i, c)| PortMapping {
            host_ip: ip.clone(),
            // A single host port for a container range is docker's "any of".
            host_port: if h0 == 0 || h0 == h1 { h0 } else { h0 + i as u16 },
            container_port: c,
            protocol: proto.to_string(),
        })
        .collect())
}

/// Parses an image's ExposedPorts key (`80/tcp`).
pub fn exposed(key: &str) -> Option<PortMapping> {
    let (p, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    Some(PortMapping {
        host_ip: String::new(),
        host_port: 0,
        container_port: p.parse().ok().filter(|p| *p != 0)?,
        protocol: proto.to_string(),
    })
}

/// Binds the host side of a mapping (checking that it is free) and
/// returns the socket: the caller keeps it while it chooses further
/// ports, so no two random ports are the same. Port 0 takes a free one.
pub fn reserve(m: &PortMapping) -> Result<(std::net::SocketAddr, Socket), NetError> {
    let ip: std::net::IpAddr = if m.host_ip.is_empty() {
        std::net::Ipv4Addr::UNSPECIFIED.into()
    } else {
        m.host_ip.parse().map_err(|_| NetError::Invalid(format!("bad host address {:?}", m.host_ip)))?
    };
    let addr = std::net::SocketAddr::new(ip, m.host_port);
    let bound = if m.protocol == "udp" {
        std::net::UdpSocket::bind(addr).map(|s| (s.local_addr(), Socket::Udp(s)))
    } else {
        std::net::TcpListener::bind(addr).map(|s| (s.local_addr(), Socket::Tcp(s)))
    };
    match bound {
        Ok((Ok(local), s)) => Ok((local, s)),
        Ok((Err(e), _)) | Err(e) => Err(NetError::PortInUse { addr: format!("{addr}/{}", m.protocol), source: e }),
    }
}

/// A bound host port.
#[derive(Debug)]
pub enum Socket {
    /// TCP.
    Tcp(std::net::TcpListener),
    /// UDP.
    Udp(std::net::UdpSocket),
}

/// portmap's `portMappings` capability argument.
pub fn capability_arg(ports: &[PortMapping]) -> Value {
    Value::Array(
        ports
            .iter()
            .map(|p| {
                let mut v = json!({"hostPort": p.host_port, "containerPort": p.container_port, "protocol": p.protocol});
                if !p.host_ip.is_empty() {
                    v["hostIP"] = json!(p.host_ip);
                }
                v
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> PortMapping {
        let mut v = parse(s).unwrap();
        assert_eq!(v.len(), 1);
        v.remove(0)
    }

    #[test]
    fn docker_forms() {
        assert_eq!(
            one("8080:80"),
            PortMapping { host_ip: "".into(), host_port: 8080, container_port: 80, protocol: "tcp".into() }
        );
        assert_eq!(one("80").host_port, 0);
        assert_eq!(one("127.0.0.1:8080:80/udp").host_ip, "127.0.0.1");
        assert_eq!(one("127.0.0.1::80").host_port, 0);
        assert_eq!(one("[::1]:8080:80").host_ip, "::1");
        let r = parse("8000-8002:80-82").unwrap();
        assert_eq!(
            r.iter().map(|m| (m.host_port, m.container_port)).collect::<Vec<_>>(),
            [(8000, 80), (8001, 81), (8002, 82)]
        );
        for bad in ["", "x:80", "80:0", "8000-8001:80-82", "80/sctp", "1.2.3:80:80", "70000:80", "a:b:c:d", "90-80"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(exposed("53/udp").unwrap().protocol, "udp");
    }
}
