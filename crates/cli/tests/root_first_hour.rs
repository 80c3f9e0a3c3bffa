//! Issue 12: what a daily Docker user did in their first hour with Hull,
//! done through the CLI as they did it, asserting what they saw.

mod common;
use common::*;

fn stderr_of(out: &Output) -> String {
    text(&out.stderr)
}

#[test]
fn options_end_at_the_image_and_at_the_container() {
    let e = Env::new();
    // Everything after IMAGE is the command's, flags included (docker run postgres -c x=y).
    let out = e.ok(&["run", "--rm", "--network", "none", "--entrypoint", "sh", IMG, "-c", "echo sh:$0:-c-was-its-own"]);
    assert_eq!(out, "sh:sh:-c-was-its-own");
    assert_eq!(
        e.ok(&["run", "--rm", "--network", "none", IMG, "echo", "-d", "hello", "-v", "x:/y"]),
        "-d hello -v x:/y"
    );
    // `run IMG -d hello` is not detached: -d went to the command (echo prints it).
    assert_eq!(e.ok(&["run", "--rm", "--network", "none", IMG, "echo", "-d"]), "-d");
    let id = e.ok(&["run", "-d", "--network", "none", "--name", "opts", IMG, "sleep", "300"]);
    assert!(!id.is_empty());
    // exec: options end at the container.
    assert_eq!(e.ok(&["exec", "opts", "ls", "-d", "/bin"]), "/bin");
    assert_eq!(e.ok(&["exec", "-e", "V=1", "opts", "sh", "-c", "echo $V -e"]), "1 -e");
    // top: ps options after the container.
    let top = e.ok(&["top", "opts", "-o", "pid,comm"]);
    assert!(top.starts_with("PID") || top.trim_start().starts_with("PID"), "{top}");
    assert!(top.contains("sleep"), "{top}");
    e.ok(&["rm", "-f", "opts"]);
}

#[test]
fn usage_mistakes_exit_125_with_dockers_words() {
    let e = Env::new();
    for (args, want) in [
        (vec!["run"], "\"hull run\" requires at least 1 argument.\nSee 'hull run --help'.\n"),
        (vec!["exec", "x"], "\"hull exec\" requires at least 2 arguments.\nSee 'hull exec --help'.\n"),
        (vec!["run", "--foo", IMG], "unknown flag: --foo\nSee 'hull run --help'.\n"),
        (vec!["run", "-z", IMG], "unknown shorthand flag: 'z' in -z\nSee 'hull run --help'.\n"),
        (vec!["network", "ls", "--nope"], "unknown flag: --nope\nSee 'hull network ls --help'.\n"),
        (vec!["ps", "--roo"], "unknown flag: --roo\nSee 'hull ps --help'.\n"),
    ] {
        let out = e.run(&args);
        assert_eq!(out.status.code(), Some(125), "{args:?}: {}", stderr_of(&out));
        assert_eq!(stderr_of(&out), want, "{args:?}");
    }
    let out = e.run(&["run", "--pids-limit", "many", IMG]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr_of(&out).starts_with("invalid argument \"many\" for \"--pids-limit\" flag"), "{}", stderr_of(&out));
    // -it without a terminal: docker's refusal at once, status 1, nothing created.
    for args in [vec!["run", "-it", "--network", "none", IMG, "sh"], vec!["exec", "-it", "nosuch", "sh"]] {
        let out = e.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr_of(&out));
        assert_eq!(stderr_of(&out), "the input device is not a TTY\n");
    }
    assert_eq!(e.ok(&["ps", "-aq"]), "");
    // Help is not an error.
    let out = e.run(&["run", "--help"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

/// Runs a hull command line under a pseudo-terminal (util-linux script),
/// as from an interactive shell; returns what the terminal showed.
fn on_a_terminal(e: &Env, line: &str) -> String {
    let full = format!("{} {line}", hull_line(e));
    let out =
        Command::new("script").args(["-qec", &full, "/dev/null"]).stdin(std::process::Stdio::null()).output().unwrap();
    text(&out.stdout).replace('\r', "")
}

#[test]
fn term_hostname_and_loopback_as_docker_sets_them() {
    let e = Env::new();
    // HOSTNAME is set (the short id by default, --hostname when given).
    let id = e.ok(&["run", "-d", "--network", "none", "--name", "envs", IMG, "sleep", "300"]);
    assert_eq!(e.ok(&["exec", "envs", "sh", "-c", "echo $HOSTNAME"]), &id[..12]);
    let out =
        e.ok(&["run", "--rm", "--network", "none", "--hostname", "h1", IMG, "sh", "-c", "echo $HOSTNAME; hostname"]);
    assert_eq!(out, "h1\nh1");
    // exec -it: TERM=xterm, so that clear and top work.
    let seen = on_a_terminal(&e, "exec -it envs sh -c 'echo term=$TERM'");
    assert!(seen.contains("term=xterm"), "{seen:?}");
    // --network none: loopback up, with 127.0.0.1/8 and ::1.
    let out = e.ok(&["exec", "envs", "ip", "-o", "addr", "show", "dev", "lo"]);
    assert!(out.contains("inet 127.0.0.1/8"), "{out}");
    if std::fs::read_to_string("/proc/sys/net/ipv6/conf/default/disable_ipv6").is_ok_and(|v| v.trim() == "0") {
        assert!(out.contains("inet6 ::1/128"), "{out}");
    }
    e.ok(&[
        "exec",
        "envs",
        "sh",
        "-c",
        "nc -l -p 7000 -e echo hi & sleep 0.2; nc 127.0.0.1 7000 < /dev/null | grep -q hi",
    ]);
    e.ok(&["rm", "-f", "envs"]);
    // --network host keeps the host's hostname.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(e.ok(&["run", "--rm", "--network", "host", IMG, "hostname"]), host.trim());
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn names_resolve_from_the_first_instruction() {
    // An app that resolves its database at boot: 200 starts whose first
    // action is a lookup of another container and of itself, 0 misses
    // (the records are served before the process runs).
    let e = Env::new();
    e.ok(&["network", "create", "--subnet", "10.92.0.0/24", "appnet"]);
    e.ok(&["run", "-d", "--network", "appnet", "--name", "db", IMG, "sleep", "600"]);
    // One after another, as the user did. (Starts at the same moment can
    // still miss: Debian's aardvark-dns 1.4 closes and reopens its sockets
    // on every reload, so a lookup landing then is refused; podman here
    // has the same, fixed upstream in aardvark-dns 1.11.)
    let mut misses = Vec::new();
    for i in 0..200 {
        let name = format!("app{i}");
        let script =
            format!("for n in db {name}; do nslookup $n > /tmp/o 2>&1 || {{ echo $n:; cat /tmp/o; exit 1; }}; done");
        let out = e.run(&["run", "--rm", "--network", "appnet", "--name", &name, IMG, "sh", "-c", &script]);
        if !out.status.success() {
            misses.push(format!("{name}: {}{}", text(&out.stdout), text(&out.stderr)));
        }
    }
    assert!(misses.is_empty(), "{} of 200 first lookups missed: {:?}", misses.len(), &misses[..misses.len().min(3)]);
    e.ok(&["rm", "-f", "db"]);
    e.ok(&["network", "rm", "appnet"]);
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn an_empty_named_volume_takes_the_images_content_on_first_mount() {
    // postgres' way: `volume create`, then -v NAME:/var/lib/postgresql/data
    // with the image's directory owned by postgres, mode 0700.
    let e = Env::new();
    image_with_layer(
        &e,
        "localhost/pglike:1",
        tar_of(&[
            dir("var/").owned(0, 0, 0o755),
            dir("var/pg/").owned(999, 999, 0o700),
            file("var/pg/PG_VERSION", b"15\n").owned(999, 999, 0o600),
        ]),
    );
    e.ok(&["volume", "create", "pgdata"]);
    let seen = e.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        "pgdata:/var/pg",
        "localhost/pglike:1",
        "sh",
        "-c",
        "stat -c '%u:%g %a' /var/pg /var/pg/PG_VERSION; cat /var/pg/PG_VERSION; echo 16 > /var/pg/PG_VERSION",
    ]);
    assert_eq!(seen, "999:999 700\n999:999 600\n15");
    // Not empty any more: what the container wrote stays.
    let again = e.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        "pgdata:/var/pg",
        "localhost/pglike:1",
        "cat",
        "/var/pg/PG_VERSION",
    ]);
    assert_eq!(again, "16");
    // nocopy: an empty volume stays empty.
    e.ok(&["volume", "create", "bare"]);
    let bare = e.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        "bare:/var/pg:nocopy",
        "localhost/pglike:1",
        "ls",
        "-A",
        "/var/pg",
    ]);
    assert_eq!(bare, "");
    e.ok(&["volume", "rm", "pgdata", "bare"]);
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

