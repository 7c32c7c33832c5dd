/* test_psis.c — Pareto smoothed importance sampling (psis.c) and its use on approximation
 * draws (bayes_approx_psis in approx.c). References for k-hat and the smoothed weights
 * come from R's loo 2.5.1 (psis(r_eff = 1), pareto_k and weights(log = TRUE, normalize =
 * TRUE)) through tests/fixtures/make_psis_reference.R, which writes
 * tests/data/psis_reference.txt; it must never be regenerated from bayesrun's output.
 * Other references are closed forms.
 *
 * Statistical tests and their false-failure rates: resampling frequencies are checked by
 * Pearson's chi-square against the known probabilities at level 1e-6 (critical value from
 * GSL's chi-square quantile; 10^5 draws with expected counts >= 10^4, where the
 * chi-square approximation is accurate). Everything else is deterministic. The seeds are
 * fixed, so each run gives the same result. */
#include <check.h>

#include "testutil.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "approx.h"
#include "psis.h"
#include "util.h"

#define NCASES 19
#define RTOL_K 1e-10    /* a deterministic computation: only rounding differs from loo */
#define ATOL_LW 1e-10   /* on the log scale, i.e. 1e-10 relative on the weights */
#define CHISQ_ALPHA 1e-6

/* ------------------------------------------------------------------ the fixture */

typedef struct {
  char name[64];
  size_t n;
  double k;
  double *lr, *lw;
} ref_case;

typedef struct {
  size_t ncases;
  ref_case c[NCASES];
} reference;

/* next whitespace-separated token of *p ('#' starts a comment to the end of the line);
 * NUL-terminated in place */
static char *next_token(char **p)
{
  char *s = *p;
  for (;;) {
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    if (*s != '#') break;
    while (*s && *s != '\n') s++;
  }
  ck_assert_msg(*s != '\0', "psis_reference.txt ends early");
  char *t = s;
  while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') s++;
  if (*s) *s++ = '\0';
  *p = s;
  return t;
}

static double next_num(char **p)
{
  char *t = next_token(p), *end;
  double v = strtod(t, &end);   /* reads R's Inf and -Inf too */
  ck_assert_msg(*end == '\0', "psis_reference.txt: bad number '%s'", t);
  return v;
}

static void reference_load(reference *r)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/data/psis_reference.txt", bt_srcdir());
  char *text = bt_slurp(path), *p = text;
  ck_assert_str_eq(next_token(&p), "ncases");
  r->ncases = (size_t)next_num(&p);
  ck_assert_uint_eq(r->ncases, NCASES);
  for (size_t c = 0; c < r->ncases; c++) {
    ref_case *rc = &r->c[c];
    ck_assert_str_eq(next_token(&p), "case");
    snprintf(rc->name, sizeof rc->name, "%s", next_token(&p));
    rc->n = (size_t)next_num(&p);
    rc->k = next_num(&p);
    rc->lr = bayes_malloc(rc->n * sizeof *rc->lr);
    rc->lw = bayes_malloc(rc->n * sizeof *rc->lw);
    ck_assert(rc->lr && rc->lw);
    for (size_t i = 0; i < rc->n; i++) {
      rc->lr[i] = next_num(&p);
      rc->lw[i] = next_num(&p);
    }
  }
  free(text);
}

static void reference_free(reference *r)
{
  for (size_t c = 0; c < r->ncases; c++) {
    bayes_free(r->c[c].lr);
    bayes_free(r->c[c].lw);
  }
}

static const ref_case *find_case(const reference *r, const char *name)
{
  for (size_t c = 0; c < r->ncases; c++)
    if (strcmp(r->c[c].name, name) == 0) return &r->c[c];
  ck_abort_msg("no case %s in psis_reference.txt", name);
  return NULL;
}

/* k-hat against loo: +Inf exactly where loo gives Inf, else within RTOL_K relative.
 * Returns the relative error (0 for matching infinities). */
static double check_khat(const char *name, double got, double want)
{
  if (isinf(want)) {
    ck_assert_msg(got == want, "%s: k-hat %.17g, loo gives %g", name, got, want);
    return 0;
  }
  ck_assert_msg(isfinite(got), "%s: k-hat %g, loo gives %.17g", name, got, want);
  double err = fabs(got - want) / fabs(want);
  ck_assert_msg(err <= RTOL_K, "%s: k-hat %.17g, loo %.17g (rel err %.3g)", name, got, want,
                err);
  return err;
}

