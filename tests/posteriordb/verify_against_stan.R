# Verify the bayesrun translations in tests/posteriordb/ against Stan (rstan).
#
# For each model MODEL (stan/MODEL.stan next to MODEL.yaml, no MODEL.SKIP) this
#   1. compiles stan/MODEL.stan with rstan (cached as .cache/MODEL.rds),
#   2. builds a fit object (1 iteration, algorithm = "Fixed_param"),
#   3. draws 5 unconstrained points: 3 near the reference posterior means
#      (unconstrained reference mean + N(0, 0.5^2) per coordinate) and 2 plain
#      N(0, 1) points,
#   4. compares rstan::log_prob(fit, u, adjust_transform = TRUE, gradient = TRUE)
#      with `bayesrun logdensity MODEL.yaml --data DATA --at POINT --unconstrained
#      --gradient`, the point written per parameter name from Stan's
#      unconstrained parameter names (declaration order).
#
# Pass criteria: max relative gradient difference < 1e-8 (relative to
# max(1, |grad|)), and the log-density difference (bayesrun - Stan) constant
# across the points (spread < 1e-8 * max(1, |lp|)). Stan's `~` drops constants
# and bayesrun keeps them, so only the constancy is checked.
#
# Usage (from the repository root or anywhere):
#   Rscript tests/posteriordb/verify_against_stan.R [--compile-only] [MODEL ...]
# Environment: BAYESRUN (default: ./bayesrun in the repository root),
#              SHARED_DIR (default: ../shared next to the repository).
# Exit status: 0 all verified, 1 some model failed.

suppressPackageStartupMessages({
  library(rstan)
  library(jsonlite)
})
rstan_options(auto_write = FALSE)
options(mc.cores = 1)

args <- commandArgs(trailingOnly = TRUE)
file_arg <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
here <- normalizePath(dirname(file_arg))
repo <- normalizePath(file.path(here, "..", ".."))
compile_only <- "--compile-only" %in% args
args <- setdiff(args, "--compile-only")

bayesrun <- Sys.getenv("BAYESRUN", file.path(repo, "bayesrun"))
shared <- Sys.getenv("SHARED_DIR", file.path(dirname(repo), "shared"))
ref_file <- file.path(shared, "posteriordb", "reference-open.json")
ref_all <- fromJSON(ref_file, simplifyVector = FALSE)
# model name -> posterior name (data file), from the reference keys
posteriors <- names(ref_all)
model_of <- sub("^[^-]*-", "", posteriors)
names(posteriors) <- model_of

models <- if (length(args)) args else sort(model_of)
cache <- file.path(here, ".cache")
dir.create(cache, showWarnings = FALSE)

compiled <- function(m) {
  rds <- file.path(cache, paste0(m, ".rds"))
  src <- file.path(here, "stan", paste0(m, ".stan"))
  if (file.exists(rds) && file.mtime(rds) >= file.mtime(src)) return(readRDS(rds))
  t0 <- Sys.time()
  sm <- stan_model(src, model_name = m)
  saveRDS(sm, rds)
  message(sprintf("compiled %s in %.0f s", m, as.numeric(Sys.time() - t0, units = "secs")))
  sm
}

# reference mean of every constrained scalar, as "name[i,j]" -> value
ref_means <- function(post) {
  r <- ref_all[[post]]
  p <- if (!is.null(r$params)) r$params else r
  out <- c()
  for (n in names(p)) if (is.list(p[[n]]) && !is.null(p[[n]]$mean)) out[n] <- p[[n]]$mean
  out
}

# a constrained parameter list for unconstrain_pars from the reference means
ref_init <- function(fit, par_names, post) {
  mu <- ref_means(post)
  dims <- fit@par_dims[par_names]
  init <- list()
  for (p in par_names) {
    d <- dims[[p]]
    if (length(d) == 0) {
      if (!(p %in% names(mu))) return(NULL)
      init[[p]] <- unname(mu[p])
    } else {
      idx <- as.matrix(expand.grid(lapply(d, seq_len)))
      keys <- sprintf("%s[%s]", p, apply(idx, 1, paste, collapse = ","))
      if (!all(keys %in% names(mu))) return(NULL)
      a <- array(0, dim = d)
      a[idx] <- mu[keys]
      init[[p]] <- a
    }
  }
  init
}

