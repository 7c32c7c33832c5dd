/* sbc.c — simulation-based calibration (Talts, Betancourt, Simpson, Vehtari & Gelman 2018,
 * "Validating Bayesian inference algorithms with simulation-based calibration", algorithm 1)
 * of the NUTS sampler on eight schools (non-centred) and a logistic regression. A
 * standalone program (`make check-stat`), not a Check suite: it must not be part of the
 * quick `make check`, and it sees the library only through bayes.h and nuts.h.
 *
 * Per model and replication r = 1..R (R = 1000, --reps): a generator model (tests/sbc_models/ *_gen.yaml,
 * no parameters, everything under `generated:`) draws theta* from the prior and y* from
 * the likelihood given theta*, via bayes_ws_outputs with an RNG seeded for r; the fitted
 * model (tests/sbc_models/ *_sbc.yaml, the same prior and likelihood, y declared by type) gets
 * y* through a temporary JSON data file and is fitted with one NUTS chain (Stan's
 * defaults, 1000 warmup, 990 sampling iterations), keeping every 10th draw: L = 99 draws,
 * thinned so that they are close to independent (SBC's ranks are uniform for independent
 * posterior draws; autocorrelated draws give U-shaped ranks, Talts et al. section 5.1).
 * The rank of each scalar parameter's theta* among its L draws, #{draws < theta*}, is
 * uniform on 0..L if the sampler is correct.
 *
 * Test and false-failure rate: per scalar parameter (eight schools: mu, tau, eta[1..8];
 * logistic: alpha, beta[1..5]: 16 tests), Pearson's chi-square of the R ranks over B = 20
 * equal bins (5 rank values each, expected count R/B = 50), 19 degrees of freedom. A test
 * fails if p < 0.8 * 1e-3 / 16 = 5e-5 (Bonferroni), so a correct sampler fails this
 * program with probability at most 1e-3 (FALSE_FAILURE_RATE). The factor 0.8
 * (CHISQ_MARGIN) covers the chi-square approximation of the multinomial statistic, a few
 * percent anti-conservative this far in the tail: `sbc --null 10000000` (exactly uniform
 * ranks, no sampler) rejects 6.55e-5 at nominal 6.25e-5 and 5.19e-5 at nominal 5e-5, so
 * the family-wise rate is <= 16 * 5.19e-5 = 8.3e-4. It also rests on the thinned draws
 * being close to independent; the replications are, so the tests are only correlated
 * within a replication, which Bonferroni allows. Everything is seeded from one base seed
 * (--seed), so a run is deterministic whatever the thread count.
 *
 * --broken fits models whose prior differs from the generator's (mu ~ normal(0, 2.5)
 * instead of normal(0, 5); beta ~ normal(0, 0.5) instead of normal(0, 1)): the negative
 * control, which must fail.
 *
 * Exit status: 0 all tests pass, 1 a test fails (or a fit failed), 2 usage or setup error.
 * Model files are looked up in $top_srcdir/tests/sbc_models, $srcdir/tests/sbc_models, then tests/sbc_models. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "bayes.h"
#include "nuts.h"

#define FALSE_FAILURE_RATE 1e-3 /* family-wise, over every test of both models */
#define CHISQ_MARGIN 0.8        /* the chi-square tail is a few % anti-conservative here */
#define DEFAULT_REPS 1000
#define NBINS 20
#define THIN 10
#define NKEPT 99                /* L: ranks take L + 1 = 100 values, 5 per bin */
#define WARMUP 1000
#define BASE_SEED 20261125u
#define LR_N 100                /* logistic regression design: N rows, K predictors */
#define LR_K 5
#define MAX_TESTED 16
#define PROGRESS_EVERY 25

typedef struct {
  const char *name;             /* shown in the table */
  const char *gen_file, *fit_file, *broken_file;
  bool logistic;                /* writes N, K, X with y */
  /* filled in by setup */
  bayes_model *gen;
  char fit_path[4096];
  size_t ntested;               /* the fitted model's constrained parameter scalars */
  char tested[MAX_TESTED][32];
  size_t gen_idx[MAX_TESTED];   /* where each tested scalar is among the generator's outputs */
  size_t fit_idx[MAX_TESTED];
  size_t gen_y0, ny;            /* y.1 .. y.ny among the generator's outputs */
  int *ranks;                   /* [rep][tested] */
  atomic_long done, divergent, failed;
} sbc_model;

