#!/bin/sh
# fit_cli.sh — end-to-end tests of `bayesrun MODEL.yaml` (NUTS) and `bayesrun summary`:
# reproducibility whatever the thread count, the output folder (complete CSVs and
# summary.json, nothing half-written), --prior, summary of saved draws, exit codes.
# Statistical checks state their false-failure rate in a comment.
top_srcdir=${top_srcdir:-.}
cd "$top_srcdir" || exit 99
. tests/cli_lib.sh

# 1. same seed, different thread counts: identical draws
"$BAYESRUN" models/eight_schools.yaml --seed 11 --threads 1 -o "$tmp/t1" --quiet > "$tmp/t1.out" 2>&1
r1=$?
"$BAYESRUN" models/eight_schools.yaml --seed 11 --threads 2 -o "$tmp/t2" --quiet > "$tmp/t2.out" 2>&1
r2=$?
same=1
for c in 1 2 3 4; do
  strip "$tmp/t1/chain_$c.csv" > "$tmp/a" 2>/dev/null && strip "$tmp/t2/chain_$c.csv" > "$tmp/b" 2>/dev/null &&
    cmp -s "$tmp/a" "$tmp/b" || same=0
done
[ $r1 = 0 ] && [ $r2 = 0 ] && [ $same = 1 ] && ok "same seed, 1 or 2 threads: identical draws" ||
  no "same seed, 1 or 2 threads: identical draws (exit $r1 $r2, same=$same)"
# and a different seed differs
"$BAYESRUN" models/eight_schools.yaml --seed 12 -o "$tmp/t3" --quiet > /dev/null 2>&1
strip "$tmp/t3/chain_1.csv" > "$tmp/c"
strip "$tmp/t1/chain_1.csv" > "$tmp/a"
cmp -s "$tmp/a" "$tmp/c" && no "a different seed gives different draws" || ok "a different seed gives different draws"

# 2. the output folder: four complete CSVs with 1000 draws each, summary.json, no temporaries
n=$(ls "$tmp/t1" | grep -c '^chain_[1-4]\.csv$')
tmpf=$(ls "$tmp/t1" | grep -c 'tmp')
rows=$(grep -v '^#' "$tmp/t1/chain_1.csv" | tail -n +2 | wc -l)
[ "$n" = 4 ] && [ "$tmpf" = 0 ] && [ "$rows" = 1000 ] && [ -s "$tmp/t1/summary.json" ] &&
  ok "output folder complete" || no "output folder complete (csv=$n tmp=$tmpf rows=$rows)"
if [ -n "$PY" ]; then
  "$PY" - "$tmp/t1/summary.json" <<'PYEOF' && ok "summary.json shape" || no "summary.json shape"
import json, sys
s = json.load(open(sys.argv[1]))
for k in ("method", "chains", "draws_per_chain", "seed", "divergences", "warnings", "elapsed", "quantities"):
    assert k in s, k
assert s["chains"] == 4 and s["draws_per_chain"] == 1000 and s["seed"] == 11
for k in ("mean", "sd", "mcse_mean", "q5", "q50", "q95", "ess_bulk", "ess_tail", "rhat"):
    assert k in s["quantities"]["mu"], k
assert "theta.1" in s["quantities"] and "y_rep.8" in s["quantities"]
PYEOF
fi

# 3. bayesrun summary on the saved draws prints the same table as the fit
"$BAYESRUN" summary "$tmp/t1" > "$tmp/s.out" 2>&1
rs=$?
grep '^mu ' "$tmp/t1.out" > "$tmp/m1"
grep '^mu ' "$tmp/s.out" > "$tmp/m2"
[ $rs = 0 ] && [ -s "$tmp/m1" ] && cmp -s "$tmp/m1" "$tmp/m2" && ok "bayesrun summary DIR reproduces the fit's table" ||
  no "bayesrun summary DIR reproduces the fit's table"

# 3b. R reads the fit's files, and posterior 1.4's summarise_draws on those draws equals
# summary.json (R-hat and ESS to 1e-8 relative, as the issue asks); skipped without R.
if command -v Rscript > /dev/null 2>&1 &&
  Rscript -e 'suppressMessages({library(rstan); library(posterior); library(jsonlite)})' > /dev/null 2>&1; then
  Rscript - "$tmp/t1" > "$tmp/r.out" 2>&1 <<'REOF'
