# TAP for the test scripts (sourced: tests/install/check_install.sh, runner_fakes/check_counts.sh),
# so meson counts each of their checks as a case (`protocol: 'tap'`). Needs $work, a scratch
# directory. check NAME COMMAND...: one check, its output shown (as `#` lines) only when it
# fails; skip NAME WHY; finish: the plan line, and the exit status (1 when a check failed).
number=0 failed=0
echo "TAP version 13"

check() {
  local name=$1; shift
  number=$((number + 1))
  if "$@" >"$work/log" 2>&1; then
    echo "ok $number - $name"
  else
    echo "not ok $number - $name"
    tail -n 40 "$work/log" | sed 's/^/# /'
    failed=$((failed + 1))
  fi
}
skip() { number=$((number + 1)); echo "ok $number - $1 # SKIP $2"; }
finish() { echo "1..$number"; exit $((failed > 0)); }
