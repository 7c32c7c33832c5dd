#!/bin/bash
# sample_vs_stan.sh — sampling against Stan: bayesrun and rstan fit the same models on the
# same data (eight schools, the 1000 x 10 logistic regression, the posteriordb open set)
# with the same settings (4 chains, 1000 warmup + 1000 draws, 2 cores), in one run; prints
# one table of ratios bayesrun / Stan and writes it to bench/out/sampling.txt.
# Definitions: see the head of bench/sample_vs_stan.R and bench/README.md.
#
# usage: bench/sample_vs_stan.sh [MODEL ...]          (default: every model)
# env:   SEEDS (default "1 2"), BAYESRUN (default ./bayesrun; built if absent),
#        SAMPLING_OUT (default bench/out/sampling: bayesrun's runs, Stan's compiled models,
#        runs.csv, per_parameter.csv, table.csv), SHARED_DIR (default ../shared).
# Needs Rscript with rstan, posterior, jsonlite and yaml. The first run compiles 15 Stan
# models (about 40 s each); afterwards about 10 minutes on 2 cores with 2 seeds.
set -eu
export LC_NUMERIC=C   # a decimal point in $EPOCHREALTIME and awk

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export SEEDS=${SEEDS:-1 2}
export SAMPLING_OUT=${SAMPLING_OUT:-bench/out/sampling}
export SHARED_DIR=${SHARED_DIR:-../shared}
bayesrun=${BAYESRUN:-./bayesrun}
mkdir -p "$SAMPLING_OUT/br"

if ! Rscript -e 'suppressMessages({library(rstan); library(posterior); library(jsonlite); library(yaml)})' \
  >/dev/null 2>&1; then
  echo "sample_vs_stan.sh: needs Rscript with rstan, posterior, jsonlite and yaml (see bench/README.md)" >&2
  exit 77
fi
if [ ! -x "$bayesrun" ]; then
  make -j2 bayesrun >/dev/null || { echo "sample_vs_stan.sh: build failed" >&2; exit 1; }
fi
# Run a private copy: a rebuild in the working tree must not swap the binary mid-run.
cp "$bayesrun" "$SAMPLING_OUT/bayesrun"
bayesrun=$SAMPLING_OUT/bayesrun

now() { echo "$EPOCHREALTIME"; }   # bash >= 5: no fork, microseconds
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f\n", b - a }'; }

# Compile (or load from the cache) every Stan model first, so nothing compiles while the
# other tool is being timed.
Rscript bench/sample_vs_stan.R --compile "$@" >&2

# Per model: bayesrun (every seed; wall time of the whole command from this shell), then
# Stan on the same model, so that both tools see the same machine load.
Rscript bench/sample_vs_stan.R --list "$@" | while read -r name yaml data; do
  dataarg=()
  [ "$data" != - ] && dataarg=(--data "$data")
  dir=$SAMPLING_OUT/br/$name
  mkdir -p "$dir"
  # time to first draw: 1 chain, no warmup, 1 draw; median of 5 runs
  ts=()
  for i in 1 2 3 4 5; do
    rm -rf "$dir/ttfd_run"
    t0=$(now)
    "$bayesrun" "$yaml" "${dataarg[@]}" -o "$dir/ttfd_run" --chains 1 --warmup 0 --draws 1 \
      --seed "$i" --quiet </dev/null >/dev/null 2>&1 || echo "  $name: first-draw run failed" >&2
    t1=$(now)
    ts+=("$(elapsed "$t0" "$t1")")
  done
  printf '%s\n' "${ts[@]}" | sort -g | sed -n 3p >"$dir/ttfd"
  for s in $SEEDS; do
    out=$dir/seed$s
    rm -rf "$out"
    t0=$(now)
    if "$bayesrun" "$yaml" "${dataarg[@]}" -o "$out" --seed "$s" --quiet </dev/null >"$dir/seed$s.log" 2>&1; then
      t1=$(now)
      elapsed "$t0" "$t1" >"$out/wall"
      echo "  bayesrun $name seed $s: $(cat "$out/wall") s" >&2
    else
      echo "  bayesrun $name seed $s FAILED (status $?): see $dir/seed$s.log" >&2
    fi
  done
  rm -f "$SAMPLING_OUT/stan/$name.runs.rds"
  Rscript bench/sample_vs_stan.R --stan "$name" </dev/null >&2 || echo "  Stan $name FAILED" >&2
done

# The table
{
  echo "# sampling against Stan, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# bayesrun $("$bayesrun" --version 2>/dev/null | head -n 1) (commit $(git rev-parse --short HEAD 2>/dev/null || echo ?)), rstan $(Rscript -e 'cat(as.character(packageVersion("rstan")))' 2>/dev/null), seeds $SEEDS"
  Rscript bench/sample_vs_stan.R --run "$@"
} 2>"$SAMPLING_OUT/stan.err" | tee bench/out/sampling.txt
