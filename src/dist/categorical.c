/* categorical.c — categorical(theta): P(y = k) = theta_k for y in 1..K, theta a K-simplex;
 * y is one integer or an integer array of independent observations. Kernels only: no
 * allocation, no tape knowledge. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static int shape(int nargs, const bayes_shape *const *s, bayes_shape *v, char *err, size_t len)
{
  char b[64];
  if (s[1]->rank != 1 || s[1]->dim[0] < 1) {
    mvu_err(err, len, "theta has %s but must be a non-empty vector",
            mvu_desc(s[1], b, sizeof b));
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

/* gsl_ran_multinomial writes K unsigned counts: they fit in K doubles of scratch */
static size_t work(int nargs, const bayes_shape *const *s) { return s[1]->dim[0]; }

/* theta must be a simplex; NULL if it is */
static const char *theta_bad(const double *th, size_t K)
{
  double sum = 0;
  for (size_t k = 0; k < K; k++) {
    if (!(th[k] >= 0 && th[k] <= 1)) return "theta must be a simplex (entries in [0, 1])";
    sum += th[k];
  }
  if (fabs(sum - 1) > MVU_SHAPE_TOL) return "theta must be a simplex (entries summing to 1)";
  return NULL;
}

static double lpmf(const bayes_mvargs *m)
{
  const double *y = m->a[0].x, *th = m->a[1].x;
  size_t K = m->a[1].s->dim[0], n = bayes_shape_size(m->a[0].s);
  const char *bad = theta_bad(th, K);
  if (bad) {
    mvu_err(m->err, 128, "%s", bad);
    return NAN;
  }
  double lp = 0;
  for (size_t i = 0; i < n; i++) {
    if (!mvu_is_int(y[i]) || y[i] < 1 || y[i] > (double)K) return -INFINITY;
    lp += log(th[(size_t)y[i] - 1]);
  }
  if (m->a[1].g && isfinite(lp))
    for (size_t i = 0; i < n; i++) {
      size_t k = (size_t)y[i] - 1;
      m->a[1].g[k] += m->scale / th[k];
    }
  return lp;
}

/* one multinomial trial over K categories; the single count that is 1 names the draw */
static int rng(gsl_rng *r, const bayes_mvargs *m, double *out)
{
  const double *th = m->a[1].x;
  size_t K = m->a[1].s->dim[0], n = bayes_shape_size(m->a[0].s);
  const char *bad = theta_bad(th, K);
  if (bad) {
    mvu_err(m->err, 128, "%s", bad);
    return -1;
  }
  unsigned *cnt = (unsigned *)m->work;
  for (size_t i = 0; i < n; i++) {
    gsl_ran_multinomial(r, K, 1, th, cnt);
    for (size_t k = 0; k < K; k++)
      if (cnt[k]) out[i] = (double)(k + 1);
  }
  return 0;
}

static const char *const names[] = {"theta"};

const bayes_dist bayes_dist_categorical = {
    .name = "categorical", .nparams = 1, .nparams_min = 1, .param_names = names,
    .discrete = true, .support = BAYES_SUPPORT_INT_RANGE, .kind = BAYES_DIST_MULTIVARIATE,
    .mv_shape = shape, .mv_check = check, .mv_work = work, .mv_lpdf = lpmf, .mv_rng = rng};
