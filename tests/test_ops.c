/* test_ops.c — unit tests of the elementwise, reduction and shape functions: values
 * against independent references (GSL, hand computation), every op's reverse pass against
 * finite differences, and the emitters' typing, shapes and error messages. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_sf_erf.h>
#include <gsl/gsl_sf_exp.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_log.h>
#include <gsl/gsl_sf_psi.h>
#include <gsl/gsl_sf_trig.h>

#include "func.h"
#include "ops.h"
#include "testutil.h"

#define GRAD_TOL 1e-6
#define VAL_TOL 1e-10

/* ==== harness: call a registered function on test arguments ==== */

typedef struct {
  bayes_shape shape;
  const double *v;
  bool is_int;
  bool is_const; /* data (cval known); otherwise a parameter (has an adjoint) */
} targ;

typedef struct {
  bayes_prog p;
  targ t[4];
  bayes_fnarg a[4];
  int nargs;
  bayes_fnctx c;
  char err[4][256];
  int nerr, err_line, err_col;
  int out, rc;
} call;

static void on_error(void *ud, int line, int col, const char *msg)
{
  call *k = ud;
  if (k->nerr < 4) snprintf(k->err[k->nerr], sizeof k->err[0], "%s", msg);
  if (k->nerr == 0) {
    k->err_line = line;
    k->err_col = col;
  }
  k->nerr++;
}

static targ par(bayes_shape s, const double *v) { return (targ){s, v, false, false}; }
static targ dat(bayes_shape s, const double *v) { return (targ){s, v, false, true}; }
static targ idat(bayes_shape s, const double *v) { return (targ){s, v, true, true}; }
static bayes_shape S0(void) { return bayes_shape_scalar(); }
static bayes_shape S1(size_t n) { return bayes_shape_vec(n); }
static bayes_shape S2(size_t r, size_t c) { return bayes_shape_mat(r, c); }

/* Builds a program holding the arguments and emits `name` on them; k->rc is emit's. */
static void call_run(call *k, const char *name, int nargs, const targ *t)
{
  memset(k, 0, sizeof *k);
  bayes_prog_init(&k->p);
  k->nargs = nargs;
  for (int j = 0; j < nargs; j++) {
    k->t[j] = t[j];
    unsigned fl = t[j].is_int ? BAYES_SLOT_INT : 0;
    int s = t[j].is_const ? bayes_prog_const(&k->p, &t[j].shape, fl, t[j].v)
                          : bayes_prog_slot(&k->p, &t[j].shape, fl | BAYES_SLOT_ADJ);
    ck_assert_int_ge(s, 0);
    k->a[j].slot = s;
    k->a[j].shape = &k->t[j].shape;
    k->a[j].n = bayes_shape_size(&t[j].shape);
    k->a[j].is_int = t[j].is_int;
    k->a[j].line = 10;
    k->a[j].col = 5 + 4 * j;
  }
  /* constant pointers only now: the pool may have moved while it grew */
  for (int j = 0; j < nargs; j++)
    k->a[j].cval = t[j].is_const ? bayes_prog_const_ptr(&k->p, k->a[j].slot) : NULL;
  k->c.prog = &k->p;
  k->c.line = 10;
  k->c.col = 1;
  k->c.fname = name;
  k->c.error = on_error;
  k->c.ud = k;
  const bayes_fn *fn = bayes_fn_find(name);
  ck_assert_msg(fn != NULL, "%s is not registered", name);
  ck_assert_int_ge(nargs, fn->min_args);
  ck_assert_int_le(nargs, fn->max_args);
  k->out = -1;
  k->rc = fn->emit(&k->c, nargs, k->a, &k->out);
  if (k->rc == 0) ck_assert_int_eq(k->nerr, 0);
  if (k->rc != 0) ck_assert_int_gt(k->nerr, 0);
}

static void call_free(call *k) { bayes_prog_destroy(&k->p); }

static bayes_section all_ins(const bayes_prog *p, int *buf)
{
  for (int i = 0; i < p->nins; i++) buf[i] = i;
  return (bayes_section){buf, p->nins};
}

static void set_params(call *k, bayes_exec *ex)
{
  for (int j = 0; j < k->nargs; j++)
    if (!k->t[j].is_const)
      memcpy(bayes_exec_val(ex, k->a[j].slot), k->t[j].v, k->a[j].n * sizeof(double));
}

/* Runs the emitted program end to end (layout, alloc, forward over every instruction)
 * and copies the result into out (which must hold its element count). */
static void call_eval(call *k, double *out)
{
  ck_assert_int_eq(k->rc, 0);
  bayes_prog_layout(&k->p);
  bayes_exec *ex = bayes_exec_alloc(&k->p);
  ck_assert_ptr_nonnull(ex);
  set_params(k, ex);
  int buf[64];
  ck_assert_int_le(k->p.nins, 64);
  bayes_section s = all_ins(&k->p, buf);
  bayes_exec_forward(ex, &s);
  ck_assert_msg(ex->failed == 0, "forward failed: %s", ex->fail_msg);
  memcpy(out, bayes_exec_val(ex, k->out), k->p.slots[k->out].n * sizeof(double));
  bayes_exec_free(ex);
}

static size_t out_n(const call *k) { return k->p.slots[k->out].n; }
static bool out_int(const call *k) { return (k->p.slots[k->out].flags & BAYES_SLOT_INT) != 0; }

/* The emitted single instruction's reverse pass against finite differences (through
 * bt_op_grad_check, with the instruction's own op, aux, iarg, darg and work). */
static double call_grad(call *k, char *rep, size_t len)
{
  ck_assert_int_eq(k->rc, 0);
  ck_assert_int_eq(k->p.nins, 1);
  const bayes_instr *ins = &k->p.ins[0];
  bayes_shape xs[4];
  const double *xv[4];
  bool diff[4];
  for (int i = 0; i < ins->nin; i++) {
    int j = 0;
    while (j < k->nargs && k->a[j].slot != ins->in[i]) j++;
    ck_assert_int_lt(j, k->nargs);
    xs[i] = k->t[j].shape;
    xv[i] = k->t[j].is_const ? bayes_prog_const_ptr(&k->p, k->a[j].slot) : k->t[j].v;
    diff[i] = !k->t[j].is_const;
  }
  bayes_shape ys = k->p.slots[ins->out[0]].shape;
  bt_opcheck oc = {.op = ins->op, .nin = ins->nin, .nout = 1, .xs = xs, .xv = xv,
                   .diff = diff, .ys = &ys, .out_int = out_int(k), .aux = ins->aux,
                   .work = ins->work};
  memcpy(oc.iarg, ins->iarg, sizeof oc.iarg);
  memcpy(oc.darg, ins->darg, sizeof oc.darg);
  return bt_op_grad_check(&oc, rep, len);
}

/* bwd must ADD into input adjoints (several uses of one value share them): run it from
 * zero adjoints, then from adjoints preset to 0.5, and compare. */
static void call_check_accumulates(call *k)
{
  const bayes_instr *ins = &k->p.ins[0];
  bayes_prog_layout(&k->p);
  bayes_exec *ex = bayes_exec_alloc(&k->p);
  ck_assert_ptr_nonnull(ex);
  set_params(k, ex);
  ex->grad = true;
  bayes_exec_one(ex, 0);
  double *gy = bayes_exec_adj(ex, ins->out[0]);
  ck_assert_ptr_nonnull(gy);
  size_t ny = k->p.slots[ins->out[0]].n, nv = k->p.nvals;
  double *first = calloc(nv + 1, sizeof(double));
  for (int pass = 0; pass < 2; pass++) {
    memset(ex->adj, 0, nv * sizeof(double));
    for (int i = 0; i < ins->nin; i++) {
      double *g = bayes_exec_adj(ex, ins->in[i]);
      if (g && pass) {
        for (size_t j = 0; j < k->p.slots[ins->in[i]].n; j++) g[j] = 0.5;
      }
    }
    for (size_t j = 0; j < ny; j++) gy[j] = 1.0 + 0.25 * (double)j;
    ins->op->bwd(&ex->bound[0]);
    for (int i = 0; i < ins->nin; i++) {
      const double *g = bayes_exec_adj(ex, ins->in[i]);
      if (!g) continue;
      size_t off = (size_t)(g - ex->adj);
      for (size_t j = 0; j < k->p.slots[ins->in[i]].n; j++) {
        if (!pass) {
          first[off + j] = g[j];
          continue;
        }
        /* an input listed twice (x + x) is preset once but gets both contributions */
        ck_assert_msg(fabs(g[j] - (first[off + j] + 0.5)) <= 1e-12 * fmax(1, fabs(g[j])),
                      "%s: bwd overwrites the adjoint of input %d[%zu] (%g vs %g + 0.5)",
                      ins->op->name, i, j, g[j], first[off + j]);
      }
    }
  }
  free(first);
  bayes_exec_free(ex);
}

#define CHECK_GRAD(k)                                                             \
  do {                                                                            \
    char rep_[512];                                                               \
    double e_ = call_grad(k, rep_, sizeof rep_);                                  \
    ck_assert_msg(e_ < GRAD_TOL, "%s: gradient error %g (%s)", (k)->c.fname, e_,  \
                  rep_);                                                          \
    call_check_accumulates(k);                                                    \
  } while (0)

/* Whole-program check, for emitters that insert several instructions (broadcasts):
 * target = sum(w * f(args)), reverse sweep via bayes_exec_backward against central
 * differences of the forward pass in every parameter element. */
