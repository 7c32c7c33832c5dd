/* test_dist_discrete.c — unit tests of the discrete univariate distributions: values
 * against GSL's pmfs (independent code), log CDF / CCDF against summed pmfs, gradients
 * against finite differences of the tape ops, and draws against the exact CDF (DKW). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_gamma.h>

#include "dist.h"
#include "ops.h"
#include "testutil.h"

extern const bayes_dist bayes_dist_bernoulli, bayes_dist_bernoulli_logit, bayes_dist_binomial,
    bayes_dist_binomial_logit, bayes_dist_beta_binomial, bayes_dist_poisson,
    bayes_dist_poisson_log, bayes_dist_neg_binomial, bayes_dist_neg_binomial_2,
    bayes_dist_neg_binomial_2_log, bayes_dist_geometric;

/* ------------------------------------------------------------------ helpers */

static double (*kernel(const bayes_dist *d, bayes_dist_fn fn))(const bayes_dargs *)
{
  return fn == BAYES_DF_LCDF ? d->lcdf : fn == BAYES_DF_LCCDF ? d->lccdf : d->lpdf;
}

/* One element: x[0] the variate, x[1..nparams] the parameters. */
static double eval1(const bayes_dist *d, bayes_dist_fn fn, double y, const double *th)
{
  bayes_dargs a;
  memset(&a, 0, sizeof a);
  a.n = 1;
  a.scale = 1;
  a.a[0].x = &y;
  for (int k = 0; k < d->nparams; k++) a.a[k + 1].x = &th[k];
  return kernel(d, fn)(&a);
}

static double inv_logit(double x) { return 1 / (1 + exp(-x)); }

/* |lp - log(ref)| <= 1e-10 max(1, |lp|): 1e-10 relative on the probability itself */
static void check_close(const char *what, double lp, double ref_p, double y)
{
  double ref = log(ref_p);
  ck_assert_msg(fabs(lp - ref) <= 1e-10 * fmax(1, fabs(ref)),
                "%s at y = %g: got %.15g, reference %.15g", what, y, lp, ref);
}

/* ------------------------------------------------------------------ values vs GSL */

typedef struct {
  const bayes_dist *d;
  double th[3];
  int ymax;                                   /* check y = 0..ymax */
  double (*ref)(unsigned y, const double *th); /* independent pmf */
} pmf_case;

static double r_bern(unsigned y, const double *t) { return gsl_ran_bernoulli_pdf(y, t[0]); }
static double r_bern_logit(unsigned y, const double *t)
{
  return gsl_ran_bernoulli_pdf(y, inv_logit(t[0]));
}
static double r_binom(unsigned y, const double *t)
{
  return gsl_ran_binomial_pdf(y, t[1], (unsigned)t[0]);
}
static double r_binom_logit(unsigned y, const double *t)
{
  return gsl_ran_binomial_pdf(y, inv_logit(t[1]), (unsigned)t[0]);
}
/* hand-typed: C(N, y) B(y + a, N - y + b) / B(a, b) */
static double r_betabin(unsigned y, const double *t)
{
  if (y > t[0]) return 0;
  return gsl_sf_choose((unsigned)t[0], y) * gsl_sf_beta(y + t[1], t[0] - y + t[2]) /
         gsl_sf_beta(t[1], t[2]);
}
static double r_pois(unsigned y, const double *t) { return gsl_ran_poisson_pdf(y, t[0]); }
static double r_pois_log(unsigned y, const double *t)
{
  return gsl_ran_poisson_pdf(y, exp(t[0]));
}
static double r_nb(unsigned y, const double *t)
{
  return gsl_ran_negative_binomial_pdf(y, t[1] / (1 + t[1]), t[0]);
}
static double r_nb_pascal(unsigned y, const double *t)
{
  return gsl_ran_pascal_pdf(y, t[1] / (1 + t[1]), (unsigned)t[0]);
}
static double r_nb2(unsigned y, const double *t)
{
  return gsl_ran_negative_binomial_pdf(y, t[1] / (t[0] + t[1]), t[1]);
}
static double r_nb2_log(unsigned y, const double *t)
{
  double mu = exp(t[0]);
  return gsl_ran_negative_binomial_pdf(y, t[1] / (mu + t[1]), t[1]);
}
/* GSL's geometric counts trials up to and including the first success (k >= 1) */
static double r_geom(unsigned y, const double *t) { return gsl_ran_geometric_pdf(y + 1, t[0]); }

