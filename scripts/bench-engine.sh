#!/bin/sh
# Engine benchmark, all peers in one hyperfine run each: `hull run --rm`
# against `podman run --rm` (Debian's podman with conmon and runc),
# `docker run --rm` (Debian's docker.io: a dockerd this script starts on a
# private socket and data root, no bridge, no iptables) and `runc run` of a
# plain bundle (the floor); then `exec`; then the memory of idle
# containers' supervisors (hull-shim, conmon, containerd-shim-runc-v2) and
# the daemons' growth. Prints a Markdown section (scripts/bench.sh appends
# it to BENCHMARKS.md). Root.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
command -v dockerd >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >/dev/null
cargo build --release -q -p hull-cli -p hull-shim -p hull-runtime
RUNS=${RUNS:-30}
IDLE=${IDLE:-20}
W=$(mktemp -d /tmp/hull-bench-engine.XXXXXX)
HULL="$(realpath target/release/hull) --root $W/hull --run-root $W/hull-run"
export HULL_CGROUP_PARENT=/hull-bench-engine
cat > "$W/podman.sh" <<P
#!/bin/sh
exec podman --root $W/podman/root --runroot $W/podman/run --cgroup-manager=cgroupfs --events-backend=file --runtime runc "\$@"
P
chmod +x "$W/podman.sh"
PODMAN="$W/podman.sh"
RUNFLAGS="--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
DOCKER="docker -H unix://$W/docker.sock"
cleanup() {
  for id in $($HULL ps -aq 2>/dev/null); do $HULL rm -f "$id" >/dev/null 2>&1 || true; done
  $PODMAN rm -af -t 0 >/dev/null 2>&1 || true
  if [ -s "$W/docker.pid" ]; then
    $DOCKER rm -f $($DOCKER ps -aq) >/dev/null 2>&1 || true
    pid=$(cat "$W/docker.pid"); kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  runc --root "$W/runc" delete -f bench-exec >/dev/null 2>&1 || true
  grep " $W" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  for d in /sys/fs/cgroup/*/hull-bench-engine /sys/fs/cgroup/*/hull-bench-runc /sys/fs/cgroup/*/hull-bench-docker; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT
$HULL image default >/dev/null
scripts/make-bundle.sh "$W/bundle" >/dev/null
jq '.process.args = ["/bin/true"] | .process.terminal = false | .linux.cgroupsPath = "/hull-bench-runc/run"' \
  "$W/bundle/config.json" > "$W/c.json" && mv "$W/c.json" "$W/bundle/config.json"
(cd "$W/bundle/rootfs" && tar cf "$W/rootfs.tar" .)
$PODMAN import "$W/rootfs.tar" localhost/hull-busybox >/dev/null 2>&1
dockerd --data-root "$W/docker" --exec-root "$W/docker-exec" --pidfile "$W/docker.pid" -H "unix://$W/docker.sock" \
  --bridge=none --iptables=false --ip6tables=false --ip-masq=false --cgroup-parent /hull-bench-docker \
  --default-ulimit nofile=1024:1024 --default-ulimit nproc=1024:1024 \
  --containerd-namespace hull-bench --containerd-plugins-namespace hull-bench-plugins >"$W/dockerd.log" 2>&1 &
i=0; until $DOCKER info >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 100 ] || { cat "$W/dockerd.log" >&2; exit 1; }; sleep 0.2; done
$DOCKER import "$W/rootfs.tar" localhost/hull-busybox >/dev/null

hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$W/run.json" \
  -n "hull run --rm" "$HULL run --rm --network none localhost/hull/busybox true" \
  -n "podman run --rm" "$PODMAN run --rm $RUNFLAGS localhost/hull-busybox true" \
  -n "docker run --rm" "$DOCKER run --rm --network none localhost/hull-busybox true" \
  -n "runc run (floor)" "runc --root $W/runc run -b $W/bundle bench-run" >&2

$HULL run -d --network none --name ex localhost/hull/busybox sleep 100000 >/dev/null
$PODMAN run -d $RUNFLAGS --name ex localhost/hull-busybox sleep 100000 >/dev/null
$DOCKER run -d --network none --name ex localhost/hull-busybox sleep 100000 >/dev/null
mkdir -p "$W/exec-bundle"
jq --arg r "$W/bundle/rootfs" '.process.args = ["sleep", "100000"] | .root.path = $r | .linux.cgroupsPath = "/hull-bench-runc/exec"' \
  "$W/bundle/config.json" > "$W/exec-bundle/config.json"
runc --root "$W/runc" run -d -b "$W/exec-bundle" bench-exec </dev/null >/dev/null 2>&1
# hull from a read-only bind mount needs no re-execution (hull_runtime::sealed): its cost.
cp target/release/hull "$W/hull-copy"; touch "$W/ro-hull"
ln -sf "$(realpath target/release/hull-shim)" "$W/hull-shim"   # hull finds its shim beside it
mount --bind "$W/hull-copy" "$W/ro-hull" && mount -o remount,ro,bind "$W/ro-hull"
HULL_RO="$W/ro-hull ${HULL#* }"
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$W/exec.json" \
  -n "hull exec" "$HULL exec ex true" \
  -n "hull exec, binary on a read-only mount" "$HULL_RO exec ex true" \
  -n "podman exec" "$PODMAN exec ex true" \
  -n "docker exec" "$DOCKER exec ex true" \
  -n "runc exec" "runc --root $W/runc exec bench-exec true" >&2

# Events and wait: from a container's end (the FinishedAt its shim records
# as it reaps the init) to the `die` event a follower prints, and to `hull
# wait` returning; each over EVENTS containers. Then the CPU that 20 idle
# `logs -f` followers use in 10 s (inotify: none expected).
EVENTS=${EVENTS:-20}
ns_of() { date -d "$1" +%s%N; }
{ $HULL events --filter event=die --format '{{.Actor.ID}}' & echo $! > "$W/events.pid"; wait; } |
  while read -r id; do echo "$id $(date +%s%N)"; done > "$W/events.seen" &
sleep 0.5
: > "$W/event.lat"; : > "$W/wait.lat"
for i in $(seq "$EVENTS"); do
  id=$($HULL run -d --network none localhost/hull/busybox sleep 0.3)
  $HULL wait "$id" >/dev/null; back=$(date +%s%N)
  end=$(ns_of "$($HULL inspect -f '{{.State.FinishedAt}}' "$id")")
  echo $(( (back - end) / 1000 )) >> "$W/wait.lat"
  echo "$id $end" >> "$W/ends"
done
sleep 1
kill "$(cat "$W/events.pid")" 2>/dev/null || true
while read -r id end; do
  seen=$(awk -v i="$id" '$1 == i {print $2; exit}' "$W/events.seen")
  [ -n "$seen" ] && echo $(( (seen - end) / 1000 )) >> "$W/event.lat"
done < "$W/ends"
for id in $(cut -d' ' -f1 "$W/ends"); do $HULL rm "$id" >/dev/null; done
$HULL run -d --network none --name chatty localhost/hull/busybox sleep 100000 >/dev/null
FOLLOWERS=""
for i in $(seq 20); do $HULL logs -f chatty >/dev/null 2>&1 & FOLLOWERS="$FOLLOWERS $!"; done
sleep 1
ticks() { for p in $FOLLOWERS; do awk '{print $14 + $15}' "/proc/$p/stat"; done | awk '{s += $1} END {print s}'; }
T0=$(ticks); sleep 10; T1=$(ticks)
for p in $FOLLOWERS; do kill "$p" 2>/dev/null || true; done
$HULL rm -f chatty >/dev/null

# Idle memory: IDLE sleeping containers each; PSS and RSS of each supervisor,
# and how much the daemons (dockerd, its containerd) grew.
rss_of() { awk '/^Rss:/ {print $2}' "/proc/$1/smaps_rollup"; }
DOCKERD=$(cat "$W/docker.pid"); CONTAINERD=$(pgrep -f "containerd --config $W/docker-exec" | head -1)
D0=$(rss_of "$DOCKERD"); C0=$(rss_of "$CONTAINERD")
for i in $(seq "$IDLE"); do
  $HULL run -d --network none localhost/hull/busybox sleep 100000 >/dev/null
  $PODMAN run -d $RUNFLAGS localhost/hull-busybox sleep 100000 >/dev/null
  $DOCKER run -d --network none localhost/hull-busybox sleep 100000 >/dev/null
done
sleep 1
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
mem() { # name pattern -> "median_pss_kb median_rss_kb count"
  for p in $(pgrep -f "$1"); do
    awk '/^Pss:/ {pss=$2} /^Rss:/ {rss=$2} END {print pss, rss}' "/proc/$p/smaps_rollup" 2>/dev/null
  done > "$W/mem"
  echo "$(cut -d' ' -f1 "$W/mem" | median) $(cut -d' ' -f2 "$W/mem" | median) $(wc -l < "$W/mem")"
}
SHIM=$(mem "hull-shim $W/hull-run")
CONMON=$(mem "conmon.*$W/podman")
SHIMV2=$(mem "containerd-shim-runc-v2.*$W/docker-exec")
D1=$(rss_of "$DOCKERD"); C1=$(rss_of "$CONTAINERD")

med() { jq -r --arg n "$2" '.results[] | select(.command == $n) | .median * 1000' "$W/$1.json"; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
H=$(med run "hull run --rm"); P=$(med run "podman run --rm"); DK=$(med run "docker run --rm"); R=$(med run "runc run (floor)")
EH=$(med exec "hull exec"); EO=$(med exec "hull exec, binary on a read-only mount"); EP=$(med exec "podman exec"); ED=$(med exec "docker exec"); ER=$(med exec "runc exec")
echo "## Engine: \`hull run --rm\`, exec, idle memory"
echo
echo "Written by \`scripts/bench-engine.sh\` on $(date -u +%Y-%m-%d); $RUNS runs each after 3 warm-ups, one hyperfine invocation per table; the same busybox rootfs for every tool (Hull's default image; the same files imported into Podman; a plain bundle for runc). Podman $(podman --version | awk '{print $3}') with conmon and runc (crun refuses this hybrid cgroup host), \`--network none\`, its own storage root; Docker $($DOCKER version -f '{{.Server.Version}}') (Debian's docker.io; dockerd started by the script on a private socket and data root, no bridge or iptables), \`--network none\`."
echo
echo "| command | median | vs hull |"
echo "|---|---|---|"
echo "| hull run --rm --network none busybox true | $(ms "$H") ms | 1.00 |"
echo "| podman run --rm --network none busybox true | $(ms "$P") ms | $(ratio "$P" "$H")× |"
echo "| docker run --rm --network none busybox true | $(ms "$DK") ms | $(ratio "$DK" "$H")× |"
echo "| runc run of a plain bundle (floor) | $(ms "$R") ms | $(ratio "$R" "$H")× |"
echo
echo "\`hull run --rm\` takes $(ratio "$H" "$R")× the runc floor (target: at most 2×), while doing more: state row in SQLite, overlay mount, shim start, log file, removal."
echo
echo "| exec of /bin/true | median | vs hull |"
echo "|---|---|---|"
echo "| hull exec | $(ms "$EH") ms | 1.00 |"
echo "| podman exec | $(ms "$EP") ms | $(ratio "$EP" "$EH")× |"
echo "| docker exec | $(ms "$ED") ms | $(ratio "$ED" "$EH")× |"
echo "| runc exec | $(ms "$ER") ms | $(ratio "$ER" "$EH")× |"
echo "| hull exec, binary on a read-only mount (no re-execution) | $(ms "$EO") ms | $(ratio "$EO" "$EH")× |"
echo
echo "\`hull exec\` clones nothing into the container: the container's shim, itself started from a read-only view of its binary under /run/hull-sealed, starts the process through a forked helper, so hull needs no re-execution and a binary on a read-only mount gains nothing (the two rows differ by $(awk -v a="$EH" -v b="$EO" 'BEGIN { printf "%.1f", a - b }') ms of noise here)."
echo
EVL=$(median < "$W/event.lat"); WTL=$(median < "$W/wait.lat")
HZ=$(getconf CLK_TCK)
echo "From a container's end (the FinishedAt its shim records as it reaps the init) to what a user sees, median of $EVENTS containers (\`sleep 0.3\`):"
echo
echo "| | median |"
echo "|---|---|"
echo "| the \`die\` event printed by a running \`hull events\` | $(ms "$(awk -v a="$EVL" 'BEGIN {print a / 1000}')") ms |"
echo "| \`hull wait\` returning (started before the end) | $(ms "$(awk -v a="$WTL" 'BEGIN {print a / 1000}')") ms |"
echo "| CPU of 20 idle \`logs -f\` followers over 10 s, together | $(awk -v t="$((T1 - T0))" -v hz="$HZ" 'BEGIN { printf "%d", t * 1000 / hz }') ms |"
echo
echo "Both go through the shim's exit command (\`hull container cleanup\`, which records the end and writes \`die\`), then the journal and inotify: no polling anywhere."
echo
echo "Idle supervisors, $IDLE sleeping containers each (median per process, from /proc/PID/smaps_rollup):"
echo
echo "| supervisor | PSS | RSS | processes |"
echo "|---|---|---|---|"
echo "$SHIM" | awk '{printf "| hull-shim | %d KiB | %d KiB | %d |\n", $1, $2, $3}'
echo "$CONMON" | awk '{printf "| conmon | %d KiB | %d KiB | %d |\n", $1, $2, $3}'
echo "$SHIMV2" | awk '{printf "| containerd-shim-runc-v2 (docker) | %d KiB | %d KiB | %d |\n", $1, $2, $3}'
echo
echo "hull-shim's PSS is $(ratio "${SHIM%% *}" "${CONMON%% *}")× conmon's (target: at most 0.5×), with exec, health checks and other runtimes in it: the monitor drops what its take-over touched (read-only file pages, dead stack, free heap) before it idles."
echo
echo "Daemons: hull and podman have none. dockerd grew by $(( (D1 - D0) / IDLE )) KiB RSS per container and its containerd by $(( (C1 - C0) / IDLE )) KiB ($IDLE containers; RSS before $D0 / $C0 KiB, after $D1 / $C1 KiB)."
