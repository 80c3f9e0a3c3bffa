#!/bin/sh
# The whole test suite: formatting, lints, unit tests, and the root-only
# integration tests that run real containers (also under runc).
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
[ "$(id -u)" -eq 0 ] || { echo "test.sh: the container tests need root" >&2; exit 1; }
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --features hull-runtime/root-tests,hull-cli/root-tests,hull-network/root-tests -q -- -D warnings
cargo test --workspace -q
cargo test -p hull-runtime --features root-tests --test root_containers --test root_lifecycle --test root_security -q
# The engine tests start hull-shim from beside hull (and hull-daemon, driven
# by the real docker CLI), and the attack tests drive hull-runtime on the
# engine's containers too.
cargo build -q -p hull-shim -p hull-runtime -p hull-daemon
cargo test -p hull-cli --features root-tests --test root_images --test root_registry --test root_engine --test root_attacks --test root_first_hour --test root_engine_service --test root_docker_api --test root_bollard --test root_build -q
# The CNI client against Debian's plugins, in network namespaces of its own.
cargo test -p hull-network --features root-tests --test root_cni -q
# Real clients (containerd's runc shim, Podman's conmon) driving hull-runtime.
tests/clients.sh target/debug/hull-runtime
