//! What a container process sees, from inside, as root: the probe under hull-runtime and runc, and each feature of the config.

mod common;

use common::*;
use serde_json::{json, Value};

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
fn device_cgroup_is_exactly_resources_devices() {
    // A node in linux.devices is created, but usable only if
    // resources.devices allows it (runc). Opening /dev/kmsg for writing
    // (nothing is written) is what the device cgroup checks.
    let mut b = Bundle::new("devcgroup-exact");
    b.args(&["/bin/sh", "-c", "test -c /dev/kmsg && echo node; (: > /dev/kmsg) 2>&1 && echo open-ok"]);
    b.config["linux"]["devices"] =
        json!([{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 0o600}]);
    // "rwa": runc's tests write it; the letters the kernel does not know are dropped.
    b.config["linux"]["resources"] = json!({"devices": [{"allow": false, "access": "rwm"},
        {"allow": false, "type": "c", "major": 1, "minor": 11, "access": "rwa"}]});
    for who in ["hull", "runc"] {
        let out = if who == "hull" { b.run_hull() } else { b.run_runc() };
        let text = stdout(&out);
        assert!(
            text.starts_with("node\n") && text.contains("Operation not permitted"),
            "{who}: {text}{}",
            stderr(&out)
        );
        assert!(!text.contains("open-ok"), "{who}: {text}");
    }
    b.config["linux"]["resources"]["devices"]
        .as_array_mut()
        .unwrap()
        .push(json!({"allow": true, "type": "c", "major": 1, "minor": 11, "access": "rw"}));
    let out = b.run_hull();
    assert_eq!(stdout(&out), "node\nopen-ok\n", "{}", stderr(&out));
    b.assert_nothing_left();
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
    // The old root stays below the chroot; a process that makes its own
    // user, mount and pid namespaces must still not be able to mount a
    // fresh procfs (a full one must not be visible in its mount
    // namespace), as under runc. The container's own /proc stays. (As uid
    // 1000: mapping uid 0 into a new user namespace needs CAP_SETFCAP.)
    b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    let script = "unshare -mrpf sh -c 'mount -t proc none /proc && echo mounted'; cat /proc/self/stat >/dev/null && echo own-proc";
    b.args(&["/bin/sh", "-c", script]);
    let out = b.hull(&["run", "--no-pivot", &b.id.clone()]);
    assert_eq!(stdout(&out), "own-proc\n", "{}", stderr(&out));
    assert!(stderr(&out).contains("mount: permission denied"), "{}", stderr(&out));
    let saved = b.config["linux"]["cgroupsPath"].clone();
    b.config["linux"]["cgroupsPath"] = json!(format!("{}/runc-{}", cgroup_parent(&b.id), b.id));
    b.write();
    let mut cmd = std::process::Command::new("runc");
    cmd.arg("--root").arg(b.path().join("runc-state")).args(["run", "--no-pivot", "runc-np"]).current_dir(b.path());
    let runc = output_via_files(cmd);
    b.config["linux"]["cgroupsPath"] = saved;
    assert_eq!(stdout(&runc), "own-proc\n", "runc: {}", stderr(&runc));
    // And without --no-pivot, the same (pivot_root detaches the old root).
    let out = b.hull(&["run", &b.id.clone()]);
    assert_eq!(stdout(&out), "own-proc\n", "{}", stderr(&out));
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

fn without_namespace(b: &mut Bundle, typ: &str) {
    b.config["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != typ);
}

#[test]
fn no_mount_namespace_shares_the_callers() {
    // The spec: without a mount namespace the container inherits the
    // runtime's. As runc, its mounts are made there and it is chrooted into
    // its root; unlike runc (which leaves them on the host), delete removes
    // them. A private copy of the rootfs: its mounts are visible to all.
    let mut b = Bundle::new("no-mntns");
    let own_root = b.path().join("rootfs");
    let st = std::process::Command::new("cp").arg("-a").arg(rootfs()).arg(&own_root).status().unwrap();
    assert!(st.success());
    b.config["root"]["path"] = json!(own_root);
    without_namespace(&mut b, "mount");
    b.args(&["/bin/sh", "-c", "readlink /proc/self/ns/mnt; test -e /probe && echo own-root"]);
    // Masked and read-only paths, a read-only root and --no-pivot need a
    // mount namespace: refused, nothing left.
    assert_rejected(&b, &["run", &b.id.clone()], "masked and read-only paths need a mount namespace");
    b.config["linux"]["maskedPaths"] = json!([]);
    b.config["linux"]["readonlyPaths"] = json!([]);
    assert_rejected(&b, &["run", &b.id.clone()], "read-only root needs a mount namespace");
    b.config["root"]["readonly"] = json!(false);
    assert_rejected(&b, &["run", "--no-pivot", &b.id.clone()], "--no-pivot needs a mount namespace");
    let host = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    let want = format!("{}\nown-root\n", host.display());
    let out = b.run_hull();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), want);
    b.assert_nothing_left();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(own_root.to_str().unwrap()), "mounts left under the rootfs:\n{mounts}");
    let out = b.run_runc();
    let _ = std::process::Command::new("umount").arg("-R").arg("-l").arg(&own_root).status();
    assert_eq!(stdout(&out), want, "runc: {}", stderr(&out));
}

