/* multi_student_t.c — multi_student_t(nu, mu, Sigma) (Stan): y a K-vector or [N, K] rows,
 * mu a K-vector or [N, K] rows, Sigma the K x K scale matrix (lower triangle read), nu a
 * positive scalar. Kernels only: scratch comes from m->work, never malloc. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static int shape(int nargs, const bayes_shape *const *s, bayes_shape *v, char *err, size_t len)
{
  char b1[64], b2[64];
  size_t K;
  if (s[1]->rank != 0) {
    mvu_err(err, len, "nu has %s but must be a scalar", mvu_desc(s[1], b1, sizeof b1));
    return -1;
  }
  if (!mvu_square(s[3], &K) || K < 1) {
    mvu_err(err, len, "Sigma has %s but must be a non-empty square matrix",
            mvu_desc(s[3], b1, sizeof b1));
    return -1;
  }
  if (mvu_rows(s[2], K) == 0) {
    mvu_err(err, len, "mu has %s but Sigma has %s", mvu_desc(s[2], b1, sizeof b1),
            mvu_desc(s[3], b2, sizeof b2));
    return -1;
  }
  *v = *s[2];
  return 0;
}

static int check(int nargs, const bayes_shape *const *s, char *err, size_t len)
{
  bayes_shape v;
  if (shape(nargs, s, &v, err, len)) return -1;
  return mvu_check_rows(s[0], "y", s[2], "mu", s[3]->dim[0], err, len);
}

static size_t work(int nargs, const bayes_shape *const *s)
{
  size_t K = s[3]->dim[0];
  return 2 * K * K + 2 * K;
}

static const char *params_bad(double nu, const double *mu, size_t n)
{
  if (!(nu > 0 && isfinite(nu))) return "degrees of freedom nu must be positive and finite";
  for (size_t i = 0; i < n; i++)
    if (!isfinite(mu[i])) return "location mu must be finite";
  return NULL;
}

/* Per row, with q = r' Sigma^-1 r, alpha = Sigma^-1 r, w = (nu + K) / (nu + q):
 *   l = lgamma((nu+K)/2) - lgamma(nu/2) - K/2 log(nu pi) - log det Sigma / 2
 *       - (nu + K)/2 log1p(q / nu)                       (Stan's functions reference)
 *   dl/dy = -w alpha, dl/dmu = w alpha, dl/dSigma = -Sigma^-1 / 2 + w alpha alpha' / 2,
 *   dl/dnu = [psi((nu+K)/2) - psi(nu/2) - K/nu - log1p(q/nu) + (nu+K) q / (nu (nu+q))] / 2. */
static double lpdf(const bayes_mvargs *m)
{
  const double *y = m->a[0].x, *mu = m->a[2].x, *S = m->a[3].x;
  double nu = m->a[1].x[0];
  size_t K = m->a[3].s->dim[0];
  size_t ny = mvu_rows(m->a[0].s, K), nm = mvu_rows(m->a[2].s, K), n = ny > nm ? ny : nm;
  double *L = m->work, *A = L + K * K, *z = A + K * K, *al = z + K, s = m->scale;
  int k = (int)K;
  bool gy = m->a[0].g, gm = m->a[2].g, gS = m->a[3].g, gn = m->a[1].g;
  const char *bad = params_bad(nu, mu, nm * K);
  if (bad) {
    mvu_err(m->err, 128, "%s", bad);
    return NAN;
  }
  if (mvu_chol(K, S, L) != 0 || !isfinite(mvu_chol_logdet(K, L))) {
    mvu_err(m->err, 128, "scale matrix Sigma is not positive definite");
    return NAN;
  }
  double ld = mvu_chol_logdet(K, L), lp = 0, dnu = 0;
  if (gS) memset(A, 0, K * K * sizeof *A);
  for (size_t i = 0; i < n; i++) {
    const double *yi = y + (ny > 1 ? i * K : 0), *mi = mu + (nm > 1 ? i * K : 0);
    for (size_t j = 0; j < K; j++) z[j] = yi[j] - mi[j];
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, k, L, k, z, 1);
    double q = cblas_ddot(k, z, 1, z, 1), w = (nu + K) / (nu + q);
    lp -= 0.5 * (nu + K) * log1p(q / nu);
    if (gn) dnu -= 0.5 * log1p(q / nu) - 0.5 * (nu + K) * q / (nu * (nu + q));
    if (gy || gm || gS) {
      memcpy(al, z, K * sizeof *al);
      cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, k, L, k, al, 1);
      if (gy) cblas_daxpy(k, -s * w, al, 1, m->a[0].g + (ny > 1 ? i * K : 0), 1);
      if (gm) cblas_daxpy(k, s * w, al, 1, m->a[2].g + (nm > 1 ? i * K : 0), 1);
      if (gS) cblas_dsyr(CblasRowMajor, CblasLower, k, w, al, 1, A, k);
    }
  }
  double h = 0.5 * (nu + K);
  lp += (double)n * (lgamma(h) - lgamma(0.5 * nu) - 0.5 * K * (log(nu) + BAYES_LOG_PI) - 0.5 * ld);
  if (!isfinite(lp)) return lp;
  if (gn)
    m->a[1].g[0] += s * (dnu + (double)n * 0.5 *
                                   (bayes_digamma(h) - bayes_digamma(0.5 * nu) - K / nu));
  if (gS) {
    mvu_chol_inverse(K, L);
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j <= i; j++)
        A[i * K + j] = -0.5 * ((double)n * L[i * K + j] - A[i * K + j]);
    mvu_add_sym_grad(K, m->a[3].g, A, s);
  }
  return lp;
}

/* y = mu + L z sqrt(nu / w), z ~ N(0, I), w ~ chi^2(nu) */
static int rng(gsl_rng *r, const bayes_mvargs *m, double *out)
{
  const double *mu = m->a[2].x, *S = m->a[3].x;
  double nu = m->a[1].x[0];
  size_t K = m->a[3].s->dim[0];
  size_t no = mvu_rows(m->a[0].s, K), nm = mvu_rows(m->a[2].s, K);
  double *L = m->work, *z = L + K * K;
  const char *bad = params_bad(nu, mu, nm * K);
  if (bad) {
    mvu_err(m->err, 128, "%s", bad);
    return -1;
  }
  if (mvu_chol(K, S, L) != 0) {
    mvu_err(m->err, 128, "scale matrix Sigma is not positive definite");
    return -1;
  }
  for (size_t i = 0; i < no; i++) {
    const double *mi = mu + (nm > 1 ? i * K : 0);
    for (size_t j = 0; j < K; j++) z[j] = gsl_ran_gaussian(r, 1.0);
    cblas_dtrmv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)K, L, (int)K, z, 1);
    double f = sqrt(nu / gsl_ran_chisq(r, nu));
    for (size_t j = 0; j < K; j++) out[i * K + j] = mi[j] + f * z[j];
  }
  return 0;
}

static const char *const names[] = {"nu", "mu", "Sigma"};

const bayes_dist bayes_dist_multi_student_t = {
    .name = "multi_student_t", .nparams = 3, .nparams_min = 3, .param_names = names,
    .support = BAYES_SUPPORT_REAL, .kind = BAYES_DIST_MULTIVARIATE, .mv_shape = shape,
    .mv_check = check, .mv_work = work, .mv_lpdf = lpdf, .mv_rng = rng};
