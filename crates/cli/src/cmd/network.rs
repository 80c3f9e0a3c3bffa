//! `hull network`: user-defined networks, and `hull port`.

use hull_engine::{Engine, NetworkCreate};

/// `hull network create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Driver to manage the network: bridge, macvlan or ipvlan.
    #[arg(short = 'd', long, default_value = "bridge")]
    driver: String,
    /// Subnet in CIDR format (one per address family).
    #[arg(long)]
    subnet: Vec<String>,
    /// Gateway for a subnet.
    #[arg(long)]
    gateway: Vec<String>,
    /// Allocate container addresses from a sub-range.
    #[arg(long = "ip-range")]
    ip_range: Vec<String>,
    /// Restrict external access to the network.
    #[arg(long)]
    internal: bool,
    /// Enable IPv6 networking.
    #[arg(long)]
    ipv6: bool,
    /// Set metadata on a network (KEY=value).
    #[arg(short = 'l', long = "label")]
    label: Vec<String>,
    /// Driver options (parent=IFACE for macvlan and ipvlan).
    #[arg(short = 'o', long = "opt")]
    opt: Vec<String>,
    /// Network name.
    name: String,
}

/// `hull network ls`.
#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// Only display network IDs.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Do not truncate the output.
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// Format output: json or a Go template.
    #[arg(long)]
    format: Option<String>,
    /// Filter output (driver=, id=, label=KEY[=VALUE], name=, scope=, type=custom|builtin, dangling=true|false).
    #[arg(short = 'f', long)]
    filter: Vec<String>,
}

/// `hull network inspect` / `rm`.
#[derive(Debug, clap::Args)]
pub struct NamesArgs {
    /// Networks.
    #[arg(required = true)]
    names: Vec<String>,
}

/// `hull network connect`.
#[derive(Debug, clap::Args)]
pub struct ConnectArgs {
    /// Add network-scoped alias for the container.
    #[arg(long)]
    alias: Vec<String>,
    /// IPv4 address.
    #[arg(long)]
    ip: Option<String>,
    /// IPv6 address.
    #[arg(long)]
    ip6: Option<String>,
    /// Network.
    network: String,
    /// Container.
    container: String,
}

/// `hull network disconnect`.
#[derive(Debug, clap::Args)]
pub struct DisconnectArgs {
    /// Force the container to disconnect from a network.
    #[arg(short = 'f', long)]
    force: bool,
    /// Network.
    network: String,
    /// Container.
    container: String,
}

/// `hull network prune`.
#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation.
    #[arg(short = 'f', long)]
    force: bool,
}

/// `hull port`.
#[derive(Debug, clap::Args)]
pub struct PortArgs {
    /// Container.
    container: String,
    /// PRIVATE_PORT[/PROTO].
    port: Option<String>,
}

fn ip(flag: &str, s: &str) -> anyhow::Result<std::net::IpAddr> {
    s.parse().map_err(|_| anyhow::anyhow!("invalid {flag} {s:?}: not an IP address"))
}

pub fn create(engine: &Engine, a: CreateArgs) -> anyhow::Result<i32> {
    let req = NetworkCreate {
        name: a.name,
        driver: a.driver.parse()?,
        subnets: a.subnet.iter().map(|s| s.parse()).collect::<Result<_, _>>()?,
        gateways: a.gateway.iter().map(|g| ip("--gateway", g)).collect::<Result<_, _>>()?,
        ip_ranges: a.ip_range.iter().map(|s| s.parse()).collect::<Result<_, _>>()?,
        internal: a.internal,
        ipv6: a.ipv6,
        labels: hull_engine::parse::labels(&a.label),
        options: a.opt.iter().map(|o| hull_engine::parse::key_value("--opt", o)).collect::<Result<_, _>>()?,
    };
    let n = engine.network_create(req)?;
    println!("{}", n.id);
    Ok(0)
}

const NETWORK_FILTERS: &[&str] = &["driver", "id", "label", "name", "scope", "type", "dangling"];