static double lr_X[LR_N * LR_K];
static const char *lr_gen_data;
static int nreps = DEFAULT_REPS;
static uint64_t base_seed = BASE_SEED;
static const char *model_dir;
static bool broken;
static atomic_long next_task;
static pthread_mutex_t progress_lock = PTHREAD_MUTEX_INITIALIZER;
static sbc_model models[] = {
    {.name = "eight_schools", .gen_file = "eight_schools_gen.yaml",
     .fit_file = "eight_schools_sbc.yaml", .broken_file = "eight_schools_sbc_broken.yaml"},
    {.name = "logistic", .gen_file = "logistic_gen.yaml", .fit_file = "logistic_sbc.yaml",
     .broken_file = "logistic_sbc_broken.yaml", .logistic = true},
};
#define NMODELS (sizeof models / sizeof models[0])

/* splitmix64 (Steele, Lea & Flood 2014): independent-looking seeds from (base, model, r,
 * purpose), so each replication is reproducible on its own. */
static uint64_t mix(uint64_t x)
{
  x += 0x9e3779b97f4a7c15u;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}
static uint64_t derive_seed(size_t model, int rep, int purpose)
{
  return mix(mix(mix(base_seed ^ (uint64_t)model) ^ (uint64_t)rep) ^ (uint64_t)purpose);
}

static bool find_out(const bayes_model *m, const char *name, size_t *idx)
{
  for (size_t i = 0; i < bayes_model_nout(m); i++)
    if (strcmp(bayes_model_out_name(m, i), name) == 0) return *idx = i, true;
  return false;
}

static bayes_model *load(const char *path, const char *data_file)
{
  bayes_load_opts o = {.data_file = data_file};
  bayes_model *m = NULL;
  char *msg = NULL;
  if (bayes_model_load(path, &o, &m, &msg) != 0)
    fprintf(stderr, "sbc: cannot load %s%s%s\n%s", path, data_file ? " with data " : "",
            data_file ? data_file : "", msg ? msg : "");
  bayes_string_free(msg);
  return m;
}

/* A temporary .json file; returns its open stream and fills path. */
static FILE *temp_json(char *path, size_t n)
{
  const char *dir = getenv("TMPDIR");
  snprintf(path, n, "%s/sbc-XXXXXX.json", dir && *dir ? dir : "/tmp");
  int fd = mkstemps(path, 5);
  if (fd < 0) return NULL;
  FILE *f = fdopen(fd, "w");
  if (!f) close(fd), unlink(path);
  return f;
}

static void write_design(FILE *f)
{
  fprintf(f, "\"N\": %d, \"K\": %d, \"X\": [", LR_N, LR_K);
  for (int i = 0; i < LR_N; i++) {
    fputs(i ? ", [" : "[", f);
    for (int k = 0; k < LR_K; k++) fprintf(f, "%s%.17g", k ? ", " : "", lr_X[i * LR_K + k]);
    fputc(']', f);
  }
  fputc(']', f);
}

static int setup(void)
{
  /* the design: X[i, k] ~ normal(0, 1), drawn once from a fixed seed */
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  if (!r) return -1;
  gsl_rng_set(r, 12345);
  for (int i = 0; i < LR_N * LR_K; i++) lr_X[i] = gsl_ran_gaussian(r, 1);
  gsl_rng_free(r);
  static char design_path[4096];
  FILE *f = temp_json(design_path, sizeof design_path);
  if (!f) return perror("sbc: temporary file"), -1;
  fputc('{', f);
  write_design(f);
  fputs("}\n", f);
  if (fclose(f) != 0) return perror("sbc: temporary file"), -1;
  lr_gen_data = design_path;

  for (size_t k = 0; k < NMODELS; k++) {
    sbc_model *sm = &models[k];
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", model_dir, sm->gen_file);
    sm->gen = load(path, sm->logistic ? lr_gen_data : NULL);
    if (!sm->gen) return -1;
    snprintf(sm->fit_path, sizeof sm->fit_path, "%s/%s", model_dir,
             broken ? sm->broken_file : sm->fit_file);
    /* the tested scalars are the fitted model's constrained parameters, which come first
     * among its outputs; a fit with the first replication's data tells their names */
    FILE *df = NULL;
    char dpath[4096];
    if (!(df = temp_json(dpath, sizeof dpath))) return perror("sbc: temporary file"), -1;
    fputc('{', df);
    if (sm->logistic) write_design(df), fputs(", ", df);
    fputs("\"y\": [", df);
    size_t ny = sm->logistic ? LR_N : 8;
    for (size_t i = 0; i < ny; i++) fprintf(df, "%s0", i ? ", " : "");
    fputs("]}\n", df);
    fclose(df);
    bayes_model *fit = load(sm->fit_path, dpath);
    unlink(dpath);
    if (!fit) return -1;
    size_t np = 0;
    for (size_t i = 0; i < bayes_model_nparams(fit); i++) np += bayes_model_param(fit, i)->size;
    if (np > MAX_TESTED) {
      fprintf(stderr, "sbc: %s has %zu parameter scalars, more than %d\n", sm->fit_path, np,
              MAX_TESTED);
      bayes_model_free(fit);
      return -1;
    }
    sm->ntested = np;
    for (size_t j = 0; j < np; j++) {
      snprintf(sm->tested[j], sizeof sm->tested[j], "%s", bayes_model_out_name(fit, j));
      sm->fit_idx[j] = j;
      if (!find_out(sm->gen, sm->tested[j], &sm->gen_idx[j])) {
        fprintf(stderr, "sbc: the generator %s draws no '%s'\n", sm->gen_file, sm->tested[j]);
        bayes_model_free(fit);
        return -1;
      }
    }
    bayes_model_free(fit);
    size_t last;
    char yname[32];
    snprintf(yname, sizeof yname, "y.%zu", ny);
    if (!find_out(sm->gen, "y.1", &sm->gen_y0) || !find_out(sm->gen, yname, &last) ||
        last != sm->gen_y0 + ny - 1) {
      fprintf(stderr, "sbc: the generator %s must draw y[1..%zu]\n", sm->gen_file, ny);
      return -1;
    }
    sm->ny = ny;
    sm->ranks = calloc((size_t)nreps * np, sizeof *sm->ranks);
    if (!sm->ranks) return -1;
  }
  return 0;
}