static double call_prog_grad(call *k)
{
  ck_assert_int_eq(k->rc, 0);
  size_t n = out_n(k);
  double w[64];
  ck_assert_uint_le(n, 64);
  for (size_t i = 0; i < n; i++) w[i] = 0.7 + 0.3 * (double)i;
  bayes_shape ws = k->p.slots[k->out].shape;
  int wslot = bayes_prog_const(&k->p, &ws, 0, w);
  bayes_fnarg ma[2] = {{.slot = k->out, .shape = &ws, .n = n},
                       {.slot = wslot, .shape = &ws, .n = n, .cval = w}};
  int prodslot, target;
  ck_assert_int_eq(bayes_fn_find("__mul")->emit(&k->c, 2, ma, &prodslot), 0);
  bayes_fnarg sa = {.slot = prodslot, .shape = &ws, .n = n};
  ck_assert_int_eq(bayes_fn_find("sum")->emit(&k->c, 1, &sa, &target), 0);
  bayes_prog_layout(&k->p);
  bayes_exec *ex = bayes_exec_alloc(&k->p);
  set_params(k, ex);
  int buf[64];
  bayes_section s = all_ins(&k->p, buf);
  ex->grad = true;
  bayes_exec_forward(ex, &s);
  bayes_exec_backward(ex, &s, target);
  ex->grad = false;
  double worst = 0;
  for (int j = 0; j < k->nargs; j++) {
    if (k->t[j].is_const) continue;
    double *x = bayes_exec_val(ex, k->a[j].slot);
    const double *g = bayes_exec_adj(ex, k->a[j].slot);
    ck_assert_ptr_nonnull(g);
    for (size_t i = 0; i < k->a[j].n; i++) {
      double x0 = x[i], h = 1e-5 * fmax(1, fabs(x0)), ad = g[i];
      x[i] = x0 + h;
      bayes_exec_forward(ex, &s);
      double fp = bayes_exec_val(ex, target)[0];
      x[i] = x0 - h;
      bayes_exec_forward(ex, &s);
      double fm = bayes_exec_val(ex, target)[0];
      x[i] = x0;
      double fd = (fp - fm) / (2 * h), err = fabs(ad - fd) / fmax(1, fabs(fd));
      if (!(err <= worst)) worst = isnan(err) ? INFINITY : err;
    }
  }
  bayes_exec_free(ex);
  return worst;
}

static void assert_close(const double *got, const double *want, size_t n, double tol,
                         const char *what)
{
  for (size_t i = 0; i < n; i++) {
    double err = fabs(got[i] - want[i]) / fmax(1, fabs(want[i]));
    ck_assert_msg(err <= tol || (isinf(got[i]) && got[i] == want[i]),
                  "%s[%zu]: got %.17g, want %.17g", what, i, got[i], want[i]);
  }
}

/* ==== unary functions ==== */

static double r_sqrt(double x) { return pow(x, 0.5); }
static double r_square(double x) { return x * x; }
static double r_tan(double x) { return gsl_sf_sin(x) / gsl_sf_cos(x); }
static double r_asin(double x) { return atan(x / sqrt(1 - x * x)); }
static double r_acos(double x) { return M_PI_2 - atan(x / sqrt(1 - x * x)); }
static double r_atan(double x) { return asin(x / sqrt(1 + x * x)); }
static double r_sinh(double x) { return (gsl_sf_exp(x) - gsl_sf_exp(-x)) / 2; }
static double r_cosh(double x) { return (gsl_sf_exp(x) + gsl_sf_exp(-x)) / 2; }
static double r_tanh(double x) { return r_sinh(x) / r_cosh(x); }
static double r_inv_logit(double x) { return 1 / (1 + gsl_sf_exp(-x)); }
static double r_logit(double x) { return gsl_sf_log(x / (1 - x)); }
static double r_log_inv_logit(double x) { return gsl_sf_log(r_inv_logit(x)); }
static double r_log1m_inv_logit(double x) { return gsl_sf_log(1 - r_inv_logit(x)); }
static double r_log1m(double x) { return gsl_sf_log(1 - x); }
static double r_log1p_exp(double x) { return gsl_sf_log(1 + gsl_sf_exp(x)); }
static double r_log1m_exp(double x) { return gsl_sf_log(1 - gsl_sf_exp(x)); }
static double r_Phi_approx(double x) { return r_inv_logit(0.07056 * x * x * x + 1.5976 * x); }
static double r_inv(double x) { return 1 / x; }
static double r_inv_sqrt(double x) { return 1 / pow(x, 0.5); }
static double r_inv_square(double x) { return 1 / (x * x); }
static double r_cbrt(double x) { return x < 0 ? -pow(-x, 1.0 / 3) : pow(x, 1.0 / 3); }
static double r_exp2(double x) { return gsl_sf_exp(x * M_LN2); }
static double r_log2(double x) { return gsl_sf_log(x) / M_LN2; }
static double r_log10(double x) { return gsl_sf_log(x) / M_LN10; }
static double r_step(double x) { return x < 0 ? 0 : 1; }
static double r_int_step(double x) { return x > 0 ? 1 : 0; }
static double r_floor(double x) { return (double)(long)(x < 0 && x != (long)x ? x - 1 : x); }
static double r_ceil(double x) { return -r_floor(-x); }
static double r_round(double x) { return x < 0 ? -r_floor(-x + 0.5) : r_floor(x + 0.5); }
static double r_trunc(double x) { return (double)(long)x; }
static double r_abs(double x) { return x < 0 ? -x : x; }

typedef struct {
  const char *name;
  double (*ref)(double);
  double pts[3];
  bool int_keep; /* int in, int out */
} unary_case;

static const unary_case unary_cases[] = {
    {"exp", gsl_sf_exp, {-1.3, 0.2, 2.1}, false},
    {"log", gsl_sf_log, {0.3, 1.7, 12}, false},
    {"log1p", gsl_log1p, {-0.5, 1e-3, 3}, false},
    {"expm1", gsl_expm1, {-2, 1e-4, 1.5}, false},
    {"sqrt", r_sqrt, {0.2, 2, 9}, false},
    {"square", r_square, {-1.5, 0.3, 4}, false},
    {"abs", r_abs, {-2, -0.3, 1.5}, true},
    {"fabs", r_abs, {-2, -0.3, 1.5}, false},
    {"floor", r_floor, {-1.5, 0.3, 2.7}, true},
    {"ceil", r_ceil, {-1.5, 0.3, 2.7}, true},
    {"round", r_round, {-1.4, 0.3, 2.7}, true},
    {"trunc", r_trunc, {-1.5, 0.3, 2.7}, true},
    {"sin", gsl_sf_sin, {-1, 0.4, 2.5}, false},
    {"cos", gsl_sf_cos, {-1, 0.4, 2.5}, false},
    {"tan", r_tan, {-1, 0.4, 1.2}, false},
    {"asin", r_asin, {-0.7, 0.1, 0.5}, false},
    {"acos", r_acos, {-0.7, 0.1, 0.5}, false},
    {"atan", r_atan, {-3, 0.1, 2}, false},
    {"sinh", r_sinh, {-2, 0.3, 1.5}, false},
    {"cosh", r_cosh, {-2, 0.3, 1.5}, false},
    {"tanh", r_tanh, {-2, 0.3, 1.5}, false},
    {"asinh", gsl_asinh, {-2, 0.3, 5}, false},
    {"acosh", gsl_acosh, {1.2, 2, 5}, false},
    {"atanh", gsl_atanh, {-0.6, 0.1, 0.8}, false},
    {"inv_logit", r_inv_logit, {-3, 0.4, 5}, false},
    {"logit", r_logit, {0.1, 0.5, 0.93}, false},
    {"log_inv_logit", r_log_inv_logit, {-3, 0.4, 5}, false},
    {"log1m_inv_logit", r_log1m_inv_logit, {-3, 0.4, 5}, false},
    {"log1m", r_log1m, {-2, 0.3, 0.9}, false},
    {"log1p_exp", r_log1p_exp, {-4, 0.5, 6}, false},
    {"log1m_exp", r_log1m_exp, {-5, -0.7, -0.01}, false},
    {"lgamma", gsl_sf_lngamma, {0.3, 2.5, 11}, false},
    {"digamma", gsl_sf_psi, {0.4, 1.5, 8}, false},
    {"trigamma", gsl_sf_psi_1, {0.4, 1.5, 8}, false},
    {"tgamma", gsl_sf_gamma, {0.3, 2.5, 5.5}, false},
    {"erf", gsl_sf_erf, {-1.5, 0.3, 2}, false},
    {"erfc", gsl_sf_erfc, {-1.5, 0.3, 2}, false},
    {"Phi", gsl_cdf_ugaussian_P, {-2.5, 0.3, 1.7}, false},
    {"Phi_approx", r_Phi_approx, {-2.5, 0.3, 1.7}, false},
    {"inv", r_inv, {-2, 0.5, 3}, false},
    {"inv_sqrt", r_inv_sqrt, {0.3, 2, 7}, false},
    {"inv_square", r_inv_square, {-2, 0.5, 3}, false},
    {"cbrt", r_cbrt, {-8, 0.4, 27}, false},
    {"exp2", r_exp2, {-1.5, 0.5, 3}, false},
    {"log2", r_log2, {0.3, 2, 10}, false},
    {"log10", r_log10, {0.3, 2, 1000}, false},
    {"step", r_step, {-1, 0.5, 3}, false},
    {"int_step", r_int_step, {-1, 0.5, 3}, false},
};
#define N_UNARY (int)(sizeof unary_cases / sizeof unary_cases[0])

