/* test_linalg.c — unit tests of the matrix functions (ops_linalg.c) and hmm_marginal
 * (ops_hmm.c): values against independent references (GSL's LU and Cholesky, hand-worked
 * cases, brute-force path enumeration), finite-difference gradient checks of every op,
 * and the emitters' shape errors and run-time failures. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_rng.h>

#include "func.h"
#include "testutil.h"

#define GRAD_TOL 1e-6

static gsl_rng *rng;

static void fill_rand(double *x, size_t n)
{
  for (size_t i = 0; i < n; i++) x[i] = 2.0 * gsl_rng_uniform(rng) - 1.0;
}

/* A A' + n I: symmetric positive definite with eigenvalues >= n. */
static void make_spd(double *S, size_t n)
{
  double A[64];
  fill_rand(A, n * n);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double s = i == j ? (double)n : 0.0;
      for (size_t k = 0; k < n; k++) s += A[i * n + k] * A[j * n + k];
      S[i * n + j] = s;
    }
}

/* Random matrix made well conditioned by a dominant diagonal (sign alternates so that
 * determinants of both signs are exercised), then with its rows shifted cyclically so that
 * partial pivoting needs a chain of interacting row swaps (a diagonally dominant matrix
 * would need none, leaving the pivot handling untested). */
static void make_wellcond(double *A, size_t n)
{
  double D[64];
  fill_rand(D, n * n);
  for (size_t i = 0; i < n; i++) D[i * n + i] += (i % 2 ? -1.0 : 1.0) * (double)(n + 1);
  for (size_t i = 0; i < n; i++) memcpy(A + i * n, D + ((i + 1) % n) * n, n * sizeof *A);
}

/* ---- error collection and emit harness ---- */

typedef struct {
  int n;
  char msg[8][512];
  int line[8], col[8];
} errlog;

static void on_error(void *ud, int line, int col, const char *msg)
{
  errlog *e = ud;
  if (e->n < 8) {
    snprintf(e->msg[e->n], sizeof e->msg[0], "%s", msg);
    e->line[e->n] = line;
    e->col[e->n] = col;
  }
  e->n++;
}

/* A program under construction with up to 4 arguments; parameters (adj) get their values
 * copied in after layout. Shapes and values are copied so nothing points into the
 * program's growable arrays. */
typedef struct {
  bayes_prog p;
  bayes_fnctx c;
  errlog log;
  int nargs;
  bayes_shape shape[4];
  double *val[4];
  bool param[4];
  bayes_fnarg args[4];
  bayes_exec *ex;
  int out;
} emit_h;

static void eh_init(emit_h *h, const char *fname)
{
  memset(h, 0, sizeof *h);
  bayes_prog_init(&h->p);
  h->c.prog = &h->p;
  h->c.line = 3;
  h->c.col = 7;
  h->c.fname = fname;
  h->c.error = on_error;
  h->c.ud = &h->log;
}

static void eh_arg(emit_h *h, bayes_shape s, const double *v, bool param, bool is_int)
{
  int i = h->nargs++;
  size_t n = bayes_shape_size(&s);
  h->shape[i] = s;
  h->val[i] = malloc((n + 1) * sizeof(double));
  if (v) memcpy(h->val[i], v, n * sizeof(double));
  h->param[i] = param;
  int slot = param ? bayes_prog_slot(&h->p, &s, BAYES_SLOT_ADJ | (is_int ? BAYES_SLOT_INT : 0))
                   : bayes_prog_const(&h->p, &s, is_int ? BAYES_SLOT_INT : 0, v);
  ck_assert_int_ge(slot, 0);
  h->args[i] = (bayes_fnarg){slot, &h->shape[i], n, is_int, param ? NULL : h->val[i], 5,
                             10 * (i + 1)};
}

/* Calls the named function's emitter; returns its status. */
static int eh_emit(emit_h *h, const char *name)
{
  const bayes_fn *fn = bayes_fn_find(name);
  ck_assert_msg(fn != NULL, "function %s is not registered", name);
  ck_assert_int_ge(h->nargs, fn->min_args);
  ck_assert_int_le(h->nargs, fn->max_args);
  return fn->emit(&h->c, h->nargs, h->args, &h->out);
}

/* Lays out, allocates and runs every instruction forward. */
static void eh_run(emit_h *h, bool grad)
{
  ck_assert_int_eq(bayes_prog_layout(&h->p), 0);
  h->ex = bayes_exec_alloc(&h->p);
  ck_assert_ptr_nonnull(h->ex);
  for (int i = 0; i < h->nargs; i++)
    if (h->param[i])
      memcpy(bayes_exec_val(h->ex, h->args[i].slot), h->val[i], h->args[i].n * sizeof(double));
  int idx[16];
  ck_assert_int_le(h->p.nins, 16);
  for (int i = 0; i < h->p.nins; i++) idx[i] = i;
  bayes_section s = {idx, h->p.nins};
  h->ex->grad = grad;
  bayes_exec_forward(h->ex, &s);
}

static void eh_backward(emit_h *h)
{
  int idx[16];
  for (int i = 0; i < h->p.nins; i++) idx[i] = i;
  bayes_section s = {idx, h->p.nins};
  bayes_exec_backward(h->ex, &s, h->out);
}

static void eh_destroy(emit_h *h)
{
  bayes_exec_free(h->ex);
  bayes_prog_destroy(&h->p);
  for (int i = 0; i < h->nargs; i++) free(h->val[i]);
}

/* ---- op-level harness: the op, work size and iarg come from the function's own
 * emitter, so the checks exercise exactly what the compiler would emit. ---- */

typedef struct {
  bt_opcheck ck;
  bayes_shape xs[4];
  const double *xv[4];
  bayes_shape ys;
} opcase;

static void opcase_init(opcase *o, const char *name, int nargs, const bayes_shape *xs,
                        const double *const *xv)
{
  emit_h h;
  eh_init(&h, name);
  for (int i = 0; i < nargs; i++) eh_arg(&h, xs[i], xv[i], true, false);
  ck_assert_int_eq(eh_emit(&h, name), 0);
  ck_assert_int_eq(h.log.n, 0);
  ck_assert_int_eq(h.p.nins, 1);
  const bayes_instr *ins = &h.p.ins[0];
  ck_assert_int_eq(ins->nin, nargs);
  for (int i = 0; i < nargs; i++) ck_assert_int_eq(ins->in[i], h.args[i].slot);
  memset(o, 0, sizeof *o);
  for (int i = 0; i < nargs; i++) {
    o->xs[i] = xs[i];
    o->xv[i] = xv[i];
  }
  o->ys = h.p.slots[ins->out[0]].shape;
  o->ck.op = ins->op;
  o->ck.nin = nargs;
  o->ck.nout = 1;
  o->ck.xs = o->xs;
  o->ck.xv = o->xv;
  o->ck.ys = &o->ys;
  memcpy(o->ck.iarg, ins->iarg, sizeof o->ck.iarg);
  memcpy(o->ck.darg, ins->darg, sizeof o->ck.darg);
  o->ck.work = ins->work;
  ck_assert_ptr_null(ins->aux); /* nothing in this file uses aux, which h owns */
  eh_destroy(&h);
}