#[test]
fn an_empty_namespace_path_means_a_new_namespace() {
    let mut b = Bundle::new("empty-ns-path");
    for ns in b.config["linux"]["namespaces"].as_array_mut().unwrap() {
        ns["path"] = json!("");
    }
    b.config["hostname"] = json!("emptypath");
    b.args(&["/bin/sh", "-c", "hostname; readlink /proc/self/ns/net; readlink /proc/self/ns/mnt"]);
    let out = b.run_hull();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("emptypath\n"), "{text}");
    for ns in ["net", "mnt"] {
        let host = std::fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
        assert!(!text.contains(host.to_str().unwrap()), "the host's {ns} namespace: {text}");
    }
    b.assert_nothing_left();
}

#[test]
fn rootfs_propagation_unbindable() {
    let mut b = Bundle::new("unbindable");
    b.config["linux"]["rootfsPropagation"] = json!("unbindable");
    b.args(&["/bin/sh", "-c", "grep -E '^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / ' /proc/self/mountinfo"]);
    // Debian's runc 1.1 fails here ("mount rootfs:rootfs, flags: 0x5000:
    // invalid argument": it binds the rootfs after making / unbindable);
    // runc 1.3 applies it after, as we do.
    let out = b.run_hull();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(" unbindable"), "/ is not unbindable: {}", stdout(&out));
    b.assert_nothing_left();
}

#[test]
fn a_new_network_namespace_has_loopback_up() {
    // runc brings lo up in a network namespace it creates.
    let mut b = Bundle::new("loopback");
    b.args(&[
        "/bin/sh",
        "-c",
        "ip -o addr show dev lo | grep -o 'inet [0-9./]*'; ip -o link show lo | grep -o '<[^>]*>'",
    ]);
    for who in ["hull", "runc"] {
        let out = if who == "hull" { b.run_hull() } else { b.run_runc() };
        assert_eq!(stdout(&out), "inet 127.0.0.1/8\n<LOOPBACK,UP,LOWER_UP>\n", "{who}: {}", stderr(&out));
    }
    b.assert_nothing_left();
}

#[test]
fn a_tmpfs_without_mode_takes_the_covered_directorys() {
    // The rootfs's /tmp is 1777: a tmpfs over it without mode= keeps that
    // (runc); one with mode= has its own.
    let mut b = Bundle::new("tmpfs-mode");
    b.config["mounts"].as_array_mut().unwrap().extend([
        json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}),
        json!({"destination": "/var/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["mode=700"]}),
    ]);
    b.args(&["/bin/sh", "-c", "stat -c %a /tmp /var/tmp"]);
    let covered = std::fs::metadata(rootfs().join("tmp")).unwrap();
    let want = format!("{:o}\n700\n", std::os::unix::fs::PermissionsExt::mode(&covered.permissions()) & 0o7777);
    let out = b.run_hull();
    assert_eq!(stdout(&out), want, "{}", stderr(&out));
    b.assert_nothing_left();
    // Debian's runc 1.1.5 chmods the tmpfs to the covered mode even when
    // mode= is given (700 comes out 1777); the first line is the same.
    let out = b.run_runc();
    assert!(stdout(&out).starts_with(want.lines().next().unwrap()), "runc: {}", stdout(&out));
}

