/* ops_linalg.c — matrix functions of the expression language (spec §2, §4): the @ and '
 * operators, Cholesky, LU-based inverse / determinants / solves and small structural
 * helpers, each with its reverse mode. fwd/bwd never allocate: LAPACK is called through
 * the *_work column-major entry points (the row-major LAPACKE wrappers allocate a
 * transposed copy) and all scratch lives in the instruction's work area. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "func.h"

/* Largest n accepted by identity_matrix(n): the result is a constant of n^2 doubles held
 * for the whole run, and 4096^2 doubles is already 128 MiB. */
#define IDENTITY_MAX 4096

/* ---- helpers shared by the emitters ---- */

/* The name to use in messages: the alias the user wrote if known, else `dflt`
 * (operators are registered as "__matmul" etc., which the user never sees). */
static const char *fname(const bayes_fnctx *c, const char *dflt)
{
  return c->fname && strncmp(c->fname, "__", 2) != 0 ? c->fname : dflt;
}

static const char *shp(const bayes_shape *s, char *buf, size_t len)
{
  return bayes_shape_str(s, buf, len);
}

/* Emits one instruction with a single real output and `work` doubles of scratch. */
static int emit1(bayes_fnctx *c, const bayes_op *op, int nin, const int *in,
                 const bayes_shape *out, size_t work, int *slot)
{
  int i = bayes_fn_emit(c, op, nin, in, 1, out, false);
  if (i < 0) return -1;
  c->prog->ins[i].work = work;
  *slot = c->prog->ins[i].out[0];
  return 0;
}

/* Requires a square matrix; returns its order or reports and returns -1. */
static long want_square(bayes_fnctx *c, const bayes_fnarg *a, const char *name)
{
  char b[64];
  if (a->shape->rank != 2 || a->shape->dim[0] != a->shape->dim[1]) {
    bayes_fn_error(c, a, "%s: expects a square matrix, got %s", name,
                   shp(a->shape, b, sizeof b));
    return -1;
  }
  return (long)a->shape->dim[0];
}

static int want_matrix(bayes_fnctx *c, const bayes_fnarg *a, const char *name)
{
  char b[64];
  if (a->shape->rank != 2) {
    bayes_fn_error(c, a, "%s: expects a matrix, got %s", name, shp(a->shape, b, sizeof b));
    return -1;
  }
  return 0;
}

/* Doubles needed to hold n LAPACK pivot indices inside a double work area. */
static size_t ipiv_doubles(size_t n)
{
  return (n * sizeof(lapack_int) + sizeof(double) - 1) / sizeof(double);
}

/* ---- @ ---- */

/* Every case is C[m,n] = A[m,k] B[k,n] with a vector operand read as one row (left) or
 * one column (right); the level-1/2 special cases matter for X @ beta with large data X. */
static void mm_dims(const bayes_bound *b, size_t *m, size_t *k, size_t *n)
{
  const bayes_shape *a = b->xs[0], *c = b->xs[1];
  *m = a->rank == 2 ? a->dim[0] : 1;
  *k = a->rank == 2 ? a->dim[1] : a->dim[0];
  *n = c->rank == 2 ? c->dim[1] : 1;
}

static void matmul_fwd(const bayes_bound *b)
{
  size_t m, k, n;
  mm_dims(b, &m, &k, &n);
  const double *A = b->x[0], *B = b->x[1];
  double *C = b->y[0];
  if (m == 0 || n == 0) return;
  if (k == 0) {
    memset(C, 0, m * n * sizeof *C);
    return;
  }
  if (m == 1 && n == 1)
    C[0] = cblas_ddot((int)k, A, 1, B, 1);
  else if (n == 1)
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)m, (int)k, 1.0, A, (int)k, B, 1, 0.0, C, 1);
  else if (m == 1)
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)k, (int)n, 1.0, B, (int)n, A, 1, 0.0, C, 1);
  else
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0, A,
                (int)k, B, (int)n, 0.0, C, (int)n);
}

