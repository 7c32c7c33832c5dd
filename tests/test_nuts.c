/* test_nuts.c — the NUTS / static HMC sampler (nuts.c) through its public interface, on
 * posteriors whose moments are known in closed form, plus Stan's warmup schedule,
 * determinism across threads, the initialisation failure message and the no-allocation
 * rule. References come from closed forms, never from bayesrun itself.
 *
 * Statistical tests and their false-failure rates. Moment checks use the Monte Carlo
 * standard error of the estimate, MCSE = sd / sqrt(ESS), with ESS estimated from the draws
 * by Stan's multi-chain estimator (Geyer's initial monotone sequence, Vehtari et al. 2021,
 * eq. 10-11), and fail beyond 5 MCSE: P(|Z| > 5) = 5.7e-7 per check under the central
 * limit theorem, so below 1e-5 for the whole file (~60 such checks). Those checks also
 * require ESS >= 300 of 4000 draws: NUTS reaches ESS ~ 1000-4000 on these targets, so
 * failing that means the sampler does not mix. The seeds are fixed, so each run is
 * deterministic; the rates say how likely a correct sampler is to fail for a given seed.
 * Checks without a derived rate (adapted step size range, divergence counts, adapted
 * metric within 20%) state their rate as measured over many seeds, next to the check. */
#include <check.h>

#include "testutil.h"
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bayes.h"
#include "nuts.h"
#include "util.h"

#define NCHAIN 4
#define Z_FAIL 5.0      /* fail beyond 5 MCSE */
#define MIN_ESS 300.0

/* ------------------------------------------------------------------ helpers */

/* The kept draws of NCHAIN chains: out[(c * ndraw + i) * nout + k] holds output k
 * (bayes_ws_outputs: constrained parameters, transformed, generated) of draw i of chain
 * c. Also per-chain adapted step size and metric, divergences and leapfrogs. */
typedef struct {
  size_t nout, dim;
  long ndraw;
  double *out;
  double eps[NCHAIN];
  double *inv_metric;      /* NCHAIN blocks of dim (diag) or dim*dim (dense) */
  long div_sampling, div_warmup, leapfrogs;
  int nlf_bad;             /* static HMC: draws whose n_leapfrog != T / nominal eps */
} run;

static void run_free(run *r)
{
  free(r->out);
  free(r->inv_metric);
}

static void run_chains(const bayes_model *m, const bayes_sampler_cfg *base, run *r)
{
  memset(r, 0, sizeof *r);
  r->nout = bayes_model_nout(m);
  r->dim = bayes_model_dim(m);
  r->ndraw = base->draws;
  size_t mm = base->metric == BAYES_METRIC_DENSE ? r->dim * r->dim : r->dim;
  r->out = malloc(sizeof(double) * r->nout * (size_t)r->ndraw * NCHAIN);
  r->inv_metric = malloc(sizeof(double) * mm * NCHAIN);
  bayes_ws *w = bayes_ws_alloc(m);
  ck_assert(r->out && r->inv_metric && w);
  for (int c = 0; c < NCHAIN; c++) {
    bayes_sampler_cfg cfg = *base;
    cfg.chain = c + 1;
    bayes_sampler *s = bayes_sampler_alloc(m, &cfg);
    ck_assert_ptr_nonnull(s);
    char err[512];
    int rc = bayes_sampler_init(s, NULL, err, sizeof err);
    ck_assert_msg(rc == 0, "init failed: %s", err);
    bayes_draw d;
    long i = 0;
    int st;
    do {
      st = bayes_sampler_iterate(s, &d);
      ck_assert_msg(st >= 0, "iterate failed: %s", bayes_sampler_error(s));
      if (d.warmup) {
        r->div_warmup += d.divergent;
        continue;
      }
      r->div_sampling += d.divergent;
      r->leapfrogs += d.n_leapfrog;
      if (cfg.algo == BAYES_ALGO_HMC) {
        int L = (int)(cfg.hmc_int_time / bayes_sampler_stepsize(s));
        if (d.n_leapfrog != (L < 1 ? 1 : L)) r->nlf_bad++;
      }
      ck_assert_int_eq(bayes_ws_outputs(w, d.theta, bayes_sampler_rng(s),
                                        r->out + ((size_t)c * r->ndraw + i) * r->nout), 0);
      i++;
    } while (st == 1);
    ck_assert_int_eq(i, r->ndraw);
    r->eps[c] = bayes_sampler_stepsize(s);
    memcpy(r->inv_metric + c * mm, bayes_sampler_inv_metric(s), mm * sizeof(double));
    bayes_sampler_free(s);
  }
  bayes_ws_free(w);
}