fn network_matches(
    engine: &Engine,
    n: &hull_network::network::Network,
    filters: &[(String, String)],
) -> anyhow::Result<bool> {
    for (k, v) in filters {
        let ok = match k.as_str() {
            "driver" => n.driver.to_string() == *v,
            "id" => n.id.starts_with(v.as_str()),
            "label" => super::label_matches(&n.labels, v),
            "name" => n.name.contains(v.as_str()),
            "scope" => v == "local",
            "type" => match v.as_str() {
                // The default network is the one Hull makes itself.
                "builtin" => n.name == hull_network::network::DEFAULT_NETWORK,
                "custom" => n.name != hull_network::network::DEFAULT_NETWORK,
                _ => anyhow::bail!("invalid filter 'type={v}': want custom or builtin"),
            },
            "dangling" => {
                let unused =
                    n.name != hull_network::network::DEFAULT_NETWORK && engine.network_users(&n.name)?.is_empty();
                super::parse_bool_filter(k, v)? == unused
            }
            _ => false,
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

pub fn ls(engine: &Engine, a: LsArgs) -> anyhow::Result<i32> {
    let filters: Vec<(String, String)> =
        a.filter.iter().map(|f| super::parse_filter(f, NETWORK_FILTERS)).collect::<anyhow::Result<_>>()?;
    let mut nets = Vec::new();
    for n in engine.networks()? {
        if network_matches(engine, &n, &filters)? {
            nets.push(n);
        }
    }
    let id = |s: &str| if a.no_trunc { s.to_string() } else { s[..12.min(s.len())].to_string() };
    if a.quiet {
        nets.iter().for_each(|n| println!("{}", id(&n.id)));
        return Ok(0);
    }
    let rows: Vec<serde_json::Value> = nets
        .iter()
        .map(|n| {
            serde_json::json!({
                "ID": id(&n.id), "Name": n.name, "Driver": n.driver.to_string(), "Scope": "local",
                "IPv6": n.ipv6, "Internal": n.internal, "CreatedAt": n.created, "Labels": n.labels,
            })
        })
        .collect();
    let format = a.format.unwrap_or_else(|| "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}".into());
    super::format::print(&format, &rows, &|f| match f {
        "ID" => "NETWORK ID".into(),
        other => other.to_uppercase(),
    })?;
    Ok(0)
}

pub fn inspect(engine: &Engine, a: NamesArgs) -> anyhow::Result<i32> {
    let mut out = Vec::new();
    for n in &a.names {
        out.push(engine.inspect_network(&engine.network(n)?)?);
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(0)
}

pub fn rm(engine: &Engine, a: NamesArgs) -> anyhow::Result<i32> {
    let mut code = 0;
    for n in &a.names {
        match engine.network_remove(n) {
            Ok(_) => println!("{n}"),
            Err(e) => {
                eprintln!("Error: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}

pub fn connect(engine: &Engine, a: ConnectArgs) -> anyhow::Result<i32> {
    let mut ips = Vec::new();
    if let Some(s) = &a.ip {
        ips.push(ip("--ip", s)?);
    }
    if let Some(s) = &a.ip6 {
        ips.push(ip("--ip6", s)?);
    }
    engine.network_connect(&a.network, &a.container, a.alias, ips)?;
    Ok(0)
}

pub fn disconnect(engine: &Engine, a: DisconnectArgs) -> anyhow::Result<i32> {
    let _ = a.force;
    engine.network_disconnect(&a.network, &a.container)?;
    Ok(0)
}

pub fn prune(engine: &Engine, a: PruneArgs) -> anyhow::Result<i32> {
    if !a.force && !super::confirm("This will remove all custom networks not used by at least one container.") {
        return Ok(0);
    }
    let gone = engine.network_prune()?;
    if !gone.is_empty() {
        println!("Deleted Networks:");
        gone.iter().for_each(|n| println!("{n}"));
    }
    Ok(0)
}

pub fn port(engine: &Engine, a: PortArgs) -> anyhow::Result<i32> {
    let c = engine.get(&a.container)?;
    let want = a.port.as_deref().map(|p| if p.contains('/') { p.to_string() } else { format!("{p}/tcp") });
    let mut found = false;
    for p in &c.state.ports {
        if want.as_deref().is_some_and(|w| w != p.key()) {
            continue;
        }
        found = true;
        let host = if p.host_ip.is_empty() { "0.0.0.0" } else { &p.host_ip };
        let addr =
            if host.contains(':') { format!("[{host}]:{}", p.host_port) } else { format!("{host}:{}", p.host_port) };
        match &want {
            Some(_) => println!("{addr}"),
            None => println!("{} -> {addr}", p.key()),
        }
    }
    if let (Some(w), false) = (want, found) {
        anyhow::bail!("No public port '{w}' published for {}", a.container);
    }
    Ok(0)
}
