/* multi_normal.c — multi_normal(mu, Sigma): y and mu K-vectors or [N, K] rows (either may
 * be one row), Sigma K x K with only its lower triangle read (dpotrf 'L').
 * Kernels only: scratch comes from m->work, never malloc. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static int shape(int nargs, const bayes_shape *const *s, bayes_shape *v, char *err, size_t len)
{
  (void)nargs;
  return mvu_mvn_shape(s, v, "Sigma", err, len);
}

static int check(int nargs, const bayes_shape *const *s, char *err, size_t len)
{
  (void)nargs;
  return mvu_mvn_check(s, "Sigma", err, len);
}

/* lpdf: L, A (K x K) and two K-vectors; rng: L and one K-vector */
static size_t work(int nargs, const bayes_shape *const *s)
{
  size_t K = s[2]->dim[0];
  return 2 * K * K + 2 * K;
}

static bool all_finite(const double *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return false;
  return true;
}

/* Per row r = y - mu, z = L^-1 r, alpha = Sigma^-1 r = L^-T z:
 *   l = -K/2 log(2 pi) - log det L - z'z / 2,
 *   dl/dy = -alpha, dl/dmu = alpha, dl/dSigma = -(Sigma^-1 - alpha alpha') / 2 (symmetric;
 *   Petersen & Pedersen, The Matrix Cookbook, eqs. 57 and 61), summed over rows. */
static double lpdf(const bayes_mvargs *m)
{
  const double *y = m->a[0].x, *mu = m->a[1].x, *S = m->a[2].x;
  size_t K = m->a[2].s->dim[0];
  size_t ny = mvu_rows(m->a[0].s, K), nm = mvu_rows(m->a[1].s, K), n = ny > nm ? ny : nm;
  double *L = m->work, *A = L + K * K, *z = A + K * K, *al = z + K;
  int k = (int)K;
  bool gy = m->a[0].g, gm = m->a[1].g, gS = m->a[2].g;
  if (!all_finite(mu, nm * K)) {
    mvu_err(m->err, 128, "location mu must be finite");
    return NAN;
  }
  if (mvu_chol(K, S, L) != 0 || !all_finite(L, K * K)) {
    mvu_err(m->err, 128, "covariance matrix Sigma is not positive definite");
    return NAN;
  }
  double ld = mvu_chol_logdet(K, L), q = 0;
  if (gS) memset(A, 0, K * K * sizeof *A);
  for (size_t i = 0; i < n; i++) {
    const double *yi = y + (ny > 1 ? i * K : 0), *mi = mu + (nm > 1 ? i * K : 0);
    for (size_t j = 0; j < K; j++) z[j] = yi[j] - mi[j];
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, k, L, k, z, 1);
    q += cblas_ddot(k, z, 1, z, 1);
    if (gy || gm || gS) {
      memcpy(al, z, K * sizeof *al);
      cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, k, L, k, al, 1);
      if (gy) cblas_daxpy(k, -m->scale, al, 1, m->a[0].g + (ny > 1 ? i * K : 0), 1);
      if (gm) cblas_daxpy(k, m->scale, al, 1, m->a[1].g + (nm > 1 ? i * K : 0), 1);
      if (gS) cblas_dsyr(CblasRowMajor, CblasLower, k, 1.0, al, 1, A, k);
    }
  }
  double lp = -0.5 * q - (double)n * (K * BAYES_LOG_SQRT_2PI + 0.5 * ld);
  if (gS && isfinite(lp)) {
    mvu_chol_inverse(K, L);
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j <= i; j++)
        A[i * K + j] = -0.5 * ((double)n * L[i * K + j] - A[i * K + j]);
    mvu_add_sym_grad(K, m->a[2].g, A, m->scale);
  }
  return lp;
}

/* y = mu + L z, z ~ N(0, I) */
static int rng(gsl_rng *r, const bayes_mvargs *m, double *out)
{
  const double *mu = m->a[1].x, *S = m->a[2].x;
  size_t K = m->a[2].s->dim[0];
  size_t no = mvu_rows(m->a[0].s, K), nm = mvu_rows(m->a[1].s, K);
  double *L = m->work, *z = L + K * K;
  if (!all_finite(mu, nm * K)) {
    mvu_err(m->err, 128, "location mu must be finite");
    return -1;
  }
  if (mvu_chol(K, S, L) != 0) {
    mvu_err(m->err, 128, "covariance matrix Sigma is not positive definite");
    return -1;
  }
  mvu_mvn_draw(r, no, nm, K, mu, L, z, out);
  return 0;
}

static const char *const names[] = {"mu", "Sigma"};

const bayes_dist bayes_dist_multi_normal = {
    .name = "multi_normal", .nparams = 2, .nparams_min = 2, .param_names = names,
    .support = BAYES_SUPPORT_REAL, .kind = BAYES_DIST_MULTIVARIATE, .mv_shape = shape,
    .mv_check = check, .mv_work = work, .mv_lpdf = lpdf, .mv_rng = rng};