/* Draws of one derived quantity f(draw) for every chain, in x[c * n + i]. */
typedef double (*draw_fn)(const double *o, const void *ctx);

/* Stan's multi-chain ESS (Vehtari, Gelman, Simpson, Carpenter & Bürkner 2021, "Rank-
 * normalization, folding, and localization", eq. 10-11 without rank normalisation):
 * autocorrelations from the within-chain autocovariances and var+, then Geyer's initial
 * positive and monotone sequence. x holds m chains of n draws each. */
static double ess(const double *x, int m, long n)
{
  double *mean = calloc((size_t)m, sizeof(double)), *acov0 = calloc((size_t)m, sizeof(double));
  double W = 0, B = 0, gm = 0;
  for (int c = 0; c < m; c++) {
    for (long i = 0; i < n; i++) mean[c] += x[c * n + i];
    mean[c] /= (double)n;
    gm += mean[c] / m;
  }
  for (int c = 0; c < m; c++) {
    double v = 0;
    for (long i = 0; i < n; i++) v += (x[c * n + i] - mean[c]) * (x[c * n + i] - mean[c]);
    acov0[c] = v / (double)n;
    W += v / (double)(n - 1) / m;
    B += (mean[c] - gm) * (mean[c] - gm) / (m - 1);
  }
  double varplus = (double)(n - 1) / (double)n * W + B;
  if (!(varplus > 0)) {
    free(mean);
    free(acov0);
    return (double)m * (double)n;
  }
  /* rho_t = 1 - (W - mean_c acov_t) / var+ */
  double *rho = calloc((size_t)n, sizeof(double));
  for (long t = 0; t < n; t++) {
    double a = 0;
    for (int c = 0; c < m; c++) {
      double s = 0;
      for (long i = 0; i + t < n; i++) s += (x[c * n + i] - mean[c]) * (x[c * n + i + t] - mean[c]);
      a += s / (double)n / m;
    }
    rho[t] = 1.0 - (W - a) / varplus;
    if (t >= 3 && t % 2 == 1 && rho[t - 1] + rho[t] < 0) break;
  }
  double tau = 0, prev = INFINITY;
  for (long k = 0; 2 * k + 1 < n; k++) {
    double P = rho[2 * k] + rho[2 * k + 1];
    if (k > 0 && P < 0) break;
    if (P > prev) P = prev; /* monotone */
    tau += 2 * P;
    prev = P;
  }
  tau -= 1;
  double mn = (double)m * (double)n;
  double e = mn / tau;
  double cap = mn * log10(mn);
  free(mean);
  free(acov0);
  free(rho);
  return e < cap ? e : cap;
}

typedef struct {
  size_t k, l;      /* outputs */
  double mk, ml;    /* centring */
  int kind;         /* 0: o[k]; 1: (o[k] - mk)^2; 2: (o[k] - mk)(o[l] - ml) */
} qspec;

static double qfun(const double *o, const qspec *q)
{
  switch (q->kind) {
  case 0: return o[q->k];
  case 1: return (o[q->k] - q->mk) * (o[q->k] - q->mk);
  default: return (o[q->k] - q->mk) * (o[q->l] - q->ml);
  }
}

/* Checks that the mean of the quantity q over all draws is within Z_FAIL MCSE of target,
 * with MCSE = sd / sqrt(ESS) (sd: the true standard deviation of the quantity if known
 * (> 0), else the sample one), and that its ESS is at least MIN_ESS. */