/// The char and block device nodes under a /dev listing (`find /dev` output
/// with `stat -c '%F %t:%T %n'`), without pts, shm and console, and
/// ptmx (the container's is a link to its own devpts' ptmx, as in runc).
fn device_nodes(listing: &str) -> std::collections::BTreeSet<String> {
    listing
        .lines()
        .filter(|l| l.starts_with("character special") || l.starts_with("block special"))
        .filter(|l| {
            !l.contains("/dev/pts/")
                && !l.contains("/dev/shm/")
                && !l.ends_with("/dev/console")
                && !l.ends_with("/dev/ptmx")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn privileged_gets_the_hosts_devices() {
    let e = Env::new();
    let list = "find /dev -type c -o -type b | xargs stat -c '%F %t:%T %n'";
    let host = device_nodes(&sh(list));
    let inside = device_nodes(&e.ok(&["run", "--rm", "--network", "none", "--privileged", IMG, "sh", "-c", list]));
    let missing: Vec<_> = host.difference(&inside).collect();
    assert!(missing.is_empty(), "host devices missing in a privileged container: {missing:?}");
    // And usable: the device cgroup is open (reading the first block device).
    if let Some(block) = host.iter().find(|l| l.starts_with("block special")) {
        let path = block.rsplit(' ').next().unwrap();
        e.ok(&["run", "--rm", "--network", "none", "--privileged", IMG, "head", "-c", "512", path]);
        // Not without --privileged.
        let out = e.run(&["run", "--rm", "--network", "none", IMG, "head", "-c", "512", path]);
        assert!(!out.status.success());
    }
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn images_filters_and_formats_as_docker() {
    let e = Env::new();
    e.image_variant("localhost/app/web:1", |_, config, _| {
        let c = config.config.get_or_insert_with(Default::default);
        c.labels = Some([("team".to_string(), "a".to_string())].into_iter().collect());
        config.created = Some("2030-01-02T03:04:05Z".into());
    });
    e.ok(&["tag", IMG, "localhost/other:2"]);
    // Go templates, table and plain.
    let lines = e.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    let mut seen: Vec<&str> = lines.lines().collect();
    seen.sort();
    assert_eq!(seen, ["localhost/app/web:1", "localhost/hull/busybox:latest", "localhost/other:2"]);
    let table = e.ok(&["images", "--format", "table {{.ID}}\t{{.Tag}}"]);
    assert!(table.starts_with("IMAGE ID"), "{table}");
    // Newest first: the 2030 image leads.
    assert!(e.ok(&["images", "--format", "{{.Tag}}"]).starts_with("1\n"));
    // Filters.
    assert_eq!(e.ok(&["images", "--filter", "label=team=a", "--format", "{{.Repository}}"]), "localhost/app/web");
    assert_eq!(e.ok(&["images", "--filter", "label=team=b", "-q"]), "");
    assert_eq!(e.ok(&["images", "-f", "reference=*/other:*", "--format", "{{.Repository}}"]), "localhost/other");
    assert_eq!(e.ok(&["images", "-f", "reference=localhost/*", "--format", "{{.Repository}}"]).lines().count(), 1);
    assert_eq!(e.ok(&["images", "-f", "since=localhost/other:2", "--format", "{{.Repository}}"]), "localhost/app/web");
    assert_eq!(e.ok(&["images", "-f", "before=localhost/app/web:1", "--format", "{{.Tag}}"]).lines().count(), 2);
    assert_eq!(e.ok(&["images", "-f", "dangling=true", "-q"]), "");
    assert_eq!(e.ok(&["images", "-a", "-f", "dangling=false", "-q"]).lines().count(), 2, "two distinct ids");
    let out = e.run(&["images", "-f", "colour=red"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("invalid filter 'colour'"), "{}", text(&out.stderr));
    // --digests, --no-trunc.
    let full = e.ok(&["images", "--no-trunc", "--digests", "--format", "{{.ID}} {{.Digest}}", "localhost/other"]);
    assert!(full.starts_with("sha256:") && full.contains(" sha256:"), "{full}");
    // SIZE is the unpacked size once the image ran (busybox unpacked is
    // larger than its gzip layer).
    e.ok(&["run", "--rm", "--network", "none", IMG, "true"]);
    let size = e.ok(&["images", "--format", "{{.Size}}", IMG]);
    assert!(size.ends_with("MB") || size.ends_with("kB"), "{size}");
    let bytes = std::fs::metadata("/bin/busybox").map(|m| m.len()).unwrap_or(0);
    if bytes > 0 {
        let shown: f64 = size.trim_end_matches("MB").trim_end_matches("kB").parse().unwrap();
        let shown = if size.ends_with("MB") { shown * 1e6 } else { shown * 1e3 };
        assert!(shown >= bytes as f64 * 0.95, "SIZE {size} below the unpacked busybox's {bytes} bytes");
    }
}

/// A hull command line running under a pseudo-terminal (util-linux
/// script), with our bytes typed into it.
struct Typed {
    child: std::process::Child,
}

impl Typed {
    fn start(e: &Env, line: &str) -> Typed {
        let full = format!("{} {line}", hull_line(e));
        let child = Command::new("script")
            .args(["-qfec", &full, "/dev/null"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Typed { child }
    }

    fn type_in(&mut self, bytes: &[u8]) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    /// The client's exit status, waiting at most 10 s.
    fn ended(&mut self) -> Option<i32> {
        for _ in 0..200 {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        None
    }
}

#[test]
fn detach_keys_leave_the_container_running() {
    let e = Env::new();
    // Ctrl-P Ctrl-Q detaches from run -it: the client exits 0, the container runs on.
    let mut t = Typed::start(&e, &format!("run -it --network none --name dk {IMG} sh"));
    wait_until("dk running", || e.run(&["inspect", "-f", "{{.State.Status}}", "dk"]).stdout.starts_with(b"running"));
    t.type_in(b"echo typed > /tmp/seen\n");
    wait_until("the shell ran the line", || e.run(&["exec", "dk", "cat", "/tmp/seen"]).stdout == b"typed\n");
    t.type_in(b"\x10\x11");
    assert_eq!(t.ended(), Some(0), "run -it did not detach on Ctrl-P Ctrl-Q");
    assert_eq!(e.inspect("dk", "{{.State.Status}}"), "running");
    // attach with --detach-keys of our own; a Ctrl-A not followed by x goes
    // on to the shell (on an empty line it only moves to its start).
    let mut t = Typed::start(&e, "attach --detach-keys ctrl-a,x dk");
    std::thread::sleep(std::time::Duration::from_millis(300));
    t.type_in(b"\x01echo again > /tmp/seen\n");
    wait_until("the shell ran the second line", || e.run(&["exec", "dk", "cat", "/tmp/seen"]).stdout == b"again\n");
    t.type_in(b"\x01x");
    assert_eq!(t.ended(), Some(0), "attach did not detach on ctrl-a,x");
    assert_eq!(e.inspect("dk", "{{.State.Status}}"), "running");
    // Bad keys: docker's message, nothing attached.
    let out = e.run(&["attach", "--detach-keys", "ctrl-1", "dk"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("Invalid detach keys (ctrl-1) provided"), "{}", text(&out.stderr));
    // In tty mode, a signal to the client is not forwarded: the client ends, the container runs on.
    let mut t = Typed::start(&e, "attach dk");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let script_pid = t.child.id();
    let client = sh(&format!("pgrep -P $(pgrep -P {script_pid} | head -1) || pgrep -P {script_pid}"));
    let client: i32 = client.lines().last().unwrap().trim().parse().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(client), nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(t.ended().is_some());
    assert_eq!(e.inspect("dk", "{{.State.Status}}"), "running", "SIGTERM reached the container through a tty attach");
    // exec -it detaches too, and its process goes on under the shim.
    let mut t = Typed::start(&e, "exec -it --detach-keys ctrl-a,x dk sh");
    std::thread::sleep(std::time::Duration::from_millis(300));
    t.type_in(b"echo from-exec > /tmp/seen; exec sleep 300\n");
    wait_until("the exec's shell ran", || e.run(&["exec", "dk", "cat", "/tmp/seen"]).stdout == b"from-exec\n");
    t.type_in(b"\x01x");
    assert_eq!(t.ended(), Some(0), "exec -it did not detach on ctrl-a,x");
    let procs = e.ok(&["exec", "dk", "sh", "-c", "ps -o comm | grep -c sleep"]);
    assert_eq!(procs, "1", "the detached exec's process did not go on");
    e.ok(&["rm", "-f", "dk"]);
}

#[test]
fn a_missing_workdir_is_made() {
    let e = Env::new();
    let out =
        e.ok(&["run", "--rm", "--network", "none", "-w", "/srv/app/data", IMG, "sh", "-c", "pwd; stat -c '%a %u' ."]);
    assert_eq!(out, "/srv/app/data\n755 0");
    // A file where the directory should be: a clear error, nothing left.
    let out = e.run(&["run", "--rm", "--network", "none", "-w", "/etc/passwd/x", IMG, "true"]);
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("working directory /etc/passwd/x"), "{}", stderr_of(&out));
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn in_use_errors_name_the_right_thing_and_inspect_takes_a_format() {
    let e = Env::new();
    e.ok(&["network", "create", "--subnet", "10.93.0.0/24", "usednet"]);
    e.ok(&["volume", "create", "usedvol"]);
    e.ok(&["run", "-d", "--network", "usednet", "-v", "usedvol:/data", "--name", "user", IMG, "sleep", "300"]);
    let out = e.run(&["network", "rm", "usednet"]);
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(err.contains("network usednet id") && err.contains("has active endpoints"), "{err}");
    assert!(!err.contains("container"), "the wrong noun: {err}");
    let out = e.run(&["volume", "rm", "usedvol"]);
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("volume is in use"), "{}", stderr_of(&out));
    // volume inspect -f is a format, not a volume name.
    let mp = e.ok(&["volume", "inspect", "-f", "{{.Mountpoint}}", "usedvol"]);
    assert!(mp.ends_with("/usedvol/_data"), "{mp}");
    assert_eq!(e.ok(&["volume", "inspect", "--format", "{{.Name}}", "usedvol"]), "usedvol");
    e.ok(&["rm", "-f", "user"]);
    e.ok(&["network", "rm", "usednet"]);
    e.ok(&["volume", "rm", "usedvol"]);
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn save_to_stdout_and_load_from_stdin_plain_compressed_and_oci_archive() {
    let e = Env::new();
    let tmp = e._tmp.path();
    let id = e.inspect(IMG, "{{.Id}}");
    // hull save IMG | gzip > x.tar.gz; hull load < x.tar.gz (another store).
    let gz = tmp.join("bb.tar.gz");
    sh(&format!("{} save {IMG} | gzip > {}", hull_line(&e), gz.display()));
    let other = Env::new();
    let out = sh(&format!("{} load < {}", hull_line(&other), gz.display()));
    assert_eq!(out, format!("Loaded image: {IMG}:latest\n"));
    assert_eq!(other.inspect(IMG, "{{.Id}}"), id);
    // The plain tar through stdin, and zstd.
    let plain = tmp.join("bb.tar");
    sh(&format!("{} save -o {} {IMG}", hull_line(&e), plain.display()));
    sh(&format!("zstd -q -c {} > {}.zst", plain.display(), plain.display()));
    let third = Env::new();
    sh(&format!("{} load -q -i {}.zst", hull_line(&third), plain.display()));
    assert_eq!(third.inspect(IMG, "{{.Id}}"), id);
    // An oci-archive, as skopeo (and podman save --format oci-archive) write it.
    let oci = tmp.join("bb-oci.tar");
    sh(&format!(
        "skopeo copy --quiet docker-archive:{} oci-archive:{}:localhost/ocibb:3",
        plain.display(),
        oci.display()
    ));
    let out = sh(&format!("{} load < {}", hull_line(&third), oci.display()));
    assert_eq!(out, "Loaded image: localhost/ocibb:3\n");
    assert_eq!(third.inspect("localhost/ocibb:3", "{{.Id}}"), id);
    // Not an archive: a clear error, nothing tagged, nothing spooled left.
    let junk = tmp.join("junk");
    std::fs::write(&junk, b"not a tar at all, just text").unwrap();
    let out =
        Command::new("sh").args(["-c", &format!("{} load < {}", hull_line(&third), junk.display())]).output().unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not"), "{}", text(&out.stderr));
    let spooled: Vec<_> = std::fs::read_dir(&third.root)
        .unwrap()
        .flatten()
        .filter(|d| d.file_name().to_string_lossy().starts_with(".load-"))
        .collect();
    assert!(spooled.is_empty(), "spool left behind");
}

/// The hull command line of an Env, for shell pipelines.
fn hull_line(e: &Env) -> String {
    let c = e.cmd();
    let envs: Vec<String> =
        c.get_envs().filter_map(|(k, v)| Some(format!("{}={}", k.to_str()?, v?.to_str()?))).collect();
    let args: Vec<String> = c.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    format!("env {} {} {}", envs.join(" "), c.get_program().to_string_lossy(), args.join(" "))
}

#[test]
fn cp_dash_streams_a_tar_both_ways() {
    let e = Env::new();
    e.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        "cpd",
        IMG,
        "sh",
        "-c",
        "mkdir -p /data && echo hello > /data/f && sleep 300",
    ]);
    wait_until("cpd's file", || e.run(&["exec", "cpd", "cat", "/data/f"]).stdout == b"hello\n");
    // To stdout: a tar stream, no file named `-` anywhere.
    let dir = e._tmp.path().join("cpout");
    std::fs::create_dir(&dir).unwrap();
    let listing = sh(&format!("cd {} && {} cp cpd:/data - | tar -tvf -", dir.display(), hull_line(&e)));
    assert!(listing.contains("data/f"), "{listing}");
    assert!(!dir.join("-").exists(), "a file named - was written");
    // From stdin: unpacked into the directory.
    let src = e._tmp.path().join("in");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("sub/g"), "from the host\n").unwrap();
    sh(&format!("tar -C {} -cf - sub | {} cp - cpd:/data", src.display(), hull_line(&e)));
    assert_eq!(e.ok(&["exec", "cpd", "cat", "/data/sub/g"]), "from the host");
    // Into a file: docker's error.
    let out = Command::new("sh")
        .args(["-c", &format!("tar -C {} -cf - sub | {} cp - cpd:/data/f", src.display(), hull_line(&e))])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("must be a directory"), "{}", text(&out.stderr));
    e.ok(&["rm", "-f", "cpd"]);
}

#[test]
fn dash_v_with_one_path_is_an_anonymous_volume() {
    let e = Env::new();
    // --rm removes it with the container.
    e.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        "/scratch",
        IMG,
        "sh",
        "-c",
        "touch /scratch/x && grep -q ' /scratch ' /proc/mounts",
    ]);
    assert_eq!(e.ok(&["volume", "ls", "-q"]), "");
    // Kept by a container, named by a random id, gone with rm -v.
    e.ok(&["run", "-d", "--network", "none", "--name", "anon", "-v", "/scratch", IMG, "sleep", "300"]);
    let name = e.ok(&["volume", "ls", "-q"]);
    assert_eq!(name.len(), 64, "{name}");
    e.ok(&["rm", "-f", "-v", "anon"]);
    assert_eq!(e.ok(&["volume", "ls", "-q"]), "");
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn group_add_joins_more_groups() {
    let e = Env::new();
    let out = e.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-u",
        "1:1",
        "--group-add",
        "tty",
        "--group-add",
        "1234",
        IMG,
        "id",
        "-G",
    ]);
    assert_eq!(out, "1 5 1234");
    let out = e.run(&["run", "--rm", "--network", "none", "--group-add", "nosuchgroup", IMG, "true"]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("--group-add nosuchgroup"), "{}", stderr_of(&out));
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn stop_with_a_signal_of_ones_choice() {
    let e = Env::new();
    e.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        "st",
        IMG,
        "sh",
        "-c",
        "trap 'echo got-usr1; exit 3' USR1; echo ready; while true; do sleep 0.1; done",
    ]);
    wait_until("st ready", || e.run(&["logs", "st"]).stdout.starts_with(b"ready"));
    e.ok(&["stop", "-s", "SIGUSR1", "-t", "20", "st"]);
    assert_eq!(e.inspect("st", "{{.State.ExitCode}}"), "3");
    assert!(e.ok(&["logs", "st"]).contains("got-usr1"));
    let out = e.run(&["stop", "-s", "SIGNOPE", "st"]);
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("SIGNOPE"), "{}", stderr_of(&out));
    e.ok(&["rm", "-f", "st"]);
}

