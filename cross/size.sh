#!/usr/bin/env bash
# cross/size.sh [TARGET...]: prints the stripped size of each target's release binary (built by
# cross/build.sh; all four targets when none is named) and fails if any is over budget.
set -euo pipefail
# shellcheck source=cross/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

# Size budgets per target, stripped, in bytes. The product's budget is mipsel's: 600 KiB with
# every feature in (flash on the small MIPS routers is 8-16 MB in all, shared with the OS).
# Every target is checked (`make size`, and so `make test`, builds all four), each against a
# budget derived from mipsel's:
# - mips: the same 600 KiB, no margin. Same ISA and code as mipsel, and always 0.2-0.5%
#   smaller (258,064 / 259,312 bytes at the tracker core, 637,200 / 639,312 with the seeder);
#   its routers (ath79) are the ones with the least flash.
# - armv7, aarch64: 480 KiB, 80% of mipsel's. The ARM builds have been 62-71% of mipsel's size,
#   the ratio rising as code is added (code added since the tracker core came in at 76-77% of
#   its mipsel size). Growth that keeps mipsel within 600 KiB thus leaves ARM at ~71% of it
#   (436 KB), 77% (472 KB) at most, so 480 KiB trips only on ARM-specific growth of 4-13% or
#   more, such as -C relocation-model=static (armv7 +38%, see cross/env.sh).
MIPS_BUDGET=614400
ARM_BUDGET=491520

# budget TARGET: the budget for TARGET in bytes (x86_64, bench's comparison build: mipsel's).
budget() {
  case "$1" in
    armv7-* | aarch64-*) echo "$ARM_BUDGET" ;;
    *) echo "$MIPS_BUDGET" ;;
  esac
}

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
  limit="$(budget "$t")"
  verdict="ok, $((limit - size)) bytes left"
  if [ "$size" -gt "$limit" ]; then
    verdict="OVER BUDGET by $((size - limit)) bytes"
    status=1
  fi
  printf '%-32s %8d bytes (%4d KiB)  budget %d: %s\n' "$t" "$size" $(( (size + 1023) / 1024 )) "$limit" "$verdict"
done
exit "$status"