static const pmf_case cases[] = {
    {&bayes_dist_bernoulli, {0.3}, 1, r_bern},
    {&bayes_dist_bernoulli, {0.999}, 1, r_bern},
    {&bayes_dist_bernoulli_logit, {-1.7}, 1, r_bern_logit},
    {&bayes_dist_bernoulli_logit, {4.2}, 1, r_bern_logit},
    {&bayes_dist_binomial, {12, 0.35}, 12, r_binom},
    {&bayes_dist_binomial, {40, 0.91}, 40, r_binom},
    {&bayes_dist_binomial_logit, {12, 0.8}, 12, r_binom_logit},
    {&bayes_dist_binomial_logit, {25, -2.5}, 25, r_binom_logit},
    {&bayes_dist_beta_binomial, {10, 2.5, 0.7}, 10, r_betabin},
    {&bayes_dist_beta_binomial, {30, 0.4, 5.0}, 30, r_betabin},
    {&bayes_dist_poisson, {3.7}, 30, r_pois},
    {&bayes_dist_poisson, {0.02}, 8, r_pois},
    {&bayes_dist_poisson, {140.0}, 250, r_pois},
    {&bayes_dist_poisson_log, {1.3}, 30, r_pois_log},
    {&bayes_dist_poisson_log, {-3.0}, 8, r_pois_log},
    {&bayes_dist_neg_binomial, {2.7, 0.6}, 40, r_nb},
    {&bayes_dist_neg_binomial, {4, 1.5}, 40, r_nb_pascal},
    {&bayes_dist_neg_binomial_2, {5.5, 1.7}, 60, r_nb2},
    {&bayes_dist_neg_binomial_2, {2.0, 300.0}, 20, r_nb2},
    {&bayes_dist_neg_binomial_2_log, {1.2, 0.8}, 60, r_nb2_log},
    {&bayes_dist_neg_binomial_2_log, {-0.5, 40.0}, 20, r_nb2_log},
    {&bayes_dist_geometric, {0.25}, 60, r_geom},
    {&bayes_dist_geometric, {0.9}, 15, r_geom},
};
#define NCASES (sizeof cases / sizeof cases[0])

START_TEST(test_pmf_values)
{
  const pmf_case *c = &cases[_i];
  for (int y = 0; y <= c->ymax; y++) {
    double lp = eval1(c->d, BAYES_DF_LPDF, y, c->th);
    check_close(c->d->name, lp, c->ref((unsigned)y, c->th), y);
  }
}
END_TEST

/* The pmf sums to one over the support (catches a wrong normalising constant even where
 * a reference might share a mistake). */
START_TEST(test_pmf_sums_to_one)
{
  const pmf_case *c = &cases[_i];
  int top = c->d == &bayes_dist_binomial || c->d == &bayes_dist_binomial_logit ||
                    c->d == &bayes_dist_beta_binomial || c->d->support == BAYES_SUPPORT_INT_BINARY
                ? c->ymax
                : 4000;
  double s = 0;
  for (int y = 0; y <= top; y++) s += exp(eval1(c->d, BAYES_DF_LPDF, y, c->th));
  ck_assert_msg(fabs(s - 1) < 1e-12, "%s: pmf sums to %.15g", c->d->name, s);
}
END_TEST