/* Gradient check with respect to the inputs flagged in diff (NULL: all). */
static void grad_ok(const char *name, int nargs, const bayes_shape *xs, const double *const *xv,
                    const bool *diff)
{
  opcase o;
  char rep[512];
  opcase_init(&o, name, nargs, xs, xv);
  o.ck.diff = diff;
  double err = bt_op_grad_check(&o.ck, rep, sizeof rep);
  ck_assert_msg(err < GRAD_TOL, "%s: gradient error %g (%s)", name, err, rep);
}

/* Forward value of the named function into out; returns 0 or -1 (message in msg). */
static int eval(const char *name, int nargs, const bayes_shape *xs, const double *const *xv,
                double *out, char *msg, size_t len)
{
  opcase o;
  opcase_init(&o, name, nargs, xs, xv);
  double *outs[1] = {out};
  return bt_op_eval(&o.ck, outs, msg, len);
}

static void assert_close(const double *a, const double *b, size_t n, double tol,
                         const char *what)
{
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(fabs(a[i] - b[i]) <= tol * fmax(1.0, fabs(b[i])),
                  "%s: element %zu: %.15g vs reference %.15g", what, i, a[i], b[i]);
}

static void naive_matmul(const double *A, const double *B, double *C, size_t m, size_t k,
                         size_t n)
{
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double s = 0;
      for (size_t l = 0; l < k; l++) s += A[i * k + l] * B[l * n + j];
      C[i * n + j] = s;
    }
}

/* ================= @ ================= */

START_TEST(test_matmul_values)
{
  /* hand-worked: [[1,2,3],[4,5,6]] @ [[1,0],[0,1],[2,-1]] = [[7,-1],[16,-1]] */
  const double A[] = {1, 2, 3, 4, 5, 6}, B[] = {1, 0, 0, 1, 2, -1};
  double C[4];
  bayes_shape s[2] = {bayes_shape_mat(2, 3), bayes_shape_mat(3, 2)};
  const double *v[2] = {A, B};
  ck_assert_int_eq(eval("__matmul", 2, s, v, C, NULL, 0), 0);
  const double Cr[] = {7, -1, 16, -1};
  assert_close(C, Cr, 4, 0, "mat@mat");
  /* [2,3] @ [3] */
  const double x[] = {1, -1, 2};
  s[1] = bayes_shape_vec(3);
  v[1] = x;
  ck_assert_int_eq(eval("__matmul", 2, s, v, C, NULL, 0), 0);
  const double Cv[] = {5, 11};
  assert_close(C, Cv, 2, 0, "mat@vec");
  /* [2] @ [2,3] */
  const double r[] = {2, -1};
  s[0] = bayes_shape_vec(2);
  s[1] = bayes_shape_mat(2, 3);
  v[0] = r;
  v[1] = A;
  ck_assert_int_eq(eval("__matmul", 2, s, v, C, NULL, 0), 0);
  const double Cw[] = {-2, -1, 0};
  assert_close(C, Cw, 3, 0, "vec@mat");
  /* [3] @ [3] */
  s[0] = bayes_shape_vec(3);
  s[1] = bayes_shape_vec(3);
  v[0] = x;
  v[1] = A + 3;
  ck_assert_int_eq(eval("__matmul", 2, s, v, C, NULL, 0), 0);
  ck_assert_double_eq(C[0], 4 - 5 + 12);
  /* a larger random case against the textbook triple loop */
  double X[35], Y[28], Z[20], Zr[20];
  fill_rand(X, 35);
  fill_rand(Y, 28);
  s[0] = bayes_shape_mat(5, 7);
  s[1] = bayes_shape_mat(7, 4);
  v[0] = X;
  v[1] = Y;
  ck_assert_int_eq(eval("__matmul", 2, s, v, Z, NULL, 0), 0);
  naive_matmul(X, Y, Zr, 5, 7, 4);
  assert_close(Z, Zr, 20, 1e-13, "random mat@mat");
}
END_TEST

START_TEST(test_matmul_grad)
{
  double A[20], B[20], u[5], w[4];
  fill_rand(A, 20);
  fill_rand(B, 20);
  fill_rand(u, 5);
  fill_rand(w, 4);
  const bool dB[2] = {false, true}, dA[2] = {true, false};
  {
    bayes_shape s[2] = {bayes_shape_mat(5, 4), bayes_shape_mat(4, 5)};
    const double *v[2] = {A, B};
    grad_ok("__matmul", 2, s, v, NULL);
    grad_ok("__matmul", 2, s, v, dB);
    grad_ok("__matmul", 2, s, v, dA);
  }
  {
    bayes_shape s[2] = {bayes_shape_mat(5, 4), bayes_shape_vec(4)};
    const double *v[2] = {A, w};
    grad_ok("__matmul", 2, s, v, NULL);
    grad_ok("__matmul", 2, s, v, dB); /* X @ beta with data X */
    grad_ok("__matmul", 2, s, v, dA);
  }
  {
    bayes_shape s[2] = {bayes_shape_vec(5), bayes_shape_mat(5, 4)};
    const double *v[2] = {u, A};
    grad_ok("__matmul", 2, s, v, NULL);
    grad_ok("__matmul", 2, s, v, dB);
    grad_ok("__matmul", 2, s, v, dA);
  }
  {
    bayes_shape s[2] = {bayes_shape_vec(5), bayes_shape_vec(5)};
    const double *v[2] = {u, B};
    grad_ok("__matmul", 2, s, v, NULL);
    grad_ok("__matmul", 2, s, v, dB);
  }
  {
    bayes_shape s[2] = {bayes_shape_mat(1, 4), bayes_shape_mat(4, 1)};
    const double *v[2] = {A, B};
    grad_ok("__matmul", 2, s, v, NULL);
  }
}
END_TEST

/* X [1000, 10] data @ beta: the logistic-regression shape; checks the value on a big
 * case and that the backward pass leaves the data alone and gives X' g for beta. */
START_TEST(test_matmul_data_times_param)
{
  enum { N = 1000, K = 10 };
  double *X = malloc(N * K * sizeof *X), beta[K], *ref = malloc(N * sizeof *ref);
  fill_rand(X, N * K);
  fill_rand(beta, K);
  emit_h h;
  eh_init(&h, "__matmul");
  eh_arg(&h, bayes_shape_mat(N, K), X, false, false);
  eh_arg(&h, bayes_shape_vec(K), beta, true, false);
  ck_assert_int_eq(eh_emit(&h, "__matmul"), 0);
  bayes_shape ysh = h.p.slots[h.out].shape;
  ck_assert_int_eq(ysh.rank, 1);
  ck_assert_uint_eq(ysh.dim[0], N);
  eh_run(&h, false);
  ck_assert_int_eq(h.ex->failed, 0);
  naive_matmul(X, beta, ref, N, K, 1);
  assert_close(bayes_exec_val(h.ex, h.out), ref, N, 1e-13, "X @ beta");
  ck_assert_ptr_null(bayes_exec_adj(h.ex, h.args[0].slot));
  ck_assert_ptr_nonnull(bayes_exec_adj(h.ex, h.out));
  /* drive bwd directly with output adjoint g = 1..N/1000 */
  double *gy = bayes_exec_adj(h.ex, h.out), *gb = bayes_exec_adj(h.ex, h.args[1].slot);
  memset(h.ex->adj, 0, h.p.nvals * sizeof(double));
  for (int i = 0; i < N; i++) gy[i] = (i + 1) / 1000.0;
  h.p.ins[0].op->bwd(&h.ex->bound[0]);
  for (int k = 0; k < K; k++) {
    double s = 0;
    for (int i = 0; i < N; i++) s += X[i * K + k] * (i + 1) / 1000.0;
    ck_assert_double_eq_tol(gb[k], s, 1e-10 * fmax(1, fabs(s)));
  }
  eh_destroy(&h);
  free(X);
  free(ref);
}
END_TEST

