#!/bin/sh
# r_readers.sh — bayesrun's CSV files must read unchanged in R: rstan::read_stan_csv and
# posterior (as_draws_df, summarise_draws) on the golden files the CSV writer produces
# (tests/data/stancsv/golden_chain1.csv, normal/chain*.csv; test_stancsv checks they are
# what the writer writes today). Checks dimensions, names, every value against the file's
# own text, sampler columns, adaptation info and elapsed times. When BAYESRUN can run
# `summary --json`, also compares its figures with posterior::summarise_draws on the same
# draws. Then the approximate methods' files from a fresh run: rstan::read_stan_csv on
# advi.csv (CmdStan's variational layout: rstan drops the mean row), and read.csv +
# posterior on laplace.csv, pathfinder.csv and optimize.csv (rstan 2.21 predates those
# CmdStan methods), compared with bayesrun's summary.json. Skips (exit 77) without
# Rscript, rstan or posterior. Prints "N passed, N failed" once per part.

top_srcdir=${top_srcdir:-.}
BAYESRUN=${BAYESRUN:-./bayesrun}

if ! command -v Rscript >/dev/null 2>&1; then
  echo "SKIP: Rscript not found"
  exit 77
fi
if ! Rscript -e 'suppressPackageStartupMessages({library(rstan); library(posterior)})' \
    >/dev/null 2>&1; then
  echo "SKIP: R packages rstan and posterior are not both installed"
  exit 77
fi

tmp=${TMPDIR:-/tmp}/r_readers.$$
mkdir -p "$tmp" || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

# bayesrun's own summary of the normal/ chains, if the CLI can give one
json=
if [ -x "$BAYESRUN" ] &&
   "$BAYESRUN" summary --json "$top_srcdir/tests/data/stancsv/normal" >"$tmp/summary.json" 2>"$tmp/summary.err"; then
  json="$tmp/summary.json"
fi

