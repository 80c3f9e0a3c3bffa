#!/bin/sh
# Networking benchmark, inside a network namespace the script makes (no
# traffic leaves it): the time a network adds to `hull run -d` (none vs
# the default bridge vs a user network with DNS, interleaved in one loop),
# beside Podman's (netavark) bridge against its none; then container to
# container TCP throughput (iperf3, the host's binary inside the two
# containers' namespaces) against a plain veth pair between two namespaces.
# Prints a Markdown section (scripts/bench.sh appends it to BENCHMARKS.md). Root.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
cargo build --release -q -p hull-cli -p hull-shim
RUNS=${RUNS:-30}
W=$(mktemp -d /tmp/hull-bench-net.XXXXXX)
NS=hull-bench-net-$$
VA=hull-bench-va-$$
VB=hull-bench-vb-$$
IN="nsenter --net=/run/netns/$NS"
HULL="$IN $(realpath target/release/hull) --root $W/hull --run-root $W/hull-run"
export HULL_CGROUP_PARENT=/hull-bench-net
cat > "$W/podman.sh" <<P
#!/bin/sh
exec $IN podman --root $W/podman/root --runroot $W/podman/run --cgroup-manager=cgroupfs --events-backend=file --runtime runc "\$@"
P
chmod +x "$W/podman.sh"
PODMAN="$W/podman.sh"
PFLAGS="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
IPERF_PIDS=""
cleanup() {
  for p in $IPERF_PIDS; do kill "$p" 2>/dev/null || true; done
  for id in $($HULL ps -aq 2>/dev/null); do $HULL rm -f "$id" >/dev/null 2>&1 || true; done
  $PODMAN rm -af -t 0 >/dev/null 2>&1 || true
  $PODMAN network prune -f >/dev/null 2>&1 || true
  av=$(cat "$W/hull-run/aardvark-dns/aardvark.pid" 2>/dev/null || true)
  [ -n "$av" ] && grep -q "$W" "/proc/$av/cmdline" 2>/dev/null && kill "$av" 2>/dev/null || true
  grep " $W" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  for d in /sys/fs/cgroup/*/hull-bench-net; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  for n in "$NS" "$VA" "$VB"; do ip netns del "$n" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
for n in "$NS" "$VA" "$VB"; do ip netns add "$n"; ip -n "$n" link set lo up; done
$HULL image default >/dev/null
$HULL network create --subnet 10.77.0.0/24 benchnet >/dev/null
(cd "$W" && mkdir -p r/bin && cp /bin/busybox r/bin/ && for t in sh true sleep; do ln -sf busybox "r/bin/$t"; done && tar cf r.tar -C r .)
$PODMAN import "$W/r.tar" localhost/hull-busybox >/dev/null 2>&1
# Warm-up: the bridges, NAT chains and the DNS server exist before timing.
for net in bridge benchnet; do $HULL rm -f "$($HULL run -d --network $net localhost/hull/busybox sleep 1000)" >/dev/null; done
$PODMAN rm -f -t 0 "$($PODMAN run -d $PFLAGS localhost/hull-busybox sleep 1000)" >/dev/null
# One loop, the variants interleaved; each `run -d` timed alone, its removal not.
now() { date +%s%N; }
: > "$W/times"
i=0
while [ $i -lt "$RUNS" ]; do
  for v in "hull none" "hull bridge" "hull benchnet" "podman none" "podman bridge"; do
    set -- $v
    if [ "$1" = hull ]; then
      t0=$(now); id=$($HULL run -d --network "$2" localhost/hull/busybox sleep 1000); t1=$(now)
      $HULL rm -f "$id" >/dev/null
    else
      t0=$(now); id=$($PODMAN run -d $PFLAGS --network "$2" localhost/hull-busybox sleep 1000); t1=$(now)
      $PODMAN rm -f -t 0 "$id" >/dev/null
    fi
    echo "$1-$2 $(( (t1 - t0) / 1000 ))" >> "$W/times"
  done
  i=$((i + 1))
done
med() { awk -v k="$1" '$1 == k {print $2}' "$W/times" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1000}'; }
HN=$(med hull-none); HB=$(med hull-bridge); HU=$(med hull-benchnet); PN=$(med podman-none); PB=$(med podman-bridge)
add() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", a - b}'; }

# Throughput: two containers on the user network, iperf3 in their namespaces.
A=$($HULL run -d --network benchnet --name ipa localhost/hull/busybox sleep 1000)
B=$($HULL run -d --network benchnet --name ipb localhost/hull/busybox sleep 1000)
NA=$($HULL inspect -f '{{.NetworkSettings.SandboxKey}}' ipa)
NB=$($HULL inspect -f '{{.NetworkSettings.SandboxKey}}' ipb)
IPA=$($HULL inspect -f '{{.NetworkSettings.IPAddress}}' ipa)
ip link add hbv-a netns "$VA" type veth peer name hbv-b netns "$VB"
ip -n "$VA" addr add 10.78.0.1/24 dev hbv-a; ip -n "$VA" link set hbv-a up
ip -n "$VB" addr add 10.78.0.2/24 dev hbv-b; ip -n "$VB" link set hbv-b up
throughput() { # server-ns client-ns address
  nsenter --net="$1" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
  IPERF_PIDS="$IPERF_PIDS $!"
  sleep 0.3
  nsenter --net="$2" iperf3 -c "$3" -p 5201 -t "${IPERF_SECONDS:-4}" -J | jq '.end.sum_received.bits_per_second / 1e9'
}
: > "$W/tput"
for r in 1 2 3; do
  echo "veth $(throughput /run/netns/$VA /run/netns/$VB 10.78.0.1)" >> "$W/tput"
  echo "hull $(throughput "$NA" "$NB" "$IPA")" >> "$W/tput"
done
# The same with bridged frames kept out of iptables (a per-namespace sysctl,
# set only in the script's namespace): what br_netfilter costs.
NF=$($IN cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || echo n/a)
if [ "$NF" = 1 ]; then
  for r in 1 2 3; do
    $IN sh -c 'echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables'
    echo "nonf $(throughput "$NA" "$NB" "$IPA")" >> "$W/tput"
    $IN sh -c 'echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables'
  done
fi
tmed() { awk -v k="$1" '$1 == k {print $2}' "$W/tput" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'; }
TV=$(tmed veth); TH=$(tmed hull); TN=$(tmed nonf)

echo "## Networking: start cost and throughput"
echo
echo "Written by \`scripts/bench-network.sh\` on $(date -u +%Y-%m-%d), inside a network namespace the script makes. $RUNS rounds of one loop that interleaves the variants; each \`run -d … sleep 1000\` is timed alone (its removal is not). Medians. Podman $(podman --version | awk '{print $3}') with netavark and runc."
echo
echo "| run -d | median | added by the network |"
echo "|---|---|---|"
echo "| hull --network none | $HN ms | |"
echo "| hull, default bridge (hull0, NAT) | $HB ms | $(add "$HB" "$HN") ms |"
echo "| hull, user network (DNS via aardvark-dns) | $HU ms | $(add "$HU" "$HN") ms |"
echo "| podman --network none | $PN ms | |"
echo "| podman, default bridge (netavark) | $PB ms | $(add "$PB" "$PN") ms |"
echo
echo "Container to container TCP (iperf3 for ${IPERF_SECONDS:-4} s, median of 3, Gbit/s): Hull user network $TH, plain veth pair between two namespaces $TV ($(awk -v a="$TH" -v b="$TV" 'BEGIN {printf "%.1f", 100 * a / b}')% of the floor)."
if [ "$NF" = 1 ]; then
  echo
  echo "On this host \`net.bridge.bridge-nf-call-iptables\` is 1 (br_netfilter, as docker wants it), so frames crossing the bridge go through iptables and conntrack. With it set to 0 in the benchmark's namespace only: $TN Gbit/s ($(awk -v a="$TN" -v b="$TV" 'BEGIN {printf "%.1f", 100 * a / b}')% of the floor). Hull leaves the setting alone: portmap's hairpin (a container reaching a published port of its own bridge) needs it."
fi
