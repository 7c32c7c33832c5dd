/* cov.c — "cov" (symmetric positive definite K x K, x = L L') and "cholesky_cov" (its
 * Cholesky factor L, positive diagonal) from K(K+1)/2 values: L's lower triangle read row
 * by row with log() on the diagonal (Stan reference manual, "Covariance matrices",
 * "Cholesky factors of covariance matrices"). L is the input itself: no scratch needed. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lapacke.h>

#include "special.h"
#include "transform.h"

static long unc_size(const bayes_shape *x, char *err, size_t errlen)
{
  char sb[64];
  if (x->rank != 2 || x->dim[0] != x->dim[1] || x->dim[0] < 1) {
    snprintf(err, errlen, "a covariance matrix or its Cholesky factor needs a square matrix "
             "shape [K, K] with K >= 1, not %s", bayes_shape_str(x, sb, sizeof sb));
    return -1;
  }
  return (long)(x->dim[0] * (x->dim[0] + 1) / 2);
}

static size_t idx(size_t i, size_t j) { return i * (i + 1) / 2 + j; }

/* L_ij for j <= i */
static double Lval(const double *u, size_t i, size_t j)
{
  double w = u[idx(i, j)];
  return i == j ? exp(w) : w;
}

/* Stan's cov_matrix_constrain: log|d Sigma / du| over the lower triangle of Sigma is
 * K log 2 + sum_k (K - k + 2) u_kk (1-based k). dSigma/dL is triangular in row-major
 * order with diagonal 2 L_ii (for Sigma_ii) and L_jj (for Sigma_ij, i > j), so it
 * contributes 2^K prod_j L_jj^(K - j) (1-based j); exp on the diagonal adds one more L_jj. */
static void cov_fwd(const bayes_bound *b)
{
  const double *u = b->x[0];
  double *x = b->y[0];
  size_t K = b->ys[0]->dim[0];
  double lj = (double)K * BAYES_LOG2;
  for (size_t i = 0; i < K; i++) {
    for (size_t j = 0; j <= i; j++) {
      double s = 0;
      for (size_t m = 0; m <= j; m++) s += Lval(u, i, m) * Lval(u, j, m);
      x[i * K + j] = x[j * K + i] = s;
    }
    lj += (double)(K - i + 1) * u[idx(i, i)];
  }
  b->y[1][0] = lj;
}

/* Adjoint of L from the adjoint G of Sigma = L L': (G + G') L, then d exp on the diagonal. */
static void cov_bwd(const bayes_bound *b)
{
  const double *u = b->x[0], *G = b->gy[0];
  double *gu = b->gx[0];
  size_t K = b->ys[0]->dim[0];
  if (!gu) return;
  double gj = b->gy[1] ? b->gy[1][0] : 0.0;
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j <= i; j++) {
      double g = 0;
      if (G)
        for (size_t m = j; m < K; m++) g += (G[i * K + m] + G[m * K + i]) * Lval(u, m, j);
      if (i == j) g = g * exp(u[idx(i, i)]) + gj * (double)(K - i + 1);
      gu[idx(i, j)] += g;
    }
}

/* log|dL/du| = sum_i u_ii (only the diagonal is transformed) */
static void chol_fwd(const bayes_bound *b)
{
  const double *u = b->x[0];
  double *x = b->y[0];
  size_t K = b->ys[0]->dim[0];
  double lj = 0;
  for (size_t i = 0; i < K; i++) {
    for (size_t j = 0; j < K; j++) x[i * K + j] = j <= i ? Lval(u, i, j) : 0.0;
    lj += u[idx(i, i)];
  }
  b->y[1][0] = lj;
}

static void chol_bwd(const bayes_bound *b)
{
  const double *u = b->x[0], *G = b->gy[0];
  double *gu = b->gx[0];
  size_t K = b->ys[0]->dim[0];
  if (!gu) return;
  double gj = b->gy[1] ? b->gy[1][0] : 0.0;
  for (size_t i = 0; i < K; i++) {
    if (G)
      for (size_t j = 0; j < i; j++) gu[idx(i, j)] += G[i * K + j];
    gu[idx(i, i)] += (G ? G[i * K + i] * exp(u[idx(i, i)]) : 0.0) + gj;
  }
}

static void unc_from_L(const double *L, size_t K, double *u)
{
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j <= i; j++) u[idx(i, j)] = i == j ? log(L[i * K + i]) : L[i * K + j];
}

static int cov_inverse(const double *x, const bayes_shape *s, const double *const *bounds,
                       const size_t *bn, double *u, char *err, size_t errlen)
{
  size_t K = s->dim[0];
  if (bayes_xform_check_finite(x, K, err, errlen)) return -1;
  /* relative tolerance: covariances of any scale, written with ~15 significant digits */
  return bayes_xform_spd_inverse(x, K, true, unc_from_L, u, err, errlen);
}

static int chol_inverse(const double *x, const bayes_shape *s, const double *const *bounds,
                        const size_t *bn, double *u, char *err, size_t errlen)
{
  size_t K = s->dim[0];
  if (bayes_xform_check_cholesky(x, K, false, err, errlen)) return -1;
  unc_from_L(x, K, u);
  return 0;
}

static const bayes_op cov_op = {.name = "xform_cov", .fwd = cov_fwd, .bwd = cov_bwd};
static const bayes_op chol_op = {.name = "xform_cholesky_cov", .fwd = chol_fwd, .bwd = chol_bwd};

const bayes_transform bayes_transform_cov = {
    .name = "cov", .nbounds = 0, .unc_size = unc_size, .op = &cov_op, .inverse = cov_inverse};
const bayes_transform bayes_transform_cholesky_cov = {
    .name = "cholesky_cov", .nbounds = 0, .unc_size = unc_size, .op = &chol_op,
    .inverse = chol_inverse};
