# shellcheck shell=bash disable=SC2034  # (variables here are used by the scripts that source it)
# Sourced by the other cross/ scripts: where the cross tools live, the flags every cross build
# uses, and how to run a binary of each target under qemu-user. See CROSS.md for why.

# Tools installed by cross/setup.sh. Outside the repository (and outside target/) so that
# `cargo clean`, a fresh clone or a CI run on the same machine reuses them.
TRACKSEED_TOOLS="${TRACKSEED_TOOLS:-$HOME/.cache/trackseed-cross}"
export TRACKSEED_TOOLS

# Pinned tool versions (setup.sh installs exactly these).
ZIG_VERSION=0.17.0
ZIGBUILD_VERSION=0.24.1

# The repository root, whatever directory the caller ran the script from.
CROSS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Cross artefacts go to their own target dir: RUSTFLAGS differ from the native build's, and
# sharing target/ would make each build invalidate the other's fingerprints.
CROSS_TARGET_DIR="$CROSS_ROOT/target/cross"

# PATH as the caller had it (setup.sh looks up the system python3 there, not the venv's).
CROSS_BASE_PATH="${CROSS_BASE_PATH:-$PATH}"
export CROSS_BASE_PATH

# cargo-zigbuild first; then the venv, whose python3 has the `ziglang` package: cargo-zigbuild
# runs `python3 -m ziglang` when no `zig` is on PATH.
export PATH="$TRACKSEED_TOOLS/bin:$TRACKSEED_TOOLS/venv/bin:$CROSS_BASE_PATH"

# Flags for every cross build; build.sh and test.sh pass them only to cross cargo commands
# (with --target, cargo keeps RUSTFLAGS away from build scripts; the native build never sees them).
cross_flags=(
  # std is built from source (-Z build-std), so rustc has no crt objects of its own for
  # these targets: it must not look for them; zig supplies crt1.o, libc and libunwind.
  -C link-self-contained=no
  # Link statically: the MIPS musl targets default to dynamic linking (which then fails to
  # link), and a router binary must not depend on the device's libc anyway.
  -C target-feature=+crt-static
)
CROSS_RUSTFLAGS="${cross_flags[*]}"
unset cross_flags

# RUSTFLAGS for one target: the common flags, plus, on MIPS, a non-PIC static executable (no
# GOT indirection, no dynamic relocations). Measured (stripped bytes, with / without):
# mips 258,064 / 274,056, mipsel 259,312 / 275,112; armv7 225,636 / 163,332 and aarch64
# 161,240 / 160,408 grow, so ARM keeps the default.
cross_rustflags() {
  case "$1" in
    mips*) echo "$CROSS_RUSTFLAGS -C relocation-model=static" ;;
    *) echo "$CROSS_RUSTFLAGS" ;;
  esac
}

# The four router targets, in the order `make cross` builds them.
CROSS_TARGETS=(
  mips-unknown-linux-musl          # big-endian MIPS32r2 (e.g. ath79)
  mipsel-unknown-linux-musl        # little-endian MIPS32r2 (e.g. ramips MT7621)
  armv7-unknown-linux-musleabihf   # ARMv7 hard-float (e.g. ipq40xx)
  aarch64-unknown-linux-musl       # ARMv8 (e.g. MediaTek Filogic)
)

# cross_runner TARGET: prints the qemu-user command that runs a TARGET binary. This machine
# has no binfmt_misc, so a foreign binary must always be started through qemu explicitly.
# The -cpu models are the oldest cores of the SoC families we target, so an instruction that
# a real router lacks fails here too: 24Kc is a plain MIPS32r2 core (ath79 and ramips SoCs
# are 24K/74K/1004K, all MIPS32r2); Cortex-A7 is the common ARMv7 router core (ipq40xx);
# Cortex-A53 the common ARMv8 one (MediaTek Filogic, ipq807x).
cross_runner() {
  case "$1" in
    mips-unknown-linux-musl) echo "qemu-mips-static -cpu 24Kc" ;;
    mipsel-unknown-linux-musl) echo "qemu-mipsel-static -cpu 24Kc" ;;
    armv7-unknown-linux-musleabihf) echo "qemu-arm-static -cpu cortex-a7" ;;
    aarch64-unknown-linux-musl) echo "qemu-aarch64-static -cpu cortex-a53" ;;
    # The build machine's own kind, static: what `make bench` measures for idle memory.
    x86_64-unknown-linux-musl) echo "" ;;
    *)
      echo "cross: unknown target '$1' (known: ${CROSS_TARGETS[*]})" >&2
      return 1
      ;;
  esac
}

# cross_runner_var TARGET: the name of cargo's runner variable for TARGET,
# e.g. CARGO_TARGET_MIPS_UNKNOWN_LINUX_MUSL_RUNNER.
cross_runner_var() {
  local t="${1^^}"
  echo "CARGO_TARGET_${t//-/_}_RUNNER"
}

# cross_bin TARGET: where build.sh leaves the release binary for TARGET.
cross_bin() {
  echo "$CROSS_TARGET_DIR/$1/release/trackseed"
}

# cross_objcopy: nightly's llvm-objcopy (rustup component llvm-tools; cross/setup.sh adds it).
# It handles every target's ELF, big-endian MIPS included, unlike zig's objcopy or Debian's
# binutils.
cross_objcopy() {
  local sysroot host
  sysroot="$(rustc +nightly --print sysroot)"
  host="$(rustc +nightly -vV | sed -n 's/^host: //p')"
  echo "$sysroot/lib/rustlib/$host/bin/llvm-objcopy"
}

# cross_check_target TARGET: fails with the list of known targets for anything else.
cross_check_target() {
  cross_runner "$1" >/dev/null
}

# cross_stripped_size BINARY: size in bytes of BINARY, which must be stripped (no symbol table,
# no debug sections). Cargo.toml's release profile strips; nothing here can strip every target
# (zig objcopy rejects big-endian ELF, Debian's binutils knows no MIPS), so an unstripped binary
# is an error rather than a misleading number.
cross_stripped_size() {
  local bin="$1"
  [ -f "$bin" ] || { echo "cross: no binary at $bin (run cross/build.sh first)" >&2; return 1; }
  if ! python3 - "$bin" <<'PY'
import struct, sys
# Reads the ELF section headers (32/64-bit, either endianness) and fails if any is a symbol
# table (SHT_SYMTAB = 2) or debug info.
f = open(sys.argv[1], "rb").read()
if f[:4] != b"\x7fELF":
    sys.exit("not an ELF file")
e = "<" if f[5] == 1 else ">"
if f[4] == 1:
    (shoff,) = struct.unpack_from(e + "I", f, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", f, 0x2E)
    off_at, off_fmt = 0x10, "I"
else:
    (shoff,) = struct.unpack_from(e + "Q", f, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", f, 0x3A)
    off_at, off_fmt = 0x18, "Q"
def header(i):
    base = shoff + i * shentsize
    name, kind = struct.unpack_from(e + "II", f, base)
    (offset,) = struct.unpack_from(e + off_fmt, f, base + off_at)
    return name, kind, offset
strtab = header(shstrndx)[2] if shnum else 0
for i in range(shnum):
    name, kind, _ = header(i)
    label = f[strtab + name : f.index(b"\0", strtab + name)].decode()
    if kind == 2 or label.startswith(".debug"):
        sys.exit(f"not stripped: has section {label}")
PY
  then
    echo "cross: $bin is not stripped (keep strip = true in [profile.release])" >&2
    return 1
  fi
  stat -c %s "$bin"
}
