//! Real containers, as root: the probe's view under hull-runtime (and runc),
//! every feature asserted from inside, the lifecycle, and bad input.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;

const MASKED: &[&str] = &["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware", "/proc/acpi"];
const READONLY: &[&str] = &["/proc/sys", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sysrq-trigger"];

fn probe_args(extra: &[&str]) -> Vec<String> {
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

fn set_args(b: &mut Bundle, args: Vec<String>) {
    b.config["process"]["args"] = json!(args);
}

fn mount_set(v: &Value) -> Vec<(String, String)> {
    let mut m: Vec<(String, String)> = v["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["destination"].as_str().unwrap().to_string(), m["type"].as_str().unwrap().to_string()))
        .collect();
    m.sort();
    m
}

#[test]
fn probe_sees_the_same_as_under_runc() {
    let mut b = Bundle::new("same-view");
    set_args(&mut b, probe_args(&["--cgroup-file", "pids/pids.max", "--cgroup-file", "memory/memory.limit_in_bytes"]));
    b.config["linux"]["resources"]["pids"] = json!({"limit": 77});
    b.config["linux"]["resources"]["memory"] = json!({"limit": 64 << 20});
    let hull = probe_json(&b.run_hull());
    let runc = probe_json(&b.run_runc());
    for field in [
        "pid",
        "hostname",
        "domainname",
        "uid",
        "gid",
        "groups",
        "umask",
        "cwd",
        "env",
        "capabilities",
        "no_new_privs",
        "seccomp",
        "rlimits",
        "oom_score_adj",
        "masked",
        "readonly",
        "cgroup_files",
        "uid_map",
        "signals_blocked",
    ] {
        assert_eq!(hull[field], runc[field], "field {field} differs from runc");
    }

    // Same mount points with the same filesystem types. Intended difference:
    // on a hybrid host Hull also shows the container's cgroup2 directory at
    // /sys/fs/cgroup/unified (as systemd lays it out); runc 1.1 leaves it out.
    let hull_mounts: Vec<_> = mount_set(&hull).into_iter().filter(|(d, _)| d != "/sys/fs/cgroup/unified").collect();
    assert_eq!(hull_mounts, mount_set(&runc));
    // Every namespace the config creates differs from the host's; the others match.
    let host = std::fs::read_link("/proc/self/ns/net").unwrap();
    assert_ne!(hull["namespaces"]["net"].as_str().unwrap(), host.to_str().unwrap());
    let host_user = std::fs::read_link("/proc/self/ns/user").unwrap();
    assert_eq!(hull["namespaces"]["user"].as_str().unwrap(), host_user.to_str().unwrap());
    b.assert_nothing_left();
}

#[test]
fn default_view_from_inside() {
    let mut b = Bundle::new("default-view");
    set_args(&mut b, probe_args(&[]));
    let v = probe_json(&b.run_hull());
    assert_eq!(v["pid"], 1);
    assert_eq!(v["hostname"], "hull");
    assert_eq!(v["uid"], 0);
    assert_eq!(v["no_new_privs"], "1");
    assert_eq!(v["capabilities"]["CapEff"], "0000000020000420"); // AUDIT_WRITE(29), KILL(5), NET_BIND_SERVICE(10)
    assert_eq!(v["capabilities"]["CapBnd"], "0000000020000420");
    assert_eq!(v["capabilities"]["CapInh"], "0000000000000000");
    assert_eq!(v["rlimits"]["Max open files"], json!(["1024", "1024"]));
    for m in MASKED {
        let seen = &v["masked"][*m];
        assert!(seen.is_null() || seen == 0, "{m} is readable: {seen}");
    }
    for r in READONLY {
        let seen = &v["readonly"][*r];
        assert!(seen.is_null() || seen == true, "{r} is writable");
    }
    let root = v["mounts"].as_array().unwrap().iter().find(|m| m["destination"] == "/").unwrap();
    assert!(root["options"].as_str().unwrap().split(',').any(|o| o == "ro"), "root not read-only: {root}");
    assert!(v["env"].as_array().unwrap().contains(&json!("HOME=/root")));
}

#[test]
fn exit_status_and_signals_pass_through() {
    let mut b = Bundle::new("exit-status");
    b.args(&["/bin/sh", "-c", "echo out; echo err >&2; exit 7"]);
    let out = b.run_hull();
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(stdout(&out), "out\n");
    assert!(stderr(&out).contains("err"));
    // Killed by a signal from outside (pid 1 ignores SIGKILL from inside its namespace).
    b.args(&["/bin/sleep", "300"]);
    b.write();
    let mut run = std::process::Command::new(HULL);
    run.arg("--root").arg(&b.state_root).args(["run", &b.id]).current_dir(b.path());
    let waiter = std::thread::spawn(move || output_via_files(run));
    let mut running = false;
    for _ in 0..500 {
        let out = b.hull(&["state", &b.id.clone()]);
        if out.status.success() && serde_json::from_slice::<Value>(&out.stdout).unwrap()["status"] == "running" {
            running = true;
            break;
        }
        if waiter.is_finished() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    if !running {
        let out = waiter.join().unwrap();
        panic!("the container never ran: {:?} {}", out.status, stderr(&out));
    }
    let out = b.hull(&["kill", &b.id.clone(), "KILL"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(waiter.join().unwrap().status.code(), Some(137));
    b.assert_nothing_left();
}

#[test]
fn process_attributes() {
    let mut b = Bundle::new("process-attrs");
    set_args(&mut b, probe_args(&[]));
    b.config["process"]["user"] = json!({"uid": 1000, "gid": 1001, "umask": 0o027, "additionalGids": [5, 1002]});
    b.config["process"]["cwd"] = json!("/tmp");
    b.config["process"]["env"] = json!(["PATH=/bin", "FOO=bar baz"]);
    b.config["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}, {"type": "RLIMIT_NPROC", "soft": 100, "hard": 200}]);
    b.config["process"]["oomScoreAdj"] = json!(123);
    b.config["process"]["noNewPrivileges"] = json!(false);
    b.config["process"]["capabilities"] = json!({
        "bounding": ["CAP_CHOWN", "CAP_NET_RAW", "CAP_SETUID"], "effective": ["CAP_CHOWN", "CAP_NET_RAW"],
        "permitted": ["CAP_CHOWN", "CAP_NET_RAW"], "inheritable": ["CAP_NET_RAW"], "ambient": ["CAP_NET_RAW"]});
    let v = probe_json(&b.run_hull());
    assert_eq!(v["uid"], 1000);
    assert_eq!(v["gid"], 1001);
    assert_eq!(v["groups"], json!([5, 1002]));
    assert_eq!(v["umask"], "0027");
    assert_eq!(v["cwd"], "/tmp");
    assert!(v["env"].as_array().unwrap().contains(&json!("FOO=bar baz")));
    assert_eq!(v["rlimits"]["Max open files"], json!(["321", "654"]));
    assert_eq!(v["rlimits"]["Max processes"], json!(["100", "200"]));
    assert_eq!(v["oom_score_adj"], "123");
    assert_eq!(v["no_new_privs"], "0");
    // CAP_CHOWN=0, CAP_NET_RAW=13, CAP_SETUID=7. A non-root process keeps
    // across execve only its ambient capabilities (as under runc).
    assert_eq!(v["capabilities"]["CapBnd"], "0000000000002081");
    assert_eq!(v["capabilities"]["CapPrm"], "0000000000002000");
    assert_eq!(v["capabilities"]["CapEff"], "0000000000002000");
    assert_eq!(v["capabilities"]["CapInh"], "0000000000002000");
    assert_eq!(v["capabilities"]["CapAmb"], "0000000000002000");
    let runc = probe_json(&b.run_runc());
    for field in
        ["uid", "gid", "groups", "umask", "cwd", "env", "capabilities", "no_new_privs", "rlimits", "oom_score_adj"]
    {
        assert_eq!(v[field], runc[field], "field {field} differs from runc");
    }
}

#[test]
fn hostname_domainname_sysctl_and_namespaces() {
    let mut b = Bundle::new("uts-sysctl");
    set_args(&mut b, probe_args(&["--sysctl", "net.ipv4.ip_forward", "--sysctl", "kernel.shmmax"]));
    b.config["hostname"] = json!("box1");
    b.config["domainname"] = json!("example.test");
    b.config["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789"});
    let ns = b.config["linux"]["namespaces"].as_array_mut().unwrap();
    ns.push(json!({"type": "cgroup"}));
    ns.push(json!({"type": "time"}));
    b.config["linux"]["timeOffsets"] = json!({"monotonic": {"secs": 86400, "nanosecs": 0}});
    let v = probe_json(&b.run_hull());
    assert_eq!(v["hostname"], "box1");
    assert_eq!(v["domainname"], "example.test");
    assert_eq!(v["sysctls"]["net.ipv4.ip_forward"], "1");
    assert_eq!(v["sysctls"]["kernel.shmmax"], "123456789");
    for n in ["cgroup", "time"] {
        let host = std::fs::read_link(format!("/proc/self/ns/{n}")).unwrap();
        assert_ne!(v["namespaces"][n].as_str().unwrap(), host.to_str().unwrap(), "{n} namespace not new");
    }
    // With a cgroup namespace the container sees itself at the root.
    assert!(v["cgroup"].as_array().unwrap().iter().all(|l| l.as_str().unwrap().ends_with(":/")), "{}", v["cgroup"]);
}

#[test]
fn user_namespace_with_mappings() {
    let mut b = Bundle::new("userns");
    set_args(&mut b, probe_args(&[]));
    b.config["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
    b.config["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    b.config["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    // sysfs cannot be mounted fresh in a user namespace without a new netns owner; keep the defaults.
    let v = probe_json(&b.run_hull());
    assert_eq!(v["uid"], 0);
    let map: Vec<&str> = v["uid_map"].as_str().unwrap().split_whitespace().collect();
    assert_eq!(map, ["0", "100000", "65536"]);
    // Files owned by the mapped host ids belong to the container's users.
    let owned = b.path().join("owned");
    std::fs::create_dir(&owned).unwrap();
    std::fs::write(owned.join("f"), "x").unwrap();
    nix::unistd::chown(&owned.join("f"), Some(100_000.into()), Some(100_005.into())).unwrap();
    // (/home exists in the shared rootfs; the container's root could not create a mount point there.)
    b.config["mounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"destination": "/home", "type": "bind", "source": owned, "options": ["bind"]}));
    b.args(&["/bin/stat", "-c", "%u %g", "/home/f"]);
    let out = b.run_hull();
    assert_eq!(stdout(&out), "0 5\n", "{}", stderr(&out));
}

#[test]
fn mounts_binds_tmpfs_and_propagation() {
    let mut b = Bundle::new("mounts");
    let src = b.path().join("shared");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("hello"), "hi").unwrap();
    b.args(&[
        "/bin/sh",
        "-c",
        "cat /data/hello; touch /data/x 2>/dev/null && echo rw-data || echo ro-data; \
        touch /scratch/y && echo rw-scratch; grep -E ' /(data|scratch|rel) ' /proc/self/mountinfo; cat /rel/hello",
    ]);
    let mounts = b.config["mounts"].as_array_mut().unwrap();
    mounts.push(json!({"destination": "/data", "type": "bind", "source": src, "options": ["rbind", "ro", "nosuid", "nodev", "rprivate"]}));
    mounts.push(json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["noexec", "size=1m", "mode=1777"]}));
    mounts.push(json!({"destination": "/rel", "type": "none", "source": "shared", "options": ["bind"]}));
    let out = b.run_hull();
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.starts_with("hiro-data\nrw-scratch\n"), "{text}");
    let data = text.lines().find(|l| l.contains(" /data ")).unwrap();
    assert!(data.contains(" ro,nosuid,nodev"), "{data}");
    let scratch = text.lines().find(|l| l.contains(" /scratch ")).unwrap();
    assert!(scratch.contains("noexec") && scratch.contains("size=1024k"), "{scratch}");
    assert!(text.ends_with("hi"), "relative bind source not resolved against the bundle: {text}");
    b.assert_nothing_left();
}

#[test]
fn devices_and_dev_symlinks() {
    let mut b = Bundle::new("devices");
    b.args(&["/bin/sh", "-c", "stat -c '%A %u %g %t:%T %n' /dev/fuse /dev/null; for l in fd stdin ptmx; do readlink /dev/$l; done; echo x > /dev/null && echo null-ok"]);
    b.config["linux"]["devices"] =
        json!([{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640, "uid": 0, "gid": 5}]);
    let out = b.run_hull();
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("crw-r----- 0 5 a:e5 /dev/fuse"), "{text}");
    assert!(text.contains("crw-rw-rw- 0 0 1:3 /dev/null"), "{text}");
    assert!(text.contains("/proc/self/fd\n/proc/self/fd/0\npts/ptmx\nnull-ok"), "{text}");
}

#[test]
fn device_cgroup_denies_unlisted_devices() {
    let mut b = Bundle::new("devcgroup");
    // /dev/sda-like block device node created by mknod is denied by the deny-all rule.
    b.args(&[
        "/bin/sh",
        "-c",
        "mknod /tmp/sdx b 8 0 && (head -c1 /tmp/sdx >/dev/null 2>&1 && echo read-ok || echo read-denied)",
    ]);
    b.config["mounts"].as_array_mut().unwrap().push(json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}));
    b.config["process"]["capabilities"]["bounding"].as_array_mut().unwrap().push(json!("CAP_MKNOD"));
    b.config["process"]["capabilities"]["effective"].as_array_mut().unwrap().push(json!("CAP_MKNOD"));
    b.config["process"]["capabilities"]["permitted"].as_array_mut().unwrap().push(json!("CAP_MKNOD"));
    let out = b.run_hull();
    assert_eq!(stdout(&out).trim(), "read-denied", "{}", stderr(&out));
}

#[test]
fn cgroup_limits_are_visible_inside() {
    let mut b = Bundle::new("limits");
    let files = [
        "memory/memory.limit_in_bytes",
        "memory/memory.soft_limit_in_bytes",
        "memory/memory.swappiness",
        "pids/pids.max",
        "cpu/cpu.shares",
        "cpu/cpu.cfs_quota_us",
        "cpu/cpu.cfs_period_us",
        "cpuset/cpuset.cpus",
    ];
    let mut extra = Vec::new();
    for f in files {
        extra.extend(["--cgroup-file", f]);
    }
    set_args(&mut b, probe_args(&extra));
    b.config["linux"]["resources"] = json!({
        "devices": [{"allow": false, "access": "rwm"}],
        "memory": {"limit": 100 << 20, "reservation": 50 << 20, "swappiness": 10},
        "pids": {"limit": 42},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"}});
    let v = probe_json(&b.run_hull());
    let f = &v["cgroup_files"];
    assert_eq!(f["memory/memory.limit_in_bytes"], (100u64 << 20).to_string());
    assert_eq!(f["memory/memory.soft_limit_in_bytes"], (50u64 << 20).to_string());
    assert_eq!(f["memory/memory.swappiness"], "10");
    assert_eq!(f["pids/pids.max"], "42");
    assert_eq!(f["cpu/cpu.shares"], "512");
    assert_eq!(f["cpu/cpu.cfs_quota_us"], "50000");
    assert_eq!(f["cpu/cpu.cfs_period_us"], "100000");
    assert_eq!(f["cpuset/cpuset.cpus"], "0");
    b.assert_nothing_left();
}

#[test]
fn no_pivot_runs_with_chroot() {
    let mut b = Bundle::new("no-pivot");
    b.args(&["/bin/sh", "-c", "cat /proc/self/mountinfo | wc -l; ls /"]);
    let out = b.hull(&["run", "--no-pivot", &b.id.clone()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("probe"));
}

fn state_of(b: &Bundle) -> Value {
    let out = b.hull(&["state", &b.id]);
    assert!(out.status.success(), "state: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn lifecycle_create_start_kill_delete_with_hooks() {
    let mut b = Bundle::new("lifecycle");
    b.args(&["/bin/sleep", "300"]);
    let log = b.path().join("hooks.log");
    let hook = |name: &str| json!({"path": "/bin/sh", "args": ["sh", "-c", format!("read s; echo {name} \"$s\" >> {}", log.display())]});
    b.config["hooks"] = json!({
        "createRuntime": [hook("createRuntime")], "createContainer": [hook("createContainer")],
        "startContainer": [json!({"path": "/bin/true"})], "poststart": [hook("poststart")], "poststop": [hook("poststop")]});
    let pid_file = b.path().join("pid");
    let out = b.hull(&["create", "--pid-file", pid_file.to_str().unwrap(), &b.id.clone()]);
    assert!(out.status.success(), "create: {}", stderr(&out));
    let st = state_of(&b);
    assert_eq!(st["status"], "created");
    let pid = st["pid"].as_i64().unwrap();
    assert_eq!(std::fs::read_to_string(&pid_file).unwrap(), pid.to_string());
    assert_eq!(st["bundle"], json!(b.path().canonicalize().unwrap()));
    // start twice: the second is refused.
    assert!(b.hull(&["start", &b.id.clone()]).status.success());
    assert_eq!(state_of(&b)["status"], "running");
    let again = b.hull(&["start", &b.id.clone()]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("is running: start needs created"), "{}", stderr(&again));
    let list = b.hull(&["list", "--format", "json"]);
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list[0]["id"], b.id);
    // delete without --force refuses a running container.
    assert!(!b.hull(&["delete", &b.id.clone()]).status.success());
    assert!(b.hull(&["kill", &b.id.clone(), "KILL"]).status.success());
    for _ in 0..200 {
        if state_of(&b)["status"] == "stopped" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(state_of(&b)["status"], "stopped");
    assert!(b.hull(&["delete", &b.id.clone()]).status.success());
    let hooks = std::fs::read_to_string(&log).unwrap();
    let order: Vec<&str> = hooks.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(order, ["createRuntime", "createContainer", "poststart", "poststop"]);
    assert!(hooks.lines().next().unwrap().contains("\"status\":\"creating\""), "{hooks}");
    assert!(hooks.lines().last().unwrap().contains("\"status\":\"stopped\""), "{hooks}");
    assert!(!b.hull(&["state", &b.id.clone()]).status.success());
    b.assert_nothing_left();
}

#[test]
fn kill_all_and_delete_force() {
    let mut b = Bundle::new("kill-all");
    b.args(&["/bin/sh", "-c", "sleep 300 & sleep 300 & wait"]);
    assert!(b.hull(&["run", "--detach", &b.id.clone()]).status.success());
    assert_eq!(state_of(&b)["status"], "running");
    assert!(b.hull(&["kill", "--all", &b.id.clone(), "9"]).status.success());
    assert!(b.hull(&["delete", "--force", &b.id.clone()]).status.success());
    b.assert_nothing_left();
}

#[test]
fn join_namespace_by_path() {
    let mut first = Bundle::new("ns-owner");
    first.args(&["/bin/sleep", "300"]);
    first.config["hostname"] = json!("owner");
    assert!(first.hull(&["run", "-d", &first.id.clone()]).status.success());
    let pid = state_of(&first)["pid"].as_i64().unwrap();
    let mut b = Bundle::new("ns-joiner");
    set_args(&mut b, probe_args(&[]));
    b.config.as_object_mut().unwrap().remove("hostname");
    for n in b.config["linux"]["namespaces"].as_array_mut().unwrap() {
        if n["type"] == "network" || n["type"] == "uts" {
            let proc_name = if n["type"] == "network" { "net" } else { "uts" };
            n["path"] = json!(format!("/proc/{pid}/ns/{proc_name}"));
        }
    }
    let v = probe_json(&b.run_hull());
    assert_eq!(v["hostname"], "owner");
    let owner_net = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    assert_eq!(v["namespaces"]["net"].as_str().unwrap(), owner_net.to_str().unwrap());
    assert!(first.hull(&["delete", "--force", &first.id.clone()]).status.success());
}

/// A failing run: non-zero exit, a one-line error containing `needle`, nothing left.
fn assert_rejected(b: &Bundle, args: &[&str], needle: &str) {
    let out = b.hull(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    let err = stderr(&out);
    assert!(err.contains(needle), "error {err:?} does not name {needle:?}");
    assert_eq!(err.trim_end().lines().count(), 1, "error is not one line: {err:?}");
    b.assert_nothing_left();
}

#[test]
fn bad_input_is_rejected_cleanly() {
    let mut b = Bundle::new("bad");
    b.write();
    std::fs::write(b.path().join("config.json"), "{ not json").unwrap();
    let out = std::process::Command::new(HULL)
        .arg("--root")
        .arg(&b.state_root)
        .args(["run", "bad"])
        .current_dir(b.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("config.json"), "{}", stderr(&out));

    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        ("relative root missing", Box::new(|c| c["root"]["path"] = json!("no-such-rootfs")), "root.path"),
        (
            "missing args",
            Box::new(|c| c["process"].as_object_mut().unwrap().remove("args").map(drop).unwrap_or(())),
            "process.args",
        ),
        (
            "unknown namespace",
            Box::new(|c| c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "bogus"}))),
            "linux.namespaces[5].type",
        ),
        (
            "duplicate namespace",
            Box::new(|c| c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "pid"}))),
            "pid namespace is listed twice",
        ),
        (
            "negative memory",
            Box::new(|c| c["linux"]["resources"]["memory"] = json!({"limit": -5})),
            "linux.resources.memory.limit",
        ),
        (
            "unknown capability",
            Box::new(|c| c["process"]["capabilities"]["bounding"] = json!(["CAP_BOGUS"])),
            "CAP_BOGUS",
        ),
        ("host sysctl", Box::new(|c| c["linux"]["sysctl"] = json!({"vm.swappiness": "1"})), "vm.swappiness"),
        (
            "failing createRuntime hook",
            Box::new(|c| c["hooks"] = json!({"createRuntime": [{"path": "/bin/false"}]})),
            "createRuntime hook /bin/false",
        ),
        (
            "malformed seccomp profile",
            Box::new(|c| c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_BOGUS"})),
            "linux.seccomp.defaultAction: unknown action",
        ),
        (
            "seccomp profile of the wrong shape",
            Box::new(|c| {
                c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "read"}]})
            }),
            "linux.seccomp.syscalls[0].names",
        ),
        (
            "seccomp rule with a malformed syscall name",
            Box::new(
                |c| c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read; rm -rf /"], "action": "SCMP_ACT_ERRNO"}]}),
            ),
            "linux.seccomp.syscalls[0].names: \"read; rm -rf /\" is not a syscall name",
        ),
        (
            "seccomp rule without names",
            Box::new(|c| {
                c["linux"]["seccomp"] =
                    json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]})
            }),
            "linux.seccomp.syscalls[0].names: empty",
        ),
        (
            "seccomp notify without a listener",
            Box::new(|c| c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_NOTIFY"})),
            "linux.seccomp.listenerPath",
        ),
        (
            "failing createContainer hook",
            Box::new(|c| c["hooks"] = json!({"createContainer": [{"path": "/bin/false"}]})),
            "createContainer hook /bin/false",
        ),
        (
            "failing startContainer hook",
            Box::new(|c| c["hooks"] = json!({"startContainer": [{"path": "/bin/false"}]})),
            "startContainer hook /bin/false: exited with status 1",
        ),
        ("missing executable", Box::new(|c| c["process"]["args"] = json!(["/no/such/binary"])), "/no/such/binary"),
    ];
    for (name, edit, needle) in cases {
        let saved = b.config.clone();
        edit(&mut b.config);
        eprintln!("case: {name}");
        assert_rejected(&b, &["run", "bad"], needle);
        b.config = saved;
    }

    // A mount destination escaping the rootfs through a symlink: needs a rootfs of its own.
    let rootfs = b.path().join("evil-rootfs");
    std::fs::create_dir(&rootfs).unwrap();
    std::os::unix::fs::symlink("../../../../../../tmp", rootfs.join("escape")).unwrap();
    let saved = b.config.clone();
    b.config["root"]["path"] = json!("evil-rootfs");
    b.config["mounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"destination": "/escape/x", "type": "tmpfs", "source": "tmpfs"}));
    assert_rejected(&b, &["run", "bad"], "outside the root filesystem");
    b.config = saved;

    // Missing bundle.
    assert_rejected(&b, &["run", "--bundle", "/nonexistent-bundle", "bad"], "/nonexistent-bundle");
    // Invalid ids.
    for id in ["../x", "a/b", ""] {
        assert_rejected(&b, &["run", id], "invalid container id");
    }
}

