/* test_transform.c — unit tests of the constraint transforms (src/transform.c, src/xform/):
 * reverse-mode gradients against finite differences, log-Jacobians against log|det| of a
 * numerically differentiated Jacobian, inverse round trips and rejections, output
 * properties. The references here are independent of the transforms' own formulas. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <lapacke.h>

#include "testutil.h"
#include "transform.h"

#define MAXN 64

typedef enum { FREE_ALL, FREE_SIMPLEX, FREE_STRICT_LOWER, FREE_LOWER, FREE_NONE } free_kind;

typedef struct {
  const char *name;
  bayes_shape xs;
  int nb;
  bool bvec[2];   /* bound k has one value per element (else a scalar) */
  double bval[2]; /* bound k, element i: bval[k] + 0.25 i */
  free_kind fk;   /* free coordinates of x for the Jacobian */
  bool big_logj;  /* the numerical Jacobian is accurate in the large-|u| set: not where
                   * entries of size exp(-20) sit next to outputs of size 1 */
  double big_hi;  /* positive entries of the large-|u| set (negative ones are -20) */
} tdef;

#define V(n) {.rank = 1, .dim = {n}}
#define M(n) {.rank = 2, .dim = {n, n}}
#define S {.rank = 0}

static const tdef cases[] = {
    {"identity", V(3), 0, {0}, {0}, FREE_ALL, true, 20},
    {"identity", S, 0, {0}, {0}, FREE_ALL, true, 20},
    {"lower", V(4), 1, {false}, {-1.5}, FREE_ALL, false, 5},
    {"lower", {.rank = 2, .dim = {2, 3}}, 1, {true}, {0.5}, FREE_ALL, false, 5},
    {"upper", V(4), 1, {false}, {2}, FREE_ALL, false, 5},
    {"upper", V(3), 1, {true}, {-3}, FREE_ALL, false, 5},
    {"lower_upper", V(4), 2, {false, false}, {-1, 3}, FREE_ALL, false, 20},
    {"lower_upper", V(4), 2, {true, false}, {-1, 3}, FREE_ALL, false, 20},
    {"lower_upper", V(3), 2, {true, true}, {0, 0.5}, FREE_ALL, false, 20},
    {"lower_upper", S, 2, {false, false}, {0, 1}, FREE_ALL, false, 20},
    {"simplex", V(1), 0, {0}, {0}, FREE_SIMPLEX, true, 20},
    {"simplex", V(2), 0, {0}, {0}, FREE_SIMPLEX, false, 20},
    {"simplex", V(5), 0, {0}, {0}, FREE_SIMPLEX, false, 20},
    {"ordered", V(4), 0, {0}, {0}, FREE_ALL, false, 20},
    {"positive_ordered", V(4), 0, {0}, {0}, FREE_ALL, false, 5},
    {"unit_vector", V(3), 0, {0}, {0}, FREE_NONE, true, 20},
    {"cholesky_corr", M(1), 0, {0}, {0}, FREE_STRICT_LOWER, true, 20},
    {"cholesky_corr", M(2), 0, {0}, {0}, FREE_STRICT_LOWER, false, 20},
    {"cholesky_corr", M(4), 0, {0}, {0}, FREE_STRICT_LOWER, false, 20},
    {"corr", M(2), 0, {0}, {0}, FREE_STRICT_LOWER, false, 20},
    {"corr", M(4), 0, {0}, {0}, FREE_STRICT_LOWER, false, 20},
    {"cov", M(1), 0, {0}, {0}, FREE_LOWER, true, 5},
    {"cov", M(3), 0, {0}, {0}, FREE_LOWER, false, 5},
    {"cholesky_cov", M(3), 0, {0}, {0}, FREE_LOWER, true, 5},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))
/* u sets: 0: N(0, 1.5^2), 1: N(0, 3^2), 2: -20 and big_hi mixed with small values. Where
 * x grows like exp(u), big_hi is 5: at exp(20) the finite-difference references (this
 * file's and testutil's) drown in the rounding of the large outputs. */
#define NUSETS 3

typedef struct {
  const tdef *c;
  const bayes_transform *t;
  size_t n, m;              /* constrained and unconstrained sizes */
  bayes_shape in_s[3], out_s[2];
  double bnd[2][MAXN];
  size_t bn[2];
} setup;

static void make_setup(const tdef *c, setup *s)
{
  char err[256] = "";
  memset(s, 0, sizeof *s);
  s->c = c;
  s->t = bayes_transform_find(c->name);
  ck_assert_msg(s->t != NULL, "transform %s not registered", c->name);
  ck_assert_int_eq(s->t->nbounds, c->nb);
  long m = s->t->unc_size(&c->xs, err, sizeof err);
  ck_assert_msg(m >= 0, "%s: unc_size failed: %s", c->name, err);
  s->n = bayes_shape_size(&c->xs);
  s->m = (size_t)m;
  s->in_s[0] = bayes_shape_vec(s->m);
  s->out_s[0] = c->xs;
  s->out_s[1] = bayes_shape_scalar();
  for (int k = 0; k < c->nb; k++) {
    s->in_s[1 + k] = c->bvec[k] ? c->xs : bayes_shape_scalar();
    s->bn[k] = bayes_shape_size(&s->in_s[1 + k]);
    for (size_t i = 0; i < s->bn[k]; i++) s->bnd[k][i] = c->bval[k] + 0.25 * (double)i;
  }
}

