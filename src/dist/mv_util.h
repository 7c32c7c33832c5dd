/* mv_util.h — static inline helpers private to the discrete and multivariate distribution
 * files (element driver, [K] / [N, K] shape checks, Cholesky, LKJ and Wishart pieces).
 * Nothing here allocates, prints or keeps state. */
#ifndef BAYES_DIST_MV_UTIL_H
#define BAYES_DIST_MV_UTIL_H

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* CBLAS prototypes come from GSL's gsl_cblas.h, not OpenBLAS's cblas.h: gsl_randist.h
 * already includes the former (through gsl_matrix.h) and the two headers conflict. The
 * symbols are the standard CBLAS ones, resolved by the BLAS library we link (OpenBLAS). */
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>
#include <lapacke.h>

#include "dist.h"
#include "special.h"

/* ---------------------------------------------------------------- univariate driver */

/* Per-element kernel: x[0] is the variate, x[1..] the parameters. Returns the log density
 * (NAN for invalid parameters, -INFINITY outside the support); if g != NULL it stores
 * d l / d x[k] in g[k] (g arrives zeroed). */
typedef double (*mvu_elem_fn)(const double *x, double *g);

/* Applies f to every element of d and implements the accumulation contract of dist.h.
 * One driver for all discrete files so that broadcasting, weights and scale are handled
 * in a single place. */
static inline double mvu_elementwise(const bayes_dargs *d, int nargs, mvu_elem_fn f)
{
  double x[BAYES_DIST_MAXARG], g[BAYES_DIST_MAXARG], total = 0;
  bool grad = false;
  for (int k = 0; k < nargs; k++)
    if (d->a[k].g) grad = true;
  for (size_t i = 0; i < d->n; i++) {
    for (int k = 0; k < nargs; k++) {
      x[k] = d->a[k].x[i * d->a[k].inc];
      g[k] = 0;
    }
    double lp = f(x, grad ? g : NULL);
    if (d->pw) d->pw[i] = lp;
    total += lp;
    if (grad && isfinite(lp)) {
      double s = d->scale * (d->w ? d->w[i] : 1.0);
      for (int k = 0; k < nargs; k++)
        if (d->a[k].g) d->a[k].g[i * d->a[k].inc] += s * g[k];
    }
  }
  return total;
}

static inline bool mvu_is_int(double y) { return isfinite(y) && y == floor(y); }
static inline bool mvu_is_nonneg_int(double y) { return mvu_is_int(y) && y >= 0; }

/* y log(p) with the convention 0 log 0 = 0 (a pmf term with zero exponent). */
static inline double mvu_xlogy(double y, double p) { return y == 0 ? 0.0 : y * log(p); }

/* Richardson-extrapolated central difference of f at x (step h, h/2, h/4): error
 * O(h^6) (Press et al., Numerical Recipes 3rd ed., §5.7). Used only where no closed form
 * of a parameter derivative exists (derivative of the incomplete beta in its shape). */
static inline double mvu_richardson(double (*f)(double, const void *), const void *ctx,
                                    double x, double h)
{
  double d[3];
  for (int j = 0; j < 3; j++, h *= 0.5) d[j] = (f(x + h, ctx) - f(x - h, ctx)) / (2 * h);
  double e1 = (4 * d[1] - d[0]) / 3, e2 = (4 * d[2] - d[1]) / 3;
  return (16 * e2 - e1) / 15;
}

/* ---------------------------------------------------------------- shapes and errors */

static inline void mvu_err(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void mvu_err(char *err, size_t len, const char *fmt, ...)
{
  if (!err || !len) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, len, fmt, ap);
  va_end(ap);
}

/* "length 4" for a vector, "shape [3, 4]" otherwise (for messages naming two shapes). */
static inline const char *mvu_desc(const bayes_shape *s, char *buf, size_t len)
{
  char sb[64];
  if (s->rank == 1) snprintf(buf, len, "length %zu", s->dim[0]);
  else snprintf(buf, len, "shape %s", bayes_shape_str(s, sb, sizeof sb));
  return buf;
}

