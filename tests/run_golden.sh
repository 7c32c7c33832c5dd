#!/bin/sh
# run_golden.sh — golden tests for diagnostics: each tests/golden/NAME.yaml is run through
# bayesrun (subcommand and flags from NAME.args, default `check`; --data NAME.data.json
# when that file exists) and its stderr plus exit code must equal NAME.expected exactly.
# A death by signal is always a failure. UPDATE_GOLDEN=1 rewrites the .expected files
# (for maintainers, after reading every changed message; never used by make check).
# VALGRIND="valgrind --error-exitcode=99 --leak-check=full -q" runs every case under it:
# any report then shows up as a difference.

: "${top_srcdir:=.}"
: "${BAYESRUN:=./bayesrun}"
cd "$top_srcdir" || exit 99
case $BAYESRUN in
/*) ;;
*) BAYESRUN=$(pwd)/$BAYESRUN ;;
esac
if [ ! -x "$BAYESRUN" ]; then
  echo "run_golden.sh: $BAYESRUN is not an executable" >&2
  exit 99
fi

# a hang is a failure too (where coreutils' timeout exists): 124 is its exit code
limit=
if command -v timeout >/dev/null 2>&1; then
  limit="timeout ${GOLDEN_TIMEOUT:-300}"
fi

tmp=${TMPDIR:-/tmp}/bayesrun_golden.$$
mkdir -p "$tmp" || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

pass=0
fail=0
# a case is NAME.yaml, or NAME.args alone for command lines without a model file
cases=$(for f in tests/golden/*.yaml tests/golden/*.args; do
  [ -f "$f" ] || continue
  f=${f#tests/golden/}
  echo "${f%.*}"
done | sort -u)
for name in $cases; do
  base=tests/golden/$name
  model=$base.yaml
  expected=$base.expected
  args=check
  [ -f "$base.args" ] && args=$(cat "$base.args")
  set -- $args
  if [ "$#" -gt 0 ]; then
    cmd=$1
    shift
  else
    cmd=
  fi
  # the model path follows the subcommand; "none" gives the whole command line
  # literally, and a first argument starting with '-' means no subcommand (a fit)
  case $cmd in
  none) ;;
  -*) set -- "$model" "$cmd" "$@" ;;
  *) set -- "$cmd" "$model" "$@" ;;
  esac
  if [ -f "$base.data.json" ]; then
    set -- "$@" --data "$base.data.json"
  fi
  $limit ${VALGRIND:-} "$BAYESRUN" "$@" >"$tmp/stdout" 2>"$tmp/stderr" </dev/null
  rc=$?
  echo "exit: $rc" >>"$tmp/stderr"
  if [ -n "$limit" ] && [ "$rc" -eq 124 ]; then
    echo "FAIL: $name (did not finish within ${GOLDEN_TIMEOUT:-300} s)"
    fail=$((fail + 1))
    continue
  fi
  if [ "$rc" -ge 128 ]; then
    echo "FAIL: $name (killed by signal $((rc - 128)): bayesrun crashed)"
    fail=$((fail + 1))
    continue
  fi
  if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
    cp "$tmp/stderr" "$expected"
    echo "UPDATED: $name"
    pass=$((pass + 1))
    continue
  fi
  if [ ! -f "$expected" ]; then
    echo "FAIL: $name (no $expected; run with UPDATE_GOLDEN=1 and read the result)"
    cat "$tmp/stderr"
    fail=$((fail + 1))
    continue
  fi
  if diff -u "$expected" "$tmp/stderr" >"$tmp/diff"; then
    echo "PASS: $name"
    pass=$((pass + 1))
  else
    echo "FAIL: $name"
    cat "$tmp/diff"
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
rm -rf "$tmp"
trap - EXIT INT TERM
[ "$fail" -eq 0 ] || exit 1
exit 0