static void fill_u(const setup *s, int set, unsigned long seed, double *u)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, seed + 17 * (unsigned long)set);
  double hi = s->c->big_hi;
  for (size_t i = 0; i < s->m; i++) {
    if (set == 0) u[i] = gsl_ran_gaussian(r, 1.5);
    else if (set == 1) u[i] = gsl_ran_gaussian(r, 3.0);
    else {
      const double big[] = {hi, -20, 0.7, -20, hi, -0.4, hi};
      u[i] = big[i % 7];
    }
  }
  gsl_rng_free(r);
}

static bt_opcheck opcheck(const setup *s, const double *u, const double **xv, bool jac,
                          const bool *diff)
{
  xv[0] = u;
  for (int k = 0; k < s->c->nb; k++) xv[1 + k] = s->bnd[k];
  bt_opcheck oc;
  memset(&oc, 0, sizeof oc);
  oc.op = s->t->op;
  oc.nin = 1 + s->c->nb;
  oc.nout = 2;
  oc.xs = s->in_s;
  oc.xv = xv;
  oc.diff = diff;
  oc.ys = s->out_s;
  oc.jacobian = jac;
  return oc;
}

/* forward: x (n values) and logJ; returns 0 or -1 with msg */
static int eval(const setup *s, const double *u, double *x, double *lj, char *msg, size_t len)
{
  const double *xv[3];
  bt_opcheck oc = opcheck(s, u, xv, true, NULL);
  double ljv;
  double *out[2] = {x, &ljv};
  int rc = bt_op_eval(&oc, out, msg, len);
  if (lj) *lj = ljv;
  return rc;
}

static void eval_ok(const setup *s, const double *u, double *x, double *lj)
{
  char msg[256] = "";
  ck_assert_msg(eval(s, u, x, lj, msg, sizeof msg) == 0, "%s: forward failed: %s",
                s->c->name, msg);
}

static int inverse(const setup *s, const double *x, double *u, char *err, size_t len)
{
  const double *b[2] = {s->bnd[0], s->bnd[1]};
  return s->t->inverse(x, &s->c->xs, b, s->bn, u, err, len);
}

/* ---- 1. gradients by finite differences (testutil's fourth-order stencil) ---- */

START_TEST(test_grad)
{
  const tdef *c = &cases[_i / NUSETS];
  int set = _i % NUSETS;
  setup s;
  make_setup(c, &s);
  double u[MAXN];
  fill_u(&s, set, 11, u);
  for (int jac = 0; jac < 2; jac++)
    for (int bconst = 0; bconst < (c->nb ? 2 : 1); bconst++) {
      bool diff[3] = {true, !bconst, !bconst};
      const double *xv[3];
      bt_opcheck oc = opcheck(&s, u, xv, jac, diff);
      char rep[512];
      double err = bt_op_grad_check(&oc, rep, sizeof rep);
      ck_assert_msg(err < 1e-6, "%s %s (u set %d, jacobian %d, bounds %s): error %g: %s",
                    c->name, bayes_shape_str(&c->xs, (char[32]){0}, 32), set, jac,
                    bconst ? "constant" : "differentiated", err, rep);
    }
}
END_TEST

/* ---- with one output adjoint missing (gy NULL): against a numerical Jacobian ---- */

static void num_jacobian(const setup *s, const double *u, double *J /* n x m */,
                         double *dlj /* m */)
{
  double up[MAXN], x[4][MAXN], lj[4];
  memcpy(up, u, s->m * sizeof(double));
  for (size_t k = 0; k < s->m; k++) {
    double h = 1e-3 * fmax(1.0, fabs(u[k]));
    const double off[4] = {-2, -1, 1, 2};
    for (int t = 0; t < 4; t++) {
      up[k] = u[k] + off[t] * h;
      eval_ok(s, up, x[t], &lj[t]);
    }
    up[k] = u[k];
    for (size_t a = 0; a < s->n; a++)
      J[a * s->m + k] = (x[0][a] - 8 * x[1][a] + 8 * x[2][a] - x[3][a]) / (12 * h);
    if (dlj) dlj[k] = (lj[0] - 8 * lj[1] + 8 * lj[2] - lj[3]) / (12 * h);
  }
}