static void check_mean(const run *r, const qspec *q, double target, double sd,
                       const char *what)
{
  long N = r->ndraw * NCHAIN;
  double *x = malloc(sizeof(double) * (size_t)N);
  double mean = 0, m2 = 0;
  for (long j = 0; j < N; j++) {
    x[j] = qfun(r->out + (size_t)j * r->nout, q);
    mean += x[j];
  }
  mean /= (double)N;
  for (long j = 0; j < N; j++) m2 += (x[j] - mean) * (x[j] - mean);
  if (!(sd > 0)) sd = sqrt(m2 / (double)(N - 1));
  double e = ess(x, NCHAIN, r->ndraw);
  free(x);
  double mcse = sd / sqrt(e);
  ck_assert_msg(e >= MIN_ESS, "%s: ESS %.0f < %.0f (the sampler does not mix)", what, e,
                MIN_ESS);
  ck_assert_msg(fabs(mean - target) <= Z_FAIL * mcse,
                "%s: estimate %.5g, expected %.5g, |error| %.3g > %g MCSE (MCSE %.3g, ESS %.0f)",
                what, mean, target, fabs(mean - target), Z_FAIL, mcse, e);
}

/* Mean and variance of output k against closed forms. The MCSE of the variance uses the
 * fourth central moment: sd((x - mu)^2) = sqrt(mu4 - sigma^4); mu4 is given (normal:
 * 3 sigma^4) or, if 0, estimated from the draws. */
static void check_moments(const run *r, size_t k, double mu, double var, double mu4,
                          const char *name)
{
  char what[128];
  qspec q = {.k = k, .kind = 0};
  snprintf(what, sizeof what, "mean of %s", name);
  check_mean(r, &q, mu, sqrt(var), what);
  if (mu4 <= 0) {
    long N = r->ndraw * NCHAIN;
    double s = 0;
    for (long j = 0; j < N; j++) s += pow(r->out[(size_t)j * r->nout + k] - mu, 4);
    mu4 = s / (double)N;
  }
  q.kind = 1;
  q.mk = mu;
  snprintf(what, sizeof what, "variance of %s", name);
  double sdq = mu4 - var * var;
  check_mean(r, &q, var, sdq > 0 ? sqrt(sdq) : 0, what);
}

static void cfg_init(bayes_sampler_cfg *c, uint64_t seed)
{
  bayes_sampler_defaults(c);
  c->seed = seed;
}

/* ------------------------------------------------------------------ posteriors */

/* 1. iid standard normal in 10 dimensions, NUTS with the diagonal metric. */
START_TEST(test_normal_10d)
{
  bayes_model *m = bt_load_text("model: g\nparameters:\n  x: normal(0, 1) [10]\n");
  bayes_sampler_cfg c;
  cfg_init(&c, 20261125);
  run r;
  run_chains(m, &c, &r);
  for (size_t k = 0; k < 10; k++) {
    char name[16];
    snprintf(name, sizeof name, "x[%zu]", k + 1);
    check_moments(&r, k, 0, 1, 3, name);
  }
  /* the adapted metric of every chain estimates the unit variances; each is the shrunk
   * variance of the 500-draw last window (ESS >= 300: relative sd <= 0.08), 50% is > 6 sd */
  for (int ch = 0; ch < NCHAIN; ch++)
    for (size_t k = 0; k < 10; k++) {
      double v = r.inv_metric[ch * 10 + k];
      ck_assert_msg(v > 0.5 && v < 1.5, "chain %d inv_metric[%zu] = %g", ch + 1, k, v);
    }
  ck_assert_int_eq(r.div_sampling, 0);
  run_free(&r);
  bayes_model_free(m);
}
END_TEST

