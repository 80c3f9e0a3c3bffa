//! Harness for the root-only container tests: a shared busybox rootfs with
//! the static probe in it, per-test bundles and state roots, a cgroup parent
//! per test process, and runners for hull-runtime and runc.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub const HULL: &str = env!("CARGO_BIN_EXE_hull-runtime");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn remove_scratch() {
    if let Some(d) = SCRATCH.get() {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// Scratch space every user can traverse: the user-namespace and rootless
/// tests reach the rootfs and the runtime as unprivileged ids, and the
/// checkout may sit under a private directory. It is
/// `$TMPDIR/hull-root-tests-<pid>`, removed when the test process exits.
fn scratch() -> PathBuf {
    SCRATCH
        .get_or_init(|| {
            use std::os::unix::fs::PermissionsExt;
            let d = std::env::temp_dir().join(format!("hull-root-tests-{}", std::process::id()));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
            // SAFETY: registers a plain function, safe to run at exit.
            unsafe { libc::atexit(remove_scratch) };
            d
        })
        .clone()
}

/// A copy of hull-runtime that unprivileged users can execute.
pub fn hull_for_users() -> PathBuf {
    static COPY: OnceLock<PathBuf> = OnceLock::new();
    COPY.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let p = scratch().join("hull-runtime");
        std::fs::copy(HULL, &p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    })
    .clone()
}

/// The shared rootfs (read-only in every test): busybox plus /probe.
pub fn rootfs() -> &'static Path {
    static ROOTFS: OnceLock<PathBuf> = OnceLock::new();
    ROOTFS.get_or_init(|| {
        assert!(nix::unistd::geteuid().is_root(), "the root-tests need root");
        let base = scratch().join("base");
        let ws = workspace();
        let st = Command::new(ws.join("scripts/make-bundle.sh")).arg(&base).arg(HULL).status().unwrap();
        assert!(st.success(), "make-bundle.sh failed");
        // The probe's build cache stays in the target dir; only its binary moves.
        let probe_target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("probe-target");
        let st = Command::new("cargo")
            .args(["build", "--release", "--target", "x86_64-unknown-linux-gnu", "--manifest-path"])
            .arg(ws.join("tests/probe/Cargo.toml"))
            .arg("--target-dir")
            .arg(&probe_target)
            .env("RUSTFLAGS", "-C target-feature=+crt-static")
            .status()
            .unwrap();
        assert!(st.success(), "building the probe failed");
        std::fs::copy(probe_target.join("x86_64-unknown-linux-gnu/release/probe"), base.join("rootfs/probe")).unwrap();
        base.join("rootfs")
    })
}

/// The cgroup parent of one test's containers (hull's and runc's), removed
/// when the test's bundle is dropped. One per test, so that no test removes
/// a parent another is creating a cgroup in.
pub fn cgroup_parent(id: &str) -> String {
    format!("/hull-test-{}-{id}", std::process::id())
}

/// A bundle in a fresh temp dir, its config derived from `hull-runtime spec`.
pub struct Bundle {
    pub dir: tempfile::TempDir,
    pub config: Value,
    pub state_root: PathBuf,
    pub id: String,
}

