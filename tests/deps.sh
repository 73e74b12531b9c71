#!/usr/bin/env bash
# tests/deps.sh: makes sure the Debian packages that the tests need are installed.
#   aria2, python3-libtorrent, transmission-*: real clients for the interop tests;
#   opentracker: the reference tracker the tests and benchmarks compare against;
#   qemu-user-static: runs the router builds (cross/test.sh);
#   busybox, shellcheck: run the OpenWrt init script under busybox ash (OpenWrt's shell) and
#     check the OpenWrt package's shell scripts (tests/openwrt.rs).
# All present: a fast no-op. Missing, as root with apt-get: installs them. Otherwise prints the
# exact command to run and fails.
set -euo pipefail

PACKAGES=(aria2 python3 python3-libtorrent transmission-cli transmission-daemon opentracker qemu-user-static mktorrent
          shellcheck busybox)

missing=()
for p in "${PACKAGES[@]}"; do
  # ${Status} is "install ok installed" only for a fully installed package.
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "tests/deps: missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "tests/deps: install them with:" >&2
  echo "sudo apt-get install -y ${missing[*]}"
  exit 1
fi

# opentracker's and transmission-daemon's maintainer scripts would start their services, and a
# stray opentracker would hold port 6969. invoke-rc.d and deb-systemd-invoke ask
# /usr/sbin/policy-rc.d first; exit status 101 means "action forbidden", so nothing starts.
# Only a policy file created here is removed again.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# written by tests/deps.sh during its apt-get install: start no services\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

apt-get update
# noninteractive: no debconf prompt can block an unattended run; -y: answer yes.
DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
