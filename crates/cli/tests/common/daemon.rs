//! hull-daemon started by a test, in the test's network namespace, and
//! the docker CLI pointed at it.

use super::*;

/// A running hull-daemon (ended by SIGTERM when dropped).
pub struct Daemon {
    pub child: std::process::Child,
    pub sock: std::path::PathBuf,
}

impl Daemon {
    pub fn start(e: &Env) -> Daemon {
        let sock = e.root.with_extension("docker.sock");
        Daemon::start_with(e, &["-H", &format!("unix://{}", sock.display())], sock.clone())
    }

    /// With `args` (which say where it listens: `sock`).
    pub fn start_with(e: &Env, args: &[&str], sock: std::path::PathBuf) -> Daemon {
        let bin = std::path::Path::new(HULL).with_file_name("hull-daemon");
        let child = Command::new("nsenter")
            .arg(format!("--net=/run/netns/{}", e.netns))
            .arg(&bin)
            .args(["--root", &e.root.display().to_string(), "--run-root", &e.run_root().display().to_string()])
            .args(["--cgroup-parent", &format!("/{}", e.parent)])
            .args(args)
            .env("HULL_SHIM", std::path::Path::new(HULL).with_file_name("hull-shim"))
            .env("HULL_DAEMON_JSON", e.root.with_extension("no-daemon.json"))
            .stderr(std::fs::File::create(sock.with_extension("log")).unwrap())
            .spawn()
            .unwrap();
        let mut d = Daemon { child, sock };
        wait_until("the daemon's socket", || {
            if let Ok(Some(st)) = d.child.try_wait() {
                let log = std::fs::read_to_string(d.sock.with_extension("log")).unwrap_or_default();
                panic!("hull-daemon ended ({st}): {log}");
            }
            std::os::unix::net::UnixStream::connect(&d.sock).is_ok()
        });
        d
    }

    /// Ends the daemon as a crash would.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn docker(&self) -> Command {
        let mut c = Command::new("docker");
        c.env("DOCKER_HOST", format!("unix://{}", self.sock.display()))
            .env("DOCKER_CONFIG", self.sock.with_extension("cfg"));
        c
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.docker().args(args).output().unwrap();
        assert!(out.status.success(), "docker {args:?}: {}{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout).trim_end().to_string()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.child.wait();
    }
}
