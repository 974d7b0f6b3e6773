#!/usr/bin/env bash
# Runs the built test bundle (make test, make test-unit) with its output kept in .build/test.log,
# and when it fails says where: CI shows only the tail of a long log, and a crash's tail is
# registers and loaded images. Printed last: the crash's reason and crashing thread, the tests
# that started and never finished, and the failures.
# Usage: Tests/run-tests.sh [swift test options...]
set -uo pipefail
cd "$(dirname "$0")/.."
SWIFT="${SWIFT:-swift}"
log=.build/test.log
mkdir -p .build
"$SWIFT" test --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
[ "$status" = 0 ] && exit 0
{
  echo
  echo "==== make test failed (exit $status); from $log ===="
  # A crash: the backtracer's headline and the crashing thread's first frames.
  grep -m1 -E '^\*\*\* (Program crashed|Signal)' "$log"
  awk '/^Thread [0-9]+.* crashed:/ { on = 1; n = 0 } on { print; if (++n >= 25) on = 0 }' "$log" | head -30
  # Tests that started and did not finish (the one running when the process died).
  awk '/^Test Case .* started/ { s = $0; sub(/^Test Case /, "", s); sub(/ started.*/, "", s); open[s] = 1 }
       /^Test Case .* (passed|failed|skipped)/ { s = $0; sub(/^Test Case /, "", s); sub(/ (passed|failed|skipped).*/, "", s); delete open[s] }
       END { for (s in open) print "unfinished: " s }' "$log"
  grep -E ': error: |^Test Case .* failed' "$log" | head -40
} >&2
exit "$status"