#[test]
fn ps_filters_by_network_volume_port_and_order() {
    let e = Env::new();
    e.ok(&["network", "create", "--subnet", "10.94.0.0/24", "psnet"]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "first",
        "--network",
        "psnet",
        "-v",
        "psvol:/d",
        "-p",
        "18080:80",
        IMG,
        "sleep",
        "300",
    ]);
    e.ok(&["run", "-d", "--name", "second", "--network", "none", IMG, "sleep", "300"]);
    let names = |f: &str| e.ok(&["ps", "-a", "--filter", f, "--format", "{{.Names}}"]);
    assert_eq!(names("network=psnet"), "first");
    assert_eq!(names("network=none"), "second");
    assert_eq!(names("volume=psvol"), "first");
    assert_eq!(names("publish=80"), "first");
    assert_eq!(names("publish=80/udp"), "");
    assert_eq!(names("since=first"), "second");
    assert_eq!(names("before=second"), "first");
    let out = e.run(&["ps", "--filter", "before=nosuch"]);
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("No such container: nosuch"), "{}", stderr_of(&out));
    e.ok(&["rm", "-f", "-v", "first", "second"]);
    e.ok(&["volume", "rm", "psvol"]);
    e.ok(&["network", "rm", "psnet"]);
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn info_and_version_read_as_dockers() {
    let e = Env::new();
    let info = e.ok(&["info"]);
    for line in
        [" Cgroup Driver: cgroupfs", " Storage Driver: overlay", " OSType: linux", " Default Runtime: hull-runtime"]
    {
        assert!(info.contains(line), "{line:?} missing from\n{info}");
    }
    assert!(!info.contains("Hierarchy {") && !info.contains("Some("), "a Rust Debug dump in info:\n{info}");
    assert!(e.ok(&["version"]).contains("OS/Arch:      linux/amd64") || std::env::consts::ARCH != "x86_64");
}