/* log weights against loo: -inf exactly where loo's are, else within ATOL_LW. Returns
 * the largest error. */
static double check_log_w(const char *name, const double *got, const double *want, size_t n)
{
  double worst = 0;
  for (size_t i = 0; i < n; i++) {
    if (want[i] == -INFINITY) {
      ck_assert_msg(got[i] == -INFINITY, "%s: log w[%zu] = %.17g, loo gives -inf", name, i,
                    got[i]);
      continue;
    }
    double err = fabs(got[i] - want[i]);
    ck_assert_msg(err <= ATOL_LW, "%s: log w[%zu] = %.17g, loo %.17g (err %.3g)", name, i,
                  got[i], want[i], err);
    if (err > worst) worst = err;
  }
  return worst;
}

/* ------------------------------------------------------------------ bayes_psis vs loo */

START_TEST(test_fixture_against_loo)
{
  reference r;
  reference_load(&r);
  double worst_k = 0, worst_w = 0;
  int n_inf = 0, n_light = 0, n_heavy = 0, n_very = 0, n_minf = 0;
  for (size_t c = 0; c < r.ncases; c++) {
    const ref_case *rc = &r.c[c];
    double *lw = bayes_malloc(rc->n * sizeof *lw), k = -42;
    ck_assert_ptr_nonnull(lw);
    ck_assert_int_eq(bayes_psis(rc->lr, rc->n, lw, &k), 0);
    double ek = check_khat(rc->name, k, rc->k);
    double ew = check_log_w(rc->name, lw, rc->lw, rc->n);
    if (ek > worst_k) worst_k = ek;
    if (ew > worst_w) worst_w = ew;
    n_inf += isinf(rc->k);
    n_light += rc->k < 0.5;
    n_heavy += rc->k >= 0.7 && rc->k <= 1;
    n_very += rc->k > 1 && isfinite(rc->k);
    for (size_t i = 0; i < rc->n; i++)
      if (rc->lr[i] == -INFINITY) {
        n_minf++;
        break;
      }
    bayes_free(lw);
  }
  /* the fixture covers every regime the header promises */
  ck_assert_int_ge(n_inf, 5);
  ck_assert_int_ge(n_light, 3);
  ck_assert_int_ge(n_heavy, 2);
  ck_assert_int_ge(n_very, 2);
  ck_assert_int_ge(n_minf, 2);
  printf("psis vs loo 2.5.1: %zu cases, max rel err k-hat %.3g, max abs err log w %.3g\n",
         r.ncases, worst_k, worst_w);
  reference_free(&r);
}
END_TEST

/* log_w may alias log_ratio */
START_TEST(test_in_place)
{
  reference r;
  reference_load(&r);
  const char *names[] = {"heavy_pareto_n4000", "minf_n1000", "ties_tail_n100", "tiny_n10"};
  for (size_t t = 0; t < sizeof names / sizeof *names; t++) {
    const ref_case *rc = find_case(&r, names[t]);
    double *buf = bayes_malloc(rc->n * sizeof *buf), k;
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, rc->lr, rc->n * sizeof *buf);
    ck_assert_int_eq(bayes_psis(buf, rc->n, buf, &k), 0);
    check_khat(rc->name, k, rc->k);
    check_log_w(rc->name, buf, rc->lw, rc->n);
    bayes_free(buf);
  }
  reference_free(&r);
}
END_TEST

/* Tails shorter than 5 (n <= 20): k-hat +Inf and the raw ratios normalised, computed here
 * in closed form; n = 21 is the first size that is fitted. */
START_TEST(test_short_tail)
{
  double lr[21], lw[21], k;
  for (int i = 0; i < 21; i++) lr[i] = sin(1.7 * i) * 2 + (i == 13 ? 9 : 0);
  for (size_t n = 1; n <= 20; n++) {
    double mx = -INFINITY, s = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, lr[i]);
    for (size_t i = 0; i < n; i++) s += exp(lr[i] - mx);
    ck_assert_int_eq(bayes_psis(lr, n, lw, &k), 0);
    ck_assert_msg(k == INFINITY, "n = %zu: k-hat %g", n, k);
    for (size_t i = 0; i < n; i++)
      ck_assert_msg(fabs(lw[i] - (lr[i] - mx - log(s))) < 1e-14, "n = %zu, i = %zu", n, i);
  }
  /* with 21 draws the tail of 5 is fitted and smoothed: the weights are no longer the
   * raw ones */
  double mx = -INFINITY, s = 0, moved = 0;
  for (size_t i = 0; i < 21; i++) mx = fmax(mx, lr[i]);
  for (size_t i = 0; i < 21; i++) s += exp(lr[i] - mx);
  ck_assert_int_eq(bayes_psis(lr, 21, lw, &k), 0);
  ck_assert(isfinite(k));
  for (size_t i = 0; i < 21; i++) moved = fmax(moved, fabs(lw[i] - (lr[i] - mx - log(s))));
  ck_assert_msg(moved > 1e-3, "n = 21: weights not smoothed (max change %g)", moved);
}
END_TEST