START_TEST(test_outside_support)
{
  struct {
    const bayes_dist *d;
    double th[3];
    double y;
  } bad[] = {
      {&bayes_dist_bernoulli, {0.3}, 2},        {&bayes_dist_bernoulli, {0.3}, -1},
      {&bayes_dist_bernoulli, {0.3}, 0.5},      {&bayes_dist_bernoulli_logit, {0.1}, 3},
      {&bayes_dist_binomial, {5, 0.3}, 6},      {&bayes_dist_binomial, {5, 0.3}, -1},
      {&bayes_dist_binomial, {5, 0.3}, 2.5},    {&bayes_dist_binomial_logit, {5, 0.3}, 7},
      {&bayes_dist_beta_binomial, {5, 1, 2}, 6}, {&bayes_dist_poisson, {2}, -1},
      {&bayes_dist_poisson, {2}, 1.5},          {&bayes_dist_poisson, {0}, 1},
      {&bayes_dist_poisson_log, {0}, -2},       {&bayes_dist_neg_binomial, {2, 1}, 0.1},
      {&bayes_dist_neg_binomial_2, {2, 1}, -3}, {&bayes_dist_neg_binomial_2_log, {2, 1}, 1.01},
      {&bayes_dist_geometric, {0.2}, -1},       {&bayes_dist_geometric, {1}, 2},
      {&bayes_dist_bernoulli, {0}, 1},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    double lp = eval1(bad[i].d, BAYES_DF_LPDF, bad[i].y, bad[i].th);
    ck_assert_msg(lp == -INFINITY, "%s at y = %g: %g, expected -inf", bad[i].d->name, bad[i].y,
                  lp);
  }
  /* boundary values inside the support */
  double th0[] = {0}, th1[] = {1};
  ck_assert(eval1(&bayes_dist_poisson, BAYES_DF_LPDF, 0, th0) == 0);
  ck_assert(eval1(&bayes_dist_bernoulli, BAYES_DF_LPDF, 0, th0) == 0);
  ck_assert(eval1(&bayes_dist_geometric, BAYES_DF_LPDF, 0, th1) == 0);
  /* extreme logits stay finite and exact */
  double big[] = {800};
  ck_assert(fabs(eval1(&bayes_dist_bernoulli_logit, BAYES_DF_LPDF, 0, big) + 800) < 1e-12);
  ck_assert(eval1(&bayes_dist_bernoulli_logit, BAYES_DF_LPDF, 1, big) == 0);
}
END_TEST