#[test]
fn id_in_use_and_start_of_running_container() {
    let mut b = Bundle::new("dup");
    b.args(&["/bin/sleep", "300"]);
    assert!(b.hull(&["create", &b.id.clone()]).status.success());
    let out = b.hull(&["create", &b.id.clone()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("container dup already exists"), "{}", stderr(&out));
    // The first container is untouched.
    assert_eq!(state_of(&b)["status"], "created");
    // Deleting a created container needs no --force.
    assert!(b.hull(&["delete", &b.id.clone()]).status.success());
    b.assert_nothing_left();
    let out = b.hull(&["start", "dup"]);
    assert!(stderr(&out).contains("container dup does not exist"));
    // A create killed half-way leaves a directory without a record: plain
    // delete says the container does not exist, --force clears it.
    std::fs::create_dir_all(b.state_root.join("dup")).unwrap();
    assert!(stderr(&b.hull(&["delete", "dup"])).contains("container dup does not exist"));
    assert!(b.hull(&["delete", "--force", "dup"]).status.success());
    assert!(!b.state_root.join("dup").exists());
    assert!(Path::new(HULL).exists());
}

/// cgroup v2 device control through the kernel: this host's cgroup2
/// hierarchy holds no controllers, but device eBPF programs need none, so
/// the program is attached to a cgroup2 directory the test creates.
#[test]
fn v2_device_program_is_enforced_by_the_kernel() {
    use hull_cgroups::{v2::V2Manager, CgroupPaths, Manager};
    let Some(unified) = cgroup_dirs("/").into_iter().find(|d| {
        std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines().any(|l| {
            l.contains(" - cgroup2 ") && l.split(' ').nth(4) == Some(d.to_str().unwrap().trim_end_matches('/'))
        })
    }) else {
        panic!("no cgroup2 mount on this host");
    };
    let dir = unified.join(format!("hull-test-{}-bpf", std::process::id()));
    let mut m = V2Manager::new_contained(CgroupPaths { unified: Some(dir.clone()), ..Default::default() });
    m.create().unwrap();
    let deny_all = hull_spec::DeviceCgroup { allow: false, access: Some("rwm".into()), ..Default::default() };
    let null = hull_spec::DeviceCgroup {
        allow: true,
        typ: Some("c".into()),
        major: Some(1),
        minor: Some(3),
        access: Some("rw".into()),
    };
    let set = m.set(&hull_spec::Resources { devices: Some(vec![deny_all, null]), ..Default::default() });
    let script = format!(
        "echo $$ > {}/cgroup.procs && (head -c1 /dev/zero >/dev/null 2>&1 && echo zero-ok || echo zero-denied); \
         (echo x > /dev/null) 2>/dev/null && echo null-ok || echo null-denied",
        dir.display()
    );
    let out = std::process::Command::new("/bin/sh").args(["-c", &script]).output().unwrap();
    m.destroy().unwrap();
    set.unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "zero-denied\nnull-ok\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.exists());
}

#[test]
fn hooks_get_env_args_and_time_out() {
    let mut b = Bundle::new("hooks-env");
    b.args(&["/bin/true"]);
    let out_file = b.path().join("hook.out");
    b.config["hooks"] = json!({"createRuntime": [{
        "path": "/bin/sh",
        "args": ["hook-argv0", "-c", format!("echo \"$0 $FOO $(cat)\" > {}", out_file.display())],
        "env": ["FOO=from-env"]}]});
    let out = b.run_hull();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert!(text.starts_with("hook-argv0 from-env {\"ociVersion\""), "{text}");
    assert!(text.contains("\"id\":\"hooks-env\""), "{text}");
    b.config["hooks"] = json!({"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]});
    let started = std::time::Instant::now();
    let out = b.run_hull();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("createRuntime hook /bin/sleep: timed out after 1s"), "{}", stderr(&out));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    b.assert_nothing_left();
}

#[test]
fn preserve_fds_passes_only_what_is_asked() {
    let mut b = Bundle::new("fds");
    b.args(&["/bin/sh", "-c", "echo through-fd3 >&3 && echo wrote || echo no-fd3"]);
    b.write();
    let file = b.path().join("fd3.out");
    let run = |preserve: &str| {
        let script =
            format!("exec 3>{}; exec {HULL} --root {} run {preserve} fds", file.display(), b.state_root.display());
        let mut cmd = std::process::Command::new("/bin/sh");
        cmd.args(["-c", &script]).current_dir(b.path());
        output_via_files(cmd)
    };
    let out = run("--preserve-fds 1");
    assert_eq!(stdout(&out), "wrote\n", "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "through-fd3\n");
    let out = run("");
    assert_eq!(stdout(&out), "no-fd3\n", "fd 3 leaked into the container: {}", stderr(&out));
    b.assert_nothing_left();
}

#[test]
fn log_file_json_list_and_flag_errors() {
    let mut b = Bundle::new("log-list");
    b.args(&["/bin/sleep", "300"]);
    assert!(b.hull(&["run", "-d", "log-list"]).status.success());
    let table = stdout(&b.hull(&["list"]));
    let mut lines = table.lines();
    assert!(lines.next().unwrap().starts_with("ID "));
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!((row[0], row[2]), ("log-list", "running"));
    assert_eq!(stdout(&b.hull(&["list", "-q"])), "log-list\n");
    // Flags after the id are accepted, as runc does.
    assert!(b.hull(&["delete", "log-list", "--force"]).status.success());
    let log = b.path().join("runtime.log");
    let out = b.hull(&["--log", log.to_str().unwrap(), "--log-format", "json", "start", "log-list"]);
    assert!(!out.status.success());
    let line = std::fs::read_to_string(&log).unwrap();
    let entry: Value = serde_json::from_str(line.lines().last().unwrap()).unwrap();
    assert_eq!(entry["level"], "error");
    assert_eq!(entry["msg"], "container log-list does not exist");
    assert!(entry["time"].as_str().unwrap().ends_with('Z'));
    let out = b.hull(&["--systemd-cgroup", "run", "log-list"]);
    assert!(stderr(&out).contains("systemd cgroup driver is not supported"), "{}", stderr(&out));
    let out = b.hull(&["kill", "log-list", "SIGBOGUS"]);
    assert!(stderr(&out).contains("unknown signal"), "{}", stderr(&out));
    b.assert_nothing_left();
}

#[test]
fn rootfs_propagation_and_readonly_root() {
    let mut b = Bundle::new("propagation");
    set_args(&mut b, probe_args(&[]));
    let v = probe_json(&b.run_hull());
    let root = |v: &Value| v["mounts"].as_array().unwrap().iter().find(|m| m["destination"] == "/").unwrap().clone();
    // Default: rslave, so host mounts propagate in but nothing leaks out.
    assert!(!root(&v)["propagation"].as_str().unwrap().contains("shared:"), "{}", root(&v));
    b.config["linux"]["rootfsPropagation"] = json!("shared");
    b.config["root"]["readonly"] = json!(false);
    let v = probe_json(&b.run_hull());
    assert!(root(&v)["propagation"].as_str().unwrap().contains("shared:"), "{}", root(&v));
    assert!(!root(&v)["options"].as_str().unwrap().split(',').any(|o| o == "ro"), "{}", root(&v));
}

#[test]
fn scheduler_io_priority_and_personality() {
    let mut b = Bundle::new("sched");
    b.args(&["/bin/sh", "-c", "cut -d' ' -f19,41 /proc/self/stat; ionice -p $$; uname -m"]);
    b.config["process"]["scheduler"] = json!({"policy": "SCHED_BATCH", "nice": 7});
    b.config["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_BE", "priority": 3});
    b.config["linux"]["personality"] = json!({"domain": "LINUX32"});
    let out = b.run_hull();
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "7 3", "nice 7, policy SCHED_BATCH(3): {text}");
    assert_eq!(lines[1], "best-effort: prio 3");
    assert_eq!(lines[2], "i686", "LINUX32 personality: {text}");
}

#[test]
fn legacy_cgroup_host_in_a_private_mount_namespace() {
    // With the cgroup2 mount hidden, the host looks like a pure cgroup v1 one.
    let mut b = Bundle::new("legacy");
    set_args(&mut b, probe_args(&["--cgroup-file", "pids/pids.max"]));
    b.config["linux"]["resources"]["pids"] = json!({"limit": 33});
    b.write();
    let script = format!("umount /sys/fs/cgroup/unified && exec {HULL} --root {} run legacy", b.state_root.display());
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["-m", "--propagation", "private", "/bin/sh", "-c", &script]).current_dir(b.path());
    let v = probe_json(&output_via_files(cmd));
    assert_eq!(v["cgroup_files"]["pids/pids.max"], "33");
    assert!(v["mounts"].as_array().unwrap().iter().all(|m| m["destination"] != "/sys/fs/cgroup/unified"));
    assert!(v["mounts"].as_array().unwrap().iter().any(|m| m["destination"] == "/sys/fs/cgroup/pids"));
    b.assert_nothing_left();
}