/* Rows of an argument that is one K-vector ([K]: 1 row) or several ([N, K]: N rows);
 * 0 if the shape is neither. */
static inline size_t mvu_rows(const bayes_shape *s, size_t K)
{
  if (s->rank == 1 && s->dim[0] == K) return 1;
  if (s->rank == 2 && s->dim[1] == K) return s->dim[0];
  return 0;
}

/* Whether s is a square matrix; its order in *K. */
static inline bool mvu_square(const bayes_shape *s, size_t *K)
{
  if (s->rank != 2 || s->dim[0] != s->dim[1]) return false;
  *K = s->dim[0];
  return true;
}

/* Checks that variate y ([K] or [N, K]) and a per-row parameter p ([K] or [M, K]) fit
 * together (rows 1 or equal); names both shapes on failure. */
static inline int mvu_check_rows(const bayes_shape *y, const char *yname,
                                 const bayes_shape *p, const char *pname, size_t K,
                                 char *err, size_t len)
{
  char b1[64], b2[64];
  size_t ny = mvu_rows(y, K), np = mvu_rows(p, K);
  if (np == 0) {
    mvu_err(err, len, "%s has %s but must be a vector of length %zu or a matrix with %zu columns",
            pname, mvu_desc(p, b1, sizeof b1), K, K);
    return -1;
  }
  if (ny == 0 || (ny != np && ny != 1 && np != 1)) {
    mvu_err(err, len, "%s has %s but %s has %s", yname, mvu_desc(y, b1, sizeof b1), pname,
            mvu_desc(p, b2, sizeof b2));
    return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- dense linear algebra */
/* All matrices are K x K, row-major. Only the lower triangle of a symmetric input is
 * read (as LAPACK's dpotrf with 'L'): the upper triangle is ignored, so a density is a
 * function of the lower-triangle entries and its gradient lives there. */

/* Copies the lower triangle of a into l (upper zeroed) and factors it in place.
 * Returns LAPACK's info (0: a is positive definite). */
static inline int mvu_chol(size_t K, const double *a, double *l)
{
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++) l[i * K + j] = j <= i ? a[i * K + j] : 0.0;
  if (K == 0) return 0;
  return (int)LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)K, l, (lapack_int)K);
}

/* log det of L L' from its Cholesky factor. */
static inline double mvu_chol_logdet(size_t K, const double *l)
{
  double s = 0;
  for (size_t i = 0; i < K; i++) s += log(l[i * K + i]);
  return 2 * s;
}

/* Turns a Cholesky factor (lower, in place) into the full symmetric inverse. */
static inline int mvu_chol_inverse(size_t K, double *l)
{
  if (K == 0) return 0;
  int info = (int)LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)K, l, (lapack_int)K);
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < i; j++) l[j * K + i] = l[i * K + j];
  return info;
}

/* Fills the upper triangle of a from its lower triangle. */
static inline void mvu_symmetrize(size_t K, double *a)
{
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < i; j++) a[j * K + i] = a[i * K + j];
}

/* Adds s * G (G symmetric: the gradient with respect to a symmetric matrix) onto the
 * gradient of a matrix of which only the lower triangle is read: an off-diagonal entry
 * of the lower triangle stands for both (i, j) and (j, i), so it receives 2 G_ij; the
 * diagonal receives G_ii; the (unread) upper triangle receives nothing. */
static inline void mvu_add_sym_grad(size_t K, double *g, const double *G, double s)
{
  for (size_t i = 0; i < K; i++) {
    for (size_t j = 0; j < i; j++) g[i * K + j] += 2 * s * G[i * K + j];
    g[i * K + i] += s * G[i * K + i];
  }
}

/* ---------------------------------------------------------------- LKJ */

