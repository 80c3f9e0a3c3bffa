//! Images made by Hull: `commit`, `diff`, `export`, `import` and
//! `history`, with what Hull writes read back by umoci (whiteouts, opaque
//! directories, hard links, owners) and bad input refused leaving nothing.

mod common;
use common::*;

fn tar_names(path: &Path) -> Vec<String> {
    let out = Command::new("tar").arg("-tf").arg(path).output().unwrap();
    assert!(out.status.success(), "tar -tf: {}", text(&out.stderr));
    text(&out.stdout).lines().map(|l| l.trim_end_matches('/').trim_start_matches("./").to_string()).collect()
}

#[test]
fn commit_diff_and_history_make_images_other_tools_read() {
    let e = Env::new();
    let script = "echo hi > /etc/greeting; rm /etc/group; mkdir -p /data/sub /gone; echo x > /data/sub/f; \
                  ln /data/sub/f /data/hard; chown 1234:5678 /data/sub/f; chmod 4750 /data/sub/f; \
                  ln -s ../etc/greeting /data/link; sleep 300";
    e.ok(&["run", "-d", "--name", "box", "--network", "none", IMG, "sh", "-c", script]);
    wait_until("its changes", || e.ok(&["diff", "box"]).contains("/data/link"));
    let diff = e.ok(&["diff", "box"]);
    for want in ["C /etc", "A /etc/greeting", "D /etc/group", "A /data", "A /data/sub/f", "A /data/hard"] {
        assert!(diff.lines().any(|l| l == want), "no {want:?} in:\n{diff}");
    }
    // A running container is committed (paused meanwhile), with changes.
    let id = e.ok(&[
        "commit",
        "-c",
        r#"CMD ["cat", "/etc/greeting"]"#,
        "-c",
        "ENV FOO=bar",
        "-m",
        "first",
        "-a",
        "Jane <jane@example.com>",
        "box",
        "localhost/committed:1",
    ]);
    assert!(id.starts_with("sha256:"), "{id}");
    assert_eq!(e.inspect("box", "{{.State.Status}}"), "running", "commit left it paused");
    assert_eq!(e.ok(&["run", "--rm", "--network", "none", "localhost/committed:1"]), "hi");
    let seen = e.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "localhost/committed:1",
        "sh",
        "-c",
        "test ! -e /etc/group && cat /data/hard && echo $FOO && stat -c '%u:%g %a %h' /data/sub/f && readlink /data/link",
    ]);
    assert_eq!(seen, "x\nbar\n1234:5678 4750 2\n../etc/greeting");
    let history = e.ok(&["history", "--no-trunc", "localhost/committed:1"]);
    let top = history.lines().nth(1).unwrap_or_default();
    assert!(top.starts_with(&id) && top.ends_with("first"), "{history}");
    assert!(e.ok(&["image", "inspect", "localhost/committed:1"]).contains("Jane <jane@example.com>"));

    // A directory removed and made again is opaque in the next layer.
    e.ok(&[
        "run",
        "--name",
        "second",
        "--network",
        "none",
        "localhost/committed:1",
        "sh",
        "-c",
        "rm -rf /data && mkdir /data && echo new > /data/only && rm -rf /gone",
    ]);
    e.ok(&["commit", "second", "localhost/committed:2"]);
    let listing = e.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "localhost/committed:2",
        "sh",
        "-c",
        "ls -A /data; ls -d /gone 2>&1; true",
    ]);
    assert_eq!(listing.lines().next(), Some("only"), "{listing}");
    assert!(listing.contains("No such file"), "{listing}");

    // umoci reads what Hull wrote: the same files, whiteouts applied.
    let layout = e.root.with_extension("layout");
    e.ok(&["image", "save", "-o", &format!("oci:{}", layout.display()), "localhost/committed:2"]);
    let bundle = e.root.with_extension("bundle");
    let tags = Command::new("umoci").args(["ls", "--layout"]).arg(&layout).output().unwrap();
    let tag = text(&tags.stdout).lines().next().unwrap_or_default().to_string();
    let out = Command::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:{tag}", layout.display()))
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(out.status.success(), "umoci unpack {tag:?}: {}", text(&out.stderr));
    let rootfs = bundle.join("rootfs");
    assert_eq!(std::fs::read_to_string(rootfs.join("etc/greeting")).unwrap(), "hi\n");
    assert!(!rootfs.join("etc/group").exists());
    assert!(!rootfs.join("gone").exists());
    let mut data: Vec<String> = std::fs::read_dir(rootfs.join("data"))
        .unwrap()
        .map(|d| d.unwrap().file_name().to_string_lossy().into())
        .collect();
    data.sort();
    assert_eq!(data, ["only"]);
    let _ = std::fs::remove_dir_all(&bundle);

    // Bad input: no such container, a digest as the name; nothing made.
    let before = e.ok(&["images", "-q"]);
    let out = e.run(&["commit", "ghost", "localhost/x:1"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("No such container: ghost"), "{}", text(&out.stderr));
    let out = e.run(&[
        "commit",
        "box",
        "localhost/x@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    ]);
    assert_ne!(out.status.code(), Some(0));
    let out = e.run(&["commit", "-c", "RUN rm -rf /", "box"]);
    assert!(text(&out.stderr).contains("RUN is not a valid change command"), "{}", text(&out.stderr));
    assert_eq!(e.ok(&["images", "-q"]), before);
    e.ok(&["rm", "-f", "box", "second"]);
    e.ok(&["rmi", "localhost/committed:1", "localhost/committed:2"]);
    e.assert_clean();
}

#[test]
fn export_and_import_round_trip_and_refuse_what_is_not_a_tar() {
    let e = Env::new();
    e.ok(&["run", "--name", "src", "--network", "none", IMG, "sh", "-c", "mkdir /made && echo kept > /made/file"]);
    let tar = e.root.with_extension("export.tar");
    e.ok(&["export", "-o", &tar.display().to_string(), "src"]);
    let names = tar_names(&tar);
    assert!(names.iter().any(|n| n == "made/file"), "{names:?}");
    assert!(names.iter().any(|n| n == "bin/busybox"), "the image's files are in it too");
    assert!(!names.iter().any(|n| n.starts_with("proc/") && n.len() > 5), "kernel files in the export");
    // Gzip-compressed and plain both import; --change sets the command.
    let gz = e.root.with_extension("export.tar.gz");
    sh(&format!("gzip -c {} > {}", tar.display(), gz.display()));
    for (file, name) in [(&tar, "localhost/imported:plain"), (&gz, "localhost/imported:gz")] {
        let id = e.ok(&[
            "import",
            "-c",
            r#"CMD ["cat", "/made/file"]"#,
            "-m",
            "from a tar",
            &file.display().to_string(),
            name,
        ]);
        assert!(id.starts_with("sha256:"));
        assert_eq!(e.ok(&["run", "--rm", "--network", "none", name]), "kept");
    }
    // The same content gives the same layer.
    let diff = |n: &str| e.ok(&["image", "inspect", "-f", "{{json .RootFS.Layers}}", n]);
    assert_eq!(diff("localhost/imported:plain"), diff("localhost/imported:gz"));
    // What is not a tar is refused by name, and nothing is left.
    let before = e.ok(&["images", "-q"]);
    let junk = e.root.with_extension("junk");
    std::fs::write(&junk, vec![b'x'; 5000]).unwrap();
    let out = e.run(&["import", &junk.display().to_string(), "localhost/bad:1"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("not a tar"), "{}", text(&out.stderr));
    let out = e.run(&["import", "/nonexistent.tar", "localhost/bad:2"]);
    assert!(text(&out.stderr).contains("/nonexistent.tar"), "{}", text(&out.stderr));
    // Unknown containers and images are named; a failed export leaves no file.
    let lost = e.root.with_extension("lost.tar");
    for args in [
        vec!["diff", "ghost"],
        vec!["export", "-o", lost.to_str().unwrap(), "ghost"],
        vec!["history", "localhost/ghost:1"],
    ] {
        let out = e.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(text(&out.stderr).contains("ghost"), "{args:?}: {}", text(&out.stderr));
    }
    let parts: Vec<_> = std::fs::read_dir(lost.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|d| d.file_name().to_string_lossy().contains("lost.tar"))
        .map(|d| d.file_name())
        .collect();
    assert!(parts.is_empty(), "a failed export left {parts:?}");
    assert_eq!(e.ok(&["images", "-q"]), before);
    let ingest = e.root.join("image/ingest");
    let left: Vec<_> =
        std::fs::read_dir(&ingest).map(|d| d.flatten().map(|x| x.file_name()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "half-written blobs left: {left:?}");
    e.ok(&["rm", "src"]);
    e.ok(&["rmi", "localhost/imported:plain", "localhost/imported:gz"]);
    e.assert_clean();
}

/// The same verbs through hull daemon and the real docker CLI (API 1.50):
/// commit (with --change), diff, export piped into import, history.
#[test]
fn the_docker_cli_commits_diffs_exports_and_imports_through_hull_daemon() {
    let e = Env::new();
    let d = Daemon::start(&e);
    d.ok(&["run", "-d", "--name", "web", IMG, "sh", "-c", "echo page > /index.html; rm /etc/group; sleep 300"]);
    wait_until("its page", || d.ok(&["diff", "web"]).contains("/index.html"));
    let diff = d.ok(&["diff", "web"]);
    assert!(diff.lines().any(|l| l == "A /index.html") && diff.lines().any(|l| l == "D /etc/group"), "{diff}");
    let id = d.ok(&[
        "commit",
        "-c",
        "CMD cat /index.html",
        "-c",
        "LABEL tier=front",
        "-m",
        "snap",
        "web",
        "localhost/web:snap",
    ]);
    assert!(id.starts_with("sha256:"), "{id}");
    assert_eq!(d.ok(&["run", "--rm", "localhost/web:snap"]), "page");
    assert_eq!(d.ok(&["inspect", "-f", "{{.Config.Labels.tier}}", "localhost/web:snap"]), "front");
    let history = d.ok(&["history", "--format", "{{.Comment}}", "localhost/web:snap"]);
    assert_eq!(history.lines().next(), Some("snap"), "{history}");
    // export | import, through the API's streams.
    let tar = e.root.with_extension("web.tar");
    d.ok(&["export", "-o", &tar.display().to_string(), "web"]);
    let out = d
        .docker()
        .args(["import", "-c", "CMD [\"cat\", \"/index.html\"]", &tar.display().to_string(), "localhost/flat:1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "import: {}", text(&out.stderr));
    assert_eq!(d.ok(&["run", "--rm", "localhost/flat:1"]), "page");
    assert_eq!(d.ok(&["image", "inspect", "-f", "{{len .RootFS.Layers}}", "localhost/flat:1"]), "1");
    // Refusals: a container that is not there, an import that is not a tar.
    let out = d.docker().args(["commit", "ghost"]).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("No such container"), "{}", text(&out.stderr));
    let junk = e.root.with_extension("junk.tar");
    std::fs::write(&junk, b"this is not a tar archive at all, and it is longer than a block? no").unwrap();
    let out = d.docker().args(["import", &junk.display().to_string(), "localhost/junk:1"]).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("not a tar"), "{}", text(&out.stderr));
    d.ok(&["rm", "-f", "web"]);
    d.ok(&["rmi", "localhost/web:snap", "localhost/flat:1"]);
    drop(d);
    e.assert_clean();
}

/// A context directory for the build tests: a two-stage Dockerfile, a
/// .dockerignore, files to COPY and a tar.gz for ADD.
fn build_context(e: &Env) -> std::path::PathBuf {
    let ctx = e.root.with_extension("ctx");
    std::fs::create_dir_all(ctx.join("dir")).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            r#"# escape=\
ARG BASE={IMG}
FROM ${{BASE}} AS builder
ARG GREETING=hello
WORKDIR /src
COPY hello.txt ./
COPY dir/ /src/dir/
RUN echo "$GREETING from $(cat hello.txt)" > out.txt && \
    ls dir > listing
FROM {IMG}
ENV APP=/app
COPY --from=builder /src/out.txt ${{APP}}/
COPY --from=builder /src/listing $APP/listing
COPY --chown=1000:1000 --chmod=640 owned.txt /owned.txt
ADD archive.tar.gz /unpacked/
LABEL team=build
EXPOSE 8080
USER 1000
CMD ["cat", "/app/out.txt"]
"#
        ),
    )
    .unwrap();
    std::fs::write(ctx.join(".dockerignore"), "dir/secret*\n*.log\n").unwrap();
    std::fs::write(ctx.join("hello.txt"), "world").unwrap();
    for f in ["a", "b", "secret1"] {
        std::fs::write(ctx.join("dir").join(f), f).unwrap();
    }
    std::fs::write(ctx.join("owned.txt"), "mine").unwrap();
    std::fs::write(ctx.join("junk.log"), "noise").unwrap();
    sh(&format!(
        "mkdir -p {d}/t/x && echo deep > {d}/t/x/y && tar -czf {d}/archive.tar.gz -C {d}/t x && rm -r {d}/t",
        d = ctx.display()
    ));
    ctx
}

#[test]
fn hull_build_runs_a_two_stage_dockerfile_with_its_cache() {
    let e = Env::new();
    let ctx = build_context(&e);
    let c = ctx.display().to_string();
    let out = e.ok(&["build", "-t", "localhost/built:1", "--build-arg", "GREETING=hi", "--label", "via=flag", &c]);
    assert!(out.contains("Step 1/") && out.contains("Successfully tagged localhost/built:1"), "{out}");
    assert_eq!(e.ok(&["run", "--rm", "--network", "none", "localhost/built:1"]), "hi from world");
    let seen = e.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "localhost/built:1",
        "sh",
        "-c",
        "cat /app/listing; stat -c '%u:%g %a' /owned.txt; cat /unpacked/x/y; id -u",
    ]);
    assert_eq!(seen, "a\nb\n1000:1000 640\ndeep\n1000");
    let inspect = |f: &str| e.ok(&["image", "inspect", "-f", f, "localhost/built:1"]);
    assert_eq!(inspect("{{.Config.User}} {{.Config.Labels.team}} {{.Config.Labels.via}}"), "1000 build flag");
    assert!(inspect("{{json .Config.ExposedPorts}}").contains("8080/tcp"));
    let id = inspect("{{.Id}}");
    // Again: every step from the cache, the same image.
    let again = e.ok(&["build", "-t", "localhost/built:2", "--build-arg", "GREETING=hi", "--label", "via=flag", &c]);
    assert!(again.matches("Using cache").count() >= 8, "{again}");
    assert_eq!(e.ok(&["image", "inspect", "-f", "{{.Id}}", "localhost/built:2"]), id);
    // A changed file invalidates the steps that read it, and those after.
    std::fs::write(ctx.join("hello.txt"), "there").unwrap();
    let changed = e.ok(&["build", "-q", "-t", "localhost/built:3", "--build-arg", "GREETING=hi", &c]);
    assert_ne!(changed, id);
    assert_eq!(e.ok(&["run", "--rm", "--network", "none", "localhost/built:3"]), "hi from there");
    // The terminal display redraws the step in place and marks it done;
    // plain output has no escapes.
    let tty = e.ok(&["build", "--progress", "tty", "--build-arg", "GREETING=hi", &c]);
    assert!(tty.contains("\x1b[K") && tty.contains("✔\x1b[0m Step 6/16 : RUN"), "{tty:?}");
    assert!(tty.contains("cached"), "{tty:?}");
    let plain = e.ok(&["build", "--progress", "plain", "--build-arg", "GREETING=hi", &c]);
    assert!(!plain.contains('\x1b') && plain.contains("Step 2/"), "{plain:?}");
    let out = e.run(&["build", "--progress", "fancy", &c]);
    assert!(text(&out.stderr).contains("invalid --progress"), "{}", text(&out.stderr));
    // --target stops at a stage; -f names the Dockerfile.
    e.ok(&["build", "--target", "builder", "-t", "localhost/built:builder", &c]);
    assert_eq!(
        e.ok(&["run", "--rm", "--network", "none", "localhost/built:builder", "cat", "/src/out.txt"]),
        "hello from there"
    );
    assert_eq!(e.ok(&["ps", "-aq"]), "", "a step's container was left");
    for t in ["1", "2", "3", "builder"] {
        e.ok(&["rmi", &format!("localhost/built:{t}")]);
    }
    e.assert_clean();
}