/* One replication: draw (theta*, y*), fit, rank. Returns 0 or -1 (message printed). */
static int replicate(size_t k, int rep)
{
  sbc_model *sm = &models[k];
  int rc = -1;
  bayes_ws *gw = NULL, *fw = NULL;
  bayes_model *fit = NULL;
  bayes_sampler *s = NULL;
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  double *gout = calloc(bayes_model_nout(sm->gen) + 1, sizeof *gout), *fout = NULL;
  char dpath[4096] = "";
  long below[MAX_TESTED] = {0};
  if (!rng || !gout || !(gw = bayes_ws_alloc(sm->gen))) goto oom;
  gsl_rng_set(rng, (unsigned long)derive_seed(k, rep, 0));
  double none = 0; /* the generator has no parameters: dim 0 */
  if (bayes_ws_outputs(gw, &none, rng, gout) != 0) {
    fprintf(stderr, "sbc: %s rep %d: generator failed: %s\n", sm->name, rep, bayes_ws_error(gw));
    goto done;
  }
  FILE *f = temp_json(dpath, sizeof dpath);
  if (!f) {
    perror("sbc: temporary file");
    dpath[0] = 0;
    goto done;
  }
  fputc('{', f);
  if (sm->logistic) write_design(f), fputs(", ", f);
  fputs("\"y\": [", f);
  for (size_t i = 0; i < sm->ny; i++)
    fprintf(f, sm->logistic ? "%s%.0f" : "%s%.17g", i ? ", " : "", gout[sm->gen_y0 + i]);
  fputs("]}\n", f);
  if (fclose(f) != 0) {
    perror("sbc: temporary file");
    goto done;
  }
  if (!(fit = load(sm->fit_path, dpath))) goto done;
  if (!(fw = bayes_ws_alloc(fit)) || !(fout = calloc(bayes_model_nout(fit) + 1, sizeof *fout)))
    goto oom;
  bayes_sampler_cfg cfg;
  bayes_sampler_defaults(&cfg);
  cfg.warmup = WARMUP;
  cfg.draws = (long)NKEPT * THIN;
  cfg.seed = derive_seed(k, rep, 1);
  cfg.chain = 1;
  if (!(s = bayes_sampler_alloc(fit, &cfg))) goto oom;
  char err[512];
  if (bayes_sampler_init(s, NULL, err, sizeof err) != 0) {
    fprintf(stderr, "sbc: %s rep %d: init failed: %s\n", sm->name, rep, err);
    goto done;
  }
  bayes_draw d;
  int more;
  long ndiv = 0;
  do {
    if ((more = bayes_sampler_iterate(s, &d)) < 0) {
      fprintf(stderr, "sbc: %s rep %d: sampler failed: %s\n", sm->name, rep,
              bayes_sampler_error(s));
      goto done;
    }
    if (d.warmup) continue;
    ndiv += d.divergent;
    if ((d.iteration - cfg.warmup) % THIN != THIN - 1) continue;
    if (bayes_ws_outputs(fw, d.theta, bayes_sampler_rng(s), fout) != 0) {
      fprintf(stderr, "sbc: %s rep %d: outputs failed: %s\n", sm->name, rep, bayes_ws_error(fw));
      goto done;
    }
    for (size_t j = 0; j < sm->ntested; j++) below[j] += fout[sm->fit_idx[j]] < gout[sm->gen_idx[j]];
  } while (more);
  for (size_t j = 0; j < sm->ntested; j++) sm->ranks[(size_t)rep * sm->ntested + j] = (int)below[j];
  atomic_fetch_add(&sm->divergent, ndiv);
  rc = 0;
  goto done;
oom:
  fprintf(stderr, "sbc: out of memory\n");
done:
  if (dpath[0]) unlink(dpath);
  bayes_sampler_free(s);
  bayes_ws_free(fw);
  bayes_ws_free(gw);
  bayes_model_free(fit);
  gsl_rng_free(rng);
  free(gout);
  free(fout);
  return rc;
}