/* Constant ratios (a perfect proposal): all tail ratios equal, so k-hat is +Inf (loo's
 * rule) and the weights are uniform. */
START_TEST(test_constant_ratios)
{
  size_t n = 1000;
  double *lr = bayes_malloc(n * sizeof *lr), *lw = bayes_malloc(n * sizeof *lw), k;
  ck_assert(lr && lw);
  for (size_t i = 0; i < n; i++) lr[i] = -3.25;
  ck_assert_int_eq(bayes_psis(lr, n, lw, &k), 0);
  ck_assert(k == INFINITY);
  for (size_t i = 0; i < n; i++) ck_assert(fabs(lw[i] + log((double)n)) < 1e-12);
  ck_assert(fabs(bayes_psis_ess(lw, n) - (double)n) < 1e-9 * (double)n);
  bayes_free(lr);
  bayes_free(lw);
}
END_TEST

START_TEST(test_bad_input)
{
  double lr[30], lw[30], k = 7;
  for (int i = 0; i < 30; i++) lr[i] = 0.1 * i;
  ck_assert_int_eq(bayes_psis(lr, 0, lw, &k), -1);
  lr[4] = NAN;
  ck_assert_int_eq(bayes_psis(lr, 30, lw, &k), -1);
  lr[4] = INFINITY;
  ck_assert_int_eq(bayes_psis(lr, 30, lw, &k), -1);
  for (int i = 0; i < 30; i++) lr[i] = -INFINITY;
  ck_assert_int_eq(bayes_psis(lr, 30, lw, &k), -1);
  ck_assert(k == 7);   /* untouched on failure */
  ck_assert_int_eq(bayes_psis(NULL, 30, lw, &k), -1);

  gsl_rng *rng = bayes_rng_alloc(1, 0);
  size_t idx[5];
  ck_assert_ptr_nonnull(rng);
  ck_assert_int_eq(bayes_psis_resample(lr, 30, rng, 5, idx), -1);   /* all weights 0 */
  ck_assert_int_eq(bayes_psis_resample(lr, 0, rng, 5, idx), -1);
  lr[3] = 0;
  ck_assert_int_eq(bayes_psis_resample(lr, 30, rng, 5, idx), 0);
  ck_assert_int_eq(bayes_psis_resample(lr, 30, NULL, 5, idx), -1);
  ck_assert_int_eq(bayes_psis_resample(lr, 30, rng, 5, NULL), -1);
  lr[5] = NAN;
  ck_assert_int_eq(bayes_psis_resample(lr, 30, rng, 5, idx), -1);
  ck_assert(isnan(bayes_psis_ess(lr, 30)));
  lr[5] = INFINITY;
  ck_assert_int_eq(bayes_psis_resample(lr, 30, rng, 5, idx), -1);
  ck_assert(isnan(bayes_psis_ess(lr, 30)));
  ck_assert(isnan(bayes_psis_ess(lr, 0)));
  bayes_rng_free(rng);
}
END_TEST

/* every allocation failed in turn: -2, never a crash, and success once none fails */
START_TEST(test_out_of_memory)
{
  double lr[100], lw[100], k;
  for (int i = 0; i < 100; i++) lr[i] = sin(0.37 * i * i);
  int ok = 0;
  for (long f = 1; f <= 3; f++) {
    bayes_fail_alloc_after(f);
    int rc = bayes_psis(lr, 100, lw, &k);
    bayes_fail_alloc_after(0);
    if (f <= 2) ck_assert_int_eq(rc, -2);
    else ok = rc == 0;
  }
  ck_assert(ok);
  gsl_rng *rng = bayes_rng_alloc(2, 0);
  size_t idx[10];
  bayes_fail_alloc_after(1);
  int rc = bayes_psis_resample(lw, 100, rng, 10, idx);
  bayes_fail_alloc_after(0);
  ck_assert_int_eq(rc, -2);

  bayes_approx_draws d, r;
  ck_assert_int_eq(bayes_approx_draws_init(&d, 2, 100), 0);
  ck_assert_int_eq(bayes_approx_draws_init(&r, 2, 100), 0);
  for (int i = 0; i < 100; i++) d.log_p[i] = lr[i];
  for (long f = 1; f < 20; f++) {
    bayes_fail_alloc_after(f);
    rc = bayes_approx_psis(&d, rng, &k, &r);
    bayes_fail_alloc_after(0);
    ck_assert_msg(rc == -2 || rc == 0, "failing allocation %ld: %d", f, rc);
    if (rc == 0) break;
  }
  ck_assert_int_eq(rc, 0);
  bayes_approx_draws_destroy(&d);
  bayes_approx_draws_destroy(&r);
  bayes_rng_free(rng);
}
END_TEST

