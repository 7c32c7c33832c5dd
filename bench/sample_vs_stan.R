# sample_vs_stan.R — sampling efficiency of bayesrun against Stan (rstan 2.21) on the same
# models and data: eight schools (non-centred), the 1000 x 10 logistic regression and the
# posteriordb open set (tests/posteriordb). Driven by bench/sample_vs_stan.sh, which runs
# bayesrun first (so that its wall times come from the shell, process start to exit) and
# then calls this script to run Stan and to compute the table.
#
# usage (from the top source directory):
#   Rscript bench/sample_vs_stan.R --list               model table for the shell script:
#                                                       "name yaml data|-" per line
#   Rscript bench/sample_vs_stan.R --compile [MODEL...] compile (and cache) the Stan models
#   Rscript bench/sample_vs_stan.R --stan [MODEL...]    run Stan (all seeds), save the runs
#                                                       in $SAMPLING_OUT/stan/MODEL.runs.rds
#   Rscript bench/sample_vs_stan.R --run [MODEL...]     read both tools' runs (Stan's made
#                                                       now if absent), print the table
# env: SAMPLING_OUT (default bench/out/sampling): bayesrun's runs are read from
#      $SAMPLING_OUT/br/MODEL/seedS/ (summary.json, chain_*.csv, wall) and
#      $SAMPLING_OUT/br/MODEL/ttfd; Stan's compiled models are cached in
#      $SAMPLING_OUT/stan/MODEL.rds (keyed on the Stan source and the rstan version,
#      with the compile time measured when it was built).
#      SEEDS (default "1 2"), SHARED_DIR (default ../shared).
#
# Definitions (the same for both tools; "parameters" = the Stan program's `parameters`
# block, matched by name: Stan's theta[1] is bayesrun's theta.1):
#   ESS           ESS_bulk of posterior::summarise_draws on the kept draws (4 x 1000), for
#                 bayesrun computed here from its CSV files with the same code as for Stan
#   grads         sum of n_leapfrog__ over the kept draws of all chains (sampling phase)
#   samp_s        sampling seconds summed over the chains (CPU-seconds of sampling: each
#                 tool reports per-chain times; both run 4 chains on 2 cores)
#   ESS/s         median (and min) over parameters of ESS / samp_s
#   ESS/grad      median over parameters of ESS / grads
#   us/grad       1e6 * samp_s / grads (everything the sampler does per gradient in the
#                 sampling phase, including writing draws and generated quantities)
#   wall          bayesrun: the whole command, process start to exit (from the shell);
#                 Stan: the sampling() call from R on a compiled model (its compile time is
#                 reported apart)
#   ttfd          time to first draw: bayesrun MODEL --chains 1 --warmup 0 --draws 1, wall,
#                 median of 5; Stan: sampling(chains = 1, warmup = 0, iter = 1), median of
#                 3, compile excluded

suppressPackageStartupMessages({
  library(rstan)
  library(jsonlite)
  library(yaml)
  library(posterior)
})
rstan_options(auto_write = FALSE)

args <- commandArgs(trailingOnly = TRUE)
mode <- if (length(args)) args[1] else "--run"
only <- args[-1]
out_dir <- Sys.getenv("SAMPLING_OUT", "bench/out/sampling")
shared <- Sys.getenv("SHARED_DIR", "../shared")
seeds <- as.integer(strsplit(trimws(Sys.getenv("SEEDS", "1 2")), " +")[[1]])
dir.create(file.path(out_dir, "stan"), showWarnings = FALSE, recursive = TRUE)
say <- function(...) { cat(sprintf(...), "\n", sep = ""); flush.console() }

