/* lkj_corr.c — lkj_corr(eta): det(Omega)^(eta - 1) / c_K(eta) on K x K correlation
 * matrices (LKJ 2009); K comes from the variate's declared shape, only its lower triangle
 * is read. Kernels only: scratch comes from m->work, never malloc. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static int shape(int nargs, const bayes_shape *const *s, bayes_shape *v, char *err, size_t len)
{
  (void)nargs;
  return mvu_lkj_shape(s, v, "lkj_corr", err, len);
}

static int check(int nargs, const bayes_shape *const *s, char *err, size_t len)
{
  (void)nargs;
  return mvu_lkj_check(s, "lkj_corr", "y", "a correlation matrix", err, len);
}

static size_t work(int nargs, const bayes_shape *const *s)
{
  size_t K = s[0]->rank == 2 ? s[0]->dim[0] : 0;
  return K * K + K;
}

/* l = (eta - 1) log det Omega - log c_K(eta);
 * dl/dOmega = (eta - 1) Omega^-1 (symmetric), dl/deta = log det Omega - d log c_K / deta.
 * Omega not positive definite, or a diagonal entry off 1 by more than MVU_SHAPE_TOL, is
 * outside the support. */
static double lpdf(const bayes_mvargs *m)
{
  const double *O = m->a[0].x;
  double eta = m->a[1].x[0], dc;
  size_t K = m->a[0].s->dim[0];
  double *L = m->work;
  if (!(eta > 0 && isfinite(eta))) {
    mvu_err(m->err, 128, "shape eta must be positive and finite");
    return NAN;
  }
  for (size_t i = 0; i < K; i++)
    if (fabs(O[i * K + i] - 1) > MVU_SHAPE_TOL) return -INFINITY;
  if (mvu_chol(K, O, L) != 0) return -INFINITY;
  double ld = mvu_chol_logdet(K, L);
  if (!isfinite(ld)) return -INFINITY;
  double lp = (eta - 1) * ld - mvu_lkj_log_c(eta, K, &dc);
  if (m->a[1].g) m->a[1].g[0] += m->scale * (ld - dc);
  if (m->a[0].g) {
    mvu_chol_inverse(K, L);
    for (size_t i = 0; i < K * K; i++) L[i] *= eta - 1;
    mvu_add_sym_grad(K, m->a[0].g, L, m->scale);
  }
  return lp;
}

/* Omega = L L' with L from the C-vine draw of lkj_corr_cholesky */
static int rng(gsl_rng *r, const bayes_mvargs *m, double *out)
{
  double eta = m->a[1].x[0];
  size_t K = m->a[0].s->dim[0];
  double *L = m->work, *acc = L + K * K;
  if (!(eta > 0 && isfinite(eta))) {
    mvu_err(m->err, 128, "shape eta must be positive and finite");
    return -1;
  }
  mvu_lkj_chol_rng(r, eta, K, L, acc);
  cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)K, (int)K, 1.0, L, (int)K, 0.0,
              out, (int)K);
  mvu_symmetrize(K, out);
  for (size_t i = 0; i < K; i++) out[i * K + i] = 1.0; /* exact unit diagonal */
  return 0;
}

static const char *const names[] = {"eta"};

const bayes_dist bayes_dist_lkj_corr = {
    .name = "lkj_corr", .nparams = 1, .nparams_min = 1, .param_names = names,
    .support = BAYES_SUPPORT_CORR, .kind = BAYES_DIST_MULTIVARIATE, .mv_shape = shape,
    .mv_check = check, .mv_work = work, .mv_lpdf = lpdf, .mv_rng = rng};
