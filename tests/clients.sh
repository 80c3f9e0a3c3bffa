#!/bin/sh
# Real clients driving hull-runtime in place of runc: containerd (through its
# runc shim and ctr) and Podman (through conmon). Each daemon and store lives
# in a temporary directory; everything is removed at the end.
# Usage (root): tests/clients.sh PATH/TO/hull-runtime
set -eu
HULL=$(realpath "${1:?usage: clients.sh HULL-RUNTIME}")
cd "$(dirname "$0")/.."
W=$(mktemp -d /tmp/hull-clients.XXXXXX)
fail() { echo "clients.sh: FAIL: $*" >&2; exit 1; }
expect() { # expect NAME NEEDLE OUTPUT
  case "$3" in *"$2"*) echo "ok - $1" ;; *) fail "$1: expected '$2' in: $3" ;; esac
}

# cgroup parents the clients create (containerd's namespace, Podman's
# libpod_parent): removed at the end only if they did not exist before.
parents="default libpod_parent"
preexisting=""
for p in $parents; do [ -d "/sys/fs/cgroup/memory/$p" ] && preexisting="$preexisting $p"; done

cleanup() {
  set +e
  [ -f "$W/containerd.pid" ] && kill "$(cat "$W/containerd.pid")" 2>/dev/null && sleep 0.5
  podman_ rm -af >/dev/null 2>&1
  podman_ rmi -af >/dev/null 2>&1
  grep " $W" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$W"
  for p in $parents; do
    case " $preexisting " in *" $p "*) continue ;; esac
    for d in /sys/fs/cgroup/*/"$p"; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  done
}
trap cleanup EXIT

# An OCI image of the busybox rootfs, made offline with umoci.
scripts/make-bundle.sh "$W/bundle" "$HULL" >/dev/null
umoci init --layout "$W/img" >/dev/null
umoci new --image "$W/img:latest" >/dev/null
umoci unpack --image "$W/img:latest" "$W/unpacked" >/dev/null
cp -a "$W/bundle/rootfs/." "$W/unpacked/rootfs/"
umoci repack --image "$W/img:latest" "$W/unpacked" >/dev/null
(cd "$W/img" && tar cf "$W/img.tar" .)

# --- containerd ---
cat > "$W/containerd.toml" <<EOF
version = 2
root = "$W/containerd/root"
state = "$W/containerd/state"
[grpc]
  address = "$W/containerd.sock"
EOF
containerd --config "$W/containerd.toml" > "$W/containerd.log" 2>&1 &
echo $! > "$W/containerd.pid"
CTR="ctr -a $W/containerd.sock"
for _ in $(seq 100); do $CTR version >/dev/null 2>&1 && break; sleep 0.1; done
$CTR images import --base-name localhost/hull-busybox "$W/img.tar" >/dev/null
IMG=localhost/hull-busybox:latest

out=$($CTR run --rm --seccomp --runc-binary "$HULL" $IMG c1 sh -c 'echo hello; grep Seccomp: /proc/self/status; hostname' 2>&1)
expect "containerd: run with the default seccomp profile" "hello" "$out"
expect "containerd: seccomp filter applied" "Seccomp:	2" "$out"
$CTR run -d --runc-binary "$HULL" $IMG c2 sleep 300 >/dev/null
out=$($CTR task exec --exec-id e1 c2 sh -c 'echo in-exec; cat /proc/1/cmdline' 2>&1)
expect "containerd: task exec" "in-exec" "$out"
$CTR task pause c2
expect "containerd: pause" "PAUSED" "$($CTR task ls)"
$CTR task resume c2
expect "containerd: resume" "RUNNING" "$($CTR task ls)"
expect "containerd: ps" "PID" "$($CTR task ps c2)"
$CTR task kill -s KILL c2
for _ in $(seq 50); do $CTR task ls | grep -q "c2.*STOPPED" && break; sleep 0.1; done
expect "containerd: kill" "STOPPED" "$($CTR task ls)"
$CTR task delete c2 >/dev/null
$CTR container delete c2
out=$(script -qc "$CTR run -t --rm --runc-binary $HULL $IMG c3 sh -c 'tty; sleep 0.3'" /dev/null 2>&1)
expect "containerd: terminal through the console socket" "/dev/pts/0" "$out"

# --- Podman (conmon) ---
podman_() {
  podman --root "$W/podman/root" --runroot "$W/podman/run" --cgroup-manager=cgroupfs \
    --events-backend=file --runtime "$HULL" "$@"
}
(cd "$W/bundle/rootfs" && tar cf "$W/rootfs.tar" .)
podman_ import "$W/rootfs.tar" localhost/hull-busybox >/dev/null 2>&1
# Podman's default rlimits exceed what this machine's hard limits allow
# without CAP_SYS_RESOURCE (crun and runc fail the same way); ask for less.
RUN="--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
out=$(podman_ run --rm $RUN localhost/hull-busybox sh -c 'echo hello-podman; grep Seccomp: /proc/self/status' 2>&1)
expect "podman: run" "hello-podman" "$out"
expect "podman: default seccomp profile" "Seccomp:	2" "$out"
podman_ run -d $RUN --name p1 localhost/hull-busybox sleep 300 >/dev/null
expect "podman: exec" "exec-ok" "$(podman_ exec p1 sh -c 'echo exec-ok' 2>&1)"
expect "podman: top" "sleep 300" "$(podman_ top p1 2>&1)"
podman_ pause p1 >/dev/null
expect "podman: pause" "paused" "$(podman_ inspect -f '{{.State.Status}}' p1)"
podman_ unpause p1 >/dev/null
podman_ stop -t 1 p1 >/dev/null 2>&1
expect "podman: stop" "exited" "$(podman_ inspect -f '{{.State.Status}}' p1)"
podman_ rm p1 >/dev/null
# conmon can lose the output of a tty process that exits at once (runc too:
# 11 of 12 runs here); give it a moment before exiting.
out=$(script -qc "podman --root $W/podman/root --runroot $W/podman/run --cgroup-manager=cgroupfs --events-backend=file --runtime $HULL run -it --rm $RUN localhost/hull-busybox sh -c 'tty; sleep 0.3'" /dev/null 2>&1)
expect "podman: run -it" "/dev/pts/0" "$out"
echo "clients.sh: all passed"
