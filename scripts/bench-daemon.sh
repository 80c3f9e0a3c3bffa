#!/bin/sh
# Docker API benchmark: the same docker CLI (Debian's docker client, v28)
# against hull-daemon, Debian's dockerd 20.10 (started by the script on a
# private socket and data root, no bridge or iptables) and `podman system
# service` (conmon and runc, its own storage), all in one run, the same
# busybox rootfs in each: `docker run --rm`, the CLI's own start-up,
# create+start+wait+delete from a small API client (scripts/api-latency.py),
# `docker exec`, `docker ps` with IDLE containers, and the daemons' memory
# idle and with IDLE containers. Prints a Markdown section (scripts/bench.sh
# appends it to BENCHMARKS.md). Root.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
command -v dockerd >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >/dev/null
cargo build --release -q -p hull-cli -p hull-shim -p hull-runtime -p hull-daemon
RUNS=${RUNS:-20}
IDLE=${IDLE:-100}
W=$(mktemp -d /tmp/hull-bench-daemon.XXXXXX)
HULL="$(realpath target/release/hull) --root $W/hull --run-root $W/hull-run"
IMG=localhost/hull-busybox
PODMAN="podman --root $W/podman/root --runroot $W/podman/run --cgroup-manager=cgroupfs --events-backend=file --runtime runc"
HD="docker -H unix://$W/hull.sock"
DD="docker -H unix://$W/docker.sock"
PD="docker -H unix://$W/podman.sock"
export DOCKER_CONFIG="$W/cfg"
cleanup() {
  for d in "$HD" "$DD" "$PD"; do $d rm -f $($d ps -aq 2>/dev/null) >/dev/null 2>&1 || true; done
  for f in hull podman docker; do
    [ -s "$W/$f.pid" ] || continue
    pid=$(cat "$W/$f.pid"); kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  done
  grep " $W" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  for d in /sys/fs/cgroup/*/hull-bench-daemon /sys/fs/cgroup/*/hull-bench-dockerd /sys/fs/cgroup/*/hull-bench-podman; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  rm -rf "$W"
}
trap cleanup EXIT
wait_for() { i=0; until $1 version >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 150 ] || { cat "$2" >&2; exit 1; }; sleep 0.2; done; }

$HULL image default >/dev/null
$HULL tag localhost/hull/busybox $IMG >/dev/null
$HULL save -o "$W/busybox.tar" $IMG
target/release/hull-daemon --root "$W/hull" --run-root "$W/hull-run" -H "unix://$W/hull.sock" \
  --cgroup-parent /hull-bench-daemon >"$W/hull.log" 2>&1 & echo $! > "$W/hull.pid"
dockerd --data-root "$W/docker" --exec-root "$W/docker-exec" --pidfile "$W/docker.pid" -H "unix://$W/docker.sock" \
  --bridge=none --iptables=false --ip6tables=false --ip-masq=false --cgroup-parent /hull-bench-dockerd \
  --default-ulimit nofile=1024:1024 --default-ulimit nproc=1024:1024 \
  --containerd-namespace hull-bench-d --containerd-plugins-namespace hull-bench-dp >"$W/dockerd.log" 2>&1 &
$PODMAN system service --time=0 "unix://$W/podman.sock" >"$W/podman.log" 2>&1 & echo $! > "$W/podman.pid"
wait_for "$HD" "$W/hull.log"; wait_for "$DD" "$W/dockerd.log"; wait_for "$PD" "$W/podman.log"
$DD load -i "$W/busybox.tar" >/dev/null
$PD load -i "$W/busybox.tar" >/dev/null
# podman's service takes its limits from containers.conf: the host's nofile
# hard limit (20000 here) is below podman's default.
PFLAGS="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"

hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$W/run.json" \
  -n "hull" "$HD run --rm --network none $IMG true" \
  -n "dockerd" "$DD run --rm --network none $IMG true" \
  -n "podman" "$PD run --rm --network none $PFLAGS $IMG true" \
  -n "cli" "docker --version" \
  -n "cli+ping" "$HD version" >&2

LH=$(python3 scripts/api-latency.py "$W/hull.sock" $IMG "$RUNS")
LD=$(python3 scripts/api-latency.py "$W/docker.sock" $IMG "$RUNS")
LP=$(python3 scripts/api-latency.py "$W/podman.sock" $IMG "$RUNS")

$HD run -d --network none --name ex $IMG sleep 100000 >/dev/null
$DD run -d --network none --name ex $IMG sleep 100000 >/dev/null
$PD run -d --network none $PFLAGS --name ex $IMG sleep 100000 >/dev/null
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$W/exec.json" \
  -n "hull" "$HD exec ex true" -n "dockerd" "$DD exec ex true" -n "podman" "$PD exec ex true" >&2

rss() { awk '/^Rss:/ {print $2}' "/proc/$1/smaps_rollup"; }
# tokio lets idle blocking threads go after 10 s: read once they are gone.
settle() { sleep 12; }
settle
HPID=$(cat "$W/hull.pid"); DPID=$(cat "$W/docker.pid"); PPID_=$(cat "$W/podman.pid")
CPID=$(pgrep -f "containerd --config $W/docker-exec" | head -1)
H0=$(rss "$HPID"); D0=$(rss "$DPID"); C0=$(rss "$CPID"); P0=$(rss "$PPID_")
for i in $(seq "$IDLE"); do
  $HD run -d --network none $IMG sleep 100000 >/dev/null
  $DD run -d --network none $IMG sleep 100000 >/dev/null
  $PD run -d --network none $PFLAGS $IMG sleep 100000 >/dev/null
done
settle
H1=$(rss "$HPID"); D1=$(rss "$DPID"); C1=$(rss "$CPID"); P1=$(rss "$PPID_")
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$W/ps.json" \
  -n "hull" "$HD ps" -n "dockerd" "$DD ps" -n "podman" "$PD ps" >&2

med() { jq -r --arg n "$2" '.results[] | select(.command == $n) | .median * 1000' "$W/$1.json"; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
row() { # table: label, then hull dockerd podman medians
  echo "| $1 | $(ms "$2") ms | $(ms "$3") ms | $(ms "$4") ms | $(ratio "$2" "$3")× | $(ratio "$2" "$4")× |"
}
echo "## Docker API: the docker CLI and a small client against hull daemon, dockerd, podman"
echo
echo "Written by \`scripts/bench-daemon.sh\` on $(date -u +%Y-%m-%d); $RUNS runs each after 3 warm-ups; the same docker CLI ($(docker --version | awk '{print $3}' | tr -d ,)) and the same busybox image (Hull's, loaded into each) against hull-daemon, Debian's dockerd $($DD version -f '{{.Server.Version}}') (private socket and data root, no bridge or iptables) and \`podman system service\` $(podman --version | awk '{print $3}') (conmon, runc, its own storage); \`--network none\` everywhere. Medians; the ratios are hull's over the peer's."
echo
echo "| | hull | dockerd | podman | hull/dockerd | hull/podman |"
echo "|---|---|---|---|---|---|"
row "docker run --rm busybox true" "$(med run hull)" "$(med run dockerd)" "$(med run podman)"
row "API create (small client)" "${LH% *}" "${LD% *}" "${LP% *}"
row "API create+start+wait+delete" "${LH#* }" "${LD#* }" "${LP#* }"
row "docker exec ex true" "$(med exec hull)" "$(med exec dockerd)" "$(med exec podman)"
row "docker ps, $IDLE containers" "$(med ps hull)" "$(med ps dockerd)" "$(med ps podman)"
echo
echo "The docker CLI's own share of every CLI row: \`docker --version\` (no daemon) $(ms "$(med run cli)") ms, \`docker version\` against hull (one round trip) $(ms "$(med run cli+ping)") ms."
echo
echo "Daemon memory (RSS from /proc/PID/smaps_rollup), idle and with $IDLE sleeping containers, each read 12 s after the last request (once tokio's idle blocking threads are gone):"
echo
echo "| daemon | idle | with $IDLE | growth per container |"
echo "|---|---|---|---|"
echo "| hull-daemon | $H0 KiB | $H1 KiB | $(( (H1 - H0) / IDLE )) KiB |"
echo "| dockerd | $D0 KiB | $D1 KiB | $(( (D1 - D0) / IDLE )) KiB |"
echo "| its containerd | $C0 KiB | $C1 KiB | $(( (C1 - C0) / IDLE )) KiB |"
echo "| podman system service | $P0 KiB | $P1 KiB | $(( (P1 - P0) / IDLE )) KiB |"
echo
echo "Per-container supervisors are in the engine section (hull-shim, conmon, containerd-shim-runc-v2); hull-daemon keeps no per-container state but the pidfd it watches each shim by."