/* Gradient w.r.t. u with only output `keep` having an adjoint (w); the other's gy is NULL. */
static void grad_partial(const setup *s, const double *u, int keep, const double *w,
                         double *gu)
{
  bayes_prog p;
  bayes_prog_init(&p);
  int in[3];
  in[0] = bayes_prog_slot(&p, &s->in_s[0], BAYES_SLOT_ADJ);
  for (int k = 0; k < s->c->nb; k++) in[1 + k] = bayes_prog_const(&p, &s->in_s[1 + k], 0, s->bnd[k]);
  int ii = bayes_prog_add(&p, s->t->op, 1 + s->c->nb, in, 2, s->out_s, false);
  ck_assert_int_ge(ii, 0);
  int out_keep = p.ins[ii].out[keep], out_drop = p.ins[ii].out[1 - keep];
  p.slots[out_drop].flags &= ~(unsigned)BAYES_SLOT_ADJ;
  bayes_prog_layout(&p);
  bayes_exec *ex = bayes_exec_alloc(&p);
  ck_assert(ex != NULL);
  if (s->m) memcpy(bayes_exec_val(ex, in[0]), u, s->m * sizeof(double));
  ex->grad = true;
  long allocs = bayes_alloc_count(); /* fwd and bwd run in the gradient hot path */
  bayes_exec_one(ex, ii);
  ck_assert_int_eq(ex->failed, 0);
  memset(ex->adj, 0, p.nvals * sizeof(double));
  ck_assert(bayes_exec_adj(ex, out_drop) == NULL);
  memcpy(bayes_exec_adj(ex, out_keep), w, (keep ? 1 : s->n) * sizeof(double));
  /* bwd may use the output buffer as scratch (corr) but must leave it as it was */
  double before[MAXN], lj_before = bayes_exec_val(ex, p.ins[ii].out[1])[0];
  memcpy(before, bayes_exec_val(ex, p.ins[ii].out[0]), s->n * sizeof(double));
  s->t->op->bwd(&ex->bound[ii]);
  ck_assert_msg(bayes_alloc_count() == allocs, "%s: fwd/bwd allocated memory", s->c->name);
  ck_assert_msg(memcmp(before, bayes_exec_val(ex, p.ins[ii].out[0]), s->n * sizeof(double)) == 0,
                "%s: bwd changed the output", s->c->name);
  ck_assert(lj_before == bayes_exec_val(ex, p.ins[ii].out[1])[0]);
  if (s->m) memcpy(gu, bayes_exec_adj(ex, in[0]), s->m * sizeof(double));
  bayes_exec_free(ex);
  bayes_prog_destroy(&p);
}

START_TEST(test_grad_null_adjoint)
{
  const tdef *c = &cases[_i / 2];
  int set = _i % 2;
  setup s;
  make_setup(c, &s);
  double u[MAXN], J[MAXN * MAXN], dlj[MAXN], w[MAXN], gu[MAXN];
  fill_u(&s, set, 23, u);
  num_jacobian(&s, u, J, dlj);
  for (size_t a = 0; a < s.n; a++) w[a] = 0.3 + 0.1 * (double)a;
  /* x only: gu = J' w */
  grad_partial(&s, u, 0, w, gu);
  for (size_t k = 0; k < s.m; k++) {
    double ref = 0;
    for (size_t a = 0; a < s.n; a++) ref += J[a * s.m + k] * w[a];
    ck_assert_msg(fabs(gu[k] - ref) <= 1e-6 * fmax(1.0, fabs(ref)),
                  "%s set %d: d(w.x)/du[%zu] = %.12g, numerical %.12g", c->name, set, k, gu[k], ref);
  }
  /* logJ only */
  double one = 1.0;
  grad_partial(&s, u, 1, &one, gu);
  for (size_t k = 0; k < s.m; k++)
    ck_assert_msg(fabs(gu[k] - dlj[k]) <= 1e-6 * fmax(1.0, fabs(dlj[k])),
                  "%s set %d: dlogJ/du[%zu] = %.12g, numerical %.12g", c->name, set, k, gu[k],
                  dlj[k]);
}
END_TEST

/* ---- 2. logJ = log|det| of the Jacobian of the free coordinates ---- */

static size_t free_coords(const setup *s, const double *x, double *f)
{
  size_t q = 0, K = s->c->xs.dim[0];
  switch (s->c->fk) {
  case FREE_ALL:
    for (size_t i = 0; i < s->n; i++) f[q++] = x[i];
    break;
  case FREE_SIMPLEX:
    for (size_t i = 0; i + 1 < s->n; i++) f[q++] = x[i];
    break;
  case FREE_STRICT_LOWER:
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < i; j++) f[q++] = x[i * K + j];
    break;
  case FREE_LOWER:
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j <= i; j++) f[q++] = x[i * K + j];
    break;
  case FREE_NONE:
    break;
  }
  return q;
}