/* ================= transpose ================= */

START_TEST(test_transpose)
{
  const double A[] = {1, 2, 3, 4, 5, 6};
  double T[6];
  bayes_shape s = bayes_shape_mat(2, 3);
  const double *v[1] = {A};
  ck_assert_int_eq(eval("__transpose", 1, &s, v, T, NULL, 0), 0);
  const double Tr[] = {1, 4, 2, 5, 3, 6};
  assert_close(T, Tr, 6, 0, "transpose");
  ck_assert_int_eq(eval("t", 1, &s, v, T, NULL, 0), 0);
  assert_close(T, Tr, 6, 0, "t()");
  double B[12];
  fill_rand(B, 12);
  bayes_shape s2 = bayes_shape_mat(3, 4);
  const double *v2[1] = {B};
  grad_ok("__transpose", 1, &s2, v2, NULL);
  grad_ok("t", 1, &s2, v2, NULL);

  /* vectors and scalars are their own transpose: no instruction, same slot */
  emit_h h;
  eh_init(&h, "__transpose");
  eh_arg(&h, bayes_shape_vec(3), A, true, false);
  ck_assert_int_eq(eh_emit(&h, "__transpose"), 0);
  ck_assert_int_eq(h.out, h.args[0].slot);
  ck_assert_int_eq(h.p.nins, 0);
  eh_destroy(&h);
  eh_init(&h, "t");
  eh_arg(&h, bayes_shape_scalar(), A, true, false);
  ck_assert_int_eq(eh_emit(&h, "t"), 0);
  ck_assert_int_eq(h.out, h.args[0].slot);
  eh_destroy(&h);
  /* rank 3 is an error */
  bayes_shape r3 = bayes_shape_mat(2, 2);
  r3.rank = 3;
  r3.dim[2] = 2;
  eh_init(&h, "__transpose");
  eh_arg(&h, r3, NULL, true, false);
  ck_assert_int_eq(eh_emit(&h, "__transpose"), -1);
  ck_assert_int_eq(h.log.n, 1);
  ck_assert_str_eq(h.log.msg[0], "': expects a vector or matrix, got [2, 2, 2]");
  eh_destroy(&h);
}
END_TEST

/* ================= cholesky ================= */

START_TEST(test_cholesky_values)
{
  static const size_t ns[] = {1, 2, 4, 7};
  for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
    size_t n = ns[t];
    double S[64], L[64], Sg[64];
    make_spd(S, n);
    /* garbage in the upper triangle must be ignored, as LAPACK does */
    memcpy(Sg, S, n * n * sizeof *S);
    for (size_t i = 0; i < n; i++)
      for (size_t j = i + 1; j < n; j++) Sg[i * n + j] = 1e3 * (double)(i + j + 1);
    bayes_shape s = bayes_shape_mat(n, n);
    const double *v[1] = {Sg};
    ck_assert_int_eq(eval("cholesky", 1, &s, v, L, NULL, 0), 0);
    gsl_matrix *G = gsl_matrix_alloc(n, n);
    memcpy(G->data, S, n * n * sizeof *S);
    ck_assert_int_eq(gsl_linalg_cholesky_decomp1(G), GSL_SUCCESS);
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++) {
        double ref = j <= i ? gsl_matrix_get(G, i, j) : 0.0;
        ck_assert_msg(fabs(L[i * n + j] - ref) <= 1e-12 * fmax(1, fabs(ref)),
                      "n=%zu L[%zu,%zu] = %.15g, GSL %.15g", n, i, j, L[i * n + j], ref);
      }
    gsl_matrix_free(G);
    double L2[64];
    ck_assert_int_eq(eval("cholesky_decompose", 1, &s, v, L2, NULL, 0), 0);
    assert_close(L2, L, n * n, 0, "cholesky_decompose alias");
  }
  /* hand-worked: [[4,2],[2,5]] = [[2,0],[1,2]] [[2,1],[0,2]] */
  const double S2[] = {4, 2, 2, 5}, L2r[] = {2, 0, 1, 2};
  double L2[4];
  bayes_shape s = bayes_shape_mat(2, 2);
  const double *v[1] = {S2};
  ck_assert_int_eq(eval("cholesky", 1, &s, v, L2, NULL, 0), 0);
  assert_close(L2, L2r, 4, 1e-15, "cholesky 2x2");
}
END_TEST

/* The gradient check perturbs every input entry. Only the lower triangle is read, so
 * perturbing an upper entry changes nothing and its gradient must be 0; perturbing a
 * lower entry A[i,j] moves both A[i,j] and A[j,i] of the symmetric matrix, which is the
 * gradient chol_bwd puts on the lower triangle. */
START_TEST(test_cholesky_grad)
{
  static const size_t ns[] = {1, 2, 3, 5};
  for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
    size_t n = ns[t];
    double S[64];
    make_spd(S, n);
    bayes_shape s = bayes_shape_mat(n, n);
    const double *v[1] = {S};
    grad_ok("cholesky", 1, &s, v, NULL);
  }
}
END_TEST

START_TEST(test_cholesky_not_spd)
{
  const double A[] = {1, 2, 2, 1}; /* eigenvalues 3 and -1 */
  double L[4];
  char msg[256] = "";
  bayes_shape s = bayes_shape_mat(2, 2);
  const double *v[1] = {A};
  ck_assert_int_eq(eval("cholesky", 1, &s, v, L, msg, sizeof msg), -1);
  ck_assert_str_eq(msg, "cholesky: matrix is not positive definite");
  for (int i = 0; i < 4; i++) ck_assert(isnan(L[i]));
  const double Z[] = {0, 0, 0, 0};
  v[0] = Z;
  ck_assert_int_eq(eval("cholesky", 1, &s, v, L, msg, sizeof msg), -1);
  const double N[] = {NAN, 0, 0, 1};
  v[0] = N;
  ck_assert_int_eq(eval("cholesky", 1, &s, v, L, msg, sizeof msg), -1);

  /* through a compiled program: ex->failed names the instruction */
  emit_h h;
  eh_init(&h, "cholesky");
  eh_arg(&h, s, A, true, false);
  ck_assert_int_eq(eh_emit(&h, "cholesky"), 0);
  eh_run(&h, true);
  ck_assert_int_eq(h.ex->failed, 1);
  ck_assert_str_eq(h.ex->fail_msg, "cholesky: matrix is not positive definite");
  eh_destroy(&h);
}
END_TEST

/* ================= LU-based ================= */

static gsl_matrix *gsl_copy(const double *A, size_t n)
{
  gsl_matrix *G = gsl_matrix_alloc(n, n);
  memcpy(G->data, A, n * n * sizeof *A);
  return G;
}

