# anchor_stan.R — Stan's cost of one log density + gradient (rstan grad_log_prob) for the
# anchor models, to set against bench/bench_compile in bench/run.sh. Also checks that
# Stan and bayesrun compute the same log density (up to a constant) and gradient.
# A benchmark, not a test: it prints figures; it fails only if Stan cannot run.
#
# Three figures per model:
#   raw        grad_log_prob(fit, upars) called from R, as the issue asks;
#   corrected  raw minus the same call on a one-parameter model (the R/Rcpp overhead);
#   native     stan::model::log_prob_grad<true, true> called in a C++ loop on the very
#              C++ that rstan's stanc generates, compiled with R's own CXX and CXXFLAGS
#              (what rstan uses), against the same StanHeaders. No R in the loop.
# The driver for `native` is written into bench/out/ from this file and compiled once.
#
# usage: Rscript bench/anchor_stan.R [SECONDS]     (run from the top source directory)
# env:   BAYESRUN (default ./bayesrun), BENCH_OUT (default bench/out: compiled-model cache)
# stdout: "#"-comment lines, then one line per model:
#   model dim stan_us_raw stan_us_corrected overhead_us stan_us_native

suppressPackageStartupMessages({
  library(rstan)
  library(jsonlite)
  library(yaml)
})

args <- commandArgs(trailingOnly = TRUE)
min_seconds <- if (length(args) >= 1) as.numeric(args[1]) else 1.0
out_dir <- Sys.getenv("BENCH_OUT", "bench/out")
bayesrun <- Sys.getenv("BAYESRUN", "./bayesrun")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
say <- function(...) cat("#", sprintf(...), "\n")

# Compile once; the cache key is the Stan source text (and the rstan version).
compiled <- function(name) {
  src <- file.path("bench/stan", paste0(name, ".stan"))
  code <- paste(readLines(src), collapse = "\n")
  key <- paste(as.character(packageVersion("rstan")), code)
  rds <- file.path(out_dir, paste0(name, ".rds"))
  if (file.exists(rds)) {
    cached <- readRDS(rds)
    if (identical(cached$key, key)) {
      say("%-22s compiled model from cache %s", name, rds)
      return(cached$model)
    }
  }
  t <- system.time(m <- stan_model(model_code = code, model_name = name))[["elapsed"]]
  say("%-22s Stan compile %.1f s (cached in %s)", name, t, rds)
  saveRDS(list(key = key, model = m), rds)
  m
}

# The same pseudo-random unconstrained point as bench/bench_compile.c (its LCG, in exact
# 32-bit arithmetic: doubles cannot hold the 64-bit product).
lcg_point <- function(dim) {
  mulmod <- function(a, b) {   # (a * b) mod 2^32 with a, b < 2^32
    al <- a %% 65536; ah <- a %/% 65536
    bl <- b %% 65536; bh <- b %/% 65536
    ((al * bl) + ((al * bh + ah * bl) %% 65536) * 65536) %% 4294967296
  }
  seed <- 1
  th <- numeric(dim)
  for (i in seq_len(dim)) {
    seed <- (mulmod(seed, 1103515245) + 12345) %% 4294967296
    th[i] <- ((seed %/% 256) %% 65536) / 65536 - 0.5
  }
  th
}

# Seconds per call of f(), with reps doubled until a batch takes min_seconds; best of 3.
time_per_call <- function(f) {
  reps <- 100
  repeat {
    t <- system.time(for (i in seq_len(reps)) f())[["elapsed"]]
    if (t >= min_seconds) break
    reps <- reps * if (t < min_seconds / 8) 8 else 2
  }
  best <- t
  for (k in 1:2) best <- min(best, system.time(for (i in seq_len(reps)) f())[["elapsed"]])
  best / reps
}

# ---- native: the stanc C++ in a C++ timing loop ----
driver_src <- '
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <vector>
#include <stan/io/dump.hpp>
#include <stan/model/log_prob_grad.hpp>
#include MODEL_HPP
// usage: driver DATA.R SECONDS THETA...; prints dim, us per call, evals, lp, gradient
int main(int argc, char **argv) {
  std::ifstream in(argv[1]);
  stan::io::dump data(in);
  stan_model model(data, 0, &std::cerr);
  size_t dim = model.num_params_r();
  if ((size_t)argc != 3 + dim) return 2;
  std::vector<double> th(dim), g(dim);
  std::vector<int> ti;
  for (size_t i = 0; i < dim; i++) th[i] = std::atof(argv[3 + i]);
  double secs = std::atof(argv[2]), sink = 0, el = 0, best = 1e300;
  for (int round = 0; round < 3; round++) {   /* best of three, as for the R timings */
    long evals = 0;
    auto t0 = std::chrono::steady_clock::now();
    do {
      for (int k = 0; k < 100; k++)
        sink += stan::model::log_prob_grad<true, true>(model, th, ti, g, 0) + g[0];
      evals += 100;
      el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } while (el < secs);
    if (el / evals < best) best = el / evals;
  }
  double lp = stan::model::log_prob_grad<true, true>(model, th, ti, g, 0);
  std::printf("%zu %.6f %.17g", dim, 1e6 * best, lp);
  for (size_t i = 0; i < dim; i++) std::printf(" %.17g", g[i]);
  std::printf("\\n");
  return sink == sink ? 0 : 1;
}
'