/* ------------------------------------------------------------------ resampling */

START_TEST(test_resample_concentrated)
{
  double lw[7] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, 2.5, -INFINITY, -INFINITY};
  size_t idx[1000];
  gsl_rng *rng = bayes_rng_alloc(3, 0);
  ck_assert_ptr_nonnull(rng);
  ck_assert_int_eq(bayes_psis_resample(lw, 7, rng, 1000, idx), 0);
  for (int j = 0; j < 1000; j++) ck_assert_uint_eq(idx[j], 4);
  /* the last index too (the end of the bisection), and weights that underflow */
  double lw2[3] = {-1000, -2000, 0};
  ck_assert_int_eq(bayes_psis_resample(lw2, 3, rng, 1000, idx), 0);
  for (int j = 0; j < 1000; j++) ck_assert_uint_eq(idx[j], 2);
  ck_assert(fabs(bayes_psis_ess(lw, 7) - 1) < 1e-15);
  bayes_rng_free(rng);
}
END_TEST

/* Pearson chi-square of 10^5 draws over weights proportional to 1:2:3:4 (given
 * unnormalised, with zero-weight entries first and between them): 3 degrees of freedom,
 * level CHISQ_ALPHA. Zero-weight entries must never be drawn. */
START_TEST(test_resample_frequencies)
{
  const double p[6] = {0, 0.1, 0, 0.2, 0.3, 0.4};
  double lw[6];
  for (int i = 0; i < 6; i++) lw[i] = p[i] > 0 ? log(p[i] * 17.5) : -INFINITY;
  size_t m = 100000;
  size_t *idx = bayes_malloc(m * sizeof *idx);
  ck_assert_ptr_nonnull(idx);
  gsl_rng *rng = bayes_rng_alloc(20240611, 5);
  ck_assert_int_eq(bayes_psis_resample(lw, 6, rng, m, idx), 0);
  double count[6] = {0};
  for (size_t j = 0; j < m; j++) {
    ck_assert_uint_lt(idx[j], 6);
    count[idx[j]]++;
  }
  ck_assert(count[0] == 0 && count[2] == 0);
  double x2 = 0;
  for (int i = 0; i < 6; i++)
    if (p[i] > 0) {
      double e = p[i] * (double)m;
      x2 += (count[i] - e) * (count[i] - e) / e;
    }
  double crit = gsl_cdf_chisq_Qinv(CHISQ_ALPHA, 3);
  ck_assert_msg(x2 < crit, "chi-square %g >= %g: counts %g %g %g %g", x2, crit, count[1],
                count[3], count[4], count[5]);
  bayes_free(idx);
  bayes_rng_free(rng);
}
END_TEST

/* the indices depend only on the rng state */
START_TEST(test_resample_deterministic)
{
  double lw[50];
  for (int i = 0; i < 50; i++) lw[i] = cos(0.3 * i);
  size_t a[200], b[200], c[200];
  gsl_rng *r1 = bayes_rng_alloc(9, 1), *r2 = bayes_rng_alloc(9, 1), *r3 = bayes_rng_alloc(9, 2);
  ck_assert(r1 && r2 && r3);
  ck_assert_int_eq(bayes_psis_resample(lw, 50, r1, 200, a), 0);
  ck_assert_int_eq(bayes_psis_resample(lw, 50, r2, 200, b), 0);
  ck_assert_int_eq(bayes_psis_resample(lw, 50, r3, 200, c), 0);
  ck_assert(memcmp(a, b, sizeof a) == 0);
  /* another stream: equal only with probability (max weight)^200 < 1e-100 */
  ck_assert(memcmp(a, c, sizeof a) != 0);
  bayes_rng_free(r1);
  bayes_rng_free(r2);
  bayes_rng_free(r3);
}
END_TEST