START_TEST(test_unary)
{
  const unary_case *u = &unary_cases[_i];
  call k;
  /* values on a vector, against the reference */
  call_run(&k, u->name, 1, (targ[]){par(S1(3), u->pts)});
  ck_assert_int_eq(k.rc, 0);
  ck_assert_int_eq(out_n(&k), 3);
  double got[3], want[3];
  call_eval(&k, got);
  for (int i = 0; i < 3; i++) want[i] = u->ref(u->pts[i]);
  assert_close(got, want, 3, VAL_TOL, u->name);
  /* the reverse pass, on the vector and on a matrix-shaped input */
  CHECK_GRAD(&k);
  ck_assert(!out_int(&k) || strcmp(u->name, "int_step") == 0);
  call_free(&k);
  double m[6] = {u->pts[0], u->pts[1], u->pts[2], u->pts[2], u->pts[0], u->pts[1]};
  call_run(&k, u->name, 1, (targ[]){par(S2(2, 3), m)});
  ck_assert_int_eq(k.p.slots[k.out].shape.rank, 2);
  CHECK_GRAD(&k);
  call_free(&k);
  /* rank 0 */
  call_run(&k, u->name, 1, (targ[]){par(S0(), &u->pts[1])});
  ck_assert_int_eq(k.p.slots[k.out].shape.rank, 0);
  CHECK_GRAD(&k);
  call_free(&k);
  /* integer typing of the result */
  double iv[2] = {2, 3};
  call_run(&k, u->name, 1, (targ[]){idat(S1(2), iv)});
  bool want_int = u->int_keep || strcmp(u->name, "int_step") == 0;
  ck_assert_msg(out_int(&k) == want_int, "%s of int: int result %d", u->name, out_int(&k));
  call_free(&k);
}
END_TEST

START_TEST(test_step_conventions)
{
  /* Stan: step(0) = step(NaN) = 1, int_step(0) = int_step(NaN) = 0 */
  const double x[4] = {-0.0, 0.0, NAN, -1e-300};
  double got[4];
  call k;
  call_run(&k, "step", 1, (targ[]){dat(S1(4), x)});
  call_eval(&k, got);
  ck_assert(got[0] == 1 && got[1] == 1 && got[2] == 1 && got[3] == 0);
  call_free(&k);
  call_run(&k, "int_step", 1, (targ[]){dat(S1(4), x)});
  call_eval(&k, got);
  ck_assert(got[0] == 0 && got[1] == 0 && got[2] == 0 && got[3] == 0);
  ck_assert(out_int(&k));
  call_free(&k);
}
END_TEST

START_TEST(test_unary_extreme_args)
{
  /* the stable forms: no overflow or cancellation at extreme arguments */
  const double x[4] = {-800, -40, 40, 800};
  double got[4];
  call k;
  call_run(&k, "log1p_exp", 1, (targ[]){par(S1(4), x)});
  call_eval(&k, got);
  const double w1[4] = {0, gsl_sf_exp(-40), 40 + gsl_sf_exp(-40), 800};
  assert_close(got, w1, 4, 1e-14, "log1p_exp");
  CHECK_GRAD(&k);
  call_free(&k);
  call_run(&k, "log_inv_logit", 1, (targ[]){par(S1(4), x)});
  call_eval(&k, got);
  const double w2[4] = {-800, -40 - gsl_sf_exp(-40), -gsl_sf_exp(-40), 0};
  assert_close(got, w2, 4, 1e-14, "log_inv_logit");
  CHECK_GRAD(&k);
  call_free(&k);
  const double y[2] = {-1e-10, -50};
  call_run(&k, "log1m_exp", 1, (targ[]){par(S1(2), y)});
  call_eval(&k, got);
  ck_assert(fabs(got[0] - log(1e-10)) < 1e-8);
  ck_assert(fabs(got[1] + gsl_sf_exp(-50)) < 1e-30);
  call_free(&k);
}
END_TEST

START_TEST(test_log_domain_nan)
{
  const double x[2] = {-1, 4};
  double got[2];
  call k;
  call_run(&k, "log", 1, (targ[]){par(S1(2), x)});
  call_eval(&k, got);
  ck_assert(isnan(got[0]));
  ck_assert(fabs(got[1] - log(4)) < 1e-15);
  call_free(&k);
}
END_TEST

/* ==== binary functions and arithmetic operators ==== */

static double r_add(double a, double b) { return a + b; }
static double r_sub(double a, double b) { return a - b; }
static double r_mul(double a, double b) { return a * b; }
static double r_div(double a, double b) { return a / b; }
static double r_pow(double a, double b) { return gsl_sf_exp(b * gsl_sf_log(a)); }
static double r_fmin(double a, double b) { return a < b ? a : b; }
static double r_fmax(double a, double b) { return a > b ? a : b; }
static double r_atan2(double a, double b) { return atan(a / b); } /* b > 0 below */
static double r_hypot(double a, double b) { return sqrt(a * a + b * b); }
static double r_fdim(double a, double b) { return a > b ? a - b : 0; }
static double r_lbeta(double a, double b) { return gsl_sf_lnbeta(a, b); }
static double r_lchoose(double n, double k)
{
  return gsl_sf_lngamma(n + 1) - gsl_sf_lngamma(k + 1) - gsl_sf_lngamma(n - k + 1);
}
static double r_ldexp(double a, double b) { return gsl_sf_log(gsl_sf_exp(a) - gsl_sf_exp(b)); }
static double r_lse(double a, double b) { return gsl_sf_log(gsl_sf_exp(a) + gsl_sf_exp(b)); }

typedef struct {
  const char *name;
  double (*ref)(double, double);
  double a[3], b[3];
} binary_case;

/* every pair (a[i], b[j]) is in the domain and away from ties and kinks, since the
 * broadcast cases combine them all */
static const binary_case binary_cases[] = {
    {"__add", r_add, {1, -2, 3.5}, {0.5, 4, -1}},
    {"__sub", r_sub, {1, -2, 3.5}, {0.5, 4, -1}},
    {"__mul", r_mul, {1, -2, 3.5}, {0.5, 4, -1}},
    {"__div", r_div, {1, -2, 3.5}, {0.5, 4, -1.25}},
    {"__pow", r_pow, {0.5, 1.3, 2}, {-1.2, 0.7, 3}},
    {"pow", r_pow, {0.5, 1.3, 2}, {-1.2, 0.7, 3}},
    {"fmin", r_fmin, {1, -2, 3.5}, {2, -3, 0.5}},
    {"fmax", r_fmax, {1, -2, 3.5}, {2, -3, 0.5}},
    {"atan2", r_atan2, {1, -2, 0.3}, {0.5, 4, 2}},
    {"hypot", r_hypot, {1, -2, 0.3}, {0.5, 4, -2}},
    {"fdim", r_fdim, {3, 1, 5}, {1.5, 2.5, -1}},
    {"lbeta", r_lbeta, {0.5, 2, 7}, {1.5, 3, 0.8}},
    {"lchoose", r_lchoose, {10, 7.5, 20}, {3, 2.2, 5.5}},
    {"log_diff_exp", r_ldexp, {1, 0.5, 3}, {0, -2, -0.1}},
    {"log_sum_exp", r_lse, {1, -0.5, 30}, {0, -2, 2.9}},
    {"max", r_fmax, {1, -2, 3.5}, {2, -3, 0.5}},
    {"min", r_fmin, {1, -2, 3.5}, {2, -3, 0.5}},
};
#define N_BINARY (int)(sizeof binary_cases / sizeof binary_cases[0])

START_TEST(test_binary)
{
  const binary_case *c = &binary_cases[_i];
  call k;
  double got[3], want[3];
  /* vector, vector */
  call_run(&k, c->name, 2, (targ[]){par(S1(3), c->a), par(S1(3), c->b)});
  call_eval(&k, got);
  for (int i = 0; i < 3; i++) want[i] = c->ref(c->a[i], c->b[i]);
  assert_close(got, want, 3, VAL_TOL, c->name);
  CHECK_GRAD(&k);
  call_free(&k);
  /* scalar (rank 0, read with increment 0), vector: no broadcast op is needed */
  for (int j = 0; j < 3; j++) {
    call_run(&k, c->name, 2, (targ[]){par(S0(), &c->a[j]), par(S1(3), c->b)});
    ck_assert_int_eq(k.p.nins, 1);
    call_eval(&k, got);
    for (int i = 0; i < 3; i++) want[i] = c->ref(c->a[j], c->b[i]);
    assert_close(got, want, 3, VAL_TOL, c->name);
    CHECK_GRAD(&k);
    call_free(&k);
  }
  /* vector, scalar */
  for (int j = 0; j < 3; j++) {
    call_run(&k, c->name, 2, (targ[]){par(S1(3), c->a), par(S0(), &c->b[j])});
    call_eval(&k, got);
    for (int i = 0; i < 3; i++) want[i] = c->ref(c->a[i], c->b[j]);
    assert_close(got, want, 3, VAL_TOL, c->name);
    CHECK_GRAD(&k);
    call_free(&k);
  }
  /* only one side a parameter */
  call_run(&k, c->name, 2, (targ[]){dat(S1(3), c->a), par(S1(3), c->b)});
  CHECK_GRAD(&k);
  call_free(&k);
  call_run(&k, c->name, 2, (targ[]){par(S1(3), c->a), dat(S0(), &c->b[1])});
  CHECK_GRAD(&k);
  call_free(&k);
  /* scalar, scalar */
  call_run(&k, c->name, 2, (targ[]){par(S0(), &c->a[2]), par(S0(), &c->b[2])});
  call_eval(&k, got);
  want[0] = c->ref(c->a[2], c->b[2]);
  assert_close(got, want, 1, VAL_TOL, c->name);
  CHECK_GRAD(&k);
  call_free(&k);
}
END_TEST

