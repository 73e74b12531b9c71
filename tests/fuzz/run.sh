#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS]: builds every fuzz target (cargo-fuzz, nightly, AddressSanitizer)
# and runs each for SECONDS (default 10). A crash fails the run and leaves its input under
# tests/fuzz/artifacts/. cargo-fuzz is installed once under $TRACKSEED_TOOLS, beside the cross
# tools (cross/setup.sh provides the nightly toolchain).
set -euo pipefail
secs="${1:-10}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="${TRACKSEED_TOOLS:-$HOME/.cache/trackseed-cross}"
export PATH="$tools/bin:$PATH"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz into $tools"
  cargo install --locked --root "$tools" cargo-fuzz --version 0.13.2
fi
cd "$here"
targets=$(cargo +nightly fuzz list --fuzz-dir .)
cargo +nightly fuzz build --fuzz-dir .
for t in $targets; do
  echo "fuzz: $t for ${secs}s"
  # -max_total_time bounds the run; -rss_limit_mb keeps a leak from eating the machine.
  log="$here/target/$t.log"
  mkdir -p "$here/target"
  status=0
  cargo +nightly fuzz run --fuzz-dir . "$t" -- -max_total_time="$secs" -rss_limit_mb=2048 \
    >"$log" 2>&1 || status=$?
  grep -E '^(Done|SUMMARY)|ERROR|panicked' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz: $t failed (exit $status); the input is under tests/fuzz/artifacts/$t/" >&2
    exit 1
  fi
done