START_TEST(test_ess)
{
  /* 1 / sum w^2 in closed form, from unnormalised log weights */
  double lw[4] = {log(2.0), log(2.0), -INFINITY, -INFINITY};
  ck_assert(fabs(bayes_psis_ess(lw, 4) - 2) < 1e-14);
  double lw2[3] = {log(0.5) + 10, log(0.25) + 10, log(0.25) + 10};
  ck_assert(fabs(bayes_psis_ess(lw2, 3) - 1 / 0.375) < 1e-13);
}
END_TEST

/* ------------------------------------------------------------------ bayes_approx_psis */

/* row i of a hand-built draw set: theta = (i, -i / 2, i^2), identifiable from theta[0] */
static void fill_rows(bayes_approx_draws *d)
{
  for (size_t i = 0; i < d->n; i++) {
    d->theta[i * 3 + 0] = (double)i;
    d->theta[i * 3 + 1] = -0.5 * (double)i;
    d->theta[i * 3 + 2] = (double)(i * i);
  }
}

/* every resampled row is a whole row of d with its own log_p and log_q */
static void check_rows(const bayes_approx_draws *d, const bayes_approx_draws *r)
{
  for (size_t j = 0; j < r->n; j++) {
    double t0 = r->theta[j * 3];
    ck_assert(t0 >= 0 && t0 < (double)d->n && t0 == floor(t0));
    size_t i = (size_t)t0;
    ck_assert(r->theta[j * 3 + 1] == d->theta[i * 3 + 1]);
    ck_assert(r->theta[j * 3 + 2] == d->theta[i * 3 + 2]);
    ck_assert(r->log_p[j] == d->log_p[i]);
    ck_assert(r->log_q[j] == d->log_q[i]);
  }
}

START_TEST(test_approx_constant_ratio)
{
  /* log_q = log_p + const: k-hat +Inf (loo's rule for equal tail ratios), uniform weights */
  bayes_approx_draws d, r;
  size_t n = 400;
  ck_assert_int_eq(bayes_approx_draws_init(&d, 3, n), 0);
  ck_assert_int_eq(bayes_approx_draws_init(&r, 3, n), 0);
  fill_rows(&d);
  for (size_t i = 0; i < n; i++) {
    d.log_p[i] = -0.5 * (double)i / 7.0;
    d.log_q[i] = d.log_p[i] + 1.25;
  }
  gsl_rng *rng = bayes_rng_alloc(11, 0);
  double k = 0;
  ck_assert_int_eq(bayes_approx_psis(&d, rng, &k, &r), 0);
  ck_assert_msg(k == INFINITY, "k-hat %g", k);
  check_rows(&d, &r);
  /* uniform resampling of 400 draws reaches many distinct rows (expected 253; fewer than
   * 150 has probability far below 1e-12) */
  char seen[400] = {0};
  size_t distinct = 0;
  for (size_t j = 0; j < n; j++) {
    size_t i = (size_t)r.theta[j * 3];
    distinct += !seen[i];
    seen[i] = 1;
  }
  ck_assert_uint_gt(distinct, 150);
  /* khat only, no resample */
  k = 0;
  ck_assert_int_eq(bayes_approx_psis(&d, NULL, &k, NULL), 0);
  ck_assert(k == INFINITY);
  bayes_approx_draws_destroy(&d);
  bayes_approx_draws_destroy(&r);
  bayes_rng_free(rng);
}
END_TEST

START_TEST(test_approx_one_supported_draw)
{
  /* only draw 7 has a finite model density (NaN counts as -inf): every resampled row is 7 */
  bayes_approx_draws d, r;
  ck_assert_int_eq(bayes_approx_draws_init(&d, 3, 30), 0);
  ck_assert_int_eq(bayes_approx_draws_init(&r, 3, 30), 0);
  fill_rows(&d);
  for (size_t i = 0; i < 30; i++) {
    d.log_p[i] = i % 2 ? -INFINITY : NAN;
    d.log_q[i] = -1.0 - (double)i;
  }
  d.log_p[7] = -4;
  gsl_rng *rng = bayes_rng_alloc(12, 0);
  double k;
  ck_assert_int_eq(bayes_approx_psis(&d, rng, &k, &r), 0);
  ck_assert(k == INFINITY);
  for (size_t j = 0; j < 30; j++) ck_assert(r.theta[j * 3] == 7 && r.log_p[j] == -4);
  check_rows(&d, &r);
  bayes_approx_draws_destroy(&d);
  bayes_approx_draws_destroy(&r);
  bayes_rng_free(rng);
}
END_TEST