/* dA += dC B', dB += A' dC; a constant operand (gx NULL, e.g. data X) costs nothing. */
static void matmul_bwd(const bayes_bound *b)
{
  size_t m, k, n;
  mm_dims(b, &m, &k, &n);
  const double *A = b->x[0], *B = b->x[1], *G = b->gy[0];
  double *gA = b->gx[0], *gB = b->gx[1];
  if (m == 0 || n == 0 || k == 0) return;
  int M = (int)m, K = (int)k, N = (int)n;
  if (gA) {
    if (m == 1 && n == 1)
      cblas_daxpy(K, G[0], B, 1, gA, 1);
    else if (n == 1)
      cblas_dger(CblasRowMajor, M, K, 1.0, G, 1, B, 1, gA, K);
    else if (m == 1)
      cblas_dgemv(CblasRowMajor, CblasNoTrans, K, N, 1.0, B, N, G, 1, 1.0, gA, 1);
    else
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, N, 1.0, G, N, B, N, 1.0, gA,
                  K);
  }
  if (gB) {
    if (m == 1 && n == 1)
      cblas_daxpy(K, G[0], A, 1, gB, 1);
    else if (n == 1)
      cblas_dgemv(CblasRowMajor, CblasTrans, M, K, 1.0, A, K, G, 1, 1.0, gB, 1);
    else if (m == 1)
      cblas_dger(CblasRowMajor, K, N, 1.0, A, 1, G, 1, gB, N);
    else
      cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, M, 1.0, A, K, G, N, 1.0, gB,
                  N);
  }
}

static const bayes_op op_matmul = {"matmul", matmul_fwd, matmul_bwd, NULL};

static int matmul_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  bayes_shape a = *args[0].shape, bs = *args[1].shape;
  char b1[64], b2[64];
  const char *nm = fname(c, "@");
  if (a.rank < 1 || a.rank > 2 || bs.rank < 1 || bs.rank > 2) {
    bayes_fn_error(c, a.rank < 1 || a.rank > 2 ? &args[0] : &args[1],
                   "%s: cannot multiply %s by %s: operands must be vectors or matrices "
                   "(use * to scale)",
                   nm, shp(&a, b1, sizeof b1), shp(&bs, b2, sizeof b2));
    return -1;
  }
  size_t ka = a.rank == 2 ? a.dim[1] : a.dim[0], kb = bs.dim[0];
  if (ka != kb) {
    bayes_fn_error(c, NULL, "%s: cannot multiply %s by %s: inner dimensions %zu and %zu differ",
                   nm, shp(&a, b1, sizeof b1), shp(&bs, b2, sizeof b2), ka, kb);
    return -1;
  }
  bayes_shape o;
  if (a.rank == 2 && bs.rank == 2)
    o = bayes_shape_mat(a.dim[0], bs.dim[1]);
  else if (a.rank == 2)
    o = bayes_shape_vec(a.dim[0]);
  else if (bs.rank == 2)
    o = bayes_shape_vec(bs.dim[1]);
  else
    o = bayes_shape_scalar();
  int in[2] = {args[0].slot, args[1].slot};
  return emit1(c, &op_matmul, 2, in, &o, 0, out);
}

/* ---- transpose ---- */

static void transpose_fwd(const bayes_bound *b)
{
  size_t r = b->xs[0]->dim[0], cl = b->xs[0]->dim[1];
  const double *x = b->x[0];
  double *y = b->y[0];
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < cl; j++) y[j * r + i] = x[i * cl + j];
}

static void transpose_bwd(const bayes_bound *b)
{
  size_t r = b->xs[0]->dim[0], cl = b->xs[0]->dim[1];
  const double *gy = b->gy[0];
  double *gx = b->gx[0];
  if (!gx) return;
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < cl; j++) gx[i * cl + j] += gy[j * r + i];
}

static const bayes_op op_transpose = {"transpose", transpose_fwd, transpose_bwd, NULL};

/* Vectors have no row/column orientation here (unlike Stan's row_vector): x' of a vector
 * or scalar is x itself, so no instruction is emitted. @ decides from position whether a
 * vector acts as a row or a column. */
static int transpose_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  bayes_shape a = *args[0].shape;
  char b1[64];
  if (a.rank <= 1) {
    *out = args[0].slot;
    return 0;
  }
  if (a.rank > 2) {
    bayes_fn_error(c, &args[0], "%s: expects a vector or matrix, got %s", fname(c, "'"),
                   shp(&a, b1, sizeof b1));
    return -1;
  }
  bayes_shape o = bayes_shape_mat(a.dim[1], a.dim[0]);
  return emit1(c, &op_transpose, 1, &args[0].slot, &o, 0, out);
}

/* ---- cholesky ---- */