static void *worker(void *arg)
{
  (void)arg;
  long ntask = (long)NMODELS * nreps;
  for (long t; (t = atomic_fetch_add(&next_task, 1)) < ntask;) {
    size_t k = (size_t)(t % (long)NMODELS);
    int rep = (int)(t / (long)NMODELS);
    sbc_model *sm = &models[k];
    if (replicate(k, rep) != 0) atomic_fetch_add(&sm->failed, 1);
    long n = atomic_fetch_add(&sm->done, 1) + 1;
    if (n % PROGRESS_EVERY == 0 || n == nreps) {
      pthread_mutex_lock(&progress_lock);
      fprintf(stderr, "sbc: %-13s %4ld/%d replications\n", sm->name, n, nreps);
      pthread_mutex_unlock(&progress_lock);
    }
  }
  return NULL;
}

/* Pearson's chi-square of ranks 0..NKEPT over NBINS equal bins; counts[] filled. */
static double chisq(const int *ranks, size_t stride, int n, int *counts)
{
  memset(counts, 0, NBINS * sizeof *counts);
  for (int r = 0; r < n; r++) counts[ranks[(size_t)r * stride] * NBINS / (NKEPT + 1)]++;
  double e = (double)n / NBINS, x = 0;
  for (int b = 0; b < NBINS; b++) x += (counts[b] - e) * (counts[b] - e) / e;
  return x;
}

/* --null N: the decision rule's false-failure rate with exactly uniform ranks (the
 * chi-square approximation's error, without any sampler), per test and for the family. */
static int null_check(long nsim)
{
  size_t ntests = 0;
  for (size_t k = 0; k < NMODELS; k++) ntests += models[k].ntested;
  double alpha = CHISQ_MARGIN * FALSE_FAILURE_RATE / (double)ntests;
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, (unsigned long)base_seed);
  int *ranks = malloc((size_t)nreps * sizeof *ranks), counts[NBINS];
  if (!r || !ranks) return 2;
  long rej = 0, rej_ref = 0;
  double crit = gsl_cdf_chisq_Qinv(alpha, NBINS - 1);
  double crit_ref = gsl_cdf_chisq_Qinv(0.01, NBINS - 1);
  for (long i = 0; i < nsim; i++) {
    for (int j = 0; j < nreps; j++) ranks[j] = (int)gsl_rng_uniform_int(r, NKEPT + 1);
    double x = chisq(ranks, 1, nreps, counts);
    rej += x > crit;
    rej_ref += x > crit_ref;
  }
  printf("null check: %ld simulated tests of %d uniform ranks\n", nsim, nreps);
  printf("  nominal 0.01: rejected %.3g\n", (double)rej_ref / nsim);
  printf("  nominal %.3g (per-test threshold): rejected %.3g (%ld times); family of %zu "
         "tests: <= %.3g\n", alpha, (double)rej / nsim, rej, ntests,
         (double)rej / nsim * ntests);
  gsl_rng_free(r);
  free(ranks);
  return 0;
}

static const char *find_model_dir(void)
{
  static char buf[4096];
  const char *envs[] = {"top_srcdir", "srcdir"};
  for (size_t i = 0; i < 2; i++) {
    const char *e = getenv(envs[i]);
    if (!e || !*e) continue;
    snprintf(buf, sizeof buf, "%s/tests/sbc_models", e);
    if (access(buf, R_OK) == 0) return buf;
  }
  return access("tests/sbc_models", R_OK) == 0 ? "tests/sbc_models" : NULL;
}

