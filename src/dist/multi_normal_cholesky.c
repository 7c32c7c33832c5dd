/* multi_normal_cholesky.c — multi_normal_cholesky(mu, L) = multi_normal(mu, L L') with L
 * the lower Cholesky factor (its upper triangle is ignored); shapes as multi_normal.
 * Kernels only: scratch comes from m->work, never malloc. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static int shape(int nargs, const bayes_shape *const *s, bayes_shape *v, char *err, size_t len)
{
  (void)nargs;
  return mvu_mvn_shape(s, v, "L", err, len);
}

static int check(int nargs, const bayes_shape *const *s, char *err, size_t len)
{
  (void)nargs;
  return mvu_mvn_check(s, "L", err, len);
}

static size_t work(int nargs, const bayes_shape *const *s)
{
  size_t K = s[2]->dim[0];
  return K * K + 2 * K;
}

static const char *params_bad(const double *mu, size_t nmu, const double *L, size_t K)
{
  for (size_t i = 0; i < nmu; i++)
    if (!isfinite(mu[i])) return "location mu must be finite";
  for (size_t i = 0; i < K; i++) {
    for (size_t j = 0; j < i; j++)
      if (!isfinite(L[i * K + j])) return "Cholesky factor L must be finite";
    if (!(L[i * K + i] > 0 && isfinite(L[i * K + i])))
      return "Cholesky factor L must have a positive finite diagonal";
  }
  return NULL;
}

/* Per row r = y - mu, z = L^-1 r, alpha = L^-T z:
 *   l = -K/2 log(2 pi) - sum log L_ii - z'z / 2,
 *   dl/dy = -alpha, dl/dmu = alpha, dl/dL_ij = alpha_i z_j - [i = j] / L_ii (i >= j),
 * the last from d(z'z/2) = -alpha' dL z (z = L^-1 r, dz = -L^-1 dL z). */
static double lpdf(const bayes_mvargs *m)
{
  const double *y = m->a[0].x, *mu = m->a[1].x, *L = m->a[2].x;
  size_t K = m->a[2].s->dim[0];
  size_t ny = mvu_rows(m->a[0].s, K), nm = mvu_rows(m->a[1].s, K), n = ny > nm ? ny : nm;
  double *B = m->work, *z = B + K * K, *al = z + K;
  int k = (int)K;
  bool gy = m->a[0].g, gm = m->a[1].g, gL = m->a[2].g;
  const char *bad = params_bad(mu, nm * K, L, K);
  if (bad) {
    mvu_err(m->err, 128, "%s", bad);
    return NAN;
  }
  double ld = 0, q = 0;
  for (size_t i = 0; i < K; i++) ld += log(L[i * K + i]);
  if (gL) memset(B, 0, K * K * sizeof *B);
  for (size_t i = 0; i < n; i++) {
    const double *yi = y + (ny > 1 ? i * K : 0), *mi = mu + (nm > 1 ? i * K : 0);
    for (size_t j = 0; j < K; j++) z[j] = yi[j] - mi[j];
    /* dtrsv with CblasLower reads only the lower triangle of L */
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, k, L, k, z, 1);
    q += cblas_ddot(k, z, 1, z, 1);
    if (gy || gm || gL) {
      memcpy(al, z, K * sizeof *al);
      cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, k, L, k, al, 1);
      if (gy) cblas_daxpy(k, -m->scale, al, 1, m->a[0].g + (ny > 1 ? i * K : 0), 1);
      if (gm) cblas_daxpy(k, m->scale, al, 1, m->a[1].g + (nm > 1 ? i * K : 0), 1);
      if (gL) cblas_dger(CblasRowMajor, k, k, 1.0, al, 1, z, 1, B, k);
    }
  }
  double lp = -0.5 * q - (double)n * (K * BAYES_LOG_SQRT_2PI + ld);
  if (gL && isfinite(lp))
    for (size_t i = 0; i < K; i++) {
      for (size_t j = 0; j < i; j++) m->a[2].g[i * K + j] += m->scale * B[i * K + j];
      m->a[2].g[i * K + i] += m->scale * (B[i * K + i] - (double)n / L[i * K + i]);
    }
  return lp;
}

static int rng(gsl_rng *r, const bayes_mvargs *m, double *out)
{
  const double *mu = m->a[1].x, *L = m->a[2].x;
  size_t K = m->a[2].s->dim[0];
  size_t no = mvu_rows(m->a[0].s, K), nm = mvu_rows(m->a[1].s, K);
  double *z = m->work;
  const char *bad = params_bad(mu, nm * K, L, K);
  if (bad) {
    mvu_err(m->err, 128, "%s", bad);
    return -1;
  }
  mvu_mvn_draw(r, no, nm, K, mu, L, z, out);
  return 0;
}

static const char *const names[] = {"mu", "L"};

const bayes_dist bayes_dist_multi_normal_cholesky = {
    .name = "multi_normal_cholesky", .nparams = 2, .nparams_min = 2, .param_names = names,
    .support = BAYES_SUPPORT_REAL, .kind = BAYES_DIST_MULTIVARIATE, .mv_shape = shape,
    .mv_check = check, .mv_work = work, .mv_lpdf = lpdf, .mv_rng = rng};
