/* categorical_logit.c — categorical_logit(beta) = categorical(softmax(beta)), evaluated as
 * beta_y - log_sum_exp(beta) so no probability is ever formed. y is one integer in 1..K or
 * an integer array of independent observations. Kernels only: no allocation. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static int shape(int nargs, const bayes_shape *const *s, bayes_shape *v, char *err, size_t len)
{
  char b[64];
  if (s[1]->rank != 1 || s[1]->dim[0] < 1) {
    mvu_err(err, len, "beta has %s but must be a non-empty vector", mvu_desc(s[1], b, sizeof b));
    return -1;
  }
  *v = bayes_shape_scalar();
  return 0;
}

static int check(int nargs, const bayes_shape *const *s, char *err, size_t len)
{
  bayes_shape v;
  return shape(nargs, s, &v, err, len);
}

/* rng: K probabilities and K unsigned counts */
static size_t work(int nargs, const bayes_shape *const *s) { return 2 * s[1]->dim[0]; }

static double lse(const double *b, size_t K)
{
  double mx = -INFINITY, s = 0;
  for (size_t k = 0; k < K; k++) mx = fmax(mx, b[k]);
  for (size_t k = 0; k < K; k++) s += exp(b[k] - mx);
  return mx + log(s);
}

static double lpmf(const bayes_mvargs *m)
{
  const double *y = m->a[0].x, *b = m->a[1].x;
  size_t K = m->a[1].s->dim[0], n = bayes_shape_size(m->a[0].s);
  for (size_t k = 0; k < K; k++)
    if (!isfinite(b[k])) {
      mvu_err(m->err, 128, "log-odds beta must be finite");
      return NAN;
    }
  double z = lse(b, K), lp = 0;
  for (size_t i = 0; i < n; i++) {
    if (!mvu_is_int(y[i]) || y[i] < 1 || y[i] > (double)K) return -INFINITY;
    lp += b[(size_t)y[i] - 1] - z;
  }
  /* d/dbeta_k = count_k - n softmax_k */
  if (m->a[1].g) {
    double s = m->scale;
    for (size_t i = 0; i < n; i++) m->a[1].g[(size_t)y[i] - 1] += s;
    for (size_t k = 0; k < K; k++) m->a[1].g[k] -= s * (double)n * exp(b[k] - z);
  }
  return lp;
}

static int rng(gsl_rng *r, const bayes_mvargs *m, double *out)
{
  const double *b = m->a[1].x;
  size_t K = m->a[1].s->dim[0], n = bayes_shape_size(m->a[0].s);
  double *p = m->work;
  unsigned *cnt = (unsigned *)(m->work + K);
  for (size_t k = 0; k < K; k++)
    if (!isfinite(b[k])) {
      mvu_err(m->err, 128, "log-odds beta must be finite");
      return -1;
    }
  double z = lse(b, K);
  for (size_t k = 0; k < K; k++) p[k] = exp(b[k] - z);
  for (size_t i = 0; i < n; i++) {
    gsl_ran_multinomial(r, K, 1, p, cnt);
    for (size_t k = 0; k < K; k++)
      if (cnt[k]) out[i] = (double)(k + 1);
  }
  return 0;
}

static const char *const names[] = {"beta"};

const bayes_dist bayes_dist_categorical_logit = {
    .name = "categorical_logit", .nparams = 1, .nparams_min = 1, .param_names = names,
    .discrete = true, .support = BAYES_SUPPORT_INT_RANGE, .kind = BAYES_DIST_MULTIVARIATE,
    .mv_shape = shape, .mv_check = check, .mv_work = work, .mv_lpdf = lpmf, .mv_rng = rng};