START_TEST(test_inverse)
{
  static const size_t ns[] = {1, 2, 3, 6};
  for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
    size_t n = ns[t];
    double A[64], C[64];
    make_wellcond(A, n);
    bayes_shape s = bayes_shape_mat(n, n);
    const double *v[1] = {A};
    ck_assert_int_eq(eval("inverse", 1, &s, v, C, NULL, 0), 0);
    gsl_matrix *G = gsl_copy(A, n), *Gi = gsl_matrix_alloc(n, n);
    gsl_permutation *p = gsl_permutation_alloc(n);
    int sg;
    ck_assert_int_eq(gsl_linalg_LU_decomp(G, p, &sg), GSL_SUCCESS);
    ck_assert_int_eq(gsl_linalg_LU_invert(G, p, Gi), GSL_SUCCESS);
    assert_close(C, Gi->data, n * n, 1e-12, "inverse vs GSL");
    gsl_matrix_free(G);
    gsl_matrix_free(Gi);
    gsl_permutation_free(p);
    grad_ok("inverse", 1, &s, v, NULL);
  }
  /* hand-worked: [[2,1],[7,4]]^-1 = [[4,-1],[-7,2]] */
  const double A[] = {2, 1, 7, 4}, Ar[] = {4, -1, -7, 2};
  double C[4];
  bayes_shape s = bayes_shape_mat(2, 2);
  const double *v[1] = {A};
  ck_assert_int_eq(eval("inverse", 1, &s, v, C, NULL, 0), 0);
  assert_close(C, Ar, 4, 1e-14, "inverse 2x2");
  /* singular */
  const double S[] = {1, 2, 2, 4};
  char msg[256];
  v[0] = S;
  ck_assert_int_eq(eval("inverse", 1, &s, v, C, msg, sizeof msg), -1);
  ck_assert_str_eq(msg, "inverse: matrix is singular");
}
END_TEST

START_TEST(test_determinant)
{
  static const size_t ns[] = {1, 2, 3, 5};
  for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
    size_t n = ns[t];
    double A[64], d, ld;
    make_wellcond(A, n);
    /* a row swap makes half the cases negative when n > 1 */
    if (t % 2 && n > 1)
      for (size_t j = 0; j < n; j++) {
        double x = A[j];
        A[j] = A[n + j];
        A[n + j] = x;
      }
    bayes_shape s = bayes_shape_mat(n, n);
    const double *v[1] = {A};
    ck_assert_int_eq(eval("determinant", 1, &s, v, &d, NULL, 0), 0);
    ck_assert_int_eq(eval("log_determinant", 1, &s, v, &ld, NULL, 0), 0);
    gsl_matrix *G = gsl_copy(A, n);
    gsl_permutation *p = gsl_permutation_alloc(n);
    int sg;
    ck_assert_int_eq(gsl_linalg_LU_decomp(G, p, &sg), GSL_SUCCESS);
    double dr = gsl_linalg_LU_det(G, sg), ldr = gsl_linalg_LU_lndet(G);
    ck_assert_msg(fabs(d - dr) <= 1e-12 * fabs(dr), "det %.15g vs GSL %.15g", d, dr);
    ck_assert_msg(fabs(ld - ldr) <= 1e-12 * fmax(1, fabs(ldr)), "logdet %.15g vs GSL %.15g",
                  ld, ldr);
    gsl_matrix_free(G);
    gsl_permutation_free(p);
    grad_ok("determinant", 1, &s, v, NULL);
    grad_ok("log_determinant", 1, &s, v, NULL);
  }
  /* hand-worked: det [[0,1],[1,0]] = -1 (pivoting), log|det| = 0; det [[3,8],[4,6]] = -14 */
  const double P[] = {0, 1, 1, 0}, Q[] = {3, 8, 4, 6};
  double d;
  bayes_shape s = bayes_shape_mat(2, 2);
  const double *v[1] = {P};
  ck_assert_int_eq(eval("determinant", 1, &s, v, &d, NULL, 0), 0);
  ck_assert_double_eq_tol(d, -1.0, 1e-15);
  ck_assert_int_eq(eval("log_determinant", 1, &s, v, &d, NULL, 0), 0);
  ck_assert_double_eq_tol(d, 0.0, 1e-15);
  v[0] = Q;
  ck_assert_int_eq(eval("determinant", 1, &s, v, &d, NULL, 0), 0);
  ck_assert_double_eq_tol(d, -14.0, 1e-13);
  ck_assert_int_eq(eval("log_determinant", 1, &s, v, &d, NULL, 0), 0);
  ck_assert_double_eq_tol(d, log(14.0), 1e-14);
  /* singular: value 0 / -inf, not a failure */
  const double S[] = {1, 2, 2, 4};
  v[0] = S;
  ck_assert_int_eq(eval("determinant", 1, &s, v, &d, NULL, 0), 0);
  ck_assert_double_eq(d, 0.0);
  ck_assert_int_eq(eval("log_determinant", 1, &s, v, &d, NULL, 0), 0);
  ck_assert(isinf(d) && d < 0);
}
END_TEST

START_TEST(test_mdivide_left)
{
  static const size_t ns[] = {1, 3, 5};
  const char *names[2] = {"mdivide_left", "solve"};
  for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
    size_t n = ns[t], m = 3;
    double A[64], bv[8], Bm[24], x[8], X[24];
    make_wellcond(A, n);
    fill_rand(bv, n);
    fill_rand(Bm, n * m);
    gsl_matrix *G = gsl_copy(A, n);
    gsl_permutation *p = gsl_permutation_alloc(n);
    gsl_vector *gb = gsl_vector_alloc(n), *gx = gsl_vector_alloc(n);
    int sg;
    ck_assert_int_eq(gsl_linalg_LU_decomp(G, p, &sg), GSL_SUCCESS);
    for (int f = 0; f < 2; f++) {
      /* vector right-hand side */
      bayes_shape s[2] = {bayes_shape_mat(n, n), bayes_shape_vec(n)};
      const double *v[2] = {A, bv};
      ck_assert_int_eq(eval(names[f], 2, s, v, x, NULL, 0), 0);
      memcpy(gb->data, bv, n * sizeof *bv);
      ck_assert_int_eq(gsl_linalg_LU_solve(G, p, gb, gx), GSL_SUCCESS);
      assert_close(x, gx->data, n, 1e-12, "solve vector vs GSL");
      grad_ok(names[f], 2, s, v, NULL);
      const bool d0[2] = {false, true}, d1[2] = {true, false};
      grad_ok(names[f], 2, s, v, d0);
      grad_ok(names[f], 2, s, v, d1);
      /* matrix right-hand side, column by column */
      s[1] = bayes_shape_mat(n, m);
      v[1] = Bm;
      ck_assert_int_eq(eval(names[f], 2, s, v, X, NULL, 0), 0);
      for (size_t j = 0; j < m; j++) {
        for (size_t i = 0; i < n; i++) gb->data[i] = Bm[i * m + j];
        ck_assert_int_eq(gsl_linalg_LU_solve(G, p, gb, gx), GSL_SUCCESS);
        for (size_t i = 0; i < n; i++)
          ck_assert_double_eq_tol(X[i * m + j], gx->data[i], 1e-12 * fmax(1, fabs(gx->data[i])));
      }
      grad_ok(names[f], 2, s, v, NULL);
      grad_ok(names[f], 2, s, v, d0);
      grad_ok(names[f], 2, s, v, d1);
    }
    gsl_matrix_free(G);
    gsl_permutation_free(p);
    gsl_vector_free(gb);
    gsl_vector_free(gx);
  }
  /* hand-worked: [[2,1],[1,3]] \ [3,5] = [0.8, 1.4] */
  const double A[] = {2, 1, 1, 3}, b[] = {3, 5};
  double x[2];
  bayes_shape s[2] = {bayes_shape_mat(2, 2), bayes_shape_vec(2)};
  const double *v[2] = {A, b};
  ck_assert_int_eq(eval("mdivide_left", 2, s, v, x, NULL, 0), 0);
  ck_assert_double_eq_tol(x[0], 0.8, 1e-15);
  ck_assert_double_eq_tol(x[1], 1.4, 1e-15);
  const double S[] = {1, 2, 2, 4};
  char msg[256];
  v[0] = S;
  ck_assert_int_eq(eval("mdivide_left", 2, s, v, x, msg, sizeof msg), -1);
  ck_assert_str_eq(msg, "mdivide_left: matrix is singular");
}
END_TEST

