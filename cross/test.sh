#!/usr/bin/env bash
# cross/test.sh TARGET: tests a router build under qemu-user (recipe: CROSS.md "Tests under qemu").
#   (a) the library's unit tests, cross-compiled for TARGET and run under qemu by cargo;
#   (b) the release binary from cross/build.sh, driven by the native end-to-end test
#       tests/smoke.rs through qemu (TRACKSEED_BIN + TRACKSEED_RUNNER, see tests/common): a
#       config file, announces over UDP and HTTP, /stats, a file published through a site
#       (hashed by this target's SHA-1 code, noticed by inotify), its .torrent fetched, a
#       handshake with the seeder, SIGHUP, SIGTERM.
# Both run even if the first fails, so one run tells everything; exit 0 only if both pass.
# Run cross/setup.sh once first.
set -euo pipefail
# shellcheck source=cross/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

if [ $# -ne 1 ]; then
  echo "usage: cross/test.sh TARGET   (one of: ${CROSS_TARGETS[*]})" >&2
  exit 2
fi
target="$1"
runner="$(cross_runner "$target")"
runner_var="$(cross_runner_var "$target")"
cd "$CROSS_ROOT"
started=$(date +%s)

# Wall-clock caps (seconds), so a hung emulator cannot eat the CI budget. Cold, each step takes
# 1.5-3 minutes on 2 cores; warm, the unit tests run 40-50 s under qemu (mips, mipsel, aarch64)
# to 80-100 s (armv7), the smoke test under a second.
UNIT_TIMEOUT="${CROSS_UNIT_TIMEOUT:-1200}"
SMOKE_TIMEOUT="${CROSS_SMOKE_TIMEOUT:-600}"

unit=0
echo "cross/test: (a) unit tests for $target under '$runner'"
unit_args=(
  test
  --target "$target"                # the router triple; cargo runs its binaries via the runner
  --target-dir "$CROSS_TARGET_DIR"  # beside build.sh's release build: same flags, shared cache
  -Z build-std                      # std from source for TARGET (unwinding, as tests need)
  --lib                             # the library's unit tests; integration tests need the
                                    # native host (they spawn the binary), see (b)
)
# `cargo +nightly zigbuild test` is refused, so the subcommand is called directly and the
# toolchain chosen with RUSTUP_TOOLCHAIN. The runner variable makes cargo start every test
# binary under qemu (no binfmt_misc here).
env RUSTUP_TOOLCHAIN=nightly \
  "$runner_var=$runner" \
  RUSTFLAGS="$(cross_rustflags "$target")" \
  timeout "$UNIT_TIMEOUT" cargo-zigbuild "${unit_args[@]}" || unit=$?

smoke=0
echo "cross/test: (b) release binary for $target, smoke test under '$runner'"
if "$CROSS_ROOT/cross/build.sh" "$target"; then
  # Native cargo test (host toolchain, target/), driving the cross binary through qemu.
  TRACKSEED_BIN="$(cross_bin "$target")" \
    TRACKSEED_RUNNER="$runner" \
    timeout "$SMOKE_TIMEOUT" cargo test --test smoke || smoke=$?
else
  smoke=$?
fi

# The closing line (`make cross-test` repeats each target's): both results and the wall time.
echo "cross/test: $target: unit tests $([ "$unit" = 0 ] && echo passed || echo "FAILED ($unit)"), smoke test $([ "$smoke" = 0 ] && echo passed || echo "FAILED ($smoke)") in $(( $(date +%s) - started ))s"
[ "$unit" = 0 ] && [ "$smoke" = 0 ]