/* k-hat of draws whose log_p - log_q are loo fixture ratios (with -inf log_p where the
 * ratio is -inf) equals loo's pareto_k; resampled draws never have log_p -inf. */
START_TEST(test_approx_against_loo)
{
  reference ref;
  reference_load(&ref);
  const char *names[] = {"heavy_normal_n1000", "minf_n1000", "very_heavy_pareto_n4000"};
  gsl_rng *rng = bayes_rng_alloc(13, 0);
  for (size_t t = 0; t < sizeof names / sizeof *names; t++) {
    const ref_case *rc = find_case(&ref, names[t]);
    bayes_approx_draws d, r;
    ck_assert_int_eq(bayes_approx_draws_init(&d, 3, rc->n), 0);
    ck_assert_int_eq(bayes_approx_draws_init(&r, 3, rc->n), 0);
    fill_rows(&d);
    for (size_t i = 0; i < rc->n; i++) {
      /* log_p - log_q recovers lr up to an ulp of rounding, far below the tolerance */
      d.log_q[i] = -0.25 * (double)(i % 5);
      d.log_p[i] = rc->lr[i] + d.log_q[i];
    }
    double k;
    ck_assert_int_eq(bayes_approx_psis(&d, rng, &k, &r), 0);
    check_khat(rc->name, k, rc->k);
    check_rows(&d, &r);
    for (size_t j = 0; j < rc->n; j++) ck_assert(isfinite(r.log_p[j]));
    bayes_approx_draws_destroy(&d);
    bayes_approx_draws_destroy(&r);
  }
  bayes_rng_free(rng);
  reference_free(&ref);
}
END_TEST

START_TEST(test_approx_bad_input)
{
  bayes_approx_draws d, r, small;
  ck_assert_int_eq(bayes_approx_draws_init(&d, 3, 40), 0);
  ck_assert_int_eq(bayes_approx_draws_init(&r, 3, 40), 0);
  ck_assert_int_eq(bayes_approx_draws_init(&small, 3, 39), 0);
  gsl_rng *rng = bayes_rng_alloc(14, 0);
  double k;
  for (size_t i = 0; i < 40; i++) d.log_p[i] = -INFINITY;
  ck_assert_int_eq(bayes_approx_psis(&d, rng, &k, &r), -1);   /* no finite log_p */
  for (size_t i = 0; i < 40; i++) d.log_p[i] = sin((double)i);
  ck_assert_int_eq(bayes_approx_psis(&d, rng, &k, &small), -1);
  ck_assert_int_eq(bayes_approx_psis(&d, rng, &k, &d), -1);
  ck_assert_int_eq(bayes_approx_psis(&d, NULL, &k, &r), -1);
  d.log_q[5] = NAN;
  ck_assert_int_eq(bayes_approx_psis(&d, rng, &k, &r), -1);
  d.log_q[5] = 0;
  d.log_p[6] = INFINITY;
  ck_assert_int_eq(bayes_approx_psis(&d, rng, &k, &r), -1);
  d.log_p[6] = 0;
  ck_assert_int_eq(bayes_approx_psis(&d, rng, &k, &r), 0);
  bayes_approx_draws_destroy(&d);
  bayes_approx_draws_destroy(&r);
  bayes_approx_draws_destroy(&small);
  bayes_rng_free(rng);
}
END_TEST

static Suite *psis_suite(void)
{
  Suite *s = suite_create("psis");
  TCase *tc = tcase_create("psis");
  tcase_add_test(tc, test_fixture_against_loo);
  tcase_add_test(tc, test_in_place);
  tcase_add_test(tc, test_short_tail);
  tcase_add_test(tc, test_constant_ratios);
  tcase_add_test(tc, test_bad_input);
  tcase_add_test(tc, test_out_of_memory);
  tcase_add_test(tc, test_resample_concentrated);
  tcase_add_test(tc, test_resample_frequencies);
  tcase_add_test(tc, test_resample_deterministic);
  tcase_add_test(tc, test_ess);
  tcase_add_test(tc, test_approx_constant_ratio);
  tcase_add_test(tc, test_approx_one_supported_draw);
  tcase_add_test(tc, test_approx_against_loo);
  tcase_add_test(tc, test_approx_bad_input);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return bt_run_suite(psis_suite()); }