static void usage(void)
{
  fprintf(stderr, "usage: sbc [--broken] [--reps R] [--threads T] [--seed S] [--null N]\n"
                  "  --broken   fit deliberately wrong priors (negative control: must fail)\n"
                  "  --null N   only check the test's false-failure rate on N simulated "
                  "uniform rank sets\n");
}

int main(int argc, char **argv)
{
  int nthreads = 2;
  long nnull = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    char *end;
    if (strcmp(a, "--broken") == 0) {
      broken = true;
      continue;
    }
    if (i + 1 >= argc) return usage(), 2;
    const char *v = argv[++i];
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end) return usage(), 2;
    if (strcmp(a, "--reps") == 0 && x >= 20 && x <= 100000) nreps = (int)x;
    else if (strcmp(a, "--threads") == 0 && x >= 1 && x <= 256) nthreads = (int)x;
    else if (strcmp(a, "--seed") == 0) base_seed = x;
    else if (strcmp(a, "--null") == 0 && x >= 1) nnull = (long)x;
    else return usage(), 2;
  }
  gsl_set_error_handler_off();
  bayes_blas_threads(1);
  if (!(model_dir = find_model_dir())) {
    fprintf(stderr, "sbc: cannot find tests/sbc_models (run from the source tree or set top_srcdir)\n");
    return 2;
  }
  int status = 2;
  if (setup() != 0) goto out;
  if (nnull) {
    status = null_check(nnull);
    goto out;
  }

  size_t ntests = 0;
  for (size_t k = 0; k < NMODELS; k++) ntests += models[k].ntested;
  double alpha = CHISQ_MARGIN * FALSE_FAILURE_RATE / (double)ntests;
  fprintf(stderr, "sbc: %d replications per model, %d threads, seed %llu%s\n", nreps, nthreads,
          (unsigned long long)base_seed, broken ? ", NEGATIVE CONTROL (--broken)" : "");
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pthread_t th[256];
  int started = 0;
  for (; started < nthreads; started++)
    if (pthread_create(&th[started], NULL, worker, NULL) != 0) break;
  if (started == 0) worker(NULL);
  for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);

  printf("SBC (Talts et al. 2018): %d replications per model, L = %d draws per fit "
         "(1 chain, %d warmup, every %dth of %d draws), base seed %llu%s\n",
         nreps, NKEPT, WARMUP, THIN, NKEPT * THIN, (unsigned long long)base_seed,
         broken ? "\nNEGATIVE CONTROL: fitted priors differ from the generator's; this run must FAIL" : "");
  printf("Test: chi-square of ranks over %d bins (%d df) per parameter; fail if p < %.3g = %.1f * %.0e / "
         "%zu tests (Bonferroni): false-failure rate <= %.0e for a correct sampler\n\n",
         NBINS, NBINS - 1, alpha, CHISQ_MARGIN, FALSE_FAILURE_RATE, ntests, FALSE_FAILURE_RATE);
  printf("%-14s %-9s %8s %10s  %-40s %s\n", "model", "param", "chi2", "p", "bin counts", "");
  bool fail = false;
  int npass = 0, nfail = 0;
  for (size_t k = 0; k < NMODELS; k++) {
    sbc_model *sm = &models[k];
    long nf = atomic_load(&sm->failed);
    for (size_t j = 0; j < sm->ntested; j++) {
      int counts[NBINS];
      double x = nf ? NAN : chisq(sm->ranks + j, sm->ntested, nreps, counts);
      double p = nf ? NAN : gsl_cdf_chisq_Q(x, NBINS - 1);
      bool ok = p >= alpha;
      fail |= !ok;
      if (ok)
        npass++;
      else
        nfail++;
      char hist[128] = "", *h = hist;
      for (int b = 0; !nf && b < NBINS; b++)
        h += snprintf(h, sizeof hist - (size_t)(h - hist), "%s%d", b ? " " : "", counts[b]);
      printf("%-14s %-9s %8.2f %10.3g  %-40s %s\n", sm->name, sm->tested[j], x, p, hist,
             ok ? "ok" : "FAIL");
    }
    printf("%-14s %ld failed fits; %ld divergent transitions in %ld kept-phase iterations\n",
           sm->name, nf, atomic_load(&sm->divergent), (long)nreps * NKEPT * THIN);
  }
  printf("\n%s (%.0f s)\n", fail ? "SBC FAILED" : "SBC passed", secs);
  printf("%d passed, %d failed\n", npass, nfail);
  status = fail ? 1 : 0;
out:
  for (size_t k = 0; k < NMODELS; k++) {
    bayes_model_free(models[k].gen);
    free(models[k].ranks);
  }
  if (lr_gen_data) unlink(lr_gen_data);
  return status;
}