/* log c_K(eta), the LKJ normalising constant: the density of a K x K correlation matrix R
 * is det(R)^(eta - 1) / c_K(eta) with
 *   c_K(eta) = 2^(sum_{k=1}^{K-1} (2 eta - 2 + K - k)(K - k))
 *              * prod_{k=1}^{K-1} B(eta + (K - k - 1)/2, eta + (K - k - 1)/2)^(K - k)
 * (Lewandowski, Kurowicka & Joe 2009, J. Multivariate Anal. 100, eqs. 15-16; the same
 * constant as Stan's do_lkj_constant). d log c_K / d eta goes to *deta if non-NULL. */
static inline double mvu_lkj_log_c(double eta, size_t K, double *deta)
{
  double lc = 0, d = 0;
  for (size_t k = 1; k < K; k++) {
    double m = (double)(K - k), b = eta + 0.5 * (m - 1);
    lc += (2 * eta - 2 + m) * m * BAYES_LOG2 + m * bayes_lbeta(b, b);
    /* d/d eta lbeta(b, b) = 2 (psi(b) - psi(2b)) */
    d += 2 * m * BAYES_LOG2 + 2 * m * (bayes_digamma(b) - bayes_digamma(2 * b));
  }
  if (deta) *deta = d;
  return lc;
}

/* Draws the Cholesky factor L (K x K, row-major, upper zeroed) of an LKJ(eta) correlation
 * matrix by the C-vine method (Lewandowski et al. 2009, section 2.4): the partial
 * correlations of level i (0-based) are 2 Beta(b_i, b_i) - 1 with b_i = eta + (K-2-i)/2,
 * mapped to L column by column as in Stan's read_corr_L. acc (K doubles) is scratch. */
static inline void mvu_lkj_chol_rng(gsl_rng *r, double eta, size_t K, double *L, double *acc)
{
  memset(L, 0, K * K * sizeof *L);
  if (K == 0) return;
  for (size_t j = 0; j < K; j++) acc[j] = 1.0;
  for (size_t i = 0; i < K; i++) {
    L[i * K + i] = sqrt(acc[i]);
    double b = eta + 0.5 * ((double)K - 2 - (double)i);
    for (size_t j = i + 1; j < K; j++) {
      double z = 2 * gsl_ran_beta(r, b, b) - 1;
      L[j * K + i] = z * sqrt(acc[j]);
      acc[j] *= 1 - z * z;
    }
  }
}

/* Tolerance of the simplex / unit-diagonal / unit-row checks. Deliberately loose: the
 * transforms produce exact simplexes and correlation factors, so the check is there to
 * catch unnormalised data (counts, weights); the densities are evaluated as formulas in
 * every entry, and finite-difference tests perturb single entries by ~1e-4. */
#define MVU_SHAPE_TOL 1e-3

/* ---------------------------------------------------------------- Wishart */

/* sum_{j=1}^K psi(x + (1 - j)/2) = d/dx log Gamma_K(x) (the multivariate gamma). */
static inline double mvu_dlmgamma(int K, double x)
{
  double s = 0;
  for (int j = 1; j <= K; j++) s += bayes_digamma(x + (1.0 - j) / 2.0);
  return s;
}

/* The shared core of the Wishart and inverse Wishart densities:
 *   f(P, Q) = a log det P + b log det Q - tr(P^-1 Q) / 2
 * (wishart: P = S, Q = W, a = -nu/2, b = (nu - K - 1)/2; inv_wishart: P = W, Q = S,
 * a = -(nu + K + 1)/2, b = nu/2; Stan's functions reference). With P = Lp Lp',
 * tr(P^-1 Q) = ||Lp^-1 Lq||_F^2. Symmetric-matrix gradients (Magnus & Neudecker, ch. 8):
 *   df/dP = a P^-1 + P^-1 Q P^-1 / 2 = a P^-1 + X X' / 2 with X = Lp^-T Lp^-1 Lq,
 *   df/dQ = b Q^-1 - P^-1 / 2,
 * added (times s, lower-triangle convention of mvu_add_sym_grad) to gP / gQ if non-NULL.
 * Stores log det P and log det Q. work: 4 K^2 doubles. Returns 0, 1 if P is not positive
 * definite, 2 if Q is not. */
