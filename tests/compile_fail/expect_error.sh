#!/bin/sh
# expect_error.sh MESSAGE MAX_LINES COMPILER [ARGS...] SOURCE: compiles SOURCE and succeeds only
# when the compilation fails with MESSAGE in at most MAX_LINES lines of diagnostics, i.e. a short
# error rather than pages from inside the library's templates.
message=$1 max_lines=$2
shift 2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if "$@" >"$log" 2>&1; then
  echo "expected a compile error ('$message'), but it compiled: $*" >&2
  exit 1
fi
if ! grep -qF -- "$message" "$log"; then
  cat "$log" >&2
  echo "the compile error does not say '$message'" >&2
  exit 1
fi
lines=$(wc -l <"$log")
if [ "$lines" -gt "$max_lines" ]; then
  cat "$log" >&2
  echo "the compile error takes $lines lines, more than $max_lines" >&2
  exit 1
fi