# ---- the models ----
models <- list(
  eight_schools = list(yaml = "models/eight_schools.yaml", stan = "bench/stan/eight_schools.stan",
                       data_file = "-", data = function() {
    keep <- function(x) x   # YAML 1.1 reads the key `y` as TRUE
    d <- read_yaml("models/eight_schools.yaml",
                   handlers = list("bool#yes" = keep, "bool#no" = keep))$data
    list(J = d$J, y = unlist(d$y), sigma = unlist(d$sigma))
  }),
  logistic_regression = list(yaml = "models/logistic_regression.yaml",
                             stan = "bench/stan/logistic_regression.stan", data_file = "-",
                             data = function() {
    d <- fromJSON("models/data/logistic_regression.json")
    list(N = d$N, K = d$K, X = as.matrix(d$X), y = as.integer(d$y))
  })
)
ref <- names(fromJSON(file.path(shared, "posteriordb", "reference-open.json"),
                      simplifyVector = FALSE))
for (post in sort(ref)) {
  m <- sub("^[^-]*-", "", post)
  if (file.exists(file.path("tests/posteriordb", paste0(m, ".SKIP")))) next
  df <- file.path(shared, "posteriordb", "data", paste0(post, ".json"))
  models[[m]] <- list(yaml = file.path("tests/posteriordb", paste0(m, ".yaml")),
                      stan = file.path("tests/posteriordb/stan", paste0(m, ".stan")),
                      data_file = df,
                      data = local({ f <- df; function()
                        fromJSON(f, simplifyVector = TRUE, simplifyMatrix = TRUE) }))
}
if (length(only)) models <- models[intersect(names(models), only)]

if (mode == "--list") {
  for (m in names(models)) cat(m, models[[m]]$yaml, models[[m]]$data_file, "\n")
  quit(status = 0)
}

# ---- Stan: compile once, cache with the compile time ----
compiled <- function(m) {
  code <- paste(readLines(models[[m]]$stan, encoding = "UTF-8"), collapse = "\n")
  # the key: rstan version and the bytes of the Stan source (not locale-dependent text)
  key <- paste(as.character(packageVersion("rstan")), unname(tools::md5sum(models[[m]]$stan)))
  rds <- file.path(out_dir, "stan", paste0(m, ".rds"))
  if (file.exists(rds)) {
    c <- suppressWarnings(readRDS(rds))
    if (identical(c$key, key)) return(c)
  }
  t <- system.time(sm <- stan_model(model_code = code, model_name = m))[["elapsed"]]
  say("# %-20s Stan compile %.1f s", m, t)
  c <- list(key = key, model = sm, compile_s = t)
  saveRDS(c, rds)
  c
}

if (mode == "--compile") {
  for (m in names(models)) compiled(m)
  quit(status = 0)
}

# ---- helpers ----
to_dots <- function(x) gsub("\\]", "", gsub("\\[|,", ".", x))

ess_of <- function(arr) {   # arr: iterations x chains x variables
  s <- summarise_draws(as_draws_array(arr), "ess_bulk")
  setNames(as.numeric(s$ess_bulk), s$variable)
}

read_bayesrun <- function(dir, pars) {
  files <- sort(list.files(dir, pattern = "^chain_[0-9]+\\.csv$", full.names = TRUE))
  ch <- lapply(files, function(f) read.csv(f, comment.char = "#", check.names = FALSE))
  n <- min(sapply(ch, nrow))
  miss <- setdiff(pars, names(ch[[1]]))
  if (length(miss)) stop(sprintf("bayesrun output %s lacks %s", dir, paste(miss, collapse = " ")))
  arr <- array(NA_real_, c(n, length(ch), length(pars)),
               dimnames = list(NULL, NULL, pars))
  for (k in seq_along(ch)) arr[, k, ] <- as.matrix(ch[[k]][seq_len(n), pars, drop = FALSE])
  js <- fromJSON(file.path(dir, "summary.json"), simplifyVector = FALSE)
  own <- sapply(pars, function(p) {
    q <- js$quantities[[p]]; if (is.null(q) || is.null(q$ess_bulk)) NA_real_ else q$ess_bulk
  })
  list(arr = arr, grads = sum(sapply(ch, function(d) sum(d$n_leapfrog__[seq_len(n)]))),
       div = sum(sapply(ch, function(d) sum(d$divergent__[seq_len(n)]))),
       warm_s = sum(unlist(js$elapsed$warmup)), samp_s = sum(unlist(js$elapsed$sampling)),
       own_ess = own,
       wall = as.numeric(readLines(file.path(dir, "wall"))[1]))
}