native_exe <- function(name, data) {
  src <- file.path("bench/stan", paste0(name, ".stan"))
  rconf <- function(v) system2(file.path(R.home("bin"), "R"), c("CMD", "config", v),
                               stdout = TRUE)
  cxx <- strsplit(rconf("CXX"), " ")[[1]]
  inc <- function(pkg, sub = "include") paste0("-I", system.file(sub, package = pkg))
  flags <- c(strsplit(rconf("CXXFLAGS"), " ")[[1]],
             inc("StanHeaders"), inc("StanHeaders", "include/src"), inc("RcppEigen"),
             inc("RcppParallel"), inc("rstan"), "-DBOOST_DISABLE_ASSERTS",
             "-DEIGEN_NO_DEBUG", "-DBOOST_MATH_OVERFLOW_ERROR_POLICY=errno_on_error",
             "-D_REENTRANT", "-Wno-ignored-attributes", "-Wno-deprecated-declarations")
  exe <- file.path(out_dir, paste0(name, "_native"))
  # stanc names the C++ class with a random suffix, so the key is the Stan source
  key <- paste(c(as.character(packageVersion("rstan")), readLines(src), driver_src, cxx,
                 flags), collapse = "\n")
  keyf <- paste0(exe, ".key")
  dataf <- paste0(exe, ".data.R")
  stan_rdump(names(data), dataf, envir = list2env(data))
  if (file.exists(exe) && file.exists(keyf) &&
      identical(paste(readLines(keyf), collapse = "\n"), key)) return(exe)
  hpp <- paste0(exe, ".hpp"); drv <- paste0(exe, "_driver.cpp")
  writeLines(stanc(src, model_name = name)$cppcode, hpp)
  writeLines(driver_src, drv)
  t <- system.time(rc <- system2(cxx[1], c(cxx[-1], flags,
                                           sprintf("-DMODEL_HPP=\\\"%s\\\"", basename(hpp)),
                                           drv, "-o", exe), stdout = FALSE, stderr = FALSE))
  if (rc != 0) { say("%-22s native driver does not compile: no native figure", name); return(NULL) }
  say("%-22s native driver compile %.1f s", name, t[["elapsed"]])
  writeLines(key, keyf)
  exe
}

native_time <- function(exe, th) {
  out <- system2(exe, c(paste0(exe, ".data.R"), min_seconds, sprintf("%.17g", th)),
                 stdout = TRUE)
  v <- as.numeric(strsplit(trimws(out), " +")[[1]])
  list(us = v[2], lp = v[3], grad = v[-(1:3)])
}

fit_of <- function(sm, data) {
  # One fixed-parameter iteration: all we need is a stanfit holding the model instance.
  suppressWarnings(sampling(sm, data = data, chains = 1, iter = 1, warmup = 0,
                            algorithm = "Fixed_param", refresh = 0, seed = 1))
}

# bayesrun's log density and gradient at the unconstrained point th (via the CLI).
bayesrun_at <- function(yaml_path, fit, th) {
  # Parameters come first in declaration order, then transformed parameters; for these
  # models each parameter's unconstrained size equals its size (no simplex etc.).
  init <- get_inits(fit)[[1]]
  pars <- character(0)
  pt <- list(); off <- 0
  for (p in names(init)) {
    if (off >= length(th)) break
    v <- th[off + seq_along(init[[p]])]
    pt[[p]] <- if (is.null(dim(init[[p]]))) v else I(v)  # scalar, or a JSON array
    pars <- c(pars, p)
    off <- off + length(init[[p]])
  }
  f <- tempfile(fileext = ".json")
  writeLines(toJSON(pt, auto_unbox = TRUE, digits = NA), f)
  out <- suppressWarnings(system2(bayesrun, c("logdensity", yaml_path, "--at", f,
                                              "--unconstrained", "--gradient"),
                                  stdout = TRUE, stderr = TRUE))
  unlink(f)
  if (!is.null(attr(out, "status"))) return(NULL)
  r <- fromJSON(paste(out, collapse = "\n"))
  list(lp = r$log_density, grad = unlist(r$gradient[pars]))
}