START_TEST(test_logj)
{
  const tdef *c = &cases[_i / NUSETS];
  int set = _i % NUSETS;
  setup s;
  make_setup(c, &s);
  double u[MAXN], x[MAXN], lj;
  fill_u(&s, set, 31, u);
  eval_ok(&s, u, x, &lj);
  if (c->fk == FREE_NONE) {
    /* unit_vector: Stan's -u'u/2, the same sum in the same order, so exactly equal */
    double ss = 0;
    for (size_t i = 0; i < s.m; i++) ss += u[i] * u[i];
    ck_assert_msg(lj == -0.5 * ss, "%s: logJ %.17g, expected %.17g", c->name, lj, -0.5 * ss);
    return;
  }
  if (set == 2 && !c->big_logj) return; /* finite differences lose the tiny entries there */
  if (s.m == 0) {
    ck_assert_msg(lj == 0, "%s: empty transform has logJ %g", c->name, lj);
    return;
  }
  double J[MAXN * MAXN], up[MAXN], f[4][MAXN], xt[MAXN];
  memcpy(up, u, s.m * sizeof(double));
  for (size_t k = 0; k < s.m; k++) {
    double h = 1e-3 * fmax(1.0, fabs(u[k]));
    const double off[4] = {-2, -1, 1, 2};
    for (int t = 0; t < 4; t++) {
      up[k] = u[k] + off[t] * h;
      eval_ok(&s, up, xt, NULL);
      ck_assert_uint_eq(free_coords(&s, xt, f[t]), s.m);
    }
    up[k] = u[k];
    for (size_t a = 0; a < s.m; a++)
      J[a * s.m + k] = (f[0][a] - 8 * f[1][a] + 8 * f[2][a] - f[3][a]) / (12 * h);
  }
  gsl_matrix_view Jv = gsl_matrix_view_array(J, s.m, s.m);
  gsl_permutation *perm = gsl_permutation_alloc(s.m);
  int signum;
  ck_assert_int_eq(gsl_linalg_LU_decomp(&Jv.matrix, perm, &signum), GSL_SUCCESS);
  double ref = gsl_linalg_LU_lndet(&Jv.matrix);
  gsl_permutation_free(perm);
  ck_assert_msg(fabs(lj - ref) < 1e-6, "%s %s set %d: logJ %.12g, log|det J| numerical %.12g",
                c->name, bayes_shape_str(&c->xs, (char[32]){0}, 32), set, lj, ref);
}
END_TEST

/* ---- 3. inverses ---- */

START_TEST(test_roundtrip)
{
  const tdef *c = &cases[_i / 2];
  int set = _i % 2;
  setup s;
  make_setup(c, &s);
  double u[MAXN], x[MAXN], u2[MAXN], x2[MAXN];
  char err[256] = "";
  fill_u(&s, set, 47, u);
  eval_ok(&s, u, x, NULL);
  ck_assert_msg(inverse(&s, x, u2, err, sizeof err) == 0, "%s: inverse failed: %s", c->name, err);
  if (c->fk == FREE_NONE) {
    /* unit_vector forgets |u|: the inverse returns x itself, a point of norm 1 */
    for (size_t i = 0; i < s.m; i++) ck_assert(u2[i] == x[i]);
  } else {
    /* corr's inverse refactors Omega, whose condition number in set 1 reaches ~1e10 (a row
     * of L with remaining length 1e-5); u is then only recoverable to ~1e-6 in double.
     * There only forward(inverse(x)) == x is checked; set 0 checks u to 1e-10. */
    bool check_u = !(set == 1 && !strcmp(c->name, "corr"));
    for (size_t i = 0; check_u && i < s.m; i++)
      ck_assert_msg(fabs(u2[i] - u[i]) <= 1e-10 * fmax(1.0, fabs(u[i])),
                    "%s set %d: u[%zu] = %.17g, inverse(forward(u)) = %.17g", c->name, set, i,
                    u[i], u2[i]);
  }
  eval_ok(&s, u2, x2, NULL);
  for (size_t i = 0; i < s.n; i++)
    ck_assert_msg(fabs(x2[i] - x[i]) <= 1e-12 * fmax(1.0, fabs(x[i])),
                  "%s set %d: x[%zu] = %.17g, forward(inverse(x)) = %.17g", c->name, set, i,
                  x[i], x2[i]);
}
END_TEST

/* forward(inverse(x)) == x for constrained points written by hand */
static void fwd_inv(const char *name, bayes_shape xs, int nb, const double *bnds,
                    const double *x)
{
  tdef d = {name, xs, nb, {false, false}, {nb > 0 ? bnds[0] : 0, nb > 1 ? bnds[1] : 0},
            FREE_ALL, false, 0};
  setup s;
  make_setup(&d, &s);
  double u[MAXN], x2[MAXN];
  char err[256] = "";
  ck_assert_msg(inverse(&s, x, u, err, sizeof err) == 0, "%s: inverse failed: %s", name, err);
  eval_ok(&s, u, x2, NULL);
  for (size_t i = 0; i < s.n; i++)
    ck_assert_msg(fabs(x2[i] - x[i]) <= 1e-12 * fmax(1.0, fabs(x[i])),
                  "%s: x[%zu] = %.17g, forward(inverse(x)) = %.17g", name, i, x[i], x2[i]);
}