verify <- function(m) {
  post <- posteriors[[m]]
  yaml <- file.path(here, paste0(m, ".yaml"))
  data_file <- file.path(shared, "posteriordb", "data", paste0(post, ".json"))
  sm <- compiled(m)
  if (compile_only) return(NULL)
  data <- fromJSON(data_file, simplifyVector = TRUE, simplifyMatrix = TRUE)
  fit <- suppressWarnings(sampling(sm, data = data, chains = 1, iter = 1, warmup = 0,
                                   algorithm = "Fixed_param", refresh = 0, seed = 1))
  inst <- fit@.MISC$stan_fit_instance
  unames <- inst$unconstrained_param_names(FALSE, FALSE)
  cnames <- inst$constrained_param_names(FALSE, FALSE)
  # parameter of each unconstrained coordinate, in Stan's (declaration) order
  upar <- sub("\\..*$", "", unames)
  par_names <- unique(sub("\\..*$", "", cnames))
  scalar <- sapply(par_names, function(p) length(fit@par_dims[[p]]) == 0)
  n <- get_num_upars(fit)
  stopifnot(n == length(unames))

  set.seed(20261125)
  init <- ref_init(fit, par_names, post)
  u0 <- if (is.null(init)) rep(0, n) else unconstrain_pars(fit, init)
  pts <- matrix(0, 5, n)
  for (i in 1:3) pts[i, ] <- u0 + rnorm(n, 0, 0.5)
  for (i in 4:5) pts[i, ] <- rnorm(n)

  tmp <- tempfile(paste0(m, "_"))
  dir.create(tmp)
  lp_diff <- lp_stan <- c()
  max_gabs <- 0
  max_grel <- 0
  errs <- c()
  for (i in seq_len(nrow(pts))) {
    u <- pts[i, ]
    s <- log_prob(fit, u, adjust_transform = TRUE, gradient = TRUE)
    gs <- attr(s, "gradient")
    point <- list()
    for (p in par_names) {
      v <- u[upar == p]
      point[[p]] <- if (scalar[[p]]) unbox(v) else v
    }
    pf <- file.path(tmp, sprintf("point%d.json", i))
    writeLines(toJSON(point, digits = NA, auto_unbox = FALSE), pf)
    ef <- file.path(tmp, "stderr.txt")
    out <- suppressWarnings(system2(bayesrun, c("logdensity", shQuote(yaml), "--data",
                                                shQuote(data_file), "--at", shQuote(pf),
                                                "--unconstrained", "--gradient"),
                                    stdout = TRUE, stderr = ef))
    js <- tryCatch(fromJSON(paste(out, collapse = "\n"), simplifyVector = TRUE),
                   error = function(e) NULL)
    if (is.null(js) || is.null(js$log_density) || !is.null(js$error)) {
      errs <- c(errs, sprintf("point %d: %s %s", i, paste(out, collapse = " "),
                              paste(readLines(ef), collapse = " | ")))
      next
    }
    gb <- unlist(lapply(par_names, function(p) js$gradient[[p]]))
    if (length(gb) != length(gs)) {
      errs <- c(errs, sprintf("point %d: gradient length %d, Stan %d", i, length(gb), length(gs)))
      next
    }
    max_gabs <- max(max_gabs, abs(gb - gs))
    max_grel <- max(max_grel, abs(gb - gs) / pmax(1, abs(gs)))
    lp_diff <- c(lp_diff, js$log_density - as.numeric(s))
    lp_stan <- c(lp_stan, as.numeric(s))
  }
  unlink(tmp, recursive = TRUE)
  spread <- if (length(lp_diff)) diff(range(lp_diff)) else NA
  spread_rel <- spread / max(1, abs(lp_stan))
  ok <- length(errs) == 0 && length(lp_diff) == nrow(pts) &&
    max_grel < 1e-8 && spread_rel < 1e-8
  cat(sprintf("%-20s %s  n_upars=%d  max|dgrad|=%.3g  max rel dgrad=%.3g  lp diff=%.10g  spread=%.3g (rel %.3g)  |lp| up to %.3g\n",
              m, if (ok) "OK  " else "FAIL", n, max_gabs, max_grel,
              if (length(lp_diff)) mean(lp_diff) else NA, spread, spread_rel,
              if (length(lp_stan)) max(abs(lp_stan)) else NA))
  for (e in errs) cat("    ", e, "\n")
  ok
}

results <- c()
for (m in models) {
  if (file.exists(file.path(here, paste0(m, ".SKIP")))) {
    cat(sprintf("%-20s SKIP  %s\n", m, paste(readLines(file.path(here, paste0(m, ".SKIP"))), collapse = " ")))
    next
  }
  if (!file.exists(file.path(here, "stan", paste0(m, ".stan")))) {
    cat(sprintf("%-20s FAIL  no stan/%s.stan\n", m, m))
    results[m] <- FALSE
    next
  }
  r <- tryCatch(verify(m), error = function(e) {
    cat(sprintf("%-20s FAIL  %s\n", m, conditionMessage(e)))
    FALSE
  })
  if (!is.null(r)) results[m] <- r
}
if (!compile_only) {
  cat(sprintf("%d verified, %d failed\n", sum(results), sum(!results)))
  quit(status = if (all(results)) 0 else 1)
}
