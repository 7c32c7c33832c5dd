/* cholesky_corr.c — "cholesky_corr" (Cholesky factor L of a correlation matrix) and
 * "corr" (the correlation matrix L L'), both from K(K-1)/2 unconstrained values through
 * canonical partial correlations z = tanh(u) (Stan reference manual, "Cholesky factors of
 * correlation matrices", "Correlation matrices"). No scratch memory: see corr's bwd. */
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
    snprintf(err, errlen, "a correlation matrix or its Cholesky factor needs a square matrix "
             "shape [K, K] with K >= 1, not %s", bayes_shape_str(x, sb, sizeof sb));
    return -1;
  }
  return (long)(x->dim[0] * (x->dim[0] - 1) / 2);
}

/* log(1 - tanh(w)^2) = -2 log cosh(w), without forming 1 - tanh^2 (0 for |w| > 19) */
static double log1m_tanh2(double w)
{
  double a = fabs(w);
  return 2.0 * (BAYES_LOG2 - a - log1p(exp(-2.0 * a)));
}

/* sqrt(1 - tanh(w)^2), exact where 1 - tanh^2 has rounded to 0 */
static double sech(double w) { return 1.0 / cosh(w); }

/* Writes L into the lower triangle (with diagonal) of the row-major K x K x; u is read
 * row by row over the strictly lower triangle (Stan's order). Row i (0-based):
 *   L_ij = z_ij v_j,  v_0 = 1,  v_{j+1} = v_j sqrt(1 - z_ij^2),  L_ii = v_i,
 * the remaining length v kept as a product (never sqrt(1 - sum of squares)).
 * Returns the log-Jacobian sum_{i>j} (m - j)/2 log(1 - z_ij^2), where m = i + 1 for L
 * and m = K for L L' (derivation in the bwd comment). */
static double build_L(const double *u, size_t K, double *x, bool corr)
{
  double lj = 0;
  size_t p = 0;
  for (size_t i = 0; i < K; i++) {
    double v = 1.0, m = corr ? (double)K : (double)(i + 1);
    for (size_t j = 0; j < i; j++, p++) {
      double w = u[p];
      x[i * K + j] = tanh(w) * v;
      v *= sech(w);
      lj += 0.5 * (m - (double)j) * log1m_tanh2(w);
    }
    x[i * K + i] = v;
  }
  return lj;
}

/* Replace L (lower part) by the correlation matrix kept in the strict upper part. */
static void restore_corr(double *x, size_t K)
{
  for (size_t i = 0; i < K; i++) {
    for (size_t j = 0; j < i; j++) x[i * K + j] = x[j * K + i];
    x[i * K + i] = 1.0;
  }
}

static void chol_fwd(const bayes_bound *b)
{
  size_t K = b->ys[0]->dim[0];
  double *x = b->y[0];
  b->y[1][0] = build_L(b->x[0], K, x, false);
  for (size_t i = 0; i < K; i++)
    for (size_t j = i + 1; j < K; j++) x[i * K + j] = 0.0;
}

static void corr_fwd(const bayes_bound *b)
{
  size_t K = b->ys[0]->dim[0];
  double *x = b->y[0];
  b->y[1][0] = build_L(b->x[0], K, x, true);
  /* Omega = L L' into the strict upper triangle, which L does not occupy, then mirrored */
  for (size_t i = 1; i < K; i++)
    for (size_t j = 0; j < i; j++) {
      double s = 0;
      for (size_t m = 0; m <= j; m++) s += x[i * K + m] * x[j * K + m];
      x[j * K + i] = s;
    }
  restore_corr(x, K);
}

/* Adjoint of L_ij from the adjoint G of Omega = L L': ((G + G') L)_ij. The diagonal of
 * Omega is set to exactly 1, a constant, so G_ii does not contribute. */
static double corr_gL(const double *G, const double *L, size_t K, size_t i, size_t j)
{
  double s = 0;
  for (size_t m = j; m < K; m++)
    if (m != i) s += (G[i * K + m] + G[m * K + i]) * L[m * K + j];
  return s;
}

