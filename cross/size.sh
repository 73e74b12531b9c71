#!/usr/bin/env bash
# cross/size.sh [TARGET...]: prints the stripped size of each target's release binary (built by
# cross/build.sh; all four targets when none is named) and fails if any is over budget.
set -euo pipefail
# shellcheck source=cross/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

# Size budget for one router binary, stripped, in bytes (600 KiB): flash on small routers is
# 8-16 MB in all. `make size` checks mipsel, the usual worst case with mips.
BUDGET=614400

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${CROSS_TARGETS[@]}")
status=0
for t in "${targets[@]}"; do
  cross_check_target "$t"
  bin="$(cross_bin "$t")"
  if ! size="$(cross_stripped_size "$bin")"; then
    status=1
    continue
  fi
  verdict=ok
  if [ "$size" -gt "$BUDGET" ]; then
    verdict="OVER BUDGET by $((size - BUDGET)) bytes"
    status=1
  fi
  printf '%-32s %8d bytes (%4d KiB)  budget %d: %s\n' "$t" "$size" $(( (size + 1023) / 1024 )) "$BUDGET" "$verdict"
done
exit "$status"
