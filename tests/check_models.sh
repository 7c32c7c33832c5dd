#!/bin/sh
# check_models.sh — every shipped model (models/*.yaml, the test models in tests/data and the examples) must pass `bayesrun check` and
# give a non-empty Graphviz graph from `bayesrun graph`. Run by `make check` with
# top_srcdir and BAYESRUN set; prints PASS/FAIL per model and exits 1 on any failure.
# It must not depend on anything but the CLI and the model files.

top_srcdir=${top_srcdir:-.}
BAYESRUN=${BAYESRUN:-./bayesrun}
tmp=${TMPDIR:-/tmp}/check_models.$$
mkdir -p "$tmp" || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ ! -x "$BAYESRUN" ]; then
  echo "check_models.sh: BAYESRUN='$BAYESRUN' is not an executable" >&2
  exit 99
fi

pass=0
fail=0
found=0
for model in "$top_srcdir"/models/*.yaml "$top_srcdir"/tests/data/*.yaml "$top_srcdir"/examples/*/*.yaml; do
  [ -f "$model" ] || continue
  found=$((found + 1))
  name=$(basename "$model" .yaml)
  why=
  "$BAYESRUN" check "$model" >"$tmp/check.out" 2>"$tmp/check.err"
  rc=$?
  if [ "$rc" -ne 0 ]; then
    why="bayesrun check exited $rc"
  elif [ ! -s "$tmp/check.out" ]; then
    why="bayesrun check printed nothing"
  elif ! "$BAYESRUN" graph "$model" >"$tmp/graph.out" 2>"$tmp/graph.err"; then
    why="bayesrun graph exited non-zero"
  elif [ ! -s "$tmp/graph.out" ]; then
    why="bayesrun graph printed nothing"
  elif ! head -n 1 "$tmp/graph.out" | grep -q '^digraph'; then
    why="bayesrun graph output does not start with 'digraph'"
  elif ! tail -n 1 "$tmp/graph.out" | grep -q '}'; then
    why="bayesrun graph output does not end with '}'"
  fi
  if [ -z "$why" ]; then
    echo "PASS: $name"
    pass=$((pass + 1))
  else
    echo "FAIL: $name ($why)"
    for f in "$tmp/check.err" "$tmp/graph.err"; do
      [ -s "$f" ] && sed 's/^/    /' "$f"
    done
    rm -f "$tmp"/*.err
    fail=$((fail + 1))
  fi
done
if [ "$found" -eq 0 ]; then
  echo "FAIL: no models found in $top_srcdir/models"
  fail=1
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || exit 1
exit 0
