#!/bin/sh
# Prints the path of a tar of a minimal Debian bookworm root filesystem
# (debootstrap --variant=minbase), made once and cached: the image tests
# compare a real distribution layer, thousands of entries with every mode
# and owner Debian uses, against tar and umoci. Needs root, debootstrap
# (setup.sh installs it) and Debian's mirror (the package registry).
set -eu
cache=${HULL_TEST_CACHE:-/var/cache/hull-tests}
tarball=$cache/debian-bookworm-minbase.tar
if [ ! -s "$tarball" ]; then
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/debootstrap.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  debootstrap --variant=minbase bookworm "$work/root" http://deb.debian.org/debian >"$work/log" 2>&1 ||
    { tail -20 "$work/log" >&2; echo "debian-rootfs: debootstrap failed" >&2; exit 1; }
  # Numeric owners, the root entry first, as image builders write layers.
  tar --numeric-owner --xattrs -C "$work/root" -cf "$work/layer.tar" .
  mv "$work/layer.tar" "$tarball"
fi
echo "$tarball"