run_stan <- function(sm, data, seed, pars) {
  wall <- system.time(fit <- suppressWarnings(
    sampling(sm, data = data, chains = 4, iter = 2000, warmup = 1000, cores = 2,
             seed = seed, refresh = 0, open_progress = FALSE)))[["elapsed"]]
  el <- get_elapsed_time(fit)
  sp <- get_sampler_params(fit, inc_warmup = FALSE)
  a <- as.array(fit)
  dimnames(a)[[3]] <- to_dots(dimnames(a)[[3]])
  list(arr = a[, , pars, drop = FALSE],
       grads = sum(sapply(sp, function(s) sum(s[, "n_leapfrog__"]))),
       div = sum(sapply(sp, function(s) sum(s[, "divergent__"]))),
       warm_s = sum(el[, "warmup"]), samp_s = sum(el[, "sample"]), wall = wall)
}

stan_ttfd <- function(sm, data) {
  t <- sapply(1:3, function(i) system.time(suppressWarnings(suppressMessages(
    sampling(sm, data = data, chains = 1, iter = 1, warmup = 0, seed = i, refresh = 0))))[["elapsed"]])
  median(t)
}

# ---- Stan's runs of one model (all seeds), saved in $SAMPLING_OUT/stan/MODEL.runs.rds ----
stan_runs <- function(m) {
  c <- compiled(m)
  data <- models[[m]]$data()
  probe <- suppressWarnings(sampling(c$model, data = data, chains = 1, iter = 1, warmup = 0,
                                     algorithm = "Fixed_param", refresh = 0, seed = 1))
  pars <- probe@.MISC$stan_fit_instance$constrained_param_names(FALSE, FALSE)
  r <- list(pars = pars, compile_s = c$compile_s, ttfd = stan_ttfd(c$model, data),
            runs = lapply(setNames(seeds, seeds), function(s) run_stan(c$model, data, s, pars)),
            load = readLines("/proc/loadavg"))
  saveRDS(r, file.path(out_dir, "stan", paste0(m, ".runs.rds")))
  say("# %-20s Stan: sampling() %s s", m,
      paste(sprintf("%.2f", sapply(r$runs, `[[`, "wall")), collapse = ", "))
  r
}

if (mode == "--stan") {
  for (m in names(models)) stan_runs(m)
  quit(status = 0)
}