#[test]
fn inspect_config_is_merged_with_the_images() {
    let e = Env::new();
    e.image_variant("localhost/app/cfg:1", |_, config, _| {
        let c = config.config.get_or_insert_with(Default::default);
        c.env = Some(vec!["PATH=/bin".into(), "MODE=image".into(), "KEEP=1".into()]);
        c.cmd = Some(vec!["sleep".into(), "300".into()]);
        c.working_dir = Some("/tmp".into());
        c.labels = Some([("from".to_string(), "image".to_string())].into_iter().collect());
        c.exposed_ports = Some([("80/tcp".to_string(), serde_json::json!({}))].into_iter().collect());
    });
    e.ok(&["create", "--name", "merged", "-e", "MODE=run", "-l", "extra=1", "-m", "64m", "localhost/app/cfg:1"]);
    let v: serde_json::Value = serde_json::from_str(&e.ok(&["inspect", "merged"])).unwrap();
    let cfg = &v[0]["Config"];
    assert_eq!(cfg["Cmd"], serde_json::json!(["sleep", "300"]));
    assert_eq!(cfg["Env"], serde_json::json!(["PATH=/bin", "KEEP=1", "MODE=run"]));
    assert_eq!(cfg["WorkingDir"], "/tmp");
    assert_eq!(cfg["Labels"], serde_json::json!({"from": "image", "extra": "1"}));
    assert_eq!(cfg["ExposedPorts"], serde_json::json!({"80/tcp": {}}));
    // docker's HostConfig default: -m alone gives as much swap again.
    assert_eq!(v[0]["HostConfig"]["MemorySwap"], 2 * 64 * 1024 * 1024);
    e.ok(&["rm", "merged"]);
}