/* Reads only the lower triangle of A, as LAPACK's dpotrf does; the strict upper triangle
 * of the result is zero. Row-major lower == column-major upper, so dpotrf('U') on the
 * row-major buffer gives L without a transposed copy. */
static void chol_fwd(const bayes_bound *b)
{
  size_t n = b->xs[0]->dim[0];
  const double *A = b->x[0];
  double *L = b->y[0];
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) L[i * n + j] = j <= i ? A[i * n + j] : 0.0;
  if (n == 0) return;
  lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', (lapack_int)n, L, (lapack_int)n);
  bool ok = info == 0;
  for (size_t i = 0; ok && i < n; i++)
    if (!(L[i * n + i] > 0) || !isfinite(L[i * n + i])) ok = false;
  if (!ok) {
    for (size_t i = 0; i < n * n; i++) L[i] = NAN;
    bayes_exec_fail(b, "cholesky: matrix is not positive definite");
  }
}

/* Symbolic reverse mode, Murray (2016) "Differentiation of the Cholesky decomposition",
 * arXiv:1602.07527, section 3: from dL = L Phi(L^-1 dA L^-T), with Phi(X) the lower
 * triangle of X with its diagonal halved,
 *   S = L^-T Phi(L' Lbar) L^-1  and  <Lbar, dL> = <S, dA>.
 * Only the lower triangle of A is read, so a perturbation of A[i,j] (i > j) moves both
 * A[i,j] and A[j,i] of the symmetric matrix: the gradient is S[i,j] + S[j,i] below the
 * diagonal, S[i,i] on it, and 0 above it (finite differences of any entry agree). */
static void chol_bwd(const bayes_bound *b)
{
  size_t n = b->xs[0]->dim[0];
  double *gA = b->gx[0];
  if (!gA || n == 0) return;
  const double *L = b->y[0], *G = b->gy[0];
  double *W = b->work;
  int N = (int)n;
  /* the upper triangle of L is a constant zero: its adjoint does not flow back */
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) W[i * n + j] = j <= i ? G[i * n + j] : 0.0;
  cblas_dtrmm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, N, N, 1.0, L, N,
              W, N);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = i + 1; j < n; j++) W[i * n + j] = 0.0;
    W[i * n + i] *= 0.5;
  }
  cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, N, N, 1.0, L, N,
              W, N);
  cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, N, N, 1.0, L,
              N, W, N);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < i; j++) gA[i * n + j] += W[i * n + j] + W[j * n + i];
    gA[i * n + i] += W[i * n + i];
  }
}

static const bayes_op op_cholesky = {"cholesky", chol_fwd, chol_bwd, NULL};

static int chol_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  long n = want_square(c, &args[0], fname(c, "cholesky"));
  if (n < 0) return -1;
  bayes_shape o = bayes_shape_mat((size_t)n, (size_t)n);
  return emit1(c, &op_cholesky, 1, &args[0].slot, &o, (size_t)(n * n), out);
}

/* ---- LU-based ops ---- */

/* dgetrf on the row-major buffer of A factors the column-major view A' = P L U. Read back
 * row-major, the factor buffer G has U' in its lower triangle (with the diagonal) and L'
 * (unit diagonal) strictly above it; so A = U' L' P'. */
static int lu_factor(double *G, lapack_int *ipiv, size_t n)
{
  return (int)LAPACKE_dgetrf_work(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)n, G,
                                  (lapack_int)n, ipiv);
}

/* Solves A X = B (trans false) or A' X = B (trans true) in place for B [n, m] row-major,
 * given lu_factor's G and ipiv. A X = B: X = P L'^-1 U'^-1 B; A' X = B: X = U^-1 L^-1 P' B.
 * P' applies the recorded row swaps in order, P applies them in reverse order. */
static void lu_solve(const double *G, const lapack_int *ipiv, size_t n, double *B, size_t m,
                     bool trans)
{
  int N = (int)n, M = (int)m;
  if (n == 0 || m == 0) return;
  if (!trans) {
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, N, M, 1.0, G,
                N, B, M);
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasUnit, N, M, 1.0, G, N,
                B, M);
    for (size_t i = n; i-- > 0;) {
      size_t p = (size_t)ipiv[i] - 1;
      if (p != i) cblas_dswap(M, B + i * m, 1, B + p * m, 1);
    }
  } else {
    for (size_t i = 0; i < n; i++) {
      size_t p = (size_t)ipiv[i] - 1;
      if (p != i) cblas_dswap(M, B + i * m, 1, B + p * m, 1);
    }
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasUpper, CblasTrans, CblasUnit, N, M, 1.0, G, N, B,
                M);
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, N, M, 1.0, G, N,
                B, M);
  }
}