# each R part prints "part: N passed, N failed"; the script prints the total last
exit_total() {
  p=0
  f=0
  for l in $(grep -h '^part: ' "$tmp"/part*.out | sed -E 's/^part: ([0-9]+) passed, ([0-9]+) failed.*/\1:\2/'); do
    p=$((p + ${l%%:*}))
    f=$((f + ${l##*:}))
  done
  echo "$p passed, $f failed"
  [ "$1" = 0 ] && [ "${2:-0}" = 0 ] && [ $f = 0 ]
  exit $?
}

# the R parts' PASS/FAIL counting, put in front of each
rcheck='passed <- 0
failed <- 0
check <- function(ok, what) {
  ok <- isTRUE(ok)
  if (ok) passed <<- passed + 1 else failed <<- failed + 1
  cat(if (ok) "PASS" else "FAIL", what, "\n")
}'

{ echo "$rcheck"; cat <<'EOF'; } | Rscript --vanilla - "$top_srcdir/tests/data/stancsv" "$json" > "$tmp/part1.out" 2>&1
suppressPackageStartupMessages({
  library(rstan)
  library(posterior)
})
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
json <- if (length(args) >= 2) args[2] else ""

# The file's own numbers: the non-comment lines after the names, cell by cell.
file_values <- function(path) {
  l <- readLines(path)
  l <- l[!grepl("^#", l) & nzchar(l)]
  names <- strsplit(l[1], ",", fixed = TRUE)[[1]]
  m <- do.call(rbind, lapply(strsplit(l[-1], ",", fixed = TRUE), as.numeric))
  colnames(m) <- names
  m
}
# Stan's "theta.1" / "y_rep.1.2" as rstan names them: "theta[1]" / "y_rep[1,2]"
rstan_name <- function(n) {
  parts <- strsplit(n, ".", fixed = TRUE)[[1]]
  if (length(parts) == 1) n else paste0(parts[1], "[", paste(parts[-1], collapse = ","), "]")
}
same <- function(a, b) identical(is.na(a), is.na(b)) && all(a[!is.na(a)] == b[!is.na(b)])

# ---- golden_chain1.csv: one chain of 4 draws with awkward values ----
f <- file.path(dir, "golden_chain1.csv")
fit <- tryCatch(suppressWarnings(read_stan_csv(f)), error = function(e) e)
check(inherits(fit, "stanfit"), "read_stan_csv reads golden_chain1.csv")
if (inherits(fit, "stanfit")) {
  a <- as.array(fit)
  v <- file_values(f)
  check(identical(dim(a), c(4L, 1L, 4L)), "golden: 4 draws x 1 chain x 4 quantities")
  check(identical(dimnames(a)[[3]], c("mu", "theta[1]", "theta[2]", "lp__")),
        "golden: names mu, theta[1], theta[2], lp__")
  ok <- TRUE
  for (n in c("mu", "theta.1", "theta.2", "lp__"))
    ok <- ok && same(a[, 1, rstan_name(n)], v[, n])
  check(ok, "golden: every value equals the file's text (0.1, 1e-300, -0, 5e-324, nan, inf, ...)")
  check(identical(a[, 1, "theta[1]"][2], 5e-324) && is.nan(a[3, 1, "mu"]) &&
        a[3, 1, "theta[2]"] == -Inf, "golden: subnormal, NaN and -Inf survive")
  sp <- get_sampler_params(fit, inc_warmup = FALSE)[[1]]
  check(same(sp[, "treedepth__"], v[, "treedepth__"]) &&
        same(sp[, "divergent__"], v[, "divergent__"]) &&
        same(sp[, "n_leapfrog__"], v[, "n_leapfrog__"]) &&
        same(sp[, "energy__"], v[, "energy__"]), "golden: sampler columns")
  check(grepl("Step size = 0.911297", get_adaptation_info(fit)[[1]], fixed = TRUE),
        "golden: adaptation info has the step size")
  et <- get_elapsed_time(fit)
  check(abs(et[1, "warmup"] - 1.234) < 1e-9 && abs(et[1, "sample"] - 0.5) < 1e-9,
        "golden: elapsed times")
  d <- tryCatch(as_draws_df(a), error = function(e) e)
  check(inherits(d, "draws_df") && nrow(d) == 4, "golden: posterior::as_draws_df")
}

# ---- normal/chain1.csv, chain2.csv: two chains of 100 draws ----
fs <- file.path(dir, "normal", c("chain1.csv", "chain2.csv"))
fit <- tryCatch(read_stan_csv(fs), error = function(e) e)
check(inherits(fit, "stanfit"), "read_stan_csv reads normal/chain1.csv and chain2.csv")
if (inherits(fit, "stanfit")) {
  a <- as.array(fit)
  want <- c("mu", "sigma", "y_rep[1,1]", "y_rep[2,1]", "y_rep[1,2]", "y_rep[2,2]", "lp__")
  check(identical(dim(a), c(100L, 2L, 7L)), "normal: 100 draws x 2 chains x 7 quantities")
  check(identical(dimnames(a)[[3]], want), "normal: names (matrix y_rep column-major)")
  ok <- TRUE
  for (ch in 1:2) {
    v <- file_values(fs[ch])
    for (n in c("mu", "sigma", "y_rep.1.1", "y_rep.2.1", "y_rep.1.2", "y_rep.2.2", "lp__"))
      ok <- ok && same(a[, ch, rstan_name(n)], v[, n])
  }
  check(ok, "normal: every value equals the file's text")
  check(sum(sapply(get_sampler_params(fit, inc_warmup = FALSE),
                   function(s) sum(s[, "divergent__"]))) == 1, "normal: one divergence")
  d <- tryCatch(as_draws_df(a), error = function(e) e)
  check(inherits(d, "draws_df") && nrow(d) == 200 && max(d$.chain) == 2,
        "normal: posterior::as_draws_df")
  s <- tryCatch(summarise_draws(d), error = function(e) e)
  check(is.data.frame(s) && nrow(s) == 7 && all(is.finite(s$rhat)) &&
        all(is.finite(s$ess_bulk)), "normal: posterior::summarise_draws")

  if (nzchar(json) && file.exists(json) && requireNamespace("jsonlite", quietly = TRUE)) {
    js <- jsonlite::fromJSON(json, simplifyVector = FALSE)
    ref <- summarise_draws(d, "mean", "sd", "mcse_mean",
                           ~quantile2(.x, probs = c(0.05, 0.5, 0.95)),
                           "rhat", "ess_bulk", "ess_tail")
    check(js$chains == 2 && js$draws_per_chain == 100 && js$divergences == 1,
          "bayesrun summary --json: chains, draws, divergences")
    rel <- function(x, y) abs(x - y) / max(1, abs(y))
    for (k in seq_len(nrow(ref))) {
      name <- ref$variable[k]
      stan <- sub("\\[", ".", sub("\\]", "", gsub(",", ".", name)))
      q <- js$quantities[[stan]]
      if (is.null(q)) { check(FALSE, paste("bayesrun summary has", stan)); next }
      exact <- c(mean = "mean", sd = "sd", q5 = "q5", q50 = "q50", q95 = "q95")
      diag <- c(mcse_mean = "mcse_mean", rhat = "rhat", ess_bulk = "ess_bulk",
                ess_tail = "ess_tail")
      ok1 <- all(sapply(names(exact), function(f) rel(q[[f]], ref[[exact[[f]]]][k]) < 1e-9))
      ok2 <- all(sapply(names(diag), function(f) rel(q[[f]], ref[[diag[[f]]]][k]) < 1e-6))
      check(ok1, paste("bayesrun summary equals posterior for", stan, "(mean, sd, quantiles)"))
      check(ok2, paste("bayesrun summary equals posterior for", stan, "(mcse, rhat, ess)"))
    }
  } else {
    cat("NOTE: bayesrun summary --json not available; its figures were not compared\n")
  }
}

# ---- a file from CmdStan 2.33 reads the same way (the fixture the C tests read) ----
f <- file.path(dir, "cmdstan233_bernoulli.csv")
fit <- tryCatch(read_stan_csv(f), error = function(e) e)
check(inherits(fit, "stanfit") && identical(dim(as.array(fit)), c(10L, 1L, 2L)),
      "read_stan_csv reads the CmdStan 2.33 fixture")

cat("part:", passed, "passed,", failed, "failed\n")
quit(status = if (failed > 0) 1 else 0)
EOF
st=$?
cat "$tmp/part1.out"
[ -x "$BAYESRUN" ] || exit_total $st
model=$top_srcdir/models/linear_regression.yaml
for m in advi laplace pathfinder optimize; do
  "$BAYESRUN" "$model" --method $m --seed 4 -o "$tmp/$m" --quiet >/dev/null 2>&1
done
{ echo "$rcheck"; cat <<'EOF'; } | Rscript --vanilla - "$tmp" > "$tmp/part2.out" 2>&1
suppressPackageStartupMessages({
  library(rstan)
  library(posterior)
  library(jsonlite)
})
dir <- commandArgs(trailingOnly = TRUE)[1]
rel <- function(x, y) abs(x - y) / max(1, abs(y))
# rstan on CmdStan's variational layout: the mean row is not a draw
fit <- tryCatch(read_stan_csv(file.path(dir, "advi", "advi.csv")), error = function(e) e)
check(inherits(fit, "stanfit"), "read_stan_csv reads advi.csv")
if (inherits(fit, "stanfit")) {
  raw <- read.csv(file.path(dir, "advi", "advi.csv"), comment.char = "#")
  a <- as.matrix(fit, pars = "alpha")
  check(length(a) == nrow(raw) - 1 && max(abs(a - raw$alpha[-1])) < 1e-12,
        "rstan's advi draws are the file's rows after the mean row")
}
for (m in c("advi", "laplace", "pathfinder", "optimize")) {
  raw <- read.csv(file.path(dir, m, paste0(m, ".csv")), comment.char = "#")
  if (m == "advi") raw <- raw[-1, ]
  js <- fromJSON(file.path(dir, m, "summary.json"))
  check(nrow(raw) == js$draws_per_chain, paste(m, ": rows = summary.json's draws"))
  if (m == "optimize") {
    check(rel(raw$alpha, js$quantities$alpha$mean) < 1e-12, "optimize: the mode as written")
    next
  }
  d <- as_draws_df(raw[, c("alpha", "beta.1", "sigma")])
  s <- summarise_draws(d, "mean", "sd", ~quantile(.x, probs = c(0.05, 0.95)))
  ok <- TRUE
  for (k in seq_len(nrow(s))) {
    q <- js$quantities[[s$variable[k]]]
    ok <- ok && rel(q$mean, s$mean[k]) < 1e-9 && rel(q$sd, s$sd[k]) < 1e-9 &&
      rel(q$q5, s[["5%"]][k]) < 1e-9 && rel(q$q95, s[["95%"]][k]) < 1e-9
  }
  check(ok, paste(m, ": posterior's summary of the file equals bayesrun's summary.json"))
}
cat("part:", passed, "passed,", failed, "failed\n")
quit(status = if (failed > 0) 1 else 0)
EOF
st2=$?
cat "$tmp/part2.out"
exit_total $st $st2