START_TEST(test_broadcast_emit)
{
  /* [3] with [2, 3] inserts a broadcast op; the whole program's gradient is checked */
  const double a[3] = {1, 2, 3}, m[6] = {10, 20, 30, 40, 50, 60};
  double got[6];
  call k;
  call_run(&k, "__mul", 2, (targ[]){par(S1(3), a), par(S2(2, 3), m)});
  ck_assert_int_eq(k.p.nins, 2);
  ck_assert_ptr_eq(k.p.ins[0].op, &bayes_op_broadcast);
  bayes_shape s = k.p.slots[k.out].shape;
  ck_assert(bayes_shape_eq(&s, &(bayes_shape){2, {2, 3}}));
  call_eval(&k, got);
  const double w[6] = {10, 40, 90, 40, 100, 180};
  assert_close(got, w, 6, 0, "a * m");
  call_free(&k);
  call_run(&k, "__mul", 2, (targ[]){par(S1(3), a), par(S2(2, 3), m)});
  ck_assert_double_lt(call_prog_grad(&k), 1e-7);
  call_free(&k);
  /* [2, 1] with [3]: both sides are broadcast to [2, 3] */
  const double col[2] = {1, -1};
  call_run(&k, "__sub", 2, (targ[]){par(S2(2, 1), col), par(S1(3), a)});
  ck_assert_int_eq(k.p.nins, 3);
  call_eval(&k, got);
  const double w2[6] = {0, -1, -2, -2, -3, -4};
  assert_close(got, w2, 6, 0, "col - a");
  call_free(&k);
  call_run(&k, "__sub", 2, (targ[]){par(S2(2, 1), col), par(S1(3), a)});
  ck_assert_double_lt(call_prog_grad(&k), 1e-7);
  call_free(&k);
  /* a [1] vector is a scalar for the ops (one element, increment 0) */
  const double one = 5;
  call_run(&k, "__add", 2, (targ[]){par(S1(1), &one), par(S2(2, 3), m)});
  ck_assert_int_eq(k.p.nins, 1);
  CHECK_GRAD(&k);
  call_free(&k);
}
END_TEST

START_TEST(test_broadcast_error)
{
  const double a[3] = {1, 2, 3}, b[4] = {1, 2, 3, 4};
  call k;
  call_run(&k, "__add", 2, (targ[]){par(S1(3), a), par(S1(4), b)});
  ck_assert_int_eq(k.rc, -1);
  ck_assert_int_eq(k.nerr, 1);
  ck_assert_str_eq(k.err[0], "shapes [3] and [4] do not broadcast");
  ck_assert_int_eq(k.err_line, 10);
  ck_assert_int_eq(k.err_col, 9); /* at the second argument */
  call_free(&k);
  call_run(&k, "fmax", 2, (targ[]){par(S2(2, 3), b), par(S1(2), b)});
  ck_assert_int_eq(k.rc, -1);
  ck_assert_str_eq(k.err[0], "shapes [2, 3] and [2] do not broadcast");
  call_free(&k);
  call_run(&k, "log_sum_exp", 2, (targ[]){par(S1(3), a), par(S1(4), b)});
  ck_assert_int_eq(k.rc, -1);
  call_free(&k);
  call_run(&k, "__cond", 3, (targ[]){dat(S1(4), b), par(S1(3), a), par(S0(), a)});
  ck_assert_int_eq(k.rc, -1);
  ck_assert_str_eq(k.err[0], "shapes [4] and [3] do not broadcast");
  call_free(&k);
}
END_TEST

START_TEST(test_arith_int_typing)
{
  const double i2[2] = {7, 2}, r2[2] = {1.5, 2};
  double got[2];
  const char *keep[] = {"__add", "__sub", "__mul"};
  call k;
  for (int j = 0; j < 3; j++) {
    call_run(&k, keep[j], 2, (targ[]){idat(S1(2), i2), idat(S0(), i2)});
    ck_assert_msg(out_int(&k), "%s of ints", keep[j]);
    call_free(&k);
    call_run(&k, keep[j], 2, (targ[]){idat(S1(2), i2), dat(S0(), r2)});
    ck_assert(!out_int(&k));
    call_free(&k);
  }
  /* / and ^ are real even on ints: 7 / 2 = 3.5 */
  call_run(&k, "__div", 2, (targ[]){idat(S0(), &i2[0]), idat(S0(), &i2[1])});
  ck_assert(!out_int(&k));
  call_eval(&k, got);
  ck_assert_double_eq(got[0], 3.5);
  call_free(&k);
  call_run(&k, "__pow", 2, (targ[]){idat(S0(), &i2[0]), idat(S0(), &i2[1])});
  ck_assert(!out_int(&k));
  call_eval(&k, got);
  ck_assert_double_eq(got[0], 49);
  call_free(&k);
  call_run(&k, "__neg", 1, (targ[]){idat(S1(2), i2)});
  ck_assert(out_int(&k));
  call_eval(&k, got);
  ck_assert(got[0] == -7 && got[1] == -2);
  call_free(&k);
}
END_TEST

START_TEST(test_neg_pos)
{
  const double x[3] = {1, -2, 0.5};
  double got[3];
  call k;
  call_run(&k, "__neg", 1, (targ[]){par(S1(3), x)});
  call_eval(&k, got);
  ck_assert(got[0] == -1 && got[1] == 2 && got[2] == -0.5);
  CHECK_GRAD(&k);
  call_free(&k);
  /* unary plus: the operand itself, no instruction */
  call_run(&k, "__pos", 1, (targ[]){par(S1(3), x)});
  ck_assert_int_eq(k.rc, 0);
  ck_assert_int_eq(k.p.nins, 0);
  ck_assert_int_eq(k.out, k.a[0].slot);
  call_free(&k);
}
END_TEST

START_TEST(test_pow_const_exponent)
{
  const double x[3] = {0.5, 1.7, 3};
  const double cs[] = {2, 0.5, -1, 3.7, 0, 1, -2.5};
  double got[3];
  call k;
  for (size_t j = 0; j < sizeof cs / sizeof cs[0]; j++) {
    call_run(&k, "__pow", 2, (targ[]){par(S1(3), x), dat(S0(), &cs[j])});
    /* one single-input op: the exponent is not an input */
    ck_assert_int_eq(k.p.nins, 1);
    ck_assert_int_eq(k.p.ins[0].nin, 1);
    call_eval(&k, got);
    double want[3];
    for (int i = 0; i < 3; i++) want[i] = r_pow(x[i], cs[j]);
    assert_close(got, want, 3, 1e-13, "x ^ c");
    CHECK_GRAD(&k);
    call_free(&k);
  }
  /* a data exponent array still goes through the general op */
  call_run(&k, "pow", 2, (targ[]){par(S1(3), x), dat(S1(3), cs)});
  ck_assert_int_eq(k.p.ins[0].nin, 2);
  CHECK_GRAD(&k);
  call_free(&k);
  /* negative base, integer exponent */
  const double neg = -2, three = 3;
  call_run(&k, "pow", 2, (targ[]){par(S0(), &neg), dat(S0(), &three)});
  call_eval(&k, got);
  ck_assert_double_eq(got[0], -8);
  CHECK_GRAD(&k);
  call_free(&k);
}
END_TEST

START_TEST(test_pow_zero_base)
{
  /* 0 ^ b: d/db taken as 0 (not 0 * log 0 = NaN) */
  const double zero = 0, b = 2.5;
  call k;
  call_run(&k, "__pow", 2, (targ[]){par(S0(), &zero), par(S0(), &b)});
  ck_assert_int_eq(k.rc, 0);
  bayes_prog_layout(&k.p);
  bayes_exec *ex = bayes_exec_alloc(&k.p);
  set_params(&k, ex);
  int buf[4];
  bayes_section s = all_ins(&k.p, buf);
  ex->grad = true;
  bayes_exec_forward(ex, &s);
  bayes_exec_backward(ex, &s, k.out);
  ck_assert_double_eq(bayes_exec_val(ex, k.out)[0], 0);
  ck_assert_double_eq(bayes_exec_adj(ex, k.a[0].slot)[0], 0);
  ck_assert_double_eq(bayes_exec_adj(ex, k.a[1].slot)[0], 0);
  bayes_exec_free(ex);
  call_free(&k);
}
END_TEST

/* Reverse sweep of a one-instruction program from output 0, for the tie tests. */
static void adjoints(call *k, double *ga, double *gb)
{
  bayes_prog_layout(&k->p);
  bayes_exec *ex = bayes_exec_alloc(&k->p);
  set_params(k, ex);
  int buf[4];
  bayes_section s = all_ins(&k->p, buf);
  ex->grad = true;
  bayes_exec_forward(ex, &s);
  bayes_exec_backward(ex, &s, k->out);
  *ga = bayes_exec_adj(ex, k->a[0].slot)[0];
  *gb = bayes_exec_adj(ex, k->a[1].slot)[0];
  bayes_exec_free(ex);
}