/* ================= structural helpers ================= */

START_TEST(test_diag_trace_add_diag)
{
  const double v3[] = {1, -2, 3};
  double D[9];
  bayes_shape s = bayes_shape_vec(3);
  const double *v[2] = {v3};
  ck_assert_int_eq(eval("diag_matrix", 1, &s, v, D, NULL, 0), 0);
  const double Dr[] = {1, 0, 0, 0, -2, 0, 0, 0, 3};
  assert_close(D, Dr, 9, 0, "diag_matrix");
  grad_ok("diag_matrix", 1, &s, v, NULL);

  const double M[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  double d[5];
  s = bayes_shape_mat(3, 5);
  v[0] = M;
  ck_assert_int_eq(eval("diag", 1, &s, v, d, NULL, 0), 0);
  const double dr[] = {1, 7, 13};
  assert_close(d, dr, 3, 0, "diag [3,5]");
  grad_ok("diag", 1, &s, v, NULL);
  s = bayes_shape_mat(5, 3);
  ck_assert_int_eq(eval("diagonal", 1, &s, v, d, NULL, 0), 0);
  const double dr2[] = {1, 5, 9};
  assert_close(d, dr2, 3, 0, "diagonal [5,3]");
  grad_ok("diagonal", 1, &s, v, NULL);

  double tr;
  s = bayes_shape_mat(3, 3);
  ck_assert_int_eq(eval("trace", 1, &s, v, &tr, NULL, 0), 0);
  ck_assert_double_eq(tr, 15.0);
  grad_ok("trace", 1, &s, v, NULL);

  bayes_shape s2[2] = {bayes_shape_mat(3, 3), bayes_shape_vec(3)};
  const double *v2[2] = {M, v3};
  double Y[9];
  ck_assert_int_eq(eval("add_diag", 2, s2, v2, Y, NULL, 0), 0);
  const double Yr[] = {2, 2, 3, 4, 3, 6, 7, 8, 12};
  assert_close(Y, Yr, 9, 0, "add_diag vector");
  grad_ok("add_diag", 2, s2, v2, NULL);
  const double half = 0.5;
  s2[1] = bayes_shape_scalar();
  v2[1] = &half;
  ck_assert_int_eq(eval("add_diag", 2, s2, v2, Y, NULL, 0), 0);
  const double Ys[] = {1.5, 2, 3, 4, 5.5, 6, 7, 8, 9.5};
  assert_close(Y, Ys, 9, 0, "add_diag scalar");
  grad_ok("add_diag", 2, s2, v2, NULL);
}
END_TEST

START_TEST(test_crossprod)
{
  double X[12], C[16], R[16], Xt[12];
  fill_rand(X, 12);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 3; j++) Xt[j * 4 + i] = X[i * 3 + j];
  bayes_shape s = bayes_shape_mat(4, 3);
  const double *v[1] = {X};
  /* crossprod: X' X, [3, 3] */
  ck_assert_int_eq(eval("crossprod", 1, &s, v, C, NULL, 0), 0);
  naive_matmul(Xt, X, R, 3, 4, 3);
  assert_close(C, R, 9, 1e-14, "crossprod");
  grad_ok("crossprod", 1, &s, v, NULL);
  /* tcrossprod: X X', [4, 4] */
  ck_assert_int_eq(eval("tcrossprod", 1, &s, v, C, NULL, 0), 0);
  naive_matmul(X, Xt, R, 4, 3, 4);
  assert_close(C, R, 16, 1e-14, "tcrossprod");
  grad_ok("tcrossprod", 1, &s, v, NULL);
  /* exact symmetry of the result (it feeds cholesky, which reads one triangle) */
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) ck_assert_double_eq(C[i * 4 + j], C[j * 4 + i]);

  /* multiply_lower_tri_self_transpose: hand-worked [[1,9],[2,3]] -> L = [[1,0],[2,3]],
   * L L' = [[1,2],[2,13]] */
  const double A[] = {1, 9, 2, 3}, Ar[] = {1, 2, 2, 13};
  bayes_shape s2 = bayes_shape_mat(2, 2);
  v[0] = A;
  ck_assert_int_eq(eval("multiply_lower_tri_self_transpose", 1, &s2, v, C, NULL, 0), 0);
  assert_close(C, Ar, 4, 0, "mlts 2x2");
  /* rectangular both ways against tril + naive product */
  for (int shape = 0; shape < 2; shape++) {
    size_t m = shape ? 3 : 4, n = shape ? 4 : 3;
    double T[12], Tt[12];
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) {
        T[i * n + j] = j <= i ? X[i * n + j] : 0.0;
        Tt[j * m + i] = T[i * n + j];
      }
    bayes_shape sr = bayes_shape_mat(m, n);
    v[0] = X;
    ck_assert_int_eq(eval("multiply_lower_tri_self_transpose", 1, &sr, v, C, NULL, 0), 0);
    naive_matmul(T, Tt, R, m, n, m);
    assert_close(C, R, m * m, 1e-14, "mlts rectangular");
    grad_ok("multiply_lower_tri_self_transpose", 1, &sr, v, NULL);
  }
}
END_TEST

/* ================= hmm_marginal ================= */

/* Brute force: sum over all K^N state paths of rho[s1] w[s1,1] prod Gamma[s_{t-1}, s_t]
 * w[s_t, t] with w = exp(log_omega). */
static double hmm_brute(const double *lo, const double *G, const double *rho, size_t K,
                        size_t N)
{
  size_t paths = 1;
  for (size_t t = 0; t < N; t++) paths *= K;
  double total = 0;
  for (size_t code = 0; code < paths; code++) {
    size_t s[16] = {0}, c = code;
    for (size_t t = 0; t < N; t++) {
      s[t] = c % K;
      c /= K;
    }
    double p = rho[s[0]] * exp(lo[s[0] * N]);
    for (size_t t = 1; t < N; t++) p *= G[s[t - 1] * K + s[t]] * exp(lo[s[t] * N + t]);
    total += p;
  }
  return log(total);
}