fn seccomp_profile(b: &mut Bundle, rules: Value) {
    b.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": rules,
    });
}

#[test]
fn seccomp_errno_args_and_unknown_names() {
    let mut b = Bundle::new("seccomp-errno");
    b.args(&["/bin/sh", "-c", "grep Seccomp: /proc/self/status; mkdir /tmp/x 2>&1; linux32 true 2>&1 || echo linux32-denied; linux64 true && echo linux64-ok"]);
    b.config["mounts"].as_array_mut().unwrap().push(json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}));
    seccomp_profile(
        &mut b,
        json!([
        {"names": ["mkdir", "mkdirat", "no_such_syscall_here"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18},
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
         "args": [{"index": 0, "value": 255, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}]}]),
    );
    let out = b.run_hull();
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.starts_with("Seccomp:\t2\n"), "{text}");
    assert!(text.contains("Invalid cross-device link"), "mkdir did not fail with errno 18: {text}");
    assert!(text.contains("linux32-denied\nlinux64-ok"), "{text}");
    assert!(stderr(&out).contains("no_such_syscall_here"), "no warning for the unknown name: {}", stderr(&out));
    b.assert_nothing_left();
    // exec'd processes get the container's filter too.
    b.args(&["/bin/sleep", "300"]);
    assert!(b.hull(&["run", "-d", &b.id.clone()]).status.success());
    let out = b.hull(&["exec", &b.id.clone(), "/bin/sh", "-c", "grep Seccomp: /proc/self/status; mkdir /tmp/y 2>&1"]);
    assert!(stdout(&out).starts_with("Seccomp:\t2\n"), "{}", stdout(&out));
    assert!(stdout(&out).contains("Invalid cross-device link"), "{}", stdout(&out));
    assert!(b.hull(&["delete", "-f", &b.id.clone()]).status.success());
}