static void set_identity(double *X, size_t n)
{
  memset(X, 0, n * n * sizeof *X);
  for (size_t i = 0; i < n; i++) X[i * n + i] = 1.0;
}

/* inverse: work = [G n*n][ipiv]. */
static void inv_fwd(const bayes_bound *b)
{
  size_t n = b->xs[0]->dim[0];
  double *G = b->work, *C = b->y[0];
  lapack_int *ipiv = (lapack_int *)(b->work + n * n);
  if (n == 0) return;
  memcpy(G, b->x[0], n * n * sizeof *G);
  if (lu_factor(G, ipiv, n) != 0) {
    for (size_t i = 0; i < n * n; i++) C[i] = NAN;
    bayes_exec_fail(b, "inverse: matrix is singular");
    return;
  }
  set_identity(C, n);
  lu_solve(G, ipiv, n, C, n, false);
}

/* C = A^-1: dC = -C dA C, so Abar = -C' Cbar C' (= -A^-T Cbar A^-T). */
static void inv_bwd(const bayes_bound *b)
{
  size_t n = b->xs[0]->dim[0];
  double *gA = b->gx[0], *W = b->work;
  const double *C = b->y[0], *G = b->gy[0];
  int N = (int)n;
  if (!gA || n == 0) return;
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, N, N, 1.0, C, N, G, N, 0.0, W, N);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, N, N, -1.0, W, N, C, N, 1.0, gA, N);
}

static const bayes_op op_inverse = {"inverse", inv_fwd, inv_bwd, NULL};

static int inv_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  long n = want_square(c, &args[0], fname(c, "inverse"));
  if (n < 0) return -1;
  bayes_shape o = bayes_shape_mat((size_t)n, (size_t)n);
  return emit1(c, &op_inverse, 1, &args[0].slot, &o, (size_t)(n * n) + ipiv_doubles((size_t)n),
               out);
}

/* determinant and log_determinant share one forward pass; iarg[0] = 1 for the log.
 * work = [G n*n][Z n*n][ipiv]; in gradient mode Z = A^-T, since d det = det tr(A^-1 dA)
 * and d log|det| = tr(A^-1 dA) (Magnus & Neudecker, Matrix Differential Calculus, ch. 8).
 * At an exactly singular matrix the value is 0 (-inf for the log) and the gradient, which
 * would need the adjugate, is NaN. */
static void det_fwd(const bayes_bound *b)
{
  size_t n = b->xs[0]->dim[0];
  bool lg = b->ins->iarg[0] != 0;
  double *G = b->work, *Z = b->work + n * n;
  lapack_int *ipiv = (lapack_int *)(b->work + 2 * n * n);
  if (n == 0) {
    b->y[0][0] = lg ? 0.0 : 1.0;
    return;
  }
  memcpy(G, b->x[0], n * n * sizeof *G);
  int info = lu_factor(G, ipiv, n);
  double sign = 1.0, logabs = 0.0, prod = 1.0;
  for (size_t i = 0; i < n; i++) {
    double u = G[i * n + i];
    if ((size_t)ipiv[i] - 1 != i) sign = -sign;
    prod *= u;
    logabs += log(fabs(u));
  }
  if (info != 0) {
    prod = 0.0;
    logabs = -INFINITY;
  }
  b->y[0][0] = lg ? logabs : sign * prod;
  if (!b->ex->grad) return;
  if (info != 0) {
    for (size_t i = 0; i < n * n; i++) Z[i] = NAN;
    return;
  }
  set_identity(Z, n);
  lu_solve(G, ipiv, n, Z, n, true);
}

static void det_bwd(const bayes_bound *b)
{
  size_t n = b->xs[0]->dim[0];
  double *gA = b->gx[0];
  const double *Z = b->work + n * n;
  if (!gA || n == 0) return;
  double s = b->gy[0][0] * (b->ins->iarg[0] ? 1.0 : b->y[0][0]);
  cblas_daxpy((int)(n * n), s, Z, 1, gA, 1);
}

static const bayes_op op_det = {"determinant", det_fwd, det_bwd, NULL};