# ---- the table (--run): Stan's saved runs (made now when absent) and bayesrun's ----
rows <- list()     # one per model and seed
perpar <- list()   # per-parameter ESS/grad ratios
for (m in names(models)) {
  sf <- file.path(out_dir, "stan", paste0(m, ".runs.rds"))
  sr <- if (file.exists(sf)) readRDS(sf) else stan_runs(m)
  pars <- sr$pars
  sttfd <- sr$ttfd
  c <- list(compile_s = sr$compile_s)
  bttfd_f <- file.path(out_dir, "br", m, "ttfd")
  bttfd <- if (file.exists(bttfd_f)) as.numeric(readLines(bttfd_f)[1]) else NA
  for (s in seeds) {
    bdir <- file.path(out_dir, "br", m, paste0("seed", s))
    b <- tryCatch(read_bayesrun(bdir, pars), error = function(e) {
      say("# %-20s seed %d: bayesrun output unusable: %s", m, s, conditionMessage(e)); NULL })
    st <- sr$runs[[as.character(s)]]
    if (is.null(st)) { say("# %-20s seed %d: no Stan run", m, s); next }
    if (is.null(b)) next
    be <- ess_of(b$arr); se <- ess_of(st$arr)
    own_diff <- max(abs(b$own_ess / be[pars] - 1), na.rm = TRUE)
    bepg <- be[pars] / b$grads; sepg <- se[pars] / st$grads
    r <- bepg / sepg
    perpar[[paste(m, s)]] <- data.frame(model = m, seed = s, par = pars, b = bepg, s = sepg,
                                        ratio = r, row.names = NULL)
    rows[[paste(m, s)]] <- data.frame(
      model = m, seed = s, npar = length(pars),
      b_wall = b$wall, s_wall = st$wall, s_compile = c$compile_s,
      b_ttfd = bttfd, s_ttfd = sttfd,
      b_warm = b$warm_s, b_samp = b$samp_s, s_warm = st$warm_s, s_samp = st$samp_s,
      b_grads = b$grads, s_grads = st$grads, b_div = b$div, s_div = st$div,
      b_ess_med = median(be), s_ess_med = median(se), b_ess_min = min(be), s_ess_min = min(se),
      b_epg = median(bepg), s_epg = median(sepg),
      b_us = 1e6 * b$samp_s / b$grads, s_us = 1e6 * st$samp_s / st$grads,
      own_ess_diff = own_diff)
    x <- rows[[paste(m, s)]]
    say("# %-20s seed %d: bayesrun wall %.2f s (samp %.2f s, %d grads, ESS med %.0f); Stan sampling() %.2f s (samp %.2f s, %d grads, ESS med %.0f)",
        m, s, x$b_wall, x$b_samp, x$b_grads, x$b_ess_med, x$s_wall, x$s_samp, x$s_grads,
        x$s_ess_med)
  }
}
d <- do.call(rbind, rows)
pp <- do.call(rbind, perpar)
write.csv(d, file.path(out_dir, "runs.csv"), row.names = FALSE)
write.csv(pp, file.path(out_dir, "per_parameter.csv"), row.names = FALSE)

# ---- the table: per model, means over seeds of the per-seed ratios (geometric) ----
gm <- function(x) exp(mean(log(x)))
f <- function(x, d = 2) formatC(x, format = "f", digits = d)
res <- do.call(rbind, lapply(split(d, factor(d$model, levels = unique(d$model))), function(x) {
  data.frame(model = x$model[1], npar = x$npar[1],
             b_wall = median(x$b_wall), s_wall = median(x$s_wall), s_compile = x$s_compile[1],
             b_ttfd = x$b_ttfd[1], s_ttfd = x$s_ttfd[1],
             r_wall = gm(x$b_wall / x$s_wall),
             r_esss_med = gm((x$b_ess_med / x$b_samp) / (x$s_ess_med / x$s_samp)),
             r_esss_min = gm((x$b_ess_min / x$b_samp) / (x$s_ess_min / x$s_samp)),
             r_esss_run = gm((x$b_ess_min / (x$b_warm + x$b_samp)) /
                               (x$s_ess_min / (x$s_warm + x$s_samp))),
             r_epg = gm(x$b_epg / x$s_epg),
             r_epg_lo = min(x$b_epg / x$s_epg), r_epg_hi = max(x$b_epg / x$s_epg),
             b_us = gm(x$b_us), s_us = gm(x$s_us), r_us = gm(x$b_us / x$s_us),
             r_grads = gm(x$b_grads / x$s_grads),
             b_div = sum(x$b_div), s_div = sum(x$s_div))
}))
write.csv(res, file.path(out_dir, "table.csv"), row.names = FALSE)

cat("\n")
cat(sprintf("%-20s %4s %7s %7s %7s %6s %6s %6s | %7s %7s %7s %7s %-11s | %7s %7s %6s | %5s\n",
            "model", "npar", "br_wall", "st_wall", "st_comp", "br_ttf", "st_ttf", "r_wall",
            "r_esss", "r_essmn", "r_essrn", "r_epg", "(seeds)", "br_us", "st_us", "r_us",
            "div"))
