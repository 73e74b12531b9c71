#!/usr/bin/env bash
# cross/build.sh TARGET: a static, size-optimised release build of trackseed for one router
# target (recipe: CROSS.md). Prints the binary's path and its stripped size in bytes.
# Run cross/setup.sh once first.
set -euo pipefail
# shellcheck source=cross/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

if [ $# -ne 1 ]; then
  echo "usage: cross/build.sh TARGET   (one of: ${CROSS_TARGETS[*]})" >&2
  exit 2
fi
target="$1"
cross_check_target "$target"
cd "$CROSS_ROOT"

# shellcheck disable=SC2054  # the comma in build-std=std,panic_abort is cargo's list syntax
args=(
  +nightly                      # -Z flags below are nightly-only
  zigbuild                      # cargo-zigbuild: cargo with zig cc as the linker
  --release                     # Cargo.toml [profile.release]: opt-level s, lto, panic=abort, strip
  --target "$target"            # the router triple; only its artefacts get RUSTFLAGS
  --target-dir "$CROSS_TARGET_DIR"  # separate from target/: other RUSTFLAGS, other fingerprints
  -Z build-std=std,panic_abort  # build std from rust-src (no prebuilt std for MIPS); panic_abort
                                # because the profile aborts on panic
  -Z build-std-features=optimize_for_size  # std's smaller code paths over faster ones
)
started=$(date +%s)
RUSTFLAGS="$(cross_rustflags "$target")" cargo "${args[@]}"
elapsed=$(( $(date +%s) - started ))

bin="$(cross_bin "$target")"
# Sections the linker keeps but nothing reads at run time: `.pdr` (MIPS procedure descriptors,
# 80 KB on mips/mipsel, for debuggers of the 1990s) and `.comment` (compiler versions).
"$(cross_objcopy)" --remove-section=.pdr --remove-section=.comment "$bin"
# The release profile strips; cross_stripped_size fails if the binary still has symbols.
size="$(cross_stripped_size "$bin")"
echo "cross/build: $target built in ${elapsed}s"
echo "$bin"
echo "$target stripped size: $size bytes"
