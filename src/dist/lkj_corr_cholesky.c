/* lkj_corr_cholesky.c — lkj_corr_cholesky(eta): density of the Cholesky factor L of an
 * LKJ(eta) correlation matrix, constant included (Stan's lpdf); K from the declared shape,
 * lower triangle read. Kernels only: scratch comes from m->work, never malloc. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static int shape(int nargs, const bayes_shape *const *s, bayes_shape *v, char *err, size_t len)
{
  (void)nargs;
  return mvu_lkj_shape(s, v, "lkj_corr_cholesky", err, len);
}

static int check(int nargs, const bayes_shape *const *s, char *err, size_t len)
{
  (void)nargs;
  return mvu_lkj_check(s, "lkj_corr_cholesky", "L", "a Cholesky factor", err, len);
}

static size_t work(int nargs, const bayes_shape *const *s)
{
  return s[0]->rank == 2 ? s[0]->dim[0] : 0;
}

/* Omega = L L' has det prod L_ii^2, and the map from the strictly lower entries of L to
 * the off-diagonal of Omega has Jacobian prod_{i=2}^K L_ii^(K - i) (1-based; Stan's
 * functions reference, LKJ Cholesky). So
 *   l = -log c_K(eta) + sum_{i=2}^K (K - i + 2 eta - 2) log L_ii,
 *   dl/dL_ii = (K - i + 2 eta - 2) / L_ii,  dl/deta = 2 sum log L_ii - d log c_K / deta.
 * As a formula the density depends on the diagonal only (each row of L has unit norm, so
 * the diagonal is a function of the rest; the transform accounts for that). A
 * non-positive diagonal entry or a row norm off 1 by more than MVU_SHAPE_TOL is outside
 * the support. */
static double lpdf(const bayes_mvargs *m)
{
  const double *L = m->a[0].x;
  double eta = m->a[1].x[0], dc;
  size_t K = m->a[0].s->dim[0];
  if (!(eta > 0 && isfinite(eta))) {
    mvu_err(m->err, 128, "shape eta must be positive and finite");
    return NAN;
  }
  for (size_t i = 0; i < K; i++) {
    double nrm = 0;
    for (size_t j = 0; j <= i; j++) nrm += L[i * K + j] * L[i * K + j];
    if (!(L[i * K + i] > 0) || fabs(nrm - 1) > MVU_SHAPE_TOL) return -INFINITY;
  }
  double lp = -mvu_lkj_log_c(eta, K, &dc), sl = 0;
  for (size_t i = 1; i < K; i++) {
    double c = (double)K - (double)i - 1 + 2 * eta - 2, ll = log(L[i * K + i]);
    lp += c * ll;
    sl += ll;
    if (m->a[0].g) m->a[0].g[i * K + i] += m->scale * c / L[i * K + i];
  }
  if (m->a[1].g) m->a[1].g[0] += m->scale * (2 * sl - dc);
  return lp;
}

static int rng(gsl_rng *r, const bayes_mvargs *m, double *out)
{
  double eta = m->a[1].x[0];
  if (!(eta > 0 && isfinite(eta))) {
    mvu_err(m->err, 128, "shape eta must be positive and finite");
    return -1;
  }
  mvu_lkj_chol_rng(r, eta, m->a[0].s->dim[0], out, m->work);
  return 0;
}

static const char *const names[] = {"eta"};

const bayes_dist bayes_dist_lkj_corr_cholesky = {
    .name = "lkj_corr_cholesky", .nparams = 1, .nparams_min = 1, .param_names = names,
    .support = BAYES_SUPPORT_CORR_CHOLESKY, .kind = BAYES_DIST_MULTIVARIATE, .mv_shape = shape,
    .mv_check = check, .mv_work = work, .mv_lpdf = lpdf, .mv_rng = rng};
