#!/usr/bin/env bash
# Installs, once, everything cross builds and qemu tests need (recipe: CROSS.md):
#   1. a nightly toolchain with rust-src (MIPS std is built from source with -Z build-std),
#   2. zig from PyPI in a venv (the linker: it brings musl, crt1.o and libunwind per target),
#   3. cargo-zigbuild (runs cargo with zig as the linker),
#   4. qemu-user-static (runs the foreign binaries; needs root for apt-get).
# Tools go under $TRACKSEED_TOOLS (default ~/.cache/trackseed-cross) and are reused by later
# runs and CI on the same machine. Every step checks first, so a second run is a fast no-op.
set -euo pipefail
# shellcheck source=cross/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

started=$(date +%s%N)
log() { printf 'cross/setup: %s\n' "$*" >&2; }
mkdir -p "$TRACKSEED_TOOLS"
# Run installers from a neutral directory so this repository's cargo config or toolchain
# file (if any) does not apply to them.
cd "$TRACKSEED_TOOLS"

# 1. Nightly with rust-src. --profile minimal: rustc, cargo and rust-std only, no docs.
#    --no-self-update: never try to replace rustup itself (its host is unreachable here).
if ! rustc +nightly --version >/dev/null 2>&1; then
  log "installing the nightly toolchain"
  rustup toolchain install nightly --profile minimal --no-self-update
fi
sysroot="$(rustc +nightly --print sysroot)"
# rust-src is present when its library workspace is (cheaper than asking rustup).
if [ ! -f "$sysroot/lib/rustlib/src/rust/library/Cargo.lock" ]; then
  log "adding rust-src to nightly"
  rustup component add rust-src --toolchain nightly
fi

# 1b. llvm-tools: llvm-objcopy, which cross/build.sh uses to drop the MIPS `.pdr` section
#     (procedure descriptors for old debuggers, never loaded, 80 KB of the stripped binary).
if [ ! -x "$(cross_objcopy)" ]; then
  log "adding llvm-tools to nightly"
  rustup component add llvm-tools --toolchain nightly
fi

# 2. zig $ZIG_VERSION in a venv. The check runs the installed zig, so a venv whose base
#    python has gone away (or a different zig) is rebuilt rather than trusted.
venv="$TRACKSEED_TOOLS/venv"
if [ "$("$venv/bin/python3" -m ziglang version 2>/dev/null || true)" != "$ZIG_VERSION" ]; then
  log "installing ziglang==$ZIG_VERSION into $venv"
  base_python="$(PATH="$CROSS_BASE_PATH" command -v python3)"
  rm -rf "$venv"
  "$base_python" -m venv "$venv"
  # -q: quiet; --disable-pip-version-check: no call home about pip's own version.
  "$venv/bin/python3" -m pip install -q --disable-pip-version-check "ziglang==$ZIG_VERSION"
fi

# 3. cargo-zigbuild $ZIGBUILD_VERSION into $TRACKSEED_TOOLS/bin.
#    --locked: the dependency versions its release was tested with; --root: our tool dir,
#    not ~/.cargo; --force: replace a different or broken copy found there.
if [ "$("$TRACKSEED_TOOLS/bin/cargo-zigbuild" --version 2>/dev/null || true)" != "cargo-zigbuild $ZIGBUILD_VERSION" ]; then
  log "installing cargo-zigbuild $ZIGBUILD_VERSION (takes 1-2 minutes once)"
  cargo install --locked --force --root "$TRACKSEED_TOOLS" cargo-zigbuild --version "$ZIGBUILD_VERSION"
fi

# 4. qemu-user-static: one emulator per target, all from the same Debian package.
missing=0
for t in "${CROSS_TARGETS[@]}"; do
  runner="$(cross_runner "$t")"
  command -v "${runner%% *}" >/dev/null 2>&1 || missing=1
done
if [ "$missing" = 1 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing qemu-user-static"
    apt-get update
    # noninteractive: no debconf prompt can block a CI run; -y: answer yes.
    DEBIAN_FRONTEND=noninteractive apt-get install -y qemu-user-static
  else
    log "qemu-user-static is missing; install it with:"
    echo "sudo apt-get install -y qemu-user-static" >&2
    exit 1
  fi
fi

ms=$(( ($(date +%s%N) - started) / 1000000 ))
log "ready in ${ms} ms (tools in $TRACKSEED_TOOLS)"
