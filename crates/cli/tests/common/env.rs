//! One test's Hull (store, run root, cgroup parent, network namespace),
//! shared by the engine and attack tests.

use super::*;
use std::time::{Duration, Instant};

pub const IMG: &str = "localhost/hull/busybox";

/// One test's Hull: store, run root, cgroup parent.
pub struct Env {
    pub _tmp: tempfile::TempDir,
    pub root: std::path::PathBuf,
    /// This test's cgroup parent (tests run in parallel).
    pub parent: String,
    /// This test's network namespace: hull runs inside it, so the default
    /// bridge, NAT rules, published ports and containers stay there.
    pub netns: String,
}

static SERIAL: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

impl Env {
    pub fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("store");
        let out = hull(&root, &["image", "default"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let netns = format!("hull-test-{}-{n}", std::process::id());
        sh(&format!("ip netns add {netns} && ip -n {netns} link set lo up"));
        Env { _tmp: tmp, root, parent: format!("hull-test-{}-{n}", std::process::id()), netns }
    }

    pub fn cmd(&self) -> Command {
        let mut c = hull_command_in(&self.root, Some(&self.netns));
        c.env("HULL_CGROUP_PARENT", format!("/{}", self.parent));
        c
    }

    /// A command run in the test's network namespace (the host side of
    /// published ports).
    pub fn in_netns(&self, cmd: &str) -> Output {
        Command::new("nsenter")
            .arg(format!("--net=/run/netns/{}", self.netns))
            .args(["sh", "-c", cmd])
            .output()
            .unwrap()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Runs and expects success; returns trimmed stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout).trim().to_string()
    }

    pub fn run_root(&self) -> std::path::PathBuf {
        self.root.with_extension("run")
    }

    /// Waits until a server in the container listens on a TCP port.
    pub fn wait_listening(&self, name: &str, port: u16) {
        wait_until(&format!("{name} listening on {port}"), || {
            text(&self.run(&["exec", name, "/bin/busybox", "netstat", "-ltn"]).stdout).contains(&format!(":{port} "))
        });
    }

    /// `run --rm ARGS IMG true` is refused: docker's 125, the words `needle`.
    pub fn refused_at_run(&self, args: &[&str], needle: &str) {
        let out = self.run(&[&["run", "--rm"][..], args, &[IMG, "true"]].concat());
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(125), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }

    pub fn inspect(&self, name: &str, fmt: &str) -> String {
        self.ok(&["inspect", "-f", fmt, name])
    }

    pub fn shim_pid(&self, id: &str) -> i32 {
        let s = std::fs::read_to_string(self.run_root().join(".shims").join(id).join("shim.pid")).unwrap();
        s.split_whitespace().next().unwrap().parse().unwrap()
    }