/* Invalid parameters: the kernel returns NaN and the op reports check()'s message. */
START_TEST(test_invalid_params)
{
  struct {
    const bayes_dist *d;
    double th[3];
    const char *msg;
  } bad[] = {
      {&bayes_dist_bernoulli, {1.2}, "probability theta must be in [0, 1]"},
      {&bayes_dist_bernoulli_logit, {NAN}, "log-odds alpha must not be NaN"},
      {&bayes_dist_binomial, {-1, 0.5}, "number of trials N must be a non-negative integer"},
      {&bayes_dist_binomial, {3.5, 0.5}, "number of trials N must be a non-negative integer"},
      {&bayes_dist_binomial, {5, -0.1}, "probability theta must be in [0, 1]"},
      {&bayes_dist_binomial_logit, {2.2, 0.5}, "number of trials N must be a non-negative integer"},
      {&bayes_dist_beta_binomial, {5, 0, 1}, "prior successes alpha must be positive"},
      {&bayes_dist_beta_binomial, {5, 1, -1}, "prior failures beta must be positive"},
      {&bayes_dist_poisson, {-0.5}, "rate lambda must be non-negative"},
      {&bayes_dist_poisson_log, {INFINITY}, "log rate alpha must be finite"},
      {&bayes_dist_neg_binomial, {0, 1}, "shape alpha must be positive"},
      {&bayes_dist_neg_binomial, {1, 0}, "inverse scale beta must be positive"},
      {&bayes_dist_neg_binomial_2, {-1, 1}, "location mu must be positive"},
      {&bayes_dist_neg_binomial_2, {1, 0}, "precision phi must be positive"},
      {&bayes_dist_neg_binomial_2_log, {1, -2}, "precision phi must be positive"},
      {&bayes_dist_geometric, {0}, "success probability theta must be in (0, 1]"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const bayes_dist *d = bad[i].d;
    ck_assert_msg(isnan(eval1(d, BAYES_DF_LPDF, 1, bad[i].th)), "%s: not NaN", d->name);
    if (d->lcdf) ck_assert(isnan(eval1(d, BAYES_DF_LCDF, 1, bad[i].th)));
    if (d->lccdf) ck_assert(isnan(eval1(d, BAYES_DF_LCCDF, 1, bad[i].th)));
    const char *m = d->check(bad[i].th);
    ck_assert_msg(m && strstr(m, bad[i].msg), "%s: check says '%s'", d->name, m ? m : "(null)");
    /* through the op: the failure message names the distribution and the reason */
    bayes_shape xs[4];
    const double *xv[4];
    double y = 1;
    xs[0] = bayes_shape_scalar();
    xv[0] = &y;
    for (int k = 0; k < d->nparams; k++) {
      xs[k + 1] = bayes_shape_scalar();
      xv[k + 1] = &bad[i].th[k];
    }
    bayes_shape ys = bayes_shape_scalar();
    bt_opcheck c = {.op = &bayes_op_dist_sum, .nin = d->nparams + 1, .nout = 1, .xs = xs,
                    .xv = xv, .ys = &ys, .aux = d, .iarg = {BAYES_DF_LPDF}};
    double out;
    double *outs[1] = {&out};
    char msg[256] = "";
    ck_assert_int_eq(bt_op_eval(&c, outs, msg, sizeof msg), -1);
    ck_assert_msg(strstr(msg, bad[i].msg) && strstr(msg, d->name), "op message: %s", msg);
  }
}
END_TEST

/* ------------------------------------------------------------------ CDFs vs summed pmfs */

typedef struct {
  const bayes_dist *d;
  double th[3];
  int ymax;
  double (*ref)(unsigned y, const double *th);
} cdf_case;

static const cdf_case cdf_cases[] = {
    {&bayes_dist_bernoulli, {0.3}, 1, r_bern},
    {&bayes_dist_binomial, {12, 0.35}, 12, r_binom},
    {&bayes_dist_binomial, {30, 0.04}, 30, r_binom},
    {&bayes_dist_poisson, {3.7}, 25, r_pois},
    {&bayes_dist_poisson, {0.3}, 6, r_pois},
    {&bayes_dist_neg_binomial_2, {5.5, 1.7}, 40, r_nb2},
    {&bayes_dist_neg_binomial_2, {0.7, 12.0}, 10, r_nb2},
    {&bayes_dist_geometric, {0.25}, 40, r_geom},
    {&bayes_dist_geometric, {0.9}, 8, r_geom},
};
#define NCDF (sizeof cdf_cases / sizeof cdf_cases[0])

START_TEST(test_cdf_values)
{
  const cdf_case *c = &cdf_cases[_i];
  int hi = c->d == &bayes_dist_binomial || c->d == &bayes_dist_bernoulli ? c->ymax : 2000;
  for (int y = -1; y <= c->ymax; y++) {
    /* both tails summed directly: no 1 - F cancellation in the reference */
    double F = 0, S = 0;
    for (int k = 0; k <= y; k++) F += c->ref((unsigned)k, c->th);
    for (int k = y + 1; k <= hi; k++) S += c->ref((unsigned)k, c->th);
    double lF = eval1(c->d, BAYES_DF_LCDF, y, c->th);
    double lS = eval1(c->d, BAYES_DF_LCCDF, y, c->th);
    if (F == 0) ck_assert_msg(lF == -INFINITY, "%s lcdf(%d) = %g", c->d->name, y, lF);
    else check_close("lcdf", lF, F, y);
    if (S == 0) ck_assert_msg(lS == -INFINITY, "%s lccdf(%d) = %g", c->d->name, y, lS);
    else check_close("lccdf", lS, S, y);
  }
}
END_TEST

/* ------------------------------------------------------------------ gradients */

/* Finite-difference check of one op on one distribution; diff[k] false for integer inputs.
 * Returns the worst relative error (see bt_op_grad_check). */
static double grad_check(const bayes_dist *d, const bayes_op *op, bayes_dist_fn fn, size_t n,
                         const size_t *len, const double *const *xv, const bool *diff,
                         char *rep, size_t replen)
{
  int nin = d->nparams + 1;
  bayes_shape xs[BAYES_DIST_MAXARG];
  const bayes_shape *sp[BAYES_DIST_MAXARG];
  for (int k = 0; k < nin; k++) {
    xs[k] = len[k] == 1 ? bayes_shape_scalar() : bayes_shape_vec(len[k]);
    sp[k] = &xs[k];
  }
  bayes_shape ys = op == &bayes_op_dist_pw ? bayes_shape_vec(n) : bayes_shape_scalar();
  bt_opcheck c = {.op = op, .nin = nin, .nout = 1, .xs = xs, .xv = xv, .diff = diff,
                  .ys = &ys, .aux = d, .iarg = {fn}, .work = bayes_dist_work(d, op, nin, sp)};
  return bt_op_grad_check(&c, rep, replen);
}

typedef struct {
  const bayes_dist *d;
  size_t len[4];       /* per input: 1 (broadcast scalar) or 5 */
  double x[4][5];
  bool diff[4];
} grad_case;

static const grad_case gcases[] = {
    {&bayes_dist_bernoulli, {5, 5}, {{0, 1, 1, 0, 1}, {0.2, 0.7, 0.5, 0.9, 0.35}}, {0, 1}},
    {&bayes_dist_bernoulli, {5, 1}, {{0, 1, 1, 0, 1}, {0.4}}, {0, 1}},
    {&bayes_dist_bernoulli_logit, {5, 5}, {{0, 1, 1, 0, 1}, {-2, 0.3, 1.5, 3, -0.2}}, {0, 1}},
    {&bayes_dist_bernoulli_logit, {5, 1}, {{0, 1, 1, 0, 1}, {0.6}}, {0, 1}},
    {&bayes_dist_binomial, {5, 1, 5}, {{0, 3, 7, 9, 5}, {10}, {0.2, 0.4, 0.6, 0.8, 0.5}}, {0, 0, 1}},
    {&bayes_dist_binomial, {5, 5, 1}, {{0, 3, 7, 9, 5}, {10, 4, 8, 12, 5}, {0.45}}, {0, 0, 1}},
    {&bayes_dist_binomial_logit, {5, 1, 5}, {{0, 3, 7, 9, 5}, {10}, {-1, 0, 0.5, 2, 0.1}}, {0, 0, 1}},
    {&bayes_dist_beta_binomial, {5, 1, 5, 1}, {{0, 3, 7, 9, 5}, {10}, {0.5, 1, 2, 4, 8}, {1.5}}, {0, 0, 1, 1}},
    {&bayes_dist_poisson, {5, 5}, {{0, 3, 7, 1, 12}, {0.5, 2.5, 6, 1.2, 10}}, {0, 1}},
    {&bayes_dist_poisson, {5, 1}, {{0, 3, 7, 1, 12}, {4.5}}, {0, 1}},
    {&bayes_dist_poisson_log, {5, 5}, {{0, 3, 7, 1, 12}, {-1, 1, 2, 0, 2.4}}, {0, 1}},
    {&bayes_dist_neg_binomial, {5, 5, 1}, {{0, 3, 7, 1, 12}, {0.5, 2, 6, 1.2, 10}, {0.7}}, {0, 1, 1}},
    {&bayes_dist_neg_binomial_2, {5, 5, 1}, {{0, 3, 7, 1, 12}, {0.5, 2, 6, 1.2, 10}, {2.3}}, {0, 1, 1}},
    {&bayes_dist_neg_binomial_2, {5, 1, 5}, {{0, 3, 7, 1, 12}, {4}, {0.3, 1, 5, 20, 200}}, {0, 1, 1}},
    {&bayes_dist_neg_binomial_2_log, {5, 5, 1}, {{0, 3, 7, 1, 12}, {-1, 0.5, 2, 0, 2.4}, {2.3}}, {0, 1, 1}},
    {&bayes_dist_neg_binomial_2_log, {5, 1, 5}, {{0, 3, 7, 1, 12}, {1.1}, {0.3, 1, 5, 20, 200}}, {0, 1, 1}},
    {&bayes_dist_geometric, {5, 5}, {{0, 3, 7, 1, 12}, {0.1, 0.3, 0.5, 0.7, 0.05}}, {0, 1}},
    {&bayes_dist_geometric, {5, 1}, {{0, 3, 7, 1, 12}, {0.2}}, {0, 1}},
};
#define NGRAD (sizeof gcases / sizeof gcases[0])

static void run_grad(const grad_case *g, const bayes_op *op, bayes_dist_fn fn)
{
  const double *xv[4];
  for (int k = 0; k <= g->d->nparams; k++) xv[k] = g->x[k];
  char rep[256];
  double err = grad_check(g->d, op, fn, 5, g->len, xv, g->diff, rep, sizeof rep);
  ck_assert_msg(err < 1e-6, "%s (%s, fn %d): error %g: %s", g->d->name, op->name, (int)fn, err,
                rep);
}

START_TEST(test_grad_lpmf) { run_grad(&gcases[_i], &bayes_op_dist_sum, BAYES_DF_LPDF); }
END_TEST

/* the pointwise op drives the kernel with per-element weights w (its bwd path) */
START_TEST(test_grad_pointwise) { run_grad(&gcases[_i], &bayes_op_dist_pw, BAYES_DF_LPDF); }
END_TEST

START_TEST(test_grad_cdfs)
{
  grad_case g = gcases[_i];
  if (!g.d->lcdf) return;
  /* keep y below the top of a bounded support, where the CCDF would be 0 (log -inf) */
  for (int i = 0; i < 5; i++) {
    if (g.d == &bayes_dist_bernoulli) g.x[0][i] = 0;
    if (g.d == &bayes_dist_binomial) {
      double N = g.x[1][g.len[1] == 1 ? 0 : i];
      g.x[0][i] = fmin(g.x[0][i], N - 1);
    }
  }
  run_grad(&g, &bayes_op_dist_sum, BAYES_DF_LCDF);
  run_grad(&g, &bayes_op_dist_sum, BAYES_DF_LCCDF);
}
END_TEST

/* The pointwise op stores each element's value and their sum is the fused op's value. */
START_TEST(test_pointwise_values)
{
  const grad_case *g = &gcases[4]; /* binomial with vector theta */
  bayes_shape xs[3] = {bayes_shape_vec(5), bayes_shape_scalar(), bayes_shape_vec(5)};
  const double *xv[3] = {g->x[0], g->x[1], g->x[2]};
  bayes_shape y1 = bayes_shape_vec(5), y0 = bayes_shape_scalar();
  bt_opcheck pw = {.op = &bayes_op_dist_pw, .nin = 3, .nout = 1, .xs = xs, .xv = xv,
                   .ys = &y1, .aux = &bayes_dist_binomial, .iarg = {BAYES_DF_LPDF}};
  bt_opcheck sum = pw;
  sum.op = &bayes_op_dist_sum;
  sum.ys = &y0;
  const bayes_shape *sp[3] = {&xs[0], &xs[1], &xs[2]};
  sum.work = bayes_dist_work(&bayes_dist_binomial, &bayes_op_dist_sum, 3, sp);
  double v[5], s, *o1[1] = {v}, *o0[1] = {&s};
  ck_assert_int_eq(bt_op_eval(&pw, o1, NULL, 0), 0);
  ck_assert_int_eq(bt_op_eval(&sum, o0, NULL, 0), 0);
  double tot = 0;
  for (int i = 0; i < 5; i++) {
    double th[2] = {10, g->x[2][i]};
    ck_assert(fabs(v[i] - log(r_binom((unsigned)g->x[0][i], th))) < 1e-10);
    tot += v[i];
  }
  ck_assert(fabs(tot - s) < 1e-12);
}
END_TEST

/* ------------------------------------------------------------------ random draws */

/* 20000 draws; the empirical CDF at every integer k in the support must be within the DKW
 * bound eps(n, alpha = 1e-6) of the exact CDF (the DKW inequality P(sup|F_n - F| > eps) <=
 * 2 exp(-2 n eps^2) holds for discontinuous F too: Massart 1990). The sample mean must be
 * within 6 exact standard errors (normal approximation: false-failure rate 2e-9). So each
 * case fails falsely with probability below 1.1e-6 (for the fixed seed it is deterministic). */
typedef struct {
  const bayes_dist *d;
  double th[3];
  int kmax;   /* exact CDF evaluated on 0..kmax (covers all but < 1e-12 of the mass) */
} rng_case;

static const rng_case rcases[] = {
    {&bayes_dist_bernoulli, {0.3}, 1},
    {&bayes_dist_bernoulli_logit, {-0.8}, 1},
    {&bayes_dist_binomial, {20, 0.35}, 20},
    {&bayes_dist_binomial_logit, {15, 1.2}, 15},
    {&bayes_dist_beta_binomial, {12, 0.8, 2.5}, 12},
    {&bayes_dist_poisson, {4.2}, 60},
    {&bayes_dist_poisson_log, {2.0}, 60},
    {&bayes_dist_neg_binomial, {2.5, 0.4}, 400},
    {&bayes_dist_neg_binomial_2, {6.0, 1.5}, 400},
    {&bayes_dist_neg_binomial_2_log, {1.0, 3.0}, 200},
    {&bayes_dist_geometric, {0.3}, 200},
};
#define NRNG (sizeof rcases / sizeof rcases[0])

START_TEST(test_rng)
{
  const rng_case *c = &rcases[_i];
  enum { N = 20000 };
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 20240 + (unsigned long)_i);
  int K = c->kmax;
  long *count = calloc((size_t)K + 2, sizeof *count);
  double sum = 0;
  for (int i = 0; i < N; i++) {
    double y = c->d->rng(r, c->th);
    ck_assert_msg(y >= 0 && y == floor(y), "%s draw %g", c->d->name, y);
    sum += y;
    count[y > K ? K + 1 : (int)y]++;
  }
  ck_assert_int_eq(count[K + 1], 0);
  double F = 0, Fn = 0, D = 0, mean = 0, m2 = 0;
  for (int k = 0; k <= K; k++) {
    double p = exp(eval1(c->d, BAYES_DF_LPDF, k, c->th));
    F += p;
    Fn += (double)count[k] / N;
    D = fmax(D, fabs(F - Fn));
    mean += k * p;
    m2 += (double)k * k * p;
  }
  ck_assert_msg(fabs(F - 1) < 1e-9, "%s: kmax too small", c->d->name);
  double eps = bt_dkw_eps(N, 1e-6);
  ck_assert_msg(D <= eps, "%s: sup |F_n - F| = %g > %g", c->d->name, D, eps);
  double se = sqrt((m2 - mean * mean) / N);
  ck_assert_msg(fabs(sum / N - mean) <= 6 * se, "%s: mean %g, exact %g (se %g)", c->d->name,
                sum / N, mean, se);
  free(count);
  gsl_rng_free(r);
}
END_TEST