/* 2. Correlated 2-D Gaussian (sds 1 and 10, rho 0.9) with the dense metric. */
START_TEST(test_dense_correlated)
{
  bayes_model *m = bt_load_text("model: mvn\ndata:\n  S: [[1, 9], [9, 100]]\n"
                             "parameters:\n  x: multi_normal([0, 0], S)\n");
  bayes_sampler_cfg c;
  cfg_init(&c, 77);
  c.metric = BAYES_METRIC_DENSE;
  run r;
  run_chains(m, &c, &r);
  const double S[4] = {1, 9, 9, 100};
  check_moments(&r, 0, 0, 1, 3, "x[1]");
  check_moments(&r, 1, 0, 100, 3 * 1e4, "x[2]");
  /* covariance: sd of x1 x2 for a bivariate normal is s1 s2 sqrt(1 + rho^2) */
  qspec q = {.k = 0, .l = 1, .kind = 2};
  check_mean(&r, &q, 9, 10 * sqrt(1 + 0.81), "covariance of x[1], x[2]");
  /* The adapted inverse metric is the (shrunk) covariance of the last 500-draw window, so
   * it should match S. Averaged over the 4 chains, every element within 20%: the worst
   * relative error over 300 seeds was 15%, never above 20%, so the false-failure rate is
   * below 1% (rule of three). */
  for (int e = 0; e < 4; e++) {
    double a = 0;
    for (int ch = 0; ch < NCHAIN; ch++) a += r.inv_metric[ch * 4 + e] / NCHAIN;
    ck_assert_msg(fabs(a - S[e]) <= 0.2 * fabs(S[e]), "inv_metric[%d] = %g, covariance %g", e,
                  a, S[e]);
  }
  for (int ch = 0; ch < NCHAIN; ch++)
    ck_assert_double_eq(r.inv_metric[ch * 4 + 1], r.inv_metric[ch * 4 + 2]);
  run_free(&r);
  bayes_model_free(m);
}
END_TEST

/* 3. Bounded and simplex parameters: the prior alone, whose moments are closed forms. */
START_TEST(test_bounded_simplex)
{
  bayes_model *m = bt_load_text("model: bd\nparameters:\n  h: half_normal(2)\n"
                             "  g: gamma(3, 2)\n  b: beta(2, 5)\n  w: dirichlet([1, 2, 3])\n");
  ck_assert_int_eq(bayes_model_nout(m), 6);
  bayes_sampler_cfg c;
  cfg_init(&c, 4242);
  run r;
  run_chains(m, &c, &r);
  const double pi = M_PI;
  /* half-normal(sigma = 2): mean sigma sqrt(2/pi), variance sigma^2 (1 - 2/pi) */
  check_moments(&r, 0, 2 * sqrt(2 / pi), 4 * (1 - 2 / pi), 0, "h ~ half_normal(2)");
  /* gamma(shape 3, rate 2): mean 3/2, variance 3/4 */
  check_moments(&r, 1, 1.5, 0.75, 0, "g ~ gamma(3, 2)");
  /* beta(2, 5): mean 2/7, variance ab / ((a + b)^2 (a + b + 1)) = 10/392 */
  check_moments(&r, 2, 2.0 / 7, 10.0 / 392, 0, "b ~ beta(2, 5)");
  /* dirichlet(1, 2, 3): mean a_i / a0, variance a_i (a0 - a_i) / (a0^2 (a0 + 1)) */
  const double a[3] = {1, 2, 3};
  for (int i = 0; i < 3; i++) {
    char name[32];
    snprintf(name, sizeof name, "w[%d] ~ dirichlet", i + 1);
    check_moments(&r, 3 + (size_t)i, a[i] / 6, a[i] * (6 - a[i]) / (36.0 * 7), 0, name);
  }
  long N = r.ndraw * NCHAIN;
  for (long j = 0; j < N; j++) {
    const double *o = r.out + (size_t)j * r.nout;
    ck_assert(o[0] > 0 && o[1] > 0 && o[2] > 0 && o[2] < 1);
    ck_assert(fabs(o[3] + o[4] + o[5] - 1) < 1e-12);
  }
  run_free(&r);
  bayes_model_free(m);
}
END_TEST

/* 4. Eight schools. Non-centred: Stan adapts a step size of about 0.43 on average and has a
 * few divergences at most (rstan 2.21, 10 seeds x 4 chains: 0-4 per 4000 draws). Centred:
 * the funnel makes divergences. Measured with this sampler over 300 seeds x 4 chains x 1000
 * draws: non-centred step sizes 0.26-0.65 per chain and at most 10 sampling divergences per
 * 4000 draws; centred at least 18 divergences per 4000 draws. No seed came near the bounds
 * below (step size in (0.2, 1.0), <= 40 divergences; > 0 centred), so each has a
 * false-failure rate below 1% (rule of three over 300 seeds). */