static int det_emit_common(bayes_fnctx *c, const bayes_fnarg *args, int *out, bool lg)
{
  long n = want_square(c, &args[0], fname(c, lg ? "log_determinant" : "determinant"));
  if (n < 0) return -1;
  bayes_shape o = bayes_shape_scalar();
  size_t nn = (size_t)n;
  if (emit1(c, &op_det, 1, &args[0].slot, &o, 2 * nn * nn + ipiv_doubles(nn), out)) return -1;
  c->prog->ins[c->prog->nins - 1].iarg[0] = lg;
  return 0;
}

static int det_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return det_emit_common(c, args, out, false);
}

static int logdet_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return det_emit_common(c, args, out, true);
}

/* mdivide_left(A, B) = A^-1 B for B [n] or [n, m]. work = [G n*n][Z n*m][ipiv]; the LU
 * factors of the forward pass are reused by bwd. */
static size_t rhs_cols(const bayes_bound *b)
{
  return b->xs[1]->rank == 2 ? b->xs[1]->dim[1] : 1;
}

static void solve_fwd(const bayes_bound *b)
{
  size_t n = b->xs[0]->dim[0], m = rhs_cols(b);
  double *G = b->work, *C = b->y[0];
  lapack_int *ipiv = (lapack_int *)(b->work + n * n + n * m);
  if (n == 0) return;
  memcpy(G, b->x[0], n * n * sizeof *G);
  if (lu_factor(G, ipiv, n) != 0) {
    for (size_t i = 0; i < n * m; i++) C[i] = NAN;
    bayes_exec_fail(b, "mdivide_left: matrix is singular");
    return;
  }
  memcpy(C, b->x[1], n * m * sizeof *C);
  lu_solve(G, ipiv, n, C, m, false);
}

/* C = A^-1 B: Bbar += A^-T Cbar, Abar -= (A^-T Cbar) C'. */
static void solve_bwd(const bayes_bound *b)
{
  size_t n = b->xs[0]->dim[0], m = rhs_cols(b);
  double *gA = b->gx[0], *gB = b->gx[1];
  const double *G = b->work, *C = b->y[0];
  double *Z = b->work + n * n;
  const lapack_int *ipiv = (const lapack_int *)(b->work + n * n + n * m);
  if ((!gA && !gB) || n == 0 || m == 0) return;
  memcpy(Z, b->gy[0], n * m * sizeof *Z);
  lu_solve(G, ipiv, n, Z, m, true);
  if (gB) cblas_daxpy((int)(n * m), 1.0, Z, 1, gB, 1);
  if (gA)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)m, -1.0, Z,
                (int)m, C, (int)m, 1.0, gA, (int)n);
}

static const bayes_op op_solve = {"mdivide_left", solve_fwd, solve_bwd, NULL};

static int solve_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  const char *nm = fname(c, "mdivide_left");
  char b1[64], b2[64];
  long n = want_square(c, &args[0], nm);
  if (n < 0) return -1;
  bayes_shape a = *args[0].shape, bs = *args[1].shape;
  if (bs.rank < 1 || bs.rank > 2) {
    bayes_fn_error(c, &args[1], "%s: right-hand side must be a vector or matrix, got %s", nm,
                   shp(&bs, b1, sizeof b1));
    return -1;
  }
  if (bs.dim[0] != (size_t)n) {
    bayes_fn_error(c, &args[1], "%s: cannot solve %s \\ %s: %zu rows and %zu rows differ", nm,
                   shp(&a, b1, sizeof b1), shp(&bs, b2, sizeof b2), (size_t)n, bs.dim[0]);
    return -1;
  }
  size_t nn = (size_t)n, m = bs.rank == 2 ? bs.dim[1] : 1;
  int in[2] = {args[0].slot, args[1].slot};
  return emit1(c, &op_solve, 2, in, &bs, nn * nn + nn * m + ipiv_doubles(nn), out);
}

/* ---- structural helpers ---- */

static void diagm_fwd(const bayes_bound *b)
{
  size_t n = b->xn[0];
  double *y = b->y[0];
  memset(y, 0, n * n * sizeof *y);
  for (size_t i = 0; i < n; i++) y[i * n + i] = b->x[0][i];
}

static void diagm_bwd(const bayes_bound *b)
{
  size_t n = b->xn[0];
  if (!b->gx[0]) return;
  for (size_t i = 0; i < n; i++) b->gx[0][i] += b->gy[0][i * n + i];
}

static const bayes_op op_diag_matrix = {"diag_matrix", diagm_fwd, diagm_bwd, NULL};