/* a draw from the wrong parameterisation must fail the same test (the test has power) */
START_TEST(test_rng_power)
{
  enum { N = 20000 };
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 7);
  /* neg_binomial_2(mu = 6, phi = 1.5) vs draws from neg_binomial(alpha = 6, beta = 1.5),
   * a plausible mix-up of the two parameterisations */
  double th2[2] = {6.0, 1.5}, D = 0, F = 0, Fn = 0;
  long count[401] = {0};
  for (int i = 0; i < N; i++) {
    double y = bayes_dist_neg_binomial.rng(r, th2);
    if (y <= 400) count[(int)y]++;
  }
  for (int k = 0; k <= 400; k++) {
    F += exp(eval1(&bayes_dist_neg_binomial_2, BAYES_DF_LPDF, k, th2));
    Fn += (double)count[k] / N;
    D = fmax(D, fabs(F - Fn));
  }
  ck_assert_msg(D > bt_dkw_eps(N, 1e-6), "DKW test has no power: D = %g", D);
  gsl_rng_free(r);
}
END_TEST

/* ------------------------------------------------------------------ registry fields */

START_TEST(test_tables)
{
  const bayes_dist *all[] = {&bayes_dist_bernoulli, &bayes_dist_bernoulli_logit,
                             &bayes_dist_binomial, &bayes_dist_binomial_logit,
                             &bayes_dist_beta_binomial, &bayes_dist_poisson,
                             &bayes_dist_poisson_log, &bayes_dist_neg_binomial,
                             &bayes_dist_neg_binomial_2, &bayes_dist_neg_binomial_2_log,
                             &bayes_dist_geometric};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    const bayes_dist *d = all[i];
    ck_assert(d->discrete && d->kind == BAYES_DIST_UNIVARIATE);
    ck_assert(d->lpdf && d->rng && d->check && d->param_names);
    ck_assert(d->nparams >= 1 && d->nparams_min == d->nparams);
  }
  ck_assert(bayes_dist_binomial.param_int[1] && !bayes_dist_binomial.param_int[2]);
  ck_assert(bayes_dist_beta_binomial.param_int[1]);
  ck_assert(bayes_dist_binomial_logit.param_int[1]);
  ck_assert(!bayes_dist_poisson.param_int[1]);
  ck_assert_str_eq(bayes_dist_neg_binomial_2.param_names[1], "phi");
}
END_TEST