anchors <- list(
  eight_schools = list(yaml = "models/eight_schools.yaml", data = function() {
    # YAML 1.1 reads the key `y` as TRUE; keep yes/no words as strings
    keep <- function(x) x
    d <- read_yaml("models/eight_schools.yaml",
                   handlers = list("bool#yes" = keep, "bool#no" = keep))$data
    list(J = d$J, y = unlist(d$y), sigma = unlist(d$sigma))
  }),
  logistic_regression = list(yaml = "models/logistic_regression.yaml", data = function() {
    d <- fromJSON("models/data/logistic_regression.json")
    list(N = d$N, K = d$K, X = as.matrix(d$X), y = as.integer(d$y))
  })
)

# The per-call cost of grad_log_prob itself (R call, argument checks, vector copies):
# a one-parameter model whose gradient is a multiply.
triv_fit <- fit_of(compiled("trivial"), list())
overhead <- time_per_call(function() grad_log_prob(triv_fit, 0.3, adjust_transform = TRUE))
triv_sfi <- triv_fit@.MISC$stan_fit_instance
overhead_direct <- time_per_call(function() triv_sfi$grad_log_prob(0.3, TRUE))
say("%-22s call overhead (1-parameter model): grad_log_prob %.3f us, Rcpp method %.3f us",
    "trivial", 1e6 * overhead, 1e6 * overhead_direct)

rows <- list()
for (name in names(anchors)) {
  a <- anchors[[name]]
  fit <- fit_of(compiled(name), a$data())
  dim <- get_num_upars(fit)
  th <- lcg_point(dim)

  # Same density? Compare at two points: the lp difference must be one constant
  # (normalising terms each tool keeps or drops), the gradients must agree.
  th2 <- th + 0.25
  b1 <- bayesrun_at(a$yaml, fit, th); b2 <- bayesrun_at(a$yaml, fit, th2)
  s1 <- grad_log_prob(fit, th, adjust_transform = TRUE)
  s2 <- grad_log_prob(fit, th2, adjust_transform = TRUE)
  if (is.null(b1) || is.null(b2)) {
    say("%-22s bayesrun logdensity failed: no density check", name)
  } else {
    c1 <- attr(s1, "log_prob") - b1$lp; c2 <- attr(s2, "log_prob") - b2$lp
    gerr <- max(abs(c(s1 - b1$grad, s2 - b2$grad)))
    say("%-22s lp: stan %.10g bayesrun %.10g; stan - bayesrun = %.12g and %.12g at two points (%s); max |grad diff| %.2e (%s)",
        name, attr(s1, "log_prob"), b1$lp, c1, c2,
        if (abs(c1 - c2) < 1e-8 * max(1, abs(c1))) "same up to a constant" else "DIFFERENT",
        gerr, if (gerr < 1e-8) "same gradient" else "DIFFERENT")
  }

  raw <- time_per_call(function() grad_log_prob(fit, th, adjust_transform = TRUE))
  # the Rcpp module method that grad_log_prob wraps, without the S4 dispatch and checks
  sfi <- fit@.MISC$stan_fit_instance
  direct <- time_per_call(function() sfi$grad_log_prob(th, TRUE))
  say("%-22s Rcpp method directly: %.3f us raw, %.3f us corrected", name, 1e6 * direct,
      1e6 * max(direct - overhead_direct, 0))
  nat <- NA
  exe <- native_exe(name, a$data())
  if (!is.null(exe)) {
    r <- native_time(exe, th)
    nat <- r$us
    say("%-22s native: %.3f us per log_prob_grad; lp and gradient %s rstan's", name, nat,
        if (abs(r$lp - attr(s1, "log_prob")) < 1e-9 * max(1, abs(r$lp)) &&
            max(abs(r$grad - s1)) < 1e-9) "match" else "DO NOT match")
  }
  rows[[name]] <- c(dim, 1e6 * raw, 1e6 * max(raw - overhead, 0), 1e6 * overhead, nat)
}

cat(sprintf("%-28s %6s %14s %18s %12s %15s\n", "model", "dim", "stan_us_raw",
            "stan_us_corrected", "overhead_us", "stan_us_native"))
for (name in names(rows)) {
  r <- rows[[name]]
  cat(sprintf("%-28s %6d %14.3f %18.3f %12.3f %15.3f\n", name, as.integer(r[1]), r[2], r[3],
              r[4], r[5]))
}
