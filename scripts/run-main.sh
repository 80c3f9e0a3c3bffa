#!/bin/sh
# Hull's main job: a container from a local image, offline. Builds Hull,
# builds the default image from the host's busybox-static into the store
# (no network), and runs a container from it.
# Usage: sudo scripts/run-main.sh [COMMAND...]   (default: a short greeting)
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -q -p hull-cli -p hull-shim -p hull-runtime
HULL=target/release/hull
$HULL image default >/dev/null
if [ "$#" -eq 0 ]; then
  set -- /bin/sh -c 'echo "hello from a Hull container: hostname=$(hostname) pid=$$ uid=$(id -u)"; ls /'
fi
exec $HULL run --rm localhost/hull/busybox "$@"