for (i in seq_len(nrow(res))) {
  x <- res[i, ]
  cat(sprintf("%-20s %4d %7s %7s %7s %6s %6s %6s | %7s %7s %7s %7s %-11s | %7s %7s %6s | %s\n",
              x$model, x$npar, f(x$b_wall), f(x$s_wall), f(x$s_compile, 1),
              f(1e3 * x$b_ttfd, 0), f(1e3 * x$s_ttfd, 0), f(x$r_wall),
              f(x$r_esss_med), f(x$r_esss_min), f(x$r_esss_run), f(x$r_epg),
              sprintf("%s-%s", f(x$r_epg_lo), f(x$r_epg_hi)),
              f(x$b_us, 3), f(x$s_us, 3), f(x$r_us), sprintf("%d/%d", x$b_div, x$s_div)))
}
cat(sprintf("%-20s %4s %7s %7s %7s %6s %6s %6s | %7s %7s %7s %7s %-11s | %7s %7s %6s |\n",
            "MEDIAN", "", "", "", "", f(1e3 * median(res$b_ttfd), 0),
            f(1e3 * median(res$s_ttfd), 0), f(median(res$r_wall)),
            f(median(res$r_esss_med)), f(median(res$r_esss_min)), f(median(res$r_esss_run)),
            f(median(res$r_epg)), "", "", "", f(median(res$r_us))))

# noise of ESS/grad: the same tool, two seeds (log of the ratio seed a / seed b)
noise <- NA
if (length(seeds) >= 2) {
  lr <- unlist(lapply(split(d, d$model), function(x)
    c(log(x$b_epg[1] / x$b_epg[2]), log(x$s_epg[1] / x$s_epg[2]))))
  noise <- sqrt(mean(lr^2, na.rm = TRUE) / 2)  # sd of one run's log median ESS/grad
}
cat("\n")
cat("# ratios are bayesrun / Stan, geometric mean over seeds", paste(seeds, collapse = ","), "\n")
cat("# br_wall: bayesrun command, process start to exit (s); st_wall: rstan sampling() call,\n")
cat("#   compile excluded (s); st_comp: Stan compile (s, when this cache was built)\n")
cat("# br_ttf/st_ttf: time to first draw (ms; 1 chain, 0 warmup, 1 draw; Stan: compiled model)\n")
cat("# r_esss: median-over-parameters ESS_bulk per sampling second (seconds summed over chains)\n")
cat("# r_essmn: the same with the minimum ESS_bulk; r_essrn: minimum ESS_bulk per second of\n")
cat("#   warmup + sampling (summed over chains)\n")
cat("# r_epg: median-over-parameters ESS_bulk per gradient (n_leapfrog__ of kept draws);\n")
cat("#   (seeds): the range of the per-seed ratios\n")
cat("# br_us/st_us: sampling seconds / gradients (us); div: divergences (bayesrun/Stan, all seeds)\n")
if (!is.na(noise))
  cat(sprintf("# seed-to-seed noise of one run's median ESS/grad (both tools pooled): sd(log) = %.3f,\n#   so the two-seed ratio r_epg has sd(log) about %.3f: |log r_epg| > %.2f is beyond noise (2.5 sd)\n",
              noise, noise, 2.5 * noise))
cat(sprintf("# bayesrun's own summary.json ESS_bulk vs posterior::summarise_draws on its CSVs: max rel. diff %.2e\n",
            max(d$own_ess_diff, na.rm = TRUE)))
# per-parameter outliers: ESS/grad ratio (mean over seeds, geometric) far from 1
pa <- aggregate(ratio ~ model + par, pp, function(r) exp(mean(log(r))))
pa <- pa[order(abs(log(pa$ratio)), decreasing = TRUE), ]
cat("# parameters with the most extreme ESS/grad ratio (geometric mean over seeds):\n")
for (i in seq_len(min(8, nrow(pa))))
  cat(sprintf("#   %-20s %-12s %.2f\n", pa$model[i], pa$par[i], pa$ratio[i]))