static int diagm_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  char b1[64];
  if (args[0].shape->rank != 1) {
    bayes_fn_error(c, &args[0], "diag_matrix: expects a vector, got %s",
                   shp(args[0].shape, b1, sizeof b1));
    return -1;
  }
  size_t n = args[0].shape->dim[0];
  bayes_shape o = bayes_shape_mat(n, n);
  return emit1(c, &op_diag_matrix, 1, &args[0].slot, &o, 0, out);
}

/* diag(X) of an [r, c] matrix: the min(r, c) entries X[i, i] (like Stan's diagonal and
 * R's diag on a matrix). */
static void diag_fwd(const bayes_bound *b)
{
  size_t cl = b->xs[0]->dim[1], p = b->yn[0];
  for (size_t i = 0; i < p; i++) b->y[0][i] = b->x[0][i * cl + i];
}

static void diag_bwd(const bayes_bound *b)
{
  size_t cl = b->xs[0]->dim[1], p = b->yn[0];
  if (!b->gx[0]) return;
  for (size_t i = 0; i < p; i++) b->gx[0][i * cl + i] += b->gy[0][i];
}

static const bayes_op op_diag = {"diag", diag_fwd, diag_bwd, NULL};

/* Unlike R, diag of a vector does not build a matrix: that is diag_matrix, so that a
 * shape mistake is reported instead of silently changing the rank. */
static int diag_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  char b1[64];
  const char *nm = fname(c, "diag");
  if (args[0].shape->rank != 2) {
    bayes_fn_error(c, &args[0], "%s: expects a matrix, got %s%s", nm,
                   shp(args[0].shape, b1, sizeof b1),
                   args[0].shape->rank == 1 ? " (diag_matrix builds a matrix from a vector)"
                                            : "");
    return -1;
  }
  size_t r = args[0].shape->dim[0], cl = args[0].shape->dim[1];
  bayes_shape o = bayes_shape_vec(r < cl ? r : cl);
  return emit1(c, &op_diag, 1, &args[0].slot, &o, 0, out);
}

static void trace_fwd(const bayes_bound *b)
{
  size_t n = b->xs[0]->dim[0];
  double s = 0;
  for (size_t i = 0; i < n; i++) s += b->x[0][i * n + i];
  b->y[0][0] = s;
}

static void trace_bwd(const bayes_bound *b)
{
  size_t n = b->xs[0]->dim[0];
  if (!b->gx[0]) return;
  for (size_t i = 0; i < n; i++) b->gx[0][i * n + i] += b->gy[0][0];
}

static const bayes_op op_trace = {"trace", trace_fwd, trace_bwd, NULL};

static int trace_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  if (want_square(c, &args[0], "trace") < 0) return -1;
  bayes_shape o = bayes_shape_scalar();
  return emit1(c, &op_trace, 1, &args[0].slot, &o, 0, out);
}

/* add_diag(A, d): A + diag(d) with d a scalar (added to every diagonal entry) or [n]. */
static void adddiag_fwd(const bayes_bound *b)
{
  size_t n = b->xs[0]->dim[0], inc = bayes_inc(b->xn[1]);
  double *y = b->y[0];
  memcpy(y, b->x[0], n * n * sizeof *y);
  for (size_t i = 0; i < n; i++) y[i * n + i] += b->x[1][i * inc];
}

static void adddiag_bwd(const bayes_bound *b)
{
  size_t n = b->xs[0]->dim[0], inc = bayes_inc(b->xn[1]);
  const double *G = b->gy[0];
  if (b->gx[0]) cblas_daxpy((int)(n * n), 1.0, G, 1, b->gx[0], 1);
  if (b->gx[1])
    for (size_t i = 0; i < n; i++) b->gx[1][i * inc] += G[i * n + i];
}

static const bayes_op op_add_diag = {"add_diag", adddiag_fwd, adddiag_bwd, NULL};

static int adddiag_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  char b1[64], b2[64];
  long n = want_square(c, &args[0], "add_diag");
  if (n < 0) return -1;
  bayes_shape a = *args[0].shape, d = *args[1].shape;
  if (!(d.rank == 0 || (d.rank == 1 && d.dim[0] == (size_t)n))) {
    bayes_fn_error(c, &args[1], "add_diag: cannot add %s to the diagonal of %s: expects a "
                   "scalar or [%ld]", shp(&d, b1, sizeof b1), shp(&a, b2, sizeof b2), n);
    return -1;
  }
  int in[2] = {args[0].slot, args[1].slot};
  return emit1(c, &op_add_diag, 2, in, &a, 0, out);
}