static void make_stochastic(double *x, size_t rows, size_t K)
{
  for (size_t i = 0; i < rows; i++) {
    double s = 0;
    for (size_t j = 0; j < K; j++) s += x[i * K + j] = 0.1 + gsl_rng_uniform(rng);
    for (size_t j = 0; j < K; j++) x[i * K + j] /= s;
  }
}

START_TEST(test_hmm_values_and_grad)
{
  static const size_t Ks[] = {2, 3}, Ns[] = {4, 1, 5};
  for (size_t a = 0; a < 2; a++)
    for (size_t bn = 0; bn < 3; bn++) {
      size_t K = Ks[a], N = Ns[bn];
      double lo[15], G[9], rho[3], v;
      for (size_t i = 0; i < K * N; i++) lo[i] = -3.0 * gsl_rng_uniform(rng);
      make_stochastic(G, K, K);
      make_stochastic(rho, 1, K);
      bayes_shape s[3] = {bayes_shape_mat(K, N), bayes_shape_mat(K, K), bayes_shape_vec(K)};
      const double *x[3] = {lo, G, rho};
      ck_assert_int_eq(eval("hmm_marginal", 3, s, x, &v, NULL, 0), 0);
      double ref = hmm_brute(lo, G, rho, K, N);
      ck_assert_msg(fabs(v - ref) <= 1e-12 * fmax(1, fabs(ref)),
                    "K=%zu N=%zu: %.15g vs brute force %.15g", K, N, v, ref);
      grad_ok("hmm_marginal", 3, s, x, NULL);
      const bool only_lo[3] = {true, false, false};
      grad_ok("hmm_marginal", 3, s, x, only_lo);
    }
  /* hand-worked, K=2 N=2: rho=(.5,.5), Gamma=[[.9,.1],[.2,.8]], omega=[[1,2],[3,4]]
   * (omega[k,t]): p = sum_ij rho_i w_i1 G_ij w_j2 = .5*1*(.9*2+.1*4) + .5*3*(.2*2+.8*4)
   *  = 1.1 + 5.4 = 6.5 */
  const double lo[] = {log(1.0), log(2.0), log(3.0), log(4.0)};
  const double G[] = {.9, .1, .2, .8}, rho[] = {.5, .5};
  double v;
  bayes_shape s[3] = {bayes_shape_mat(2, 2), bayes_shape_mat(2, 2), bayes_shape_vec(2)};
  const double *x[3] = {lo, G, rho};
  ck_assert_int_eq(eval("hmm_marginal", 3, s, x, &v, NULL, 0), 0);
  ck_assert_double_eq_tol(v, log(6.5), 1e-14);
}
END_TEST

START_TEST(test_hmm_extremes)
{
  /* emission log densities around -800 underflow exp(): the scaled recursion must not */
  size_t K = 3, N = 4;
  double lo[12], lo_shift[12], G[9], rho[3], v, vs;
  for (size_t i = 0; i < 12; i++) lo[i] = -2.0 * gsl_rng_uniform(rng);
  for (size_t i = 0; i < 12; i++) lo_shift[i] = lo[i] - 800.0;
  make_stochastic(G, K, K);
  make_stochastic(rho, 1, K);
  bayes_shape s[3] = {bayes_shape_mat(K, N), bayes_shape_mat(K, K), bayes_shape_vec(K)};
  const double *x[3] = {lo, G, rho};
  ck_assert_int_eq(eval("hmm_marginal", 3, s, x, &v, NULL, 0), 0);
  x[0] = lo_shift;
  ck_assert_int_eq(eval("hmm_marginal", 3, s, x, &vs, NULL, 0), 0);
  ck_assert_double_eq_tol(vs, v - 800.0 * N, 1e-9);
  grad_ok("hmm_marginal", 3, s, x, NULL);
  /* an impossible emission in one state is fine; in every state it gives -inf */
  lo[1 * N + 2] = -INFINITY;
  x[0] = lo;
  ck_assert_int_eq(eval("hmm_marginal", 3, s, x, &v, NULL, 0), 0);
  ck_assert_double_eq_tol(v, hmm_brute(lo, G, rho, K, N), 1e-12);
  for (size_t k = 0; k < K; k++) lo[k * N + 2] = -INFINITY;
  ck_assert_int_eq(eval("hmm_marginal", 3, s, x, &v, NULL, 0), 0);
  ck_assert(isinf(v) && v < 0);
  /* a transition matrix with zeros that forbid every path through the observations */
  double lo2[4] = {0, -INFINITY, -INFINITY, 0}; /* t=1 only state 1, t=2 only state 2 */
  const double Gz[] = {1, 0, 0, 1}, rho2[] = {.5, .5};
  bayes_shape s2[3] = {bayes_shape_mat(2, 2), bayes_shape_mat(2, 2), bayes_shape_vec(2)};
  const double *x2[3] = {lo2, Gz, rho2};
  ck_assert_int_eq(eval("hmm_marginal", 3, s2, x2, &v, NULL, 0), 0);
  ck_assert(isinf(v) && v < 0);
  /* invalid inputs fail with a message naming the element */
  char msg[256];
  const double Gneg[] = {1.1, -0.1, 0.5, 0.5};
  lo2[1] = lo2[2] = -1;
  x2[1] = Gneg;
  ck_assert_int_eq(eval("hmm_marginal", 3, s2, x2, &v, msg, sizeof msg), -1);
  ck_assert_str_eq(msg, "hmm_marginal: Gamma[1, 2] = -0.1 is not a probability");
  x2[1] = Gz;
  lo2[3] = NAN;
  ck_assert_int_eq(eval("hmm_marginal", 3, s2, x2, &v, msg, sizeof msg), -1);
  ck_assert_str_eq(msg, "hmm_marginal: log_omega[2, 2] = nan");
}
END_TEST

/* ================= emit level ================= */

static void expect_error(const char *fname, int nargs, const bayes_shape *s, const char *msg,
                         int at_arg)
{
  emit_h h;
  eh_init(&h, fname);
  for (int i = 0; i < nargs; i++) eh_arg(&h, s[i], NULL, true, false);
  ck_assert_int_eq(eh_emit(&h, fname), -1);
  ck_assert_int_eq(h.log.n, 1);
  ck_assert_int_eq(h.c.nerr, 1);
  ck_assert_str_eq(h.log.msg[0], msg);
  /* located at the argument (line 5, col 10*(i+1)) or at the call (3:7) */
  ck_assert_int_eq(h.log.line[0], at_arg >= 0 ? 5 : 3);
  ck_assert_int_eq(h.log.col[0], at_arg >= 0 ? 10 * (at_arg + 1) : 7);
  ck_assert_int_eq(h.p.nins, 0);
  eh_destroy(&h);
}