START_TEST(test_eight_schools)
{
  bayes_model *m = bt_load_rel("models/eight_schools.yaml");
  bayes_sampler_cfg c;
  cfg_init(&c, 20261125);
  run r;
  run_chains(m, &c, &r);
  for (int ch = 0; ch < NCHAIN; ch++)
    ck_assert_msg(r.eps[ch] > 0.2 && r.eps[ch] < 1.0, "chain %d step size %g", ch + 1,
                  r.eps[ch]);
  ck_assert_msg(r.div_sampling <= 40, "%ld divergences in 4000 draws", r.div_sampling);
  run_free(&r);
  bayes_model_free(m);

  m = bt_load_rel("models/eight_schools_centered.yaml");
  run_chains(m, &c, &r);
  ck_assert_msg(r.div_sampling > 0, "the centred eight schools should diverge");
  run_free(&r);
  bayes_model_free(m);
}
END_TEST

/* 6. Static HMC on the standard normal. The integration time is 1.5, near a quarter of
 * the period 2 pi: the default 2 pi would bring every coordinate of a unit normal back to
 * its start (a known degeneracy of static HMC, shared with Stan). Step-size jitter 0.2. */
START_TEST(test_static_hmc)
{
  bayes_model *m = bt_load_text("model: g\nparameters:\n  x: normal(0, 1) [4]\n");
  bayes_sampler_cfg c;
  cfg_init(&c, 31337);
  c.algo = BAYES_ALGO_HMC;
  c.hmc_int_time = 1.5;
  c.stepsize_jitter = 0.2;
  run r;
  run_chains(m, &c, &r);
  for (size_t k = 0; k < 4; k++) {
    char name[16];
    snprintf(name, sizeof name, "x[%zu]", k + 1);
    check_moments(&r, k, 0, 1, 3, name);
  }
  ck_assert_int_eq(r.nlf_bad, 0);
  run_free(&r);
  bayes_model_free(m);
}
END_TEST

/* The U-turn criterion across neighbouring subtrees (Stan 2.21+): on a 100-dimensional
 * unit normal with step size 0.9 (adaptation off), the criterion over the whole tree alone
 * misses U-turns and trajectories average 18-24 leapfrogs; with the extra checks, 6.1-6.5
 * (measured over 30 seeds, 300 draws each). The bound 15 sits well between the two. */
