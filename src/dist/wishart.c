/* wishart.c — wishart(nu, S) (Stan): W a K x K SPD matrix, nu > K - 1, S the K x K SPD
 * scale. Only lower triangles are read. Kernels only: scratch from m->work, no malloc. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

/* l = -nu K/2 log 2 - log Gamma_K(nu/2) - nu/2 log det S + (nu - K - 1)/2 log det W
 *     - tr(S^-1 W)/2;  the matrix terms and their gradients are mvu_wishart_core with
 * P = S, Q = W;  dl/dnu = -K/2 log 2 - psi_K(nu/2)/2 - log det S/2 + log det W/2. */
static double lpdf(const bayes_mvargs *m)
{
  const double *W = m->a[0].x, *S = m->a[2].x;
  double nu = m->a[1].x[0], f, ldS, ldW;
  size_t K = m->a[2].s->dim[0];
  if (!(nu > (double)K - 1 && isfinite(nu))) {
    mvu_err(m->err, 128, "degrees of freedom nu must be finite and greater than K - 1");
    return NAN;
  }
  int rc = mvu_wishart_core(K, S, W, -0.5 * nu, 0.5 * (nu - K - 1), m->a[2].g, m->a[0].g,
                            m->scale, m->work, &f, &ldS, &ldW);
  if (rc == 1) {
    mvu_err(m->err, 128, "scale matrix S is not positive definite");
    return NAN;
  }
  if (rc == 2) return -INFINITY;
  double lp = f - 0.5 * nu * K * BAYES_LOG2 - bayes_lmgamma((int)K, 0.5 * nu);
  if (m->a[1].g)
    m->a[1].g[0] += m->scale * (-0.5 * K * BAYES_LOG2 - 0.5 * mvu_dlmgamma((int)K, 0.5 * nu) -
                                0.5 * ldS + 0.5 * ldW);
  return lp;
}

/* Bartlett: W = (L A)(L A)' with S = L L' and A from mvu_bartlett */
static int rng(gsl_rng *r, const bayes_mvargs *m, double *out)
{
  size_t K = m->a[2].s->dim[0];
  int k = (int)K;
  double *L, *A;
  if (mvu_wishart_rng_start(r, m, &L, &A) != 0) return -1;
  cblas_dtrmm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, k, k, 1.0, L, k,
              A, k);
  cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, k, k, 1.0, A, k, 0.0, out, k);
  mvu_symmetrize(K, out);
  return 0;
}

static const char *const names[] = {"nu", "S"};

const bayes_dist bayes_dist_wishart = {
    .name = "wishart", .nparams = 2, .nparams_min = 2, .param_names = names,
    .support = BAYES_SUPPORT_COV, .kind = BAYES_DIST_MULTIVARIATE, .mv_shape = mvu_wishart_shape,
    .mv_check = mvu_wishart_check, .mv_work = mvu_wishart_work, .mv_lpdf = lpdf, .mv_rng = rng};