START_TEST(test_emit_shape_errors)
{
  bayes_shape s[3];
  s[0] = bayes_shape_mat(3, 4);
  s[1] = bayes_shape_vec(5);
  expect_error("__matmul", 2, s,
               "@: cannot multiply [3, 4] by [5]: inner dimensions 4 and 5 differ", -1);
  s[1] = bayes_shape_mat(3, 4);
  expect_error("__matmul", 2, s,
               "@: cannot multiply [3, 4] by [3, 4]: inner dimensions 4 and 3 differ", -1);
  s[0] = bayes_shape_vec(2);
  s[1] = bayes_shape_vec(3);
  expect_error("__matmul", 2, s,
               "@: cannot multiply [2] by [3]: inner dimensions 2 and 3 differ", -1);
  s[0] = bayes_shape_scalar();
  expect_error("__matmul", 2, s,
               "@: cannot multiply scalar by [3]: operands must be vectors or matrices "
               "(use * to scale)", 0);
  s[0] = bayes_shape_mat(3, 4);
  expect_error("cholesky", 1, s, "cholesky: expects a square matrix, got [3, 4]", 0);
  expect_error("cholesky_decompose", 1, s,
               "cholesky_decompose: expects a square matrix, got [3, 4]", 0);
  s[0] = bayes_shape_vec(4);
  expect_error("inverse", 1, s, "inverse: expects a square matrix, got [4]", 0);
  s[0] = bayes_shape_mat(2, 3);
  expect_error("determinant", 1, s, "determinant: expects a square matrix, got [2, 3]", 0);
  expect_error("log_determinant", 1, s,
               "log_determinant: expects a square matrix, got [2, 3]", 0);
  expect_error("trace", 1, s, "trace: expects a square matrix, got [2, 3]", 0);
  s[0] = bayes_shape_mat(3, 3);
  s[1] = bayes_shape_vec(4);
  expect_error("mdivide_left", 2, s,
               "mdivide_left: cannot solve [3, 3] \\ [4]: 3 rows and 4 rows differ", 1);
  expect_error("solve", 2, s, "solve: cannot solve [3, 3] \\ [4]: 3 rows and 4 rows differ", 1);
  s[1] = bayes_shape_scalar();
  expect_error("solve", 2, s, "solve: right-hand side must be a vector or matrix, got scalar",
               1);
  s[1] = bayes_shape_vec(2);
  expect_error("add_diag", 2, s,
               "add_diag: cannot add [2] to the diagonal of [3, 3]: expects a scalar or [3]", 1);
  s[0] = bayes_shape_mat(3, 3);
  expect_error("diag_matrix", 1, s, "diag_matrix: expects a vector, got [3, 3]", 0);
  s[0] = bayes_shape_vec(3);
  expect_error("diag", 1, s,
               "diag: expects a matrix, got [3] (diag_matrix builds a matrix from a vector)", 0);
  expect_error("crossprod", 1, s, "crossprod: expects a matrix, got [3]", 0);
  expect_error("tcrossprod", 1, s, "tcrossprod: expects a matrix, got [3]", 0);
  expect_error("multiply_lower_tri_self_transpose", 1, s,
               "multiply_lower_tri_self_transpose: expects a matrix, got [3]", 0);
  /* hmm_marginal */
  s[0] = bayes_shape_vec(3);
  s[1] = bayes_shape_mat(3, 3);
  s[2] = bayes_shape_vec(3);
  expect_error("hmm_marginal", 3, s,
               "hmm_marginal: log_omega must be a [K, N] matrix with K >= 1 states, got [3]", 0);
  s[0] = bayes_shape_mat(3, 10);
  s[1] = bayes_shape_mat(2, 2);
  expect_error("hmm_marginal", 3, s,
               "hmm_marginal: Gamma must be [3, 3] to match log_omega [3, 10], got [2, 2]", 1);
  s[1] = bayes_shape_mat(3, 3);
  s[2] = bayes_shape_vec(2);
  expect_error("hmm_marginal", 3, s,
               "hmm_marginal: rho must be [3] to match log_omega [3, 10], got [2]", 2);
}
END_TEST

/* Every output shape of @ through the emitter and the executor. */
START_TEST(test_emit_matmul_shapes)
{
  const double A[] = {1, 2, 3, 4, 5, 6}, B[] = {1, 0, 0, 1, 2, -1}, x[] = {1, -1, 2};
  struct {
    bayes_shape a, b;
    const double *av, *bv;
    bayes_shape want;
    double val[4];
  } cases[] = {
      {bayes_shape_mat(2, 3), bayes_shape_mat(3, 2), A, B, bayes_shape_mat(2, 2),
       {7, -1, 16, -1}},
      {bayes_shape_mat(2, 3), bayes_shape_vec(3), A, x, bayes_shape_vec(2), {5, 11}},
      {bayes_shape_vec(3), bayes_shape_mat(3, 2), x, B, bayes_shape_vec(2), {5, -3}},
      {bayes_shape_vec(3), bayes_shape_vec(3), x, A, bayes_shape_scalar(), {5}},
  };
  for (size_t t = 0; t < 4; t++) {
    emit_h h;
    eh_init(&h, "__matmul");
    eh_arg(&h, cases[t].a, cases[t].av, false, false);
    eh_arg(&h, cases[t].b, cases[t].bv, true, false);
    ck_assert_int_eq(eh_emit(&h, "__matmul"), 0);
    bayes_shape got = h.p.slots[h.out].shape;
    ck_assert(bayes_shape_eq(&got, &cases[t].want));
    ck_assert(h.p.slots[h.out].flags & BAYES_SLOT_ADJ);
    ck_assert(!(h.p.slots[h.out].flags & BAYES_SLOT_INT));
    ck_assert_int_eq(h.p.ins[0].line, 3);
    eh_run(&h, false);
    ck_assert_int_eq(h.ex->failed, 0);
    assert_close(bayes_exec_val(h.ex, h.out), cases[t].val, bayes_shape_size(&got), 1e-15,
                 "emitted @");
    eh_destroy(&h);
  }
}
END_TEST

/* A two-instruction program, log_determinant(cholesky(S)' ...): here
 * log_determinant(multiply_lower_tri_self_transpose(cholesky(S))) = log det S, and the
 * reverse pass through both ops must give S^-1 on the lower triangle (symmetrised). */
START_TEST(test_emit_chain_backward)
{
  size_t n = 4;
  double S[16];
  make_spd(S, n);
  emit_h h;
  eh_init(&h, "cholesky");
  eh_arg(&h, bayes_shape_mat(n, n), S, true, false);
  ck_assert_int_eq(eh_emit(&h, "cholesky"), 0);
  bayes_shape ls = bayes_shape_mat(n, n);
  bayes_fnarg L = {h.out, &ls, n * n, false, NULL, 1, 1};
  int o2, o3;
  const bayes_fn *mlts = bayes_fn_find("multiply_lower_tri_self_transpose"),
                 *ld = bayes_fn_find("log_determinant");
  ck_assert_int_eq(mlts->emit(&h.c, 1, &L, &o2), 0);
  bayes_fnarg P = {o2, &ls, n * n, false, NULL, 1, 1};
  ck_assert_int_eq(ld->emit(&h.c, 1, &P, &o3), 0);
  h.out = o3;
  eh_run(&h, true);
  ck_assert_int_eq(h.ex->failed, 0);
  gsl_matrix *G = gsl_copy(S, n), *Gi = gsl_matrix_alloc(n, n);
  gsl_permutation *p = gsl_permutation_alloc(n);
  int sg;
  gsl_linalg_LU_decomp(G, p, &sg);
  ck_assert_double_eq_tol(bayes_exec_val(h.ex, o3)[0], gsl_linalg_LU_lndet(G), 1e-12);
  gsl_linalg_LU_invert(G, p, Gi);
  eh_backward(&h);
  const double *g = bayes_exec_adj(h.ex, h.args[0].slot);
  ck_assert_ptr_nonnull(g);
  /* d log det S / dS = S^-1; one lower entry stands for both symmetric entries */
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double ref = i == j ? gsl_matrix_get(Gi, i, i)
                   : j < i ? 2 * gsl_matrix_get(Gi, i, j)
                           : 0.0;
      ck_assert_msg(fabs(g[i * n + j] - ref) < 1e-10, "grad[%zu,%zu] %.12g vs %.12g", i, j,
                    g[i * n + j], ref);
    }
  gsl_matrix_free(G);
  gsl_matrix_free(Gi);
  gsl_permutation_free(p);
  eh_destroy(&h);
}
END_TEST