/// A file of the container's cgroup in one v1 hierarchy, read on the host.
fn cgroup_file(e: &Env, id: &str, controller: &str, file: &str) -> String {
    let path = format!("/sys/fs/cgroup/{controller}/{}/{id}/{file}", e.parent);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}")).trim().to_string()
}

#[test]
fn resource_flags_reach_the_cgroup() {
    let e = Env::new();
    let id = e.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--memory",
        "64m",
        "--memory-reservation",
        "32m",
        "--oom-kill-disable",
        "--cpu-period",
        "50000",
        "--cpu-quota",
        "25000",
        "--cpuset-mems",
        "0",
        "--blkio-weight",
        "300",
        "--device-read-bps",
        "/dev/loop0:1mb",
        "--device-write-bps",
        "/dev/loop0:2mb",
        IMG,
        "sleep",
        "300",
    ]);
    assert_eq!(cgroup_file(&e, &id, "memory", "memory.soft_limit_in_bytes"), (32u64 << 20).to_string());
    assert!(cgroup_file(&e, &id, "memory", "memory.oom_control").contains("oom_kill_disable 1"));
    assert_eq!(cgroup_file(&e, &id, "cpu", "cpu.cfs_period_us"), "50000");
    assert_eq!(cgroup_file(&e, &id, "cpu", "cpu.cfs_quota_us"), "25000");
    assert_eq!(cgroup_file(&e, &id, "cpuset", "cpuset.mems"), "0");
    assert_eq!(cgroup_file(&e, &id, "blkio", "blkio.throttle.read_bps_device"), "7:0 1048576");
    assert_eq!(cgroup_file(&e, &id, "blkio", "blkio.throttle.write_bps_device"), "7:0 2097152");
    // docker's HostConfig names for them.
    let host = e.ok(&[
        "inspect", "-f",
        "{{.HostConfig.MemoryReservation}} {{.HostConfig.OomKillDisable}} {{.HostConfig.CpuPeriod}} {{.HostConfig.CpuQuota}} {{.HostConfig.CpusetMems}}",
        &id,
    ]);
    assert_eq!(host, format!("{} true 50000 25000 0", 32u64 << 20));
    e.ok(&["rm", "-f", &id]);
    // Bad values: docker's words, exit 125, nothing created.
    for (args, needle) in [
        (vec!["--memory", "32m", "--memory-reservation", "64m"], "can not be less than memory reservation limit"),
        (vec!["--cpus", "1", "--cpu-period", "50000"], "cannot both be set"),
        (vec!["--cpu-period", "100"], "CPU cfs period can not be less than 1ms"),
        (vec!["--cpu-quota", "10"], "CPU cfs quota can not be less than 1ms"),
        (vec!["--blkio-weight", "5"], "range is 10 to 1000"),
        (vec!["--device-read-bps", "/dev/null:1mb"], "/dev/null: not a block device"),
        (vec!["--device-write-bps", "loop0:1mb"], "want DEVICE:RATE"),
    ] {
        e.refused_at_run(&[&["--network", "none"][..], &args].concat(), needle);
    }
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn pid_ipc_and_uts_namespaces_shared_as_docker_shares_them() {
    let e = Env::new();
    e.ok(&["run", "-d", "--network", "none", "--name", "first", "--ipc", "shareable", IMG, "sleep", "300"]);
    e.ok(&["run", "-d", "--network", "none", "--name", "private", IMG, "sleep", "300"]);
    // --pid container:first: its sleep is pid 1 here.
    assert_eq!(
        e.ok(&["run", "--rm", "--network", "none", "--pid", "container:first", IMG, "cat", "/proc/1/comm"]),
        "sleep"
    );
    // --pid host: the host's processes, this test among them.
    let me = std::process::id().to_string();
    let out = e.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--pid",
        "host",
        IMG,
        "sh",
        "-c",
        &format!("test -d /proc/{me} && echo seen"),
    ]);
    assert_eq!(out, "seen");
    // --ipc container:first: the same IPC namespace and /dev/shm (docker's
    // way: a shareable container's /dev/shm is a tmpfs on the host).
    e.ok(&["exec", "first", "sh", "-c", "echo shared > /dev/shm/mark"]);
    let first_ipc = e.ok(&["exec", "first", "readlink", "/proc/self/ns/ipc"]);
    let out = e.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--ipc",
        "container:first",
        IMG,
        "sh",
        "-c",
        "readlink /proc/self/ns/ipc; cat /dev/shm/mark",
    ]);
    assert_eq!(out, format!("{first_ipc}\nshared"));
    // --ipc none: no /dev/shm at all; --ipc host: the host's.
    let out = e.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--ipc",
        "none",
        IMG,
        "sh",
        "-c",
        "grep -c ' /dev/shm ' /proc/self/mountinfo",
    ]);
    assert_eq!(text(&out.stdout).trim(), "0");
    let mark = format!("/dev/shm/hull-test-{me}");
    let out = e.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--ipc",
        "host",
        IMG,
        "sh",
        "-c",
        &format!("echo host > {mark}; readlink /proc/self/ns/ipc"),
    ]);
    assert_eq!(std::fs::read_to_string(&mark).unwrap_or_default(), "host\n");
    let _ = std::fs::remove_file(&mark);
    assert_eq!(out, std::fs::read_link("/proc/self/ns/ipc").unwrap().to_str().unwrap());
    // --uts host: the host's names, HOSTNAME too; --domainname in its own.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string();
    let out = e.ok(&["run", "--rm", "--network", "none", "--uts", "host", IMG, "sh", "-c", "hostname; echo $HOSTNAME"]);
    assert_eq!(out, format!("{host}\n{host}"));
    assert_eq!(
        e.ok(&[
            "run",
            "--rm",
            "--network",
            "none",
            "--domainname",
            "example.org",
            IMG,
            "cat",
            "/proc/sys/kernel/domainname"
        ]),
        "example.org"
    );
    // Bad modes and conflicts: exit 125, nothing made.
    for (args, needle) in [
        (vec!["--pid", "sideways"], "invalid PID mode: sideways"),
        (vec!["--ipc", "container:"], "invalid IPC mode: container:"),
        (vec!["--uts", "container:first"], "invalid UTS mode: container:first"),
        (vec!["--uts", "host", "-h", "name"], "conflicting options: hostname and the UTS mode"),
        (vec!["--pid", "container:nosuch"], "nosuch"),
        (vec!["--ipc", "container:private"], "its IPC is not shareable"),
    ] {
        e.refused_at_run(&[&["--network", "none"][..], &args].concat(), needle);
    }
    e.ok(&["stop", "-t", "0", "first"]);
    let out = e.run(&["run", "--rm", "--network", "none", "--ipc", "container:first", IMG, "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr_of(&out).contains("it is not running"), "{}", stderr_of(&out));
    e.ok(&["rm", "first"]);
    e.ok(&["rm", "-f", "private"]);
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn cidfile_label_file_expose_platform_and_log_drivers() {
    let e = Env::new();
    let dir = e.root.parent().unwrap().to_path_buf();
    let cid = dir.join("cid");
    let labels = dir.join("labels");
    std::fs::write(&labels, "# team labels\nteam=db\ntier=back\n").unwrap();
    let id = e.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--cidfile",
        cid.to_str().unwrap(),
        "--label-file",
        labels.to_str().unwrap(),
        "-l",
        "tier=front",
        "--expose",
        "7000-7001/udp",
        "--platform",
        "linux/amd64",
        "--log-driver",
        "none",
        IMG,
        "sh",
        "-c",
        "echo said; sleep 300",
    ]);
    assert_eq!(std::fs::read_to_string(&cid).unwrap(), id);
    assert_eq!(e.ok(&["inspect", "-f", "{{.Config.Labels.team}} {{.Config.Labels.tier}}", &id]), "db front");
    let exposed = e.ok(&["inspect", "-f", "{{json .Config.ExposedPorts}}", &id]);
    assert!(exposed.contains("\"7000/udp\"") && exposed.contains("\"7001/udp\""), "{exposed}");
    assert_eq!(e.ok(&["inspect", "-f", "{{.HostConfig.LogConfig.Type}}", &id]), "none");
    // `none` keeps nothing, and logs says so as docker does.
    let out = e.run(&["logs", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("configured logging driver does not support reading"), "{}", stderr_of(&out));
    // A second run with the same cidfile is refused before anything is made.
    let out = e.run(&["run", "-d", "--network", "none", "--cidfile", cid.to_str().unwrap(), IMG, "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr_of(&out).contains("Container ID file found"), "{}", stderr_of(&out));
    e.ok(&["rm", "-f", &id]);
    // `local` is read back by logs.
    let id = e.ok(&["run", "-d", "--network", "none", "--log-driver", "local", IMG, "echo", "kept"]);
    e.ok(&["wait", &id]);
    assert_eq!(e.ok(&["logs", &id]), "kept");
    e.ok(&["rm", &id]);
    for (args, needle) in [
        (vec!["--platform", "linux/arm64"], "platform linux/arm64"),
        (vec!["--log-driver", "syslog"], "invalid --log-driver \"syslog\""),
        (vec!["--log-driver", "none", "--log-opt", "max-size=1m"], "takes no --log-opt"),
        (vec!["--expose", "0"], "invalid --expose"),
        (vec!["--label-file", "/nonexistent"], "open --label-file /nonexistent"),
    ] {
        e.refused_at_run(&[&["--network", "none"][..], &args].concat(), needle);
    }
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn volumes_from_links_mac_address_and_attached_streams() {
    let e = Env::new();
    let dir = e.root.parent().unwrap().join("shared");
    std::fs::create_dir(&dir).unwrap();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "db",
        "-v",
        "data:/data",
        "-v",
        &format!("{}:/host", dir.display()),
        "--tmpfs",
        "/scratch",
        IMG,
        "sh",
        "-c",
        "echo from-db > /data/f; sleep 300",
    ]);
    // --volumes-from: the same volume and bind (not the tmpfs); :ro makes them read-only.
    let out = e.ok(&[
        "run",
        "--rm",
        "--volumes-from",
        "db",
        IMG,
        "sh",
        "-c",
        "cat /data/f; echo x > /host/w && echo bind-writable; mountpoint -q /scratch || echo no-tmpfs",
    ]);
    assert_eq!(out, "from-db\nbind-writable\nno-tmpfs");
    let out = e.run(&["run", "--rm", "--volumes-from", "db:ro", IMG, "sh", "-c", "cat /data/f; echo y > /data/g"]);
    assert_eq!(text(&out.stdout).trim(), "from-db");
    assert!(text(&out.stderr).contains("Read-only file system"), "{}", text(&out.stderr));
    // Sharing does not make the volume ours: rm -v of the sharer keeps it.
    e.ok(&["run", "--name", "sharer", "--volumes-from", "db", IMG, "true"]);
    e.ok(&["rm", "-v", "sharer"]);
    assert!(e.ok(&["volume", "ls", "-q"]).lines().any(|l| l == "data"));
    // --link db:database: /etc/hosts names db's address under the alias.
    let db_ip = e.ok(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "db"]);
    let hosts = e.ok(&["run", "--rm", "--link", "db:database", IMG, "grep", "database", "/etc/hosts"]);
    assert!(hosts.starts_with(&format!("{db_ip}\tdatabase ")) && hosts.ends_with(" db"), "{hosts}");
    // --mac-address on the default bridge.
    let mac = "92:d0:c6:0a:29:33";
    let out = e.ok(&["run", "--rm", "--mac-address", mac, IMG, "cat", "/sys/class/net/eth0/address"]);
    assert_eq!(out, mac);
    // -a stdout: only stdout comes through.
    let out = e.run(&["run", "--rm", "--network", "none", "-a", "stdout", IMG, "sh", "-c", "echo out; echo err >&2"]);
    assert_eq!((text(&out.stdout).as_str(), text(&out.stderr).as_str()), ("out\n", ""));
    let out = e.run(&["run", "--rm", "--network", "none", "-a", "STDERR", IMG, "sh", "-c", "echo out; echo err >&2"]);
    assert_eq!((text(&out.stdout).as_str(), text(&out.stderr).as_str()), ("", "err\n"));
    // Bad input: docker's words, exit 125, nothing created.
    e.ok(&["stop", "-t", "0", "db"]);
    for (args, needle) in [
        (vec!["--volumes-from", "nosuch"], "nosuch"),
        (vec!["--volumes-from", "db:rx"], "mode must be ro or rw"),
        (vec!["--link", "nosuch:x"], "nosuch"),
        (vec!["--link", "db:database"], "Cannot link to a non running container: /db AS /"),
        (vec!["--mac-address", "92:d0"], "invalid --mac-address"),
        (vec!["--mac-address", mac, "--network", "none"], "conflicting options: --mac-address"),
        (vec!["-a", "stdlog"], "valid streams are STDIN, STDOUT and STDERR"),
        (vec!["-d", "-a", "stdout"], "Conflicting options: -a and -d"),
    ] {
        e.refused_at_run(&args, needle);
    }
    e.ok(&["rm", "db"]);
    e.ok(&["volume", "rm", "data"]);
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

/// Runs hull with `input` on its stdin (a prompt's answer).
fn with_stdin(e: &Env, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = e
        .cmd()
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn layer_count(e: &Env) -> usize {
    std::fs::read_dir(e.root.join("snapshots/layers")).map_or(0, |d| d.count())
}

#[test]
fn rmi_prune_and_df_account_for_layers_as_docker_does() {
    let e = Env::new();
    let big = vec![b'x'; 300_000];
    image_with_layer(&e, "localhost/app:1", tar_of(&[file("app.bin", &big)]));
    // Unpacked by a first use; shared layers (busybox's) counted once.
    e.ok(&["run", "--rm", "--network", "none", "localhost/app:1", "true"]);
    let before = layer_count(&e);
    let df = e.ok(&["system", "df"]);
    let header: Vec<&str> = df.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], "{df}");
    assert!(df.lines().any(|l| l.starts_with("Images") && l.split_whitespace().nth(1) == Some("2")), "{df}");
    assert!(df.contains("Build Cache"), "{df}");
    // rmi frees the layer no remaining image uses, at once.
    let app1 = e.ok(&["image", "inspect", "--format", "{{.Id}}", "localhost/app:1"]);
    assert_eq!(e.ok(&["rmi", "localhost/app:1"]), format!("Untagged: localhost/app:1\nDeleted: {app1}"));
    assert_eq!(layer_count(&e), before - 1, "the app's unpacked layer stayed");
    // An image a container uses: refused without -f, in docker's words...
    image_with_layer(&e, "localhost/app:2", tar_of(&[file("app.bin", &big)]));
    e.ok(&["create", "--name", "user", "--network", "none", "localhost/app:2", "true"]);
    let out = e.run(&["rmi", "localhost/app:2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("unable to remove repository reference \"localhost/app:2\" (must force) - container"),
        "{}",
        stderr_of(&out)
    );
    // ...and with -f it loses its name and stays as <none>, still startable.
    assert_eq!(e.ok(&["rmi", "-f", "localhost/app:2"]), "Untagged: localhost/app:2");
    let listed = e.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(listed.lines().any(|l| l == "<none>:<none>"), "{listed}");
    assert_eq!(e.ok(&["images", "-q", "--filter", "dangling=true"]).lines().count(), 1);
    e.ok(&["start", "-a", "user"]);
    // Prunes ask first; anything but y keeps everything.
    let out = with_stdin(&e, &["container", "prune"], "n\n");
    assert!(
        text(&out.stdout).starts_with(
            "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] "
        ),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(e.ok(&["ps", "-aq"]).lines().count(), 1, "a refused prune removed something");
    let out = with_stdin(&e, &["image", "prune"], "");
    assert!(text(&out.stdout).contains("This will remove all dangling images."));
    assert_eq!(e.ok(&["images", "-q", "--filter", "dangling=true"]).lines().count(), 1);
    // The <none> image goes with its last container and a prune.
    e.ok(&["network", "create", "unused"]);
    let out = with_stdin(&e, &["system", "prune"], "y\n");
    let said = text(&out.stdout);
    assert!(said.contains("  - all networks not used by at least one container"), "{said}");
    assert!(said.contains("Deleted Containers:") && said.contains("Deleted Networks:\nunused"), "{said}");
    assert!(said.contains("Total reclaimed space: "), "{said}");
    assert_eq!(e.ok(&["images", "-q", "--filter", "dangling=true"]), "");
    assert!(!e.ok(&["network", "ls", "--format", "{{.Name}}"]).lines().any(|l| l == "unused"));
    assert_eq!(layer_count(&e), before - 1);
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn ps_size_command_created_at_and_list_filters() {
    let e = Env::new();
    e.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        "quoted",
        "--expose",
        "8125/udp",
        IMG,
        "sh",
        "-c",
        "echo data > /big; sleep 300",
    ]);
    // COMMAND as docker shows it: arguments with spaces in single quotes,
    // cut to 20 characters, the whole in double quotes.
    let cmd = e.ok(&["ps", "--format", "{{.Command}}"]);
    assert_eq!(cmd, "\"sh -c 'echo data > …\"");
    let full = e.ok(&["ps", "--no-trunc", "--format", "{{.Command}}"]);
    assert_eq!(full, "\"sh -c 'echo data > /big; sleep 300'\"");
    // CreatedAt in Go's time format.
    let at = e.ok(&["ps", "--format", "{{.CreatedAt}}"]);
    let shape: String = at.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect();
    assert_eq!(shape, "9999-99-99 99:99:99 +9999 UTC", "{at}");
    assert!(at.ends_with(" +0000 UTC"), "{at}");
    // -s: what it wrote, and with its image.
    wait_until("the write", || e.run(&["exec", "quoted", "cat", "/big"]).status.success());
    let size = e.ok(&["ps", "-s", "--format", "{{.Size}}"]);
    assert!(
        size.contains(" (virtual ") && size.ends_with("MB)") && size.chars().next().unwrap().is_ascii_digit(),
        "{size}"
    );
    assert!(e.ok(&["ps", "-s"]).lines().next().unwrap().ends_with("SIZE"));
    // expose= filter.
    assert_eq!(e.ok(&["ps", "-q", "--filter", "expose=8125/udp"]).lines().count(), 1);
    assert_eq!(e.ok(&["ps", "-q", "--filter", "expose=8125/tcp"]), "");
    // network ls and volume ls filters.
    e.ok(&["network", "create", "--label", "team=db", "dbnet"]);
    e.ok(&["network", "create", "webnet"]);
    e.ok(&["volume", "create", "--label", "keep=yes", "kept"]);
    e.ok(&["volume", "create", "loose"]);
    e.ok(&["run", "-d", "--network", "webnet", "-v", "loose:/l", "--name", "user", IMG, "sleep", "300"]);
    let names = |args: &[&str]| -> Vec<String> { e.ok(args).lines().map(String::from).collect() };
    assert_eq!(names(&["network", "ls", "--format", "{{.Name}}", "--filter", "label=team=db"]), ["dbnet"]);
    assert_eq!(names(&["network", "ls", "--format", "{{.Name}}", "--filter", "name=web"]), ["webnet"]);
    assert_eq!(names(&["network", "ls", "--format", "{{.Name}}", "--filter", "dangling=true"]), ["dbnet"]);
    assert!(!names(&["network", "ls", "--format", "{{.Name}}", "--filter", "type=custom"]).is_empty());
    assert_eq!(names(&["network", "ls", "--format", "{{.Name}}", "--filter", "driver=macvlan"]), Vec::<String>::new());
    assert_eq!(names(&["volume", "ls", "-q", "--filter", "label=keep"]), ["kept"]);
    assert_eq!(names(&["volume", "ls", "-q", "--filter", "dangling=true"]), ["kept"]);
    assert_eq!(names(&["volume", "ls", "-q", "--filter", "dangling=false"]), ["loose"]);
    assert_eq!(names(&["volume", "ls", "-q", "--filter", "name=oo"]), ["loose"]);
    for args in [
        vec!["network", "ls", "--filter", "colour=red"],
        vec!["volume", "ls", "--filter", "dangling=maybe"],
        vec!["network", "ls", "--filter", "type=odd"],
    ] {
        let out = e.run(&args);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(stderr_of(&out).contains("invalid filter"), "{args:?}: {}", stderr_of(&out));
    }
    e.ok(&["rm", "-f", "quoted", "user"]);
    e.ok(&["network", "rm", "dbnet", "webnet"]);
    e.ok(&["volume", "rm", "kept", "loose"]);
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn stats_format_logs_details_image_inspect_format_and_healthcheck() {
    let e = Env::new();
    e.image_variant("localhost/checked:1", |_, config, _| {
        let exec = config.config.get_or_insert_with(Default::default);
        exec.healthcheck = Some(serde_json::json!({"Test": ["CMD-SHELL", "true"], "Interval": 30_000_000_000u64}));
    });
    let id = e.ok(&[
        "run",
        "-d",
        "--name",
        "watched",
        "-l",
        "team=db",
        "-e",
        "STAGE=test",
        "--log-opt",
        "labels=team",
        "--log-opt",
        "env=STAGE",
        "localhost/checked:1",
        "sh",
        "-c",
        "echo hello; dd if=/dev/zero of=/tmp/f bs=1k count=64 2>/dev/null; sleep 300",
    ]);
    // stats: docker's columns, NET I/O and BLOCK I/O among them, and --format.
    let table = e.ok(&["stats", "--no-stream", "watched"]);
    let head = table.lines().next().unwrap();
    for col in ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"] {
        assert!(head.contains(col), "{head}");
    }
    let line = e.ok(&["stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}} {{.NetIO}}", "watched"]);
    let f: Vec<&str> = line.split(' ').collect();
    // (sh execs its last command: sleep is the only process.)
    assert_eq!((f[0], f[1]), ("watched", "1"), "{line}");
    assert!(f[2].ends_with('B') && f[4].ends_with('B') && f[3] == "/", "{line}");
    assert_eq!(e.ok(&["stats", "--no-stream", "--format", "{{.Container}}", &id[..12]]), &id[..12]);
    // logs --details: the labels and env --log-opt named, before each line.
    wait_until("the log line", || e.ok(&["logs", "watched"]) == "hello");
    assert_eq!(e.ok(&["logs", "--details", "watched"]), "STAGE=test,team=db hello");
    // image inspect --format, and the image's Healthcheck in the container's Config.
    let img_id = e.ok(&["image", "inspect", "--format", "{{.Id}}", "localhost/checked:1"]);
    assert!(img_id.starts_with("sha256:") && img_id.len() == 71, "{img_id}");
    assert_eq!(
        e.ok(&["image", "inspect", "-f", "{{json .Config.Healthcheck.Test}}", "localhost/checked:1"]),
        r#"["CMD-SHELL","true"]"#
    );
    assert_eq!(e.ok(&["inspect", "-f", "{{json .Config.Healthcheck.Test}}", "watched"]), r#"["CMD-SHELL","true"]"#);
    e.ok(&["rm", "-f", "watched"]);
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn update_changes_limits_live_and_for_later_starts() {
    let e = Env::new();
    let id = e.ok(&["run", "-d", "--network", "none", "--name", "up", "-m", "64m", IMG, "sleep", "300"]);
    assert_eq!(cgroup_file(&e, &id, "memory", "memory.limit_in_bytes"), (64u64 << 20).to_string());
    assert_eq!(
        e.ok(&[
            "update",
            "-m",
            "128m",
            "--cpus",
            "0.5",
            "--pids-limit",
            "50",
            "--cpu-shares",
            "512",
            "--restart",
            "on-failure:2",
            "up"
        ]),
        "up"
    );
    // Live, in the cgroup...
    assert_eq!(cgroup_file(&e, &id, "memory", "memory.limit_in_bytes"), (128u64 << 20).to_string());
    assert_eq!(cgroup_file(&e, &id, "cpu", "cpu.cfs_quota_us"), "50000");
    assert_eq!(cgroup_file(&e, &id, "cpu", "cpu.shares"), "512");
    assert_eq!(cgroup_file(&e, &id, "pids", "pids.max"), "50");
    // ...in what inspect says, and after a restart.
    let host = e.inspect(
        "up",
        "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}",
    );
    assert_eq!(host, format!("{} 500000000 50 on-failure", 128u64 << 20));
    e.ok(&["restart", "-t", "0", "up"]);
    assert_eq!(cgroup_file(&e, &id, "memory", "memory.limit_in_bytes"), (128u64 << 20).to_string());
    // A stopped container takes it for its next start.
    e.ok(&["stop", "-t", "0", "up"]);
    e.ok(&["update", "--pids-limit", "40", "up"]);
    e.ok(&["start", "up"]);
    assert_eq!(cgroup_file(&e, &id, "pids", "pids.max"), "40");
    // Bad input: the error, status 1, the container as it was.
    for (args, needle) in [
        (vec!["update", "-m", "lots", "up"], "invalid size for --memory"),
        (vec!["update", "--cpu-quota", "10", "up"], "CPU cfs quota can not be less than 1ms"),
        (vec!["update", "-m", "1m", "up"], "minimum memory limit allowed is 6MB"),
        (vec!["update", "--restart", "sometimes", "up"], "restart policy"),
        (vec!["update", "-m", "64m", "nosuch"], "No such container: nosuch"),
    ] {
        let out = e.run(&args);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(stderr_of(&out).contains(needle), "{args:?}: {}", stderr_of(&out));
    }
    assert_eq!(cgroup_file(&e, &id, "pids", "pids.max"), "40");
    e.ok(&["rm", "-f", "up"]);
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}