#[test]
fn seccomp_kill_kills() {
    let mut b = Bundle::new("seccomp-kill");
    b.args(&["/bin/uname"]);
    seccomp_profile(&mut b, json!([{"names": ["uname"], "action": "SCMP_ACT_KILL_PROCESS"}]));
    let out = b.run_hull();
    assert_eq!(out.status.code(), Some(128 + libc::SIGSYS), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    b.assert_nothing_left();
}

#[test]
fn seccomp_notify_hands_the_fd_to_the_listener() {
    use libseccomp::{ScmpNotifReq, ScmpNotifResp, ScmpNotifRespFlags};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let mut b = Bundle::new("seccomp-notify");
    b.args(&["/bin/sh", "-c", "mkdir /tmp/n 2>&1; echo done"]);
    b.config["mounts"].as_array_mut().unwrap().push(json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}));
    seccomp_profile(&mut b, json!([{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]));
    let sock = b.path().join("listener.sock");
    b.config["linux"]["seccomp"]["listenerPath"] = json!(sock);
    b.config["linux"]["seccomp"]["listenerMetadata"] = json!("hello-listener");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let agent = std::thread::spawn(move || {
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
                fd = Some(unsafe { OwnedFd::from_raw_fd(fds[0]) });
            }
        }
        let n = msg.bytes;
        let state: Value = serde_json::from_slice(&buf[..n]).unwrap();
        let fd = fd.expect("no fd with the listener message");
        // Answer the container's mkdir with EROFS.
        let req = ScmpNotifReq::receive(fd.as_raw_fd()).unwrap();
        ScmpNotifResp::new_error(req.id, -libc::EROFS, ScmpNotifRespFlags::empty()).respond(fd.as_raw_fd()).unwrap();
        state
    });
    let out = b.run_hull();
    let state = agent.join().unwrap();
    assert_eq!(state["fds"], json!(["seccompFd"]));
    assert_eq!(state["metadata"], "hello-listener");
    assert_eq!(state["state"]["id"], "seccomp-notify");
    assert!(state["pid"].as_i64().unwrap() > 0);
    assert!(stdout(&out).contains("Read-only file system\ndone"), "{} {}", stdout(&out), stderr(&out));
}

