#!/bin/sh
# Build benchmark: the same Dockerfiles built by `hull build` (daemonless),
# by the docker CLI's legacy builder against hull-daemon and against
# Debian's dockerd 20.10 (started here on a private socket and data root),
# and by `buildah bud` (its own storage, runc), all in one run: a 5-step
# Dockerfile cold (no cache), fully cached, after a one-file change, and a
# two-stage build; plus Hull's layer writing against `tar -c | gzip -1` of
# the same upper directory. Prints a Markdown section (scripts/bench.sh
# appends it to BENCHMARKS.md). Root.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
command -v dockerd >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >/dev/null
command -v buildah >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q buildah >/dev/null
cargo build --release -q -p hull-cli -p hull-shim -p hull-runtime -p hull-daemon
RUNS=${RUNS:-10}
W=$(mktemp -d /tmp/hull-bench-build.XXXXXX)
H="$(realpath target/release/hull) --root $W/hull --run-root $W/hull-run"
IMG=localhost/hull-busybox
HD="docker -H unix://$W/hull.sock"
DD="docker -H unix://$W/docker.sock"
BUILDAH="buildah --root $W/buildah/root --runroot $W/buildah/run --storage-driver overlay"
export DOCKER_CONFIG="$W/cfg" DOCKER_BUILDKIT=0
cleanup() {
  for f in hull docker; do
    [ -s "$W/$f.pid" ] || continue
    pid=$(cat "$W/$f.pid"); kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  done
  $BUILDAH rm -a >/dev/null 2>&1 || true
  grep " $W" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  for d in /sys/fs/cgroup/*/hull-bench-build /sys/fs/cgroup/*/hull-bench-buildd; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  rm -rf "$W"
}
trap cleanup EXIT
# buildah reads the docker config DOCKER_CONFIG names: an empty one.
mkdir -p "$W/cfg" && echo '{}' > "$W/cfg/config.json"
wait_for() { i=0; until $1 version >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 150 ] || { cat "$2" >&2; exit 1; }; sleep 0.2; done; }

$H image default >/dev/null
$H tag localhost/hull/busybox $IMG >/dev/null
$H save -o "$W/busybox.tar" $IMG
target/release/hull-daemon --root "$W/hull" --run-root "$W/hull-run" -H "unix://$W/hull.sock" \
  --cgroup-parent /hull-bench-build >"$W/hull.log" 2>&1 & echo $! > "$W/hull.pid"
dockerd --data-root "$W/docker" --exec-root "$W/docker-exec" --pidfile "$W/docker.pid" -H "unix://$W/docker.sock" \
  --bridge=none --iptables=false --ip6tables=false --ip-masq=false --cgroup-parent /hull-bench-buildd \
  --default-ulimit nofile=1024:1024 --default-ulimit nproc=1024:1024 \
  --containerd-namespace hull-bench-b --containerd-plugins-namespace hull-bench-bp >"$W/dockerd.log" 2>&1 &
wait_for "$HD" "$W/hull.log"; wait_for "$DD" "$W/dockerd.log"
$DD load -i "$W/busybox.tar" >/dev/null
$BUILDAH pull -q "docker-archive:$W/busybox.tar" >/dev/null
$BUILDAH tag "$($BUILDAH images -q | head -1)" $IMG >/dev/null

# The 5-step Dockerfile: a RUN, a COPY of a changing file, a RUN that reads
# it, an ENV, a CMD.
mkdir -p "$W/ctx" "$W/ms"
cat > "$W/ctx/Dockerfile" <<EOF
FROM $IMG
RUN mkdir -p /app && echo base > /app/base
COPY changing.txt /app/
RUN wc -c /app/changing.txt > /app/size
ENV MODE=bench
CMD ["cat", "/app/size"]
EOF
echo first > "$W/ctx/changing.txt"
cat > "$W/ms/Dockerfile" <<EOF
FROM $IMG AS build
RUN mkdir /out && for i in 1 2 3 4 5 6 7 8; do cp /bin/busybox /out/tool\$i; done
FROM $IMG
COPY --from=build /out /opt/tools
CMD ["ls", "/opt/tools"]
EOF
NET="--network none"
BFLAGS="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --runtime runc"

hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$W/cold.json" \
  -n "hull" "$H build -q --no-cache $NET $W/ctx" \
  -n "hull-daemon" "$HD build -q --no-cache $NET $W/ctx" \
  -n "dockerd" "$DD build -q --no-cache $NET $W/ctx" \
  -n "buildah" "$BUILDAH bud -q --no-cache --layers $NET $BFLAGS $W/ctx" >&2
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$W/warm.json" \
  -n "hull" "$H build -q $NET $W/ctx" \
  -n "hull-daemon" "$HD build -q $NET $W/ctx" \
  -n "dockerd" "$DD build -q $NET $W/ctx" \
  -n "buildah" "$BUILDAH bud -q --layers $NET $BFLAGS $W/ctx" >&2
hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$W/change.json" \
  --prepare "sh -c 'date +%s%N > $W/ctx/changing.txt'" \
  -n "hull" "$H build -q $NET $W/ctx" \
  -n "hull-daemon" "$HD build -q $NET $W/ctx" \
  -n "dockerd" "$DD build -q $NET $W/ctx" \
  -n "buildah" "$BUILDAH bud -q --layers $NET $BFLAGS $W/ctx" >&2
hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$W/ms.json" \
  -n "hull" "$H build -q --no-cache $NET $W/ms" \
  -n "hull-daemon" "$HD build -q --no-cache $NET $W/ms" \
  -n "dockerd" "$DD build -q --no-cache $NET $W/ms" \
  -n "buildah" "$BUILDAH bud -q --no-cache --layers $NET $BFLAGS $W/ms" >&2

# Layer writing: a container's upper directory of 64 copies of busybox
# (≈ 70 MB) committed by Hull, against tar | gzip -1 of the same directory.
$H run --network none --name big $IMG sh -c 'mkdir /big && for i in $(seq 64); do cp /bin/busybox /big/b$i; done' >/dev/null
UPPER="$W/hull/containers/$($H inspect -f '{{.Id}}' big)/upper"
hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$W/layer.json" \
  -n "hull commit" "$H commit --pause=false big" \
  -n "tar | gzip -1" "sh -c 'tar -C $UPPER -c . | gzip -1 > /dev/null'" >&2
SIZE=$(du -sk "$UPPER" | cut -f1)

med() { jq -r --arg n "$2" '.results[] | select(.command == $n) | .median * 1000' "$W/$1.json"; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
row() {
  echo "| $1 | $(ms "$(med "$2" hull)") ms | $(ms "$(med "$2" hull-daemon)") ms | $(ms "$(med "$2" dockerd)") ms | $(ms "$(med "$2" buildah)") ms | $(ratio "$(med "$2" hull)" "$(med "$2" buildah)")× | $(ratio "$(med "$2" hull-daemon)" "$(med "$2" dockerd)")× |"
}
echo "## Builds: hull build against buildah bud and dockerd's legacy builder"
echo
echo "Written by \`scripts/bench-build.sh\` on $(date -u +%Y-%m-%d); $RUNS runs each (hyperfine, medians); \`--network none\`; the same busybox base in each store. hull: \`hull build\` daemonless; hull-daemon and dockerd: the same docker CLI ($(docker --version | awk '{print $3}' | tr -d ,), \`DOCKER_BUILDKIT=0\`) against hull-daemon and Debian's dockerd $($DD version -f '{{.Server.Version}}') (private socket and data root); buildah $($BUILDAH --version | awk '{print $3}') \`bud --layers\` with runc. The 5-step Dockerfile is RUN, COPY (a file that changes), RUN, ENV, CMD; the two-stage one copies 8 binaries from a build stage."
echo
echo "| | hull | hull-daemon | dockerd | buildah | hull/buildah | hull-daemon/dockerd |"
echo "|---|---|---|---|---|---|---|"
row "5 steps, cold (--no-cache)" cold
row "5 steps, all cached" warm
row "5 steps, one file changed" change
row "two stages, cold" ms
echo
echo "Layer writing: \`hull commit\` of a container whose upper directory holds ${SIZE} KiB (64 copies of busybox) takes $(ms "$(med layer "hull commit")") ms; \`tar -c | gzip -1\` of the same directory $(ms "$(med layer "tar | gzip -1")") ms (hull/tar: $(ratio "$(med layer "hull commit")" "$(med layer "tar | gzip -1")")×; the commit also stores the blob, writes the config and manifest and tags)."