static inline int mvu_wishart_core(size_t K, const double *P, const double *Q, double a,
                                   double b, double *gP, double *gQ, double s, double *work,
                                   double *f, double *ldP, double *ldQ)
{
  double *Lp = work, *Lq = Lp + K * K, *M = Lq + K * K, *T = M + K * K;
  int n = (int)K;
  if (mvu_chol(K, P, Lp) != 0) return 1;
  if (mvu_chol(K, Q, Lq) != 0) return 2;
  *ldP = mvu_chol_logdet(K, Lp);
  *ldQ = mvu_chol_logdet(K, Lq);
  memcpy(M, Lq, K * K * sizeof *M);
  cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, n, n, 1.0, Lp,
              n, M, n);
  double tr = 0;
  for (size_t i = 0; i < K * K; i++) tr += M[i] * M[i];
  *f = a * *ldP + b * *ldQ - 0.5 * tr;
  if (!gP && !gQ) return 0;
  if (gP) {
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, n, n, 1.0, Lp,
                n, M, n);
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, n, n, 1.0, M, n, 0.0, T, n);
  }
  mvu_chol_inverse(K, Lp); /* Lp := P^-1 */
  if (gP) {
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j <= i; j++) T[i * K + j] = a * Lp[i * K + j] + 0.5 * T[i * K + j];
    mvu_add_sym_grad(K, gP, T, s);
  }
  if (gQ) {
    mvu_chol_inverse(K, Lq); /* Lq := Q^-1 */
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j <= i; j++) Lq[i * K + j] = b * Lq[i * K + j] - 0.5 * Lp[i * K + j];
    mvu_add_sym_grad(K, gQ, Lq, s);
  }
  return 0;
}

/* Bartlett factor: A lower triangular (K x K, row-major) with A_ii = sqrt(chi^2(nu - i))
 * (0-based i) and A_ij ~ N(0, 1) below the diagonal, so that L A A' L' ~ Wishart(nu, L L')
 * (Bartlett 1933; Smith & Hocking 1972, Appl. Stat. 21, algorithm AS 53). */
static inline void mvu_bartlett(gsl_rng *r, double nu, size_t K, double *A)
{
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++)
      A[i * K + j] = j < i ? gsl_ran_gaussian(r, 1.0)
                   : j == i ? sqrt(gsl_ran_chisq(r, nu - (double)i)) : 0.0;
}


/* ---- shared shape rules ---- */

/* wishart(nu, S) and inv_wishart(nu, S): nu a scalar, S a K x K matrix, the variate like S */
static inline int mvu_wishart_shape(int nargs, const bayes_shape *const *s, bayes_shape *v,
                                    char *err, size_t len)
{
  char b[64];
  size_t K;
  (void)nargs;
  if (s[1]->rank != 0) {
    mvu_err(err, len, "nu has %s but must be a scalar", mvu_desc(s[1], b, sizeof b));
    return -1;
  }
  if (!mvu_square(s[2], &K) || K < 1) {
    mvu_err(err, len, "S has %s but must be a non-empty square matrix", mvu_desc(s[2], b, sizeof b));
    return -1;
  }
  *v = *s[2];
  return 0;
}

static inline int mvu_wishart_check(int nargs, const bayes_shape *const *s, char *err,
                                    size_t len)
{
  char b1[64], b2[64];
  bayes_shape v;
  if (mvu_wishart_shape(nargs, s, &v, err, len)) return -1;
  if (!bayes_shape_eq(s[0], s[2])) {
    mvu_err(err, len, "W has %s but S has %s", mvu_desc(s[0], b1, sizeof b1),
            mvu_desc(s[2], b2, sizeof b2));
    return -1;
  }
  return 0;
}

static inline size_t mvu_wishart_work(int nargs, const bayes_shape *const *s)
{
  (void)nargs;
  size_t K = s[2]->dim[0];
  return 4 * K * K;
}

/* multi_normal(mu, M) and multi_normal_cholesky(mu, M): mu a K-vector (or rows of them),
 * M (named `mname` in messages) a K x K matrix; the variate like mu */