impl Bundle {
    pub fn new(id: &str) -> Bundle {
        let rootfs = rootfs();
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(HULL).args(["spec", "--bundle"]).arg(dir.path()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut config: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap()).unwrap();
        config["root"]["path"] = json!(rootfs);
        config["process"]["terminal"] = json!(false);
        config["process"]["args"] = json!(["/probe"]);
        config["linux"]["cgroupsPath"] = json!(format!("{}/{id}", cgroup_parent(id)));
        let state_root = dir.path().join("state");
        Bundle { dir, config, state_root, id: id.to_string() }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn args(&mut self, args: &[&str]) -> &mut Self {
        self.config["process"]["args"] = json!(args);
        self
    }

    /// Writes config.json atomically: a runtime may be reading it meanwhile.
    pub fn write(&self) {
        let tmp = self.path().join("config.json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&self.config).unwrap()).unwrap();
        std::fs::rename(tmp, self.path().join("config.json")).unwrap();
    }

    /// Runs `hull-runtime --root STATE ARGS...` in the bundle.
    pub fn hull(&self, args: &[&str]) -> Output {
        self.write();
        let mut cmd = Command::new(HULL);
        cmd.arg("--root").arg(&self.state_root).args(args).current_dir(self.path());
        output_via_files(cmd)
    }

    /// `run` with hull-runtime; returns the output.
    pub fn run_hull(&self) -> Output {
        self.hull(&["run", &self.id])
    }

    /// `run` with runc on the same bundle (its own state root and cgroup).
    pub fn run_runc(&mut self) -> Output {
        let saved = self.config["linux"]["cgroupsPath"].clone();
        self.config["linux"]["cgroupsPath"] = json!(format!("{}/runc-{}", cgroup_parent(&self.id), self.id));
        self.write();
        let mut cmd = Command::new("runc");
        cmd.arg("--root")
            .arg(self.path().join("runc-state"))
            .args(["run", &format!("runc-{}", self.id)])
            .current_dir(self.path());
        let out = output_via_files(cmd);
        self.config["linux"]["cgroupsPath"] = saved;
        out
    }

    /// Asserts that nothing of the container is left: no state directory,
    /// no cgroup directory, no mount of the bundle on the host.
    pub fn assert_nothing_left(&self) {
        let state = self.state_root.join(&self.id);
        assert!(!state.exists(), "state directory {} left behind", state.display());
        for dir in cgroup_dirs(&format!("{}/{}", cgroup_parent(&self.id), self.id)) {
            assert!(!dir.exists(), "cgroup {} left behind", dir.display());
        }
        let state_root = self.state_root.to_str().unwrap();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            let is_hull = cmdline.contains(HULL) && cmdline.contains(state_root);
            assert!(
                !is_hull || cmdline.contains(" state ") || entry.file_name() == std::process::id().to_string().as_str(),
                "process {:?} ({cmdline}) left behind",
                entry.file_name()
            );
        }
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(!mounts.contains(self.path().to_str().unwrap()), "a mount of the bundle is left on the host");
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        // Kill whatever a failed test left running, then try to remove the
        // shared parent; the last bundle out succeeds.
        let _ = Command::new(HULL).arg("--root").arg(&self.state_root).args(["delete", "--force", &self.id]).output();
        let _ = Command::new("runc")
            .arg("--root")
            .arg(self.path().join("runc-state"))
            .args(["delete", "--force", &format!("runc-{}", self.id)])
            .stderr(Stdio::null())
            .output();
        cleanup_cgroup_parent(&self.id);
    }
}

/// Runs a command with stdout/stderr going to files rather than pipes: a
/// created or detached container keeps its stdio open, and a pipe would make
/// the caller wait for the container instead of the runtime.
pub fn output_via_files(mut cmd: Command) -> Output {
    let out = tempfile::tempfile().unwrap();
    let err = tempfile::tempfile().unwrap();
    let status =
        cmd.stdin(Stdio::null()).stdout(out.try_clone().unwrap()).stderr(err.try_clone().unwrap()).status().unwrap();
    let read = |mut f: std::fs::File| {
        use std::io::{Read, Seek};
        let mut v = Vec::new();
        f.seek(std::io::SeekFrom::Start(0)).unwrap();
        f.read_to_end(&mut v).unwrap();
        v
    };
    Output { status, stdout: read(out), stderr: read(err) }
}

/// The directory of a cgroup path in each mounted hierarchy.
pub fn cgroup_dirs(path: &str) -> Vec<PathBuf> {
    let layout = hull_cgroups_layout();
    layout.into_iter().map(|mp| mp.join(path.trim_start_matches('/'))).collect()
}

fn hull_cgroups_layout() -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    info.lines()
        .filter(|l| l.contains(" - cgroup ") || l.contains(" - cgroup2 "))
        .filter_map(|l| l.split(' ').nth(4).map(PathBuf::from))
        .collect()
}