#[test]
fn a_failing_build_says_why_and_leaves_no_container() {
    let e = Env::new();
    let ctx = e.root.with_extension("bad");
    std::fs::create_dir_all(&ctx).unwrap();
    let c = ctx.display().to_string();
    let images = e.ok(&["images", "-q"]);
    let cases: [(&str, &str); 8] = [
        ("RUN echo before the end; exit 3", "returned a non-zero code: 3; its last output:\nbefore the end"),
        ("COPY missing.txt /", "missing.txt"),
        ("FROMM nothing", "Dockerfile:1: unknown instruction 'FROMM'"),
        ("RUN --mount=type=sock,target=/c true", "type=sock"),
        ("USER", "USER"),
        ("COPY --from=nowhere /x /y", "COPY --from=nowhere: no stage of that name"),
        ("FROM later AS first\nFROM {IMG} AS later", "a cycle"),
        ("COPY ../outside /x", "outside"),
    ];
    for (line, want) in cases {
        let line = line.replace("{IMG}", IMG);
        let text_ = if line.starts_with("FROM") { line.to_string() } else { format!("FROM {IMG}\n{line}\n") };
        std::fs::write(ctx.join("Dockerfile"), text_).unwrap();
        let out = e.run(&["build", "-t", "localhost/never:1", &c]);
        assert_eq!(out.status.code(), Some(1), "{line}");
        assert!(text(&out.stderr).contains(want), "{line}: {}", text(&out.stderr));
    }
    let ingest = e.root.join("image/ingest");
    let left: Vec<_> =
        std::fs::read_dir(&ingest).map(|d| d.flatten().map(|x| x.file_name()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "half-written layers left: {left:?}");
    let out = e.run(&["build", "/no/such/dir"]);
    assert!(text(&out.stderr).contains("/no/such/dir"), "{}", text(&out.stderr));
    assert_eq!(e.ok(&["ps", "-aq"]), "");
    assert_eq!(e.ok(&["images", "-q"]), images);
    e.assert_clean();
}

/// `docker build` (the CLI's legacy builder, API 1.50) and `docker compose
/// build` through hull daemon: the same context, the same results, the
/// cache shared with `hull build`, an error heard as docker's.
#[test]
fn docker_build_and_compose_build_through_hull_daemon() {
    let e = Env::new();
    let ctx = build_context(&e);
    let d = Daemon::start(&e);
    let out = d
        .docker()
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-t", "localhost/dbuilt:1", "--build-arg", "GREETING=yo", "--label", "via=api"])
        .arg(&ctx)
        .output()
        .unwrap();
    assert!(out.status.success(), "docker build: {}{}", text(&out.stdout), text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("Step 1/") && said.contains("Successfully tagged localhost/dbuilt:1"), "{said}");
    assert_eq!(d.ok(&["run", "--rm", "localhost/dbuilt:1"]), "yo from world");
    assert_eq!(d.ok(&["inspect", "-f", "{{.Config.Labels.via}}", "localhost/dbuilt:1"]), "api");
    // The daemonless CLI builds the same from the cache.
    let id = d.ok(&["inspect", "-f", "{{.Id}}", "localhost/dbuilt:1"]);
    let again = e.ok(&["build", "-q", "--build-arg", "GREETING=yo", "--label", "via=api", &ctx.display().to_string()]);
    assert_eq!(again, id);
    // -q prints the id; a failing RUN is docker's error and exit 1.
    let bad = e.root.with_extension("badctx");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("Dockerfile"), format!("FROM {IMG}\nRUN exit 4\n")).unwrap();
    let out = d.docker().env("DOCKER_BUILDKIT", "0").arg("build").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("returned a non-zero code: 4"), "{}", text(&out.stderr));
    // Compose builds a service's image, then runs it.
    let project = e.root.with_extension("proj");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("compose.yaml"),
        format!(
            "services:\n  app:\n    build:\n      context: {}\n      args:\n        GREETING: compose\n    image: localhost/composed:1\n",
            ctx.display()
        ),
    )
    .unwrap();
    let compose = |args: &[&str]| {
        d.docker()
            .env("DOCKER_BUILDKIT", "0")
            .args(["compose", "--project-directory"])
            .arg(&project)
            .args(["-p", "built"])
            .args(args)
            .output()
            .unwrap()
    };
    let out = compose(&["build"]);
    assert!(out.status.success(), "compose build: {}{}", text(&out.stdout), text(&out.stderr));
    let out = compose(&["run", "--rm", "app"]);
    assert!(out.status.success(), "compose run: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "compose from world");
    // `up --build`: built again (from the cache), then run in the foreground.
    let out = compose(&["up", "--build", "--abort-on-container-exit"]);
    assert!(out.status.success(), "compose up --build: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("compose from world"), "{}", text(&out.stdout));
    let out = compose(&["down", "--rmi", "all"]);
    assert!(out.status.success(), "compose down: {}", text(&out.stderr));
    assert_eq!(d.ok(&["ps", "-aq"]), "");
    d.ok(&["rmi", "localhost/dbuilt:1"]);
    drop(d);
    e.assert_clean();
}

/// A hostile context (a link out of it, then a file through the link; a
/// `..` path) stays inside the build's own directory.
#[test]
fn a_hostile_build_context_writes_nothing_outside_it() {
    let e = Env::new();
    let outside = e.root.with_extension("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let tar = e.root.with_extension("hostile.tar");
    let py = format!(
        r#"
import io, tarfile
t = tarfile.open({tar:?}, "w")
def add(name, data):
    i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
add("Dockerfile", b"FROM {IMG}\nCOPY . /ctx\n")
l = tarfile.TarInfo("escape"); l.type = tarfile.SYMTYPE; l.linkname = {outside:?}; t.addfile(l)
add("escape/pwned", b"x")
add("../../dotdot-pwned", b"y")
t.close()
"#,
        tar = tar.display().to_string(),
        outside = outside.display().to_string()
    );
    let out = Command::new("python3").args(["-c", &py]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = e
        .cmd()
        .args(["build", "-t", "localhost/hostile:1", "-"])
        .stdin(std::fs::File::open(&tar).unwrap())
        .output()
        .unwrap();
    // A file under a link is refused, by name; nothing was written outside.
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("escape/pwned"), "{}", text(&out.stderr));
    assert!(!outside.join("pwned").exists(), "a context file was written through its link");
    assert!(!e.root.with_file_name("dotdot-pwned").exists(), "a .. path left the context");
    let spools: Vec<_> = std::fs::read_dir(&e.root)
        .unwrap()
        .flatten()
        .filter(|d| d.file_name().to_string_lossy().starts_with(".build-"))
        .map(|d| d.file_name())
        .collect();
    assert!(spools.is_empty(), "the context's directory was left: {spools:?}");
    // Without the link trick the same `..` path lands inside the context.
    let py2 = format!(
        r#"
import io, tarfile
t = tarfile.open({tar:?}, "w")
def add(name, data):
    i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
add("Dockerfile", b"FROM {IMG}\nCOPY . /ctx\n")
add("../../dotdot-pwned", b"y")
t.close()
"#,
        tar = tar.display().to_string()
    );
    let out = Command::new("python3").args(["-c", &py2]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = e
        .cmd()
        .args(["build", "-t", "localhost/hostile:1", "-"])
        .stdin(std::fs::File::open(&tar).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!e.root.with_file_name("dotdot-pwned").exists());
    assert_eq!(e.ok(&["run", "--rm", "--network", "none", "localhost/hostile:1", "cat", "/ctx/dotdot-pwned"]), "y");
    e.ok(&["rmi", "localhost/hostile:1"]);
    e.assert_clean();
}

/// RUN mounts (a cache kept between builds, a tmpfs, a context bind, a
/// secret that never lands in the image), here-documents, --output, zstd
/// layers, reproducible images with SOURCE_DATE_EPOCH, and `builder prune`.
#[test]
fn build_mounts_here_documents_outputs_and_reproducible_images() {
    let e = Env::new();
    let ctx = e.root.with_extension("feat");
    std::fs::create_dir_all(ctx.join("conf")).unwrap();
    std::fs::write(ctx.join("conf/app.conf"), "port=80").unwrap();
    let secret = e.root.with_extension("token");
    std::fs::write(&secret, "s3cr3t").unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            r#"FROM {IMG}
RUN --mount=type=cache,target=/cache echo run >> /cache/count && wc -l < /cache/count > /runs
RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && test ! -e /nothing
RUN --mount=type=bind,source=conf,target=/conf cat /conf/app.conf > /from-bind
RUN --mount=type=secret,id=token wc -c < /run/secrets/token > /seen-secret-length
RUN <<EOF
echo from a here-doc > /heredoc
echo second line >> /heredoc
EOF
COPY <<EOF /etc/motd
hello $HOSTNAME_NOT_SET-motd
EOF
CMD ["cat", "/heredoc"]
"#
        ),
    )
    .unwrap();
    let c = ctx.display().to_string();
    let sec = format!("id=token,src={}", secret.display());
    let build = |extra: &[&str]| {
        let mut args = vec!["build", "-q", "--secret", &sec];
        args.extend_from_slice(extra);
        args.push(&c);
        e.ok(&args)
    };
    build(&["-t", "localhost/feat:1"]);
    let run = |img: &str, cmd: &str| e.ok(&["run", "--rm", "--network", "none", img, "sh", "-c", cmd]);
    assert_eq!(
        run("localhost/feat:1", "cat /runs /from-bind; echo; cat /seen-secret-length /heredoc /etc/motd"),
        "1\nport=80\n6\nfrom a here-doc\nsecond line\nhello -motd"
    );
    assert_eq!(
        run("localhost/feat:1", "ls -A /run/secrets /cache /scratch /conf 2>/dev/null | grep -c '[a-z]' || true"),
        "0"
    );
    // The cache mount outlives the build: a rebuild without the step cache counts 2.
    build(&["--no-cache", "-t", "localhost/feat:2"]);
    assert_eq!(run("localhost/feat:2", "cat /runs"), "2");
    // A required secret that is not given is an error naming it.
    std::fs::write(
        ctx.join("Dockerfile.req"),
        format!("FROM {IMG}\nRUN --mount=type=secret,id=missing,required=true true\n"),
    )
    .unwrap();
    let out = e.run(&["build", "-f", "Dockerfile.req", &c]);
    assert!(text(&out.stderr).contains("secret missing not found"), "{}", text(&out.stderr));
    // Reproducible: the same inputs and SOURCE_DATE_EPOCH, twice without cache, one id.
    std::fs::write(ctx.join("Dockerfile.repro"), format!("FROM {IMG}\nRUN echo same > /f\nCOPY conf /conf\nENV A=1\n"))
        .unwrap();
    let repro = |tag: &str| {
        e.ok(&[
            "build",
            "-q",
            "--no-cache",
            "--build-arg",
            "SOURCE_DATE_EPOCH=1700000000",
            "-f",
            "Dockerfile.repro",
            "-t",
            tag,
            &c,
        ])
    };
    assert_eq!(repro("localhost/repro:1"), repro("localhost/repro:2"));
    // zstd layers run as gzip ones do.
    build(&["--compression", "zstd", "--no-cache", "-t", "localhost/feat:zstd"]);
    let layout = e.root.with_extension("zlayout");
    e.ok(&["image", "save", "-o", &format!("oci:{}", layout.display()), "localhost/feat:zstd"]);
    let media = sh(&format!("cat {}/blobs/sha256/* | grep -ao 'tar+zstd' | head -1", layout.display()));
    assert_eq!(media.trim(), "tar+zstd");
    assert_eq!(run("localhost/feat:zstd", "cat /from-bind"), "port=80");
    // --output: a directory, a tar, a docker-archive, an OCI layout tar.
    let out_dir = e.root.with_extension("out-dir");
    build(&["-o", &format!("type=local,dest={}", out_dir.display())]);
    assert_eq!(std::fs::read_to_string(out_dir.join("heredoc")).unwrap(), "from a here-doc\nsecond line\n");
    let out_tar = e.root.with_extension("out.tar");
    build(&["-o", &format!("type=tar,dest={}", out_tar.display())]);
    assert!(tar_names(&out_tar).iter().any(|n| n == "from-bind"));
    let docker_tar = e.root.with_extension("docker.tar");
    build(&["-t", "localhost/feat:out", "-o", &format!("type=docker,dest={}", docker_tar.display())]);
    assert!(tar_names(&docker_tar).iter().any(|n| n == "manifest.json"));
    let oci_tar = e.root.with_extension("oci.tar");
    build(&["-t", "localhost/feat:out", "-o", &format!("type=oci,dest={}", oci_tar.display())]);
    assert!(tar_names(&oci_tar).iter().any(|n| n == "index.json"));
    let out = e.run(&["build", "-o", "type=registry,dest=x", &c]);
    assert!(text(&out.stderr).contains("type must be local, tar, docker or oci"), "{}", text(&out.stderr));
    // The cache is counted, then pruned.
    let df = e.ok(&["system", "df"]);
    let row = df.lines().find(|l| l.starts_with("Build Cache")).unwrap_or_default().to_string();
    let count: usize = row.split_whitespace().nth(2).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(count > 0, "{df}");
    let pruned = e.ok(&["builder", "prune", "-f"]);
    assert!(pruned.starts_with("Total reclaimed space:"), "{pruned}");
    assert!(!e.root.join("build-cache-mounts").exists());
    build(&["-t", "localhost/feat:3"]);
    assert_eq!(run("localhost/feat:3", "cat /runs"), "1", "the cache mount was not pruned");
    for t in ["feat:1", "feat:2", "feat:3", "feat:zstd", "feat:out", "repro:1", "repro:2"] {
        e.ok(&["rmi", &format!("localhost/{t}")]);
    }
    e.assert_clean();
}

/// A file deleted in a later step is gone from the result (a whiteout),
/// HEALTHCHECK and USER reach the image config, and podman runs what Hull
/// built after `hull image save` (its own storage, runc).
#[test]
fn built_images_carry_whiteouts_and_healthchecks_and_podman_runs_them() {
    let e = Env::new();
    let ctx = e.root.with_extension("wh");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM {IMG}\nRUN mkdir /d && echo x > /d/gone && echo y > /d/kept\nRUN rm /d/gone\n\
             HEALTHCHECK --interval=5s --timeout=2s --retries=2 CMD test -e /d/kept\nUSER nobody\nCMD [\"cat\", \"/d/kept\"]\n"
        ),
    )
    .unwrap();
    e.ok(&["build", "-q", "-t", "localhost/wh:1", &ctx.display().to_string()]);
    assert_eq!(
        e.ok(&["run", "--rm", "--network", "none", "localhost/wh:1", "sh", "-c", "ls /d; id -un"]),
        "kept\nnobody"
    );
    let hc = e.ok(&["image", "inspect", "-f", "{{json .Config.Healthcheck}}", "localhost/wh:1"]);
    let hc: serde_json::Value = serde_json::from_str(&hc).unwrap();
    assert_eq!(hc["Test"], serde_json::json!(["CMD-SHELL", "test -e /d/kept"]));
    assert_eq!(
        (hc["Interval"].as_i64(), hc["Timeout"].as_i64(), hc["Retries"].as_i64()),
        (Some(5_000_000_000), Some(2_000_000_000), Some(2))
    );
    // podman reads Hull's docker-archive and runs it with runc.
    let archive = e.root.with_extension("wh.tar");
    e.ok(&["save", "-o", &archive.display().to_string(), "localhost/wh:1"]);
    let pod = e.root.with_extension("podman");
    let podman = |args: &[&str]| {
        Command::new("podman")
            .arg("--root")
            .arg(pod.join("root"))
            .arg("--runroot")
            .arg(pod.join("run"))
            .args(["--cgroup-manager=cgroupfs", "--events-backend=file", "--runtime", "runc"])
            .args(args)
            .output()
            .unwrap()
    };
    let out = podman(&["load", "-i", &archive.display().to_string()]);
    assert!(out.status.success(), "podman load: {}", text(&out.stderr));
    let parent = format!("/{}/podman", e.parent);
    let out = podman(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--cgroup-parent",
        &parent,
        "--ulimit",
        "nofile=1024:1024",
        "--ulimit",
        "nproc=1024:1024",
        "localhost/wh:1",
    ]);
    assert!(out.status.success(), "podman run: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "y\n");
    // buildah builds on it (it matches history to layers one to one); its
    // RUN's cgroup is a leaf of its own under the test's parent.
    let buildah_parent = format!("/{}/buildah", e.parent);
    let next = e.root.with_extension("next");
    std::fs::create_dir_all(&next).unwrap();
    std::fs::write(next.join("Dockerfile"), "FROM localhost/wh:1\nUSER root\nRUN echo more > /d/more\n").unwrap();
    let out = Command::new("buildah")
        .arg("--root")
        .arg(pod.join("root"))
        .arg("--runroot")
        .arg(pod.join("run"))
        .args(["bud", "-q", "--network", "none", "--runtime", "runc", "--cgroup-parent", &buildah_parent])
        .args(["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "-t", "localhost/next:1"])
        .arg(&next)
        .env("DOCKER_CONFIG", e.root.with_extension("no-creds"))
        .output()
        .unwrap();
    assert!(out.status.success(), "buildah bud FROM Hull's image: {}", text(&out.stderr));
    let out = podman(&["rmi", "-af"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // podman's cgroup directories under the test's parent go with it.
    for p in [&parent, &buildah_parent] {
        sh(&format!("for d in /sys/fs/cgroup/*{p} /sys/fs/cgroup/unified{p}; do [ -d $d ] && find $d -depth -type d -exec rmdir {{}} + ; done; true"));
    }
    let _ = Command::new("umount").arg("-R").arg(pod.join("root/overlay")).output();
    e.ok(&["rmi", "localhost/wh:1"]);
    e.assert_clean();
}
