#!/bin/sh
# Installs what Hull's build, main job, tests and benchmarks need on a fresh
# Debian machine. Idempotent: installs only what is missing. Needs root.
set -eu
PACKAGES="busybox-static tini containernetworking-plugins aardvark-dns iperf3 iproute2 iptables iputils-ping runc crun runsc hyperfine file jq strace time procps tmux uidmap passwd util-linux bsdutils containerd umoci skopeo podman conmon docker-registry apache2-utils gcc pkg-config libseccomp-dev debootstrap pigz curl tar zstd"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q $missing >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q $missing >/dev/null; }
fi
command -v cargo >/dev/null || { echo "setup: cargo not found; install a Rust toolchain (rustup)" >&2; exit 1; }