START_TEST(test_fwd_inv_points)
{
  const double b01[] = {0, 1}, bm[] = {-2, 5};
  fwd_inv("identity", bayes_shape_vec(2), 0, NULL, (double[]){-3.5, 1e10});
  fwd_inv("lower", bayes_shape_vec(3), 1, bm, (double[]){-1.999, 0, 1e6});
  fwd_inv("upper", bayes_shape_vec(3), 1, bm + 1, (double[]){4.999, -7, 0});
  fwd_inv("lower_upper", bayes_shape_vec(3), 2, bm, (double[]){-1.5, 0, 4.9});
  fwd_inv("lower_upper", bayes_shape_scalar(), 2, b01, (double[]){0.25});
  fwd_inv("simplex", bayes_shape_vec(4), 0, NULL, (double[]){0.1, 0.2, 0.3, 0.4});
  fwd_inv("simplex", bayes_shape_vec(3), 0, NULL, (double[]){1e-6, 0.5 - 1e-6, 0.5});
  fwd_inv("simplex", bayes_shape_vec(1), 0, NULL, (double[]){1});
  fwd_inv("ordered", bayes_shape_vec(4), 0, NULL, (double[]){-3, -2.5, 0, 10});
  fwd_inv("positive_ordered", bayes_shape_vec(3), 0, NULL, (double[]){0.01, 2, 2.5});
  fwd_inv("unit_vector", bayes_shape_vec(3), 0, NULL, (double[]){0.6, 0, -0.8});
  fwd_inv("cholesky_corr", bayes_shape_mat(3, 3), 0, NULL,
          (double[]){1, 0, 0, 0.6, 0.8, 0, -0.36, 0.48, 0.8});
  fwd_inv("corr", bayes_shape_mat(3, 3), 0, NULL,
          (double[]){1, 0.5, -0.2, 0.5, 1, 0.3, -0.2, 0.3, 1});
  fwd_inv("cov", bayes_shape_mat(3, 3), 0, NULL,
          (double[]){4, 1, -0.5, 1, 2, 0.3, -0.5, 0.3, 9});
  fwd_inv("cholesky_cov", bayes_shape_mat(2, 2), 0, NULL, (double[]){2, 0, -1.5, 0.1});
}
END_TEST

static void expect_reject(const char *name, bayes_shape xs, int nb, const double *lo,
                          size_t nlo, const double *hi, size_t nhi, const double *x,
                          const char *msg)
{
  const bayes_transform *t = bayes_transform_find(name);
  ck_assert(t != NULL);
  const double *b[2] = {lo, hi};
  size_t bn[2] = {nlo, nhi};
  double u[MAXN];
  char err[256] = "";
  int rc = t->inverse(x, &xs, b, bn, u, err, sizeof err);
  ck_assert_msg(rc == -1, "%s: inverse accepted a point outside the support", name);
  ck_assert_msg(strcmp(err, msg) == 0, "%s: message \"%s\", expected \"%s\"", name, err, msg);
}

