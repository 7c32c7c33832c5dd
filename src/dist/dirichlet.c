/* dirichlet.c — dirichlet(alpha): y a K-simplex (or [N, K] rows of simplexes), alpha a
 * positive K-vector (or [N, K] rows): Gamma(sum alpha) / prod Gamma(alpha_k) prod y_k^(alpha_k
 * - 1). Kernels only: no allocation, no tape knowledge. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static int shape(int nargs, const bayes_shape *const *s, bayes_shape *v, char *err, size_t len)
{
  char b[64];
  const bayes_shape *a = s[1];
  if (!(a->rank == 1 || a->rank == 2) || a->dim[a->rank - 1] < 1) {
    mvu_err(err, len, "alpha has %s but must be a vector (or a matrix of rows)",
            mvu_desc(a, b, sizeof b));
    return -1;
  }
  *v = *a;
  return 0;
}

static int check(int nargs, const bayes_shape *const *s, char *err, size_t len)
{
  bayes_shape v;
  if (shape(nargs, s, &v, err, len)) return -1;
  return mvu_check_rows(s[0], "y", s[1], "alpha", s[1]->dim[s[1]->rank - 1], err, len);
}

/* Per row: l = lgamma(sum alpha) - sum lgamma(alpha_k) + sum (alpha_k - 1) log y_k,
 *   dl/dy_k = (alpha_k - 1) / y_k,  dl/dalpha_k = psi(sum alpha) - psi(alpha_k) + log y_k.
 * y outside the simplex (a negative entry, or a sum off 1 by more than MVU_SHAPE_TOL) is
 * outside the support. */
static double lpdf(const bayes_mvargs *m)
{
  const double *y = m->a[0].x, *al = m->a[1].x;
  size_t K = m->a[1].s->dim[m->a[1].s->rank - 1];
  size_t ny = mvu_rows(m->a[0].s, K), na = mvu_rows(m->a[1].s, K), n = ny > na ? ny : na;
  for (size_t i = 0; i < na * K; i++)
    if (!(al[i] > 0 && isfinite(al[i]))) {
      mvu_err(m->err, 128, "concentration alpha must be positive and finite");
      return NAN;
    }
  for (size_t i = 0; i < ny; i++) {
    double sum = 0;
    for (size_t k = 0; k < K; k++) {
      if (!(y[i * K + k] >= 0 && y[i * K + k] <= 1)) return -INFINITY;
      sum += y[i * K + k];
    }
    if (fabs(sum - 1) > MVU_SHAPE_TOL) return -INFINITY;
  }
  double lp = 0, s = m->scale;
  for (size_t i = 0; i < n; i++) {
    const double *yi = y + (ny > 1 ? i * K : 0), *ai = al + (na > 1 ? i * K : 0);
    double asum = 0;
    for (size_t k = 0; k < K; k++) {
      asum += ai[k];
      lp += (ai[k] == 1 ? 0 : (ai[k] - 1) * log(yi[k])) - lgamma(ai[k]);
    }
    lp += lgamma(asum);
    if (m->a[0].g) {
      double *g = m->a[0].g + (ny > 1 ? i * K : 0);
      for (size_t k = 0; k < K; k++) g[k] += s * (ai[k] - 1) / yi[k];
    }
    if (m->a[1].g) {
      double *g = m->a[1].g + (na > 1 ? i * K : 0), ps = bayes_digamma(asum);
      for (size_t k = 0; k < K; k++) g[k] += s * (ps - bayes_digamma(ai[k]) + log(yi[k]));
    }
  }
  return lp;
}

/* GSL: normalised independent Gamma(alpha_k, 1) draws (with a log-space path for small
 * alpha, where the gammas underflow) */
static int rng(gsl_rng *r, const bayes_mvargs *m, double *out)
{
  const double *al = m->a[1].x;
  size_t K = m->a[1].s->dim[m->a[1].s->rank - 1];
  size_t no = mvu_rows(m->a[0].s, K), na = mvu_rows(m->a[1].s, K);
  for (size_t i = 0; i < na * K; i++)
    if (!(al[i] > 0 && isfinite(al[i]))) {
      mvu_err(m->err, 128, "concentration alpha must be positive and finite");
      return -1;
    }
  for (size_t i = 0; i < no; i++) gsl_ran_dirichlet(r, K, al + (na > 1 ? i * K : 0), out + i * K);
  return 0;
}

static const char *const names[] = {"alpha"};

const bayes_dist bayes_dist_dirichlet = {
    .name = "dirichlet", .nparams = 1, .nparams_min = 1, .param_names = names,
    .support = BAYES_SUPPORT_SIMPLEX, .kind = BAYES_DIST_MULTIVARIATE, .mv_shape = shape,
    .mv_check = check, .mv_lpdf = lpdf, .mv_rng = rng};
