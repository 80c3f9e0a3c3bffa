"""docker-py 7 (PyPI `docker`) against hull daemon: what an SDK user does
first. Run by root_docker_api.rs with DOCKER_HOST pointing at the daemon;
IMG is the busybox image. Every check raises on failure."""

import io
import os
import sys
import tarfile
import time

import docker
from docker.errors import APIError, ImageNotFound, NotFound

IMG = os.environ["IMG"]


def check(cond, what):
    if not cond:
        raise AssertionError(what)


# docker-py 7 talks /v1.44/... without negotiating unless asked; both ways.
for version in ("1.44", "auto"):
    c = docker.DockerClient(base_url=os.environ["DOCKER_HOST"], version=version)
    check(c.ping() is True, "ping")
    check(c.version()["ApiVersion"] >= "1.44", "api version")
c = docker.from_env()

# Containers: run to completion with output, exit codes, env, workdir.
out = c.containers.run(IMG, ["sh", "-c", "echo $GREETING from $(pwd)"], environment={"GREETING": "hi"},
                       working_dir="/tmp", remove=True)
check(out == b"hi from /tmp\n", f"run output {out!r}")
try:
    c.containers.run(IMG, ["sh", "-c", "echo oops >&2; exit 3"], remove=True)
    raise AssertionError("a failing container raises")
except docker.errors.ContainerError as e:
    check(e.exit_status == 3, f"exit status {e.exit_status}")
    check(b"oops" in (e.stderr or b""), f"stderr {e.stderr!r}")

# Detached, labels, logs streaming, exec, top, stats, stop, remove.
ct = c.containers.run(IMG, ["sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.2; done; sleep 1000"],
                      detach=True, name="pyworker", labels={"suite": "docker-py"})
lines = []
for chunk in ct.logs(stream=True, follow=True):
    lines.append(chunk)
    if b"line3" in b"".join(lines):
        break
check(b"line1\nline2\nline3\n" in b"".join(lines), f"streamed logs {lines!r}")
ct.reload()
check(ct.status == "running", f"status {ct.status}")
check(ct.labels.get("suite") == "docker-py", "labels")
check([x.name for x in c.containers.list(filters={"label": "suite=docker-py"})] == ["pyworker"], "label filter")
code, out = ct.exec_run(["sh", "-c", "echo in-exec; exit 4"])
check(code == 4 and out == b"in-exec\n", f"exec_run {code} {out!r}")
code, (o, e) = ct.exec_run(["sh", "-c", "echo to-out; echo to-err >&2"], demux=True)
check(o == b"to-out\n" and e == b"to-err\n", f"demux {o!r} {e!r}")
code, out = ct.exec_run("cat /etc/hostname", tty=True)
check(code == 0 and out.strip() == ct.id[:12].encode(), f"tty exec {out!r}")
top = ct.top()
check("PID" in top["Titles"] and any("sleep" in " ".join(p) for p in top["Processes"]), f"top {top}")
st = ct.stats(stream=False)
check(st["memory_stats"].get("usage", 0) > 0 and "cpu_stats" in st, f"stats {st.keys()}")
ct.pause()
ct.reload()
check(ct.status == "paused", "paused")
ct.unpause()
ct.rename("pyworker2")
ct.reload()
check(ct.name == "pyworker2", "rename")

# put_archive / get_archive.
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    data = b"from the sdk\n"
    info = tarfile.TarInfo("note.txt")
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
check(ct.put_archive("/tmp", buf.getvalue()), "put_archive")
check(ct.exec_run("cat /tmp/note.txt").output == b"from the sdk\n", "put file read back")
stream, stat = ct.get_archive("/tmp/note.txt")
got = tarfile.open(fileobj=io.BytesIO(b"".join(stream))).extractfile("note.txt").read()
check(got == b"from the sdk\n" and stat["name"] == "note.txt" and stat["size"] == 13, f"get_archive {stat}")

ct.stop(timeout=1)
check(ct.wait(timeout=10)["StatusCode"] == 137, "killed after the grace period")
ct.remove()
try:
    c.containers.get("pyworker2")
    raise AssertionError("removed")
except NotFound:
    pass

# Images.
img = c.images.get(IMG)
check(IMG + ":latest" in img.tags, f"tags {img.tags}")
img.tag("localhost/py/tagged", "v1")
check("localhost/py/tagged:v1" in c.images.get(img.id).tags, "tag")
c.images.remove("localhost/py/tagged:v1")
try:
    c.images.get("localhost/py/nosuch:latest")
    raise AssertionError("no such image")
except ImageNotFound:
    pass

# Networks and volumes.
net = c.networks.create("pynet", labels={"suite": "docker-py"})
vol = c.volumes.create("pyvol")
srv = c.containers.run(IMG, ["sh", "-c", "echo served > /www/index.html; exec httpd -f -p 80 -h /www"],
                       detach=True, name="pysrv", network="pynet", volumes={"pyvol": {"bind": "/www", "mode": "rw"}})
deadline = time.time() + 20
while True:
    try:
        out = c.containers.run(IMG, ["wget", "-qO-", "http://pysrv/"], network="pynet", remove=True)
        break
    except docker.errors.ContainerError:
        check(time.time() < deadline, "pysrv reachable by name")
        time.sleep(0.2)
check(out == b"served\n", f"by name {out!r}")
net.reload()
check(srv.id in [x.id for x in net.containers], "network lists its container")
check([v.name for v in c.volumes.list()] == ["pyvol"], "volumes")
srv.remove(force=True)
net.remove()
vol.remove()

# Errors as docker's: 404 and 409 with messages.
try:
    c.containers.create(IMG, name="dup")
    c.containers.create(IMG, name="dup")
    raise AssertionError("a name conflict")
except APIError as e:
    check(e.status_code == 409 and "already in use" in str(e), f"conflict {e}")
c.containers.get("dup").remove()
try:
    c.api.inspect_container("nosuch")
except NotFound as e:
    check("No such container: nosuch" in str(e), str(e))

check(c.containers.list(all=True) == [], "nothing left")
print("docker-py: ok")
