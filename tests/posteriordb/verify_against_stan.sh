#!/bin/sh
# verify_against_stan.sh — driver for verify_against_stan.R: compiles the Stan models
# that are not cached yet in two parallel batches (about 40 s each), then compares
# every translation with Stan at 5 unconstrained points.
# usage: tests/posteriordb/verify_against_stan.sh [MODEL ...]
# environment: BAYESRUN, SHARED_DIR (see verify_against_stan.R)
# needs: Rscript with rstan and jsonlite (Debian: r-cran-rstan; and the BH symlink of
# ../shared/docs/anchors.md)
here=$(cd "$(dirname "$0")" && pwd)
if ! Rscript -e 'suppressPackageStartupMessages({library(rstan); library(jsonlite)})' >/dev/null 2>&1; then
  echo "verify_against_stan.sh: needs R with rstan and jsonlite" >&2
  exit 77
fi
if [ $# -gt 0 ]; then
  models="$*"
else
  models=$(cd "$here/stan" && ls *.stan | sed 's/\.stan$//')
fi
todo=
for m in $models; do
  [ -f "$here/.cache/$m.rds" ] && [ ! "$here/stan/$m.stan" -nt "$here/.cache/$m.rds" ] && continue
  todo="$todo $m"
done
if [ -n "$todo" ]; then
  set -- $todo
  a= b= i=0
  for m; do
    if [ $((i % 2)) -eq 0 ]; then a="$a $m"; else b="$b $m"; fi
    i=$((i + 1))
  done
  Rscript "$here/verify_against_stan.R" --compile-only $a &
  pa=$!
  [ -n "$b" ] && Rscript "$here/verify_against_stan.R" --compile-only $b
  wait $pa
fi
exec Rscript "$here/verify_against_stan.R" $models