START_TEST(test_uturn_across_subtrees)
{
  bayes_model *m = bt_load_text("model: g\nparameters:\n  x: normal(0, 1) [100]\n");
  bayes_sampler_cfg c;
  cfg_init(&c, 3);
  c.adapt = false;
  c.warmup = 0;
  c.draws = 300;
  c.stepsize = 0.9;
  bayes_sampler *s = bayes_sampler_alloc(m, &c);
  char err[256];
  ck_assert_int_eq(bayes_sampler_init(s, NULL, err, sizeof err), 0);
  bayes_draw d;
  long nlf = 0;
  int st;
  do {
    st = bayes_sampler_iterate(s, &d);
    ck_assert_int_ge(st, 0);
    ck_assert_double_eq(d.stepsize, 0.9);
    ck_assert_int_le(d.n_leapfrog, (1 << d.treedepth) - 1 + (1 << d.treedepth));
    nlf += d.n_leapfrog;
  } while (st == 1);
  ck_assert_msg(nlf / 300.0 < 15, "mean %g leapfrogs per iteration", nlf / 300.0);
  bayes_sampler_free(s);
  bayes_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------ warmup schedule */

/* Iterations after which the metric changed, for a given warmup length: Stan's windows
 * (75 / 25, 50, 100, 200, 500 / 50 for 1000: ends at 99, 149, 249, 449, 949; 15% / 75% /
 * 10% below 150; none below 20). */
static int metric_updates(long warmup, long *at, int max)
{
  bayes_model *m = bt_load_text("model: g\nparameters:\n  x: normal(0, 1) [3]\n");
  bayes_sampler_cfg c;
  cfg_init(&c, 5);
  c.warmup = warmup;
  c.draws = 10;
  bayes_sampler *s = bayes_sampler_alloc(m, &c);
  char err[256];
  ck_assert_int_eq(bayes_sampler_init(s, NULL, err, sizeof err), 0);
  double prev[3];
  memcpy(prev, bayes_sampler_inv_metric(s), sizeof prev);
  int k = 0, st;
  bayes_draw d;
  double eps_draws = -1;
  do {
    st = bayes_sampler_iterate(s, &d);
    ck_assert_int_ge(st, 0);
    if (memcmp(prev, bayes_sampler_inv_metric(s), sizeof prev) != 0) {
      ck_assert(d.warmup);
      if (k < max) at[k] = d.iteration;
      k++;
      memcpy(prev, bayes_sampler_inv_metric(s), sizeof prev);
    }
    if (!d.warmup) {
      /* sampling runs at the final dual-averaging step size, unjittered */
      if (eps_draws < 0) eps_draws = d.stepsize;
      ck_assert_double_eq(d.stepsize, eps_draws);
      ck_assert_double_eq(d.stepsize, bayes_sampler_stepsize(s));
    }
  } while (st == 1);
  bayes_sampler_free(s);
  bayes_model_free(m);
  return k;
}

START_TEST(test_windows)
{
  long at[8];
  int k = metric_updates(1000, at, 8);
  const long want[] = {99, 149, 249, 449, 949};
  ck_assert_int_eq(k, 5);
  for (int i = 0; i < 5; i++) ck_assert_int_eq(at[i], want[i]);
  /* 200: 75 + 25 + 50 fits: windows 25 (ends 99) then stretched to 149 */
  k = metric_updates(200, at, 8);
  ck_assert_int_eq(k, 2);
  ck_assert_int_eq(at[0], 99);
  ck_assert_int_eq(at[1], 149);
  /* 100 < 150: init 15, one window of 75 (ends at 89), term 10 */
  k = metric_updates(100, at, 8);
  ck_assert_int_eq(k, 1);
  ck_assert_int_eq(at[0], 89);
  /* below 20 warmup iterations: step size only */
  ck_assert_int_eq(metric_updates(19, at, 8), 0);
}
END_TEST

/* ------------------------------------------------------------------ determinism */

typedef struct {
  const bayes_model *m;
  int chain;
  long n;
  double *rec;   /* per iteration: theta (dim), lp, accept_stat, stepsize, energy */
} job;

static void *run_job(void *arg)
{
  job *j = arg;
  bayes_sampler_cfg c;
  cfg_init(&c, 99);
  c.warmup = 150;
  c.draws = 100;
  c.chain = j->chain;
  size_t dim = bayes_model_dim(j->m);
  bayes_sampler *s = bayes_sampler_alloc(j->m, &c);
  char err[256];
  if (!s || bayes_sampler_init(s, NULL, err, sizeof err) != 0) return NULL;
  bayes_draw d;
  int st;
  long i = 0;
  do {
    st = bayes_sampler_iterate(s, &d);
    if (st < 0) break;
    double *o = j->rec + (size_t)i * (dim + 4);
    memcpy(o, d.theta, dim * sizeof(double));
    o[dim] = d.lp;
    o[dim + 1] = d.accept_stat;
    o[dim + 2] = d.stepsize;
    o[dim + 3] = d.energy;
    i++;
  } while (st == 1);
  j->n = i;
  bayes_sampler_free(s);
  return j;
}

/* 5. Same (seed, chain) gives bitwise identical draws, whether the chains run one after
 * another or all at once in threads; different chains give different draws. */
START_TEST(test_determinism)
{
  bayes_model *m = bt_load_rel("models/eight_schools.yaml");
  size_t dim = bayes_model_dim(m), rec = 250 * (dim + 4);
  job seq[NCHAIN], par[NCHAIN];
  pthread_t th[NCHAIN];
  for (int c = 0; c < NCHAIN; c++) {
    seq[c] = (job){m, c + 1, 0, calloc(rec, sizeof(double))};
    par[c] = (job){m, c + 1, 0, calloc(rec, sizeof(double))};
    ck_assert_ptr_nonnull(run_job(&seq[c]));
  }
  for (int c = 0; c < NCHAIN; c++) ck_assert_int_eq(pthread_create(&th[c], NULL, run_job, &par[c]), 0);
  for (int c = 0; c < NCHAIN; c++) {
    void *res;
    pthread_join(th[c], &res);
    ck_assert_ptr_nonnull(res);
  }
  for (int c = 0; c < NCHAIN; c++) {
    ck_assert_int_eq(seq[c].n, 250);
    ck_assert_int_eq(par[c].n, 250);
    ck_assert_msg(memcmp(seq[c].rec, par[c].rec, rec * sizeof(double)) == 0,
                  "chain %d differs between sequential and threaded runs", c + 1);
    for (int e = 0; e < c; e++) {
      /* different chains: no identical draw at all (continuous posterior) */
      long same = 0;
      for (long i = 0; i < 250; i++)
        same += memcmp(seq[c].rec + i * (dim + 4), seq[e].rec + i * (dim + 4),
                       dim * sizeof(double)) == 0;
      ck_assert_msg(same == 0, "chains %d and %d share %ld draws", e + 1, c + 1, same);
    }
  }
  for (int c = 0; c < NCHAIN; c++) {
    free(seq[c].rec);
    free(par[c].rec);
  }
  bayes_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------ initialisation */

/* 7. A model whose log density is not finite anywhere: one message, naming the term. */
START_TEST(test_init_failure)
{
  bayes_model *m = bt_load_text("model: bad\ndata:\n  y: [1.0, 2.0]\n  s: 0\n"
                             "parameters:\n  mu: normal(0, 1)\nlikelihood:\n"
                             "  y: normal(mu, s)\n");
  bayes_sampler_cfg c;
  cfg_init(&c, 1);
  bayes_sampler *s = bayes_sampler_alloc(m, &c);
  char err[1024];
  ck_assert_int_eq(bayes_sampler_init(s, NULL, err, sizeof err), BAYES_EDATA);
  const char *head = "Initialization failed after 100 attempts: the log density is -inf (or "
                     "NaN) at every try. Last problem: ";
  ck_assert_msg(strncmp(err, head, strlen(head)) == 0, "message: %s", err);
  ck_assert_msg(strstr(err, "normal") && strstr(err, "sigma"), "message: %s", err);
  ck_assert_msg(strstr(err + 1, "Initialization failed") == NULL, "repeated: %s", err);
  ck_assert_ptr_null(strchr(err, '\n'));
  /* 100 tries: 100 evaluations */
  ck_assert_int_eq(bayes_sampler_grad_evals(s), 100);
  /* iterating after a failed init is an error, not a crash */
  bayes_draw d;
  ck_assert_int_eq(bayes_sampler_iterate(s, &d), -1);
  /* a given initial point: one try, its own message */
  double x0 = 0.5;
  ck_assert_int_eq(bayes_sampler_init(s, &x0, err, sizeof err), BAYES_EDATA);
  ck_assert_msg(strstr(err, "given initial values") && strstr(err, "sigma"), "%s", err);
  ck_assert_int_eq(bayes_sampler_grad_evals(s), 1);
  bayes_sampler_free(s);
  bayes_model_free(m);

  /* init radius 0: the single point 0; given values are used as they are */
  m = bt_load_text("model: g\nparameters:\n  x: normal(0, 1) [2]\n");
  c.init_radius = 0;
  c.warmup = 0;
  c.draws = 1;
  s = bayes_sampler_alloc(m, &c);
  ck_assert_int_eq(bayes_sampler_init(s, NULL, err, sizeof err), 0);
  ck_assert_int_eq(bayes_sampler_grad_evals(s), 1);
  bayes_sampler_free(s);
  bayes_model_free(m);
}
END_TEST

/* Random inits are retried past points where the density is not finite: with
 * y ~ exponential(x) and x unconstrained, half of the init box (x < 0) fails, so the number
 * of tries is geometric(1/2). Over 20 chains all initialise (failure rate 20 * 2^-100) and
 * some need more than one try (false-failure rate 2^-20). */
START_TEST(test_init_retry)
{
  bayes_model *m = bt_load_text("model: e\ndata:\n  y: [1.0]\nparameters:\n  x: normal(0, 1)\n"
                             "likelihood:\n  y: exponential(x)\n");
  int retried = 0;
  for (int ch = 1; ch <= 20; ch++) {
    bayes_sampler_cfg c;
    cfg_init(&c, 8);
    c.chain = ch;
    c.adapt = false;
    bayes_sampler *s = bayes_sampler_alloc(m, &c);
    char err[512];
    ck_assert_msg(bayes_sampler_init(s, NULL, err, sizeof err) == 0, "%s", err);
    retried += bayes_sampler_grad_evals(s) > 1;
    bayes_sampler_free(s);
  }
  ck_assert_int_gt(retried, 0);
  bayes_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------ no allocation */

/* 8. Iterating (warmup with window ends and the step-size heuristic, then sampling) never
 * allocates, for each metric and both algorithms. */
START_TEST(test_no_alloc)
{
  bayes_model *m = bt_load_rel("models/eight_schools.yaml");
  for (int v = 0; v < 4; v++) {
    bayes_sampler_cfg c;
    cfg_init(&c, 3);
    c.warmup = 300;
    c.draws = 50;
    c.metric = v == 1 ? BAYES_METRIC_DENSE : v == 2 ? BAYES_METRIC_UNIT : BAYES_METRIC_DIAG;
    c.algo = v == 3 ? BAYES_ALGO_HMC : BAYES_ALGO_NUTS;
    c.stepsize_jitter = v == 3 ? 0.1 : 0;
    bayes_sampler *s = bayes_sampler_alloc(m, &c);
    char err[256];
    ck_assert_int_eq(bayes_sampler_init(s, NULL, err, sizeof err), 0);
    long a0 = bayes_alloc_count();
    bayes_draw d;
    int st;
    do st = bayes_sampler_iterate(s, &d);
    while (st == 1);
    ck_assert_int_eq(st, 0);
    ck_assert_int_eq(bayes_alloc_count() - a0, 0);
    bayes_sampler_free(s);
  }
  bayes_model_free(m);
}
END_TEST

/* Allocation failures in alloc are reported as NULL, never a crash; free(NULL) is fine. */
START_TEST(test_alloc_failure)
{
  bayes_model *m = bt_load_text("model: g\nparameters:\n  x: normal(0, 1) [3]\n");
  bayes_sampler_cfg c;
  cfg_init(&c, 1);
  int nulls = 0;
  for (long k = 1; k <= 40; k++) {
    bayes_fail_alloc_after(k);
    bayes_sampler *s = bayes_sampler_alloc(m, &c);
    bayes_fail_alloc_after(0);
    nulls += s == NULL;
    bayes_sampler_free(s);
  }
  ck_assert_int_gt(nulls, 0);
  bayes_sampler_free(NULL);
  bayes_model_free(m);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("nuts");
  TCase *t = tcase_create("posteriors");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, test_normal_10d);
  tcase_add_test(t, test_dense_correlated);
  tcase_add_test(t, test_bounded_simplex);
  tcase_add_test(t, test_eight_schools);
  tcase_add_test(t, test_static_hmc);
  suite_add_tcase(s, t);
  TCase *u = tcase_create("mechanics");
  tcase_set_timeout(u, 60);
  tcase_add_test(u, test_windows);
  tcase_add_test(u, test_uturn_across_subtrees);
  tcase_add_test(u, test_determinism);
  tcase_add_test(u, test_init_failure);
  tcase_add_test(u, test_init_retry);
  tcase_add_test(u, test_no_alloc);
  tcase_add_test(u, test_alloc_failure);
  suite_add_tcase(s, u);
  return s;
}

int main(void) { return bt_run_suite(suite()); }
