/* ordered_logistic.c — ordered_logistic(eta, c) (Stan): y in 1..K, K - 1 increasing
 * cutpoints c, y and eta scalars or vectors of one length (either may be a scalar).
 * Kernels only: scratch comes from m->work, never malloc. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static size_t len0(const bayes_shape *s) { return s->rank == 0 ? 1 : s->dim[0]; }

static int shape(int nargs, const bayes_shape *const *s, bayes_shape *v, char *err, size_t len)
{
  char b[64];
  if (s[1]->rank > 1) {
    mvu_err(err, len, "eta has %s but must be a scalar or a vector", mvu_desc(s[1], b, sizeof b));
    return -1;
  }
  if (s[2]->rank != 1 || s[2]->dim[0] < 1) {
    mvu_err(err, len, "cutpoints c have %s but must be a non-empty vector",
            mvu_desc(s[2], b, sizeof b));
    return -1;
  }
  *v = *s[1];
  return 0;
}

static int check(int nargs, const bayes_shape *const *s, char *err, size_t len)
{
  char b1[64], b2[64];
  bayes_shape v;
  if (shape(nargs, s, &v, err, len)) return -1;
  size_t ny = len0(s[0]), ne = len0(s[1]);
  if (s[0]->rank > 1 || (ny != ne && ny != 1 && ne != 1)) {
    mvu_err(err, len, "y has %s but eta has %s", mvu_desc(s[0], b1, sizeof b1),
            mvu_desc(s[1], b2, sizeof b2));
    return -1;
  }
  return 0;
}

static size_t work(int nargs, const bayes_shape *const *s) { return 2 * (s[2]->dim[0] + 1); }

static const char *params_bad(const double *eta, size_t ne, const double *c, size_t nc)
{
  for (size_t i = 0; i < ne; i++)
    if (!isfinite(eta[i])) return "linear predictor eta must be finite";
  for (size_t k = 0; k < nc; k++)
    if (!isfinite(c[k]) || (k > 0 && !(c[k] > c[k - 1])))
      return "cutpoints c must be finite and strictly increasing";
  return NULL;
}

/* log P(y) and its partials d/da, d/db in a = eta - c_{y-1}, b = eta - c_y (a > b):
 *   log(inv_logit(a) - inv_logit(b)) = a - log1p_exp(a) - log1p_exp(b) + log1m_exp(b - a)
 * (the log_inv_logit_diff identity of Stan's math library), which stays exact when both
 * probabilities are tiny or both are near 1. With d = b - a < 0:
 *   d/da = -1 / expm1(d) - inv_logit(a),  d/db = -1 / expm1(-d) - inv_logit(b). */
static double lp_one(double y, double eta, const double *c, size_t K, double *da, double *db)
{
  size_t k = (size_t)y;
  if (k == 1) {
    double x = eta - c[0];
    *da = 0;
    *db = -bayes_inv_logit(x);
    return -bayes_log1p_exp(x);
  }
  if (k == K) {
    double x = eta - c[K - 2];
    *da = bayes_inv_logit(-x);
    *db = 0;
    return -bayes_log1p_exp(-x);
  }
  double a = eta - c[k - 2], b = eta - c[k - 1], d = b - a;
  *da = -1 / expm1(d) - bayes_inv_logit(a);
  *db = -1 / expm1(-d) - bayes_inv_logit(b);
  return a - bayes_log1p_exp(a) - bayes_log1p_exp(b) + bayes_log1m_exp(d);
}

static double lpmf(const bayes_mvargs *m)
{
  const double *y = m->a[0].x, *eta = m->a[1].x, *c = m->a[2].x;
  size_t ny = len0(m->a[0].s), ne = len0(m->a[1].s), nc = m->a[2].s->dim[0], K = nc + 1;
  size_t n = ny > ne ? ny : ne;
  const char *bad = params_bad(eta, ne, c, nc);
  if (bad) {
    mvu_err(m->err, 128, "%s", bad);
    return NAN;
  }
  for (size_t i = 0; i < ny; i++)
    if (!mvu_is_int(y[i]) || y[i] < 1 || y[i] > (double)K) return -INFINITY;
  double lp = 0, s = m->scale;
  for (size_t i = 0; i < n; i++) {
    double yi = y[ny > 1 ? i : 0], da, db;
    size_t k = (size_t)yi;
    lp += lp_one(yi, eta[ne > 1 ? i : 0], c, K, &da, &db);
    if (m->a[1].g) m->a[1].g[ne > 1 ? i : 0] += s * (da + db);
    if (m->a[2].g) {
      if (k >= 2) m->a[2].g[k - 2] -= s * da;
      if (k <= nc) m->a[2].g[k - 1] -= s * db;
    }
  }
  return lp;
}

static int rng(gsl_rng *r, const bayes_mvargs *m, double *out)
{
  const double *eta = m->a[1].x, *c = m->a[2].x;
  size_t ne = len0(m->a[1].s), nc = m->a[2].s->dim[0], K = nc + 1;
  size_t n = bayes_shape_size(m->a[0].s);
  double *p = m->work;
  unsigned *cnt = (unsigned *)(m->work + K);
  const char *bad = params_bad(eta, ne, c, nc);
  if (bad) {
    mvu_err(m->err, 128, "%s", bad);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    double e = eta[ne > 1 ? i : 0], prev = 1;
    for (size_t k = 0; k < nc; k++) {
      double q = bayes_inv_logit(e - c[k]); /* P(y > k + 1) */
      p[k] = prev - q;
      prev = q;
    }
    p[nc] = prev;
    gsl_ran_multinomial(r, K, 1, p, cnt);
    for (size_t k = 0; k < K; k++)
      if (cnt[k]) out[i] = (double)(k + 1);
  }
  return 0;
}

static const char *const names[] = {"eta", "c"};

const bayes_dist bayes_dist_ordered_logistic = {
    .name = "ordered_logistic", .nparams = 2, .nparams_min = 2, .param_names = names,
    .discrete = true, .support = BAYES_SUPPORT_INT_RANGE, .kind = BAYES_DIST_MULTIVARIATE,
    .mv_shape = shape, .mv_check = check, .mv_work = work, .mv_lpdf = lpmf, .mv_rng = rng};