    /// What a removed container could leave: rows, directories, shims,
    /// runtime state, mounts, cgroups, shim processes.
    pub fn leaks(&self) -> Vec<String> {
        let mut out = Vec::new();
        let rows = self.ok(&["ps", "-aq"]);
        if !rows.is_empty() {
            out.push(format!("rows: {rows}"));
        }
        for d in [self.root.join("containers"), self.run_root().join(".shims"), self.run_root()] {
            if let Ok(rd) = std::fs::read_dir(&d) {
                let names: Vec<String> = rd
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    // Networking's own directories (what is in them is checked
                    // below) and the event journal.
                    .filter(|n| {
                        !["aardvark-dns", "aardvark-dns.lock", "netns", "cni", "events.log", "events.log.1"]
                            .contains(&n.as_str())
                    })
                    .collect();
                if !names.is_empty() {
                    out.push(format!("{}: {names:?}", d.display()));
                }
            }
        }
        let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let root = self.root.display().to_string();
        out.extend(mi.lines().filter(|l| l.contains(&root)).map(|l| format!("mount: {l}")));
        for ctrl in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
            if let Ok(rd) = std::fs::read_dir(ctrl.path().join(&self.parent)) {
                out.extend(
                    rd.flatten().filter(|e| e.path().is_dir()).map(|e| format!("cgroup: {}", e.path().display())),
                );
            }
        }
        for p in std::fs::read_dir("/proc").unwrap().flatten() {
            let cmdline = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
            let c = String::from_utf8_lossy(&cmdline);
            if c.contains("hull-shim") && c.contains(&self.run_root().display().to_string()) {
                out.push(format!("shim process {}", p.file_name().to_string_lossy()));
            }
        }
        // Networking: veths, IPAM leases, NAT rules, pinned namespaces, DNS.
        let links = text(&self.in_netns("ip -o link show").stdout);
        out.extend(links.lines().filter(|l| l.contains("veth")).map(|l| format!("veth: {l}")));
        let rules = text(&self.in_netns("iptables-save").stdout);
        // Per-container rules (portmap's DNAT chain, bridge's masquerade
        // chain); portmap's shared CNI-HOSTPORT-* hooks stay, as with any CNI user.
        out.extend(
            rules
                .lines()
                .filter(|l| l.starts_with("-A") && l.contains("CNI") && !l.contains("CNI-HOSTPORT"))
                .map(|l| format!("rule: {l}")),
        );
        for (dir, keep) in [("cni/networks", true), ("netns", false), ("aardvark-dns", false)] {
            let walk = text(
                &Command::new("find").arg(self.run_root().join(dir)).args(["-type", "f"]).output().unwrap().stdout,
            );
            out.extend(
                walk.lines()
                    .filter(|l| !keep || !(l.ends_with("/lock") || l.contains("last_reserved_ip")))
                    .map(|l| format!("file: {l}")),
            );
        }
        out
    }

    pub fn assert_clean(&self) {
        let l = self.leaks();
        assert!(l.is_empty(), "left behind: {l:#?}");
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let ids = text(&self.run(&["ps", "-aq", "--no-trunc"]).stdout);
        for id in ids.split_whitespace() {
            let _ = self.run(&["rm", "-f", id]);
        }
        if let Ok(rd) = std::fs::read_dir("/sys/fs/cgroup") {
            for ctrl in rd.flatten() {
                let _ = std::fs::remove_dir(ctrl.path().join(&self.parent));
            }
        }
        // The DNS server our hull started (by its pid file), then the namespace.
        if let Ok(pid) = std::fs::read_to_string(self.run_root().join("aardvark-dns/aardvark.pid")) {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                if text(&cmd).contains(&self.run_root().display().to_string()) {
                    // SAFETY: kill of a process this test's hull started, checked by its command line.
                    unsafe { libc::kill(pid, libc::SIGTERM) };
                }
            }
        }
        let _ = Command::new("ip").args(["netns", "del", &self.netns]).status();
    }
}

impl Env {
    /// Tags `name` as a variant of the busybox image: `edit` changes its
    /// config and manifest (new blobs go in through the store it is given).
    pub fn image_variant(&self, name: &str, edit: impl FnOnce(&Store, &mut ImageConfig, &mut Manifest)) {
        let images = hull_image::images::Images::open(&self.root).unwrap();
        let img = images.resolve(IMG).unwrap();
        let (mut config, mut manifest) = (img.config.clone(), img.manifest.clone());
        edit(&images.store, &mut config, &mut manifest);
        let cb = serde_json::to_vec(&config).unwrap();
        manifest.config.digest = images.store.put_bytes(&cb).unwrap();
        manifest.config.size = cb.len() as u64;
        let md = images.store.put_bytes(&serde_json::to_vec(&manifest).unwrap()).unwrap();
        let lock = images.store.lock().unwrap();
        images.store.tag(&name.parse::<Reference>().unwrap(), &md, &lock).unwrap();
    }
}

/// Tags `name` as the busybox image plus one uncompressed layer.
pub fn image_with_layer(e: &Env, name: &str, layer: Vec<u8>) {
    e.image_variant(name, |store, config, manifest| {
        config.rootfs.diff_ids.push(Digest::sha256(&layer));
        let digest = store.put_bytes(&layer).unwrap();
        let d = Descriptor {
            media_type: OCI_LAYER_TAR.into(),
            digest,
            size: layer.len() as u64,
            platform: None,
            annotations: None,
        };
        manifest.layers.push(d);
    });
}

pub fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs a shell command that must succeed (test set-up).
pub fn sh(cmd: &str) -> String {
    let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
    assert!(out.status.success(), "{cmd}: {}", text(&out.stderr));
    text(&out.stdout)
}
