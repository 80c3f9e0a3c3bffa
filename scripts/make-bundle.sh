#!/bin/sh
# Builds an OCI bundle whose rootfs is the host's busybox-static, offline.
# Usage: scripts/make-bundle.sh DIR [hull-runtime binary]
set -eu
dir=${1:?usage: make-bundle.sh DIR [hull-runtime]}
runtime=$(realpath "${2:-target/release/hull-runtime}")
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "make-bundle: busybox not found (apt install busybox-static)" >&2; exit 1; }
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' || ldd "$busybox" 2>&1 | grep -q 'not a dynamic' \
  || { echo "make-bundle: $busybox is not static (apt install busybox-static)" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir/rootfs"
cd "$dir/rootfs"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root home var/tmp run
chmod 1777 tmp var/tmp
cp "$busybox" bin/busybox
for applet in $(bin/busybox --list); do
  [ -e "bin/$applet" ] || ln -s busybox "bin/$applet"
done
cat > etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > etc/group <<'G'
root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
G
echo hull > etc/hostname
cd ..
"$runtime" spec
# No terminal: the bundle runs with the caller's stdio.
sed -i 's/"terminal": true/"terminal": false/' config.json