suppressMessages({library(rstan); library(posterior); library(jsonlite)})
dir <- commandArgs(trailingOnly = TRUE)[1]
fit <- read_stan_csv(file.path(dir, sprintf("chain_%d.csv", 1:4)))
d <- as_draws_array(as.array(fit))
s <- summarise_draws(d)
j <- fromJSON(file.path(dir, "summary.json"))$quantities
bad <- 0
for (i in seq_len(nrow(s))) {
  v <- s$variable[i]
  nm <- gsub("\\]", "", gsub("[\\[,]", ".", v))
  q <- j[[nm]]
  if (is.null(q)) { cat("missing", v, "\n"); bad <- bad + 1; next }
  for (k in c("mean", "sd", "q5", "q95", "rhat", "ess_bulk", "ess_tail")) {
    a <- s[[k]][i]; b <- q[[k]]
    if (abs(a - b) > 1e-8 * max(1, abs(a))) { cat(v, k, a, b, "\n"); bad <- bad + 1 }
  }
}
cat("compared", nrow(s), "quantities,", bad, "differences\n")
quit(status = if (bad == 0 && nrow(s) == 27) 0 else 1)
REOF
  if [ $? = 0 ]; then ok "R reads the CSVs; posterior's summarise_draws equals summary.json"
  else no "R reads the CSVs; posterior's summarise_draws equals summary.json"; cat "$tmp/r.out"; fi
else
  echo "SKIP: R with rstan, posterior and jsonlite is not installed"
fi

# 4. --prior samples the prior: mu ~ normal(0, 5). With about 2000+ effective draws the
# mean's standard error is at most 5/sqrt(2000) = 0.11; |mean| < 0.6 is > 5 standard
# errors (false-failure rate < 1e-6); the sd within 15% (about 6 standard errors).
"$BAYESRUN" models/eight_schools.yaml --prior --seed 3 -o "$tmp/p" --quiet > /dev/null 2>&1
if [ -n "$PY" ]; then
  "$PY" - "$tmp/p/summary.json" <<'PYEOF' && ok "--prior samples the prior" || no "--prior samples the prior"
import json, sys
q = json.load(open(sys.argv[1]))["quantities"]["mu"]
assert abs(q["mean"]) < 0.6, q
assert abs(q["sd"] / 5 - 1) < 0.15, q
PYEOF
fi

# 5. --fail-on-warnings: the centred eight schools diverges -> exit 1, files still written
"$BAYESRUN" models/eight_schools_centered.yaml --seed 1 -o "$tmp/cent" --quiet --fail-on-warnings > "$tmp/c.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q 'divergen' "$tmp/c.out" && ok "--fail-on-warnings exits 1 on divergences" ||
  no "--fail-on-warnings exits 1 on divergences (exit $rc)"

# 6. a fit whose every initial value fails says why, once, and exits 65
printf 'model: bad_init\ndata:\n  y: [1.0, 2.0]\nparameters:\n  m: normal(0, 1)\nlikelihood:\n  y: normal(m, -1)\n' > "$tmp/bad.yaml"
"$BAYESRUN" "$tmp/bad.yaml" -o "$tmp/bad" --quiet > "$tmp/bad.out" 2>&1
rc=$?
nmsg=$(grep -c 'Initialization failed' "$tmp/bad.out")
[ $rc = 65 ] && [ "$nmsg" = 1 ] && grep -q 'sigma must be positive' "$tmp/bad.out" &&
  ok "initialisation failure: one message naming the term, exit 65" ||
  no "initialisation failure: one message naming the term, exit 65 (exit $rc, $nmsg messages)"

# 7. a killed run leaves no file that looks complete (only *.tmp.* files)
"$BAYESRUN" models/logistic_regression.yaml --warmup 20000 --draws 20000 -o "$tmp/k" --quiet > /dev/null 2>&1 &
pid=$!
sleep 1
kill -9 $pid 2> /dev/null
wait $pid 2> /dev/null
whole=$(ls "$tmp/k" 2> /dev/null | grep -c '^chain_[0-9]*\.csv$')
[ "$whole" = 0 ] && ok "a killed run leaves no complete-looking CSV" || no "a killed run leaves no complete-looking CSV ($whole)"

# 8. bad flags are usage errors
"$BAYESRUN" models/eight_schools.yaml --chains 0 > /dev/null 2>&1
[ $? = 64 ] && ok "--chains 0 is a usage error" || no "--chains 0 is a usage error"
"$BAYESRUN" models/eight_schools.yaml --method smc -o "$tmp/v" > /dev/null 2>&1
[ $? = 69 ] && ok "a method of a later issue exits 69" || no "a method of a later issue exits 69"

finish