START_TEST(test_reject)
{
  const double zero = 0, three = 3, one = 1, lbv[] = {0, 1, 2};
  bayes_shape sc = bayes_shape_scalar(), v3 = bayes_shape_vec(3), m2 = bayes_shape_mat(2, 2);
  expect_reject("lower", sc, 1, &zero, 1, NULL, 0, (double[]){-1},
                "value -1 is not above the lower bound 0");
  expect_reject("lower", v3, 1, &zero, 1, NULL, 0, (double[]){1, 2, -1},
                "element 3 (value -1) is not above the lower bound 0");
  expect_reject("lower", v3, 1, lbv, 3, NULL, 0, (double[]){1, 1, 3},
                "element 2 (value 1) is not above the lower bound 1");
  expect_reject("lower", m2, 1, &zero, 1, NULL, 0, (double[]){1, 2, 3, -0.5},
                "element [2, 2] (value -0.5) is not above the lower bound 0");
  expect_reject("lower", sc, 1, &zero, 1, NULL, 0, (double[]){INFINITY},
                "value inf is not finite");
  expect_reject("upper", v3, 1, &three, 1, NULL, 0, (double[]){0, 5, 1},
                "element 2 (value 5) is not below the upper bound 3");
  expect_reject("lower_upper", sc, 2, &zero, 1, &one, 1, (double[]){0},
                "value 0 is not above the lower bound 0");
  expect_reject("lower_upper", v3, 2, &zero, 1, &one, 1, (double[]){0.5, 0.25, 1},
                "element 3 (value 1) is not below the upper bound 1");
  expect_reject("lower_upper", sc, 2, &one, 1, &zero, 1, (double[]){0.5},
                "the lower bound 1 is not below the upper bound 0");
  expect_reject("simplex", v3, 0, NULL, 0, NULL, 0, (double[]){0.5, -0.1, 0.6},
                "element 2 (value -0.1) is negative");
  expect_reject("simplex", v3, 0, NULL, 0, NULL, 0, (double[]){0.5, 0.2, 0.2},
                "the elements sum to 0.9, not 1");
  expect_reject("simplex", v3, 0, NULL, 0, NULL, 0, (double[]){0.5, 0, 0.5},
                "element 2 is 0: a simplex parameter needs every element > 0");
  expect_reject("ordered", v3, 0, NULL, 0, NULL, 0, (double[]){1, 2, 2},
                "element 3 (value 2) is not greater than element 2 (value 2)");
  expect_reject("positive_ordered", v3, 0, NULL, 0, NULL, 0, (double[]){-1, 2, 3},
                "element 1 (value -1) is not positive");
  expect_reject("unit_vector", v3, 0, NULL, 0, NULL, 0, (double[]){1, 1, 0},
                "the vector has length 1.4142135623731, not 1");
  expect_reject("cholesky_corr", m2, 0, NULL, 0, NULL, 0, (double[]){1, 0.1, 0, 1},
                "element [1, 2] (value 0.1) is above the diagonal and not 0");
  expect_reject("cholesky_corr", m2, 0, NULL, 0, NULL, 0, (double[]){1, 0, 0.6, -0.8},
                "diagonal element [2, 2] (value -0.8) is not positive");
  expect_reject("cholesky_corr", m2, 0, NULL, 0, NULL, 0, (double[]){1, 0, 0.6, 0.7},
                "row 2 has length 0.921954445729289, not 1");
  expect_reject("corr", m2, 0, NULL, 0, NULL, 0, (double[]){1, 0.5, 0.4, 1},
                "element [2, 1] (value 0.4) differs from element [1, 2] (value 0.5): the matrix is not symmetric");
  expect_reject("corr", m2, 0, NULL, 0, NULL, 0, (double[]){1, 0.5, 0.5, 2},
                "diagonal element [2, 2] (value 2) is not 1");
  expect_reject("corr", m2, 0, NULL, 0, NULL, 0, (double[]){1, 1, 1, 1},
                "the matrix is not positive definite");
  expect_reject("cov", m2, 0, NULL, 0, NULL, 0, (double[]){1, 2, 2, 1},
                "the matrix is not positive definite");
  expect_reject("cov", m2, 0, NULL, 0, NULL, 0, (double[]){1, 0.5, 0.4, 1},
                "element [2, 1] (value 0.4) differs from element [1, 2] (value 0.5): the matrix is not symmetric");
  expect_reject("cov", m2, 0, NULL, 0, NULL, 0, (double[]){1, NAN, NAN, 1},
                "element [1, 2] (value nan) is not finite");
  expect_reject("cholesky_cov", m2, 0, NULL, 0, NULL, 0, (double[]){1, 0, 0.5, 0},
                "diagonal element [2, 2] (value 0) is not positive");
  expect_reject("cholesky_cov", m2, 0, NULL, 0, NULL, 0, (double[]){1, -2, 0.5, 1},
                "element [1, 2] (value -2) is above the diagonal and not 0");
}
END_TEST

/* Forward failures: bounds in the wrong order, a zero vector for unit_vector. */
START_TEST(test_fwd_fail)
{
  tdef d = {"lower_upper", V(2), 2, {false, true}, {1, 0}, FREE_ALL, false, 0};
  setup s;
  make_setup(&d, &s); /* upper bound [0, 0.25] below the lower bound 1 */
  double u[2] = {0.1, 0.2}, x[2], lj;
  char msg[256] = "";
  ck_assert_int_eq(eval(&s, u, x, &lj, msg, sizeof msg), -1);
  ck_assert_str_eq(msg, "lower_upper: element 1: the lower bound 1 is not below the upper bound 0");
  tdef e = {"unit_vector", V(3), 0, {0}, {0}, FREE_NONE, false, 0};
  make_setup(&e, &s);
  double z[3] = {0, 0, 0}, x3[3];
  ck_assert_int_eq(eval(&s, z, x3, &lj, msg, sizeof msg), -1);
  ck_assert_str_eq(msg, "unit_vector: the unconstrained vector has norm 0");
}
END_TEST

/* ---- 4. properties of the outputs ---- */

static bool is_spd(const double *x, size_t K)
{
  double a[MAXN];
  memcpy(a, x, K * K * sizeof(double));
  return LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)K, a, (lapack_int)K) == 0;
}