START_TEST(test_emit_hmm_backward)
{
  size_t K = 2, N = 3;
  double lo[6], G[4], rho[2];
  for (size_t i = 0; i < 6; i++) lo[i] = -gsl_rng_uniform(rng);
  make_stochastic(G, K, K);
  make_stochastic(rho, 1, K);
  emit_h h;
  eh_init(&h, "hmm_marginal");
  eh_arg(&h, bayes_shape_mat(K, N), lo, true, false);
  eh_arg(&h, bayes_shape_mat(K, K), G, false, false);
  eh_arg(&h, bayes_shape_vec(K), rho, false, false);
  ck_assert_int_eq(eh_emit(&h, "hmm_marginal"), 0);
  eh_run(&h, true);
  ck_assert_int_eq(h.ex->failed, 0);
  ck_assert_double_eq_tol(bayes_exec_val(h.ex, h.out)[0], hmm_brute(lo, G, rho, K, N), 1e-13);
  eh_backward(&h);
  /* the gradient wrt log_omega[k, t] is the posterior probability of state k at t: the
   * columns sum to one */
  const double *g = bayes_exec_adj(h.ex, h.args[0].slot);
  for (size_t t = 0; t < N; t++) {
    double s = 0;
    for (size_t k = 0; k < K; k++) {
      ck_assert(g[k * N + t] > 0);
      s += g[k * N + t];
    }
    ck_assert_double_eq_tol(s, 1.0, 1e-13);
  }
  eh_destroy(&h);
}
END_TEST

START_TEST(test_identity_matrix)
{
  emit_h h;
  double n = 3;
  eh_init(&h, "identity_matrix");
  eh_arg(&h, bayes_shape_scalar(), &n, false, true);
  ck_assert_int_eq(eh_emit(&h, "identity_matrix"), 0);
  ck_assert_int_eq(h.p.nins, 0);
  ck_assert(h.p.slots[h.out].flags & BAYES_SLOT_CONST);
  bayes_shape want = bayes_shape_mat(3, 3);
  ck_assert(bayes_shape_eq(&h.p.slots[h.out].shape, &want));
  const double *I = bayes_prog_const_ptr(&h.p, h.out);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) ck_assert_double_eq(I[i * 3 + j], i == j ? 1.0 : 0.0);
  eh_destroy(&h);

  eh_init(&h, "identity_matrix");
  eh_arg(&h, bayes_shape_scalar(), &n, true, true); /* depends on parameters */
  ck_assert_int_eq(eh_emit(&h, "identity_matrix"), -1);
  ck_assert_str_eq(h.log.msg[0], "identity_matrix: the size must be known before sampling "
                                 "(data or a constant), not depend on parameters");
  eh_destroy(&h);

  double bad[] = {-1, 2.5, 4097};
  const char *msgs[] = {"identity_matrix: size must be a non-negative integer, got -1",
                        "identity_matrix: size must be a non-negative integer, got 2.5",
                        "identity_matrix: size 4097 exceeds the limit of 4096"};
  for (int i = 0; i < 3; i++) {
    eh_init(&h, "identity_matrix");
    eh_arg(&h, bayes_shape_scalar(), &bad[i], false, false);
    ck_assert_int_eq(eh_emit(&h, "identity_matrix"), -1);
    ck_assert_str_eq(h.log.msg[0], msgs[i]);
    eh_destroy(&h);
  }
  eh_init(&h, "identity_matrix");
  eh_arg(&h, bayes_shape_vec(2), bad, false, false);
  ck_assert_int_eq(eh_emit(&h, "identity_matrix"), -1);
  ck_assert_str_eq(h.log.msg[0], "identity_matrix: expects an integer scalar, got [2]");
  eh_destroy(&h);
}
END_TEST

START_TEST(test_registry)
{
  static const char *const names[] = {
      "__matmul", "__transpose", "t", "cholesky", "cholesky_decompose", "inverse",
      "determinant", "log_determinant", "mdivide_left", "solve", "diag_matrix", "diag",
      "diagonal", "identity_matrix", "crossprod", "tcrossprod",
      "multiply_lower_tri_self_transpose", "trace", "add_diag", "hmm_marginal", NULL};
  for (int i = 0; names[i]; i++) {
    const bayes_fn *f = bayes_fn_find(names[i]);
    ck_assert_msg(f != NULL, "%s not registered", names[i]);
    ck_assert_str_eq(f->name, names[i]);
    ck_assert(f->emit != NULL);
  }
  const char *const *user = bayes_fn_names();
  ck_assert_ptr_nonnull(user);
  bool chol = false, mm = false;
  for (int i = 0; user[i]; i++) {
    if (strcmp(user[i], "cholesky") == 0) chol = true;
    if (strcmp(user[i], "__matmul") == 0) mm = true;
  }
  ck_assert(chol && !mm);
}
END_TEST

static Suite *linalg_suite(void)
{
  Suite *s = suite_create("linalg");
  TCase *tc = tcase_create("ops");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_matmul_values);
  tcase_add_test(tc, test_matmul_grad);
  tcase_add_test(tc, test_matmul_data_times_param);
  tcase_add_test(tc, test_transpose);
  tcase_add_test(tc, test_cholesky_values);
  tcase_add_test(tc, test_cholesky_grad);
  tcase_add_test(tc, test_cholesky_not_spd);
  tcase_add_test(tc, test_inverse);
  tcase_add_test(tc, test_determinant);
  tcase_add_test(tc, test_mdivide_left);
  tcase_add_test(tc, test_diag_trace_add_diag);
  tcase_add_test(tc, test_crossprod);
  tcase_add_test(tc, test_hmm_values_and_grad);
  tcase_add_test(tc, test_hmm_extremes);
  suite_add_tcase(s, tc);
  TCase *te = tcase_create("emit");
  tcase_add_test(te, test_emit_shape_errors);
  tcase_add_test(te, test_emit_matmul_shapes);
  tcase_add_test(te, test_emit_chain_backward);
  tcase_add_test(te, test_emit_hmm_backward);
  tcase_add_test(te, test_identity_matrix);
  tcase_add_test(te, test_registry);
  suite_add_tcase(s, te);
  return s;
}

int main(void)
{
  gsl_set_error_handler_off();
  rng = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(rng, 20240601);
  SRunner *sr = srunner_create(linalg_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failures = srunner_ntests_failed(sr);
  srunner_free(sr);
  gsl_rng_free(rng);
  return failures != 0;
}
