#!/bin/sh
# run.sh — the benchmark (`make bench`): bayesrun's compile time and gradient cost for every
# model in models/, and Stan's gradient cost for the anchor models, measured in the same
# run, with the ratios. Prints figures; exits non-zero only if something fails to run.
#
# usage: bench/run.sh [--sampling] [SECONDS]   (timing budget per figure, default 1;
#        --sampling: then run bench/sample_vs_stan.sh, sampling against Stan, ~10+ min)
# env:   BENCH_OUT (default bench/out) receives bayesrun.txt, stan.txt, combined.txt and
#        the cached Stan builds. NO_STAN=1 skips Stan.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sampling=no
if [ "${1:-}" = --sampling ]; then
  sampling=yes
  shift
fi
secs=${1:-${BENCH_SECONDS:-1}}
out=${BENCH_OUT:-bench/out}
mkdir -p "$out"

# Build if needed (make is a no-op when up to date).
make -j2 bayesrun bench/bench_compile >/dev/null || {
  echo "run.sh: build failed" >&2
  exit 1
}

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "== bayesrun $(./bayesrun --version 2>/dev/null | head -n 1), ${secs} s per figure"
echo
echo "== bayesrun: check_ms = process start to compiled model (median of 21 runs of"
echo "   'bayesrun check'), load_ms = in-process bayes_model_load, us_per_grad = one log"
echo "   density + gradient (Jacobian included)"
BAYESRUN=./bayesrun BENCH_SECONDS=$secs bench/bench_compile models/*.yaml | tee "$out/bayesrun.txt"
awk 'NR > 1 && $3 + 0 >= 20 { print "   note: " $1 " takes " $3 " ms to compile (target < 20 ms)" }' \
  "$out/bayesrun.txt"

echo
have_stan=no
if [ "${NO_STAN:-0}" != 1 ] && command -v Rscript >/dev/null 2>&1 &&
  Rscript -e 'suppressMessages(library(rstan)); library(jsonlite); library(yaml)' >/dev/null 2>&1; then
  have_stan=yes
fi
if [ $have_stan = no ]; then
  echo "== Stan: skipped (needs Rscript with rstan, jsonlite and yaml; see bench/README.md)"
  exit 0
fi

echo "== Stan (rstan $(Rscript -e 'cat(as.character(packageVersion("rstan")))' 2>/dev/null)):"
echo "   first run compiles 3 models twice (rstan and native driver), several minutes;"
echo "   later runs use the cache in $out"
BAYESRUN=./bayesrun BENCH_OUT=$out Rscript bench/anchor_stan.R "$secs" >"$out/stan.txt" 2>"$out/stan.err" || {
  echo "run.sh: bench/anchor_stan.R failed:" >&2
  cat "$out/stan.err" >&2
  exit 1
}
cat "$out/stan.txt"

echo
echo "== bayesrun vs Stan, us per log density + gradient (ratio = bayesrun / Stan; target <= 1.5)"
awk '
  FNR == NR { if (FNR > 1) br[$1] = $5; next }          # bayesrun.txt: model ... us_per_grad
  /^#/ || $1 == "model" { next }
  {
    b = br[$1]
    if (b == "") { printf "%-22s (no bayesrun figure)\n", $1; next }
    n++
    name[n] = $1; bus[n] = b; raw[n] = $3; cor[n] = $4; nat[n] = $6
  }
  END {
    printf "%-22s %10s %10s %10s %10s %9s %9s %9s  %s\n", "model", "bayesrun", "stan_nat",
           "stan_raw", "stan_cor", "r_native", "r_raw", "r_cor", "verdict"
    for (i = 1; i <= n; i++) {
      rn = (nat[i] + 0 > 0) ? bus[i] / nat[i] : -1
      rr = (raw[i] + 0 > 0) ? bus[i] / raw[i] : -1
      rc = (cor[i] + 0 > 0) ? bus[i] / cor[i] : -1
      v = (rn < 0) ? "no native figure" : (rn <= 1.5 ? "within 1.5x" : "SLOWER than 1.5x")
      printf "%-22s %10.3f %10.3f %10.3f %10.3f %9s %9s %9s  %s\n", name[i], bus[i], nat[i],
             raw[i], cor[i], fmt(rn), fmt(rr), fmt(rc), v
    }
  }
  function fmt(r) { return r < 0 ? "-" : sprintf("%.3f", r) }
' "$out/bayesrun.txt" "$out/stan.txt" | tee "$out/combined.txt"
echo "   stan_nat: stanc C++ in a C++ loop (same compiler flags as rstan); stan_raw: rstan"
echo "   grad_log_prob from R; stan_cor: stan_raw minus the same call on a 1-parameter model."
echo "   The verdict uses the native figure: it has no R call in it, like bayesrun's."

if [ $sampling = yes ]; then
  echo
  echo "== sampling against Stan (bench/sample_vs_stan.sh; also in bench/out/sampling.txt)"
  bench/sample_vs_stan.sh
fi