#[test]
fn read_only_dev_destinations_under_the_rootfs_path_and_masked_directories() {
    let mut b = Bundle::new("ro-dev");
    // A read-only /dev tmpfs still gets its devices and sub-mounts (made
    // before it turns read-only, as runc does).
    for m in b.config["mounts"].as_array_mut().unwrap() {
        if m["destination"] == "/dev" {
            m["options"].as_array_mut().unwrap().push(json!("ro"));
        }
    }
    // A destination given with the rootfs path in front means that place
    // in the rootfs (runc), not the rootfs path again below it.
    let under = rootfs().join("var/tmp");
    b.config["mounts"].as_array_mut().unwrap().push(json!({"destination": under, "type": "tmpfs", "source": "tmpfs"}));
    // Masked directories: each a read-only tmpfs.
    b.config["linux"]["maskedPaths"] = json!(["/home", "/root"]);
    let script = "touch /dev/new 2>/dev/null && echo dev-writable; echo x > /dev/null && echo null-ok; \
                  awk '$5 == \"/dev\" || $5 == \"/dev/pts\" || $5 == \"/dev/shm\" {print $5, substr($6, 1, 2)}' /proc/self/mountinfo; \
                  stat -f -c %T /var/tmp; \
                  for d in /home /root; do touch $d/x 2>/dev/null && echo $d-writable; stat -f -c \"$d %T\" $d; done";
    b.args(&["/bin/sh", "-c", script]);
    let out = b.run_hull();
    assert_eq!(
        stdout(&out),
        "null-ok\n/dev ro\n/dev/pts rw\n/dev/shm rw\ntmpfs\n/home tmpfs\n/root tmpfs\n",
        "{}",
        stderr(&out)
    );
    let twice = rootfs().join(rootfs().strip_prefix("/").unwrap());
    assert!(!std::path::Path::new(&twice).exists(), "{} was created", twice.display());
    b.assert_nothing_left();
    let runc = b.run_runc();
    assert_eq!(stdout(&runc), stdout(&out), "runc: {}", stderr(&runc));
}

/// Runs hull-runtime pinned to CPU 0 (taskset), as a caller with a narrow affinity.
fn run_pinned(b: &Bundle) -> std::process::Output {
    b.write();
    let mut cmd = std::process::Command::new("taskset");
    cmd.args(["-c", "0", HULL]).arg("--root").arg(&b.state_root).args(["run", &b.id]).current_dir(b.path());
    output_via_files(cmd)
}

#[test]
fn cpu_affinity_is_reset_and_exec_cpu_affinity_applies() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut b = Bundle::new("affinity");
    b.args(&["/bin/sh", "-c", "grep Cpus_allowed_list /proc/self/status"]);
    // The caller's affinity (CPU 0 only) is not inherited: every CPU the
    // cgroup allows (runc resets it too).
    let out = run_pinned(&b);
    let all = if cpus > 1 { format!("0-{}", cpus - 1) } else { "0".into() };
    assert_eq!(stdout(&out), format!("Cpus_allowed_list:\t{all}\n"), "{}", stderr(&out));
    // execCPUAffinity: final is the process's.
    let last = (cpus - 1).to_string();
    b.config["process"]["execCPUAffinity"] = json!({"initial": "0", "final": last});
    let out = run_pinned(&b);
    assert_eq!(stdout(&out), format!("Cpus_allowed_list:\t{last}\n"), "{}", stderr(&out));
    b.assert_nothing_left();
    // A list that is not one: refused before anything is made.
    b.config["process"]["execCPUAffinity"] = json!({"final": "zero"});
    assert_rejected(&b, &["run", &b.id.clone()], "process.execCPUAffinity.final");
}
