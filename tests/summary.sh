#!/usr/bin/env bash
# tests/summary.sh LOG...: adds up cargo's "test result:" lines in the logs and prints one closing
# line, "make test: N passed, N failed", so the whole run ends with its total.
set -euo pipefail
passed=0
failed=0
for log in "$@"; do
  test -f "$log" || { echo "summary: no log $log" >&2; exit 1; }
  while read -r p f; do
    passed=$((passed + p))
    failed=$((failed + f))
  done < <(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/p' "$log")
done
echo "make test: $passed passed, $failed failed"
test "$failed" -eq 0
