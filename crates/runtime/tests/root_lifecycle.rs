//! The lifecycle verbs, as root: create/start/kill/delete with hooks, exec, pause, update, events, terminals, logs, and bad input.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;

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
    // The record holds the config (environment included): root only.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: std::path::PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(b.state_root.clone()), 0o700);
    assert_eq!(mode(b.state_root.join(&b.id)), 0o711);
    assert_eq!(mode(b.state_root.join(&b.id).join("state.json")), 0o600);
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
            Box::new(|c| {
                c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})
            }),
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

    // A mount destination escaping the rootfs through a symlink: needs a
    // rootfs of its own. The symlink resolves as inside the container
    // (clamped at its root), where it leads nowhere: refused, and nothing
    // is made on the host's /tmp.
    let rootfs = b.path().join("evil-rootfs");
    std::fs::create_dir(&rootfs).unwrap();
    std::os::unix::fs::symlink("../../../../../../tmp", rootfs.join("escape")).unwrap();
    let saved = b.config.clone();
    b.config["root"]["path"] = json!("evil-rootfs");
    let name = format!("hull-escape-{}", std::process::id());
    b.config["mounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"destination": format!("/escape/{name}"), "type": "tmpfs", "source": "tmpfs"}));
    assert_rejected(&b, &["run", "bad"], "escape (in ");
    assert!(!std::path::Path::new("/tmp").join(&name).exists(), "a directory was made outside the rootfs");
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
    // memory and memory+swap in the order the kernel takes (memsw never
    // below memory at any step), growing and shrinking; -1 alone lifts both.
    if std::path::Path::new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists() {
        for (mem, swap) in [("100m", "200m"), ("300m", "400m"), ("60m", "70m")] {
            let out = b.hull(&["update", "--memory", mem, "--memory-swap", swap, &b.id.clone()]);
            assert!(out.status.success(), "{mem}/{swap}: {}", stderr(&out));
        }
        assert_eq!(host_cgroup_file(&b, "memory", "memory.memsw.limit_in_bytes"), (70u64 << 20).to_string());
        let out = b.hull(&["update", "--memory", "-1", &b.id.clone()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let unlimited = host_cgroup_file(&b, "memory", "memory.limit_in_bytes").parse::<u64>().unwrap();
        assert!(unlimited > 1 << 60, "{unlimited}");
    }
    assert!(b.hull(&["delete", "--force", &b.id.clone()]).status.success());
}

#[test]
fn a_cpuset_parent_without_cpus_is_filled() {
    // An existing parent cpuset cgroup with empty cpus/mems (as mkdir makes
    // it): the container's cgroup under it would refuse tasks (ENOSPC).
    let mut b = Bundle::new("cpuset-parent");
    let parent = format!("{}/emptyparent", cgroup_parent(&b.id));
    let dir = cgroup_dirs(&parent).into_iter().find(|d| d.to_str().unwrap().contains("/cpuset/")).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    assert_eq!(std::fs::read_to_string(dir.join("cpuset.cpus")).unwrap().trim(), "");
    b.config["linux"]["cgroupsPath"] = json!(format!("{parent}/{}", b.id));
    b.config["linux"]["resources"] = json!({"cpu": {"cpus": "0"}});
    b.args(&["/bin/sh", "-c", "cat /sys/fs/cgroup/cpuset/cpuset.cpus 2>/dev/null || echo ran"]);
    let out = b.run_hull();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(std::fs::read_to_string(dir.join("cpuset.cpus")).unwrap().trim(), "");
    std::fs::remove_dir(&dir).unwrap();
}

#[test]
fn events_stats_and_oom() {
    let mut b = Bundle::new("events");
    b.args(&["/bin/sleep", "300"]);
    assert!(b.hull(&["run", "-d", &b.id.clone()]).status.success());
    let out = b.hull(&["events", "--stats", &b.id.clone()]);
    // runc's key order: tools read these lines as they come.
    assert!(
        stdout(&out).starts_with(&format!("{{\"type\":\"stats\",\"id\":\"{}\",\"data\":", b.id)),
        "{}",
        stdout(&out)
    );
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
    assert!(text.lines().any(|l| l == r#"{"type":"oom","id":"events-oom"}"#), "{text} {}", stderr(&out));
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
fn process_cwd_tty_owner_personality_and_hook_context() {
    let mut b = Bundle::new("proc-details");
    let out_dir = b.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    // startContainer hooks run as the process's user (runc).
    std::fs::set_permissions(&out_dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let rootfs = std::fs::canonicalize(rootfs()).unwrap();
    // A cwd only root may enter: entered before the switch to uid 1000 (runc).
    b.config["mounts"].as_array_mut().unwrap().extend([
        json!({"destination": "/secret", "type": "tmpfs", "source": "tmpfs", "options": ["mode=700"]}),
        json!({"destination": "/out", "type": "bind", "source": out_dir, "options": ["rbind", "rw"]}),
    ]);
    b.config["process"]["cwd"] = json!("/secret");
    b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    b.config["process"]["env"] = json!(["PATH=/bin", "FROM_PROCESS=yes"]);
    b.config["process"]["terminal"] = json!(true);
    b.config["linux"]["personality"] = json!({"domain": "LINUX32"});
    // createContainer runs in the container's root (before pivot, so its
    // path is the host's); a startContainer hook without env gets the
    // process's environment.
    let cwd_file = out_dir.join("create-cwd");
    b.config["hooks"] = json!({
        "createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", format!("pwd > {}", cwd_file.display())]}],
        "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "echo \"$FROM_PROCESS\" > /out/start-env"]}],
    });
    b.args(&["/bin/sh", "-c", "pwd; stat -c 'tty-owner=%u' $(tty); uname -m; sleep 300"]);
    let sock = b.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let receiver = std::thread::spawn(move || receive_console(listener));
    let out = b.hull(&["create", "--console-socket", sock.to_str().unwrap(), &b.id.clone()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (mut master, _) = receiver.join().unwrap();
    assert!(b.hull(&["start", &b.id.clone()]).status.success());
    let seen = read_until(&mut master, "i686");
    assert!(seen.contains("/secret"), "{seen:?}");
    assert!(seen.contains("tty-owner=1000"), "{seen:?}");
    assert!(seen.contains("i686"), "personality not applied: {seen:?}");
    assert_eq!(std::fs::read_to_string(&cwd_file).unwrap().trim(), rootfs.to_str().unwrap());
    assert_eq!(std::fs::read_to_string(out_dir.join("start-env")).unwrap(), "yes\n");
    // exec'd processes get the personality too, and their pipes are the user's.
    let out = b.hull(&[
        "exec",
        &b.id.clone(),
        "/bin/sh",
        "-c",
        "uname -m; stat -c %u /proc/self/fd/1; echo err > /dev/stderr",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "i686\n1000\n");
    assert_eq!(stderr(&out), "err\n");
    assert!(b.hull(&["delete", "-f", &b.id.clone()]).status.success());
    b.assert_nothing_left();
}

fn cgroup_procs(b: &Bundle) -> Vec<i32> {
    host_cgroup_file(b, "pids", "cgroup.procs").lines().filter_map(|l| l.trim().parse().ok()).collect()
}

#[test]
fn host_pid_namespace_kill_and_delete_end_every_process() {
    let mut b = Bundle::new("host-pidns");
    b.config["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "pid");
    // SIGKILL to a container sharing the pid namespace kills all of it.
    b.args(&["/bin/sh", "-c", "sleep 1000 & sleep 1001 & exec sleep 1002"]);
    let id = b.id.clone();
    assert!(b.hull(&["run", "-d", &id]).status.success());
    wait_until_procs(&b, 3);
    let out = b.hull(&["kill", &id, "KILL"]);
    assert!(out.status.success(), "{}", stderr(&out));
    wait_until_procs(&b, 0);
    wait_status(&b, "stopped");
    assert!(b.hull(&["delete", &id]).status.success());
    b.assert_nothing_left();
    // An init that exits leaves its children in the cgroup: the container is
    // stopped, and delete ends them before it removes cgroup and state.
    b.args(&["/bin/sh", "-c", "sleep 1003 & sleep 1004 & exit 0"]);
    assert!(b.hull(&["run", "-d", &id]).status.success());
    wait_status(&b, "stopped");
    let left = cgroup_procs(&b);
    assert_eq!(left.len(), 2, "{left:?}");
    let out = b.hull(&["delete", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    for pid in left {
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists() || is_zombie(pid), "pid {pid} outlived delete");
    }
    b.assert_nothing_left();
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with('Z')))
}

fn wait_until_procs(b: &Bundle, n: usize) {
    for _ in 0..500 {
        if cgroup_procs(b).len() == n {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the cgroup never had {n} processes: {:?}", cgroup_procs(b));
}

#[test]
fn a_frozen_cgroup_is_thawed_and_a_busy_one_refused() {
    let mut b = Bundle::new("frozen-cg");
    let path = b.config["linux"]["cgroupsPath"].as_str().unwrap().to_string();
    // An existing, empty, frozen cgroup: the init would stop in it and
    // create wait forever. runc thaws it; so do we.
    let freezer = cgroup_dirs(&path).into_iter().find(|d| d.to_str().unwrap().contains("/freezer/")).unwrap();
    std::fs::create_dir_all(&freezer).unwrap();
    std::fs::write(freezer.join("freezer.state"), "FROZEN").unwrap();
    b.args(&["/bin/echo", "ran"]);
    let out = b.run_hull();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "ran\n");
    // A cgroup holding another container's processes is refused, and the
    // refusal leaves the other container alone.
    b.args(&["/bin/sleep", "300"]);
    assert!(b.hull(&["run", "-d", &b.id.clone()]).status.success());
    let mut other = Bundle::new("frozen-cg-2");
    other.config["linux"]["cgroupsPath"] = json!(path);
    other.state_root = b.state_root.clone();
    other.args(&["/bin/true"]);
    let out = other.hull(&["run", &other.id.clone()]);
    assert!(!out.status.success(), "a second container joined a busy cgroup");
    assert!(stderr(&out).contains("the cgroup is not empty"), "{}", stderr(&out));
    assert!(!b.state_root.join(&other.id).exists(), "the refused container left its state");
    assert_eq!(state_of(&b)["status"], "running");
    assert!(b.hull(&["delete", "-f", &b.id.clone()]).status.success());
    // The freezer cgroup was the test's: the runtime did not remove it.
    assert!(freezer.exists());
    std::fs::remove_dir(&freezer).unwrap();
    b.assert_nothing_left();
}

#[test]
fn json_log_format_reports_errors_as_runc_does() {
    // Without --log, --log-format json puts the error on stderr as runc's
    // JSON line; with --log the file gets it and stderr the plain text.
    let b = Bundle::new("jsonlog");
    let out = b.hull(&["--log-format", "json", "state", "no-such-container"]);
    assert!(!out.status.success());
    let line: Value = serde_json::from_str(stderr(&out).trim()).unwrap_or_else(|_| panic!("{}", stderr(&out)));
    assert_eq!(line["level"], "error");
    assert!(line["msg"].as_str().unwrap().contains("no-such-container"), "{line}");
    assert!(line["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{line}");
    let log = b.path().join("runtime.log");
    let out = b.hull(&["--log", log.to_str().unwrap(), "--log-format", "json", "state", "no-such-container"]);
    assert!(stderr(&out).starts_with("hull-runtime: "), "{}", stderr(&out));
    let logged: Value = serde_json::from_str(std::fs::read_to_string(&log).unwrap().trim()).unwrap();
    assert_eq!(logged["level"], "error");
}

#[test]
fn exec_ignore_paused_and_update_cpu_burst() {
    let mut b = Bundle::new("paused-exec");
    b.args(&["/bin/sleep", "300"]);
    b.config["mounts"].as_array_mut().unwrap().push(json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}));
    let id = b.id.clone();
    assert!(b.hull(&["run", "-d", &id]).status.success());
    let out = b.hull(&["update", "--cpu-quota", "50000", "--cpu-period", "100000", "--cpu-burst", "10000", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(host_cgroup_file(&b, "cpu", "cpu.cfs_burst_us"), "10000");
    assert!(b.hull(&["pause", &id]).status.success());
    // runc: exec into a paused container is refused, unless --ignore-paused
    // (then the process starts frozen and runs on resume).
    let out = b.hull(&["exec", &id, "/bin/true"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("paused"), "{}", stderr(&out));
    let out = b.hull(&["exec", "-d", "--ignore-paused", &id, "/bin/sh", "-c", "echo ran > /tmp/f"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(b.hull(&["resume", &id]).status.success());
    let mut seen = String::new();
    for _ in 0..100 {
        seen = stdout(&b.hull(&["exec", &id, "/bin/cat", "/tmp/f"]));
        if seen == "ran\n" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(seen, "ran\n");
    assert!(b.hull(&["delete", "-f", &id]).status.success());
    b.assert_nothing_left();
}

/// The container's directory in the v1 hierarchy mounted at .../`controller`.
fn v1_dir(b: &Bundle, controller: &str) -> std::path::PathBuf {
    cgroup_dirs(&format!("{}/{}", cgroup_parent(&b.id), b.id))
        .into_iter()
        .find(|d| d.parent().and_then(|p| p.parent()).is_some_and(|m| m.ends_with(controller)))
        .unwrap_or_else(|| panic!("no {controller} hierarchy"))
}

#[test]
fn exec_into_sub_cgroups() {
    let mut b = Bundle::new("exec-cgroup");
    b.args(&["/bin/sleep", "300"]);
    assert!(b.hull(&["run", "-d", "exec-cgroup"]).status.success());
    // runc's "exec --cgroup sub-cgroups [v1]": what may not be joined.
    let cases = [
        ("..", "--cgroup: ..: bad sub cgroup path"),
        ("../exec-cgroup-sibling", "bad sub cgroup path"),
        ("cpu:../x", "bad sub cgroup path"),
        ("nonexistent", "no such cgroup"),
        ("memory:nonexistent", "no such cgroup"),
        ("whaaat:/", "unknown controller whaaat"),
    ];
    for (value, needle) in cases {
        let out = b.hull(&["exec", "--cgroup", value, "exec-cgroup", "/bin/true"]);
        assert_eq!(out.status.code(), Some(255), "{value}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{value}: {}", stderr(&out));
    }
    let own = format!("{}/exec-cgroup", cgroup_parent(&b.id));
    let cgroup_lines = |out: &std::process::Output| -> Vec<String> {
        stdout(out).lines().filter(|l| !l.contains("name=") && !l.starts_with("0::")).map(String::from).collect()
    };
    for args in [&["exec"][..], &["exec", "--cgroup", "/"][..]] {
        let out = b.hull(&[args, &["exec-cgroup", "/bin/cat", "/proc/self/cgroup"]].concat());
        let lines = cgroup_lines(&out);
        assert!(!lines.is_empty() && lines.iter().all(|l| l.ends_with(&own)), "{args:?}: {lines:?}");
    }
    // cpu and cpuacct may be one hierarchy or two (as runc's test says).
    let mem = v1_dir(&b, "memory").join("submem");
    let mut subs = vec![mem.clone(), v1_dir(&b, "cpu").join("subcpu"), v1_dir(&b, "cpuacct").join("subcpu")];
    subs.dedup();
    for d in &subs {
        std::fs::create_dir_all(d).unwrap();
    }
    let out = b.hull(&[
        "exec",
        "--cgroup",
        "memory:submem",
        "--cgroup",
        "cpu,cpuacct:subcpu",
        "exec-cgroup",
        "/bin/cat",
        "/proc/self/cgroup",
    ]);
    let lines = cgroup_lines(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(lines.iter().any(|l| l.contains(":memory:") && l.ends_with(&format!("{own}/submem"))), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains(":cpu") && l.ends_with(&format!("{own}/subcpu"))), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains(":pids:") && l.ends_with(&own)), "{lines:?}");
    for d in &subs {
        let _ = std::fs::remove_dir(d);
    }
    assert!(b.hull(&["delete", "-f", "exec-cgroup"]).status.success());
    b.assert_nothing_left();
}

fn pidfd_kill(fd: &std::fs::File) {
    use std::os::fd::AsRawFd;
    // SAFETY: a pidfd we received; no pointers beyond the null siginfo.
    let r =
        unsafe { libc::syscall(libc::SYS_pidfd_send_signal, fd.as_raw_fd(), libc::SIGKILL, std::ptr::null::<u8>(), 0) };
    assert_eq!(r, 0, "pidfd_send_signal: {}", std::io::Error::last_os_error());
}

#[test]
fn pidfd_socket_on_create_run_and_exec() {
    let mut b = Bundle::new("pidfd");
    b.args(&["/bin/sleep", "300"]);
    let sock = b.path().join("pidfd.sock");
    // A socket nobody listens on: refused before anything is made.
    let out = b.hull(&["create", "--pidfd-socket", sock.to_str().unwrap(), "pidfd"]);
    assert!(stderr(&out).contains("connect to pidfd socket"), "{}", stderr(&out));
    b.assert_nothing_left();
    for verb in [&["create"][..], &["run", "-d"][..]] {
        let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let out = b.hull(&[verb, &["--pidfd-socket", sock.to_str().unwrap(), "pidfd"]].concat());
        assert!(out.status.success(), "{verb:?}: {}", stderr(&out));
        let (fd, name) = receive_fd(listener);
        assert_eq!(name, b"pidfd");
        pidfd_kill(&fd);
        wait_status(&b, "stopped");
        assert!(b.hull(&["delete", "pidfd"]).status.success());
        std::fs::remove_file(&sock).unwrap();
    }
    assert!(b.hull(&["run", "-d", "pidfd"]).status.success());
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let out = b.hull(&[
        "exec",
        "-d",
        "--pidfd-socket",
        sock.to_str().unwrap(),
        "--pid-file",
        "exec.pid",
        "pidfd",
        "/bin/sleep",
        "301",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (fd, _) = receive_fd(listener);
    let pid: i32 = std::fs::read_to_string(b.path().join("exec.pid")).unwrap().trim().parse().unwrap();
    pidfd_kill(&fd);
    for _ in 0..200 {
        let gone = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| s.contains(") Z "));
        if gone {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(stat.is_empty() || stat.contains(") Z "), "exec'd process still runs: {stat}");
    assert!(b.hull(&["delete", "-f", "pidfd"]).status.success());
    b.assert_nothing_left();
}

#[test]
fn a_relayed_terminal_clears_onlcr_and_a_console_socket_keeps_it() {
    use std::io::Read;
    let mut b = Bundle::new("onlcr");
    b.config["process"]["terminal"] = json!(true);
    // Foreground: the runtime relays the terminal, and clears ONLCR as runc
    // does (runc then also needs its stdin to be a terminal; hull-runtime
    // relays from whatever it has).
    b.args(&["/bin/sh", "-c", "echo one; echo two"]);
    let out = b.run_hull();
    assert_eq!(stdout(&out), "one\ntwo\n", "{}", stderr(&out));
    b.args(&["/bin/sleep", "300"]);
    let sock = b.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let receiver = std::thread::spawn(move || receive_console(listener));
    assert!(b.hull(&["run", "-d", "--console-socket", sock.to_str().unwrap(), "onlcr"]).status.success());
    let _init_master = receiver.join().unwrap();
    let out = b.hull(&["exec", "-t", "onlcr", "/bin/sh", "-c", "echo three; echo four"]);
    assert_eq!(stdout(&out), "three\nfour\n", "{}", stderr(&out));
    // With a console socket the receiver relays, and the line discipline
    // stays as the kernel made it (runc does not touch it either).
    std::fs::remove_file(&sock).unwrap();
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let receiver = std::thread::spawn(move || receive_console(listener));
    let out = b.hull(&[
        "exec",
        "-t",
        "-d",
        "--console-socket",
        sock.to_str().unwrap(),
        "onlcr",
        "/bin/sh",
        "-c",
        "echo five; sleep 1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (mut master, _) = receiver.join().unwrap();
    let mut seen = vec![0u8; 64];
    let n = master.read(&mut seen).unwrap();
    assert_eq!(&seen[..n], b"five\r\n");
    assert!(b.hull(&["delete", "-f", "onlcr"]).status.success());
    b.assert_nothing_left();
}
