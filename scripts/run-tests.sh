#!/usr/bin/env bash
# Runs the whole test suite through scripts/cargo.sh and ends with one line that sums up every
# test binary's result ("tests: N passed, N failed, N skipped"), so a reader of the log does
# not have to add up cargo's per-binary lines (the last of which is often an empty doc-test
# run). The exit status is cargo's.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$here/cargo.sh" test --release --locked --workspace "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
awk '/^test result:/ {
       for (i = 1; i <= NF; i++) {
         if ($(i+1) ~ /^passed/) p += $i
         if ($(i+1) ~ /^failed/) f += $i
         if ($(i+1) ~ /^ignored/) s += $i
       }
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