static inline int mvu_mvn_shape(const bayes_shape *const *s, bayes_shape *v, const char *mname,
                                char *err, size_t len)
{
  char b1[64], b2[64];
  size_t K;
  if (!mvu_square(s[2], &K) || K < 1) {
    mvu_err(err, len, "%s has %s but must be a non-empty square matrix", mname,
            mvu_desc(s[2], b1, sizeof b1));
    return -1;
  }
  if (mvu_rows(s[1], K) == 0) {
    mvu_err(err, len, "mu has %s but %s has %s", mvu_desc(s[1], b1, sizeof b1), mname,
            mvu_desc(s[2], b2, sizeof b2));
    return -1;
  }
  *v = *s[1];
  return 0;
}

static inline int mvu_mvn_check(const bayes_shape *const *s, const char *mname, char *err,
                                size_t len)
{
  bayes_shape v;
  if (mvu_mvn_shape(s, &v, mname, err, len)) return -1;
  return mvu_check_rows(s[0], "y", s[1], "mu", s[2]->dim[0], err, len);
}


/* lkj_corr(eta) and lkj_corr_cholesky(eta): eta a scalar; the K x K variate's shape comes
 * from the declaration (the compiler passes it in shapes[0]). `dname` names the
 * distribution, `vname` and `noun` the variate in messages. */
static inline int mvu_lkj_shape(const bayes_shape *const *s, bayes_shape *v, const char *dname,
                                char *err, size_t len)
{
  size_t K;
  char b[64];
  if (s[1]->rank != 0) {
    mvu_err(err, len, "eta has %s but must be a scalar", mvu_desc(s[1], b, sizeof b));
    return -1;
  }
  if (!s[0] || !mvu_square(s[0], &K) || K < 1) {
    mvu_err(err, len, "%s needs a shape, e.g. %s(2) [3, 3]", dname, dname);
    return -1;
  }
  *v = *s[0];
  return 0;
}

static inline int mvu_lkj_check(const bayes_shape *const *s, const char *dname,
                                const char *vname, const char *noun, char *err, size_t len)
{
  char b[64];
  size_t K;
  if (!mvu_square(s[0], &K) || K < 1) {
    mvu_err(err, len, "%s has %s but %s must be square", vname, mvu_desc(s[0], b, sizeof b),
            noun);
    return -1;
  }
  bayes_shape v;
  return mvu_lkj_shape(s, &v, dname, err, len);
}

/* The common start of the Wishart-family draws: checks nu, factors S = L L' into
 * m->work and draws the Bartlett factor A (after L in m->work). Returns 0 or -1 with a
 * message in m->err. */
static inline int mvu_wishart_rng_start(gsl_rng *r, const bayes_mvargs *m, double **L,
                                        double **A)
{
  const double *S = m->a[2].x;
  double nu = m->a[1].x[0];
  size_t K = m->a[2].s->dim[0];
  *L = m->work;
  *A = *L + K * K;
  if (!(nu > (double)K - 1 && isfinite(nu))) {
    mvu_err(m->err, 128, "degrees of freedom nu must be finite and greater than K - 1");
    return -1;
  }
  if (mvu_chol(K, S, *L) != 0) {
    mvu_err(m->err, 128, "scale matrix S is not positive definite");
    return -1;
  }
  mvu_bartlett(r, nu, K, *A);
  return 0;
}


/* no draws of mu + L z, z ~ N(0, I): one row of `out` each; mu has nm rows (1: shared).
 * z is K doubles of scratch. */
static inline void mvu_mvn_draw(gsl_rng *r, size_t no, size_t nm, size_t K, const double *mu,
                                const double *L, double *z, double *out)
{
  for (size_t i = 0; i < no; i++) {
    const double *mi = mu + (nm > 1 ? i * K : 0);
    for (size_t j = 0; j < K; j++) z[j] = gsl_ran_gaussian(r, 1.0);
    cblas_dtrmv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)K, L, (int)K, z, 1);
    for (size_t j = 0; j < K; j++) out[i * K + j] = mi[j] + z[j];
  }
}

#endif
