/* multinomial.c — multinomial(theta[, N]): counts y ([K] or [N, K] rows) with n = sum(y):
 * n! / prod y_k! prod theta_k^y_k. N is optional for the pmf, needed for draws (Stan's
 * multinomial_rng(theta, N)). Kernels only: no allocation, no tape knowledge. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static int shape(int nargs, const bayes_shape *const *s, bayes_shape *v, char *err, size_t len)
{
  char b[64];
  const bayes_shape *th = s[1];
  if (!(th->rank == 1 || th->rank == 2) || th->dim[th->rank - 1] < 1) {
    mvu_err(err, len, "theta has %s but must be a vector (or a matrix of row simplexes)",
            mvu_desc(th, b, sizeof b));
    return -1;
  }
  if (nargs > 2 && s[2]->rank != 0) {
    mvu_err(err, len, "N has %s but must be a scalar", mvu_desc(s[2], b, sizeof b));
    return -1;
  }
  *v = *th;
  return 0;
}

static int check(int nargs, const bayes_shape *const *s, char *err, size_t len)
{
  bayes_shape v;
  if (shape(nargs, s, &v, err, len)) return -1;
  size_t K = s[1]->dim[s[1]->rank - 1];
  return mvu_check_rows(s[0], "y", s[1], "theta", K, err, len);
}

static size_t work(int nargs, const bayes_shape *const *s)
{
  return s[1]->dim[s[1]->rank - 1]; /* K unsigned counts for the rng */
}

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

/* N given and non-negative, or -1 (the default: implied by y) */
static int trials(const bayes_mvargs *m, double *N)
{
  *N = m->nargs > 2 ? m->a[2].x[0] : -1;
  if (*N == -1) return 0;
  if (!mvu_is_nonneg_int(*N)) {
    mvu_err(m->err, 128, "number of trials N must be a non-negative integer");
    return -1;
  }
  return 0;
}

static double lpmf(const bayes_mvargs *m)
{
  const double *y = m->a[0].x, *th = m->a[1].x;
  size_t K = m->a[1].s->dim[m->a[1].s->rank - 1];
  size_t ny = mvu_rows(m->a[0].s, K), nt = mvu_rows(m->a[1].s, K), n = ny > nt ? ny : nt;
  double N;
  if (trials(m, &N)) return NAN;
  for (size_t j = 0; j < nt; j++) {
    const char *bad = theta_bad(th + j * K, K);
    if (bad) {
      mvu_err(m->err, 128, "%s", bad);
      return NAN;
    }
  }
  double lp = 0;
  for (size_t i = 0; i < n; i++) {
    const double *yi = y + (ny > 1 ? i * K : 0), *ti = th + (nt > 1 ? i * K : 0);
    double tot = 0;
    for (size_t k = 0; k < K; k++) {
      if (!mvu_is_nonneg_int(yi[k])) return -INFINITY;
      tot += yi[k];
      lp += mvu_xlogy(yi[k], ti[k]) - lgamma(yi[k] + 1);
    }
    if (N >= 0 && tot != N) return -INFINITY;
    lp += lgamma(tot + 1);
  }
  if (m->a[1].g && isfinite(lp))
    for (size_t i = 0; i < n; i++) {
      const double *yi = y + (ny > 1 ? i * K : 0), *ti = th + (nt > 1 ? i * K : 0);
      double *gi = m->a[1].g + (nt > 1 ? i * K : 0);
      for (size_t k = 0; k < K; k++)
        if (yi[k] > 0) gi[k] += m->scale * yi[k] / ti[k];
    }
  return lp;
}

static int rng(gsl_rng *r, const bayes_mvargs *m, double *out)
{
  const double *th = m->a[1].x;
  size_t K = m->a[1].s->dim[m->a[1].s->rank - 1];
  size_t no = mvu_rows(m->a[0].s, K), nt = mvu_rows(m->a[1].s, K);
  double N;
  if (trials(m, &N)) return -1;
  if (N < 0) {
    mvu_err(m->err, 128, "multinomial draws need the number of trials: multinomial(theta, N)");
    return -1;
  }
  unsigned *cnt = (unsigned *)m->work;
  for (size_t i = 0; i < no; i++) {
    const double *ti = th + (nt > 1 ? i * K : 0);
    const char *bad = theta_bad(ti, K);
    if (bad) {
      mvu_err(m->err, 128, "%s", bad);
      return -1;
    }
    gsl_ran_multinomial(r, K, (unsigned)N, ti, cnt);
    for (size_t k = 0; k < K; k++) out[i * K + k] = cnt[k];
  }
  return 0;
}

static const char *const names[] = {"theta", "N"};
static const double defaults[] = {NAN, -1.0}; /* N = -1: implied by y */

const bayes_dist bayes_dist_multinomial = {
    .name = "multinomial", .nparams = 2, .nparams_min = 1, .param_names = names,
    .param_defaults = defaults, .discrete = true, .param_int = {[2] = true},
    .support = BAYES_SUPPORT_INT_NONNEG, .kind = BAYES_DIST_MULTIVARIATE, .mv_shape = shape,
    .mv_check = check, .mv_work = work, .mv_lpdf = lpmf, .mv_rng = rng};