/* Reverse sweep of each row, j = i-1 down to 0, with gv the adjoint of v_{j+1}:
 *   d/du_ij = v_j c_j (g_ij c_j - gv z_ij),  gv <- g_ij z_ij + gv c_j,
 * c_j = sech(u_ij) = sqrt(1 - z^2), dz/du = c^2; v_j^2 = v_{j+1}^2 + L_ij^2 is rebuilt from
 * the outputs. Log-Jacobian of L: the tanh gives log(1 - z^2) per entry, and the row map
 * (z_i -> strictly lower L_i) is triangular with diagonal dL_ij/dz_ij = v_j, so
 * sum_j log v_j = 1/2 sum_{l<j<i} log(1 - z_il^2) adds (i - 1 - l)/2 to entry (i, l):
 * (i + 1 - l)/2 in all, as Stan's cholesky_corr_constrain accumulates. For Omega = L L',
 * dOmega_ij/dL (strictly lower, row-major) is triangular with diagonal L_jj, adding
 * sum_j (K - 1 - j) log L_jj, i.e. (K - 1 - i)/2 more per entry of row i: (K - l)/2,
 * which is the exponent of Joe (2006) eq. 11 that Stan's read_corr_L uses, plus the tanh
 * term. d/du [(m - l)/2 log(1 - tanh(u)^2)] = -(m - l) tanh(u).
 * corr needs L, which its output no longer holds: it is rebuilt into the lower triangle
 * of the output buffer (Omega survives in the strict upper part) and the output is
 * restored bit for bit before returning. That keeps the op free of workspace. */
static void bwd_common(const bayes_bound *b, bool corr)
{
  const double *u = b->x[0], *G = b->gy[0];
  double *gu = b->gx[0], *x = b->y[0];
  size_t K = b->ys[0]->dim[0];
  if (!gu) return;
  double gj = b->gy[1] ? b->gy[1][0] : 0.0;
  if (G && corr) build_L(u, K, x, true);
  size_t p0 = 0;
  for (size_t i = 0; i < K; i++) {
    const double *Li = x + i * K;
    double m = corr ? (double)K : (double)(i + 1);
    double gv = 0, vsq = Li[i] * Li[i];
    if (G) gv = corr ? corr_gL(G, x, K, i, i) : G[i * K + i];
    for (size_t j = i; j-- > 0;) {
      double w = u[p0 + j], z = tanh(w), c = sech(w);
      double ga = -gj * (m - (double)j) * z;
      if (G) {
        double g = corr ? corr_gL(G, x, K, i, j) : G[i * K + j];
        vsq += Li[j] * Li[j];
        ga += sqrt(vsq) * c * (g * c - gv * z);
        gv = g * z + gv * c;
      }
      gu[p0 + j] += ga;
    }
    p0 += i;
  }
  if (G && corr) restore_corr(x, K);
}

static void chol_bwd(const bayes_bound *b) { bwd_common(b, false); }
static void corr_bwd(const bayes_bound *b) { bwd_common(b, true); }

/* u from the lower triangle of L whose rows have positive diagonal: z_ij = L_ij / v_j
 * with v_j the norm of L_i,j..i (summed from the diagonal, so rows of any positive length
 * are normalised), u = atanh(z). */
static void unc_from_L(const double *L, size_t K, double *u)
{
  size_t p0 = 0;
  for (size_t i = 0; i < K; i++) {
    double vsq = L[i * K + i] * L[i * K + i];
    for (size_t j = i; j-- > 0;) {
      vsq += L[i * K + j] * L[i * K + j];
      u[p0 + j] = atanh(L[i * K + j] / sqrt(vsq));
    }
    p0 += i;
  }
}

static int chol_inverse(const double *x, const bayes_shape *s, const double *const *bounds,
                        const size_t *bn, double *u, char *err, size_t errlen)
{
  size_t K = s->dim[0];
  if (bayes_xform_check_cholesky(x, K, true, err, errlen)) return -1;
  unc_from_L(x, K, u);
  return 0;
}

static int corr_inverse(const double *x, const bayes_shape *s, const double *const *bounds,
                        const size_t *bn, double *u, char *err, size_t errlen)
{
  size_t K = s->dim[0];
  if (bayes_xform_check_finite(x, K, err, errlen)) return -1;
  for (size_t i = 0; i < K; i++) {
    if (fabs(x[i * K + i] - 1.0) > 1e-8) {
      snprintf(err, errlen, "diagonal element [%zu, %zu] (value %.15g) is not 1", i + 1, i + 1,
               x[i * K + i]);
      return -1;
    }
  }
  return bayes_xform_spd_inverse(x, K, false, unc_from_L, u, err, errlen);
}

static const bayes_op chol_op = {.name = "xform_cholesky_corr", .fwd = chol_fwd, .bwd = chol_bwd};
static const bayes_op corr_op = {.name = "xform_corr", .fwd = corr_fwd, .bwd = corr_bwd};

const bayes_transform bayes_transform_cholesky_corr = {
    .name = "cholesky_corr", .nbounds = 0, .unc_size = unc_size, .op = &chol_op,
    .inverse = chol_inverse};
const bayes_transform bayes_transform_corr = {
    .name = "corr", .nbounds = 0, .unc_size = unc_size, .op = &corr_op,
    .inverse = corr_inverse};
