//! Confinement, as root: seccomp, user namespaces and rootless, idmapped mounts, LSM labels, and the descriptor/cwd/exe escapes.

mod common;

use common::*;
use serde_json::{json, Value};

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
    use std::os::fd::AsRawFd;
    let mut b = Bundle::new("seccomp-notify");
    b.args(&["/bin/sh", "-c", "mkdir /tmp/n 2>&1; echo done"]);
    b.config["mounts"].as_array_mut().unwrap().push(json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}));
    seccomp_profile(&mut b, json!([{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]));
    let sock = b.path().join("listener.sock");
    b.config["linux"]["seccomp"]["listenerPath"] = json!(sock);
    b.config["linux"]["seccomp"]["listenerMetadata"] = json!("hello-listener");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let agent = std::thread::spawn(move || {
        let (fd, data) = receive_fd(listener);
        let state: Value = serde_json::from_slice(&data).unwrap();
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

#[test]
fn masking_refuses_a_dev_null_that_is_not_the_null_device() {
    // A /dev the container controls (bound from a directory), whose null is
    // a symlink to a procfs file: masking /proc/timer_list with it would bind
    // core_pattern there, writable (runc CVE-2025-31133).
    let mut b = Bundle::new("fake-dev-null");
    let dev = b.path().join("dev");
    std::fs::create_dir(&dev).unwrap();
    std::os::unix::fs::symlink("/proc/sys/kernel/core_pattern", dev.join("null")).unwrap();
    b.config["mounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"destination": "/dev", "type": "bind", "source": dev, "options": ["rbind"]}));
    b.args(&["/bin/sh", "-c", "echo '|/tmp/evil' > /proc/timer_list"]);
    let before = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap();
    let out = b.run_hull();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("/dev/null in the container is not the null device (1:3)"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap(), before);
    b.assert_nothing_left();
    // A real null device there is used.
    std::fs::remove_file(dev.join("null")).unwrap();
    nix::sys::stat::mknod(
        &dev.join("null"),
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    )
    .unwrap();
    b.args(&["/bin/sh", "-c", "wc -c < /proc/timer_list"]);
    let out = b.run_hull();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "0");
    b.assert_nothing_left();
}

#[test]
fn a_notify_default_action_is_refused_and_a_runtime_killed_mid_create_leaves_what_delete_removes() {
    let mut b = Bundle::new("notify-default");
    b.args(&["/bin/true"]);
    b.config["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": b.path().join("l.sock")});
    let out = b.run_hull();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("SCMP_ACT_NOTIFY cannot be the default action"), "{}", stderr(&out));
    b.assert_nothing_left();
    // A createRuntime hook that never returns; the runtime is killed -9 while it waits.
    b.config["linux"].as_object_mut().unwrap().remove("seccomp");
    let marker = b.path().join("hook-ran");
    b.config["hooks"] = json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", format!("echo $$ > {m}.pid; touch {m}; exec sleep 600", m = marker.display())]}]});
    b.write();
    let mut child = std::process::Command::new(HULL)
        .arg("--root")
        .arg(&b.state_root)
        .args(["create", &b.id])
        .current_dir(b.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    while !marker.exists() {
        assert!(t.elapsed() < std::time::Duration::from_secs(20), "the hook never ran");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let out = b.hull(&["delete", "--force", &b.id.clone()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The hook (a child of the killed runtime, not of the container) by the pid it wrote.
    let hook: i32 = std::fs::read_to_string(marker.with_extension("pid")).unwrap().trim().parse().unwrap();
    // SAFETY: kill of the hook process this test's bundle started, by its own pid.
    unsafe { libc::kill(hook, libc::SIGKILL) };
    b.assert_nothing_left();
}

#[test]
fn a_memory_limit_too_small_is_named_as_the_cause() {
    let mut b = Bundle::new("memory-one");
    b.args(&["/bin/true"]);
    b.config["linux"]["resources"]["memory"] = json!({"limit": 1});
    let out = b.run_hull();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("OOM killer") && err.contains("memory limit of 1 bytes"), "{err}");
    b.assert_nothing_left();
}

#[test]
fn an_init_others_could_see_runs_from_a_read_only_binary() {
    // A createRuntime hook records where the init's executable is while the
    // init waits in set-up, the window a container process holding
    // CAP_SYS_PTRACE would use.
    let exe_of_init = |b: &mut Bundle, verb: &str| -> String {
        let out = b.path().join("exe");
        let script = format!("pid=$(jq -r .pid); readlink /proc/$pid/exe > {}", out.display());
        b.config["hooks"] = json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", script]}]});
        let id = b.id.clone();
        let res = b.hull(&[verb, &id]);
        assert!(res.status.success(), "{}", stderr(&res));
        let _ = b.hull(&["delete", "--force", &id]);
        std::fs::read_to_string(out).unwrap().trim().to_string()
    };
    let mut b = Bundle::new("sealed-init");
    b.args(&["/bin/true"]);
    // The host's pid namespace: every host process can see the init.
    b.config["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "pid");
    let exe = exe_of_init(&mut b, "run");
    assert!(exe.starts_with("/run/hull-sealed/") || exe.starts_with("/memfd:"), "{exe}");
    // create leaves the init waiting for start, where an exec could join it.
    let mut b = Bundle::new("sealed-create");
    b.args(&["/bin/true"]);
    let exe = exe_of_init(&mut b, "create");
    assert!(exe.starts_with("/run/hull-sealed/") || exe.starts_with("/memfd:"), "{exe}");
    // run of a new pid namespace: nothing else is in it before the execve.
    let mut b = Bundle::new("plain-run");
    b.args(&["/bin/true"]);
    assert_eq!(exe_of_init(&mut b, "run"), HULL);
}

#[test]
fn recursive_mount_attributes_reach_submounts_and_unknown_bind_options_fail_closed() {
    let mut b = Bundle::new("rro");
    let src = b.path().join("data");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    // A submount under the source, so "recursive" means something.
    let sub = src.join("sub");
    assert!(std::process::Command::new("mount").args(["-t", "tmpfs", "tmpfs"]).arg(&sub).status().unwrap().success());
    b.config["mounts"].as_array_mut().unwrap().push(json!({
        "destination": "/data", "type": "bind", "source": src, "options": ["rbind", "rro", "rnoexec"]}));
    b.args(&[
        "/bin/sh",
        "-c",
        "touch /data/x 2>/dev/null && echo wrote-top; touch /data/sub/x 2>/dev/null && echo wrote-sub; \
              grep -E ' /data(/sub)? ' /proc/self/mountinfo | cut -d' ' -f5,6",
    ]);
    let out = b.run_hull();
    let runc = b.run_runc();
    let _ = std::process::Command::new("umount").arg(&sub).status();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("wrote"), "{text}");
    for line in text.lines() {
        let opts = line.split_once(' ').unwrap().1;
        assert!(opts.split(',').any(|o| o == "ro") && opts.split(',').any(|o| o == "noexec"), "{line}");
    }
    assert_eq!(text.lines().count(), 2, "{text}");
    // runc on the same bundle agrees.
    assert!(runc.status.success(), "runc: {}", stderr(&runc));
    assert!(!stdout(&runc).contains("wrote"), "runc: {}", stdout(&runc));
    b.assert_nothing_left();
    // An option a bind cannot take is refused, not dropped.
    b.config["mounts"].as_array_mut().unwrap().last_mut().unwrap()["options"] =
        json!(["rbind", "rro", "no-such-option"]);
    assert_rejected(&b, &["run", "rro"], "unknown option(s) for a bind mount: no-such-option");
    b.assert_nothing_left();
}

#[test]
fn tmpcopyup_starts_the_tmpfs_with_what_it_covers() {
    let mut b = Bundle::new("tmpcopyup");
    b.config["mounts"].as_array_mut().unwrap().push(json!({
        "destination": "/bin", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "mode=755"]}));
    let marker = format!("hull-tmpcopyup-{}", std::process::id());
    b.args(&["/bin/sh", "-c", &format!(
        "grep -q ' /bin .* tmpfs ' /proc/self/mountinfo && echo tmpfs; ls /bin | wc -l; stat -c '%a %u' /bin/busybox; touch /bin/{marker} && echo wrote")]);
    let out = b.run_hull();
    assert!(out.status.success(), "{}", stderr(&out));
    let want_files = std::fs::read_dir(rootfs().join("bin")).unwrap().count().to_string();
    let meta = std::fs::symlink_metadata(rootfs().join("bin/busybox")).unwrap();
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let want_mode = format!("{:o} {}", meta.permissions().mode() & 0o7777, meta.uid());
    assert_eq!(stdout(&out), format!("tmpfs\n{want_files}\n{want_mode}\nwrote\n"));
    assert!(!rootfs().join("bin").join(&marker).exists(), "the write went to the rootfs");
    b.assert_nothing_left();
}

#[test]
fn exec_caps_and_environment_as_runc_has_them() {
    let mut b = Bundle::new("exec-env");
    b.args(&["/bin/sleep", "300"]);
    b.config["process"]["env"] = json!(["PATH=/bin:/usr/bin", "A=1", "A=2", "FOO=spec", "HOME="]);
    let id = b.id.clone();
    assert!(b.hull(&["run", "-d", &id]).status.success());
    // -e replaces the spec's variable; a duplicate key keeps its last value; an empty HOME is filled in.
    let out = b.hull(&["exec", "-e", "FOO=exec", &id, "/bin/sh", "-c", "env | grep -E '^(A|FOO|HOME)=' | sort"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let home = stdout(&out).lines().find(|l| l.starts_with("HOME=")).unwrap_or_default().to_string();
    assert_eq!(stdout(&out), format!("A=2\nFOO=exec\n{home}\n"));
    assert!(home.len() > "HOME=".len(), "{home}");
    // --cap: bounding, effective and permitted; not inheritable or ambient (CAP_NET_ADMIN is bit 12).
    let out = b.hull(&[
        "exec",
        "--cap",
        "CAP_NET_ADMIN",
        &id,
        "/bin/sh",
        "-c",
        "grep -E '^Cap(Inh|Eff|Amb)' /proc/self/status",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let caps: std::collections::HashMap<String, u64> = stdout(&out)
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.to_string(), u64::from_str_radix(v.trim(), 16).unwrap())
        })
        .collect();
    assert_ne!(caps["CapEff"] & (1 << 12), 0, "{caps:?}");
    assert_eq!(caps["CapInh"] & (1 << 12), 0, "{caps:?}");
    assert_eq!(caps["CapAmb"] & (1 << 12), 0, "{caps:?}");
    assert!(b.hull(&["delete", "-f", &id]).status.success());
    b.assert_nothing_left();
}

#[test]
fn proc_and_sys_are_refused_on_a_symlink() {
    for (dest, typ) in [("proc", "proc"), ("sys", "sysfs")] {
        let mut b = Bundle::new(&format!("symlinked-{dest}"));
        let rootfs = b.path().join("evil-rootfs");
        std::fs::create_dir_all(rootfs.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink("/elsewhere", rootfs.join(dest)).unwrap();
        b.config["root"]["path"] = json!("evil-rootfs");
        b.args(&["/bin/true"]);
        assert_rejected(&b, &["run", &b.id.clone()], &format!("{typ} must be mounted on ordinary directory"));
        assert_eq!(
            std::fs::read_dir(rootfs.join("elsewhere")).unwrap().count(),
            0,
            "{typ} was mounted through the link"
        );
        b.assert_nothing_left();
    }
}

#[test]
fn runc_cli_details_notify_on_write_exec_failures_and_negative_quota() {
    let mut b = Bundle::new("cli-details");
    // SCMP_ACT_NOTIFY on write would deadlock the init: refused, as runc does.
    b.args(&["/bin/true"]);
    b.config["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": b.path().join("l.sock"),
        "syscalls": [{"names": ["write"], "action": "SCMP_ACT_NOTIFY"}]});
    assert_rejected(&b, &["run", &b.id.clone()], "SCMP_ACT_NOTIFY cannot be used for write");
    b.config["linux"].as_object_mut().unwrap().remove("seccomp");
    // The runtime's own failure in exec is 255; the process's exit code passes through.
    let out = b.hull(&["exec", "no-such-container", "/bin/true"]);
    assert_eq!(out.status.code(), Some(255), "{}", stderr(&out));
    b.args(&["/bin/sleep", "300"]);
    let id = b.id.clone();
    assert!(b.hull(&["run", "-d", &id]).status.success());
    assert_eq!(b.hull(&["exec", &id, "/bin/sh", "-c", "exit 1"]).status.code(), Some(1));
    // update takes negative numbers (-1: no quota).
    let out = b.hull(&["update", "--cpu-quota", "-1", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(b.hull(&["delete", "-f", &id]).status.success());
    // -v, as runc spells it.
    let out = b.hull(&["-v"]);
    assert!(out.status.success() && stdout(&out).starts_with("hull-runtime "), "{}", stderr(&out));
    b.assert_nothing_left();
}

/// Syscall numbers (x86_64) 0..=`max` by name, minus `except`.
fn syscall_names_up_to(max: i32, except: &[i32]) -> Vec<String> {
    (0..=max)
        .filter(|nr| !except.contains(nr))
        .filter_map(|nr| libseccomp::ScmpSyscall::from(nr).get_name().ok())
        .collect()
}

#[test]
fn seccomp_syscalls_newer_than_the_profile_get_enosys() {
    // An allow list naming every syscall up to rseq (334) but getcpu (309),
    // default EPERM: getcpu is one the profile knows of and denies; clone3
    // (435), faccessat2 (439) and cachestat (451) are newer than the
    // profile, and get ENOSYS so that libc falls back (runc's stub).
    let mut b = Bundle::new("seccomp-enosys");
    b.args(&["/probe", "--syscalls", "309", "435", "439", "451"]);
    b.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": syscall_names_up_to(334, &[309]), "action": "SCMP_ACT_ALLOW"}],
    });
    let want = format!("309 {}\n435 {e}\n439 {e}\n451 {e}\n", libc::EPERM, e = libc::ENOSYS);
    let out = b.run_hull();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), want);
    b.assert_nothing_left();
    let runc = b.run_runc();
    assert_eq!(stdout(&runc), want, "runc: {}", stderr(&runc));
    // A default of ENOSYS needs no stub; a permissive default gets none.
    b.config["linux"]["seccomp"]["defaultAction"] = json!("SCMP_ACT_ALLOW");
    b.config["linux"]["seccomp"]["syscalls"] =
        json!([{"names": ["getcpu", "faccessat2"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::EXDEV}]);
    b.args(&["/probe", "--syscalls", "309", "439", "451"]);
    let out = b.run_hull();
    assert!(out.status.success(), "{}", stderr(&out));
    // cachestat with NULL arguments: the kernel's own answer (EBADF), not ENOSYS.
    let text = stdout(&out);
    assert!(text.starts_with(&format!("309 {x}\n439 {x}\n451 ", x = libc::EXDEV)), "{text}");
    assert_ne!(text, format!("309 {x}\n439 {x}\n451 {}\n", libc::ENOSYS, x = libc::EXDEV), "a stub under ALLOW");
}

#[test]
fn start_container_hooks_run_confined() {
    // runc applies capabilities and seccomp before the startContainer hooks
    // (they run in the container, as its process would): a hook's mkdir
    // under a filter denying mkdir fails.
    let mut b = Bundle::new("hook-confined");
    let out_dir = b.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    b.args(&["/bin/true"]);
    b.config["mounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"destination": "/out", "type": "bind", "source": out_dir, "options": ["rbind", "rw"]}));
    b.config["hooks"] = json!({"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c",
        "mkdir /out/made 2>/out/err; echo $? > /out/rc; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status >> /out/rc"]}]});
    seccomp_profile(
        &mut b,
        json!([{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::EACCES}]),
    );
    for who in ["hull", "runc"] {
        let out = if who == "hull" { b.run_hull() } else { b.run_runc() };
        assert!(out.status.success(), "{who}: {}", stderr(&out));
        let rc = std::fs::read_to_string(out_dir.join("rc")).unwrap();
        assert!(
            rc.starts_with("1\n") && rc.contains("Seccomp:\t2\n"),
            "{who}: the hook was not under the filter: {rc:?}"
        );
        assert!(!out_dir.join("made").exists(), "{who}: the hook's mkdir got through");
        std::fs::remove_file(out_dir.join("rc")).unwrap();
    }
    b.assert_nothing_left();
}

#[test]
fn capabilities_the_runtime_lacks_fail_create() {
    // The runtime runs without CAP_SYS_RESOURCE in its bounding set (as root
    // on a machine that withholds it): a container asking for it must fail
    // `create` naming capset, not be created and die at `start`.
    let mut b = Bundle::new("caps-missing");
    b.args(&["/bin/true"]);
    let caps = json!(["CAP_CHOWN", "CAP_SYS_RESOURCE"]);
    b.config["process"]["capabilities"] = json!({"bounding": caps, "effective": caps, "permitted": caps});
    b.write();
    let without = |prog: &str, args: &[&str]| {
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--bounding-set", "-sys_resource", "--inh-caps", "-all", "--"]).arg(prog).args(args);
        cmd.current_dir(b.path());
        output_via_files(cmd)
    };
    let state = b.state_root.to_str().unwrap().to_string();
    let out = without(HULL, &["--root", &state, "create", &b.id]);
    assert!(!out.status.success(), "create succeeded without CAP_SYS_RESOURCE to give");
    assert!(stderr(&out).contains("capset"), "{}", stderr(&out));
    b.assert_nothing_left();
    let runc_state = b.path().join("runc-state");
    let out = without("runc", &["--root", runc_state.to_str().unwrap(), "create", "runc-caps-missing"]);
    assert!(!out.status.success(), "runc create succeeded: the host gave CAP_SYS_RESOURCE after all?");
}

fn with_user_namespace(b: &mut Bundle) {
    b.config["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
    b.config["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    b.config["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    // The container's root may create mount points in a tmpfs of its own.
    b.config["mounts"].as_array_mut().unwrap().push(json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}));
}

fn bind(b: &mut Bundle, source: &std::path::Path, dest: &str, options: Value) {
    b.config["mounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"destination": dest, "type": "bind", "source": source, "options": options}));
}

#[test]
fn bind_sources_only_host_root_can_read_are_opened_before_the_user_namespace() {
    use std::os::unix::fs::PermissionsExt;
    let mut b = Bundle::new("userns-binds");
    with_user_namespace(&mut b);
    // Two directories and a file that only host root may reach (runc's
    // "userns with 2 inaccessible mounts"): the container's root is host
    // uid 100000 and could not open them itself.
    for d in ["src-1", "src-2", "src-3"] {
        std::fs::create_dir_all(b.path().join(d).join("dir")).unwrap();
        std::fs::write(b.path().join(d).join("dir/foo.txt"), d).unwrap();
        std::fs::set_permissions(b.path().join(d), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let p = b.path().join("src-1/dir");
    bind(&mut b, &p, "/tmp/mount-1", json!(["bind"]));
    let p = b.path().join("src-2/dir");
    bind(&mut b, &p, "/tmp/mount-2", json!(["rbind", "ro"]));
    let p = b.path().join("src-3/dir/foo.txt");
    bind(&mut b, &p, "/tmp/file", json!(["bind"]));
    let script = "cat /tmp/mount-1/foo.txt /tmp/mount-2/foo.txt /tmp/file; echo; \
                  grep -c ' /tmp/mount-2 ro,' /proc/self/mountinfo; [ -f /tmp/file ] && echo file";
    b.args(&["/bin/sh", "-c", script]);
    let out = b.run_hull();
    assert_eq!(stdout(&out), "src-1src-2src-3\n1\nfile\n", "{}", stderr(&out));
    let runc = b.run_runc();
    assert_eq!(stdout(&runc), stdout(&out), "runc: {}", stderr(&runc));
    // exec into it (its mounts are already in place), then delete: nothing left.
    b.args(&["/bin/sleep", "300"]);
    assert!(b.hull(&["run", "-d", &b.id.clone()]).status.success());
    let out = b.hull(&["exec", &b.id.clone(), "/bin/cat", "/tmp/mount-1/foo.txt"]);
    assert_eq!(stdout(&out), "src-1", "{}", stderr(&out));
    assert!(b.hull(&["delete", "-f", &b.id.clone()]).status.success());
    b.assert_nothing_left();
    // A missing source is named, and nothing is left.
    let p = b.path().join("no-such-dir");
    bind(&mut b, &p, "/tmp/missing", json!(["bind"]));
    assert_rejected(&b, &["run", &b.id.clone()], "no-such-dir");
    b.assert_nothing_left();
}

/// Runs hull-runtime in a private mount namespace where `sub` (inside the
/// bind source) is a tmpfs holding `file`: the host's mounts are untouched.
fn run_with_submount(b: &Bundle, sub: &std::path::Path) -> std::process::Output {
    b.write();
    let script = format!(
        "mount -t tmpfs none '{sub}' && echo x > '{sub}/file' && exec '{hull}' --root '{root}' run '{id}'",
        sub = sub.display(),
        hull = HULL,
        root = b.state_root.display(),
        id = b.id
    );
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["-m", "--propagation", "private", "sh", "-c", &script]).current_dir(b.path());
    output_via_files(cmd)
}

#[test]
fn idmapped_mounts_from_the_host_side_with_idmap_and_ridmap() {
    use std::os::unix::fs::MetadataExt;
    let mut b = Bundle::new("idmap-userns");
    with_user_namespace(&mut b);
    let src = b.path().join("data");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("root-owned"), "x").unwrap();
    std::fs::write(src.join("one-owned"), "x").unwrap();
    nix::unistd::chown(&src.join("one-owned"), Some(1.into()), Some(1.into())).unwrap();
    std::fs::set_permissions(&src, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let stat = "stat -c '%n %u %g' /tmp/m/root-owned /tmp/m/one-owned /tmp/m/sub/file";
    let cases = [
        // The mount's own mapping (runc's "simple idmap mount [userns]").
        (
            json!({"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
                "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}], "options": ["rbind"]}),
            "/tmp/m/root-owned 0 0\n/tmp/m/one-owned 1 1\n/tmp/m/sub/file 65534 65534\n",
        ),
        // `idmap` alone takes the container's mapping, for the top mount only.
        (
            json!({"options": ["rbind", "idmap"]}),
            "/tmp/m/root-owned 0 0\n/tmp/m/one-owned 1 1\n/tmp/m/sub/file 65534 65534\n",
        ),
        // `ridmap` maps the submounts too.
        (json!({"options": ["rbind", "ridmap"]}), "/tmp/m/root-owned 0 0\n/tmp/m/one-owned 1 1\n/tmp/m/sub/file 0 0\n"),
    ];
    for (extra, want) in cases {
        let saved = b.config.clone();
        let mut m = json!({"destination": "/tmp/m", "type": "bind", "source": src});
        for (k, v) in extra.as_object().unwrap() {
            m[k] = v.clone();
        }
        b.config["mounts"].as_array_mut().unwrap().push(m);
        b.args(&["/bin/sh", "-c", stat]);
        let out = run_with_submount(&b, &src.join("sub"));
        assert_eq!(stdout(&out), want, "{extra}: {}", stderr(&out));
        b.config = saved;
    }
    // Writing through the mapping: the container's root (host 100000)
    // creates a file that is root's on disk.
    bind(&mut b, &src, "/tmp/m", json!(["bind", "idmap"]));
    b.args(&["/bin/sh", "-c", "touch /tmp/m/new && stat -c '%u %g' /tmp/m/new"]);
    let out = b.run_hull();
    assert_eq!(stdout(&out), "0 0\n", "{}", stderr(&out));
    let meta = std::fs::metadata(src.join("new")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (0, 0));
    b.assert_nothing_left();
    // Without a user namespace `idmap` has no mapping to take; on a tmpfs
    // it means nothing. Both are refused, leaving nothing.
    let mut plain = Bundle::new("idmap-plain");
    plain.args(&["/bin/true"]);
    bind(&mut plain, &src, "/home", json!(["bind", "idmap"]));
    assert_rejected(&plain, &["run", "idmap-plain"], "the container has no user namespace");
    plain.assert_nothing_left();
    plain.config["mounts"].as_array_mut().unwrap().pop();
    plain.config["mounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"destination": "/home", "type": "tmpfs", "source": "tmpfs", "options": ["ridmap"]}));
    assert_rejected(&plain, &["run", "idmap-plain"], "only bind mounts can be idmapped");
    plain.assert_nothing_left();
}

/// A network namespace the test makes (`ip netns add`), owned by the
/// initial user namespace, removed when dropped.
struct TestNetns(String);

impl TestNetns {
    fn new(tag: &str) -> TestNetns {
        let name = format!("hull-test-{}-{tag}", std::process::id());
        let st = std::process::Command::new("ip").args(["netns", "add", &name]).status().unwrap();
        assert!(st.success(), "ip netns add {name}");
        TestNetns(name)
    }
    fn path(&self) -> String {
        format!("/run/netns/{}", self.0)
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn ns_path(b: &mut Bundle, typ: &str, path: &str) {
    for n in b.config["linux"]["namespaces"].as_array_mut().unwrap() {
        if n["type"] == typ {
            n["path"] = json!(path);
        }
    }
}

/// Without a network namespace of its own the container's user namespace
/// may not mount a fresh sysfs: the host's is bound instead (runc's test does the same).
fn sysfs_from_the_host(b: &mut Bundle) {
    for m in b.config["mounts"].as_array_mut().unwrap() {
        if m["type"] == "sysfs" {
            *m = json!({"destination": "/sys", "type": "bind", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]});
        }
    }
}

#[test]
fn joining_a_user_namespace_makes_the_new_namespaces_inside_it() {
    let mut owner = Bundle::new("userns-owner");
    with_user_namespace(&mut owner);
    owner.args(&["/bin/sleep", "300"]);
    assert!(owner.hull(&["run", "-d", "userns-owner"]).status.success());
    let pid = state_of(&owner)["pid"].as_i64().unwrap();
    let userns = format!("/proc/{pid}/ns/user");
    let userns_id = std::fs::read_link(&userns).unwrap().to_str().unwrap().to_string();

    // runc's "userns join other container userns": new pid, network, ipc,
    // uts and mount namespaces, owned by the joined user namespace, so
    // that the hostname can be set and proc and sysfs mounted; an `idmap`
    // bind without mappings takes the joined namespace's.
    let mut b = Bundle::new("userns-joiner");
    with_user_namespace(&mut b);
    ns_path(&mut b, "user", &userns);
    let obj = b.config["linux"].as_object_mut().unwrap();
    obj.remove("uidMappings");
    obj.remove("gidMappings");
    b.config["hostname"] = json!("joiner");
    let src = b.path().join("data");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("root-owned"), "x").unwrap();
    bind(&mut b, &src, "/tmp/m", json!(["bind", "idmap"]));
    b.args(&["/bin/sleep", "300"]);
    let out = b.hull(&["run", "-d", "userns-joiner"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let script = "cat /proc/self/uid_map /proc/self/gid_map; hostname; readlink /proc/self/ns/user; \
                  stat -c '%u %g' /tmp/m/root-owned; awk '$5 == \"/sys\"' /proc/self/mountinfo | grep -c ' - sysfs '";
    let out = b.hull(&["exec", "userns-joiner", "/bin/sh", "-c", script]);
    let lines: Vec<Vec<String>> =
        stdout(&out).lines().map(|l| l.split_whitespace().map(String::from).collect()).collect();
    assert_eq!(lines.len(), 6, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(lines[0], ["0", "100000", "65536"]);
    assert_eq!(lines[1], ["0", "100000", "65536"]);
    assert_eq!(lines[2], ["joiner"]);
    assert_eq!(lines[3], std::slice::from_ref(&userns_id));
    assert_eq!(lines[4], ["0", "0"], "idmap took the joined namespace's mapping");
    assert_eq!(lines[5], ["1"], "sysfs mounted: {}", stdout(&out));
    assert!(b.hull(&["delete", "-f", "userns-joiner"]).status.success());
    b.assert_nothing_left();

    // runc's "userns join external namespaces [wrong userns owner]": the
    // joined network namespace belongs to the host, not to the joined user
    // namespace; it is joined first, with the host's rights.
    let netns = TestNetns::new("owner");
    let netns_id = format!("net:[{}]", std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(netns.path()).unwrap()));
    let mut b = Bundle::new("userns-wrong-owner");
    with_user_namespace(&mut b);
    ns_path(&mut b, "user", &userns);
    ns_path(&mut b, "network", &netns.path());
    let obj = b.config["linux"].as_object_mut().unwrap();
    obj.remove("uidMappings");
    obj.remove("gidMappings");
    sysfs_from_the_host(&mut b);
    b.args(&["/bin/sleep", "300"]);
    let out = b.hull(&["run", "-d", "userns-wrong-owner"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = b.hull(&[
        "exec",
        "userns-wrong-owner",
        "/bin/sh",
        "-c",
        "readlink /proc/self/ns/user; readlink /proc/self/ns/net",
    ]);
    assert_eq!(stdout(&out), format!("{userns_id}\n{netns_id}\n"), "{}", stderr(&out));
    assert!(b.hull(&["delete", "-f", "userns-wrong-owner"]).status.success());
    b.assert_nothing_left();

    // A new user namespace next to a host-owned network namespace joined by
    // path: joined before the user namespace is made.
    let mut b = Bundle::new("new-userns-host-netns");
    with_user_namespace(&mut b);
    ns_path(&mut b, "network", &netns.path());
    sysfs_from_the_host(&mut b);
    b.args(&["/bin/sh", "-c", "readlink /proc/self/ns/net; cat /proc/self/uid_map"]);
    let out = b.run_hull();
    let text = stdout(&out);
    assert!(text.starts_with(&format!("{netns_id}\n")), "{text}{}", stderr(&out));
    assert!(text.contains("100000"), "{text}");
    b.assert_nothing_left();
    assert!(owner.hull(&["delete", "-f", "userns-owner"]).status.success());
}