START_TEST(test_fmin_fmax_ties)
{
  /* a tie sends the gradient to the first argument only */
  const char *names[] = {"fmin", "fmax", "min", "max"};
  const double a = 2, b = 2, nan = NAN;
  call k;
  for (int j = 0; j < 4; j++) {
    double ga, gb;
    call_run(&k, names[j], 2, (targ[]){par(S0(), &a), par(S0(), &b)});
    adjoints(&k, &ga, &gb);
    ck_assert_msg(ga == 1 && gb == 0, "%s tie: %g %g", names[j], ga, gb);
    call_free(&k);
  }
  /* fmin/fmax: a NaN argument loses, as libm's */
  double got[1];
  call_run(&k, "fmin", 2, (targ[]){dat(S0(), &nan), dat(S0(), &a)});
  call_eval(&k, got);
  ck_assert_double_eq(got[0], 2);
  call_free(&k);
  call_run(&k, "fmax", 2, (targ[]){dat(S0(), &a), dat(S0(), &nan)});
  call_eval(&k, got);
  ck_assert_double_eq(got[0], 2);
  call_free(&k);
}
END_TEST

START_TEST(test_compare_logical)
{
  const double a[4] = {1, 2, 3, 0}, b[4] = {2, 2, 1, 0};
  struct {
    const char *name;
    double want[4];
  } cs[] = {
      {"__lt", {1, 0, 0, 0}}, {"__le", {1, 1, 0, 1}}, {"__gt", {0, 0, 1, 0}},
      {"__ge", {0, 1, 1, 1}}, {"__eq", {0, 1, 0, 1}}, {"__ne", {1, 0, 1, 0}},
      {"__and", {1, 1, 1, 0}}, {"__or", {1, 1, 1, 0}},
  };
  double got[4];
  call k;
  for (size_t j = 0; j < sizeof cs / sizeof cs[0]; j++) {
    call_run(&k, cs[j].name, 2, (targ[]){par(S1(4), a), dat(S1(4), b)});
    ck_assert(out_int(&k));
    /* no adjoint: a comparison is piecewise constant */
    ck_assert(!(k.p.slots[k.out].flags & BAYES_SLOT_ADJ));
    ck_assert_ptr_null(k.p.ins[0].op->bwd);
    call_eval(&k, got);
    assert_close(got, cs[j].want, 4, 0, cs[j].name);
    call_free(&k);
  }
  const double z[3] = {0, 1, 0};
  const double zs = 0;
  call_run(&k, "__and", 2, (targ[]){dat(S1(3), z), dat(S0(), &zs)});
  call_eval(&k, got);
  ck_assert(got[0] == 0 && got[1] == 0 && got[2] == 0);
  call_free(&k);
  call_run(&k, "__or", 2, (targ[]){dat(S1(3), z), dat(S0(), &zs)});
  call_eval(&k, got);
  ck_assert(got[0] == 0 && got[1] == 1 && got[2] == 0);
  call_free(&k);
  const double nv[3] = {0, 2.5, -1};
  call_run(&k, "__not", 1, (targ[]){par(S1(3), nv)});
  ck_assert(out_int(&k));
  call_eval(&k, got);
  ck_assert(got[0] == 1 && got[1] == 0 && got[2] == 0);
  call_free(&k);
  /* scalar with vector */
  call_run(&k, "__lt", 2, (targ[]){dat(S0(), &a[1]), dat(S1(4), a)});
  call_eval(&k, got);
  ck_assert(got[0] == 0 && got[1] == 0 && got[2] == 1 && got[3] == 0);
  call_free(&k);
}
END_TEST

START_TEST(test_cond)
{
  const double c[3] = {1, 0, 2}, a[3] = {1, 2, 3}, b[3] = {-1, -2, -3}, s = 9;
  double got[3];
  call k;
  call_run(&k, "__cond", 3, (targ[]){dat(S1(3), c), par(S1(3), a), par(S1(3), b)});
  call_eval(&k, got);
  ck_assert(got[0] == 1 && got[1] == -2 && got[2] == 3);
  CHECK_GRAD(&k);
  call_free(&k);
  /* broadcast scalar branch and scalar condition */
  call_run(&k, "__cond", 3, (targ[]){dat(S1(3), c), par(S0(), &s), par(S1(3), b)});
  call_eval(&k, got);
  ck_assert(got[0] == 9 && got[1] == -2 && got[2] == 9);
  CHECK_GRAD(&k);
  call_free(&k);
  call_run(&k, "__cond", 3, (targ[]){dat(S0(), &c[1]), par(S1(3), a), par(S0(), &s)});
  call_eval(&k, got);
  ck_assert(got[0] == 9 && got[1] == 9 && got[2] == 9);
  CHECK_GRAD(&k);
  call_free(&k);
  /* a condition that depends on a parameter: still no gradient through it */
  call_run(&k, "__cond", 3, (targ[]){par(S1(3), b), par(S1(3), a), par(S1(3), c)});
  CHECK_GRAD(&k);
  call_free(&k);
  /* int iff both branches are int */
  call_run(&k, "__cond", 3, (targ[]){dat(S1(3), c), idat(S1(3), a), idat(S0(), &s)});
  ck_assert(out_int(&k));
  call_free(&k);
  call_run(&k, "__cond", 3, (targ[]){dat(S1(3), c), idat(S1(3), a), dat(S0(), &s)});
  ck_assert(!out_int(&k));
  call_free(&k);
  /* through a broadcast */
  const double m[6] = {1, 2, 3, 4, 5, 6}, c2[2] = {1, 0};
  call_run(&k, "__cond", 3, (targ[]){dat(S2(2, 1), c2), par(S1(3), a), par(S2(2, 3), m)});
  double g6[6];
  call_eval(&k, g6);
  const double w6[6] = {1, 2, 3, 4, 5, 6};
  assert_close(g6, w6, 6, 0, "cond broadcast");
  call_free(&k);
  call_run(&k, "__cond", 3, (targ[]){dat(S2(2, 1), c2), par(S1(3), a), par(S2(2, 3), m)});
  ck_assert_double_lt(call_prog_grad(&k), 1e-7);
  call_free(&k);
}
END_TEST

START_TEST(test_piecewise_constant_keep_adjoint)
{
  /* floor of a parameter stays on the gradient path (zero gradient), so a later stage
   * can still tell it depends on parameters */
  const double x[2] = {1.5, -0.5};
  call k;
  call_run(&k, "floor", 1, (targ[]){par(S1(2), x)});
  ck_assert(k.p.slots[k.out].flags & BAYES_SLOT_ADJ);
  CHECK_GRAD(&k);
  call_free(&k);
}
END_TEST

/* ==== reductions ==== */

static const double v124[3] = {1, 2, 4};

static void check_reduce(const char *name, const double *x, bayes_shape s, double want,
                         double tol)
{
  call k;
  double got;
  call_run(&k, name, 1, (targ[]){par(s, x)});
  ck_assert_int_eq(k.rc, 0);
  ck_assert_int_eq(k.p.slots[k.out].shape.rank, 0);
  call_eval(&k, &got);
  ck_assert_msg(fabs(got - want) <= tol * fmax(1, fabs(want)), "%s: got %.17g want %.17g",
                name, got, want);
  CHECK_GRAD(&k);
  call_free(&k);
}

START_TEST(test_reduce_values)
{
  check_reduce("sum", v124, S1(3), 7, 0);
  check_reduce("prod", v124, S1(3), 8, 0);
  check_reduce("mean", v124, S1(3), 7.0 / 3, 1e-15);
  check_reduce("variance", v124, S1(3), 7.0 / 3, 1e-15);
  check_reduce("sd", v124, S1(3), sqrt(7.0 / 3), 1e-15);
  check_reduce("log_sum_exp", v124, S1(3), log(M_E + M_E * M_E + exp(4)), 1e-15);
  check_reduce("max", v124, S1(3), 4, 0);
  check_reduce("min", v124, S1(3), 1, 0);
  check_reduce("dot_self", v124, S1(3), 21, 0);
  /* over every element of a matrix, row-major */
  const double m[6] = {1, 2, 3, 4, 5, 6};
  check_reduce("sum", m, S2(2, 3), 21, 0);
  check_reduce("prod", m, S2(2, 3), 720, 0);
  check_reduce("mean", m, S2(2, 3), 3.5, 1e-15);
  check_reduce("variance", m, S2(2, 3), 3.5, 1e-15);
  check_reduce("max", m, S2(2, 3), 6, 0);
  /* a rank-0 argument */
  const double x = 2.5;
  check_reduce("sum", &x, S0(), 2.5, 0);
  check_reduce("log_sum_exp", &x, S0(), 2.5, 0);
  /* variance and sd of one element are 0, as Stan */
  check_reduce("variance", &x, S1(1), 0, 0);
  check_reduce("sd", &x, S1(1), 0, 0);
  /* with zeros, prod's gradient is prod of the others */
  const double z[4] = {0, 2, 3, -1.5};
  check_reduce("prod", z, S1(4), 0, 0);
  const double z2[3] = {0, 2, 0};
  check_reduce("prod", z2, S1(3), 0, 0);
  /* log_sum_exp does not overflow */
  const double big[3] = {1000, 1000, -INFINITY};
  call k;
  double got;
  call_run(&k, "log_sum_exp", 1, (targ[]){par(S1(3), big)});
  call_eval(&k, &got);
  ck_assert(fabs(got - (1000 + M_LN2)) < 1e-12);
  call_free(&k);
  const double minf[2] = {-INFINITY, -INFINITY};
  call_run(&k, "log_sum_exp", 1, (targ[]){par(S1(2), minf)});
  call_eval(&k, &got);
  ck_assert(isinf(got) && got < 0);
  call_free(&k);
  /* empty: sum 0, prod 1, log_sum_exp -inf */
  call_run(&k, "log_sum_exp", 1, (targ[]){dat(S1(0), NULL)});
  call_eval(&k, &got);
  ck_assert(isinf(got) && got < 0);
  call_free(&k);
  call_run(&k, "prod", 1, (targ[]){dat(S1(0), NULL)});
  call_eval(&k, &got);
  ck_assert_double_eq(got, 1);
  call_free(&k);
}
END_TEST

