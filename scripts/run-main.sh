#!/bin/sh
# Hull's main job at this stage: build hull-runtime, make the busybox bundle
# from the host's busybox-static (offline), and run a container from it.
# Usage: sudo scripts/run-main.sh [COMMAND...]   (default: a short greeting)
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -q -p hull-runtime
bundle=assets/busybox-bundle
[ -f "$bundle/config.json" ] || scripts/make-bundle.sh "$bundle" target/release/hull-runtime
id="hull-main-$$"
if [ "$#" -eq 0 ]; then
  set -- /bin/sh -c 'echo "hello from a Hull container: hostname=$(hostname) pid=$$ uid=$(id -u)"; ls /'
fi
# Write the command into a copy of the config so the bundle stays reusable.
run_bundle=$(mktemp -d)
trap 'rm -rf "$run_bundle"' EXIT
ln -s "$(realpath "$bundle/rootfs")" "$run_bundle/rootfs"
jq '.process.args = $ARGS.positional | .root.path = "rootfs"' "$bundle/config.json" --args -- "$@" > "$run_bundle/config.json"
status=0
target/release/hull-runtime run --bundle "$run_bundle" "$id" || status=$?
exit "$status"