START_TEST(test_properties)
{
  const tdef *c = &cases[_i / NUSETS];
  int set = _i % NUSETS;
  setup s;
  make_setup(c, &s);
  double u[MAXN], x[MAXN], lj;
  fill_u(&s, set, 59, u);
  eval_ok(&s, u, x, &lj);
  ck_assert_msg(isfinite(lj), "%s: logJ not finite", c->name);
  size_t n = s.n, K = c->xs.dim[0];
  const char *nm = c->name;
  for (size_t i = 0; i < n; i++) ck_assert_msg(isfinite(x[i]), "%s: x[%zu] not finite", nm, i);
  if (!strcmp(nm, "identity")) {
    for (size_t i = 0; i < n; i++) ck_assert(x[i] == u[i]);
  } else if (!strcmp(nm, "lower") || !strcmp(nm, "upper") || !strcmp(nm, "lower_upper")) {
    for (size_t i = 0; i < n; i++) {
      double b0 = s.bnd[0][i * bayes_inc(s.bn[0])];
      if (!strcmp(nm, "upper"))
        ck_assert_msg(x[i] < b0, "upper: x[%zu] = %.17g >= %g", i, x[i], b0);
      else
        ck_assert_msg(x[i] > b0, "%s: x[%zu] = %.17g <= %g", nm, i, x[i], b0);
      if (!strcmp(nm, "lower_upper")) {
        double b1 = s.bnd[1][i * bayes_inc(s.bn[1])];
        ck_assert_msg(x[i] < b1, "lower_upper: x[%zu] = %.17g >= %g", i, x[i], b1);
      }
    }
  } else if (!strcmp(nm, "simplex")) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
      ck_assert_msg(x[i] >= 0, "simplex: x[%zu] = %g", i, x[i]);
      sum += x[i];
    }
    ck_assert_msg(fabs(sum - 1) < 1e-14, "simplex sums to %.17g", sum);
  } else if (!strcmp(nm, "ordered") || !strcmp(nm, "positive_ordered")) {
    if (!strcmp(nm, "positive_ordered")) ck_assert(x[0] > 0);
    /* at u = -20 the step exp(u) can be below half an ulp of a large x[i-1]; exact ties are
     * then unavoidable in double (as in Stan), so set 2 only asserts order */
    for (size_t i = 1; i < n; i++)
      ck_assert_msg(set == 2 ? x[i] >= x[i - 1] : x[i] > x[i - 1], "%s: x[%zu] = %.17g <= x[%zu] = %.17g", nm, i, x[i], i - 1,
                    x[i - 1]);
  } else if (!strcmp(nm, "unit_vector")) {
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += x[i] * x[i];
    ck_assert_msg(fabs(sqrt(ss) - 1) < 1e-14, "unit_vector: norm %.17g", sqrt(ss));
  } else if (!strcmp(nm, "cholesky_corr") || !strcmp(nm, "cholesky_cov")) {
    for (size_t i = 0; i < K; i++) {
      double ss = 0;
      for (size_t j = i + 1; j < K; j++) ck_assert(x[i * K + j] == 0);
      ck_assert_msg(x[i * K + i] > 0, "%s: L[%zu, %zu] = %g", nm, i, i, x[i * K + i]);
      for (size_t j = 0; j <= i; j++) ss += x[i * K + j] * x[i * K + j];
      if (!strcmp(nm, "cholesky_corr"))
        ck_assert_msg(fabs(sqrt(ss) - 1) < 1e-14, "cholesky_corr: row %zu norm %.17g", i, sqrt(ss));
    }
  } else if (!strcmp(nm, "corr") || !strcmp(nm, "cov")) {
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        ck_assert(x[i * K + j] == x[j * K + i]);
        if (!strcmp(nm, "corr"))
          ck_assert(i == j ? x[i * K + i] == 1 : fabs(x[i * K + j]) <= 1 + 1e-14);
      }
    /* at |u| = 20 the matrix is positive definite only in exact arithmetic */
    if (set < 2) ck_assert_msg(is_spd(x, K), "%s: not positive definite (set %d)", nm, set);
    if (!strcmp(nm, "cov"))
      for (size_t i = 0; i < K; i++) ck_assert(x[i * K + i] > 0);
  } else {
    ck_abort_msg("no property test for %s", nm);
  }
}
END_TEST

/* ---- registry and shapes ---- */

START_TEST(test_registry)
{
  const char *names[] = {"identity", "lower", "upper", "lower_upper", "simplex", "ordered",
                         "positive_ordered", "unit_vector", "cholesky_corr", "corr", "cov",
                         "cholesky_cov"};
  size_t nn = sizeof names / sizeof names[0], count = 0;
  for (size_t i = 0; i < nn; i++) {
    const bayes_transform *t = bayes_transform_find(names[i]);
    ck_assert_msg(t != NULL, "%s missing", names[i]);
    ck_assert_str_eq(t->name, names[i]);
    ck_assert(t->op && t->op->fwd && t->op->bwd && t->inverse && t->unc_size);
  }
  for (const bayes_transform *const *t = bayes_transforms; *t; t++) {
    count++;
    for (const bayes_transform *const *u = t + 1; *u; u++)
      ck_assert_msg(strcmp((*t)->name, (*u)->name) != 0, "duplicate %s", (*t)->name);
  }
  ck_assert_uint_eq(count, nn);
  ck_assert(bayes_transform_find("simplexx") == NULL);
  ck_assert(bayes_transform_find("") == NULL);
}
END_TEST