START_TEST(test_reduce_grad_points)
{
  /* a second set of points for the gradients, including negatives and a near-tie */
  const double x[5] = {-1.3, 0.7, 2.2, -0.4, 2.21};
  const char *names[] = {"sum", "prod", "mean", "variance", "sd", "log_sum_exp", "max",
                         "min", "dot_self"};
  for (int j = 0; j < 9; j++) {
    call k;
    call_run(&k, names[j], 1, (targ[]){par(S1(5), x)});
    CHECK_GRAD(&k);
    call_free(&k);
  }
}
END_TEST

START_TEST(test_reduce_int_typing)
{
  const double iv[3] = {1, 2, 4};
  const char *keep[] = {"sum", "prod", "max", "min", "cumulative_sum", "dot_self"};
  const char *real[] = {"mean", "variance", "sd", "log_sum_exp", "softmax", "log_softmax"};
  call k;
  for (int j = 0; j < 6; j++) {
    call_run(&k, keep[j], 1, (targ[]){idat(S1(3), iv)});
    ck_assert_msg(out_int(&k), "%s of int is int", keep[j]);
    call_free(&k);
    call_run(&k, real[j], 1, (targ[]){idat(S1(3), iv)});
    ck_assert_msg(!out_int(&k), "%s of int is real", real[j]);
    call_free(&k);
  }
  double got;
  call_run(&k, "sum", 1, (targ[]){idat(S1(3), iv)});
  call_eval(&k, &got);
  ck_assert_double_eq(got, 7);
  call_free(&k);
}
END_TEST

START_TEST(test_reduce_errors)
{
  const char *need1[] = {"mean", "variance", "sd", "max", "min"};
  call k;
  for (int j = 0; j < 5; j++) {
    call_run(&k, need1[j], 1, (targ[]){par(S1(0), NULL)});
    ck_assert_int_eq(k.rc, -1);
    ck_assert_msg(strstr(k.err[0], "has no elements") != NULL, "%s", k.err[0]);
    call_free(&k);
  }
  const double a[3] = {1, 2, 3}, b[4] = {1, 2, 3, 4};
  call_run(&k, "dot", 2, (targ[]){par(S1(3), a), par(S1(4), b)});
  ck_assert_int_eq(k.rc, -1);
  ck_assert_str_eq(k.err[0], "dot: arguments of shapes [3] and [4] differ in length");
  call_free(&k);
  call_run(&k, "softmax", 1, (targ[]){par(S2(2, 2), b)});
  ck_assert_int_eq(k.rc, -1);
  ck_assert_str_eq(k.err[0], "softmax: expected a vector, got [2, 2]");
  call_free(&k);
  call_run(&k, "col_sums", 1, (targ[]){par(S1(3), a)});
  ck_assert_int_eq(k.rc, -1);
  ck_assert_str_eq(k.err[0], "col_sums: expected a matrix, got [3]");
  call_free(&k);
  call_run(&k, "cumulative_sum", 1, (targ[]){par(S0(), a)});
  ck_assert_int_eq(k.rc, -1);
  call_free(&k);
  call_run(&k, "squared_distance", 2, (targ[]){par(S0(), a), par(S1(3), a)});
  ck_assert_int_eq(k.rc, -1);
  call_free(&k);
}
END_TEST

START_TEST(test_vector_fns)
{
  const double b[3] = {3, -1, 0.5};
  double got[3];
  call k;
  call_run(&k, "cumulative_sum", 1, (targ[]){par(S1(3), v124)});
  call_eval(&k, got);
  ck_assert(got[0] == 1 && got[1] == 3 && got[2] == 7);
  CHECK_GRAD(&k);
  call_free(&k);
  call_run(&k, "dot", 2, (targ[]){par(S1(3), v124), par(S1(3), b)});
  call_eval(&k, got);
  ck_assert_double_eq(got[0], 3);
  CHECK_GRAD(&k);
  call_free(&k);
  call_run(&k, "dot", 2, (targ[]){dat(S1(3), v124), par(S1(3), b)});
  CHECK_GRAD(&k);
  call_free(&k);
  call_run(&k, "squared_distance", 2, (targ[]){par(S1(3), v124), par(S1(3), b)});
  call_eval(&k, got);
  ck_assert_double_eq(got[0], 25.25);
  CHECK_GRAD(&k);
  call_free(&k);
  call_run(&k, "distance", 2, (targ[]){par(S1(3), v124), par(S1(3), b)});
  call_eval(&k, got);
  ck_assert(fabs(got[0] - sqrt(25.25)) < 1e-15);
  CHECK_GRAD(&k);
  call_free(&k);
  call_run(&k, "distance", 2, (targ[]){par(S0(), &b[0]), dat(S0(), &b[1])});
  call_eval(&k, got);
  ck_assert_double_eq(got[0], 4);
  CHECK_GRAD(&k);
  call_free(&k);
  /* softmax and log_softmax, against exp(x) / sum(exp(x)) */
  double se = exp(1) + exp(2) + exp(4), want[3];
  for (int i = 0; i < 3; i++) want[i] = exp(v124[i]) / se;
  call_run(&k, "softmax", 1, (targ[]){par(S1(3), v124)});
  call_eval(&k, got);
  assert_close(got, want, 3, 1e-15, "softmax");
  CHECK_GRAD(&k);
  call_free(&k);
  for (int i = 0; i < 3; i++) want[i] = log(want[i]);
  call_run(&k, "log_softmax", 1, (targ[]){par(S1(3), v124)});
  call_eval(&k, got);
  assert_close(got, want, 3, 1e-15, "log_softmax");
  CHECK_GRAD(&k);
  call_free(&k);
  const double big[2] = {1000, 1001};
  call_run(&k, "softmax", 1, (targ[]){par(S1(2), big)});
  call_eval(&k, got);
  ck_assert(fabs(got[0] - 1 / (1 + M_E)) < 1e-12);
  CHECK_GRAD(&k);
  call_free(&k);
}
END_TEST

START_TEST(test_margins)
{
  const double m[6] = {1, 2, 3, 4, 5, 6};
  struct {
    const char *name;
    size_t n;
    double want[3];
  } cs[] = {{"col_sums", 3, {5, 7, 9}},
            {"col_means", 3, {2.5, 3.5, 4.5}},
            {"row_sums", 2, {6, 15}},
            {"row_means", 2, {2, 5}}};
  double got[3];
  for (int j = 0; j < 4; j++) {
    call k;
    call_run(&k, cs[j].name, 1, (targ[]){par(S2(2, 3), m)});
    ck_assert_int_eq(out_n(&k), cs[j].n);
    ck_assert_int_eq(k.p.slots[k.out].shape.rank, 1);
    call_eval(&k, got);
    assert_close(got, cs[j].want, cs[j].n, 1e-15, cs[j].name);
    CHECK_GRAD(&k);
    call_free(&k);
  }
  call k;
  call_run(&k, "col_sums", 1, (targ[]){idat(S2(2, 3), m)});
  ck_assert(out_int(&k));
  call_free(&k);
  call_run(&k, "row_means", 1, (targ[]){idat(S2(2, 3), m)});
  ck_assert(!out_int(&k));
  call_free(&k);
}
END_TEST

START_TEST(test_lse_two_args_broadcast)
{
  const double a[3] = {1, 2, 3}, s = 0.5;
  double got[3];
  call k;
  call_run(&k, "log_sum_exp", 2, (targ[]){par(S1(3), a), par(S0(), &s)});
  ck_assert_int_eq(k.p.slots[k.out].shape.rank, 1);
  call_eval(&k, got);
  for (int i = 0; i < 3; i++) ck_assert(fabs(got[i] - r_lse(a[i], s)) < 1e-14);
  CHECK_GRAD(&k);
  call_free(&k);
  const double ninf = -INFINITY;
  call_run(&k, "log_sum_exp", 2, (targ[]){par(S0(), &ninf), dat(S0(), &s)});
  call_eval(&k, got);
  ck_assert_double_eq(got[0], 0.5);
  call_free(&k);
  /* max(a, b) of ints is int */
  const double i1 = 3, i2 = 5;
  call_run(&k, "max", 2, (targ[]){idat(S0(), &i1), idat(S0(), &i2)});
  ck_assert(out_int(&k));
  call_eval(&k, got);
  ck_assert_double_eq(got[0], 5);
  call_free(&k);
}
END_TEST

/* ==== structural ops, driven directly ==== */

static double op_check(const bayes_op *op, int nin, const bayes_shape *xs,
                       const double *const *xv, const bayes_shape *ys, const void *aux,
                       bool jacobian, double *out)
{
  bt_opcheck oc = {.op = op, .nin = nin, .nout = 1, .xs = xs, .xv = xv, .ys = ys, .aux = aux,
                   .jacobian = jacobian};
  char rep[256];
  double e = bt_op_grad_check(&oc, rep, sizeof rep);
  if (out) ck_assert_int_eq(bt_op_eval(&oc, (double *const[]){out}, NULL, 0), 0);
  ck_assert_msg(e < GRAD_TOL, "%s: %g (%s)", op->name, e, rep);
  return e;
}

