#!/bin/sh
# Start-path benchmark: `run` of the same busybox /bin/true bundle under
# hull-runtime, runc and crun, in one hyperfine invocation, plus
# `unshare -m true` as the floor. Writes BENCHMARKS.md. Needs root.
#
# crun 1.8 refuses hybrid cgroup hosts, so it runs in a private mount
# namespace where /sys/fs/cgroup/unified is unmounted (entered with nsenter;
# `nsenter ... true` is measured too, so its cost can be subtracted).
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -q -p hull-runtime
RUNS=${RUNS:-60}
work=$(mktemp -d /tmp/hull-bench.XXXXXX)
cleanup() {
  umount "$work/ro-hull-runtime" 2>/dev/null || true
  umount "$work/ns/mnt" 2>/dev/null || true
  umount "$work/ns" 2>/dev/null || true
    # Only the cgroups this script's containers left (runc leaves parents).
  for d in /sys/fs/cgroup/*/hull-bench; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
HULL=$(realpath target/release/hull-runtime)
scripts/make-bundle.sh "$work/base" "$HULL" >/dev/null
for rt in hull runc crun; do
  mkdir -p "$work/$rt"
  jq --arg root "$work/base/rootfs" --arg cg "/hull-bench/$rt" \
    '.process.args = ["/bin/true"] | .root.path = $root | .linux.cgroupsPath = $cg' \
    "$work/base/config.json" > "$work/$rt/config.json"
done
# The same bundle with a Docker-sized seccomp profile: every x86_64 syscall
# the kernel headers name is allowed except the ones Docker's default
# profile refuses outright; default action ERRNO (as Docker's).
DENY="acct add_key bpf clock_adjtime clock_settime create_module delete_module finit_module get_kernel_syms get_mempolicy init_module ioperm iopl kcmp kexec_file_load kexec_load keyctl lookup_dcookie mbind mount move_pages nfsservctl open_by_handle_at perf_event_open personality pivot_root process_vm_readv process_vm_writev ptrace query_module quotactl reboot request_key set_mempolicy setns settimeofday swapoff swapon sysfs _sysctl umount2 unshare uselib userfaultfd ustat vm86 vm86old"
names=$(sed -n 's/^#define __NR_\([a-z0-9_]*\) .*/\1/p' /usr/include/x86_64-linux-gnu/asm/unistd_64.h | grep -vxF "$(echo "$DENY" | tr ' ' '\n')" | jq -R . | jq -s -c .)
mkdir -p "$work/hull-seccomp"
jq --argjson names "$names" --arg cg "/hull-bench/hull-seccomp" \
  '.linux.cgroupsPath = $cg | .linux.seccomp = {defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1,
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    syscalls: [{names: $names, action: "SCMP_ACT_ALLOW"}]}' "$work/hull/config.json" > "$work/hull-seccomp/config.json"
SECCOMP_RULES=$(echo "$names" | jq length)
# A persistent mount namespace without the cgroup2 mount, for crun.
mkdir -p "$work/ns" && mount --bind "$work/ns" "$work/ns" && mount --make-private "$work/ns"
touch "$work/ns/mnt"
unshare --mount="$work/ns/mnt" --propagation private umount /sys/fs/cgroup/unified
NS="nsenter --mount=$work/ns/mnt"