/* Fills the strict upper triangle of an n x n row-major matrix from its lower triangle,
 * so that symmetric results are exactly symmetric (dsyrk computes one triangle). */
static void mirror_lower(double *C, size_t n)
{
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) C[i * n + j] = C[j * n + i];
}

/* crossprod(X) = X' X for X [m, n]; tcrossprod(X) = X X'. iarg[0] = 1 for tcrossprod.
 * Reverse mode: C = X'X gives Xbar += X (Cbar + Cbar'); C = XX' gives Xbar += (Cbar + Cbar') X. */
static void cross_fwd(const bayes_bound *b)
{
  size_t m = b->xs[0]->dim[0], n = b->xs[0]->dim[1];
  bool t = b->ins->iarg[0] != 0;
  size_t p = t ? m : n, k = t ? n : m;
  double *C = b->y[0];
  if (p == 0) return;
  if (k == 0) {
    memset(C, 0, p * p * sizeof *C);
    return;
  }
  cblas_dsyrk(CblasRowMajor, CblasLower, t ? CblasNoTrans : CblasTrans, (int)p, (int)k, 1.0,
              b->x[0], (int)n, 0.0, C, (int)p);
  mirror_lower(C, p);
}

static void cross_bwd(const bayes_bound *b)
{
  size_t m = b->xs[0]->dim[0], n = b->xs[0]->dim[1];
  bool t = b->ins->iarg[0] != 0;
  const double *X = b->x[0], *G = b->gy[0];
  double *gX = b->gx[0];
  int M = (int)m, N = (int)n;
  if (!gX || m == 0 || n == 0) return;
  if (!t) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, N, 1.0, X, N, G, N, 1.0, gX, N);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, N, 1.0, X, N, G, N, 1.0, gX, N);
  } else {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, M, 1.0, G, M, X, N, 1.0, gX, N);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, M, 1.0, G, M, X, N, 1.0, gX, N);
  }
}

static const bayes_op op_cross = {"crossprod", cross_fwd, cross_bwd, NULL};

static int cross_emit_common(bayes_fnctx *c, const bayes_fnarg *args, int *out, bool t)
{
  if (want_matrix(c, &args[0], t ? "tcrossprod" : "crossprod")) return -1;
  size_t p = args[0].shape->dim[t ? 0 : 1];
  bayes_shape o = bayes_shape_mat(p, p);
  if (emit1(c, &op_cross, 1, &args[0].slot, &o, 0, out)) return -1;
  c->prog->ins[c->prog->nins - 1].iarg[0] = t;
  return 0;
}

static int cross_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return cross_emit_common(c, args, out, false);
}

static int tcross_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return cross_emit_common(c, args, out, true);
}

/* multiply_lower_tri_self_transpose(X) = T T' where T is the lower trapezoid of X [m, n]
 * (entries above the diagonal are ignored, as in Stan). work = [T m*n][W m*n];
 * Tbar = (Cbar + Cbar') T, restricted to the lower trapezoid. */
static void mlts_fwd(const bayes_bound *b)
{
  size_t m = b->xs[0]->dim[0], n = b->xs[0]->dim[1];
  double *T = b->work, *C = b->y[0];
  const double *X = b->x[0];
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) T[i * n + j] = j <= i ? X[i * n + j] : 0.0;
  if (m == 0) return;
  if (n == 0) {
    memset(C, 0, m * m * sizeof *C);
    return;
  }
  cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)m, (int)n, 1.0, T, (int)n, 0.0, C,
              (int)m);
  mirror_lower(C, m);
}

static void mlts_bwd(const bayes_bound *b)
{
  size_t m = b->xs[0]->dim[0], n = b->xs[0]->dim[1];
  const double *T = b->work, *G = b->gy[0];
  double *W = b->work + m * n, *gX = b->gx[0];
  int M = (int)m, N = (int)n;
  if (!gX || m == 0 || n == 0) return;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, M, 1.0, G, M, T, N, 0.0, W, N);
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, M, 1.0, G, M, T, N, 1.0, W, N);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j <= i && j < n; j++) gX[i * n + j] += W[i * n + j];
}

static const bayes_op op_mlts = {"multiply_lower_tri_self_transpose", mlts_fwd, mlts_bwd, NULL};