fn wait_status(b: &Bundle, want: &str) {
    for _ in 0..500 {
        let out = b.hull(&["state", &b.id.clone()]);
        if out.status.success() && serde_json::from_slice::<Value>(&out.stdout).unwrap()["status"] == want {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("container {} never became {want}", b.id);
}

#[test]
fn exec_joins_the_container() {
    let mut b = Bundle::new("exec");
    b.args(&["/bin/sleep", "300"]);
    b.config["mounts"].as_array_mut().unwrap().push(json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}));
    assert!(b.hull(&["run", "-d", &b.id.clone()]).status.success());
    let init_pid = state_of(&b)["pid"].as_i64().unwrap();
    let out = b.hull(&["exec", &b.id.clone(), "/probe"]);
    let v = probe_json(&out);
    for n in ["cgroup", "ipc", "mnt", "net", "pid", "uts"] {
        let init = std::fs::read_link(format!("/proc/{init_pid}/ns/{n}")).unwrap();
        assert_eq!(v["namespaces"][n].as_str().unwrap(), init.to_str().unwrap(), "{n} namespace");
    }
    let init_cgroups = std::fs::read_to_string(format!("/proc/{init_pid}/cgroup")).unwrap();
    let exec_cgroups: Vec<&str> = v["cgroup"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(exec_cgroups, init_cgroups.lines().collect::<Vec<_>>());
    assert_ne!(v["pid"], 1);
    assert_eq!(v["capabilities"]["CapEff"], "0000000020000420", "the container's capabilities");
    assert_eq!(v["no_new_privs"], "1");
    // Flags: user, cwd, env, an added capability; the exit status comes back.
    let out = b.hull(&[
        "exec",
        "--user",
        "1000:1001",
        "--cwd",
        "/tmp",
        "-e",
        "FOO=bar",
        "--cap",
        "CAP_NET_RAW",
        &b.id.clone(),
        "/bin/sh",
        "-c",
        "id -u; id -g; pwd; echo $FOO; grep CapBnd /proc/self/status; exit 9",
    ]);
    assert_eq!(out.status.code(), Some(9), "{}", stderr(&out));
    assert_eq!(stdout(&out), "1000\n1001\n/tmp\nbar\nCapBnd:\t0000000020002420\n");
    // --process with a whole process object.
    let file = b.path().join("process.json");
    std::fs::write(
        &file,
        json!({"args": ["/bin/sh", "-c", "echo $X"], "env": ["X=from-file"], "cwd": "/", "user": {"uid": 0, "gid": 0}})
            .to_string(),
    )
    .unwrap();
    let out = b.hull(&["exec", "--process", file.to_str().unwrap(), &b.id.clone()]);
    assert_eq!(stdout(&out), "from-file\n", "{}", stderr(&out));
    // Detached, with a pid file.
    let pid_file = b.path().join("exec.pid");
    let out = b.hull(&["exec", "-d", "--pid-file", pid_file.to_str().unwrap(), &b.id.clone(), "/bin/sleep", "300"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert!(b.hull(&["delete", "--force", &b.id.clone()]).status.success());
    b.assert_nothing_left();
}

#[test]
fn exec_leaks_no_descriptor_and_no_cwd_outside() {
    let mut b = Bundle::new("exec-fds");
    b.args(&["/bin/sleep", "300"]);
    assert!(b.hull(&["run", "-d", &b.id.clone()]).status.success());
    // A host directory open as fd 3 in the caller must not reach the container.
    let script = format!(
        "exec 3</etc; exec {HULL} --root {} exec exec-fds /bin/sh -c 'ls /proc/self/fd/3 >/dev/null 2>&1 && echo leaked || echo clean'",
        b.state_root.display()
    );
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.args(["-c", &script]);
    assert_eq!(stdout(&output_via_files(cmd)), "clean\n");
    // Whatever descriptors the runtime holds while setting the process up,
    // a cwd through /proc/self/fd/N never lands outside the container
    // (the CVE-2024-21626 class).
    for n in 3..20 {
        let cwd = format!("/proc/self/fd/{n}");
        let out = b.hull(&["exec", "--cwd", &cwd, &b.id.clone(), "/bin/pwd"]);
        let pwd = stdout(&out);
        assert!(!pwd.contains("unreachable"), "fd {n}: cwd escaped: {pwd}");
        if out.status.success() {
            assert!(pwd.starts_with('/'), "fd {n}: {pwd}");
        }
    }
    assert!(b.hull(&["delete", "--force", &b.id.clone()]).status.success());
}

#[test]
fn runtime_binary_is_not_reachable_from_the_container() {
    use std::os::unix::fs::MetadataExt;
    // While the init is still the runtime (created, not started) it is not
    // dumpable: its /proc entries belong to root, not to the container's
    // user, so nothing in the container can open /proc/<init>/exe, the
    // runtime binary (the CVE-2019-5736 class).
    let mut b = Bundle::new("exe-guard");
    b.args(&["/bin/true"]);
    b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    assert!(b.hull(&["create", &b.id.clone()]).status.success());
    let pid = state_of(&b)["pid"].as_i64().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.lines().any(|l| l.starts_with("Uid:\t1000")), "init did not switch user: {status}");
    // (/proc/PID itself always shows the euid; its private files show dumpability.)
    assert_eq!(std::fs::metadata(format!("/proc/{pid}/environ")).unwrap().uid(), 0, "the waiting init is dumpable");
    let out = b.hull(&[
        "exec",
        "--user",
        "1000:1000",
        &b.id.clone(),
        "/bin/sh",
        "-c",
        "cat /proc/1/exe >/dev/null 2>&1 && echo readable || echo denied",
    ]);
    assert_eq!(stdout(&out), "denied\n", "{}", stderr(&out));
    assert!(b.hull(&["delete", &b.id.clone()]).status.success());
    b.assert_nothing_left();
}

#[test]
fn exec_into_stopped_or_unknown_container_fails() {
    let mut b = Bundle::new("exec-stopped");
    b.args(&["/bin/true"]);
    assert!(b.hull(&["run", "--detach", &b.id.clone()]).status.success());
    wait_status(&b, "stopped");
    let out = b.hull(&["exec", &b.id.clone(), "/bin/true"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is stopped: exec needs running"), "{}", stderr(&out));
    let out = b.hull(&["exec", "no-such-container", "/bin/true"]);
    assert!(stderr(&out).contains("container no-such-container does not exist"), "{}", stderr(&out));
    assert!(b.hull(&["delete", &b.id.clone()]).status.success());
    b.assert_nothing_left();
}

fn host_cgroup_file(b: &Bundle, controller: &str, file: &str) -> String {
    let dir = cgroup_dirs(&format!("{}/{}", cgroup_parent(&b.id), b.id))
        .into_iter()
        .find(|d| d.parent().and_then(|p| p.parent()).is_some_and(|m| m.ends_with(controller)))
        .unwrap_or_else(|| panic!("no {controller} hierarchy"));
    std::fs::read_to_string(dir.join(file)).unwrap().trim().to_string()
}

#[test]
fn pause_resume_ps_and_delete_paused() {
    let mut b = Bundle::new("pause");
    b.args(&["/bin/sh", "-c", "sleep 300 & exec sleep 301"]);
    assert!(b.hull(&["run", "-d", &b.id.clone()]).status.success());
    let init = state_of(&b)["pid"].as_i64().unwrap() as i32;
    let pids: Vec<i32> = serde_json::from_slice(&b.hull(&["ps", "--format", "json", &b.id.clone()]).stdout).unwrap();
    assert_eq!(pids.len(), 2, "{pids:?}");
    assert!(pids.contains(&init));
    let table = stdout(&b.hull(&["ps", &b.id.clone()]));
    assert!(table.lines().next().unwrap().contains("PID"));
    assert!(table.contains("sleep 301"), "{table}");
    let table = stdout(&b.hull(&["ps", &b.id.clone(), "-o", "pid,comm"]));
    assert_eq!(table.lines().count(), 3, "{table}");
    let out = b.hull(&["pause", &b.id.clone()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(state_of(&b)["status"], "paused");
    assert_eq!(host_cgroup_file(&b, "freezer", "freezer.state"), "FROZEN");
    assert!(stderr(&b.hull(&["pause", &b.id.clone()])).contains("is paused: pause needs running"));
    assert!(b.hull(&["resume", &b.id.clone()]).status.success());
    assert_eq!(state_of(&b)["status"], "running");
    assert!(stderr(&b.hull(&["resume", &b.id.clone()])).contains("is running: resume needs paused"));
    assert!(b.hull(&["pause", &b.id.clone()]).status.success());
    let out = b.hull(&["delete", "--force", &b.id.clone()]);
    assert!(out.status.success(), "{}", stderr(&out));
    b.assert_nothing_left();
}

#[test]
fn update_changes_limits_live() {
    let mut b = Bundle::new("update");
    b.args(&["/bin/sleep", "300"]);
    assert!(b.hull(&["run", "-d", &b.id.clone()]).status.success());
    let out = b.hull(&[
        "update",
        "--memory",
        "50m",
        "--memory-reservation",
        "20m",
        "--pids-limit",
        "20",
        "--cpu-share",
        "256",
        "--cpu-quota",
        "20000",
        "--cpu-period",
        "100000",
        &b.id.clone(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(host_cgroup_file(&b, "memory", "memory.limit_in_bytes"), (50u64 << 20).to_string());
    assert_eq!(host_cgroup_file(&b, "memory", "memory.soft_limit_in_bytes"), (20u64 << 20).to_string());
    assert_eq!(host_cgroup_file(&b, "pids", "pids.max"), "20");
    assert_eq!(host_cgroup_file(&b, "cpu", "cpu.shares"), "256");
    assert_eq!(host_cgroup_file(&b, "cpu", "cpu.cfs_quota_us"), "20000");
    let file = b.path().join("resources.json");
    std::fs::write(&file, r#"{"pids": {"limit": 33}}"#).unwrap();
    assert!(b.hull(&["update", "-r", file.to_str().unwrap(), &b.id.clone()]).status.success());
    assert_eq!(host_cgroup_file(&b, "pids", "pids.max"), "33");
    let out = b.hull(&["update", "--memory", "-5", &b.id.clone()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--memory"), "{}", stderr(&out));
    let out = b.hull(&["update", "--cpu-quota", "5", &b.id.clone()]);
    assert!(stderr(&out).contains("linux.resources.cpu.quota"), "{}", stderr(&out));
    assert!(b.hull(&["delete", "--force", &b.id.clone()]).status.success());
}

#[test]
fn events_stats_and_oom() {
    let mut b = Bundle::new("events");
    b.args(&["/bin/sleep", "300"]);
    assert!(b.hull(&["run", "-d", &b.id.clone()]).status.success());
    let out = b.hull(&["events", "--stats", &b.id.clone()]);
    let ev: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", stderr(&out)));
    assert_eq!(ev["type"], "stats");
    assert_eq!(ev["id"], b.id);
    assert_eq!(ev["data"]["pids"]["current"], 1);
    assert!(ev["data"]["memory"]["usage"]["usage"].as_u64().unwrap() > 0);
    assert!(ev["data"]["cpu"]["usage"]["total"].as_u64().unwrap() > 0);
    assert!(b.hull(&["delete", "--force", &b.id.clone()]).status.success());

    // A container that runs out of memory produces an oom event.
    let mut b = Bundle::new("events-oom");
    b.args(&["/bin/sh", "-c", "sleep 1; tail /dev/zero"]);
    b.config["linux"]["resources"]["memory"] = json!({"limit": 32 << 20, "swap": 32 << 20});
    assert!(b.hull(&["run", "-d", &b.id.clone()]).status.success());
    let out = b.hull(&["events", "--interval", "200ms", &b.id.clone()]);
    let text = stdout(&out);
    assert!(text.lines().any(|l| l == r#"{"id":"events-oom","type":"oom"}"#), "{text} {}", stderr(&out));
    assert!(text.lines().any(|l| l.contains(r#""type":"stats""#)), "{text}");
    assert!(b.hull(&["delete", &b.id.clone()]).status.success());
    b.assert_nothing_left();
}

#[test]
fn features_document() {
    let out = std::process::Command::new(HULL).arg("features").output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ociVersionMax"], "1.1.0");
    assert_eq!(v["linux"]["seccomp"]["enabled"], true);
    assert!(v["linux"]["namespaces"].as_array().unwrap().contains(&json!("time")));
    assert!(v["linux"]["capabilities"].as_array().unwrap().contains(&json!("CAP_SYS_ADMIN")));
    assert_eq!(v["linux"]["mountExtensions"]["idmap"]["enabled"], true);
}

/// Accepts one connection on a console socket and returns the pty master
/// and the name runc-compatible runtimes send with it.
fn receive_console(listener: std::os::unix::net::UnixListener) -> (std::fs::File, String) {
    use std::os::fd::{AsRawFd, FromRawFd};
    let (conn, _) = listener.accept().unwrap();
    let mut buf = vec![0u8; 4096];
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
    (fd.expect("no terminal fd"), String::from_utf8_lossy(&buf[..n]).into_owned())
}

fn read_until(master: &mut std::fs::File, needle: &str) -> String {
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

#[test]
fn terminal_through_console_socket_create_and_exec() {
    use std::io::Write;
    let mut b = Bundle::new("console");
    b.args(&["/bin/sh", "-c", "read x; echo got-$x; tty; stty size; sleep 300"]);
    b.config["process"]["terminal"] = json!(true);
    b.config["process"]["consoleSize"] = json!({"height": 33, "width": 77});
    let sock = b.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let receiver = std::thread::spawn(move || receive_console(listener));
    let out = b.hull(&["create", "--console-socket", sock.to_str().unwrap(), &b.id.clone()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (mut master, name) = receiver.join().unwrap();
    assert_eq!(name, "/dev/ptmx");
    assert!(b.hull(&["start", &b.id.clone()]).status.success());
    master.write_all(b"hello\n").unwrap();
    let seen = read_until(&mut master, "33 77");
    assert!(seen.contains("got-hello"), "{seen:?}");
    assert!(seen.contains("/dev/pts/0"), "{seen:?}");
    assert!(seen.contains("33 77"), "{seen:?}");
    // exec --tty with its own console socket.
    let sock2 = b.path().join("exec.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock2).unwrap();
    let receiver = std::thread::spawn(move || receive_console(listener));
    let out = b.hull(&[
        "exec",
        "--tty",
        "--detach",
        "--console-socket",
        sock2.to_str().unwrap(),
        &b.id.clone(),
        "/bin/sh",
        "-c",
        "tty; sleep 1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (mut master2, _) = receiver.join().unwrap();
    let seen = read_until(&mut master2, "/dev/pts/");
    assert!(seen.contains("/dev/pts/1"), "{seen:?}");
    assert!(b.hull(&["delete", "--force", &b.id.clone()]).status.success());
    b.assert_nothing_left();
}

#[test]
fn terminal_bad_input() {
    let mut b = Bundle::new("console-bad");
    b.args(&["/bin/sh"]);
    b.config["process"]["terminal"] = json!(true);
    assert_rejected(
        &b,
        &["create", "console-bad"],
        "process.terminal: a detached container with a terminal needs --console-socket",
    );
    assert_rejected(&b, &["run", "-d", "console-bad"], "needs --console-socket");
    let missing = b.path().join("no-such.sock");
    assert_rejected(&b, &["create", "--console-socket", missing.to_str().unwrap(), "console-bad"], "no-such.sock");
}

#[test]
fn interactive_run_in_tmux() {
    let mut b = Bundle::new("tmux");
    b.args(&["/bin/sh"]);
    b.config["process"]["terminal"] = json!(true);
    b.write();
    let session = format!("hull-test-{}", std::process::id());
    let done = b.path().join("done");
    let cmd = format!(
        "cd {} && {HULL} --root {} run tmux; echo $? > {}",
        b.path().display(),
        b.state_root.display(),
        done.display()
    );
    let tmux = |args: &[&str]| std::process::Command::new("tmux").args(args).output().unwrap();
    assert!(tmux(&["new-session", "-d", "-s", &session, "-x", "100", "-y", "30", &cmd]).status.success());
    let capture = || String::from_utf8_lossy(&tmux(&["capture-pane", "-t", &session, "-p"]).stdout).into_owned();
    let wait_for = |needle: &str| {
        for _ in 0..300 {
            if capture().contains(needle) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("{needle:?} never appeared: {}", capture());
    };
    wait_for("/ #");
    tmux(&["send-keys", "-t", &session, "stty size; echo sum-$((40+2))", "Enter"]);
    wait_for("sum-42");
    assert!(capture().contains("30 100"), "{}", capture());
    tmux(&["resize-window", "-t", &session, "-x", "120", "-y", "40"]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    tmux(&["send-keys", "-t", &session, "stty size", "Enter"]);
    wait_for("40 120");
    tmux(&["send-keys", "-t", &session, "exit 3", "Enter"]);
    for _ in 0..300 {
        if done.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    tmux(&["kill-session", "-t", &session]);
    assert_eq!(std::fs::read_to_string(&done).unwrap().trim(), "3");
    b.assert_nothing_left();
}

#[test]
fn socket_activation_fds_pass_through() {
    let mut b = Bundle::new("listen-fds");
    b.args(&["/bin/sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; echo via-listen >&3"]);
    b.write();
    let file = b.path().join("listen.out");
    let script =
        format!("exec 3>{}; LISTEN_FDS=1 exec {HULL} --root {} run listen-fds", file.display(), b.state_root.display());
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.args(["-c", &script]).current_dir(b.path());
    let out = output_via_files(cmd);
    assert_eq!(stdout(&out), "1 1\n", "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "via-listen\n");
}

#[test]
fn lsm_labels_without_the_lsm_are_errors() {
    let mut b = Bundle::new("lsm");
    b.args(&["/bin/true"]);
    let cases = [
        ("process", "apparmorProfile", "process.apparmorProfile: AppArmor is not enabled on this host"),
        ("process", "selinuxLabel", "process.selinuxLabel: SELinux is not enabled on this host"),
        ("linux", "mountLabel", "linux.mountLabel: SELinux is not enabled on this host"),
    ];
    for (section, key, message) in cases {
        let saved = b.config.clone();
        b.config[section][key] = json!("some-label");
        assert_rejected(&b, &["run", "lsm"], message);
        b.config = saved;
    }
    assert!(b.hull(&["run", "lsm"]).status.success());
    b.config["process"]["args"] = json!(["/bin/sleep", "300"]);
    assert!(b.hull(&["run", "-d", "lsm"]).status.success());
    let out = b.hull(&["exec", "--apparmor", "x", "lsm", "/bin/true"]);
    assert!(stderr(&out).contains("AppArmor is not enabled"), "{}", stderr(&out));
    assert!(b.hull(&["delete", "-f", "lsm"]).status.success());
}

/// The unprivileged user the rootless tests run as (created if missing,
/// with the /etc/subuid range useradd gives it).
fn test_user() -> (String, u32, u32) {
    let name = "hulltest".to_string();
    if nix::unistd::User::from_name(&name).unwrap().is_none() {
        let st = std::process::Command::new("useradd").args(["-m", "-s", "/bin/sh", &name]).status().unwrap();
        assert!(st.success(), "useradd failed");
    }
    let u = nix::unistd::User::from_name(&name).unwrap().unwrap();
    (name, u.uid.as_raw(), u.gid.as_raw())
}

fn as_user(user: &str, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new("runuser");
    cmd.args(["-u", user, "--", "env"])
        .arg(format!("XDG_RUNTIME_DIR={}", dir.join("xdg").display()))
        .arg(HULL)
        .args(args)
        .current_dir(dir);
    output_via_files(cmd)
}

#[test]
fn rootless_container_as_an_unprivileged_user() {
    use std::os::unix::fs::PermissionsExt;
    let (user, uid, gid) = test_user();
    let b = Bundle::new("rootless");
    let dir = b.path().to_path_buf();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::remove_file(dir.join("config.json")).unwrap();
    nix::unistd::chown(&dir, Some(uid.into()), Some(gid.into())).unwrap();
    std::fs::create_dir(dir.join("xdg")).unwrap();
    nix::unistd::chown(&dir.join("xdg"), Some(uid.into()), Some(gid.into())).unwrap();
    let out = as_user(&user, &dir, &["spec", "--rootless"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut config: Value = serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["linux"]["uidMappings"][0]["hostID"], uid);
    config["root"]["path"] = json!(rootfs());
    config["process"]["terminal"] = json!(false);
    config["process"]["args"] = json!(["/probe"]);
    let write = |config: &Value| {
        std::fs::write(dir.join("config.json"), serde_json::to_vec(config).unwrap()).unwrap();
        nix::unistd::chown(&dir.join("config.json"), Some(uid.into()), Some(gid.into())).unwrap();
    };
    write(&config);
    let v = probe_json(&as_user(&user, &dir, &["run", "rl1"]));
    assert_eq!(v["uid"], 0);
    let map: Vec<&str> = v["uid_map"].as_str().unwrap().split_whitespace().collect();
    assert_eq!(map, ["0", &uid.to_string(), "1"]);
    assert_ne!(
        v["namespaces"]["user"].as_str().unwrap(),
        std::fs::read_link("/proc/self/ns/user").unwrap().to_str().unwrap()
    );
    // State lived under $XDG_RUNTIME_DIR and is gone; no cgroup was made.
    assert!(dir.join("xdg/hull").exists());
    assert!(!dir.join("xdg/hull/rl1").exists());
    for d in cgroup_dirs("/rl1") {
        assert!(!d.exists(), "{}", d.display());
    }
    // exec into a rootless container (the runtime cannot enter its pid
    // namespace directly), kill --all without a cgroup, pause refused clearly.
    config["process"]["args"] = json!(["/bin/sleep", "300"]);
    write(&config);
    assert!(as_user(&user, &dir, &["run", "-d", "rl-exec"]).status.success());
    let out = as_user(&user, &dir, &["exec", "rl-exec", "/bin/sh", "-c", "id -u; echo $$; exit 6"]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(String::from).collect();
    assert_eq!(lines[0], "0");
    assert_ne!(lines[1], "1", "exec'd process must be inside the container's pid namespace, not its init");
    assert!(lines[1].parse::<u32>().unwrap() < 100, "pid {} is not from the container's pid namespace", lines[1]);
    let out = as_user(&user, &dir, &["pause", "rl-exec"]);
    assert!(stderr(&out).contains("no cgroup of its own"), "{}", stderr(&out));
    assert!(as_user(&user, &dir, &["kill", "--all", "rl-exec", "KILL"]).status.success());
    assert!(as_user(&user, &dir, &["delete", "--force", "rl-exec"]).status.success());
    assert!(!dir.join("xdg/hull/rl-exec").exists());
    config["process"]["args"] = json!(["/probe"]);
    // More than its own id: through newuidmap/newgidmap and /etc/subuid.
    let subuid = std::fs::read_to_string("/etc/subuid").unwrap();
    let start: u32 = subuid
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{user}:")))
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let maps = json!([{"containerID": 0, "hostID": uid, "size": 1}, {"containerID": 1, "hostID": start, "size": 1000}]);
    config["linux"]["uidMappings"] = maps.clone();
    config["linux"]["gidMappings"] =
        json!([{"containerID": 0, "hostID": gid, "size": 1}, {"containerID": 1, "hostID": start, "size": 1000}]);
    config["process"]["user"] = json!({"uid": 500, "gid": 500});
    write(&config);
    let v = probe_json(&as_user(&user, &dir, &["run", "rl2"]));
    assert_eq!(v["uid"], 500);
    assert!(v["uid_map"].as_str().unwrap().contains(&start.to_string()), "{}", v["uid_map"]);
    // Limits without a delegated cgroup: a clear error, nothing left.
    config["linux"]["resources"] = json!({"memory": {"limit": 1 << 26}});
    write(&config);
    let out = as_user(&user, &dir, &["run", "rl3"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("linux.resources: limits need a cgroup this user may write"), "{}", stderr(&out));
    assert!(!dir.join("xdg/hull/rl3").exists());
    // Overlapping mappings are refused before anything happens.
    config["linux"]["resources"] = json!(null);
    config["linux"]["uidMappings"] =
        json!([{"containerID": 0, "hostID": uid, "size": 1}, {"containerID": 0, "hostID": start, "size": 10}]);
    write(&config);
    let out = as_user(&user, &dir, &["run", "rl4"]);
    assert!(stderr(&out).contains("linux.uidMappings: ranges 0 and 1 overlap"), "{}", stderr(&out));
}

#[test]
fn idmapped_bind_mount() {
    use std::os::unix::fs::MetadataExt;
    let mut b = Bundle::new("idmap");
    let src = b.path().join("data");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("rootfile"), "x").unwrap();
    std::fs::write(src.join("f2000"), "y").unwrap();
    nix::unistd::chown(&src.join("f2000"), Some(2000.into()), Some(2000.into())).unwrap();
    std::fs::set_permissions(&src, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    // The mount's mapping is written as given, as runc does: ids on disk
    // are the namespace side, the caller sees the host side.
    let maps =
        json!([{"containerID": 0, "hostID": 1000, "size": 10}, {"containerID": 2000, "hostID": 5000, "size": 10}]);
    b.config["mounts"].as_array_mut().unwrap().push(json!({
        "destination": "/idm", "type": "bind", "source": src, "options": ["rbind"],
        "uidMappings": maps, "gidMappings": maps}));
    b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    b.args(&["/bin/sh", "-c", "stat -c '%n %u %g' /idm/rootfile /idm/f2000; touch /idm/new && echo created"]);
    let out = b.run_hull();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "/idm/rootfile 1000 1000\n/idm/f2000 5000 5000\ncreated\n");
    let meta = std::fs::metadata(src.join("new")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (0, 0), "written through the mapping");
    // Bad input: a mapping on a non-bind mount, one-sided mappings, overlaps.
    let cases = [
        (
            json!({"destination": "/t", "type": "tmpfs", "source": "tmpfs", "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}],
                "gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}),
            "only bind mounts can be idmapped",
        ),
        (
            json!({"destination": "/t", "type": "bind", "source": src, "options": ["bind"], "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}),
            "needs both uidMappings and gidMappings",
        ),
        (
            json!({"destination": "/t", "type": "bind", "source": src, "options": ["bind"],
                "uidMappings": [{"containerID": 0, "hostID": 1, "size": 5}, {"containerID": 3, "hostID": 100, "size": 1}],
                "gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}),
            "overlap",
        ),
    ];
    for (mount, needle) in cases {
        let saved = b.config.clone();
        b.config["mounts"].as_array_mut().unwrap().push(mount);
        assert_rejected(&b, &["run", "idmap"], needle);
        b.config = saved;
    }
}

#[test]
fn container_process_starts_with_default_signal_dispositions() {
    // The test harness (Rust) ignores SIGPIPE, and ignored dispositions
    // survive execve. Intended difference from runc, which passes on what
    // its caller ignores: Hull's container and exec processes start clean.
    let mut b = Bundle::new("signals");
    b.args(&["/bin/cat", "/proc/self/status"]);
    let out = b.run_hull();
    let status = stdout(&out);
    assert!(status.contains("SigIgn:\t0000000000000000"), "{status}");
    assert!(status.contains("SigBlk:\t0000000000000000"), "{status}");
    let runc = stdout(&b.run_runc());
    assert!(!runc.contains("SigIgn:\t0000000000000000"), "runc passes on the caller's ignored SIGPIPE: {runc}");
    b.args(&["/bin/sleep", "300"]);
    assert!(b.hull(&["run", "-d", "signals"]).status.success());
    let status = stdout(&b.hull(&["exec", "signals", "/bin/cat", "/proc/self/status"]));
    assert!(status.contains("SigIgn:\t0000000000000000"), "{status}");
    assert!(b.hull(&["delete", "-f", "signals"]).status.success());
}