# The same binary on a read-only bind mount: it needs no re-execution from
# a read-only view of itself (see hull_runtime::sealed), which shows that cost.
cp "$HULL" "$work/hull-runtime-copy"; touch "$work/ro-hull-runtime"
mount --bind "$work/hull-runtime-copy" "$work/ro-hull-runtime"
mount -o remount,ro,bind "$work/ro-hull-runtime"
RO="$work/ro-hull-runtime"
hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$work/times.json" \
  -n hull-runtime "$HULL --root $work/state-hull run -b $work/hull bench" \
  -n "hull-runtime, binary on a read-only mount" "$RO --root $work/state-hull run -b $work/hull bench" \
  -n "hull-runtime + seccomp" "$HULL --root $work/state-hull run -b $work/hull-seccomp bench" \
  -n runc "runc --root $work/state-runc run -b $work/runc bench" \
  -n crun "$NS crun --root $work/state-crun run -b $work/crun bench" \
  -n "nsenter (crun's wrapper)" "$NS true" \
  -n "unshare -m true" "unshare -m true" >&2

# Seccomp without the compiled-filter cache (the first container with a profile).
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$work/cold.json" \
  --prepare "rm -rf $work/state-hull/.seccomp-cache" \
  -n "hull-runtime + seccomp, cold cache" "$HULL --root $work/state-hull run -b $work/hull-seccomp bench" >&2
COLD=$(jq -r '.results[0].median * 1000' "$work/cold.json")

# exec latency: one long-running container per runtime, then `exec ID /bin/true`.
for rt in hull runc; do
  mkdir -p "$work/$rt-exec"
  jq --arg cg "/hull-bench/$rt-exec" '.process.args = ["/bin/sleep", "100000"] | .linux.cgroupsPath = $cg' \
    "$work/$rt/config.json" > "$work/$rt-exec/config.json"
done
"$HULL" --root "$work/state-hull" run -d -b "$work/hull-exec" execbench
runc --root "$work/state-runc" run -d -b "$work/runc-exec" execbench >/dev/null 2>&1 </dev/null
hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$work/exec.json" \
  -n "hull-runtime exec" "$HULL --root $work/state-hull exec execbench /bin/true" \
  -n "runc exec" "runc --root $work/state-runc exec execbench /bin/true" \
  -n "hull-runtime exec, binary on a read-only mount" "$RO --root $work/state-hull exec execbench /bin/true" >&2
"$HULL" --root "$work/state-hull" delete -f execbench
runc --root "$work/state-runc" delete -f execbench
EH=$(jq -r '.results[0].median * 1000' "$work/exec.json"); ER=$(jq -r '.results[1].median * 1000' "$work/exec.json")
EO=$(jq -r '.results[2].median * 1000' "$work/exec.json")

rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
median_rss() {
  for i in 1 2 3 4 5 6 7; do rss "$@"; done | sort -n | sed -n 4p
}
RSS_HULL=$(median_rss "$HULL" --root "$work/state-hull" run -b "$work/hull" bench)
RSS_RUNC=$(median_rss runc --root "$work/state-runc" run -b "$work/runc" bench)
RSS_CRUN=$(median_rss $NS crun --root "$work/state-crun" run -b "$work/crun" bench)
STRACE=$(strace -c -f -o /dev/stdout "$HULL" --root "$work/state-hull" run -b "$work/hull" bench | head -16)
# Phase timeline (ms since start) of one run, from a filtered strace.
strace --seccomp-bpf -f -ttt -e trace=execve,clone3,pivot_root,exit_group,openat -o "$work/timeline" \
  "$HULL" --root "$work/state-hull" run -b "$work/hull" bench
TIMELINE=$(awk 'NR == 1 { t0 = $2 }
  /config.json|clone3\(|pivot_root|exec.fifo|execve\("\/bin\/true|exited with/ {
    line = $0; sub(/^[0-9]+ +[0-9.]+ /, "", line); printf "%7.2f  %s\n", ($2 - t0) * 1000, substr(line, 1, 80) }' "$work/timeline")

med() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .median * 1000' "$work/times.json"; }
H=$(med hull-runtime); HO=$(med "hull-runtime, binary on a read-only mount"); HS=$(med "hull-runtime + seccomp"); R=$(med runc); C=$(med crun); N=$(med "nsenter (crun's wrapper)"); U=$(med "unshare -m true")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }
{
  echo "# Benchmarks"
  echo
  echo "Written by \`scripts/bench.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(uname -r)); $RUNS runs each after 5 warm-ups, one hyperfine invocation, same busybox \`/bin/true\` bundle."
  echo
  echo "## Container start: \`run\` of /bin/true"
  echo
  echo "| command | median | vs hull-runtime | peak RSS (GNU time, median of 7) |"
  echo "|---|---|---|---|"
  echo "| hull-runtime run | $(ms "$H") ms | 1.00 | ${RSS_HULL} KiB |"
  echo "| hull-runtime run, binary on a read-only mount (no re-execution) | $(ms "$HO") ms | $(ratio "$HO" "$H")× | |"
  echo "| hull-runtime run, ${SECCOMP_RULES}-syscall seccomp profile | $(ms "$HS") ms | $(ratio "$HS" "$H")× | |"
  echo "| hull-runtime run, same profile, compiled-filter cache emptied before each run | $(ms "$COLD") ms | $(ratio "$COLD" "$H")× | |"
  echo "| runc run | $(ms "$R") ms | $(ratio "$R" "$H")× | ${RSS_RUNC} KiB |"
  echo "| crun run (via nsenter) | $(ms "$C") ms | $(ratio "$C" "$H")× | ${RSS_CRUN} KiB |"
  echo "| nsenter --mount true (crun's wrapper cost) | $(ms "$N") ms | | |"
  echo "| unshare -m true (floor) | $(ms "$U") ms | | |"
  echo
  echo "Seccomp adds $(awk -v a="$HS" -v b="$H" 'BEGIN { printf "%.2f", a - b }') ms to the median start (target: at most 2 ms). The profile allows every syscall the kernel headers name except those Docker's default profile refuses, default ERRNO, three architectures: the size and shape of Docker's profile. Hull compiles a profile with libseccomp once and caches the BPF program under \`<root>/.seccomp-cache\`, keyed by the whole profile (the cold row shows the compile cost)."
  echo
  echo "runc $(runc --version | head -1 | awk '{print $3}'), crun $(crun --version | head -1 | awk '{print $3}'). crun runs in a mount namespace without /sys/fs/cgroup/unified because crun 1.8 refuses hybrid hosts; subtract the nsenter row for crun alone."
  echo
  echo "## exec latency: \`exec ID /bin/true\` into a running container"
  echo
  echo "| command | median | vs hull-runtime |"
  echo "|---|---|---|"
  echo "| hull-runtime exec | $(ms "$EH") ms | 1.00 |"
  echo "| runc exec | $(ms "$ER") ms | $(ratio "$ER" "$EH")× |"
  echo "| hull-runtime exec, binary on a read-only mount (no re-execution) | $(ms "$EO") ms | $(ratio "$EO" "$EH")× |"
  echo
  echo "The runtime re-executes itself once from a read-only bind mount of its binary under /run/hull-sealed (made once per binary version), so that no process cloned into a container can open the host binary for writing through /proc/PID/exe (CVE-2019-5736 class): for \`exec\` ($(awk -v a="$EH" -v b="$EO" 'BEGIN { printf "%.1f", a - b }') ms here), for \`create\` (its init waits for \`start\` where an exec could join it), and for \`run\` only when the init joins an existing pid namespace or the host's; this bundle's \`run\` makes a new one, where nothing can see the init before its execve, so it pays nothing (the two run rows differ by noise: $(awk -v a="$H" -v b="$HO" 'BEGIN { printf "%.1f", a - b }') ms). A binary installed on a read-only mount pays nothing. runc 1.1.12+ and crun pay the same kind of cost (a sealed memfd copy)."
  echo
  echo "## Where hull-runtime's time goes"
  echo
  echo "Beyond the one re-execution from a read-only view of its binary, the init is a fork-like clone3 of the runtime, and \`start\` waits on the exec fifo and a pidfd rather than polling. What is left:"
  echo
  echo "- Process start of the runtime binary itself and of the container process (the \`unshare -m true\` row is the floor for one exec plus a mount namespace)."
  echo "- Creating the cgroup: one directory in each of the host's 10 hierarchies (9 v1 + cgroup2 on this hybrid host), the device rules, and removing them all at delete. Joining them used to cost one RCU grace period: writing another process's pid to cgroup.procs takes the kernel's global threadgroup lock. The init now joins its v1 cgroups by writing its own thread (\`0\`) to \`tasks\`, which skips that lock, and is born into the cgroup2 directory with clone3(CLONE_INTO_CGROUP); in back-to-back hyperfine runs that took the mean from 9.4 ms to 8.0 ms."
  echo "- New namespaces (net, pid, ipc, uts, mount) at clone, and in the init the mounts of the default config (proc, /dev tmpfs, devpts, shm, mqueue, sysfs, and the cgroup tree: a tmpfs plus one bind per hierarchy), device nodes, pivot_root and the detach of the old root; the mount namespace's teardown when the container exits."
  echo
  echo "Timeline of one run under a filtered strace (ms since the runtime started; strace inflates every gap):"
  echo
  echo '```'
  echo "$TIMELINE"
  echo '```'
  echo
  echo "\`strace -c -f hull-runtime run\` (syscall time across the runtime and the container init):"
  echo
  echo '```'
  echo "$STRACE"
  echo '```'
} > BENCHMARKS.md
cat BENCHMARKS.md
# Image pulls (slow: several minutes). BENCH_PULL=0 skips them.
if [ "${BENCH_PULL:-1}" != 0 ]; then
  cargo build --release -q -p hull-cli
  { echo; RUNS=${PULL_RUNS:-3} scripts/bench-pull.sh; } >> BENCHMARKS.md
fi
if [ "${BENCH_NETWORK:-1}" != 0 ]; then
  { echo; scripts/bench-network.sh; } >> BENCHMARKS.md
fi
if [ "${BENCH_ENGINE:-1}" != 0 ]; then
  { echo; scripts/bench-engine.sh; } >> BENCHMARKS.md
fi
if [ "${BENCH_DAEMON:-1}" != 0 ]; then
  { echo; scripts/bench-daemon.sh; } >> BENCHMARKS.md
fi
if [ "${BENCH_BUILD:-1}" != 0 ]; then
  { echo; scripts/bench-build.sh; } >> BENCHMARKS.md
fi
