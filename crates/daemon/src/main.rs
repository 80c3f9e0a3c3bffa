#![recursion_limit = "256"]
//! hull-daemon: the Docker Engine API on unix sockets, over the same
//! engine library and state as the daemonless `hull` CLI (both may be used
//! side by side on one store). `hull daemon` and `hull system service` run
//! it. tokio lives here only: the CLI and the shim stay without it.

mod archive;
mod body;
mod build;
mod commit;
mod config;
mod containers;
mod convert;
mod error;
mod fdio;
mod images;
mod objects;
mod routes;
mod server;
mod supervisor;
mod system;
mod tls;

use anyhow::Context;
use clap::Parser;
use hull_engine::{Engine, EngineConfig};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;

/// The Docker Engine API over Hull.
#[derive(Debug, Parser)]
#[command(name = "hull daemon", version)]
struct Args {
    /// Where to listen: unix://PATH (repeatable); tcp://ADDR only with
    /// --tlsverify or --insecure-tcp [default: unix:///run/hull/docker.sock]
    #[arg(short = 'H', long = "host")]
    hosts: Vec<String>,
    /// Serve tcp:// hosts without TLS (anyone who reaches the port is root here).
    #[arg(long)]
    insecure_tcp: bool,
    /// Serve tcp:// hosts over TLS (clients are not checked without --tlsverify).
    #[arg(long)]
    tls: bool,
    /// Serve tcp:// hosts over TLS and accept only clients whose
    /// certificate --tlscacert signed.
    #[arg(long = "tlsverify")]
    tlsverify: bool,
    /// The CA that signs client certificates.
    #[arg(long = "tlscacert")]
    tlscacert: Option<PathBuf>,
    /// The daemon's certificate (PEM).
    #[arg(long = "tlscert")]
    tlscert: Option<PathBuf>,
    /// The daemon's private key (PEM).
    #[arg(long = "tlskey")]
    tlskey: Option<PathBuf>,
    /// Persistent state root (images, containers, volumes) [default: /var/lib/hull]
    #[arg(long)]
    root: Option<PathBuf>,
    /// Runtime state root [default: /run/hull]
    #[arg(long)]
    run_root: Option<PathBuf>,
    /// Group given the sockets (mode 0660); `hull` when it exists.
    #[arg(long)]
    group: Option<String>,
    /// The cgroup parent of containers that name none (dockerd's --cgroup-parent).
    #[arg(long)]
    cgroup_parent: Option<String>,
    /// A registry spoken to over plain HTTP (repeatable; localhost always is).
    #[arg(long = "insecure-registry")]
    insecure_registries: Vec<String>,
    /// The log driver of containers that name none: json-file, local or none.
    #[arg(long)]
    log_driver: Option<String>,
    /// docker's daemon.json (hosts, data-root, exec-root, group,
    /// cgroup-parent, insecure-registries, log-driver, log-opts, runtimes,
    /// tls, tlsverify, tlscacert, tlscert, tlskey)
    /// [default: $HULL_DAEMON_JSON, else /etc/hull/daemon.json if present]
    #[arg(long)]
    config_file: Option<PathBuf>,
}

/// The flags over the file over the defaults.
struct Settings {
    hosts: Vec<String>,
    insecure_tcp: bool,
    tls: tls::TlsOptions,
    root: PathBuf,
    run_root: PathBuf,
    group: Option<String>,
    cgroup_parent: Option<String>,
    insecure_registries: Vec<String>,
    log: Option<(String, std::collections::BTreeMap<String, String>)>,
    runtimes: std::collections::BTreeMap<String, hull_engine::runtimes::RuntimeEntry>,
}

impl Settings {
    fn resolve(a: Args) -> anyhow::Result<Settings> {
        let f = config::FileConfig::load(a.config_file.as_deref())?;
        let pick = |flag: Vec<String>, file: Vec<String>| if flag.is_empty() { file } else { flag };
        let mut hosts = pick(a.hosts, f.hosts);
        if hosts.is_empty() {
            hosts.push("unix:///run/hull/docker.sock".into());
        }
        let log = match (a.log_driver, f.log_driver) {
            (Some(d), _) => Some((d, Default::default())),
            (None, Some(d)) => Some((d, f.log_opts)),
            (None, None) => None,
        };
        if let Some((d, _)) = &log {
            if !matches!(d.as_str(), "json-file" | "local" | "none") {
                anyhow::bail!("log driver {d:?} is not supported: Hull has json-file, local and none");
            }
        }
        let mut insecure = hull_engine::pull::RegistryConfig::insecure_from_env();
        insecure.extend(pick(a.insecure_registries, f.insecure_registries));
        Ok(Settings {
            hosts,
            insecure_tcp: a.insecure_tcp,
            tls: tls::TlsOptions {
                tls: a.tls || f.tls.unwrap_or(false),
                verify: a.tlsverify || f.tlsverify.unwrap_or(false),
                cacert: a.tlscacert.or(f.tlscacert),
                cert: a.tlscert.or(f.tlscert),
                key: a.tlskey.or(f.tlskey),
            },
            root: a.root.or(f.data_root).unwrap_or_else(|| "/var/lib/hull".into()),
            run_root: a.run_root.or(f.exec_root).unwrap_or_else(|| "/run/hull".into()),
            group: a.group.or(f.group),
            cgroup_parent: a.cgroup_parent.or(f.cgroup_parent),
            insecure_registries: insecure,
            log,
            runtimes: f.runtimes,
        })
    }
}