/// Parses the probe's JSON from a run's stdout.
pub fn probe_json(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "run failed: {:?}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout.lines().find(|l| l.starts_with('{')).unwrap_or_else(|| panic!("no probe output in {stdout:?}"));
    serde_json::from_str(line).unwrap()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Removes this process's cgroup parent from every hierarchy once it is
/// empty (rmdir fails on a cgroup that still has children).
pub fn cleanup_cgroup_parent(id: &str) {
    for dir in cgroup_dirs(&cgroup_parent(id)) {
        let _ = std::fs::remove_dir(&dir);
    }
}

// Helpers shared by the root test binaries.

pub const MASKED: &[&str] = &["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware", "/proc/acpi"];
pub const READONLY: &[&str] = &["/proc/sys", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sysrq-trigger"];

pub fn probe_args(extra: &[&str]) -> Vec<String> {
    let mut a = vec!["/probe".to_string()];
    for m in MASKED {
        a.extend(["--masked".into(), m.to_string()]);
    }
    for r in READONLY {
        a.extend(["--readonly".into(), r.to_string()]);
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

pub fn set_args(b: &mut Bundle, args: Vec<String>) {
    b.config["process"]["args"] = json!(args);
}

pub fn mount_set(v: &Value) -> Vec<(String, String)> {
    let mut m: Vec<(String, String)> = v["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["destination"].as_str().unwrap().to_string(), m["type"].as_str().unwrap().to_string()))
        .collect();
    m.sort();
    m
}

pub fn state_of(b: &Bundle) -> Value {
    let out = b.hull(&["state", &b.id]);
    assert!(out.status.success(), "state: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A failing run: non-zero exit, a one-line error containing `needle`, nothing left.
pub fn assert_rejected(b: &Bundle, args: &[&str], needle: &str) {
    let out = b.hull(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    let err = stderr(&out);
    assert!(err.contains(needle), "error {err:?} does not name {needle:?}");
    assert_eq!(err.trim_end().lines().count(), 1, "error is not one line: {err:?}");
    b.assert_nothing_left();
}

pub fn seccomp_profile(b: &mut Bundle, rules: Value) {
    b.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": rules,
    });
}

pub fn wait_status(b: &Bundle, want: &str) {
    for _ in 0..500 {
        let out = b.hull(&["state", &b.id.clone()]);
        if out.status.success() && serde_json::from_slice::<Value>(&out.stdout).unwrap()["status"] == want {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("container {} never became {want}", b.id);
}

pub fn host_cgroup_file(b: &Bundle, controller: &str, file: &str) -> String {
    let dir = cgroup_dirs(&format!("{}/{}", cgroup_parent(&b.id), b.id))
        .into_iter()
        .find(|d| d.parent().and_then(|p| p.parent()).is_some_and(|m| m.ends_with(controller)))
        .unwrap_or_else(|| panic!("no {controller} hierarchy"));
    std::fs::read_to_string(dir.join(file)).unwrap().trim().to_string()
}

/// Accepts one connection and receives one message carrying a descriptor
/// (SCM_RIGHTS): the descriptor and the message's bytes.
pub fn receive_fd(listener: std::os::unix::net::UnixListener) -> (std::fs::File, Vec<u8>) {
    use std::os::fd::{AsRawFd, FromRawFd};
    let (conn, _) = listener.accept().unwrap();
    let mut buf = vec![0u8; 8192];
    let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let msg = nix::sys::socket::recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        nix::sys::socket::MsgFlags::empty(),
    )
    .unwrap();
    let mut fd = None;
    for c in msg.cmsgs().unwrap() {
        if let nix::sys::socket::ControlMessageOwned::ScmRights(fds) = c {
            // SAFETY: received just now, owned by this test.
            fd = Some(unsafe { std::fs::File::from_raw_fd(fds[0]) });
        }
    }
    let n = msg.bytes;
    (fd.expect("no descriptor with the message"), buf[..n].to_vec())
}

/// Accepts one connection on a console socket and returns the pty master
/// and the name runc-compatible runtimes send with it.
pub fn receive_console(listener: std::os::unix::net::UnixListener) -> (std::fs::File, String) {
    let (fd, name) = receive_fd(listener);
    (fd, String::from_utf8_lossy(&name).into_owned())
}

pub fn read_until(master: &mut std::fs::File, needle: &str) -> String {
    use std::io::Read;
    let mut seen = String::new();
    let mut buf = [0u8; 1024];
    while !seen.contains(needle) {
        match master.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    seen
}

/// The unprivileged user the rootless tests run as (created if missing,
/// with the /etc/subuid range useradd gives it).
pub fn test_user() -> (String, u32, u32) {
    let name = "hulltest".to_string();
    if nix::unistd::User::from_name(&name).unwrap().is_none() {
        let st = std::process::Command::new("useradd").args(["-m", "-s", "/bin/sh", &name]).status().unwrap();
        assert!(st.success(), "useradd failed");
    }
    let u = nix::unistd::User::from_name(&name).unwrap().unwrap();
    (name, u.uid.as_raw(), u.gid.as_raw())
}

pub fn as_user(user: &str, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new("runuser");
    cmd.args(["-u", user, "--", "env"])
        .arg(format!("XDG_RUNTIME_DIR={}", dir.join("xdg").display()))
        .arg(hull_for_users())
        .args(args)
        .current_dir(dir);
    output_via_files(cmd)
}