START_TEST(test_op_broadcast)
{
  double got[24];
  const double v[3] = {1, 2, 3};
  /* [3] -> [2, 3] */
  op_check(&bayes_op_broadcast, 1, (bayes_shape[]){S1(3)}, (const double *[]){v},
           (bayes_shape[]){S2(2, 3)}, NULL, false, got);
  const double w1[6] = {1, 2, 3, 1, 2, 3};
  assert_close(got, w1, 6, 0, "[3]->[2,3]");
  /* [2, 1] -> [2, 3] */
  op_check(&bayes_op_broadcast, 1, (bayes_shape[]){S2(2, 1)}, (const double *[]){v},
           (bayes_shape[]){S2(2, 3)}, NULL, false, got);
  const double w2[6] = {1, 1, 1, 2, 2, 2};
  assert_close(got, w2, 6, 0, "[2,1]->[2,3]");
  /* scalar -> [2, 2] */
  op_check(&bayes_op_broadcast, 1, (bayes_shape[]){S0()}, (const double *[]){v},
           (bayes_shape[]){S2(2, 2)}, NULL, false, got);
  ck_assert(got[0] == 1 && got[3] == 1);
  /* [1, 3] -> [4, 2, 3] (rank 3, a leading new dimension and a 1 dimension) */
  bayes_shape s3 = {3, {4, 2, 3}};
  op_check(&bayes_op_broadcast, 1, (bayes_shape[]){S2(1, 3)}, (const double *[]){v},
           &s3, NULL, false, got);
  for (int i = 0; i < 24; i++) ck_assert_double_eq(got[i], v[i % 3]);
  /* [2, 1, 3] -> [2, 4, 3] (middle dimension) */
  const double v6[6] = {1, 2, 3, 4, 5, 6};
  bayes_shape in3 = {3, {2, 1, 3}}, o3 = {3, {2, 4, 3}};
  op_check(&bayes_op_broadcast, 1, &in3, (const double *[]){v6}, &o3, NULL, false, got);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 4; j++)
      for (int l = 0; l < 3; l++) ck_assert_double_eq(got[i * 12 + j * 3 + l], v6[i * 3 + l]);
}
END_TEST

START_TEST(test_op_gather_stack)
{
  const double x[4] = {10, 20, 30, 40};
  static const size_t map[6] = {3, 0, 0, 2, 3, 3};
  double got[8];
  op_check(&bayes_op_gather, 1, (bayes_shape[]){S1(4)}, (const double *[]){x},
           (bayes_shape[]){S1(6)}, map, false, got);
  const double w[6] = {40, 10, 10, 30, 40, 40};
  assert_close(got, w, 6, 0, "gather");
  const double a = 1, m[6] = {2, 3, 4, 5, 6, 7};
  op_check(&bayes_op_stack, 3, (bayes_shape[]){S0(), S1(4), S2(1, 3)},
           (const double *[]){&a, x, m}, (bayes_shape[]){S1(8)}, NULL, false, got);
  const double w2[8] = {1, 10, 20, 30, 40, 2, 3, 4};
  assert_close(got, w2, 8, 0, "stack");
}
END_TEST

START_TEST(test_op_target)
{
  const double a = 1.5, b = -0.25, c = 2;
  static const unsigned char jac[3] = {0, 1, 0};
  double got;
  const bayes_shape xs[3] = {S0(), S0(), S0()};
  const double *xv[3] = {&a, &b, &c};
  op_check(&bayes_op_target, 3, xs, xv, (bayes_shape[]){S0()}, jac, true, &got);
  ck_assert_double_eq(got, 3.25);
  /* without Jacobian terms: the flagged input is skipped in value and gradient (the
   * finite-difference check would see a nonzero bwd contribution otherwise) */
  op_check(&bayes_op_target, 3, xs, xv, (bayes_shape[]){S0()}, jac, false, &got);
  ck_assert_double_eq(got, 3.5);
  op_check(&bayes_op_target, 3, xs, xv, (bayes_shape[]){S0()}, NULL, false, &got);
  ck_assert_double_eq(got, 3.25);
  /* explicitly: the skipped input gets no adjoint */
  bayes_prog p;
  bayes_prog_init(&p);
  int in[2] = {bayes_prog_slot(&p, &xs[0], BAYES_SLOT_ADJ),
               bayes_prog_slot(&p, &xs[0], BAYES_SLOT_ADJ)};
  int i = bayes_prog_add(&p, &bayes_op_target, 2, in, 1, xs, false);
  p.ins[i].aux = jac;
  bayes_prog_layout(&p);
  bayes_exec *ex = bayes_exec_alloc(&p);
  ex->jacobian = false;
  bayes_section s = {&i, 1};
  bayes_exec_forward(ex, &s);
  bayes_exec_backward(ex, &s, p.ins[i].out[0]);
  ck_assert_double_eq(bayes_exec_adj(ex, in[0])[0], 1);
  ck_assert_double_eq(bayes_exec_adj(ex, in[1])[0], 0);
  ex->jacobian = true;
  bayes_exec_backward(ex, &s, p.ins[i].out[0]);
  ck_assert_double_eq(bayes_exec_adj(ex, in[1])[0], 1);
  bayes_exec_free(ex);
  bayes_prog_destroy(&p);
}
END_TEST

/* ==== shape functions ==== */

START_TEST(test_rep)
{
  const double x = 2.5, n3 = 3, n2 = 2, v[2] = {1, 2}, m[4] = {1, 2, 3, 4};
  double got[8];
  call k;
  call_run(&k, "rep", 2, (targ[]){par(S0(), &x), idat(S0(), &n3)});
  ck_assert(bayes_shape_eq(&k.p.slots[k.out].shape, &(bayes_shape){1, {3}}));
  call_eval(&k, got);
  ck_assert(got[0] == 2.5 && got[1] == 2.5 && got[2] == 2.5);
  CHECK_GRAD(&k);
  call_free(&k);
  /* an array is repeated whole, as R's rep(x, times = n) */
  call_run(&k, "rep", 2, (targ[]){idat(S1(2), v), idat(S0(), &n2)});
  ck_assert(out_int(&k));
  ck_assert_int_eq(out_n(&k), 4);
  call_eval(&k, got);
  ck_assert(got[0] == 1 && got[1] == 2 && got[2] == 1 && got[3] == 2);
  call_free(&k);
  call_run(&k, "rep", 2, (targ[]){par(S2(2, 2), m), idat(S0(), &n2)});
  ck_assert_int_eq(out_n(&k), 8);
  call_eval(&k, got);
  for (int i = 0; i < 8; i++) ck_assert_double_eq(got[i], m[i % 4]);
  CHECK_GRAD(&k);
  call_free(&k);
  /* the count must be a compile-time integer */
  call_run(&k, "rep", 2, (targ[]){par(S0(), &x), par(S0(), &n3)});
  ck_assert_int_eq(k.rc, -1);
  ck_assert_str_eq(k.err[0],
                   "rep: the count must be known before sampling (data or a constant)");
  ck_assert_int_eq(k.err_col, 9);
  call_free(&k);
  call_run(&k, "rep", 2, (targ[]){par(S0(), &x), dat(S0(), &x)});
  ck_assert_int_eq(k.rc, -1);
  ck_assert_str_eq(k.err[0], "rep: the count must be an integer");
  call_free(&k);
  const double neg = -1;
  call_run(&k, "rep", 2, (targ[]){par(S0(), &x), idat(S0(), &neg)});
  ck_assert_int_eq(k.rc, -1);
  call_free(&k);
  call_run(&k, "rep", 2, (targ[]){par(S0(), &x), idat(S1(2), v)});
  ck_assert_int_eq(k.rc, -1);
  ck_assert_str_eq(k.err[0], "rep: the count must be a scalar");
  call_free(&k);
  /* rep(x, 0) is empty */
  const double zero = 0;
  call_run(&k, "rep", 2, (targ[]){par(S0(), &x), idat(S0(), &zero)});
  ck_assert_int_eq(k.rc, 0);
  ck_assert_int_eq(out_n(&k), 0);
  call_free(&k);
}
END_TEST