/* bernoulli_logit's long-vector path (four elements at a time with libmvec's exp and
 * log1p on AVX2 machines, the scalar loop elsewhere and for the tail) must agree with
 * the one-element evaluation, value and partials, to 1e-13 relative, including
 * extreme log-odds. n = 37: nine vector blocks and a tail of one. */
START_TEST(test_bernoulli_logit_long)
{
  enum { N = 37 };
  double y[N], a[N], g[N], g1[N], want = 0;
  unsigned seed = 7;
  for (int i = 0; i < N; i++) {
    seed = seed * 1103515245u + 12345u;
    y[i] = (seed >> 16) & 1;
    a[i] = -40 + 80 * (double)((seed >> 4) & 0xfff) / 4096.0;
    if (i == 5) a[i] = 0;
    if (i == 6) a[i] = -1e-9;
    g[i] = 0.25; /* partials are added, not stored */
    g1[i] = 0.25;
  }
  for (int i = 0; i < N; i++) {
    bayes_dargs d1;
    memset(&d1, 0, sizeof d1);
    d1.n = 1;
    d1.scale = 1.5;
    d1.a[0].x = &y[i];
    d1.a[1].x = &a[i];
    d1.a[1].g = &g1[i];
    want += bayes_dist_bernoulli_logit.lpdf(&d1);
  }
  bayes_dargs d;
  memset(&d, 0, sizeof d);
  d.n = N;
  d.scale = 1.5;
  d.a[0].x = y;
  d.a[0].inc = 1;
  d.a[1].x = a;
  d.a[1].inc = 1;
  d.a[1].g = g;
  double got = bayes_dist_bernoulli_logit.lpdf(&d);
  ck_assert_msg(fabs(got - want) <= 1e-13 * fabs(want), "sum %.17g vs %.17g", got, want);
  for (int i = 0; i < N; i++)
    ck_assert_msg(fabs(g[i] - g1[i]) <= 1e-13 * fmax(1, fabs(g1[i])),
                  "partial %d: %.17g vs %.17g (a = %g, y = %g)", i, g[i], g1[i], a[i], y[i]);
  /* invalid input anywhere in a long vector */
  a[20] = NAN;
  ck_assert(isnan(bayes_dist_bernoulli_logit.lpdf(&d)));
  a[20] = 1;
  y[30] = 2;
  ck_assert(bayes_dist_bernoulli_logit.lpdf(&d) == -INFINITY);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("dist_discrete");
  TCase *t = tcase_create("values");
  tcase_add_loop_test(t, test_pmf_values, 0, NCASES);
  tcase_add_loop_test(t, test_pmf_sums_to_one, 0, NCASES);
  tcase_add_test(t, test_outside_support);
  tcase_add_test(t, test_bernoulli_logit_long);
  tcase_add_test(t, test_invalid_params);
  tcase_add_loop_test(t, test_cdf_values, 0, NCDF);
  tcase_add_test(t, test_tables);
  suite_add_tcase(s, t);
  t = tcase_create("gradients");
  tcase_add_loop_test(t, test_grad_lpmf, 0, NGRAD);
  tcase_add_loop_test(t, test_grad_pointwise, 0, NGRAD);
  tcase_add_loop_test(t, test_grad_cdfs, 0, NGRAD);
  tcase_add_test(t, test_pointwise_values);
  suite_add_tcase(s, t);
  t = tcase_create("rng");
  tcase_set_timeout(t, 60);
  tcase_add_loop_test(t, test_rng, 0, NRNG);
  tcase_add_test(t, test_rng_power);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return bt_run_suite(suite()); }
