#!/bin/sh
# check.sh — acceptance test of bayesrun's sampler against posteriordb's reference
# posteriors (the open validation set).
#
# For every tests/posteriordb/MODEL.yaml without a MODEL.SKIP this runs
#   $BAYESRUN MODEL.yaml --data $SHARED_DIR/posteriordb/data/NAME.json -o OUTDIR/MODEL --quiet
# (the model's default settings: 4 chains x 1000 warmup x 1000 draws) and compares
# OUTDIR/MODEL/summary.json with $SHARED_DIR/posteriordb/reference-open.json by
# compare.py (|z| < 4 on the mean, the sd within max(5%, 3 sqrt(1/(2 ESS))), R-hat < 1.01).
# NAME is the reference posterior whose name ends in "-MODEL".
#
# usage: tests/posteriordb/check.sh [MODEL ...]      (default: every model)
# environment:
#   BAYESRUN    the bayesrun binary (default: ./bayesrun at the repository root)
#   SHARED_DIR  the shared folder (default: ../shared next to the repository)
#   OUTDIR      where the runs go (default: a temporary folder, removed afterwards)
#   VERBOSE=1   print every compared quantity, not only the failing ones
#   SEED        passed on as --seed SEED (default 20261125, so that `make check` is
#               reproducible: the same seed gives the same draws on every machine; set
#               SEED= (empty) to let bayesrun choose one)
# exit status: 0 all passed; 1 a model failed; 77 (automake's SKIP) no model could be
# sampled because bayesrun cannot sample yet (it exited with 69, or with 64 refusing
# the fit option -o as bayesrun 0.1.0 does), or the shared
# reference data are absent; 99 (automake's hard error) no executable $BAYESRUN.
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
BAYESRUN=${BAYESRUN:-$repo/bayesrun}
SHARED_DIR=${SHARED_DIR:-$repo/../shared}
PY=/usr/bin/python3
REF=$SHARED_DIR/posteriordb/reference-open.json
verbose=
[ "${VERBOSE:-0}" = 1 ] && verbose=--verbose
SEED=${SEED-20261125}

if [ ! -f "$REF" ]; then
  echo "check.sh: no reference file $REF (set SHARED_DIR)" >&2
  exit 77
fi
if [ ! -x "$BAYESRUN" ]; then
  echo "check.sh: $BAYESRUN is not an executable (set BAYESRUN)" >&2
  exit 99
fi
if [ -n "$OUTDIR" ]; then
  out=$OUTDIR
  mkdir -p "$out" || exit 1
else
  out=$(mktemp -d "${TMPDIR:-/tmp}/posteriordb.XXXXXX") || exit 1
  trap 'rm -rf "$out"' EXIT
fi

if [ $# -gt 0 ]; then
  models="$*"
else
  models=$(cd "$here" && ls *.yaml *.SKIP 2>/dev/null | sed 's/\.[A-Za-z]*$//' | sort -u)
fi

passed=0 failed=0 skipped=0 unavailable=0
for m in $models; do
  if [ -f "$here/$m.SKIP" ]; then
    echo "SKIP $m: $(head -n 1 "$here/$m.SKIP")"
    skipped=$((skipped + 1))
    continue
  fi
  if [ ! -f "$here/$m.yaml" ]; then
    echo "FAIL $m: no $m.yaml"
    failed=$((failed + 1))
    continue
  fi
  name=$("$PY" -c 'import json, sys
names = [k for k in json.load(open(sys.argv[1])) if k.split("-", 1)[-1] == sys.argv[2]]
print(names[0] if len(names) == 1 else "")' "$REF" "$m")
  if [ -z "$name" ]; then
    echo "FAIL $m: no single reference posterior named *-$m in $REF"
    failed=$((failed + 1))
    continue
  fi
  data=$SHARED_DIR/posteriordb/data/$name.json
  rm -rf "$out/$m"
  start=$(date +%s)
  "$BAYESRUN" "$here/$m.yaml" --data "$data" -o "$out/$m" --quiet ${SEED:+--seed "$SEED"} \
    >"$out/$m.log" 2>&1
  rc=$?
  secs=$(($(date +%s) - start))
  if [ $rc -eq 69 ]; then
    echo "SKIP $m: bayesrun cannot sample yet (exit 69)"
    unavailable=$((unavailable + 1))
    continue
  fi
  # bayesrun 0.1.0 (before the fit command) refuses the fit options with a usage
  # error instead of reaching the "not available" exit 69: that is "cannot sample" too
  if [ $rc -eq 64 ] && grep -q "option '-o' is not known" "$out/$m.log"; then
    echo "SKIP $m: bayesrun cannot sample yet (it does not know the fit option -o: exit 64)"
    unavailable=$((unavailable + 1))
    continue
  fi
  if [ $rc -ne 0 ] && [ ! -f "$out/$m/summary.json" ]; then
    echo "FAIL $m: bayesrun exited with status $rc (${secs} s)"
    sed 's/^/    /' "$out/$m.log" | tail -n 20
    failed=$((failed + 1))
    continue
  fi
  # exit status 1 with a summary: the run finished with warnings; compare anyway
  if "$PY" "$here/compare.py" "$out/$m/summary.json" "$REF" "$name" $verbose >"$out/$m.cmp" 2>&1; then
    echo "PASS $m ($name, ${secs} s): $(tail -n 1 "$out/$m.cmp")"
    [ -n "$verbose" ] && sed '$d' "$out/$m.cmp"
    passed=$((passed + 1))
  else
    echo "FAIL $m ($name, ${secs} s): $(tail -n 1 "$out/$m.cmp")"
    sed '$d' "$out/$m.cmp"
    [ $rc -ne 0 ] && echo "    (bayesrun exited with status $rc)"
    failed=$((failed + 1))
  fi
done

echo "$passed passed, $failed failed ($((skipped + unavailable)) skipped)"
[ $failed -gt 0 ] && exit 1
[ $unavailable -gt 0 ] && [ $passed -eq 0 ] && exit 77
exit 0