fn group_id(name: &str) -> Option<u32> {
    let groups = std::fs::read_to_string("/etc/group").ok()?;
    groups.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then(|| f.nth(1)?.parse().ok()).flatten()
    })
}

fn open_engine(a: &Settings) -> anyhow::Result<Engine> {
    let me = std::env::current_exe().context("where is hull-daemon")?;
    let dir = me.parent().map(PathBuf::from).unwrap_or_default();
    let shim = std::env::var_os("HULL_SHIM").map(PathBuf::from).unwrap_or_else(|| dir.join("hull-shim"));
    let hull = dir.join("hull");
    for (what, p) in [("hull-shim", &shim), ("hull", &hull)] {
        if !p.exists() {
            anyhow::bail!("{what} not found at {} (install it beside hull-daemon)", p.display());
        }
    }
    let mut cfg = EngineConfig::new(a.root.clone(), a.run_root.clone(), shim, &hull);
    // The daemon has no user's credentials: clients send theirs (X-Registry-Auth).
    cfg.registries.insecure = a.insecure_registries.clone();
    cfg.runtimes = a.runtimes.clone();
    Ok(Engine::open(cfg)?)
}

enum Listener {
    Unix(tokio::net::UnixListener, PathBuf),
    Tcp(tokio::net::TcpListener, Option<tokio_rustls::TlsAcceptor>),
}

fn bind(host: &str, a: &Settings) -> anyhow::Result<Listener> {
    if let Some(path) = host.strip_prefix("unix://") {
        let path = PathBuf::from(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("mkdir {}", dir.display()))?;
        }
        // A socket left by a daemon that died; a live one answers.
        if std::os::unix::net::UnixStream::connect(&path).is_ok() {
            anyhow::bail!("{} is in use by a running daemon", path.display());
        }
        let _ = std::fs::remove_file(&path);
        let l = tokio::net::UnixListener::bind(&path).with_context(|| format!("listen on {}", path.display()))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o660))?;
        let group = a.group.as_deref().unwrap_or("hull");
        match group_id(group) {
            Some(gid) => std::os::unix::fs::chown(&path, Some(0), Some(gid))?,
            None if a.group.is_some() => anyhow::bail!("no group {group:?}"),
            None => {}
        }
        return Ok(Listener::Unix(l, path));
    }
    if let Some(addr) = host.strip_prefix("tcp://") {
        if !a.tls.verify && !a.insecure_tcp {
            let how = if a.tls.tls { "TLS without --tlsverify checks no client" } else { "TCP without TLS" };
            anyhow::bail!(
                "-H {host}: {how}, which gives root to anyone who can reach it; pass --tlsverify with --tlscacert, or --insecure-tcp to do it anyway"
            );
        }
        if !a.tls.verify {
            eprintln!(
                "WARNING: serving the API on {addr} without client certificates: whoever reaches it controls this host as root"
            );
        }
        let acceptor = if a.tls.enabled() { Some(tls::acceptor(&a.tls)?) } else { None };
        let std = std::net::TcpListener::bind(addr).with_context(|| format!("listen on {addr}"))?;
        std.set_nonblocking(true)?;
        return Ok(Listener::Tcp(tokio::net::TcpListener::from_std(std)?, acceptor));
    }
    anyhow::bail!("-H {host}: want unix://PATH or tcp://ADDR")
}

fn serve_conn<S>(app: Arc<server::App>, io: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let svc = hyper::service::service_fn(move |req| server::serve(app.clone(), req));
        let conn = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(io), svc);
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!("connection: {e}");
        }
    });
}

fn main() -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HULL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).with_target(false).init();
    let a = Settings::resolve(Args::parse())?;
    let engine = Arc::new(open_engine(&a)?);
    let app = Arc::new(server::App {
        engine,
        pending_attach: Default::default(),
        execs: Default::default(),
        cgroup_parent: a.cgroup_parent.clone(),
        default_log: a.log.clone(),
    });
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let mut listeners = Vec::new();
        for h in &a.hosts {
            listeners.push(bind(h, &a)?);
        }
        supervisor::start(app.engine.clone());
        let mut paths = Vec::new();
        for l in listeners {
            let app = app.clone();
            match l {
                Listener::Unix(l, path) => {
                    tracing::info!("API listening on {}", path.display());
                    paths.push(path);
                    tokio::spawn(async move {
                        while let Ok((s, _)) = l.accept().await {
                            serve_conn(app.clone(), s);
                        }
                    });
                }
                Listener::Tcp(l, None) => {
                    tokio::spawn(async move {
                        while let Ok((s, _)) = l.accept().await {
                            serve_conn(app.clone(), s);
                        }
                    });
                }
                Listener::Tcp(l, Some(acceptor)) => {
                    tokio::spawn(async move {
                        while let Ok((s, peer)) = l.accept().await {
                            let (app, acceptor) = (app.clone(), acceptor.clone());
                            // The handshake runs beside the accept loop: a slow
                            // or silent client holds up no one else.
                            tokio::spawn(async move {
                                match tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(s)).await
                                {
                                    Ok(Ok(tls)) => serve_conn(app, tls),
                                    Ok(Err(e)) => tracing::info!("TLS handshake with {peer} refused: {e}"),
                                    Err(_) => tracing::info!("TLS handshake with {peer} timed out"),
                                }
                            });
                        }
                    });
                }
            }
        }
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("shutting down; containers keep running under their shims");
        for p in paths {
            let _ = std::fs::remove_file(p);
        }
        Ok::<(), anyhow::Error>(())
    })?;
    // Blocking handlers (followers of logs and events) may still run: they end with the process.
    std::process::exit(0)
}