START_TEST(test_unc_size)
{
  char err[256];
  bayes_shape v5 = bayes_shape_vec(5), v0 = bayes_shape_vec(0), m4 = bayes_shape_mat(4, 4),
              m23 = bayes_shape_mat(2, 3), sc = bayes_shape_scalar();
  ck_assert_int_eq(bayes_transform_find("identity")->unc_size(&m23, err, sizeof err), 6);
  ck_assert_int_eq(bayes_transform_find("lower_upper")->unc_size(&sc, err, sizeof err), 1);
  ck_assert_int_eq(bayes_transform_find("simplex")->unc_size(&v5, err, sizeof err), 4);
  ck_assert_int_eq(bayes_transform_find("simplex")->unc_size(&v0, err, sizeof err), -1);
  ck_assert_str_eq(err, "simplex needs a vector of length at least 1, not shape [0]");
  ck_assert_int_eq(bayes_transform_find("simplex")->unc_size(&m4, err, sizeof err), -1);
  ck_assert_int_eq(bayes_transform_find("ordered")->unc_size(&v5, err, sizeof err), 5);
  ck_assert_int_eq(bayes_transform_find("ordered")->unc_size(&m4, err, sizeof err), -1);
  ck_assert_int_eq(bayes_transform_find("unit_vector")->unc_size(&v5, err, sizeof err), 5);
  ck_assert_int_eq(bayes_transform_find("cholesky_corr")->unc_size(&m4, err, sizeof err), 6);
  ck_assert_int_eq(bayes_transform_find("corr")->unc_size(&m4, err, sizeof err), 6);
  ck_assert_int_eq(bayes_transform_find("corr")->unc_size(&m23, err, sizeof err), -1);
  ck_assert_str_eq(err, "a correlation matrix or its Cholesky factor needs a square matrix "
                        "shape [K, K] with K >= 1, not [2, 3]");
  ck_assert_int_eq(bayes_transform_find("cov")->unc_size(&m4, err, sizeof err), 10);
  ck_assert_int_eq(bayes_transform_find("cholesky_cov")->unc_size(&m4, err, sizeof err), 10);
  ck_assert_int_eq(bayes_transform_find("cov")->unc_size(&v5, err, sizeof err), -1);
}
END_TEST

/* u = 0 is the centre of the simplex, and cholesky_corr of 0 is the identity */
START_TEST(test_known_values)
{
  tdef d = {"simplex", V(4), 0, {0}, {0}, FREE_SIMPLEX, false, 0};
  setup s;
  make_setup(&d, &s);
  double u[MAXN] = {0}, x[MAXN], lj;
  eval_ok(&s, u, x, &lj);
  for (int i = 0; i < 4; i++) ck_assert_double_eq_tol(x[i], 0.25, 1e-15);
  tdef e = {"cholesky_corr", M(3), 0, {0}, {0}, FREE_STRICT_LOWER, false, 0};
  make_setup(&e, &s);
  eval_ok(&s, u, x, &lj);
  for (int i = 0; i < 9; i++) ck_assert(x[i] == (i % 4 == 0 ? 1.0 : 0.0));
  ck_assert(lj == 0);
  /* lower_upper at u = 0 is the midpoint, logJ = log((ub - lb) / 4) */
  tdef f = {"lower_upper", S, 2, {false, false}, {-1, 3}, FREE_ALL, false, 0};
  make_setup(&f, &s);
  eval_ok(&s, u, x, &lj);
  ck_assert_double_eq_tol(x[0], 1.0, 1e-15);
  ck_assert_double_eq_tol(lj, log(1.0), 1e-15);
  /* cov of 0 is the identity, logJ = K log 2 */
  tdef g = {"cov", M(3), 0, {0}, {0}, FREE_LOWER, false, 0};
  make_setup(&g, &s);
  eval_ok(&s, u, x, &lj);
  for (int i = 0; i < 9; i++) ck_assert(x[i] == (i % 4 == 0 ? 1.0 : 0.0));
  ck_assert_double_eq_tol(lj, 3 * log(2.0), 1e-15);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("transform");
  TCase *tc = tcase_create("transform");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_registry);
  tcase_add_test(tc, test_unc_size);
  tcase_add_test(tc, test_known_values);
  tcase_add_loop_test(tc, test_grad, 0, NCASES * NUSETS);
  tcase_add_loop_test(tc, test_grad_null_adjoint, 0, NCASES * 2);
  tcase_add_loop_test(tc, test_logj, 0, NCASES * NUSETS);
  tcase_add_loop_test(tc, test_roundtrip, 0, NCASES * 2);
  tcase_add_test(tc, test_fwd_inv_points);
  tcase_add_test(tc, test_reject);
  tcase_add_test(tc, test_fwd_fail);
  tcase_add_loop_test(tc, test_properties, 0, NCASES * NUSETS);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return bt_run_suite(suite()); }