static int mlts_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  if (want_matrix(c, &args[0], "multiply_lower_tri_self_transpose")) return -1;
  size_t m = args[0].shape->dim[0], n = args[0].shape->dim[1];
  bayes_shape o = bayes_shape_mat(m, m);
  return emit1(c, &op_mlts, 1, &args[0].slot, &o, 2 * m * n, out);
}

/* identity_matrix(n): n must be known when the model is compiled; the result is a
 * constant, so no instruction is emitted. */
static int identity_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  const bayes_fnarg *a = &args[0];
  if (a->n != 1 || a->shape->rank != 0) {
    char b1[64];
    bayes_fn_error(c, a, "identity_matrix: expects an integer scalar, got %s",
                   shp(a->shape, b1, sizeof b1));
    return -1;
  }
  if (!a->cval) {
    bayes_fn_error(c, a, "identity_matrix: the size must be known before sampling "
                   "(data or a constant), not depend on parameters");
    return -1;
  }
  double v = a->cval[0];
  if (!(v >= 0) || v != floor(v)) {
    bayes_fn_error(c, a, "identity_matrix: size must be a non-negative integer, got %g", v);
    return -1;
  }
  if (v > IDENTITY_MAX) {
    bayes_fn_error(c, a, "identity_matrix: size %.0f exceeds the limit of %d", v,
                   IDENTITY_MAX);
    return -1;
  }
  size_t n = (size_t)v;
  bayes_shape o = bayes_shape_mat(n, n);
  int s = bayes_prog_const(c->prog, &o, 0, NULL);
  if (s < 0) {
    bayes_fn_error(c, NULL, "out of memory");
    return -1;
  }
  double *p = bayes_prog_const_ptr(c->prog, s);
  for (size_t i = 0; i < n; i++) p[i * n + i] = 1.0;
  *out = s;
  return 0;
}

/* ---- registry ---- */

static const bayes_fn fn_matmul = {"__matmul", 2, 2, NULL, matmul_emit};
static const bayes_fn fn_transpose = {"__transpose", 1, 1, NULL, transpose_emit};
static const bayes_fn fn_t = {"t", 1, 1, NULL, transpose_emit};
static const bayes_fn fn_cholesky = {"cholesky", 1, 1, NULL, chol_emit};
static const bayes_fn fn_cholesky_decompose = {"cholesky_decompose", 1, 1, NULL, chol_emit};
static const bayes_fn fn_inverse = {"inverse", 1, 1, NULL, inv_emit};
static const bayes_fn fn_determinant = {"determinant", 1, 1, NULL, det_emit};
static const bayes_fn fn_log_determinant = {"log_determinant", 1, 1, NULL, logdet_emit};
static const bayes_fn fn_mdivide_left = {"mdivide_left", 2, 2, NULL, solve_emit};
static const bayes_fn fn_solve = {"solve", 2, 2, NULL, solve_emit};
static const bayes_fn fn_diag_matrix = {"diag_matrix", 1, 1, NULL, diagm_emit};
static const bayes_fn fn_diag = {"diag", 1, 1, NULL, diag_emit};
static const bayes_fn fn_diagonal = {"diagonal", 1, 1, NULL, diag_emit};
static const bayes_fn fn_identity = {"identity_matrix", 1, 1, NULL, identity_emit};
static const bayes_fn fn_crossprod = {"crossprod", 1, 1, NULL, cross_emit};
static const bayes_fn fn_tcrossprod = {"tcrossprod", 1, 1, NULL, tcross_emit};
static const bayes_fn fn_mlts = {"multiply_lower_tri_self_transpose", 1, 1, NULL, mlts_emit};
static const bayes_fn fn_trace = {"trace", 1, 1, NULL, trace_emit};
static const bayes_fn fn_add_diag = {"add_diag", 2, 2, NULL, adddiag_emit};

const bayes_fn *const bayes_fns_linalg[] = {
    &fn_matmul,   &fn_transpose,   &fn_t,         &fn_cholesky,    &fn_cholesky_decompose,
    &fn_inverse,  &fn_determinant, &fn_log_determinant, &fn_mdivide_left, &fn_solve,
    &fn_diag_matrix, &fn_diag,     &fn_diagonal,  &fn_identity,    &fn_crossprod,
    &fn_tcrossprod, &fn_mlts,      &fn_trace,     &fn_add_diag,    NULL};
