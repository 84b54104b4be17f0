#!/bin/sh
# Runs the test suite under Debian's faketime (apt-get install faketime) on the days date code
# gets wrong: the 1st and 2nd of a month, the 31st, and 29 February. Tests that depend on the calendar use SBQ_NOW;
# these runs catch one that does not. V2Ray (Go) ignores libfaketime and keeps the real clock.
# Usage, after npm run build: sh scripts/test-dates.sh [dist/test/... files]
set -u
cd "$(dirname "$0")/.." || exit 2
if ! command -v faketime >/dev/null 2>&1; then
  echo "test-dates: faketime is not installed (apt-get install faketime)" >&2
  exit 2
fi
if [ ! -d dist/test ]; then
  echo "test-dates: no dist/test; run npm run build first" >&2
  exit 2
fi
if [ "$#" -gt 0 ]; then
  files="$*"
else
  # The whole suite, not a list of the files thought to read the clock: a list goes stale as tests are added.
  files="$(find dist/test -name '*.test.js' | sort)"
fi
failed=''
for when in '2027-03-01 00:30:00' '2027-03-02 12:00:00' '2027-01-31 12:00:00' '2028-02-29 12:00:00'; do
  echo "== faketime '$when'"
  # shellcheck disable=SC2086 # the file list is split on purpose
  if ! SBQ_TEST_DATES=1 TZ=UTC faketime "$when" node --test --test-concurrency=2 $files; then failed="$failed '$when'"; fi
done
if [ -n "$failed" ]; then
  echo "test-dates: failed on$failed" >&2
  exit 1
fi
echo "test-dates: passed on every date"
