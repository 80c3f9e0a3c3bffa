//! Name resolution on user-defined networks through aardvark-dns, the
//! server Podman uses (Debian's package): one server per host (per
//! configuration directory) answering on each network's gateway for the
//! containers on it, forwarding other names to the host's resolvers. Hull
//! writes one file per network and signals the server to reload (SIGHUP);
//! it starts the server on first use and stops it when no network needs it.

use crate::NetError;
use std::io::Write;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// One container on a network.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// Container id.
    pub id: String,
    /// Its addresses on the network.
    pub ips: Vec<IpAddr>,
    /// Names it answers to (name, aliases, short id).
    pub names: Vec<String>,
    /// Its own upstream resolvers (`--dns`), if any.
    pub dns_servers: Vec<String>,
}

/// The server and its configuration directory.
#[derive(Debug, Clone)]
pub struct Aardvark {
    /// The aardvark-dns binary.
    pub binary: PathBuf,
    /// Its configuration directory (one file per network, its pid file).
    pub config_dir: PathBuf,
    /// The port it answers on.
    pub port: u16,
}

const PID_FILE: &str = "aardvark.pid";

impl Aardvark {
    /// Debian's aardvark-dns (as installed for Podman) on port 53.
    pub fn new(config_dir: impl Into<PathBuf>) -> Aardvark {
        let binary = ["/usr/lib/podman/aardvark-dns", "/usr/libexec/podman/aardvark-dns", "/usr/bin/aardvark-dns"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .unwrap_or_else(|| PathBuf::from("/usr/lib/podman/aardvark-dns"));
        Aardvark { binary, config_dir: config_dir.into(), port: 53 }
    }

    /// Makes the network's records `entries` (none: the network's file
    /// goes), then brings the server in line: started, reloaded, or
    /// stopped when no network has records left.
    pub fn update(&self, network: &str, gateways: &[IpAddr], entries: &[Entry]) -> Result<(), NetError> {
        self.update_from(network, gateways, || entries.to_vec())
    }

    /// [`update`](Self::update) with the records read under the server's
    /// lock: two engines updating at once must not write a snapshot older
    /// than one already written (a container's record would vanish).
    pub fn update_from(
        &self,
        network: &str,
        gateways: &[IpAddr],
        entries: impl FnOnce() -> Vec<Entry>,
    ) -> Result<(), NetError> {
        let io = |op: &'static str, p: &Path| {
            let path = p.display().to_string();
            move |e: std::io::Error| NetError::Io { op, path, source: e }
        };
        std::fs::create_dir_all(&self.config_dir).map_err(io("mkdir", &self.config_dir))?;
        // The lock and the temporary file live beside the directory:
        // aardvark-dns reads every file in it as a network.
        let side = |suffix: &str| {
            let mut p = self.config_dir.clone().into_os_string();
            p.push(suffix);
            PathBuf::from(p)
        };
        let _lock = lock(&side(".lock")).map_err(io("lock", &self.config_dir))?;
        let entries = &entries();
        let file = self.config_dir.join(network);
        if entries.is_empty() || gateways.is_empty() {
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("remove", &file)(e)),
            }
        } else {
            let tmp = side(".tmp");
            let mut f = std::fs::File::create(&tmp).map_err(io("create", &tmp))?;
            f.write_all(render(gateways, entries).as_bytes()).map_err(io("write", &tmp))?;
            std::fs::rename(&tmp, &file).map_err(io("rename", &file))?;
        }
        let any = std::fs::read_dir(&self.config_dir)
            .map_err(io("read", &self.config_dir))?
            .flatten()
            .any(|e| e.file_name().to_str().is_some_and(|n| n != PID_FILE));
        match (self.running(), any) {
            (Some(pid), true) => signal(pid, libc::SIGHUP),
            (Some(pid), false) => {
                signal(pid, libc::SIGTERM);
                let _ = std::fs::remove_file(self.config_dir.join(PID_FILE));
            }
            (None, true) => self.start()?,
            (None, false) => {}
        }
        Ok(())
    }

    /// Waits (up to `timeout`) until the server on `gateway` answers
    /// `name` with `ip`: after a reload the new records are served a
    /// moment later, and a container's first lookup must not miss them.
    pub fn wait_serving(&self, gateway: IpAddr, name: &str, ip: IpAddr, timeout: std::time::Duration) -> bool {
        let server = std::net::SocketAddr::new(gateway, self.port);
        let round = std::time::Duration::from_millis(250);
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if crate::dns_probe::wait_answering(server, name, ip, round) {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            // A reload asked for while another was under way can be lost:
            // ask again.
            if let Some(pid) = self.running() {
                signal(pid, libc::SIGHUP);
            }
        }
    }

    /// The running server's pid (checked against its command line).
    pub fn running(&self) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(self.config_dir.join(PID_FILE)).ok()?.trim().parse().ok()?;
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let cmd = String::from_utf8_lossy(&cmd);
        (cmd.contains("aardvark-dns") && cmd.contains(&*self.config_dir.to_string_lossy())).then_some(pid)
    }

    fn start(&self) -> Result<(), NetError> {
        // It forks into the background itself once it is listening, and
        // writes its pid file.
        let out = std::process::Command::new(&self.binary)
            .arg("--config")
            .arg(&self.config_dir)
            .arg("-p")
            .arg(self.port.to_string())
            .arg("run")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .output()
            .map_err(|e| NetError::Io { op: "run", path: self.binary.display().to_string(), source: e })?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let err: Vec<&str> = err.lines().filter(|l| !l.contains("syslog")).collect();
            return Err(NetError::Invalid(format!("aardvark-dns: {}: {}", out.status, err.join("; "))));
        }
        Ok(())
    }
}

/// The file aardvark-dns reads: gateways on the first line, then one line
/// per container: id, IPv4s, IPv6s, names, its resolvers.
fn render(gateways: &[IpAddr], entries: &[Entry]) -> String {
    let join = |v: Vec<String>| v.join(",");
    let mut s = join(gateways.iter().map(IpAddr::to_string).collect());
    s.push('\n');
    for e in entries {
        let v4 = join(e.ips.iter().filter(|i| i.is_ipv4()).map(IpAddr::to_string).collect());
        let v6 = join(e.ips.iter().filter(|i| i.is_ipv6()).map(IpAddr::to_string).collect());
        s.push_str(&format!("{} {v4} {v6} {}", e.id, e.names.join(",")));
        if !e.dns_servers.is_empty() {
            s.push_str(&format!(" {}", e.dns_servers.join(",")));
        }
        s.push('\n');
    }
    s
}

fn signal(pid: i32, sig: i32) {
    // SAFETY: kill has no memory effects; pid was checked to be the server.
    unsafe { libc::kill(pid, sig) };
}

/// An exclusive flock, released when the file closes.
fn lock(path: &Path) -> std::io::Result<std::fs::File> {
    let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_aardvarks_format() {
        let e = Entry {
            id: "abc".into(),
            ips: vec!["10.89.0.2".parse().unwrap(), "fd00::2".parse().unwrap()],
            names: vec!["web".into(), "www".into()],
            dns_servers: vec![],
        };
        let s = render(&["10.89.0.1".parse().unwrap()], &[e]);
        assert_eq!(s, "10.89.0.1\nabc 10.89.0.2 fd00::2 web,www\n");
    }
}