START_TEST(test_seq)
{
  const double two = 2, five = 5, one = 1, zero = 0, len5 = 5, len1 = 1, half = 0.5;
  double got[5];
  call k;
  call_run(&k, "seq", 2, (targ[]){idat(S0(), &two), idat(S0(), &five)});
  ck_assert_int_eq(k.rc, 0);
  ck_assert_int_eq(k.p.nins, 0); /* a constant */
  ck_assert(out_int(&k));
  ck_assert_int_eq(out_n(&k), 4);
  call_eval(&k, got);
  ck_assert(got[0] == 2 && got[1] == 3 && got[2] == 4 && got[3] == 5);
  call_free(&k);
  /* from = to + 1 is the empty sequence; from > to + 1 an error */
  const double three = 3;
  call_run(&k, "seq", 2, (targ[]){idat(S0(), &three), idat(S0(), &two)});
  ck_assert_int_eq(k.rc, 0);
  ck_assert_int_eq(out_n(&k), 0);
  call_free(&k);
  call_run(&k, "seq", 2, (targ[]){idat(S0(), &five), idat(S0(), &two)});
  ck_assert_int_eq(k.rc, -1);
  ck_assert_str_eq(k.err[0], "seq: from (5) is greater than to + 1 (3)");
  call_free(&k);
  call_run(&k, "seq", 2, (targ[]){par(S0(), &two), idat(S0(), &five)});
  ck_assert_int_eq(k.rc, -1);
  ck_assert_str_eq(k.err[0],
                   "seq: the bounds must be known before sampling (data or a constant)");
  call_free(&k);
  call_run(&k, "seq", 2, (targ[]){dat(S0(), &half), idat(S0(), &five)});
  ck_assert_int_eq(k.rc, -1);
  call_free(&k);
  /* seq(from, to, length): evenly spaced reals, the last exactly `to` */
  call_run(&k, "seq", 3, (targ[]){dat(S0(), &zero), dat(S0(), &one), idat(S0(), &len5)});
  ck_assert(!out_int(&k));
  call_eval(&k, got);
  const double w[5] = {0, 0.25, 0.5, 0.75, 1};
  assert_close(got, w, 5, 0, "seq(0, 1, 5)");
  call_free(&k);
  call_run(&k, "seq", 3, (targ[]){dat(S0(), &two), dat(S0(), &five), idat(S0(), &len1)});
  call_eval(&k, got);
  ck_assert_double_eq(got[0], 2);
  call_free(&k);
  /* from/to parameters: an op with a gradient */
  call_run(&k, "seq", 3, (targ[]){par(S0(), &half), par(S0(), &five), idat(S0(), &len5)});
  ck_assert_int_eq(k.p.nins, 1);
  call_eval(&k, got);
  const double w2[5] = {0.5, 1.625, 2.75, 3.875, 5};
  assert_close(got, w2, 5, 1e-15, "seq(0.5, 5, 5)");
  CHECK_GRAD(&k);
  call_free(&k);
  call_run(&k, "seq", 3, (targ[]){par(S0(), &half), dat(S0(), &five), idat(S0(), &len1)});
  CHECK_GRAD(&k);
  call_free(&k);
  call_run(&k, "seq", 3, (targ[]){par(S0(), &half), par(S0(), &five), par(S0(), &len5)});
  ck_assert_int_eq(k.rc, -1);
  ck_assert_str_eq(k.err[0],
                   "seq: the length must be known before sampling (data or a constant)");
  call_free(&k);
  call_run(&k, "seq", 3, (targ[]){par(S0(), &half), par(S0(), &five), idat(S0(), &zero)});
  ck_assert_int_eq(k.rc, -1);
  call_free(&k);
}
END_TEST

START_TEST(test_dims)
{
  const double m[6] = {0};
  struct {
    const char *name;
    bayes_shape s;
    double want;
  } cs[] = {
      {"rows", S2(2, 3), 2}, {"cols", S2(2, 3), 3}, {"size", S2(2, 3), 6},
      {"rows", S1(5), 5},    {"cols", S1(5), 1},    {"size", S1(5), 5},
      {"size", S0(), 1},
  };
  for (size_t j = 0; j < sizeof cs / sizeof cs[0]; j++) {
    call k;
    double got;
    call_run(&k, cs[j].name, 1, (targ[]){par(cs[j].s, m)});
    ck_assert_int_eq(k.rc, 0);
    /* a property of the shape: a constant even for a parameter */
    ck_assert_int_eq(k.p.nins, 0);
    ck_assert(k.p.slots[k.out].flags & BAYES_SLOT_CONST);
    ck_assert(out_int(&k));
    call_eval(&k, &got);
    ck_assert_msg(got == cs[j].want, "%s: %g", cs[j].name, got);
    call_free(&k);
  }
  call k;
  call_run(&k, "rows", 1, (targ[]){par(S0(), m)});
  ck_assert_int_eq(k.rc, -1);
  ck_assert_str_eq(k.err[0], "rows: the argument is a scalar");
  call_free(&k);
}
END_TEST

START_TEST(test_to_vector_matrix)
{
  const double m[6] = {1, 2, 3, 4, 5, 6}, two = 2, three = 3, four = 4;
  double got[6];
  call k;
  call_run(&k, "to_vector", 1, (targ[]){par(S2(2, 3), m)});
  ck_assert(bayes_shape_eq(&k.p.slots[k.out].shape, &(bayes_shape){1, {6}}));
  call_eval(&k, got);
  assert_close(got, m, 6, 0, "to_vector"); /* row-major */
  CHECK_GRAD(&k);
  call_free(&k);
  call_run(&k, "to_matrix", 3, (targ[]){par(S1(6), m), idat(S0(), &three), idat(S0(), &two)});
  ck_assert(bayes_shape_eq(&k.p.slots[k.out].shape, &(bayes_shape){2, {3, 2}}));
  call_eval(&k, got);
  assert_close(got, m, 6, 0, "to_matrix");
  CHECK_GRAD(&k);
  call_free(&k);
  call_run(&k, "to_matrix", 3, (targ[]){par(S1(6), m), idat(S0(), &four), idat(S0(), &two)});
  ck_assert_int_eq(k.rc, -1);
  ck_assert_str_eq(k.err[0], "to_matrix: 6 elements do not fill a 4 x 2 matrix");
  call_free(&k);
  call_run(&k, "to_vector", 1, (targ[]){idat(S2(2, 3), m)});
  ck_assert(out_int(&k));
  call_free(&k);
}
END_TEST

/* ==== the registry ==== */

START_TEST(test_registry)
{
  const char *names[] = {
      "__add", "__sub", "__mul", "__div", "__pow", "__neg", "__pos", "__not", "__lt",
      "__le", "__gt", "__ge", "__eq", "__ne", "__and", "__or", "__cond", "pow", "fmin",
      "fmax", "atan2", "hypot", "fdim", "lbeta", "lchoose", "log_diff_exp", "sum", "prod",
      "mean", "sd", "variance", "log_sum_exp", "max", "min", "cumulative_sum", "dot",
      "dot_self", "squared_distance", "distance", "softmax", "log_softmax", "col_sums",
      "col_means", "row_sums", "row_means", "rep", "seq", "rows", "cols", "size",
      "to_vector", "to_matrix"};
  for (size_t j = 0; j < sizeof names / sizeof names[0]; j++)
    ck_assert_msg(bayes_fn_find(names[j]) != NULL, "%s missing", names[j]);
  for (int j = 0; j < N_UNARY; j++) {
    const bayes_fn *f = bayes_fn_find(unary_cases[j].name);
    ck_assert_msg(f && f->min_args == 1 && f->max_args == 1, "%s", unary_cases[j].name);
  }
  const bayes_fn *lse = bayes_fn_find("log_sum_exp");
  ck_assert(lse->min_args == 1 && lse->max_args == 2);
  ck_assert_int_eq(bayes_fn_find("__cond")->min_args, 3);
  /* no name is registered twice (across every list) */
  const bayes_fn *const *lists[] = {bayes_fns_elementwise, bayes_fns_reduce, bayes_fns_shape};
  for (int l = 0; l < 3; l++)
    for (const bayes_fn *const *f = lists[l]; *f; f++)
      for (int l2 = 0; l2 < 3; l2++)
        for (const bayes_fn *const *g = lists[l2]; *g; g++)
          ck_assert_msg(f == g || strcmp((*f)->name, (*g)->name) != 0, "%s twice",
                        (*f)->name);
  /* operators are not user-callable names */
  for (const char *const *n = bayes_fn_names(); *n; n++) ck_assert(strncmp(*n, "__", 2) != 0);
}
END_TEST

static Suite *ops_suite(void)
{
  Suite *s = suite_create("ops");
  TCase *tc = tcase_create("elementwise");
  tcase_add_loop_test(tc, test_unary, 0, N_UNARY);
  tcase_add_test(tc, test_step_conventions);
  tcase_add_test(tc, test_unary_extreme_args);
  tcase_add_test(tc, test_log_domain_nan);
  tcase_add_loop_test(tc, test_binary, 0, N_BINARY);
  tcase_add_test(tc, test_broadcast_emit);
  tcase_add_test(tc, test_broadcast_error);
  tcase_add_test(tc, test_arith_int_typing);
  tcase_add_test(tc, test_neg_pos);
  tcase_add_test(tc, test_pow_const_exponent);
  tcase_add_test(tc, test_pow_zero_base);
  tcase_add_test(tc, test_fmin_fmax_ties);
  tcase_add_test(tc, test_compare_logical);
  tcase_add_test(tc, test_cond);
  tcase_add_test(tc, test_piecewise_constant_keep_adjoint);
  suite_add_tcase(s, tc);
  tc = tcase_create("reduce");
  tcase_add_test(tc, test_reduce_values);
  tcase_add_test(tc, test_reduce_grad_points);
  tcase_add_test(tc, test_reduce_int_typing);
  tcase_add_test(tc, test_reduce_errors);
  tcase_add_test(tc, test_vector_fns);
  tcase_add_test(tc, test_margins);
  tcase_add_test(tc, test_lse_two_args_broadcast);
  suite_add_tcase(s, tc);
  tc = tcase_create("shape");
  tcase_add_test(tc, test_op_broadcast);
  tcase_add_test(tc, test_op_gather_stack);
  tcase_add_test(tc, test_op_target);
  tcase_add_test(tc, test_rep);
  tcase_add_test(tc, test_seq);
  tcase_add_test(tc, test_dims);
  tcase_add_test(tc, test_to_vector_matrix);
  tcase_add_test(tc, test_registry);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return bt_run_suite(ops_suite()); }
