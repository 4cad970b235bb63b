#!/usr/bin/env bash
# Build the base image from Debian packages (debootstrap -> docker import), so no registry is
# needed. The tag carries a hash of this script: a changed recipe gives a new tag, an unchanged
# one is not rebuilt. Prints the image reference on stdout.
#   MC_BASE_IMAGE=debian:bookworm-slim  use a public image instead (hosts with a registry)
set -euo pipefail
source "$(dirname "$0")/../../tools/bootstrap/lib.sh"
mc_step_start "base image"
if [ -n "${MC_BASE_IMAGE:-}" ]; then
  mc_step_done "using MC_BASE_IMAGE=$MC_BASE_IMAGE"; echo "$MC_BASE_IMAGE"; exit 0
fi
SUITE=bookworm
MIRROR="${MC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
hash=$( (cat "$0"; echo "$SUITE $MIRROR") | sha256sum | cut -c1-12)
ref="municloud/base:$SUITE-$hash"
if docker image inspect "$ref" >/dev/null 2>&1; then
  mc_step_done "$ref already built"; echo "$ref"; exit 0
fi
if ! command -v debootstrap >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >"$MC_STATE/logs/apt-debootstrap.log" 2>&1 \
    || mc_die "cannot install debootstrap, see $MC_STATE/logs/apt-debootstrap.log"
fi
rootfs="$MC_STATE/rootfs-$SUITE"
rm -rf "$rootfs"
debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$MC_STATE/logs/debootstrap.log" 2>&1 \
  || mc_die "debootstrap failed, see $MC_STATE/logs/debootstrap.log"
# An image, not a machine: apt sources for docker build, no caches, no docs.
cat >"$rootfs/etc/apt/sources.list" <<SRC
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb ${MIRROR%/debian}/debian-security $SUITE-security main
SRC
cat >"$rootfs/etc/apt/apt.conf.d/90municloud" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Retries "3";
APT
printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\npath-include /usr/share/locale/ja*\n' \
  >"$rootfs/etc/dpkg/dpkg.cfg.d/90municloud-nodoc"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
tar -C "$rootfs" -c . | docker import \
  -c 'ENV LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive' -c 'CMD ["/bin/bash"]' \
  -m "municloud base: debootstrap --variant=minbase $SUITE" - "$ref" >/dev/null
rm -rf "$rootfs"
mc_step_done "built $ref ($(docker image inspect -f '{{.Size}}' "$ref" | awk '{printf "%.0f MB", $1/1e6}'))"
echo "$ref"
